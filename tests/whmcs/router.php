<?php
/**
 * The admin page server: `WHMCS_ROOT=<root> php -d extension=EXT -S 127.0.0.1:PORT -t <root> router.php`.
 *
 *   /admin/addonmodules.php?module=<addon>  the addon's _output($vars) inside the admin shell (shell.php),
 *                                           as admin 1 in a PHP session; an addon that prints JSON and
 *                                           exits sends only its own output
 *   /assets/vendor/bootstrap/..., /assets/vendor/jquery/...
 *                                           Debian's libjs-bootstrap (3.4.1) and libjs-jquery
 *   /modules/...                            static files of the WHMCS root's modules (never .php)
 *   anything else                           404
 */

$root = (string) getenv('WHMCS_ROOT');
if ($root === '' || !is_file("$root/init.php")) {
    http_response_code(500);
    exit("WHMCS_ROOT does not name a harness WHMCS root\n");
}
$path = (string) parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);

const HARNESS_VENDOR = [
    '/assets/vendor/bootstrap/' => '/usr/share/javascript/bootstrap/',
    '/assets/vendor/jquery/' => '/usr/share/javascript/jquery/',
];
const HARNESS_STATIC_TYPES = [
    'css' => 'text/css', 'js' => 'text/javascript', 'map' => 'application/json', 'json' => 'application/json',
    'png' => 'image/png', 'gif' => 'image/gif', 'jpg' => 'image/jpeg', 'jpeg' => 'image/jpeg',
    'svg' => 'image/svg+xml', 'ico' => 'image/x-icon', 'woff' => 'font/woff', 'woff2' => 'font/woff2',
    'ttf' => 'font/ttf', 'eot' => 'application/vnd.ms-fontobject',
];

/** Sends $dir/$relative when it is a static file type; 404 for missing or `..` paths, 403 for others (.php). */
function harness_send_static(string $dir, string $relative): void
{
    $file = $dir . $relative;
    if (preg_match('#(^|/)\.\.(/|$)#', $relative) || str_contains($relative, "\0") || !is_file($file)) {
        http_response_code(404);
        exit("Not found\n");
    }
    $type = HARNESS_STATIC_TYPES[strtolower(pathinfo($file, PATHINFO_EXTENSION))] ?? null;
    if ($type === null) {
        http_response_code(403);
        exit("Forbidden\n");
    }
    header("Content-Type: $type");
    header('Content-Length: ' . filesize($file));
    readfile($file);
}

foreach (HARNESS_VENDOR as $prefix => $dir) {
    if (str_starts_with($path, $prefix)) {
        harness_send_static($dir, substr($path, strlen($prefix)));
        return;
    }
}
if (str_starts_with($path, '/modules/')) {
    harness_send_static("$root/modules/", substr($path, strlen('/modules/')));
    return;
}
if ($path !== '/admin/addonmodules.php') {
    http_response_code(404);
    exit("Not found\n");
}

session_save_path("$root/sessions");
session_name('WHMCSHARNESS');
session_start();
$_SESSION['adminid'] = 1; // always logged in as the admin the harness seeds

require "$root/init.php";
require_once __DIR__ . '/AddonModule.php';

$module = (string) ($_GET['module'] ?? '');
if (!preg_match('/^[a-z][a-z0-9_]*$/', $module) || !is_file(ROOTDIR . "/modules/addons/$module/$module.php")) {
    http_response_code(404);
    exit("Invalid addon module\n");
}
if (!WhmcsAddonModule::isActive($GLOBALS['whmcsHarnessPdo'], $module)) {
    http_response_code(403);
    exit("The addon module $module is not activated\n");
}

$vars = WhmcsAddonModule::vars($GLOBALS['whmcsHarnessPdo'], $module);
$title = (string) (WhmcsAddonModule::call($module, 'config', [])['name'] ?? $module);

// The addon renders first, into a buffer: if it answers a JSON request and exits, nothing of the
// shell has been sent.
ob_start();
WhmcsAddonModule::call($module, 'output', $vars);
$content = (string) ob_get_clean();

$headOutput = implode("\n", run_hook('AdminAreaHeadOutput', $vars));
$footerOutput = implode("\n", run_hook('AdminAreaFooterOutput', $vars));
$csrfToken = generate_token('plain');
require __DIR__ . '/shell.php';
