<?php
/**
 * How WHMCS loads an addon module and what it passes to the addon's functions; shared by
 * WhmcsHarness (in-process calls) and router.php (the admin page server).
 */
final class WhmcsAddonModule
{
    /** Loads ROOTDIR/modules/addons/<module>/<module>.php once per process. */
    public static function load(string $module): void
    {
        if (!preg_match('/^[a-z][a-z0-9_]*$/', $module)) {
            throw new InvalidArgumentException("invalid addon module name: $module");
        }
        $file = ROOTDIR . "/modules/addons/$module/$module.php";
        if (!is_file($file)) {
            throw new RuntimeException("addon module file not found: $file");
        }
        require_once $file;
    }

    /** Calls <module>_<function>($vars); the function must exist. */
    public static function call(string $module, string $function, array $vars)
    {
        self::load($module);
        $name = $module . '_' . $function;
        if (!function_exists($name)) {
            throw new LogicException("the addon module does not define $name()");
        }
        return $name($vars);
    }

    /** Whether WHMCS treats the addon as activated: it has a 'version' row in tbladdonmodules. */
    public static function isActive(PDO $pdo, string $module): bool
    {
        $stmt = $pdo->prepare("SELECT COUNT(*) FROM tbladdonmodules WHERE module = ? AND setting = 'version'");
        $stmt->execute([$module]);
        return (int) $stmt->fetchColumn() > 0;
    }

    /**
     * The $vars WHMCS passes to addon functions: every tbladdonmodules setting of the module (its
     * config fields, 'version', 'access'), 'modulelink', and '_lang' (the module's
     * lang/english.php $_ADDONLANG when it has one, else []).
     */
    public static function vars(PDO $pdo, string $module): array
    {
        $stmt = $pdo->prepare('SELECT setting, value FROM tbladdonmodules WHERE module = ? ORDER BY id');
        $stmt->execute([$module]);
        $vars = $stmt->fetchAll(PDO::FETCH_KEY_PAIR);
        $vars['modulelink'] = "addonmodules.php?module=$module";
        $vars['_lang'] = self::language($module);
        return $vars;
    }

    private static function language(string $module): array
    {
        $file = ROOTDIR . "/modules/addons/$module/lang/english.php";
        if (!is_file($file)) {
            return [];
        }
        return (static function (string $file): array {
            $_ADDONLANG = [];
            include $file;
            return $_ADDONLANG;
        })($file);
    }
}
