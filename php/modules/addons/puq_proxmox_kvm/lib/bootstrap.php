<?php
/**
 * Glue shared by the addon and server module: finds the extension, connects it to the WHMCS
 * database once per request, and turns exceptions into the answers WHMCS expects.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

const PUQ_PROXMOX_KVM_EXTENSION_HELP = 'The puq_proxmox_kvm PHP extension is not loaded: add '
    . '"extension=/path/to/libpuq_proxmox_kvm.so" to the php.ini of both the PHP CLI (cron) and '
    . 'PHP-FPM/Apache (admin pages), then restart PHP-FPM. See the README, "Install into WHMCS".';

/** Whether the extension is loaded into this PHP process. */
function puq_proxmox_kvm_extension_loaded(): bool
{
    return class_exists('PuqProxmoxKvm\\Module', false);
}

/** The module version for WHMCS's addon list, or a hint when the extension is missing. */
function puq_proxmox_kvm_version(): string
{
    return puq_proxmox_kvm_extension_loaded()
        ? \PuqProxmoxKvm\Module::buildInfo()['version']
        : 'extension not loaded';
}

/**
 * The connection settings of WHMCS's own database, read from configuration.php the way
 * WHMCS reads them, in the form \PuqProxmoxKvm\Module::connect() takes.
 */
function puq_proxmox_kvm_db_settings(): array
{
    $db_host = $db_port = $db_username = $db_password = $db_name = $cc_encryption_hash = null;
    $db_socket = null;
    include ROOTDIR . '/configuration.php';
    return [
        'host' => (string) $db_host,
        'port' => $db_port === null || $db_port === '' ? null : (int) $db_port,
        'user' => (string) $db_username,
        'password' => (string) $db_password,
        'database' => (string) $db_name,
        'socket' => $db_socket,
        'encryption_key' => (string) $cc_encryption_hash,
    ];
}

/**
 * The module connected to the WHMCS database; connected once per process and settings.
 *
 * @throws \RuntimeException when the extension is not loaded
 * @throws \PuqProxmoxKvm\Exception\ModuleException when the database cannot be reached
 */
function puq_proxmox_kvm(): \PuqProxmoxKvm\Module
{
    static $modules = [];
    if (!puq_proxmox_kvm_extension_loaded()) {
        throw new \RuntimeException(PUQ_PROXMOX_KVM_EXTENSION_HELP);
    }
    // Keyed by the settings, so a process that switches configuration.php reconnects.
    $settings = puq_proxmox_kvm_db_settings();
    return $modules[serialize($settings)] ??= \PuqProxmoxKvm\Module::connect($settings);
}

/** Writes to WHMCS's module log (System Logs > Module Log), masking $secrets. */
function puq_proxmox_kvm_log(string $action, $request, $response, array $secrets = []): void
{
    if (function_exists('logModuleCall')) {
        logModuleCall('puq_proxmox_kvm', $action, $request, $response, '', $secrets);
    }
}

/**
 * The passwords of the module's Proxmox server entries, decrypted the way WHMCS stores them
 * (server id => password): the core needs them to call Proxmox and cannot decrypt them itself.
 */
function puq_proxmox_kvm_server_passwords(): array
{
    $passwords = [];
    foreach (puq_proxmox_kvm()->cron()->encryptedServerPasswords() as $id => $encrypted) {
        $passwords[$id] = $encrypted === '' ? '' : (string) decrypt($encrypted);
    }
    return $passwords;
}

/**
 * Runs an addon life-cycle step (activate, deactivate) and answers as WHMCS expects:
 * ['status' => 'success'|'error', 'description' => ...].
 */
function puq_proxmox_kvm_lifecycle(string $step): array
{
    try {
        $report = puq_proxmox_kvm()->{$step}();
        return ['status' => 'success', 'description' => 'PUQ Proxmox KVM: ' . $report['message']];
    } catch (\Throwable $e) {
        puq_proxmox_kvm_log($step, '', get_class($e) . ': ' . $e->getMessage());
        return ['status' => 'error', 'description' => 'PUQ Proxmox KVM could not ' . $step . ': ' . $e->getMessage()];
    }
}
