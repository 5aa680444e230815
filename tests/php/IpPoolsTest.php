<?php
/**
 * IP pools through the extension against a WHMCS database: the address helpers, pool management
 * and validation, allocation (sources, counts, idempotence, all or nothing), the legacy list,
 * change package, release, and the one-time import of the PUQ Customization pools.
 */

use PHPUnit\Framework\TestCase;
use PuqProxmoxKvm\Exception\ConflictException;
use PuqProxmoxKvm\Exception\NotFoundException;
use PuqProxmoxKvm\Exception\ValidationException;
use PuqProxmoxKvm\IpPools;
use PuqProxmoxKvm\Net;

final class IpPoolsTest extends TestCase
{
    private WhmcsHarness $whmcs;
    private IpPools $pools;
    private int $server;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->server = $this->whmcs->addServer(['name' => 'pve-waw1']);
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    private function activate(): void
    {
        $this->whmcs->activateAddon();
        $this->pools = puq_proxmox_kvm()->ipPools();
    }

    private function v4Pool(array $f = []): int
    {
        return $this->pools->create($f + [
            'server_id' => $this->server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => '0',
            'gateway' => '192.168.130.1', 'mask' => '24', 'dns1' => '8.8.8.8', 'dns2' => '1.1.1.1',
            'address_start' => '192.168.130.2', 'address_stop' => '192.168.130.254',
        ]);
    }

    /** A product asking for $v4 IPv4 and $v6 IPv6 addresses on vmbr0 untagged, and a service of it. */
    private function service(int $v4, int $v6 = 0, array $product = [], array $service = []): int
    {
        $productId = $this->whmcs->addProduct($product + [
            'configoption14' => 'vmbr0', 'configoption15' => '0',
            'configoption16' => (string) $v4, 'configoption17' => (string) $v6,
        ]);
        return $this->whmcs->addService($service + ['packageid' => $productId, 'server' => $this->server]);
    }

    private function hosting(int $serviceId): array
    {
        $row = $this->whmcs->pdo()->query("SELECT dedicatedip, assignedips FROM tblhosting WHERE id = $serviceId")->fetch(PDO::FETCH_ASSOC);
        return [$row['dedicatedip'], $row['assignedips'] === '' ? [] : explode("\n", $row['assignedips'])];
    }

    private function allocationRows(): int
    {
        return (int) $this->whmcs->pdo()->query('SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations')->fetchColumn();
    }

    private function assertValidation(string $field, callable $call, string $contains = ''): void
    {
        try {
            $call();
            $this->fail("expected a ValidationException on $field");
        } catch (ValidationException $e) {
            $this->assertSame($field, $e->getField(), $e->getMessage());
            $this->assertStringContainsString($contains, $e->getMessage());
        }
    }

    public function testNetHelpers(): void
    {
        $this->assertSame('10.1.168.192.in-addr.arpa', Net::reverseName('192.168.1.10'));
        $this->assertSame('3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', Net::reverseName('2001:DB8::3'));
        $this->assertSame('130.168.192.in-addr.arpa', Net::rdnsZone('192.168.130.2', 24));
        $this->assertSame('130.168.192.in-addr.arpa', Net::rdnsZone('192.168.130.66', 26));
        $this->assertSame('8.b.d.0.1.0.0.2.ip6.arpa', Net::rdnsZone('2001:db8::1', 32));
        $this->assertSame('0.0.8.b.d.0.1.0.0.2.ip6.arpa', Net::rdnsZone('2001:db8:4::1', 42));
        $this->assertValidation('ip', fn () => Net::reverseName('192.168.1'));
        $this->assertValidation('prefix', fn () => Net::rdnsZone('10.0.0.1', 7));
        $this->assertValidation('prefix', fn () => Net::rdnsZone('2001:db8::1', 3));
        $this->assertValidation('prefix', fn () => Net::rdnsZone('10.0.0.1', -1));
    }

