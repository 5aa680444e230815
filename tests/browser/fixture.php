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
