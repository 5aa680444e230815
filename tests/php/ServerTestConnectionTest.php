<?php
/**
 * puqProxmoxKVM_TestConnection through the WHMCS harness against the Proxmox VE simulator
 * (tests/sim-pve) over HTTPS with a self-signed certificate pinned in the Access Hash.
 */

use PHPUnit\Framework\TestCase;

final class ServerTestConnectionTest extends TestCase
{
    private const TOKEN_ID = 'root@pam!whmcs';
    private const TOKEN_SECRET = '6f1c1bde-52d4-4d3c-9a4e-0d5b1f6c2a11';

    private WhmcsHarness $whmcs;
    /** @var resource */
    private $sim;
    private array $pipes = [];
    private string $base;
    private string $fingerprint;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $binary = getenv('PUQ_SIM_PVE') ?: dirname(__DIR__, 2) . '/target/debug/puq-sim-pve';
        if (!is_executable($binary)) {
            $this->fail("the simulator is not built: run 'cargo build -p puq-sim-pve' (or set PUQ_SIM_PVE)");
        }
        $this->sim = proc_open(
            [$binary, '--listen', '127.0.0.1:0', '--tls'],
            [1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $this->pipes
        );
        $url = $fingerprint = null;
        while (($line = fgets($this->pipes[1])) !== false && ($url === null || $fingerprint === null)) {
            if (preg_match('#on (https://[0-9.:]+)/api2/json#', $line, $m)) {
                $url = $m[1];
            } elseif (preg_match('#fingerprint \(SHA-256\): ([0-9A-F:]+)#', $line, $m)) {
                $fingerprint = $m[1];
            }
        }
        // Its stderr is read only on failure: reading it while it runs would block.
        if ($url === null || $fingerprint === null) {
            proc_terminate($this->sim);
            $this->fail('the simulator did not start: ' . stream_get_contents($this->pipes[2]));
        }
        $this->base = $url;
        $this->fingerprint = $fingerprint;
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->setConfiguration('ModuleDebugMode', 'on');
        $this->whmcs->activateAddon();
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
        if (is_resource($this->sim ?? null)) {
            proc_terminate($this->sim);
            proc_close($this->sim);
        }
    }

    /** A service on a server entry pointing at the simulator, with $server overriding fields. */
    private function service(array $server = []): int
    {
        [$host, $port] = explode(':', substr($this->base, strlen('https://')));
        $serverId = $this->whmcs->addServer($server + [
            'hostname' => $host, 'ipaddress' => $host, 'port' => (int) $port,
            'username' => self::TOKEN_ID, 'password' => self::TOKEN_SECRET,
            'accesshash' => "fingerprint={$this->fingerprint}",
        ]);
        return $this->whmcs->addService(['server' => $serverId, 'packageid' => $this->whmcs->addProduct()]);
    }

    /** POST to the simulator's control API (loopback, its own self-signed certificate). */
    private function control(string $what, array $body): void
    {
        $context = stream_context_create([
            'http' => ['method' => 'POST', 'header' => 'Content-Type: application/json', 'content' => json_encode($body)],
            'ssl' => ['verify_peer' => false, 'verify_peer_name' => false],
        ]);
        $this->assertNotFalse(file_get_contents("$this->base/_sim/$what", false, $context));
    }

    private function simRequests(): array
    {
        $context = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
        return json_decode(file_get_contents("$this->base/_sim/requests", false, $context), true)['data'];
    }

    public function testAGoodTokenAndAPinnedCertificatePass(): void
    {
        $result = $this->whmcs->callServerModule('TestConnection', $this->service());
        $this->assertSame(['success' => true, 'error' => ''], $result);

        $paths = array_column($this->simRequests(), 'path');
        $this->assertSame(['/version', '/access/permissions'], $paths);
        $log = $this->whmcs->moduleLog();
        $this->assertSame('TestConnection', end($log)['action']);
        foreach ($log as $row) {
            $this->assertStringNotContainsString(self::TOKEN_SECRET, $row['request'] . $row['response'], 'the secret is masked');
        }
    }

    public function testTicketLoginWorksForAUserAndPassword(): void
    {
        $result = $this->whmcs->callServerModule('TestConnection', $this->service(['username' => 'root@pam', 'password' => 'proxmox-password']));
        $this->assertSame(['success' => true, 'error' => ''], $result);
        $this->assertSame('/access/ticket', $this->simRequests()[0]['path']);
    }

    public function testBadCredentialsAreNamed(): void
    {
        $token = $this->whmcs->callServerModule('TestConnection', $this->service(['password' => 'not-the-secret']));
        $this->assertFalse($token['success']);
        $this->assertStringContainsString("the API token 'root@pam!whmcs' or its secret was refused", $token['error']);

        $user = $this->whmcs->callServerModule('TestConnection', $this->service(['username' => 'root@pam', 'password' => 'wrong']));
        $this->assertFalse($user['success']);
        $this->assertStringContainsString("the user 'root@pam' or its password was refused", $user['error']);

        $malformed = $this->whmcs->callServerModule('TestConnection', $this->service(['username' => 'root']));
        $this->assertFalse($malformed['success']);
        $this->assertStringStartsWith('serverusername: must be user@realm', $malformed['error']);
    }

    public function testACertificateThatIsNotThePinnedOneIsRefused(): void
    {
        $other = preg_replace('/^[0-9A-F]{2}/', substr($this->fingerprint, 0, 2) === '00' ? '11' : '00', $this->fingerprint);
        foreach (["fingerprint=$other", ''] as $hash) {
            $result = $this->whmcs->callServerModule('TestConnection', $this->service(['accesshash' => $hash]));
            $this->assertFalse($result['success']);
            $this->assertStringContainsString("TLS certificate was refused", $result['error']);
            $this->assertStringContainsString('fingerprint=AB:CD:...', $result['error'], 'the message says how to fix it');
        }
        $this->assertSame([], $this->simRequests(), 'nothing was sent over an untrusted connection');

        $bad = $this->whmcs->callServerModule('TestConnection', $this->service(['accesshash' => 'fingerprint=12:34']));
        $this->assertFalse($bad['success']);
        $this->assertStringStartsWith('serveraccesshash: must be the certificate', $bad['error']);
    }

    public function testMissingPrivilegesAreListedByPath(): void
    {
        $this->control('privileges', [
            '/' => ['Sys.Audit', 'Datastore.Audit', 'Datastore.AllocateSpace', 'SDN.Use'],
            '/vms' => ['VM.Audit', 'VM.Allocate', 'VM.Clone', 'VM.Config.CPU', 'VM.Config.Memory', 'VM.Config.Disk',
                       'VM.Config.Network', 'VM.Config.Cloudinit', 'VM.Config.Options', 'VM.Config.HWType',
                       'VM.PowerMgmt', 'VM.Snapshot', 'VM.Snapshot.Rollback'],
        ]);
        $result = $this->whmcs->callServerModule('TestConnection', $this->service());
        $this->assertFalse($result['success']);
        $this->assertStringContainsString("connected to Proxmox VE 9.1.3, but 'root@pam!whmcs' lacks VM.Migrate, VM.Backup on /vms - grant them", $result['error']);
    }
}