    public function testPoolLifeCycleAndListFigures(): void
    {
        $this->activate();
        $id = $this->v4Pool();
        $v6 = $this->pools->create([
            'server_id' => $this->server, 'type' => 'IPv6', 'bridge' => 'vmbr0', 'vlan' => 0, 'gateway' => '2001:db8:1::1',
            'mask' => 48, 'dns1' => '2001:4860:4860::8888', 'address_start' => '2001:db8:1::1:0', 'address_stop' => '2001:db8:1:ffff:ffff:ffff:ffff:ffff',
        ]);
        $list = $this->pools->list();
        $this->assertCount(2, $list);
        $pool = $this->pools->get($id);
        $this->assertSame('pve-waw1', $pool['server_name']);
        $this->assertSame(['IPv4', 'vmbr0', 0, '192.168.130.1', 24], [$pool['type'], $pool['bridge'], $pool['vlan'], $pool['gateway'], $pool['mask']]);
        $this->assertSame([253, 0, 253], [$pool['total'], $pool['used'], $pool['free']]);
        $this->assertSame('130.168.192.in-addr.arpa', $pool['rdns_zone']);
        $big = $this->pools->get($v6);
        $this->assertSame('1208925819614629174640640', $big['total'], 'beyond PHP_INT_MAX the total is a decimal string');
        $this->assertSame('1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', $big['rdns_zone']);

        $this->pools->update($id, ['dns1' => '9.9.9.9', 'vlan' => '20']);
        $this->assertSame(['9.9.9.9', 20, '1.1.1.1'], [$this->pools->get($id)['dns1'], $this->pools->get($id)['vlan'], $this->pools->get($id)['dns2']]);
        $this->pools->delete($id);
        $this->expectException(NotFoundException::class);
        $this->pools->get($id);
    }

    public function testValidationNamesTheFieldAndOverlapsNameTheOtherPool(): void
    {
        $this->activate();
        $id = $this->v4Pool();
        $this->assertValidation('gateway', fn () => $this->v4Pool(['gateway' => '2001:db8::1']), 'IPv6 but the pool is IPv4');
        $this->assertValidation('gateway', fn () => $this->pools->update($id, ['gateway' => '192.168.130.300']));
        $this->assertValidation('bridge', fn () => $this->v4Pool(['bridge' => 'vmbr 0', 'address_start' => '10.0.0.2']));
        $this->assertValidation('address_stop', fn () => $this->v4Pool(['gateway' => '10.0.0.1', 'address_start' => '10.0.0.20', 'address_stop' => '10.0.0.10']), 'swap');
        $this->assertValidation('address_start', fn () => $this->v4Pool(['address_start' => '192.168.130.200', 'address_stop' => '192.168.130.210']), "IP pool $id");
        $this->assertValidation('mask', fn () => $this->v4Pool(['mask' => '33']));
        $this->assertValidation('server_id', fn () => $this->v4Pool(['server_id' => 999]), 'does not exist');
        $cpanel = $this->whmcs->addServer(['type' => 'cpanel', 'name' => 'web1']);
        $this->assertValidation('server_id', fn () => $this->v4Pool(['server_id' => $cpanel]), 'cpanel');
        // The same range on another server of this module is another network: allowed.
        $other = $this->whmcs->addServer(['name' => 'pve-waw2']);
        $this->assertGreaterThan($id, $this->v4Pool(['server_id' => $other]));
    }

    public function testAllocationIsIdempotentAndRecordedInTblhosting(): void
    {
        $this->activate();
        $this->v4Pool();
        $this->pools->create([
            'server_id' => $this->server, 'type' => 'IPv6', 'bridge' => 'vmbr0', 'vlan' => '0', 'gateway' => '2001:db8::1',
            'mask' => '64', 'dns1' => '2001:4860:4860::8888', 'address_start' => '2001:db8::100', 'address_stop' => '2001:db8::ffff',
        ]);
        $service = $this->service(2, 1);
        $first = $this->pools->allocate($service);
        $this->assertSame(['192.168.130.2', '192.168.130.3', '2001:db8::100'], array_column($first, 'address'));
        $this->assertSame(['IPv4', 'IPv4', 'IPv6'], array_column($first, 'family'));
        $this->assertSame(['vmbr0', 0, '192.168.130.1', 24, ['8.8.8.8', '1.1.1.1'], 'pool'],
            [$first[0]['bridge'], $first[0]['vlan'], $first[0]['gateway'], $first[0]['prefix'], $first[0]['dns'], $first[0]['source']]);
        $this->assertSame(64, $first[2]['prefix']);
        $this->assertSame(['192.168.130.2', ['192.168.130.3', '2001:db8::100']], $this->hosting($service));

        $this->assertSame($first, $this->pools->allocate($service), 'a second call returns the same addresses');
        $this->assertSame(3, $this->allocationRows(), 'and claims nothing more');
        $this->assertSame($first, $this->pools->addresses($service));
    }

