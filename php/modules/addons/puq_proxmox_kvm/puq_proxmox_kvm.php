<?php
/**
 * PUQ Proxmox KVM: the WHMCS addon module (IP pools, DNS zones, VM management, settings, cron).
 *
 * Every function delegates to the puq_proxmox_kvm PHP extension through lib/bootstrap.php.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/lib/bootstrap.php';

function puq_proxmox_kvm_config()
{
    return [
        'name' => 'PUQ Proxmox KVM',
        'description' => 'IP pools, DNS zones, VM management and cron for the PUQ Proxmox KVM server module.',
        'version' => puq_proxmox_kvm_version(),
        'author' => 'PUQ',
        'language' => 'english',
        'fields' => [],
    ];
}

function puq_proxmox_kvm_activate()
{
    return puq_proxmox_kvm_lifecycle('activate');
}

function puq_proxmox_kvm_deactivate()
{
    return puq_proxmox_kvm_lifecycle('deactivate');
}

function puq_proxmox_kvm_upgrade($vars)
{
    // WHMCS ignores the answer of _upgrade; a failure is logged by the wrapper.
    puq_proxmox_kvm_lifecycle('activate');
}

function puq_proxmox_kvm_output($vars)
{
    require_once __DIR__ . '/lib/pages.php';
    puq_proxmox_kvm_render_page($vars);
}
