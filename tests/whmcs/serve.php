<?php
/**
 * The admin page server as a background process for tests: PHP's built-in server running router.php
 * for one WHMCS root on a free loopback port. Started by WhmcsHarness::serve(), stopped by destroy().
 * Its stdout and stderr (PHP errors included) go to <root>/page-server.log.
 */
final class WhmcsPageServer
{
    /** @var resource */
    private $process;

    private function __construct($process, public readonly string $baseUrl, public readonly string $logFile)
    {
        $this->process = $process;
    }

    /**
     * Starts the server and returns once it accepts connections. The PHP binary is this process's
     * (PHP_BINARY), with the extension flag of WhmcsHarness::extensionFlags().
     */
    public static function start(string $root): self
    {
        $logFile = $root . '/page-server.log';
        $lastError = '';
        for ($attempt = 0; $attempt < 5; $attempt++) {
            $port = self::freePort();
            $command = array_merge(
                [PHP_BINARY],
                WhmcsHarness::extensionFlags(),
                ['-d', 'display_errors=0', '-d', 'log_errors=1', '-d', 'error_reporting=E_ALL'],
                ['-S', "127.0.0.1:$port", '-t', $root, __DIR__ . '/router.php']
            );
            $env = ['WHMCS_ROOT' => $root] + getenv();
            $process = proc_open(
                $command,
                [0 => ['file', '/dev/null', 'r'], 1 => ['file', $logFile, 'a'], 2 => ['file', $logFile, 'a']],
                $pipes,
                $root,
                $env
            );
            if ($process === false) {
                throw new RuntimeException('cannot start the page server: ' . implode(' ', $command));
            }
            if (self::waitUntilListening($process, $port)) {
                return new self($process, "http://127.0.0.1:$port", $logFile);
            }
            proc_terminate($process);
            proc_close($process);
            $lastError = (string) @file_get_contents($logFile);
        }
        throw new RuntimeException("the page server did not start; log:\n" . $lastError);
    }

    public function stop(): void
    {
        if ($this->process === null) {
            return;
        }
        proc_terminate($this->process);
        proc_close($this->process);
        $this->process = null;
    }

    /** A port the kernel just handed out on 127.0.0.1 (another process could take it first: start() retries). */
    private static function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($socket === false) {
            throw new RuntimeException("cannot find a free port: $error");
        }
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        return $port;
    }

    /** @param resource $process */
    private static function waitUntilListening($process, int $port): bool
    {
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            if (!proc_get_status($process)['running']) {
                return false;
            }
            $connection = @stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 0.2);
            if ($connection !== false) {
                fclose($connection);
                return true;
            }
            usleep(50_000);
        }
        return false;
    }
}
