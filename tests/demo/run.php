<?php
/**
 * `make demo`: a VM ordered in a throwaway WHMCS and built by the module's cron, end to end on
 * this machine: the Proxmox VE simulator (HTTPS, pinned certificate), a private PowerDNS, the
 * WHMCS harness's database. Prints the cron's live output and the VM's DNS answers, then
 * removes everything it started. Opens nothing on the network beyond loopback.
 */

require_once __DIR__ . '/../whmcs/WhmcsHarness.php';
require_once __DIR__ . '/../whmcs/PveSimulator.php';
require_once __DIR__ . '/../whmcs/PowerDns.php';

if (!extension_loaded('puq_proxmox_kvm')) {
    fwrite(STDERR, "the extension is not loaded: run `make demo`\n");
    exit(1);
}

$started = microtime(true);
$sim = new PveSimulator();
$dns = new PowerDns(['example.net', '100.51.198.in-addr.arpa']);
$whmcs = WhmcsHarness::create();
try {
    printf("PUQ Proxmox KVM %s\n", \PuqProxmoxKvm\Module::version());
    printf("Proxmox VE simulator: %s (certificate %s...)\n", $sim->base, substr($sim->fingerprint, 0, 23));
    printf("PowerDNS: API %s, DNS 127.0.0.1:%d\n", $dns->url, $dns->dnsPort);
    printf("WHMCS database: %s\n\n", $whmcs->dbName);

    $activation = $whmcs->activateAddon();
    printf("Activate addon: %s - %s\n", $activation['status'], $activation['description']);
    require_once $whmcs->root . '/modules/addons/puq_proxmox_kvm/lib/cron.php';
    $kvm = puq_proxmox_kvm();

    $server = $whmcs->addServer(['name' => 'pve-demo'] + $sim->serverFields());
    $test = $whmcs->callServerModule('TestConnection', $whmcs->addService(['server' => $server, 'packageid' => $whmcs->addProduct()]));
    printf("Test Connection: %s\n", $test['success'] ? 'OK' : $test['error']);
    $product = $whmcs->addProduct([
        'name' => 'VPS Start', 'configoption2' => '9000', 'configoption4' => '2', 'configoption5' => '4',
        'configoption8' => '32', 'configoption10' => '10', 'configoption16' => '1', 'configoption17' => '1',
        'configoption19' => '', 'configoption20' => '', 'configoption21' => '.example.net', 'configoption7' => 'vps-{service_id}',
    ]);
    $kvm->ipPools()->create(['server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => 0, 'gateway' => '198.51.100.1',
        'mask' => 24, 'dns1' => '198.51.100.53', 'dns2' => '', 'address_start' => '198.51.100.10', 'address_stop' => '198.51.100.250']);
    $kvm->ipPools()->create(['server_id' => $server, 'type' => 'IPv6', 'bridge' => 'vmbr0', 'vlan' => 0, 'gateway' => '2001:db8::1',
        'mask' => 64, 'dns1' => '', 'dns2' => '', 'address_start' => '2001:db8::100', 'address_stop' => '2001:db8::ffff']);
    foreach (['example.net', '100.51.198.in-addr.arpa'] as $zone) {
        $kvm->dnsZones()->create(['zone' => $zone, 'type' => 'PowerDNS', 'server_url' => $dns->url, 'api_key' => PowerDns::API_KEY]);
    }
    $whmcs->addEmailTemplate('puqProxmoxKVM VM is ready');
    $client = $whmcs->addClient(['firstname' => 'Ada', 'lastname' => 'Lovelace']);
    $service = $whmcs->addService(['userid' => $client, 'server' => $server, 'packageid' => $product, 'password' => 'Demo-Pass-2026']);
    echo "Seeded: a Proxmox server entry, a product (2 cores, 4 GB, 32 GB + 10 GB disks, 1 IPv4 + 1 IPv6), two IP pools, two DNS zones at PowerDNS\n\n";

    printf("CreateAccount(service %d): %s (returns at once; cron builds the VM)\n\n", $service, $whmcs->callServerModule('CreateAccount', $service));

    $status = fn () => (string) $whmcs->pdo()->query("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = $service")->fetchColumn();
    for ($run = 1; $run <= 10 && $status() !== 'ready'; $run++) {
        echo "\$ php modules/addons/puq_proxmox_kvm/cron.php --task=processVirtualMachines   (run $run)\n";
        puq_proxmox_kvm_cron_cli(['task' => 'processVirtualMachines']);
        echo "\n";
        usleep(200000);
    }
    $vm = $whmcs->pdo()->query("SELECT vm_id, vm_name, vm_node, vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = $service")->fetch(PDO::FETCH_ASSOC);
    $ips = $whmcs->pdo()->query("SELECT dedicatedip, assignedips FROM tblhosting WHERE id = $service")->fetch(PDO::FETCH_ASSOC);
    printf("VM %s (%s) on %s: %s\n", $vm['vm_id'], $vm['vm_name'], $vm['vm_node'], strtoupper($vm['vm_status']));
    printf("Addresses: %s %s\n", $ips['dedicatedip'], str_replace("\n", ' ', $ips['assignedips']));
    $fqdn = $vm['vm_name'] . '.example.net';
    printf("\nPowerDNS answers:\n  %s A     %s\n  %s AAAA  %s\n", $fqdn, $dns->dig($fqdn, 'A') ?: '(none)', $fqdn, $dns->dig($fqdn, 'AAAA') ?: '(none)');
    $reverse = \PuqProxmoxKvm\Net::reverseName($ips['dedicatedip']);
    printf("  %s PTR  %s\n", $reverse, $dns->dig($reverse, 'PTR') ?: '(none)');
    $emails = array_filter($whmcs->localApiCalls(), fn ($c) => $c['command'] === 'SendEmail');
    printf("Emails sent: %s\n", implode(', ', array_map(fn ($c) => $c['values']['messagename'], $emails)) ?: 'none');
    printf("\nSimulator: %d requests, %d refused by the Proxmox schema\n", count($sim->requests()), count($sim->violations()));
    $ok = $vm['vm_status'] === 'ready';
} finally {
    $whmcs->destroy();
    $dns->stop();
    $sim->stop();
    printf("Cleaned up: demo database, PowerDNS and simulator stopped (%.1f s in all).\n", microtime(true) - $started);
}
exit($ok ? 0 : 1);
