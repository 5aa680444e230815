<?php
/**
 * A throwaway WHMCS for one test: a fresh MariaDB database with WHMCS's tables, a WHMCS root folder
 * (configuration.php, init.php, modules -> the repo's php/modules), WHMCS's global functions, module
 * calls with the $params / $vars WHMCS builds, and optionally the admin page server.
 *
 * One harness is live per process at a time (WHMCS's globals and the ROOTDIR constant are
 * per-process); its root folder keeps the same path for the life of the process. Tests in separate
 * processes run side by side: database and folder names carry the process id.
 */

require_once __DIR__ . '/AddonModule.php';
require_once __DIR__ . '/ServerParams.php';
require_once __DIR__ . '/serve.php';
require_once __DIR__ . '/fixtures.php';

final class WhmcsHarness
{
    use WhmcsFixtures;

    public const SERVER_MODULE = 'puqProxmoxKVM';
    public const ADDON_MODULE = 'puq_proxmox_kvm';
    public const DB_HOST = '127.0.0.1';
    public const DB_PORT = 3306;
    public const DB_USER = 'root';
    public const DB_PASSWORD = '';
    public const REPO = __DIR__ . '/../..';

    private static ?self $live = null;
    private static ?string $processRoot = null;

    private ?WhmcsPageServer $pageServer = null;
    private bool $destroyed = false;
    private readonly int $ownerPid;

    private function __construct(
        /** The WHMCS root folder (ROOTDIR). */
        public readonly string $root,
        public readonly string $dbName,
        private readonly string $encryptionKey,
    ) {
        $this->ownerPid = getmypid();
    }

