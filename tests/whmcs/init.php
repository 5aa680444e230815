<?php
/**
 * The harness's WHMCS init.php: what a module can rely on once WHMCS has booted.
 *
 * Required by <WHMCS root>/init.php (written by WhmcsHarness), which defines ROOTDIR as its own folder.
 * Afterwards: the constant WHMCS is defined; configuration.php's variables ($db_host, $db_port,
 * $db_username, $db_password, $db_name, $cc_encryption_hash, ...) are globals, whatever scope this
 * file was required from; $GLOBALS['whmcsHarnessPdo'] is connected to $db_name; WHMCS's global
 * functions exist; every ROOTDIR/modules/addons/<name>/hooks.php has been loaded once.
 * It runs again for every harness a process creates: configuration and connection are renewed,
 * functions and hooks are loaded once per process.
 */

defined('WHMCS') || define('WHMCS', true);
if (!defined('ROOTDIR')) {
    throw new LogicException('ROOTDIR is not defined: require <WHMCS root>/init.php, not tests/whmcs/init.php');
}

(static function (): void {
    require ROOTDIR . '/configuration.php';
    foreach (get_defined_vars() as $name => $value) {
        $GLOBALS[$name] = $value;
    }
})();

$GLOBALS['whmcsHarnessPdo'] = new PDO(
    sprintf(
        'mysql:host=%s;port=%d;dbname=%s;charset=%s',
        $GLOBALS['db_host'],
        (int) ($GLOBALS['db_port'] ?: 3306),
        $GLOBALS['db_name'],
        $GLOBALS['mysql_charset'] ?? 'utf8'
    ),
    $GLOBALS['db_username'],
    $GLOBALS['db_password'],
    [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_DEFAULT_FETCH_MODE => PDO::FETCH_ASSOC,
        // Strict, whatever the server's default: a harness write that misses a NOT NULL column fails.
        PDO::MYSQL_ATTR_INIT_COMMAND => "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
    ]
);

require_once __DIR__ . '/functions.php';

(static function (): void {
    foreach (glob(ROOTDIR . '/modules/addons/*/hooks.php') ?: [] as $hooks) {
        require_once $hooks;
    }
})();
