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
 * CreateAccount: records the VM (state `creation`) and returns at once. No Proxmox call runs
 * inside the WHMCS request; the addon's cron builds the VM and sends the "VM is ready" email.
 */
function puqProxmoxKVM_CreateAccount(array $params)
{
    return puqProxmoxKVM_call('CreateAccount', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->create((int) $params['serviceid'], (string) ($params['password'] ?? ''));
        return 'success';
    });
}

/**
 * TerminateAccount: asks Proxmox to stop the VM and queues its removal; the addon's cron
 * deletes backups, DNS records and the VM (after checking it is this service's) and releases
 * the addresses. A refused delete shows as error_terminate in VM Management.
 */
function puqProxmoxKVM_TerminateAccount(array $params)
{
    return puqProxmoxKVM_call('TerminateAccount', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->terminate((int) $params['serviceid'], (int) ($params['serverid'] ?? 0), (string) ($params['serverpassword'] ?? ''));
        return 'success';
    });
}

/**
 * ChangePackage: queues the package change; cron applies the new CPU, RAM, disks (never
 * shrinking them), addresses, DNS, network and firewall, restarts the VM and sends the
 * "Upgrade Email".
 */
function puqProxmoxKVM_ChangePackage(array $params)
{
    return puqProxmoxKVM_call('ChangePackage', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->queueChangePackage((int) $params['serviceid']);
        return 'success';
    });
}

/** SuspendAccount: stops the VM (recorded in its run log). */
function puqProxmoxKVM_SuspendAccount(array $params)
{
    return puqProxmoxKVM_call('SuspendAccount', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->setPower((int) $params['serviceid'], false, (int) ($params['serverid'] ?? 0), (string) ($params['serverpassword'] ?? ''));
        return 'success';
    });
}

/** UnsuspendAccount: starts the VM again (recorded in its run log). */
function puqProxmoxKVM_UnsuspendAccount(array $params)
{
    return puqProxmoxKVM_call('UnsuspendAccount', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->setPower((int) $params['serviceid'], true, (int) ($params['serverid'] ?? 0), (string) ($params['serverpassword'] ?? ''));
        return 'success';
    });
}

/**
 * Admin buttons on the service page. "Set DNS records" queues a full DNS resync for cron.
 */
function puqProxmoxKVM_AdminCustomButtonArray()
{
    return ['Set DNS records' => 'SetDnsRecords', 'Reinstall' => 'Reinstall'];
}

function puqProxmoxKVM_SetDnsRecords(array $params)
{
    return puqProxmoxKVM_call('SetDnsRecords', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->queueDnsResync((int) $params['serviceid']);
        return 'success';
    });
}

function puqProxmoxKVM_Reinstall(array $params)
{
    return puqProxmoxKVM_call('Reinstall', $params, static function ($kvm) use ($params): string {
        $kvm->vms()->queueReinstall((int) $params['serviceid']);
        return 'success';
    });
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

/**
 * The product's Module Settings tab: the 24 settings WHMCS stores in the product, followed by
 * a panel with the settings kept in the module's own table (saved by the ProductEdit hook in
 * hooks.php). WHMCS shows each Description as HTML; every value in the panel is escaped.
 */
function puqProxmoxKVM_ConfigOptions(array $params = [])
{
    if (!class_exists('PuqProxmoxKvm\\Products', false)) {
        return ['Extension' => ['Type' => 'text', 'Description' => htmlspecialchars(PUQ_PROXMOX_KVM_EXTENSION_HELP)]];
    }
    $options = \PuqProxmoxKvm\Products::configOptions();
    // configproducts.php?action=edit&id=<product id>
    $productId = (int) ($params['pid'] ?? $params['packageid'] ?? $_REQUEST['id'] ?? 0);
    $panel = puqProxmoxKVM_call(
        'ConfigOptions',
        ['pid' => $productId],
        static fn ($kvm): string => puqProxmoxKVM_settings_panel($kvm->products()->settings($productId)),
        static fn (string $message): string => '<div class="alert alert-danger">' . htmlspecialchars($message) . '</div>'
    );
    $last = array_key_last($options);
    $options[$last]['Description'] .= $panel;
    return $options;
}

/** The product settings beyond the 24 slots as form fields named puq_kvm_settings[key]. */
function puqProxmoxKVM_settings_panel(array $values): string
{
    $e = static fn ($s): string => htmlspecialchars((string) $s, ENT_QUOTES);
    $rows = '';
    foreach (\PuqProxmoxKvm\Products::settingsFields() as $field) {
        $name = 'puq_kvm_settings[' . $e($field['key']) . ']';
        $value = (string) ($values[$field['key']] ?? $field['default']);
        if ($field['type'] === 'yesno') {
            $input = '<input type="hidden" name="' . $name . '" value="">'
                . '<input type="checkbox" name="' . $name . '" value="on"' . ($value === 'on' ? ' checked' : '') . '>';
        } elseif ($field['type'] === 'dropdown') {
            $input = '<select class="form-control select-inline" name="' . $name . '">';
            foreach ($field['options'] as $option) {
                $input .= '<option value="' . $e($option) . '"' . ($option === $value ? ' selected' : '') . '>' . $e($option) . '</option>';
            }
            $input .= '</select>';
        } else {
            $input = '<input type="text" class="form-control input-300 input-inline" name="' . $name . '" value="' . $e($value) . '">';
        }
        $rows .= '<tr><td class="fieldlabel">' . $e($field['label']) . '</td><td class="fieldarea">' . $input
            . ($field['help'] !== '' ? ' <span class="text-muted">' . $e($field['help']) . '</span>' : '') . '</td></tr>';
    }
    return '<div id="puq-kvm-product-settings" style="margin-top:15px"><h4>PUQ Proxmox KVM: more settings</h4>'
        . '<table class="form" width="100%"><tbody>' . $rows . '</tbody></table></div>';
}

/**
 * Saves the panel's settings for a product (the ProductEdit hook). Nothing is saved when a
 * value is invalid; the reason goes to the activity log and the module log.
 */
function puqProxmoxKVM_save_product_settings(int $productId, array $values): bool
{
    return puqProxmoxKVM_call('SaveProductSettings', ['pid' => $productId, 'settings' => $values], static function ($kvm) use ($productId, $values): bool {
        $kvm->products()->saveSettings($productId, array_map('strval', $values));
        return true;
    }, static function (string $message) use ($productId): bool {
        if (function_exists('logActivity')) {
            logActivity("PUQ Proxmox KVM: settings of product $productId were not saved - $message");
        }
        return false;
    });
}
