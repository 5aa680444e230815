<?php
/**
 * PUQ Proxmox KVM hooks. In "WHMCS Hook" cron mode the module's due tasks run after each WHMCS
 * cron run; in standalone mode this does nothing (cron.php runs them).
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

add_hook('AfterCronJob', 1, function ($vars) {
    require_once __DIR__ . '/lib/cron.php';
    puq_proxmox_kvm_cron_hook();
});