    /**
     * Creates the database and the WHMCS root, boots WHMCS (init.php) in this process and seeds what
     * every WHMCS has: admin 1, the default currency, module logging on.
     * $modulesDir replaces the repo's php/modules (the harness's own tests use a probe module tree).
     */
    public static function create(?string $modulesDir = null): self
    {
        if (self::$live !== null) {
            throw new LogicException('a WhmcsHarness is already live in this process: destroy() it first');
        }
        self::reapOrphans();
        $harness = new self(
            self::$processRoot ??= sys_get_temp_dir() . '/puq_whmcs_' . getmypid() . '_' . bin2hex(random_bytes(4)),
            'puq_t_' . getmypid() . '_' . bin2hex(random_bytes(4)),
            bin2hex(random_bytes(32)),
        );
        self::$live = $harness;
        register_shutdown_function([$harness, 'destroy']);

        try {
            self::serverPdo()->exec("CREATE DATABASE `$harness->dbName` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
            self::loadSqlFile(self::serverPdo($harness->dbName), __DIR__ . '/schema.sql');
            $harness->writeRoot($modulesDir ?? self::REPO . '/php/modules');
            require $harness->root . '/init.php';
            $harness->seed();
        } catch (Throwable $e) {
            $harness->destroy();
            throw $e;
        }
        return $harness;
    }

    /** Stops the page server, drops the database and removes the root folder. Idempotent. */
    public function destroy(): void
    {
        if ($this->destroyed || getmypid() !== $this->ownerPid) {
            return; // already done, or a forked child that must leave its parent's harness alone
        }
        $this->destroyed = true;
        $this->pageServer?->stop();
        $GLOBALS['whmcsHarnessPdo'] = null;
        self::serverPdo()->exec("DROP DATABASE IF EXISTS `$this->dbName`");
        self::removeTree($this->root);
        if (self::$live === $this) {
            self::$live = null;
        }
    }

    public function pdo(): PDO
    {
        return $GLOBALS['whmcsHarnessPdo'];
    }

    /** The array PuqProxmoxKvm\Module::connect() takes: WHMCS's $db_* settings and $cc_encryption_hash. */
    public function dbConfig(): array
    {
        return [
            'host' => self::DB_HOST,
            'port' => self::DB_PORT,
            'user' => self::DB_USER,
            'password' => self::DB_PASSWORD,
            'database' => $this->dbName,
            'encryption_key' => $this->encryptionKey,
        ];
    }

    /** The $params WHMCS passes to the server module for this service (see WhmcsServerParams). */
    public function serverParams(int $serviceId): array
    {
        return WhmcsServerParams::build($this->pdo(), $serviceId);
    }

    /**
     * Calls <module>_<function>($params) with the service's $params, $override replacing keys. As in
     * WHMCS, <module> is the product's servertype (puqProxmoxKVM for this project's products), loaded
     * once from ROOTDIR/modules/servers/<module>/<module>.php.
     * Like WHMCS's module commands, a 'success' result of CreateAccount, SuspendAccount,
     * UnsuspendAccount or TerminateAccount moves tblhosting.domainstatus (Active, Suspended with
     * $params['suspendreason'], Active, Terminated) and logs the activity.
     */
    public function callServerModule(string $function, int $serviceId, array $override = [])
    {
        $params = array_replace($this->serverParams($serviceId), $override);
        $module = $params['moduletype'];
        if (!preg_match('/^[a-zA-Z][a-zA-Z0-9_]*$/', $module)) {
            throw new InvalidArgumentException("service $serviceId has no server module (servertype '$module')");
        }
        require_once "$this->root/modules/servers/$module/$module.php";
        $name = "{$module}_$function";
        if (!function_exists($name)) {
            throw new LogicException("the server module does not define $name()");
        }
        $result = $name($params);

        $status = ['CreateAccount' => 'Active', 'SuspendAccount' => 'Suspended',
                   'UnsuspendAccount' => 'Active', 'TerminateAccount' => 'Terminated'][$function] ?? null;
        if ($result === 'success' && $status !== null) {
            $reason = $function === 'SuspendAccount' ? (string) ($params['suspendreason'] ?? '') : '';
            $this->pdo()->prepare('UPDATE tblhosting SET domainstatus = ?, suspendreason = ? WHERE id = ?')
                ->execute([$status, $reason, $serviceId]);
            logActivity("Module $function Successful - Service ID: $serviceId", $params['userid']);
        }
        return $result;
    }

    /** Calls <module>_<function>($vars) of the addon with WHMCS's addon $vars, $vars replacing keys. */
    public function callAddon(string $function, array $vars = [], string $module = self::ADDON_MODULE)
    {
        $defaults = WhmcsAddonModule::vars($this->pdo(), $module);
        return WhmcsAddonModule::call($module, $function, array_replace($defaults, $vars));
    }

    /**
     * Activates the addon as WHMCS does: _activate(), and unless it reports status 'error', the
     * tbladdonmodules rows 'version' (from _config), 'access' (admin role 1) and the config fields'
     * defaults, plus the module in tblconfiguration ActiveAddonModules. Returns _activate's result.
     */
    public function activateAddon(string $module = self::ADDON_MODULE): array
    {
        if (WhmcsAddonModule::isActive($this->pdo(), $module)) {
            throw new LogicException("$module is already activated");
        }
        $config = $this->callAddon('config', [], $module);
        $result = $this->callAddon('activate', [], $module) ?? ['status' => 'success', 'description' => ''];
        if (($result['status'] ?? '') === 'error') {
            throw new RuntimeException("activating $module failed: " . ($result['description'] ?? ''));
        }
        $settings = ['version' => (string) ($config['version'] ?? ''), 'access' => '1'];
        foreach ($config['fields'] ?? [] as $field => $definition) {
            $settings[$field] = (string) ($definition['Default'] ?? '');
        }
        $insert = $this->pdo()->prepare('INSERT INTO tbladdonmodules (module, setting, value) VALUES (?, ?, ?)');
        foreach ($settings as $setting => $value) {
            $insert->execute([$module, $setting, $value]);
        }
        $this->pdo()->prepare(
            "INSERT INTO tblconfiguration (setting, value, created_at, updated_at) VALUES ('ActiveAddonModules', ?, NOW(), NOW())
             ON DUPLICATE KEY UPDATE value = CONCAT_WS(',', NULLIF(value, ''), VALUES(value))"
        )->execute([$module]);
        return $result;
    }

    /** Starts the admin page server for this root (once) and returns its base URL, e.g. http://127.0.0.1:41234. */
    public function serve(): string
    {
        $this->pageServer ??= WhmcsPageServer::start($this->root);
        return $this->pageServer->baseUrl;
    }

    /** What the page server wrote to stdout/stderr (PHP warnings and fatal errors included). */
    public function serverLog(): string
    {
        return $this->pageServer ? (string) @file_get_contents($this->pageServer->logFile) : '';
    }

    /** tblmodulelog rows, oldest first. */
    public function moduleLog(): array
    {
        return $this->pdo()->query('SELECT * FROM tblmodulelog ORDER BY id')->fetchAll(PDO::FETCH_ASSOC);
    }

    /** tblactivitylog rows, oldest first. */
    public function activityLog(): array
    {
        return $this->pdo()->query('SELECT * FROM tblactivitylog ORDER BY id')->fetchAll(PDO::FETCH_ASSOC);
    }

    /** Every localAPI() call so far, in this process or the page server: command, values, adminUser, response. */
    public function localApiCalls(): array
    {
        $rows = $this->pdo()->query('SELECT command, request, admin_user, response FROM harness_localapi_calls ORDER BY id');
        return array_map(static fn (array $row): array => [
            'command' => $row['command'],
            'values' => json_decode($row['request'], true),
            'adminUser' => $row['admin_user'],
            'response' => json_decode($row['response'], true),
        ], $rows->fetchAll(PDO::FETCH_ASSOC));
    }

    /** The `-d extension=` flags for child PHP processes: $PUQ_EXTENSION, else target/release's build if present. */
    public static function extensionFlags(): array
    {
        $configured = getenv('PUQ_EXTENSION');
        $path = $configured ?: self::REPO . '/target/release/libpuq_proxmox_kvm.so';
        if (!is_file($path)) {
            if ($configured) {
                throw new RuntimeException("PUQ_EXTENSION names no file: $configured");
            }
            return [];
        }
        return ['-d', 'extension=' . realpath($path)];
    }

    /** A root connection to the MariaDB server, to $database when given. */
    public static function serverPdo(?string $database = null): PDO
    {
        $dsn = sprintf('mysql:host=%s;port=%d;charset=utf8mb4', self::DB_HOST, self::DB_PORT)
            . ($database !== null ? ";dbname=$database" : '');
        return new PDO($dsn, self::DB_USER, self::DB_PASSWORD, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    }

    /** Runs a mariadb-dump style file: `--` comment lines dropped, one statement per `;` at a line end. */
    public static function loadSqlFile(PDO $pdo, string $file): void
    {
        $sql = preg_replace('/^--.*$/m', '', (string) file_get_contents($file));
        foreach (preg_split('/;\s*$/m', $sql) as $statement) {
            if (trim($statement) !== '') {
                $pdo->exec($statement);
            }
        }
    }

    private function writeRoot(string $modulesDir): void
    {
        if (!is_dir($modulesDir)) {
            throw new RuntimeException("modules folder not found: $modulesDir");
        }
        mkdir($this->root . '/sessions', 0700, true);
        symlink(realpath($modulesDir), $this->root . '/modules');
        $settings = [
            'license' => 'HARNESS-NOT-A-LICENSE',
            'db_host' => self::DB_HOST,
            'db_port' => (string) self::DB_PORT,
            'db_username' => self::DB_USER,
            'db_password' => self::DB_PASSWORD,
            'db_name' => $this->dbName,
            'cc_encryption_hash' => $this->encryptionKey,
            'templates_compiledir' => 'templates_c',
            'mysql_charset' => 'utf8',
        ];
        $configuration = "<?php\n// WHMCS configuration.php written by WhmcsHarness.\n";
        foreach ($settings as $name => $value) {
            $configuration .= "\$$name = " . var_export($value, true) . ";\n";
        }
        file_put_contents($this->root . '/configuration.php', $configuration);
        file_put_contents($this->root . '/init.php', "<?php\n// WHMCS init.php written by WhmcsHarness.\n"
            . "defined('ROOTDIR') || define('ROOTDIR', __DIR__);\n"
            . 'require ' . var_export(realpath(__DIR__ . '/init.php'), true) . ";\n");
    }

    /** Drops databases and removes root folders left by harness processes that no longer exist. */
    private static function reapOrphans(): void
    {
        $admin = self::serverPdo();
        foreach ($admin->query("SHOW DATABASES LIKE 'puq\\_t\\_%'")->fetchAll(PDO::FETCH_COLUMN) as $database) {
            if (preg_match('/^puq_t_(\d+)_/', $database, $m) && !posix_kill((int) $m[1], 0)) {
                $admin->exec("DROP DATABASE IF EXISTS `$database`");
            }
        }
        foreach (glob(sys_get_temp_dir() . '/puq_whmcs_*') ?: [] as $folder) {
            if (preg_match('/puq_whmcs_(\d+)_/', $folder, $m) && !posix_kill((int) $m[1], 0)) {
                self::removeTree($folder);
            }
        }
    }

    /** Removes a folder without following symlinks (modules points into the repo). */
    private static function removeTree(string $path): void
    {
        if (is_link($path) || is_file($path)) {
            unlink($path);
            return;
        }
        if (!is_dir($path)) {
            return;
        }
        foreach (scandir($path) as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                self::removeTree("$path/$entry");
            }
        }
        rmdir($path);
    }
}
