<?php
/**
 * DNS sync glue: runs a service's DNS sync in the extension, shows each record's outcome live
 * and writes failures and the run's summary to the WHMCS module log. A DNS failure never
 * throws from here: provisioning goes on, and Set DNS records can run again later.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once __DIR__ . '/bootstrap.php';

/**
 * Syncs the DNS records of $serviceId: $operation is create (deploy), replace (change package,
 * Set DNS records) or delete (terminate). $live, when given, receives one line per record
 * (`fwd OK ...`, `rev ERR ...: <error>`). Returns the extension's report; a sync that could not
 * start (no VM row, database down) returns ['errors' => 1, 'summary' => <why>].
 */
function puq_proxmox_kvm_dns_sync(\PuqProxmoxKvm\Module $kvm, int $serviceId, string $operation, ?callable $live = null): array
{
    $action = "DNS $operation";
    $onEvent = static function (array $event) use ($serviceId, $action, $live): void {
        if (!$event['ok']) {
            logModuleCall('puqProxmoxKVM', $action, [
                'service_id' => $serviceId, 'zone' => $event['zone'], 'provider' => $event['provider'],
                'record' => $event['record'], 'action' => $event['action'],
            ], (string) $event['error'], $event['line']);
        }
        if ($live !== null) {
            $live($event['line']);
        }
    };
    try {
        $report = $kvm->dnsZones()->syncService($serviceId, $operation, $onEvent);
    } catch (\Throwable $e) {
        $report = ['service_id' => $serviceId, 'errors' => 1, 'ok' => 0, 'events' => [], 'zones' => [],
                   'summary' => "dns $operation for service $serviceId did not run - " . $e->getMessage()];
    }
    logModuleCall('puqProxmoxKVM', "$action summary", ['service_id' => $serviceId, 'operation' => $operation],
        $report['summary'], ['zones' => $report['zones'] ?? []]);
    if ($live !== null) {
        $live($report['summary']);
    }
    return $report;
}
