<?php
/**
 * An order from CreateAccount to a running VM through WHMCS's entry points: CreateAccount
 * returns at once, cron.php's runner builds the VM on the Proxmox simulator (HTTPS, pinned
 * certificate, schema-checked) with live output, and the "VM is ready" email goes out.
 */

use PHPUnit\Framework\TestCase;

final class DeployTest extends TestCase
{
    private WhmcsHarness $whmcs;
    private PveSimulator $sim;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->sim = new PveSimulator();
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->setConfiguration('ModuleDebugMode', 'on');
        $this->whmcs->activateAddon();
        require_once $this->whmcs->root . '/modules/addons/puq_proxmox_kvm/lib/cron.php';
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
        if (isset($this->sim)) {
            $this->sim->stop();
        }
    }

    private function order(): int
    {
        $server = $this->whmcs->addServer(['name' => 'pve-sim'] + $this->sim->serverFields());
        $product = $this->whmcs->addProduct([
            'name' => 'VPS Start', 'configoption2' => '9000', 'configoption4' => '2', 'configoption5' => '2',
            'configoption8' => '16', 'configoption16' => '1', 'configoption19' => '', 'configoption20' => '',
            'configoption21' => '.example.net',
        ]);
        puq_proxmox_kvm()->ipPools()->create([
            'server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => 0, 'gateway' => '198.51.100.1',
            'mask' => 24, 'dns1' => '198.51.100.53', 'dns2' => '', 'address_start' => '198.51.100.10', 'address_stop' => '198.51.100.50',
        ]);
        $this->whmcs->addEmailTemplate('puqProxmoxKVM VM is ready');
        return $this->whmcs->addService(['server' => $server, 'packageid' => $product, 'password' => 'S3cret-pass']);
    }

    private function status(int $service): string
    {
        return (string) $this->whmcs->pdo()->query("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = $service")->fetchColumn();
    }

    public function testAnOrderBecomesARunningVm(): void
    {
        $service = $this->order();
        $this->assertSame('success', $this->whmcs->callServerModule('CreateAccount', $service));
        $this->assertSame('creation', $this->status($service));
        $this->assertSame([], $this->sim->requests(), 'CreateAccount makes no Proxmox call');
        $again = $this->whmcs->callServerModule('CreateAccount', $service);
        $this->assertStringContainsString('already has a VM', $again, 'never a second VM');

        $output = '';
        for ($run = 1; $run <= 6 && $this->status($service) !== 'ready'; $run++) {
            ob_start();
            $code = puq_proxmox_kvm_cron_cli(['task' => 'processVirtualMachines']);
            $output .= ob_get_clean();
            $this->assertSame(0, $code, $output);
            usleep(150000);
        }
        $this->assertSame('ready', $this->status($service), $output);
        $this->assertLessThanOrEqual(4, $run - 1, "ready within a few cron runs:\n$output");
        $this->assertStringContainsString('Allocate IP addresses (creation -> set_ip): success', $output);
        $this->assertStringContainsString('Verify running and send the email (starting -> ready): success', $output);

        $this->assertSame([], $this->sim->violations());
        $clones = array_filter($this->sim->requests(), fn ($r) => $r['method'] === 'POST' && str_ends_with($r['path'], '/clone'));
        $this->assertCount(1, $clones);
        $config = array_values(array_filter($this->sim->requests(), fn ($r) => str_ends_with($r['path'], '/config') && isset($r['params']['cipassword'])));
        $this->assertNotEmpty($config, 'cloud-init received the service password');
        $this->assertSame('198.51.100.10', $this->whmcs->pdo()->query("SELECT dedicatedip FROM tblhosting WHERE id = $service")->fetchColumn());

        $emails = array_filter($this->whmcs->localApiCalls(), fn ($c) => $c['command'] === 'SendEmail');
        $this->assertCount(1, $emails);
        $this->assertSame('puqProxmoxKVM VM is ready', array_values($emails)[0]['values']['messagename']);
        // The password never reaches the module log.
        foreach ($this->whmcs->moduleLog() as $row) {
            $this->assertStringNotContainsString('S3cret-pass', json_encode($row));
        }
    }

    private function cron(int $service, string $until): string
    {
        $output = '';
        for ($run = 1; $run <= 8 && $this->status($service) !== $until; $run++) {
            ob_start();
            puq_proxmox_kvm_cron_cli(['task' => 'processVirtualMachines']);
            $output .= ob_get_clean();
            usleep(150000);
        }
        $this->assertSame($until, $this->status($service), $output);
        return $output;
    }

    public function testSetDnsRecordsAndTerminateThroughTheServiceButtons(): void
    {
        $service = $this->order();
        $this->assertSame('success', $this->whmcs->callServerModule('CreateAccount', $service));
        $this->cron($service, 'ready');
        $this->assertSame(['Set DNS records' => 'SetDnsRecords', 'Reinstall' => 'Reinstall'], puqProxmoxKVM_AdminCustomButtonArray());

        $this->assertSame('success', $this->whmcs->callServerModule('SetDnsRecords', $service));
        $this->assertSame('set_dns_records', $this->status($service), 'queued, not run in the request');
        $output = $this->cron($service, 'ready');
        $this->assertStringContainsString('Delete and recreate DNS records (set_dns_records -> ready): success', $output);

        $this->assertSame('success', $this->whmcs->callServerModule('SuspendAccount', $service));
        $this->assertSame('success', $this->whmcs->callServerModule('UnsuspendAccount', $service));
        $power = array_values(array_filter($this->sim->requests(), fn ($r) => preg_match('#/status/(stop|start)$#', $r['path'])));
        $this->assertSame(['start', 'stop', 'start'], array_map(fn ($r) => basename($r['path']), $power), 'deploy start, suspend stop, unsuspend start');
        $kinds = $this->whmcs->pdo()->query("SELECT kind FROM puq_proxmox_kvm_vm_runs WHERE service_id = $service AND kind IN ('suspend', 'unsuspend') ORDER BY id")->fetchAll(PDO::FETCH_COLUMN);
        $this->assertSame(['suspend', 'unsuspend'], $kinds, 'recorded in the run log');

        $this->assertSame('success', $this->whmcs->callServerModule('TerminateAccount', $service));
        $this->assertSame('terminate', $this->status($service));
        $stops = array_filter($this->sim->requests(), fn ($r) => str_ends_with($r['path'], '/status/stop'));
        $this->assertCount(2, $stops, 'the suspend, then TerminateAccount asking Proxmox to stop the VM at once');
        $this->cron($service, 'remove');
        $deletes = array_filter($this->sim->requests(), fn ($r) => $r['method'] === 'DELETE' && preg_match('#/qemu/\d+$#', $r['path']));
        $this->assertCount(1, $deletes);
        $this->assertSame('', $this->whmcs->pdo()->query("SELECT dedicatedip FROM tblhosting WHERE id = $service")->fetchColumn());
        $this->assertSame([], $this->sim->violations());
    }
}
