<?php
/**
 * The legacy read-only DNS endpoint: `[{"forward", "ip", "reverse"}]` for every assigned address
 * of the active services, for external DNS scripts. Answers only clients on the
 * "DNS endpoint allow-list" setting (Addons > PUQ Proxmox KVM > Settings); with the list empty
 * it answers nobody.
 */

use WHMCS\Database\Capsule;

// The WHMCS root, five levels up from this file as WHMCS installs it (through the requested
// path, so a modules folder that is a symlink still finds its WHMCS).
$script = (string) ($_SERVER['SCRIPT_FILENAME'] ?? '');
$root = str_ends_with($script, '/modules/servers/puqProxmoxKVM/lib/dns/dns.php') ? dirname($script, 6) : dirname(__DIR__, 5);
require_once $root . '/init.php';
require_once $root . '/modules/addons/puq_proxmox_kvm/lib/bootstrap.php';

/** Sends $body as JSON with $status and ends the request. */
function puq_proxmox_kvm_dns_endpoint_answer(int $status, $body): void
{
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRETTY_PRINT);
    exit;
}

$client = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
try {
    $zones = puq_proxmox_kvm()->dnsZones();
    if (!$zones->endpointAllows($client)) {
        puq_proxmox_kvm_dns_endpoint_answer(403, ['error' => "access denied for $client: add this address to "
            . "'DNS endpoint allow-list' in Addons > PUQ Proxmox KVM > Settings (addresses or networks, comma separated)"]);
    }
    puq_proxmox_kvm_dns_endpoint_answer(200, $zones->legacyRecords());
} catch (\Throwable $e) {
    puq_proxmox_kvm_log('dns.php', ['client' => $client], get_class($e) . ': ' . $e->getMessage());
    puq_proxmox_kvm_dns_endpoint_answer(500, ['error' => 'the DNS list is unavailable - see the module log']);
}
