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

// Boot WHMCS (database settings, logModuleCall, localAPI) from its root, three levels up.
require_once __DIR__ . '/../../../init.php';
require_once __DIR__ . '/lib/cron.php';

exit(puq_proxmox_kvm_cron_cli($options));
