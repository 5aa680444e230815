<?php
/**
 * PUQ Proxmox KVM: the WHMCS server (provisioning) module. Each entry point delegates to the
 * puq_proxmox_kvm PHP extension; long work is queued for the addon's cron.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/../../addons/puq_proxmox_kvm/lib/bootstrap.php';

function puqProxmoxKVM_MetaData()
{
    return [
        'DisplayName' => 'PUQ Proxmox KVM',
        'APIVersion' => '1.1',
        'RequiresServer' => true,
        'DefaultNonSSLPort' => '8006',
        'DefaultSSLPort' => '8006',
        'ServiceSingleSignOnLabel' => false,
        'AdminSingleSignOnLabel' => false,
    ];
}
