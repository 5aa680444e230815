<?php
/**
 * PUQ Proxmox KVM standalone cron: `php modules/addons/puq_proxmox_kvm/cron.php` from the
 * system crontab every minute (Settings > Cron > Standalone). Run with --help for the options.
 */

if (PHP_SAPI !== 'cli') {
    http_response_code(403);
    exit("cron.php runs from the command line only\n");
}

$options = getopt('', ['help', 'task:', 'force', 'list', 'no-lock']);
if (isset($options['help'])) {
    require_once __DIR__ . '/lib/cron.php';
    echo puq_proxmox_kvm_cron_help();
    exit(0);
}

// Boot WHMCS (database settings, logModuleCall, localAPI) from its root, three levels above this
// folder. The path as invoked comes first: with the module folder symlinked into WHMCS (a shared
// deployment), __DIR__ is the link's target, outside the WHMCS root.
$puqWhmcsRoot = null;
foreach ([dirname((string) ($_SERVER['SCRIPT_FILENAME'] ?? __FILE__), 4), dirname(__DIR__, 3)] as $candidate) {
    if (is_file($candidate . '/init.php')) {
        $puqWhmcsRoot = $candidate;
        break;
    }
}
if ($puqWhmcsRoot === null) {
    fwrite(STDERR, "PUQ Proxmox KVM cron: WHMCS's init.php not found three folders above cron.php - run it as php <whmcs>/modules/addons/puq_proxmox_kvm/cron.php\n");
    exit(2);
}
require_once $puqWhmcsRoot . '/init.php';
require_once __DIR__ . '/lib/cron.php';

exit(puq_proxmox_kvm_cron_cli($options));
