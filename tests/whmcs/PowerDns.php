<?php
/**
 * A private PowerDNS Authoritative (Debian's pdns_server, SQLite backend) on free loopback
 * ports in a temporary directory, for PHP tests and the demo. The system's PowerDNS, if any,
 * is neither needed nor touched.
 */
final class PowerDns
{
    public const API_KEY = 'puq-demo-key';

    /** @var resource */
    private $process;
    private string $dir;
    public readonly string $url;
    public readonly int $dnsPort;

    /** @param string[] $zones zones to create (`example.net`, `100.51.198.in-addr.arpa`) */
    public function __construct(array $zones)
    {
        $this->dir = sys_get_temp_dir() . '/puq-pdns-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($this->dir, 0700, true);
        $schema = array_values(array_filter([
            '/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql',
            '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql',
        ], 'is_file'))[0] ?? throw new RuntimeException('install pdns-backend-sqlite3');
        exec('sqlite3 ' . escapeshellarg("$this->dir/pdns.db") . ' ' . escapeshellarg(".read $schema"), $out, $code);
        if ($code !== 0) {
            throw new RuntimeException('sqlite3 could not create the PowerDNS database (install sqlite3)');
        }
        $apiPort = self::freePort();
        $this->dnsPort = self::freePort();
        file_put_contents("$this->dir/pdns.conf", implode("\n", [
            'launch=gsqlite3', "gsqlite3-database=$this->dir/pdns.db", 'api=yes', 'api-key=' . self::API_KEY,
            'webserver=yes', 'webserver-address=127.0.0.1', "webserver-port=$apiPort", 'webserver-allow-from=127.0.0.0/8',
            'local-address=127.0.0.1', "local-port=$this->dnsPort", "socket-dir=$this->dir", '',
        ]));
        $this->process = proc_open(
            ['pdns_server', "--config-dir=$this->dir", '--daemon=no', '--guardian=no', '--disable-syslog', '--write-pid=no'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', "$this->dir/pdns.log", 'w']],
            $pipes
        );
        $this->url = "http://127.0.0.1:$apiPort";
        $deadline = microtime(true) + 15;
        while ($this->api('GET', '/servers/localhost')[0] !== 200) {
            if (microtime(true) > $deadline) {
                throw new RuntimeException('pdns_server did not start: ' . @file_get_contents("$this->dir/pdns.log"));
            }
            usleep(100000);
        }
        foreach ($zones as $zone) {
            [$status, $body] = $this->api('POST', '/servers/localhost/zones', ['name' => "$zone.", 'kind' => 'Native', 'nameservers' => ['ns1.example.net.']]);
            if ($status !== 201) {
                throw new RuntimeException("PowerDNS refused zone $zone: $body");
            }
        }
    }

    /** [status, body] of an API call. */
    public function api(string $method, string $path, ?array $body = null): array
    {
        $curl = curl_init($this->url . '/api/v1' . $path);
        curl_setopt_array($curl, [
            CURLOPT_CUSTOMREQUEST => $method, CURLOPT_RETURNTRANSFER => true, CURLOPT_TIMEOUT => 5,
            CURLOPT_HTTPHEADER => ['X-API-Key: ' . self::API_KEY, 'Content-Type: application/json'],
            CURLOPT_POSTFIELDS => $body === null ? null : json_encode($body),
        ]);
        $response = curl_exec($curl);
        return [(int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE), (string) $response];
    }

    /** The answer PowerDNS gives over DNS (`dig +short`). */
    public function dig(string $name, string $type): string
    {
        return trim((string) shell_exec(sprintf('dig +short +time=2 +tries=1 @127.0.0.1 -p %d %s %s', $this->dnsPort, escapeshellarg($name), escapeshellarg($type))));
    }

    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process);
            proc_close($this->process);
            exec('rm -rf ' . escapeshellarg($this->dir));
        }
    }

    public function __destruct()
    {
        $this->stop();
    }
}
