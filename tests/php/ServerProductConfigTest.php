<?php
/**
 * The product's Module Settings: puqProxmoxKVM_ConfigOptions (24 slots plus the panel of
 * settings kept in the module table), the ProductEdit hook saving that panel, and a service's
 * effective configuration with configurable options applied.
 */

use PHPUnit\Framework\TestCase;

final class ServerProductConfigTest extends TestCase
{
    private WhmcsHarness $whmcs;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->activateAddon();
        require_once dirname(__DIR__, 2) . '/php/modules/servers/puqProxmoxKVM/hooks.php';
    }

    protected function tearDown(): void
    {
        $_POST = [];
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    private function saveViaHook(int $productId, array $settings): void
    {
        $_POST = ['puq_kvm_settings' => $settings];
        run_hook('ProductEdit', ['pid' => $productId, 'servertype' => 'puqProxmoxKVM']);
    }

    private function stored(int $productId): array
    {
        $stmt = $this->whmcs->pdo()->prepare('SELECT setting, value FROM puq_proxmox_kvm_product_settings WHERE product_id = ? ORDER BY setting');
        $stmt->execute([$productId]);
        return $stmt->fetchAll(PDO::FETCH_KEY_PAIR);
    }

    public function testConfigOptionsListTheSlotsAndThePanel(): void
    {
        $productId = $this->whmcs->addProduct();
        $serviceId = $this->whmcs->addService(['packageid' => $productId]);
        $this->saveViaHook($productId, ['firewall_policy_in' => 'DROP', 'backup_storage' => 'nfs-backup|nfs', 'client_iso' => '']);

        $options = $this->whmcs->callServerModule('ConfigOptions', $serviceId);
        $this->assertCount(24, $options);
        $labels = array_keys($options);
        $this->assertSame('Target node', $labels[0]);
        $this->assertSame('OS username', $labels[23]);
        $this->assertSame('text', $options['Target node']['Type']);
        $this->assertSame('auto', $options['Target node']['Default']);
        $this->assertSame('yesno', $options['DHCP IPv4']['Type']);
        $this->assertSame(['linked' => 'linked', 'full' => 'full'], $options['Clone type']['Options']);

        $panel = $options['OS username']['Description'];
        $this->assertStringContainsString('<option value="DROP" selected>', $panel);
        $this->assertStringContainsString('name="puq_kvm_settings[backup_storage]" value="nfs-backup|nfs"', $panel);
        $this->assertStringNotContainsString('name="puq_kvm_settings[client_iso]" value="on" checked', $panel);
        $this->assertStringContainsString('name="puq_kvm_settings[client_start]" value="on" checked', $panel);
    }

    public function testTheHookSavesValidSettingsAndRefusesBadOnesWhole(): void
    {
        $productId = $this->whmcs->addProduct();
        $this->saveViaHook($productId, ['system_disk_mbps_rd' => '50', 'firewall_ipfilter' => 'on']);
        $this->assertSame(['firewall_ipfilter' => 'on', 'system_disk_mbps_rd' => '50'], $this->stored($productId));

        $this->saveViaHook($productId, ['system_disk_mbps_rd' => '80', 'firewall_policy_out' => 'OPEN']);
        $this->assertSame('50', $this->stored($productId)['system_disk_mbps_rd'], 'nothing saved');
        $activity = array_column($this->whmcs->activityLog(), 'description');
        $this->assertStringContainsString("settings of product $productId were not saved - firewall_policy_out", end($activity));

        // Another module's product is left alone.
        $_POST = ['puq_kvm_settings' => ['system_disk_mbps_rd' => '99']];
        run_hook('ProductEdit', ['pid' => $productId, 'servertype' => 'cpanel']);
        $this->assertSame('50', $this->stored($productId)['system_disk_mbps_rd']);
    }

    public function testAServiceResolvesWithItsConfigurableOptions(): void
    {
        $productId = $this->whmcs->addProduct(['configoption4' => '2', 'configoption5' => '4', 'configoption21' => 'example.net']);
        $serviceId = $this->whmcs->addService(['packageid' => $productId]);
        $this->whmcs->addConfigOption($productId, 'CPU|Processor', ['8|8 cores']);
        $this->whmcs->addConfigOption($productId, 'CPU Cores', ['6|6 cores']);
        $this->whmcs->setServiceConfigOption($serviceId, 'CPU|Processor', '8|8 cores');
        $this->whmcs->setServiceConfigOption($serviceId, 'CPU Cores', '6|6 cores');

        $config = puq_proxmox_kvm()->products()->resolve($serviceId);
        $this->assertSame('6', $config['values']['cpu_cores'], 'the plain name wins');
        $this->assertSame('CPU Cores', $config['overridden']['cpu_cores']);
        $this->assertSame('4', $config['values']['ram_gb']);
        $this->assertSame('.example.net', $config['values']['main_domain']);

        $this->expectException(\PuqProxmoxKvm\Exception\NotFoundException::class);
        puq_proxmox_kvm()->products()->resolve(987654);
    }
}
