<?php
/**
 * Allocation throughput: 8 concurrent PHP allocator processes on a /16 IPv4 pool and on a /48
 * IPv6 pool, each with 10,000 addresses already in use, in 3 alternating rounds of 1,000 services.
 * Prints allocations per second for both (median of the rounds) and their ratio (IPv6 / IPv4).
 * Figures only; nothing is asserted.
 *
 *   make bench-ipam     (or: php -d extension=target/release/libpuq_proxmox_kvm.so benches/ipam.php [services [processes]])
 */

require __DIR__ . '/../tests/whmcs/WhmcsHarness.php';
require __DIR__ . '/../tests/php/workers/run.php';

define("PROCESSES", (int) ($argv[2] ?? 8));
const IN_USE = 10000;
$services = (int) ($argv[1] ?? 1000);

$whmcs = WhmcsHarness::create();
$whmcs->activateAddon();
$pdo = $whmcs->pdo();
$pools = puq_proxmox_kvm()->ipPools();
$server = $whmcs->addServer(['name' => 'pve-bench']);

$v4 = $pools->create(['server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '10.0.0.1',
    'mask' => '16', 'address_start' => '10.0.0.2', 'address_stop' => '10.0.255.254']);
$v6 = $pools->create(['server_id' => $server, 'type' => 'IPv6', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '2001:db8:77::1',
    'mask' => '48', 'address_start' => '2001:db8:77::2', 'address_stop' => '2001:db8:77:ffff:ffff:ffff:ffff:ffff']);

/** IN_USE addresses from the start of $pool, held by a service that is not part of the run. */
function prefill(PDO $pdo, int $pool, int $family): void
{
    $pdo->exec('CREATE TEMPORARY TABLE IF NOT EXISTS bench_seq (n int PRIMARY KEY)');
    $pdo->exec('DELETE FROM bench_seq');
    $values = implode(',', array_map(fn ($n) => "($n)", range(0, IN_USE - 1)));
    $pdo->exec("INSERT INTO bench_seq VALUES $values");
    $pdo->exec("INSERT INTO puq_proxmox_kvm_ip_allocations (address, ip, family, service_id, server_id, pool_id, source, bridge, vlan, gateway, prefix, dns)
        SELECT p.start_num + s.n, CONCAT('prefill-', p.id, '-', s.n), $family, 999999, p.server_id, p.id, 'pool', p.bridge, p.vlan, p.gateway, p.mask, ''
        FROM puq_proxmox_kvm_ip_pools p JOIN bench_seq s WHERE p.id = $pool");
}

/** $n services of a product asking for one address of the family, made by doubling one row. */
function services(WhmcsHarness $whmcs, int $server, array $product, int $n): array
{
    $pdo = $whmcs->pdo();
    $first = $whmcs->addService(['packageid' => $whmcs->addProduct($product), 'server' => $server]);
    $columns = $pdo->query("SELECT GROUP_CONCAT(CONCAT('`', COLUMN_NAME, '`')) FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tblhosting' AND COLUMN_NAME <> 'id'")->fetchColumn();
    while ((int) $pdo->query("SELECT COUNT(*) FROM tblhosting WHERE id >= $first")->fetchColumn() < $n) {
        $pdo->exec("INSERT INTO tblhosting ($columns) SELECT $columns FROM tblhosting WHERE id >= $first");
    }
    return array_slice($pdo->query("SELECT id FROM tblhosting WHERE id >= $first ORDER BY id")->fetchAll(PDO::FETCH_COLUMN), 0, $n);
}

prefill($pdo, $v4, 4);
prefill($pdo, $v6, 6);

// Rounds alternate the two pools, so load from elsewhere on the machine hits both alike; the
// figures are the medians of the rounds.
const ROUNDS = 3;
$rates = ['IPv4 /16' => [], 'IPv6 /48' => []];
$counts = ['IPv4 /16' => ['configoption16' => '1', 'configoption17' => '0'], 'IPv6 /48' => ['configoption16' => '0', 'configoption17' => '1']];
for ($round = 1; $round <= ROUNDS; $round++) {
    foreach ($counts as $label => $product) {
        $ids = services($whmcs, $server, $product + ['configoption14' => 'vmbr0', 'configoption15' => '0'], $services);
        $run = puq_run_allocators($whmcs->dbConfig(), $ids, PROCESSES);
        $errors = array_merge(...array_column($run['reports'], 'errors'));
        $done = array_sum(array_column($run['reports'], 'addresses'));
        $rates[$label][] = $done / $run['wall'];
        printf("round %d %-9s %d allocations by %d processes in %.2f s: %.0f allocations/s%s\n", $round, $label, $done, PROCESSES,
            $run['wall'], $done / $run['wall'], $errors ? ' (' . count($errors) . ' errors, first: ' . $errors[0] . ')' : '');
    }
}
$median = function (array $xs): float {
    sort($xs);
    return $xs[intdiv(count($xs), 2)];
};
$results = array_map($median, $rates);
foreach ($results as $label => $rate) {
    printf("%-9s median %.0f allocations/s (goal >= 500)\n", $label, $rate);
}
$used = [];
foreach ($pools->list() as $p) {
    $used[$p['type']] = $p['used'];
}
printf("in use afterwards: IPv4 %d, IPv6 %d (started with %d each)\n", $used['IPv4'], $used['IPv6'], IN_USE);
printf("ratio IPv6 /48 to IPv4 /16: %.2f (goal >= 0.8)\n", $results['IPv6 /48'] / $results['IPv4 /16']);
$whmcs->destroy();