    public function testAllOrNothingNamesServerFamilyNeededAndFree(): void
    {
        $this->activate();
        $pool = $this->v4Pool(['address_start' => '192.168.130.2', 'address_stop' => '192.168.130.4']);
        $this->pools->allocate($this->service(2));
        $hungry = $this->service(2);
        try {
            $this->pools->allocate($hungry);
            $this->fail('expected a ConflictException');
        } catch (ConflictException $e) {
            $this->assertStringContainsString("server 'pve-waw1' has 1 free IPv4", $e->getMessage());
            $this->assertStringContainsString('needs 2', $e->getMessage());
        }
        $this->assertSame([], $this->pools->addresses($hungry), 'nothing stays claimed');
        $this->assertSame(['', []], $this->hosting($hungry));
        $this->assertSame(2, $this->pools->get($pool)['used']);
    }

    public function testConfigurableOptionsOverrideTheProductAndDhcpMeansNone(): void
    {
        $this->activate();
        $this->v4Pool();
        $productId = $this->whmcs->addProduct(['configoption14' => 'vmbr0', 'configoption15' => '0', 'configoption16' => '1']);
        $this->whmcs->addConfigOption($productId, 'ipv4|Extra IPv4', ['3|Three', '5|Five']);
        $this->whmcs->addConfigOption($productId, 'IPv4 Addresses', ['qty'], 4, 0, 8);
        $service = $this->whmcs->addService(['packageid' => $productId, 'server' => $this->server]);
        $this->whmcs->setServiceConfigOption($service, 'ipv4', '3');
        $this->assertCount(3, $this->pools->allocate($service), 'the legacy prefix overrides the product');

        $this->whmcs->setServiceConfigOption($service, 'IPv4 Addresses', 2);
        $this->assertCount(2, $this->pools->resize($service), 'the plain name wins over the prefix');
        $this->whmcs->setServiceConfigOption($service, 'IPv4 Addresses', 0);
        $this->assertCount(0, $this->pools->resize($service), 'an assigned option wins even when 0');

        $dhcp = $this->service(2, 0, ['configoption19' => 'on']);
        $this->assertSame([], $this->pools->allocate($dhcp));

        $terminated = $this->service(1, 0, [], ['domainstatus' => 'Terminated']);
        $this->expectException(ConflictException::class);
        $this->expectExceptionMessage("service $terminated is Terminated");
        $this->pools->allocate($terminated);
    }

    public function testBridgeAndVlanMatchUnlessAuto(): void
    {
        $this->activate();
        $this->v4Pool();
        $tagged = $this->v4Pool(['bridge' => 'vmbr1', 'vlan' => '10', 'gateway' => '10.10.0.1', 'address_start' => '10.10.0.2', 'address_stop' => '10.10.0.9']);
        $service = $this->service(1, 0, ['configoption14' => 'vmbr1', 'configoption15' => '10']);
        $got = $this->pools->allocate($service);
        $this->assertSame([$tagged, 'vmbr1', 10, '10.10.0.2'], [$got[0]['pool_id'], $got[0]['bridge'], $got[0]['vlan'], $got[0]['address']]);

        $none = $this->service(1, 0, ['configoption14' => 'vmbr9']);
        $this->expectException(ConflictException::class);
        $this->expectExceptionMessage('on bridge vmbr9 VLAN 0');
        try {
            $auto = $this->service(2, 0, ['configoption14' => 'vmbr9', 'configoption18' => 'on']);
            $this->assertSame(['vmbr0', 'vmbr0'], array_column($this->pools->allocate($auto), 'bridge'), 'auto: the pool supplies bridge and VLAN');
        } finally {
            $this->pools->allocate($none);
        }
    }

