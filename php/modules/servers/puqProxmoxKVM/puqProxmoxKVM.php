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

/**
 * Runs one server module function through the extension. Returns what $call returns; an
 * exception becomes the message WHMCS shows (or $onError($message) for functions that answer
 * an array). Every call goes to the module log with the server and service passwords masked.
 */
function puqProxmoxKVM_call(string $action, array $params, callable $call, ?callable $onError = null)
{
    $secrets = array_values(array_filter(
        [(string) ($params['serverpassword'] ?? ''), (string) ($params['password'] ?? '')],
        static fn (string $s): bool => $s !== ''
    ));
    $request = array_diff_key($params, ['model' => true]);
    try {
        $result = $call(puq_proxmox_kvm());
        if (function_exists('logModuleCall')) {
            logModuleCall('puqProxmoxKVM', $action, $request, $result, '', $secrets);
        }
        return $result;
    } catch (\Throwable $e) {
        $message = $e->getMessage();
        if (function_exists('logModuleCall')) {
            logModuleCall('puqProxmoxKVM', $action, $request, get_class($e) . ': ' . $message, '', $secrets);
        }
        return $onError !== null ? $onError($message) : $message;
    }
}

/**
 * Test Connection: reaches the server, authenticates (API token when the username holds '!',
 * else user and password), reads the version and checks the privileges the module needs.
 */
function puqProxmoxKVM_TestConnection(array $params)
{
    return puqProxmoxKVM_call('TestConnection', $params, static function ($kvm) use ($params): array {
        $report = $kvm->proxmox()->testConnection($params);
        return ['success' => (bool) $report['success'], 'error' => (string) $report['error']];
    }, static fn (string $message): array => ['success' => false, 'error' => $message]);
}
