<?php
/**
 * `make demo`: a throwaway WHMCS database through the harness, the addon activated as WHMCS
 * would, a Proxmox server, a KVM product and a few orders, then the Dashboard's figures.
 * Opens nothing on the network; everything is removed at the end.
 */

require_once __DIR__ . '/../whmcs/WhmcsHarness.php';

if (!extension_loaded('puq_proxmox_kvm')) {
    fwrite(STDERR, "the extension is not loaded: run `make demo`\n");
    exit(1);
}

$whmcs = WhmcsHarness::create();
try {
    printf("PUQ Proxmox KVM %s\n", \PuqProxmoxKvm\Module::version());
    printf("WHMCS database: %s (created for this demo)\n\n", $whmcs->dbName);

    $activation = $whmcs->activateAddon();
    printf("Activate addon: %s - %s\n", $activation['status'], $activation['description']);
    $again = $whmcs->callAddon('activate');
    printf("Activate again: %s - %s\n\n", $again['status'], $again['description']);

    $client = $whmcs->addClient(['firstname' => 'Ada', 'lastname' => 'Lovelace']);
    $server = $whmcs->addServer(['name' => 'pve-waw1', 'hostname' => 'pve-waw1.example.net']);
    $product = $whmcs->addProduct(['name' => 'VPS Start']);
    foreach (['Active', 'Active', 'Suspended', 'Terminated'] as $status) {
        $whmcs->addService(['userid' => $client, 'packageid' => $product, 'server' => $server, 'domainstatus' => $status]);
    }
    echo "Seeded: 1 Proxmox server, 1 KVM product, 4 services (2 active, 1 suspended, 1 terminated)\n\n";

    $dashboard = puq_proxmox_kvm()->dashboard();
    echo "Dashboard\n";
    foreach (['ip_pools' => 'IP Pools', 'dns_zones' => 'DNS Zones', 'kvm_services' => 'KVM Services'] as $key => $label) {
        printf("  %-13s %s\n", $label, $dashboard[$key] ?? 'not available in this version yet');
    }
    $settings = puq_proxmox_kvm()->settings();
    printf("\nSettings: API timeout %d s, heavy operations %d s, cron mode %s, lock timeout %d s\n",
        $settings['default_timeout'], $settings['heavy_timeout'], $settings['cron_mode'], $settings['cron_lock_timeout']);
} finally {
    $whmcs->destroy();
    echo "\nDemo database removed.\n";
}