    public function testLegacyListAfterPoolsWithTerminatedServicesFree(): void
    {
        $this->activate();
        $this->v4Pool(['address_start' => '192.168.130.2', 'address_stop' => '192.168.130.2']);
        $this->whmcs->pdo()->prepare('UPDATE tblservers SET assignedips = ? WHERE id = ?')->execute([implode("\n", [
            'vmbr0|0|10.0.25.2|24|10.0.25.1|10.0.10.10,10.0.10.20',
            'vmbr0|0|10.0.25.3|24|10.0.25.1|10.0.10.10,10.0.10.20',
            'vmbr0|0|10.0.25.4|24|10.0.25.1|10.0.10.10',
            'vmbr3|0|10.0.26.2|24|10.0.26.1|10.0.10.10',
        ]), $this->server]);
        // 10.0.25.2 is recorded for a Terminated service: free. 10.0.25.3 for an Active one: not.
        $this->service(1, 0, [], ['domainstatus' => 'Terminated', 'dedicatedip' => '10.0.25.2']);
        $this->service(1, 0, [], ['dedicatedip' => '10.0.25.3']);
        $service = $this->service(3);
        $got = $this->pools->allocate($service);
        $this->assertSame(['192.168.130.2', '10.0.25.2', '10.0.25.4'], array_column($got, 'address'), 'pools first, then the list');
        $this->assertSame(['pool', 'list', 'list'], array_column($got, 'source'));
        $this->assertSame([null, 24, '10.0.25.1', ['10.0.10.10', '10.0.10.20']], [$got[1]['pool_id'], $got[1]['prefix'], $got[1]['gateway'], $got[1]['dns']]);

        // A list address held in our table by a service that has since been Terminated is free again.
        $this->whmcs->pdo()->exec("UPDATE tblhosting SET domainstatus = 'Terminated' WHERE id = $service");
        $next = $this->service(1);
        $this->assertSame('10.0.25.2', $this->pools->allocate($next)[0]['address'], 'the pool address stays held; the list one is taken over');
        $this->assertSame(['192.168.130.2', '10.0.25.4'], array_column($this->pools->addresses($service), 'address'));

        $this->whmcs->pdo()->prepare('UPDATE tblservers SET assignedips = ? WHERE id = ?')->execute(["vmbr0|0|10.0.25.9|24|10.0.25.1|\nvmbr0|0|10.0.25.300|24|10.0.25.1|", $this->server]);
        $this->assertValidation('assignedips', fn () => $this->pools->allocate($this->service(2)), 'line 2');
    }

    public function testResizeKeepsAddressesAndReleaseReturnsThem(): void
    {
        $this->activate();
        $pool = $this->v4Pool();
        $productId = $this->whmcs->addProduct(['configoption14' => 'vmbr0', 'configoption16' => '2']);
        $service = $this->whmcs->addService(['packageid' => $productId, 'server' => $this->server]);
        $before = array_column($this->pools->allocate($service), 'address');
        $this->whmcs->pdo()->exec("UPDATE tblproducts SET configoption16 = '3' WHERE id = $productId");
        $grown = array_column($this->pools->resize($service), 'address');
        $this->assertSame($before, array_slice($grown, 0, 2), 'growing keeps what the service has');
        $this->assertCount(3, $grown);
        $this->whmcs->pdo()->exec("UPDATE tblproducts SET configoption16 = '1' WHERE id = $productId");
        $this->assertSame([$before[0]], array_column($this->pools->resize($service), 'address'), 'shrinking keeps the first');
        $this->assertSame([$before[0], []], $this->hosting($service));
        $this->assertSame(1, $this->pools->get($pool)['used']);

        $this->assertSame(1, $this->pools->release($service));
        $this->assertSame(0, $this->pools->release($service));
        $this->assertSame(['', []], $this->hosting($service));
        $this->assertSame(0, $this->pools->get($pool)['used']);
    }

    public function testEditsKeepAssignedAddressesAndDeleteIsRefusedWhileInUse(): void
    {
        $this->activate();
        $pool = $this->v4Pool();
        $a = $this->service(2);
        $b = $this->service(1);
        $this->pools->allocate($a);
        $this->pools->allocate($b);
        $this->pools->update($pool, ['dns1' => '9.9.9.9']);
        $this->assertSame(['8.8.8.8', '1.1.1.1'], $this->pools->addresses($a)[0]['dns'], 'editing never changes addresses already assigned');
        $this->assertValidation('address_start', fn () => $this->pools->update($pool, ['address_start' => '192.168.130.3']), '192.168.130.2');
        try {
            $this->pools->delete($pool);
            $this->fail('expected a ConflictException');
        } catch (ConflictException $e) {
            $this->assertStringContainsString('3 address(es)', $e->getMessage());
            $this->assertStringContainsString("#$a, #$b", $e->getMessage());
        }
        $this->pools->release($a);
        $this->pools->release($b);
        $this->pools->delete($pool);
        $this->assertSame([], $this->pools->list());
    }

