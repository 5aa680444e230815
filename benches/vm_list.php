<?php
/**
 * `make bench-vm-list`: the VM Management list's JSON action with 100,000 VM rows, end to end
 * through PHP (HTTP to the admin page server, the addon, the extension, MariaDB and back).
 * Prints median and p95 per query shape. Printed, never asserted. Goal: p95 under 50 ms.
 *
 *   php -d extension=... benches/vm_list.php [--rows 100000] [--requests 40]
 */

require_once __DIR__ . '/../tests/whmcs/WhmcsHarness.php';

$opts = getopt('', ['rows:', 'requests:']);
$rows = (int) ($opts['rows'] ?? 100000);
$requests = (int) ($opts['requests'] ?? 40);

$whmcs = WhmcsHarness::create();
try {
    $whmcs->activateAddon();
    $pdo = $whmcs->pdo();
    $started = microtime(true);
    $server = $whmcs->addServer(['name' => 'pve-bench']);
    $product = $whmcs->addProduct(['name' => 'VPS Bench', 'configoption21' => 'example.net']);
    $pdo->exec("SET SESSION sql_mode = ''");
    // 2,000 clients, $rows services and VM rows, addresses 10.x.y.z, a spread of states.
    $pdo->exec("INSERT INTO tblclients (id, firstname, lastname, email, status)
        SELECT seq, CONCAT('First', seq), CONCAT('Last', seq), CONCAT('c', seq, '@example.net'), 'Active' FROM seq_1_to_2000");
    $pdo->exec("INSERT INTO tblhosting (id, userid, packageid, server, domainstatus, dedicatedip, assignedips)
        SELECT seq, 1 + seq % 2000, $product, $server,
               ELT(1 + seq % 10, 'Active','Active','Active','Active','Active','Active','Suspended','Terminated','Cancelled','Pending'),
               CONCAT('10.', (seq >> 16) & 255, '.', (seq >> 8) & 255, '.', seq & 255),
               CONCAT('2001:db8::', HEX(seq))
        FROM seq_1_to_$rows");
    $pdo->exec("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_id, vm_name, vm_status)
        SELECT seq, 1000 + seq, CONCAT(seq, '-1776530141'),
               ELT(1 + seq % 8, 'ready','ready','ready','ready','ready','set_network','remove','error_terminate')
        FROM seq_1_to_$rows");
    printf("seeded %d VM rows, %d services, 2000 clients in %.1f s\n", $rows, $rows, microtime(true) - $started);

    $base = $whmcs->serve() . '/admin/addonmodules.php?module=puq_proxmox_kvm&action=vm_list&length=25&';
    $shapes = [
        'first page, newest first' => [],
        'search IP + sort client + Active' => ['search' => '10.1.2', 'sort' => 'client', 'dir' => 'asc', 'service_status' => 'Active'],
        'search client name + VM status' => ['search' => 'Last1234', 'vm_status' => 'ready'],
        'filter VM status + sort VM name' => ['vm_status' => 'set_network', 'sort' => 'vm'],
        'page 2000 of all, sort VM status' => ['start' => 50000, 'sort' => 'vm_status'],
        'page 2000 of all, sort client' => ['start' => 50000, 'sort' => 'client'],
        'Suspended, sort product, page 100' => ['service_status' => 'Suspended', 'sort' => 'product', 'start' => 2500],
    ];
    $curl = curl_init();
    curl_setopt_array($curl, [CURLOPT_RETURNTRANSFER => true, CURLOPT_COOKIEFILE => '']);
    printf("\n%-36s %8s %8s %8s  %s\n", 'query (page of 25)', 'median', 'p95', 'max', 'rows matched');
    foreach ($shapes as $name => $query) {
        $times = [];
        $matched = null;
        for ($i = 0; $i < $requests + 3; $i++) {
            curl_setopt($curl, CURLOPT_URL, $base . http_build_query($query));
            $t = microtime(true);
            $body = curl_exec($curl);
            $ms = (microtime(true) - $t) * 1000;
            $data = json_decode((string) $body, true);
            if (!($data['ok'] ?? false)) {
                throw new RuntimeException("$name failed: " . substr((string) $body, 0, 300));
            }
            $matched = $data['data']['filtered'];
            if ($i >= 3) { // warm-up requests are not counted
                $times[] = $ms;
            }
        }
        sort($times);
        $p = fn (float $q) => $times[(int) round($q * (count($times) - 1))];
        printf("%-36s %6.1fms %6.1fms %6.1fms  %d\n", $name, $p(0.5), $p(0.95), end($times), $matched);
    }
    echo "\ngoal: p95 under 50 ms\n";
} finally {
    $whmcs->destroy();
}
