<?php
/**
 * PUQ Proxmox KVM server module hooks: saves the product settings shown below the 24 module
 * settings on the product's Module Settings tab.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

add_hook('ProductEdit', 1, static function (array $vars): void {
    $settings = $_POST['puq_kvm_settings'] ?? null;
    if (($vars['servertype'] ?? '') !== 'puqProxmoxKVM' || !is_array($settings)) {
        return;
    }
    require_once __DIR__ . '/puqProxmoxKVM.php';
    puqProxmoxKVM_save_product_settings((int) $vars['pid'], $settings);
});