    public function testLegacyPuqCustomizationPoolsAreImportedOnce(): void
    {
        $pdo = $this->whmcs->pdo();
        $second = $this->whmcs->addServer(['name' => 'pve-waw2']);
        $pdo->exec("CREATE TABLE puq_customization_ip_pools (id int PRIMARY KEY, type varchar(8), bridge varchar(16), vlan_tag int,
            gateway varchar(45), netmask varchar(45), dns1 varchar(45), dns2 varchar(45), first_ip varchar(45), last_ip varchar(45))");
        $pdo->exec("CREATE TABLE puq_customization_ip_pools_servers (id int AUTO_INCREMENT PRIMARY KEY, pool_id int, server_id int)");
        $pdo->exec("CREATE TABLE puq_customization_ip_pools_allocations (id int AUTO_INCREMENT PRIMARY KEY, pool_id int, ip_address varchar(45), service_id int)");
        $pdo->exec("INSERT INTO puq_customization_ip_pools VALUES
            (7, 'ipv4', 'vmbr0', 0, '172.16.0.1', '255.255.255.0', '8.8.8.8', '', '172.16.0.10', '172.16.0.99'),
            (8, 'IPv6', 'vmbr0', 0, '2001:db8:9::1', '64', '', '', '2001:db8:9::10', '2001:db8:9::ff'),
            (9, 'ipv4', 'vmbr0', 0, '172.17.0.1', '24', '', '', '172.18.0.10', '172.18.0.20')");
        $pdo->exec("INSERT INTO puq_customization_ip_pools_servers (pool_id, server_id) VALUES (7, {$this->server}), (7, $second), (8, $second), (9, $second)");
        $onFirst = $this->service(1);
        $onSecond = $this->whmcs->addService(['packageid' => $this->whmcs->addProduct(['configoption14' => 'vmbr0', 'configoption16' => '2']), 'server' => $second]);
        $gone = $this->service(1, 0, [], ['domainstatus' => 'Terminated']);
        $pdo->exec("INSERT INTO puq_customization_ip_pools_allocations (pool_id, ip_address, service_id) VALUES
            (7, '172.16.0.10', $onFirst), (7, '172.16.0.11', $onSecond), (8, '2001:db8:9::10', $onSecond), (7, '172.16.0.12', $gone)");

        $result = $this->whmcs->activateAddon();
        $this->assertSame('success', $result['status'], $result['description']);
        $this->assertStringContainsString('Imported from PUQ Customization: 3 IP pool(s), 4 server assignment(s), 3 allocation(s).', $result['description']);
        $this->assertStringContainsString('legacy pool 9 on server', $result['description'], 'the invalid pool is reported');
        $this->pools = puq_proxmox_kvm()->ipPools();
        $pools = $this->pools->list();
        $this->assertCount(3, $pools);
        $byServer = [];
        foreach ($pools as $p) {
            $byServer[$p['server_name'] . ' ' . $p['type']] = $p;
        }
        $this->assertSame(24, $byServer['pve-waw1 IPv4']['mask'], 'the dotted mask became a prefix');
        $this->assertSame(1, $byServer['pve-waw1 IPv4']['used']);
        $this->assertSame(1, $byServer['pve-waw2 IPv4']['used']);
        $this->assertSame(1, $byServer['pve-waw2 IPv6']['used']);
        $this->assertSame($byServer['pve-waw1 IPv4']['id'], $this->pools->addresses($onFirst)[0]['pool_id'], 'allocations land in their server\'s pool');
        $this->assertSame($byServer['pve-waw2 IPv4']['id'], $this->pools->addresses($onSecond)[0]['pool_id']);

        // The imported addresses are held: the next allocation on the second server skips them, and the
        // address of the Terminated service was not imported, so it is free.
        $this->assertSame(['172.16.0.11', '172.16.0.12', '2001:db8:9::10'], array_column($this->pools->allocate($onSecond), 'address'));

        $again = $this->whmcs->callAddon('activate');
        $this->assertStringNotContainsString('Imported', $again['description']);
        $this->assertCount(3, $this->pools->list());
    }
}
