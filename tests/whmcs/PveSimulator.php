<?php
/**
 * The Proxmox VE simulator (tests/sim-pve) as a background process for PHP tests and the
 * demo: HTTPS on a free loopback port with a self-signed certificate whose fingerprint goes
 * into the server entry's Access Hash, as an admin would pin a real cluster's.
 */
final class PveSimulator
{
    public const TOKEN_ID = 'root@pam!whmcs';
    public const TOKEN_SECRET = '6f1c1bde-52d4-4d3c-9a4e-0d5b1f6c2a11';

    /** @var resource */
    private $process;
    private array $pipes = [];
    public readonly string $base;
    public readonly string $host;
    public readonly int $port;
    public readonly string $fingerprint;

    /** @param string[] $args extra simulator flags (e.g. --task-ms 200) */
    public function __construct(array $args = [])
    {
        $binary = getenv('PUQ_SIM_PVE') ?: dirname(__DIR__, 2) . '/target/debug/puq-sim-pve';
        if (!is_executable($binary)) {
            throw new RuntimeException("the simulator is not built: run 'cargo build -p puq-sim-pve' (or set PUQ_SIM_PVE)");
        }
        $this->process = proc_open(array_merge([$binary, '--listen', '127.0.0.1:0', '--tls'], $args), [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $this->pipes);
        $url = $fingerprint = null;
        while (($line = fgets($this->pipes[1])) !== false && ($url === null || $fingerprint === null)) {
            if (preg_match('#on (https://[0-9.:]+)/api2/json#', $line, $m)) {
                $url = $m[1];
            } elseif (preg_match('#fingerprint \(SHA-256\): ([0-9A-F:]+)#', $line, $m)) {
                $fingerprint = $m[1];
            }
        }
        if ($url === null || $fingerprint === null) {
            proc_terminate($this->process);
            throw new RuntimeException('the simulator did not start: ' . stream_get_contents($this->pipes[2]));
        }
        $this->base = $url;
        $this->fingerprint = $fingerprint;
        [$this->host, $port] = explode(':', substr($url, strlen('https://')));
        $this->port = (int) $port;
    }

    /** The fields of a WHMCS server entry pointing at the simulator. */
    public function serverFields(): array
    {
        return [
            'hostname' => $this->host, 'ipaddress' => $this->host, 'port' => $this->port,
            'username' => self::TOKEN_ID, 'password' => self::TOKEN_SECRET,
            'accesshash' => "fingerprint={$this->fingerprint}",
        ];
    }

    /** Every request the simulator received (method, path, params, ...). */
    public function requests(): array
    {
        return $this->get('requests');
    }

    /** Requests the schema check refused. */
    public function violations(): array
    {
        return $this->get('violations');
    }

    /**
     * The cluster's VMs as the API shows them, each with its configuration (`vmid`, `node`,
     * `config`): what a test asserts the pipeline left behind.
     */
    public function vms(): array
    {
        $vms = [];
        foreach ($this->api('/cluster/resources?type=vm') as $vm) {
            $vm['config'] = $this->api("/nodes/{$vm['node']}/qemu/{$vm['vmid']}/config");
            $vms[] = $vm;
        }
        return $vms;
    }

    /** A GET on the Proxmox API with the simulator's token; the `data` of the answer. */
    public function api(string $path): array
    {
        $context = stream_context_create([
            'http' => ['header' => 'Authorization: PVEAPIToken=' . self::TOKEN_ID . '=' . self::TOKEN_SECRET],
            'ssl' => ['verify_peer' => false, 'verify_peer_name' => false],
        ]);
        $body = file_get_contents("$this->base/api2/json$path", false, $context);
        if ($body === false) {
            throw new RuntimeException("the simulator refused GET $path");
        }
        return json_decode($body, true)['data'] ?? [];
    }

    /** POST to the control API (`fault`, `task-fault`, `latency`, ...). */
    public function control(string $what, array $body): void
    {
        $context = stream_context_create([
            'http' => ['method' => 'POST', 'header' => 'Content-Type: application/json', 'content' => json_encode($body)],
            'ssl' => ['verify_peer' => false, 'verify_peer_name' => false],
        ]);
        if (file_get_contents("$this->base/_sim/$what", false, $context) === false) {
            throw new RuntimeException("the simulator refused $what");
        }
    }

    private function get(string $what): array
    {
        $context = stream_context_create(['ssl' => ['verify_peer' => false, 'verify_peer_name' => false]]);
        return json_decode((string) file_get_contents("$this->base/_sim/$what", false, $context), true)['data'] ?? [];
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
        }
    }

    public function __destruct()
    {
        $this->stop();
    }
}
