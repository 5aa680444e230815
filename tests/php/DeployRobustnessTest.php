<?php
/**
 * The deploy pipeline under the failures a provider meets in production, through the real
 * cron.php as separate PHP processes against the Proxmox simulator, MariaDB and PowerDNS:
 *
 * - crash safety: the cron process killed (SIGKILL) at random moments, 50 times, over a batch
 *   of deploys; afterwards every VM is ready, once, with its addresses and DNS records;
 * - two cron processes at once over 100 VMs: the VM leases keep every step to one runner;
 * - faults: Proxmox errors and timeouts on 10 % of requests, a failing clone task and the DNS
 *   provider down: the VMs converge, errors and retry times are visible meanwhile, DNS never
 *   stops a deploy.
 */

require_once __DIR__ . '/../whmcs/PowerDns.php';

use PHPUnit\Framework\TestCase;

final class DeployRobustnessTest extends TestCase
{
    private WhmcsHarness $whmcs;
    private ?PveSimulator $sim = null;
    private ?PowerDns $dns = null;
    private int $server;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
        $this->whmcs->activateAddon();
        require_once $this->whmcs->root . '/modules/addons/puq_proxmox_kvm/lib/cron.php';
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
        $this->sim?->stop();
        $this->dns?->stop();
    }

    /**
     * A simulator, a server entry, a product with one IPv4 address named vps-{service_id} in
     * example.net, its pool and (when $dns) the forward and reverse zones at PowerDNS, settings
     * that keep leases short; then $count services through CreateAccount.
     *
     * @return int[] service ids
     */
    private function deploys(int $count, array $simArgs, bool $dns, array $settings = []): array
    {
        $this->sim = new PveSimulator($simArgs);
        $this->server = $this->whmcs->addServer(['name' => 'pve-sim'] + $this->sim->serverFields());
        $product = $this->whmcs->addProduct([
            'name' => 'VPS Start', 'configoption2' => '9000', 'configoption4' => '1', 'configoption5' => '1',
            'configoption8' => '16', 'configoption16' => '1', 'configoption17' => '0', 'configoption19' => '',
            'configoption20' => '', 'configoption21' => '.example.net', 'configoption7' => 'vps-{service_id}',
        ]);
        $kvm = puq_proxmox_kvm();
        $kvm->ipPools()->create([
            'server_id' => $this->server, 'type' => 'IPv4', 'bridge' => 'vmbr0', 'vlan' => 0, 'gateway' => '198.51.100.1',
            'mask' => 24, 'dns1' => '198.51.100.53', 'dns2' => '', 'address_start' => '198.51.100.10', 'address_stop' => '198.51.100.250',
        ]);
        if ($dns) {
            $this->dns = new PowerDns(['example.net', '100.51.198.in-addr.arpa']);
            foreach (['example.net', '100.51.198.in-addr.arpa'] as $zone) {
                $kvm->dnsZones()->create(['zone' => $zone, 'type' => 'PowerDNS', 'server_url' => $this->dns->url, 'api_key' => PowerDns::API_KEY]);
            }
        }
        // The shortest lease the settings allow: time budget 10 s + 2 x heavy timeout 2 s = 14 s.
        $kvm->saveSettings($settings + ['cron_time_budget' => 10, 'heavy_timeout' => 2, 'cron_node_concurrency' => 8]);
        $this->whmcs->addEmailTemplate('puqProxmoxKVM VM is ready');
        $services = [];
        for ($i = 0; $i < $count; $i++) {
            $service = $this->whmcs->addService(['server' => $this->server, 'packageid' => $product, 'password' => 'S3cret-pass']);
            $this->assertSame('success', $this->whmcs->callServerModule('CreateAccount', $service));
            $services[] = $service;
        }
        return $services;
    }

    /** Starts `php cron.php --task=processVirtualMachines` as its own process; output to $log. */
    private function startCron(string $log, array $flags = []): array
    {
        $extension = getenv('PUQ_EXTENSION') ?: dirname(__DIR__, 2) . '/target/release/libpuq_proxmox_kvm.so';
        $command = array_merge(
            [PHP_BINARY, '-d', "extension=$extension", $this->whmcs->root . '/modules/addons/puq_proxmox_kvm/cron.php', '--task=processVirtualMachines'],
            $flags
        );
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes);
        $this->assertIsResource($process);
        return [$process, $log];
    }

    /** Waits for a cron process; its exit code. */
    private function finish(array $cron): int
    {
        [$process] = $cron;
        while (($status = proc_get_status($process))['running']) {
            usleep(20000);
        }
        proc_close($process);
        return $status['exitcode'];
    }

    /** service id => vm_status. */
    private function statuses(): array
    {
        return $this->whmcs->pdo()->query('SELECT service_id, vm_status FROM puqProxmoxKVM_vm_info')->fetchAll(PDO::FETCH_KEY_PAIR);
    }

    private function allReady(): bool
    {
        return array_unique(array_values($this->statuses())) === ['ready'];
    }

    /**
     * Every service has exactly one VM on the cluster, stamped with its id, at the vm_id its
     * row records; nothing else was created.
     */
    private function assertOneVmPerService(array $services): void
    {
        $stamped = [];
        $vms = $this->sim->vms();
        foreach ($vms as $vm) {
            if (preg_match('/puq-proxmox-kvm: service=(\d+) /', (string) ($vm['config']['description'] ?? ''), $m)) {
                $stamped[(int) $m[1]][] = (int) $vm['vmid'];
            }
        }
        $rows = $this->whmcs->pdo()->query('SELECT service_id, vm_id FROM puqProxmoxKVM_vm_info')->fetchAll(PDO::FETCH_KEY_PAIR);
        foreach ($services as $service) {
            $this->assertSame([(int) $rows[$service]], $stamped[$service] ?? [], "service $service has exactly its own VM");
        }
        $this->assertCount(count($services) + 1, $vms, 'the services\' VMs and the template, no orphan clones');
        $this->assertSame([], $this->sim->violations());
    }

    /** One address per service, in tblhosting and the allocation table alike, none twice. */
    private function assertAddressesOnce(array $services): void
    {
        $pdo = $this->whmcs->pdo();
        $hosting = $pdo->query('SELECT id, dedicatedip FROM tblhosting WHERE id IN (' . implode(',', $services) . ')')->fetchAll(PDO::FETCH_KEY_PAIR);
        $allocated = $pdo->query('SELECT service_id, ip FROM puq_proxmox_kvm_ip_allocations')->fetchAll(PDO::FETCH_ASSOC);
        $this->assertCount(count($services), $allocated, 'one allocation per service, nothing leaked');
        $this->assertCount(count($services), array_unique(array_column($allocated, 'ip')), 'no address held twice');
        foreach ($allocated as $row) {
            $this->assertSame($row['ip'], $hosting[$row['service_id']] ?? null, "service {$row['service_id']}'s address is its dedicated IP");
        }
    }

    /** PowerDNS holds exactly the A and PTR records of each service's VM. */
    private function assertDnsMatches(array $services): void
    {
        $records = [];
        foreach (['example.net.', '100.51.198.in-addr.arpa.'] as $zone) {
            [$status, $body] = $this->dns->api('GET', "/servers/localhost/zones/$zone");
            $this->assertSame(200, $status, $body);
            foreach (json_decode($body, true)['rrsets'] as $rrset) {
                if (in_array($rrset['type'], ['A', 'PTR'], true)) {
                    $records[$rrset['type'] . ' ' . $rrset['name']] = array_column($rrset['records'], 'content');
                }
            }
        }
        $expected = [];
        $ips = $this->whmcs->pdo()->query('SELECT id, dedicatedip FROM tblhosting')->fetchAll(PDO::FETCH_KEY_PAIR);
        foreach ($services as $service) {
            $ip = $ips[$service];
            $expected["A vps-$service.example.net."] = [$ip];
            $expected['PTR ' . implode('.', array_reverse(explode('.', $ip))) . '.in-addr.arpa.'] = ["vps-$service.example.net."];
        }
        ksort($expected);
        ksort($records);
        $dnsLog = array_filter($this->whmcs->moduleLog(), fn ($row) => $row['action'] === 'dns');
        $this->assertSame($expected, $records, json_encode(array_values($dnsLog), JSON_PRETTY_PRINT));
    }

    public function testDeploysSurviveFiftyKilledCronRuns(): void
    {
        // Tasks of 4 s and 100 ms per request: a kill lands inside a step, between a Proxmox
        // call and its checkpoint, or while a clone runs.
        $services = $this->deploys(10, ['--task-ms', '4000'], true);
        $this->sim->control('latency', ['ms' => 100]);
        $log = tempnam(sys_get_temp_dir(), 'puq-cron-');
        $pdo = $this->whmcs->pdo();
        mt_srand(20261130);
        $clonesAtKill = [];
        $interrupted = 0;
        for ($kill = 1; $kill <= 50; $kill++) {
            [$process] = $this->startCron($log);
            usleep(mt_rand(30000, 900000));
            proc_terminate($process, 9);
            proc_close($process);
            $clonesAtKill[] = (int) $pdo->query("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_status = 'set_ip' AND vm_id IS NOT NULL")->fetchColumn();
            $interrupted += $this->allReady() ? 0 : 1;
            // What a killed run leaves is taken over once it expires: the task lock after the
            // lock timeout (60 s at least), the VM leases after 14 s. Let that time pass for
            // all but the last kill, whose leases expire on their own below.
            $pdo->exec('UPDATE puq_proxmox_kvm_locks SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND');
            if ($kill < 50) {
                $pdo->exec('UPDATE puqProxmoxKVM_vm_info SET vm_lease_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE vm_lease_until IS NOT NULL');
            }
        }
        $this->assertNotSame([], array_filter($clonesAtKill), 'some kills landed while a clone was in flight');
        $this->assertGreaterThanOrEqual(25, $interrupted, 'the kills interrupted deploys in progress');

        $deadline = microtime(true) + 40;
        while (!$this->allReady() && microtime(true) < $deadline) {
            $this->assertContains($this->finish($this->startCron($log)), [0, 1]);
            usleep(500000);
        }
        // A process killed after it claimed emails holds them until its claim runs out (2 min):
        // let the claims run out, as the next minute's cron run would find them.
        $pdo->exec('UPDATE puq_proxmox_kvm_email_outbox SET claim_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE sent_at IS NULL');
        $this->assertSame(0, $this->finish($this->startCron($log)));
        $output = (string) file_get_contents($log);
        unlink($log);
        $errors = $pdo->query("SELECT service_id, vm_status, vm_last_error FROM puqProxmoxKVM_vm_info WHERE vm_status <> 'ready'")->fetchAll(PDO::FETCH_ASSOC);
        $this->assertSame([], $errors, substr($output, -4000));
        $this->assertOneVmPerService($services);
        $this->assertAddressesOnce($services);
        $this->assertDnsMatches($services);
        $starts = array_filter($this->sim->requests(), fn ($r) => $r['method'] === 'POST' && str_ends_with($r['path'], '/status/start') && $r['status'] === 200);
        $this->assertCount(10, $starts, 'each VM started once');
        // Every service got its "VM is ready" email: queued once however often its step ran,
        // and sent, though cron died between steps and sends.
        $this->assertSame(
            ['queued' => 10, 'services' => 10, 'pending' => 0],
            array_map('intval', $pdo->query("SELECT COUNT(*) AS queued, COUNT(DISTINCT service_id) AS services, SUM(sent_at IS NULL) AS pending FROM puq_proxmox_kvm_email_outbox WHERE template = 'puqProxmoxKVM VM is ready'")->fetch(PDO::FETCH_ASSOC))
        );
        $emails = array_filter($this->whmcs->localApiCalls(), fn ($c) => $c['command'] === 'SendEmail');
        $emailed = array_unique(array_map(fn ($c) => (int) $c['values']['id'], $emails));
        sort($emailed);
        $this->assertSame($services, $emailed, 'every service got its "VM is ready" email');
    }

    public function testTwoCronProcessesNeverRunAStepTwice(): void
    {
        $services = $this->deploys(100, ['--task-ms', '100'], false, ['cron_node_concurrency' => 16]);
        $outputs = [tempnam(sys_get_temp_dir(), 'puq-cron-a-'), tempnam(sys_get_temp_dir(), 'puq-cron-b-')];
        $deadline = microtime(true) + 90;
        while (!$this->allReady() && microtime(true) < $deadline) {
            // --no-lock: both runs work on the VMs at once; only the VM leases keep them apart.
            $a = $this->startCron($outputs[0], ['--no-lock']);
            $b = $this->startCron($outputs[1], ['--no-lock']);
            $this->assertContains($this->finish($a), [0, 1]);
            $this->assertContains($this->finish($b), [0, 1]);
        }
        $texts = array_map(fn ($f) => (string) file_get_contents($f), $outputs);
        array_map('unlink', $outputs);
        $stuck = $this->whmcs->pdo()->query("SELECT service_id, vm_status, vm_attempts, vm_last_error, vm_next_attempt_at, vm_lease_until FROM puqProxmoxKVM_vm_info WHERE vm_status <> 'ready'")->fetchAll(PDO::FETCH_ASSOC);
        $this->assertSame([], $stuck);
        foreach ($texts as $i => $text) {
            $this->assertMatchesRegularExpression('/\(set_ip -> clone\): (success|waiting)/', $text, "process $i worked on VMs too");
        }

        $requests = $this->sim->requests();
        $clones = $starts = [];
        foreach ($requests as $r) {
            if ($r['method'] === 'POST' && $r['status'] === 200 && str_ends_with($r['path'], '/clone')) {
                $clones[] = (int) $r['params']['newid'];
            }
            if ($r['method'] === 'POST' && $r['status'] === 200 && str_ends_with($r['path'], '/status/start')) {
                $starts[] = (int) explode('/', $r['path'])[4];
            }
        }
        $vmids = array_map('intval', $this->whmcs->pdo()->query('SELECT vm_id FROM puqProxmoxKVM_vm_info')->fetchAll(PDO::FETCH_COLUMN));
        sort($vmids);
        sort($clones);
        sort($starts);
        $this->assertSame($vmids, $clones, 'one clone per VM');
        $this->assertSame($vmids, $starts, 'one start per VM');
        $this->assertOneVmPerService($services);
        $this->assertAddressesOnce($services);
        $runs = $this->whmcs->pdo()->query("SELECT COUNT(*), COUNT(DISTINCT service_id) FROM puq_proxmox_kvm_vm_runs WHERE result = 'success'")->fetch(PDO::FETCH_NUM);
        $this->assertSame([100, 100], array_map('intval', $runs), 'one finished deploy run per VM');
    }

    public function testFaultsAreRetriedAndDnsNeverStopsADeploy(): void
    {
        $services = $this->deploys(10, [], true);
        // The DNS provider goes down after its zones were set up.
        $this->dns->stop();
        $this->sim->control('task-fault', ['type' => 'qmclone', 'exitstatus' => 'clone failed: storage error']);
        $pdo = $this->whmcs->pdo();
        $seenWaiting = [];
        $deadline = microtime(true) + 50;
        $output = '';
        for ($run = 1; !$this->allReady() && microtime(true) < $deadline; $run++) {
            if ($run === 3) {
                // The failing clone has been seen by now. From here 5 % errors and 5 % hangs
                // past the 2 s client timeout (the request still runs, as a real Proxmox goes
                // on with work whose answer was lost).
                $this->sim->control('random-faults', ['error_rate' => 0.05, 'status' => 500, 'hang_rate' => 0.05, 'hang_ms' => 2500, 'seed' => 6]);
            }
            ob_start();
            puq_proxmox_kvm_cron_cli(['task' => 'processVirtualMachines']);
            $output .= ob_get_clean();
            // A failed step stays in its state with the error and the retry time in its row.
            $failed = $pdo->query("SELECT service_id, vm_status, vm_last_error, vm_attempts, vm_next_attempt_at > UTC_TIMESTAMP() AS later
                FROM puqProxmoxKVM_vm_info WHERE vm_last_error <> '' AND vm_next_attempt_at IS NOT NULL")->fetchAll(PDO::FETCH_ASSOC);
            foreach ($failed as $row) {
                $this->assertSame(1, (int) $row['later'], 'the retry is scheduled in the future');
                $this->assertGreaterThanOrEqual(1, (int) $row['vm_attempts']);
                $this->assertNotSame('ready', $row['vm_status']);
                $seenWaiting[$row['service_id']] = $row['vm_last_error'];
            }
            // The backoff (a minute and more) elapses at once here.
            $pdo->exec('UPDATE puqProxmoxKVM_vm_info SET vm_next_attempt_at = NULL');
        }
        $this->sim->control('random-faults', ['error_rate' => 0, 'hang_rate' => 0]);
        $refused = array_filter($this->sim->requests(), fn ($r) => $r['status'] === 500);
        $this->assertGreaterThanOrEqual(5, count($refused), 'the simulator failed requests on the way');
        $this->assertTrue($this->allReady(), substr($output, -4000));
        $this->assertNotSame([], $seenWaiting, 'some steps failed and waited for their retry');
        $this->assertStringContainsString('clone failed: storage error', implode("\n", $seenWaiting) . $output);
        $this->assertOneVmPerService($services);
        $this->assertAddressesOnce($services);

        // DNS failed for every VM, each VM is ready anyway, and the failure is in the module log.
        $dnsErrors = array_filter($this->whmcs->moduleLog(), fn ($row) => $row['action'] === 'dns' || str_contains((string) $row['response'], 'DNS skipped'));
        $logged = array_unique(array_map(fn ($row) => $row['request'], $dnsErrors));
        $this->assertGreaterThanOrEqual(10, count($logged), 'a DNS error per service in the module log: ' . json_encode(array_values($logged)));
        $runs = $pdo->query("SELECT COUNT(*), COUNT(DISTINCT service_id) FROM puq_proxmox_kvm_vm_runs WHERE result = 'success'")->fetch(PDO::FETCH_NUM);
        $this->assertSame([10, 10], array_map('intval', $runs), 'every deploy run finished once');
    }
}
