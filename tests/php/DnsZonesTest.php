<?php
/**
 * DNS from PHP: Dns::zoneMatches, DnsZones (create, update, get, list, delete, test), secrets
 * that never come back, the sync glue's live events and module log, and the legacy dns.php.
 */

use PHPUnit\Framework\TestCase;
use PuqProxmoxKvm\Dns;
use PuqProxmoxKvm\Exception\NotFoundException;
use PuqProxmoxKvm\Exception\ValidationException;

final class DnsZonesTest extends TestCase
{
    private const TOKEN = 'cf-token-Zq81mX0pL2';
    private WhmcsHarness $whmcs;
    private \PuqProxmoxKvm\Module $kvm;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->activateAddon();
        $this->kvm = \PuqProxmoxKvm\Module::connect($this->whmcs->dbConfig());
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    public static function zoneCases(): array
    {
        return [
            'suffix' => ['example.com', 'vm-1.example.com', true],
            'apex' => ['example.com', 'example.com', true],
            'not label aligned' => ['foo.example.com', 'a-foo.example.com', false],
            'reverse not aligned' => ['3.2.1.in-addr.arpa', '10.13.2.1.in-addr.arpa', false],
            'reverse /24' => ['1.168.192.in-addr.arpa', '10.1.168.192.in-addr.arpa', true],
            'case and dots' => ['EXAMPLE.com.', 'Vm.Example.COM.', true],
            'ipv6 /32' => ['8.b.d.0.1.0.0.2.ip6.arpa', '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', true],
            'ipv6 other /32' => ['9.b.d.0.1.0.0.2.ip6.arpa', '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', false],
            'empty zone' => ['', 'example.com', false],
        ];
    }

    /** @dataProvider zoneCases */
    public function testZoneMatches(string $zone, string $name, bool $expected): void
    {
        $this->assertSame($expected, Dns::zoneMatches($zone, $name));
    }

    private function cloudflare(string $zone, string $url = 'http://127.0.0.1:9'): array
    {
        return $this->kvm->dnsZones()->create([
            'zone' => $zone, 'type' => 'Cloudflare', 'zone_id' => str_repeat('ab', 16),
            'api_token' => self::TOKEN, 'api_url' => $url,
        ]);
    }

    public function testSecretsNeverComeBackAndAreSealedAtRest(): void
    {
        $zones = $this->kvm->dnsZones();
        $zone = $this->cloudflare('Example.COM.');
        $this->assertSame('example.com', $zone['zone']);
        $this->assertSame('KEEP', $zone['api_token']);
        $this->assertSame('KEEP', $zones->get($zone['id'])['api_token']);
        $this->assertStringNotContainsString(self::TOKEN, json_encode($zones->list()));
        $raw = $this->whmcs->pdo()->query('SELECT * FROM puq_proxmox_kvm_dns_zones')->fetchAll(PDO::FETCH_ASSOC);
        $this->assertCount(1, $raw);
        $this->assertStringNotContainsString(self::TOKEN, json_encode($raw));
        $this->assertStringNotContainsString(substr(self::TOKEN, 3, 10), json_encode($raw));

        // Saving KEEP keeps the stored token (the sealed value changes: a fresh nonce).
        $before = $raw[0]['secrets'];
        $zones->update($zone['id'], ['api_token' => 'KEEP', 'account_id' => str_repeat('cd', 16)]);
        $this->assertSame(str_repeat('cd', 16), $zones->get($zone['id'])['account_id']);
        $this->assertNotSame($before, $this->whmcs->pdo()->query('SELECT secrets FROM puq_proxmox_kvm_dns_zones')->fetchColumn());

        $this->assertSame(1, $this->kvm->dashboard()['dns_zones']);
        $zones->delete($zone['id']);
        $this->assertSame([], $zones->list());
        $this->expectException(NotFoundException::class);
        $zones->get($zone['id']);
    }

    public static function invalid(): array
    {
        return [
            [['zone' => 'example.com', 'type' => 'bind'], 'type'],
            [['zone' => 'bad..name', 'type' => 'powerdns', 'server_url' => 'http://x', 'api_key' => 'k'], 'zone'],
            [['zone' => 'example.com', 'type' => 'powerdns', 'server_url' => 'pdns.example.com', 'api_key' => 'k'], 'server_url'],
            [['zone' => 'example.com', 'type' => 'cloudflare', 'zone_id' => 'abc', 'api_token' => 't'], 'zone_id'],
            [['zone' => 'example.com', 'type' => 'hestiacp', 'server_url' => 'https://h:8083', 'admin_user' => 'admin', 'user' => 'u'], 'admin_password'],
        ];
    }

    /** @dataProvider invalid */
    public function testInvalidZonesNameTheField(array $zone, string $field): void
    {
        try {
            $this->kvm->dnsZones()->create($zone);
            $this->fail('accepted ' . json_encode($zone));
        } catch (ValidationException $e) {
            $this->assertSame($field, $e->getField(), $e->getMessage());
        }
    }

