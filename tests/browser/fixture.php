<?php
/**
 * A seeded WHMCS with its page server, for one browser test (started by lib.mjs startHarness()).
 *
 *   php -d extension=$PUQ_EXTENSION tests/browser/fixture.php <scenario>
 *
 * Creates a WhmcsHarness with the scenario's modules (the repo's php/modules unless it names others),
 * activates its addon, seeds it, starts the page server, prints one JSON line
 * {"baseUrl", "db", "root", "facts"} on stdout ("facts": what the scenario seeded, read back from the
 * database), then waits until stdin closes or SIGTERM/SIGINT and destroys everything.
 */

require __DIR__ . '/../whmcs/WhmcsHarness.php';

/** @var array<string, array{modules?: string, addon?: string, seed: callable(WhmcsHarness): array}> */
$scenarios = [
    // The harness's probe addon alone (tests the admin shell, not the product).
    'probe' => [
        'modules' => __DIR__ . '/../php/fixtures/probe-modules',
        'addon' => 'harness_probe',
        'seed' => static fn (WhmcsHarness $whmcs): array => [],
    ],

    // 3 active + 1 terminated service of a puqProxmoxKVM product, 1 active service of another product.
    'dashboard' => ['seed' => static function (WhmcsHarness $whmcs): array {
        $client = $whmcs->addClient();
        $server = $whmcs->addServer(['name' => 'pve-1']);
        $kvm = $whmcs->addProduct(['name' => 'KVM VPS S']);
        $other = $whmcs->addProduct(['name' => 'Shared Hosting', 'type' => 'hostingaccount', 'servertype' => 'cpanel']);
        foreach (['Active', 'Active', 'Active', 'Terminated'] as $status) {
            $whmcs->addService(['userid' => $client, 'packageid' => $kvm, 'server' => $server, 'domainstatus' => $status]);
        }
        $whmcs->addService(['userid' => $client, 'packageid' => $other, 'server' => 0, 'domainstatus' => 'Active']);

        $count = $whmcs->pdo()->prepare(
            "SELECT COUNT(*) FROM tblhosting h JOIN tblproducts p ON p.id = h.packageid
             WHERE p.servertype = ? AND h.domainstatus = 'Active'"
        );
        $count->execute([WhmcsHarness::SERVER_MODULE]);
        return ['activeKvmServices' => (int) $count->fetchColumn()];
    }],

    // A fleet in mixed states for VM Management: ready VMs with IPv4 and IPv6, one failing
    // its deploy (with a failed run in its log), one removed, one stuck in error_terminate.
    'fleet' => ['seed' => static function (WhmcsHarness $whmcs): array {
        $client = $whmcs->addClient(['firstname' => 'Ruslan', 'lastname' => 'Poloviy']);
        $other = $whmcs->addClient(['firstname' => 'Ada', 'lastname' => 'Lovelace']);
        $server = $whmcs->addServer(['name' => 'proxmox-test.puqcloud.com']);
        $product = $whmcs->addProduct(['name' => 'VPS Start', 'configoption21' => 'puqcloud.com']);
        $fleet = [
            [5546, $client, 'Active', 'set_network', 2005, '5546-1776530154', '192.168.130.6', "2001:db8::7"],
            [5547, $other, 'Suspended', 'error_terminate', 2006, '5547-1776530160', '192.168.130.7', ''],
            [5549, $client, 'Active', 'ready', 2004, '5549-1776530149', '192.168.130.4', "192.168.130.5\n2001:db8::3\n2001:db8::4"],
            [5550, $other, 'Active', 'ready', 2003, '5550-1776530145', '192.168.130.3', ''],
            [5551, $client, 'Terminated', 'remove', null, '', '', ''],
        ];
        $vm = $whmcs->pdo()->prepare(
            'INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_id, vm_name, vm_status, vm_rev_dns, vm_last_error) VALUES (?, ?, ?, ?, ?, ?)'
        );
        foreach ($fleet as [$id, $owner, $status, $vmStatus, $vmid, $name, $ip, $more]) {
            $whmcs->addService(['id' => $id, 'userid' => $owner, 'packageid' => $product, 'server' => $server,
                'domainstatus' => $status, 'dedicatedip' => $ip, 'assignedips' => $more]);
            $vm->execute([$id, $vmid, $name, $vmStatus,
                $id === 5549 ? '{"192.168.130.5": "mail.example.com"}' : null,
                $id === 5546 ? 'unable to update VM 2005 - HTTP 500' : null]);
        }
        $whmcs->pdo()->exec(
            "INSERT INTO puq_proxmox_kvm_vm_runs (service_id, kind, started_at, result, error, steps) VALUES
             (5546, 'deploy', UTC_TIMESTAMP(3) - INTERVAL 5 MINUTE, 'error', 'unable to update VM 2005 - HTTP 500',
              '[{\"label\":\"Allocate IP addresses\",\"from\":\"creation\",\"to\":\"set_ip\",\"result\":\"success\",\"duration_ms\":120,\"at\":\"2026-11-30 00:55:00\"},{\"label\":\"Configure the firewall\",\"from\":\"set_network\",\"to\":\"set_firewall\",\"result\":\"error: unable to update VM 2005 - HTTP 500\",\"duration_ms\":350,\"at\":\"2026-11-30 00:56:00\"}]')"
        );
        return ['vms' => count($fleet)];
    }],

    // The addon activated, nothing else: the Settings page with its defaults.
    'settings' => ['seed' => static fn (WhmcsHarness $whmcs): array => []],
    // IP Pools: two Proxmox servers, no pools yet, and an Active service asking for 2 IPv4 addresses.
    'ip_pools' => ['seed' => static function (WhmcsHarness $whmcs): array {
        $server = $whmcs->addServer(['name' => 'pve-waw1', 'hostname' => 'pve-waw1.example.net']);
        $whmcs->addServer(['name' => 'pve-waw2', 'hostname' => 'pve-waw2.example.net']);
        $product = $whmcs->addProduct(['name' => 'KVM VPS S', 'configoption14' => 'vmbr0', 'configoption15' => '0', 'configoption16' => '2']);
        $service = $whmcs->addService(['packageid' => $product, 'server' => $server]);
        return ['server' => $server, 'service' => $service];
    }],
    // No zones yet: the DNS Zones test adds them through the page (PowerDNS and the Cloudflare
    // simulator are started by the test itself).
    'dns_zones' => ['seed' => static fn (WhmcsHarness $whmcs): array => []],
];

$scenario = $argv[1] ?? '';
if (!isset($scenarios[$scenario])) {
    fwrite(STDERR, "usage: fixture.php <scenario>; scenarios: " . implode(', ', array_keys($scenarios)) . "\n");
    exit(2);
}

pcntl_async_signals(true);
foreach ([SIGTERM, SIGINT] as $signal) {
    pcntl_signal($signal, static fn () => exit(0)); // exit runs the harness's shutdown function
}

$world = $scenarios[$scenario];
$whmcs = WhmcsHarness::create($world['modules'] ?? null);
$whmcs->activateAddon($world['addon'] ?? WhmcsHarness::ADDON_MODULE);
$facts = $world['seed']($whmcs);
echo json_encode(['baseUrl' => $whmcs->serve(), 'db' => $whmcs->dbName, 'root' => $whmcs->root, 'facts' => $facts], JSON_UNESCAPED_SLASHES), "\n";

while (!feof(STDIN)) {
    $read = [STDIN];
    $none = null;
    if (@stream_select($read, $none, $none, 1) > 0 && fgets(STDIN) === false) {
        break;
    }
}
$whmcs->destroy();
