<?php
/**
 * The extension as PHP sees it: classes, build information, exceptions, connecting, and the
 * promise that loading it costs nothing (no thread, no connection) and survives fork().
 */

use PHPUnit\Framework\TestCase;
use PuqProxmoxKvm\Exception;
use PuqProxmoxKvm\Module;

final class ExtensionTest extends TestCase
{
    private ?WhmcsHarness $whmcs = null;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
    }

    protected function tearDown(): void
    {
        $this->whmcs?->destroy();
    }

    /** The settings of a fresh WHMCS database (one per test). */
    private function db(): array
    {
        $this->whmcs ??= WhmcsHarness::create();
        return $this->whmcs->dbConfig();
    }

    /** Runs PHP code in a fresh process with the extension; returns [exit code, output]. */
    private static function php(string $code): array
    {
        $cmd = array_merge([PHP_BINARY], WhmcsHarness::extensionFlags(), ['-r', $code]);
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]) . stream_get_contents($pipes[2]);
        return [proc_close($proc), $out];
    }

    public function testEveryClassIsRegistered(): void
    {
        $classes = (new ReflectionExtension('puq_proxmox_kvm'))->getClassNames();
        foreach ([
            'PuqProxmoxKvm\\Module',
            'PuqProxmoxKvm\\Cron',
            'PuqProxmoxKvm\\Vms',
            'PuqProxmoxKvm\\IpPools',
            'PuqProxmoxKvm\\Net',
            'PuqProxmoxKvm\\Dns',
            'PuqProxmoxKvm\\DnsZones',
            'PuqProxmoxKvm\\Products',
            'PuqProxmoxKvm\\Proxmox',
            'PuqProxmoxKvm\\Exception\\ModuleException',
            'PuqProxmoxKvm\\Exception\\ValidationException',
            'PuqProxmoxKvm\\Exception\\NotFoundException',
            'PuqProxmoxKvm\\Exception\\ConflictException',
            'PuqProxmoxKvm\\Exception\\ProviderException',
            'PuqProxmoxKvm\\Exception\\ProxmoxException',
            'PuqProxmoxKvm\\Exception\\DatabaseException',
        ] as $expected) {
            $this->assertContains($expected, $classes);
        }
        foreach ($classes as $class) {
            $this->assertStringStartsWith('PuqProxmoxKvm\\', $class, 'every class lives in the module namespace');
        }
        foreach ($classes as $class) {
            if (str_contains($class, '\\Exception\\') && $class !== Exception\ModuleException::class) {
                $this->assertTrue(is_subclass_of($class, Exception\ModuleException::class), $class);
            }
        }
        $this->assertTrue(is_subclass_of(Exception\ModuleException::class, \Exception::class));
    }

    public function testVersionCarriesRevision(): void
    {
        $info = Module::buildInfo();
        $this->assertMatchesRegularExpression('/^\d+\.\d+\.\d+$/', $info['version']);
        $this->assertNotSame('', $info['revision']);
        $this->assertSame(sprintf('%s (rev %s)', $info['version'], $info['revision']), Module::version());
        $this->assertSame((string) PHP_API_VERSION_NUMBER(), $info['php_api']);
    }

    public function testPhpinfoHasASection(): void
    {
        [$code, $out] = self::php('phpinfo(INFO_MODULES);');
        $this->assertSame(0, $code, $out);
        $this->assertStringContainsString('puq_proxmox_kvm support => enabled', $out);
        $this->assertStringContainsString('version => ' . Module::buildInfo()['version'], $out);
        $this->assertStringContainsString('revision => ' . Module::buildInfo()['revision'], $out);
        $this->assertStringContainsString('built for PHP API => ' . PHP_API_VERSION_NUMBER(), $out);
    }

    public function testLoadingStartsNoThreadAndNoRuntime(): void
    {
        [$code, $out] = self::php('echo count(glob("/proc/self/task/*")), "\n"; phpinfo(INFO_MODULES);');
        $this->assertSame(0, $code, $out);
        $this->assertSame('1', strtok($out, "\n"), 'loading the extension must not start a thread');
        $this->assertStringContainsString('async runtime => not started', $out);
    }

    public function testUsingTheModuleKeepsASingleThread(): void
    {
        $db = var_export($this->db(), true);
        [$code, $out] = self::php("\$m = PuqProxmoxKvm\\Module::connect($db); \$m->activate(); echo count(glob('/proc/self/task/*'));");
        $this->assertSame(0, $code, $out);
        $this->assertSame('1', trim($out));
    }

    public function testConnectErrorsSayWhichAndWhy(): void
    {
        $good = $this->db();
        $cases = [
            [['port' => 1] + $good, Exception\DatabaseException::class, '/127\.0\.0\.1:1 .*refused.*\$db_host and \$db_port/'],
            [['database' => 'puq_no_such_db'] + $good, Exception\DatabaseException::class, "/'puq_no_such_db'.*\\\$db_name/"],
            [['password' => 'wrong'] + $good, Exception\DatabaseException::class, '/access denied.*\$db_username and \$db_password/i'],
            [['user' => ''] + $good, Exception\ValidationException::class, '/^user: .*\$db_username/'],
            [['port' => 'abc'] + $good, Exception\ValidationException::class, '/^port: /'],
            [['host' => ['x']] + $good, Exception\ValidationException::class, '/^host: must be a string/'],
        ];
        foreach ($cases as [$db, $class, $pattern]) {
            try {
                Module::connect($db);
                $this->fail('connect should fail for ' . json_encode($db));
            } catch (Exception\ModuleException $e) {
                $this->assertInstanceOf($class, $e);
                $this->assertMatchesRegularExpression($pattern, $e->getMessage());
            }
        }
    }

    public function testValidationExceptionNamesTheField(): void
    {
        $kvm = Module::connect($this->db());
        $kvm->activate();
        try {
            $kvm->saveSettings(['heavy_timeout' => 0]);
            $this->fail('0 is out of range');
        } catch (Exception\ValidationException $e) {
            $this->assertSame('heavy_timeout', $e->getField());
            $this->assertStringContainsString('between 1 and 600', $e->getMessage());
        }
    }

    public function testForkedChildAndParentBothKeepWorking(): void
    {
        if (!function_exists('pcntl_fork')) {
            $this->markTestSkipped('pcntl is not available');
        }
        $kvm = Module::connect($this->db());
        $kvm->activate();
        $this->assertSame(10, $kvm->settings()['default_timeout']);

        $pid = pcntl_fork();
        if ($pid === 0) {
            // Child: uses the inherited module, then exits without running PHP's shutdown.
            $ok = false;
            try {
                $kvm->saveSettings(['default_timeout' => 42]);
                $ok = $kvm->settings()['default_timeout'] === 42
                    && count(glob('/proc/self/task/*')) === 1;
            } catch (\Throwable $e) {
                fwrite(STDERR, $e->getMessage());
            }
            posix_kill(posix_getpid(), $ok ? SIGUSR1 : SIGUSR2);
            exit(0);
        }
        pcntl_waitpid($pid, $status);
        $this->assertTrue(pcntl_wifsignaled($status));
        $this->assertSame(SIGUSR1, pcntl_wtermsig($status), 'the child could not use the module after fork');
        // Parent: its connections were not closed by the child.
        $this->assertSame(42, $kvm->settings()['default_timeout']);
        $kvm->saveSettings(['default_timeout' => 43]);
        $this->assertSame(43, $kvm->settings()['default_timeout']);
    }
}

function PHP_API_VERSION_NUMBER(): int
{
    ob_start();
    phpinfo(INFO_GENERAL);
    preg_match('/PHP API => (\d+)/', ob_get_clean(), $m);
    return (int) $m[1];
}