    public function testSyncFailuresAreLiveEventsAndModuleLogEntriesWithoutSecrets(): void
    {
        require_once $this->whmcs->root . '/modules/addons/puq_proxmox_kvm/lib/dns.php';
        $this->whmcs->setConfiguration('ModuleDebugMode', 'on');
        $this->cloudflare('example.com');            // down: nothing listens on port 9
        $this->cloudflare('example.org');            // matches nothing: never contacted
        $product = $this->whmcs->addProduct(['name' => 'VPS', 'configoption21' => 'example.com']);
        $service = $this->whmcs->addService(['packageid' => $product, 'dedicatedip' => '192.0.2.5', 'assignedips' => "2001:db8::5\n"]);
        $this->whmcs->pdo()->exec("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name) VALUES ($service, 'vm$service')");

        $lines = [];
        $report = puq_proxmox_kvm_dns_sync($this->kvm, $service, 'create', function (string $line) use (&$lines) { $lines[] = $line; });
        $this->assertSame(0, $report['ok']);
        $this->assertSame(2, $report['errors']);
        $this->assertCount(1, $report['zones']);
        $this->assertStringStartsWith("fwd ERR create vm$service.example.com A 192.0.2.5 (zone example.com, Cloudflare): ", $lines[0]);
        $this->assertStringStartsWith("fwd ERR create vm$service.example.com AAAA 2001:db8::5", $lines[1]);
        $this->assertSame($report['summary'], end($lines));
        $this->assertStringContainsString('unreachable', $lines[0]);

        $log = $this->whmcs->moduleLog();
        $this->assertCount(3, $log);
        $this->assertSame('DNS create', $log[0]['action']);
        $this->assertStringContainsString("vm$service.example.com A 192.0.2.5", $log[0]['request']);
        $this->assertStringContainsString('Cloudflare is unreachable', $log[0]['response']);
        $this->assertSame('DNS create summary', $log[2]['action']);
        $this->assertStringContainsString('0 records ok, 2 errors', $log[2]['response']);
        $this->assertStringNotContainsString(self::TOKEN, json_encode($log));

        // A service without a VM row: reported, never thrown.
        $report = puq_proxmox_kvm_dns_sync($this->kvm, 999999, 'replace');
        $this->assertSame(1, $report['errors']);
        $this->assertStringContainsString('does not exist', $report['summary']);
        $this->expectException(ValidationException::class);
        $this->kvm->dnsZones()->syncService($service, 'upsert');
    }

    public function testAThrowingListenerIsCalledOnceAndItsExceptionSurfacesAfterTheSync(): void
    {
        $this->cloudflare('example.com');
        $product = $this->whmcs->addProduct(['name' => 'VPS', 'configoption21' => 'example.com']);
        $service = $this->whmcs->addService(['packageid' => $product, 'dedicatedip' => '192.0.2.5', 'assignedips' => "192.0.2.6\n2001:db8::5"]);
        $this->whmcs->pdo()->exec("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name) VALUES ($service, 'vm$service')");
        $calls = 0;
        try {
            $this->kvm->dnsZones()->syncService($service, 'create', function () use (&$calls) {
                $calls++;
                throw new \RuntimeException('listener failed');
            });
            $this->fail('the exception surfaces');
        } catch (\RuntimeException $e) {
            $this->assertSame('listener failed', $e->getMessage());
        }
        $this->assertSame(1, $calls);
        // The sync ran to its end: the managed map was written.
        $this->assertNotNull($this->whmcs->pdo()->query("SELECT vm_dns_managed FROM puqProxmoxKVM_vm_info WHERE service_id = $service")->fetchColumn());
    }

    private function endpoint(string $remote): array
    {
        $cmd = array_merge([PHP_BINARY], WhmcsHarness::extensionFlags(), [__DIR__ . '/fixtures/dns_endpoint.php', $this->whmcs->root, $remote]);
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $body = stream_get_contents($pipes[1]);
        $status = stream_get_contents($pipes[2]);
        proc_close($proc);
        return [(int) trim(substr($status, -3)), json_decode($body, true), $body . $status];
    }

    public function testLegacyEndpointAnswersOnlyTheAllowList(): void
    {
        $product = $this->whmcs->addProduct(['name' => 'VPS', 'configoption21' => 'vps.example.com']);
        $service = $this->whmcs->addService(['packageid' => $product, 'dedicatedip' => '192.0.2.7', 'assignedips' => "192.0.2.8\n2001:db8::7"]);
        $gone = $this->whmcs->addService(['packageid' => $product, 'dedicatedip' => '192.0.2.9', 'domainstatus' => 'Terminated']);
        $pdo = $this->whmcs->pdo();
        $pdo->exec("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name, vm_rev_dns) VALUES ($service, 'web1', '{\"192.0.2.8\":\"mail.example.org\"}'), ($gone, 'old', NULL)");

        [$status, $body, $raw] = $this->endpoint('192.0.2.200');
        $this->assertSame(403, $status, $raw);
        $this->assertStringContainsString('DNS endpoint allow-list', $body['error']);

        $this->kvm->saveSettings(['dns_endpoint_allow' => '10.0.0.1, 192.0.2.0/24']);
        [$status, $body, $raw] = $this->endpoint('192.0.2.200');
        $this->assertSame(200, $status, $raw);
        $this->assertSame([
            ['forward' => 'web1.vps.example.com', 'ip' => '192.0.2.7', 'reverse' => 'web1.vps.example.com'],
            ['forward' => 'web1.vps.example.com', 'ip' => '192.0.2.8', 'reverse' => 'mail.example.org'],
            ['forward' => 'web1.vps.example.com', 'ip' => '2001:db8::7', 'reverse' => 'web1.vps.example.com'],
        ], $body);
        [$status] = $this->endpoint('10.0.0.2');
        $this->assertSame(403, $status);
    }
}
