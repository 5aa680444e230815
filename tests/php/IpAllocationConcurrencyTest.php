<?php
/**
 * Never twice: 8 PHP processes allocate for 1,000 services at once, through the extension and the
 * harness's database. Afterwards no address belongs to two services (in the allocation table or in
 * tblhosting), every service holds its full count, and the pools' used counts match.
 */

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/workers/run.php';

final class IpAllocationConcurrencyTest extends TestCase
{
    private const PROCESSES = 8;
    private const SERVICES = 1000;

    private WhmcsHarness $whmcs;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->activateAddon();
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    /** 1,000 services of a product asking for $v4 IPv4 and $v6 IPv6 addresses on $server. */
    private function services(int $server, int $v4, int $v6): array
    {
        $product = $this->whmcs->addProduct(['configoption14' => 'vmbr0', 'configoption15' => '0', 'configoption16' => (string) $v4, 'configoption17' => (string) $v6]);
        $ids = [];
        for ($i = 0; $i < self::SERVICES; $i++) {
            $ids[] = $this->whmcs->addService(['packageid' => $product, 'server' => $server]);
        }
        return $ids;
    }

    private function runAllocators(array $services): void
    {
        $run = puq_run_allocators($this->whmcs->dbConfig(), $services, self::PROCESSES);
        $errors = array_merge(...array_column($run['reports'], 'errors'));
        $this->assertSame([], $errors, 'no allocator failed');
        $this->assertSame(self::SERVICES, array_sum(array_column($run['reports'], 'allocated')));
    }

    /** Every address appears once across tblhosting and matches the allocation table, per service. */
    private function assertNeverTwice(array $services, int $perService): void
    {
        $pdo = $this->whmcs->pdo();
        $owner = [];
        $rows = $pdo->query('SELECT id, dedicatedip, assignedips FROM tblhosting WHERE id IN (' . implode(',', $services) . ')')->fetchAll(PDO::FETCH_ASSOC);
        foreach ($rows as $row) {
            $addresses = array_values(array_filter(array_merge([$row['dedicatedip']], explode("\n", $row['assignedips']))));
            $this->assertCount($perService, $addresses, "service {$row['id']} holds its full count");
            foreach ($addresses as $ip) {
                $this->assertArrayNotHasKey($ip, $owner, "$ip belongs to services {$row['id']} and " . ($owner[$ip] ?? ''));
                $owner[$ip] = $row['id'];
            }
        }
        $this->assertCount(self::SERVICES * $perService, $owner);
        $table = $pdo->query('SELECT ip, service_id FROM puq_proxmox_kvm_ip_allocations')->fetchAll(PDO::FETCH_KEY_PAIR);
        $this->assertCount(count($owner), $table);
        foreach ($owner as $ip => $service) {
            $this->assertSame((int) $service, (int) ($table[$ip] ?? 0), "$ip is recorded for the same service in both places");
        }
        $dupes = (int) $pdo->query('SELECT COUNT(*) FROM (SELECT address FROM puq_proxmox_kvm_ip_allocations GROUP BY address HAVING COUNT(*) > 1) d')->fetchColumn();
        $this->assertSame(0, $dupes);
    }

    private function usedCounts(): array
    {
        $figures = [];
        foreach (puq_proxmox_kvm()->ipPools()->list() as $pool) {
            $allocated = (int) $this->whmcs->pdo()->query("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE pool_id = {$pool['id']}")->fetchColumn();
            $this->assertSame($allocated, $pool['used'], "pool {$pool['id']} used count");
            $figures[$pool['id']] = $pool['used'];
        }
        return $figures;
    }

    public function testEightProcessesOnePool(): void
    {
        $server = $this->whmcs->addServer(['name' => 'pve-1']);
        $pool = puq_proxmox_kvm()->ipPools()->create([
            'server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '10.20.0.1',
            'mask' => '21', 'address_start' => '10.20.0.2', 'address_stop' => '10.20.7.254',
        ]);
        $services = $this->services($server, 2, 0);
        $this->runAllocators($services);
        $this->assertNeverTwice($services, 2);
        $this->assertSame([$pool => 2000], $this->usedCounts());
    }

    public function testEightProcessesTwoPoolsAndTheLegacyList(): void
    {
        $lines = [];
        foreach (range(0, 3) as $third) {
            foreach (range(1, 250) as $fourth) {
                $lines[] = "vmbr0|0|10.30.$third.$fourth|22|10.30.3.254|8.8.8.8";
            }
        }
        $server = $this->whmcs->addServer(['name' => 'pve-2', 'assignedips' => implode("\n", $lines)]);
        $pools = puq_proxmox_kvm()->ipPools();
        $a = $pools->create(['server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '10.40.0.1',
            'mask' => '24', 'address_start' => '10.40.0.2', 'address_stop' => '10.40.0.254']);
        $b = $pools->create(['server_id' => $server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '10.50.0.1',
            'mask' => '23', 'address_start' => '10.50.0.2', 'address_stop' => '10.50.1.254']);
        $v6 = $pools->create(['server_id' => $server, 'type' => 'IPv6', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '2001:db8:30::1',
            'mask' => '48', 'address_start' => '2001:db8:30::2', 'address_stop' => '2001:db8:30:ffff:ffff:ffff:ffff:ffff']);
        // 2 IPv4 each: 253 + 509 from the pools, the other 1,238 from the 1,000-line list is too many:
        // so 1 IPv4 + 1 IPv6 for half, 2 IPv4 + 1 IPv6 for the other half (1,500 IPv4 in all).
        $services = $this->services($server, 1, 1);
        $twice = array_slice($services, 0, 500);
        $product = $this->whmcs->addProduct(['configoption14' => 'vmbr0', 'configoption16' => '2', 'configoption17' => '1']);
        $this->whmcs->pdo()->exec("UPDATE tblhosting SET packageid = $product WHERE id IN (" . implode(',', $twice) . ')');
        $this->runAllocators($services);

        $pdo = $this->whmcs->pdo();
        $count = fn (string $where) => (int) $pdo->query("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE $where")->fetchColumn();
        $this->assertSame(1500, $count('family = 4'));
        $this->assertSame(1000, $count('family = 6'));
        $this->assertSame(253 + 509, $count("pool_id IN ($a, $b)"), 'the pools are used up before the list');
        $this->assertSame(1500 - 762, $count("source = 'list'"));
        $used = $this->usedCounts();
        $this->assertSame([253, 509, 1000], [$used[$a], $used[$b], $used[$v6]]);
        // Never twice, across both families and all three sources.
        $owner = [];
        foreach ($pdo->query('SELECT id, dedicatedip, assignedips FROM tblhosting WHERE id IN (' . implode(',', $services) . ')') as $row) {
            $addresses = array_values(array_filter(array_merge([$row['dedicatedip']], explode("\n", $row['assignedips']))));
            $this->assertCount(in_array((int) $row['id'], $twice, true) ? 3 : 2, $addresses);
            foreach ($addresses as $ip) {
                $this->assertArrayNotHasKey($ip, $owner, "$ip handed out twice");
                $owner[$ip] = true;
            }
        }
        $this->assertCount(2500, $owner);
    }
}
