<?php
/**
 * The addon's admin pages (rendered inside WHMCS's admin area by _output) and their JSON
 * actions (same module link plus `action=`). All data comes from the extension.
 */

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

const PUQ_PROXMOX_KVM_PAGES = [
    'home' => 'Home',
    'ip_pools' => 'IP Pools',
    'dns_zones' => 'DNS Zones',
    'vm_management' => 'VM Management',
    'settings' => 'Settings',
    'help' => 'Help',
];

/** HTML-escapes a value for output. */
function puq_e($value): string
{
    return htmlspecialchars((string) $value, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}

/** The JSON actions: name => [method, handler(Module, array $input): array]. */
function puq_proxmox_kvm_actions(): array
{
    return [
        'dashboard' => ['GET', fn ($kvm, $in) => $kvm->dashboard()],
        'settings' => ['GET', fn ($kvm, $in) => $kvm->settings()],
        'save_settings' => ['POST', fn ($kvm, $in) => $kvm->saveSettings($in)],
        'cron_tasks' => ['GET', fn ($kvm, $in) => $kvm->cron()->tasks()],
        'vm_list' => ['GET', fn ($kvm, $in) => $kvm->vms()->list($in)],
        'vm_log' => ['GET', fn ($kvm, $in) => $kvm->vms()->log(puq_id($in, 'service_id'))],
        'vm_record' => ['GET', fn ($kvm, $in) => $kvm->vms()->record(puq_id($in, 'service_id'))],
        'vm_reset' => ['POST', function ($kvm, $in) {
            $id = puq_id($in, 'service_id');
            $kvm->vms()->reset($id, (string) ($in['status'] ?? ''));
            return ['service_id' => $id, 'vm_status' => $in['status']];
        }],
        'vm_record_save' => ['POST', function ($kvm, $in) {
            $id = puq_id($in, 'service_id');
            $kvm->vms()->updateRecord($id, (array) ($in['record'] ?? []));
            return $kvm->vms()->record($id);
        }],
        'vm_redeploy' => ['POST', function ($kvm, $in) {
            $id = puq_id($in, 'service_id');
            $kvm->vms()->redeploy($id, puq_proxmox_kvm_server_passwords());
            return ['service_id' => $id, 'vm_status' => 'creation'];
        }],
        'vm_record_delete' => ['POST', function ($kvm, $in) {
            $id = puq_id($in, 'service_id');
            $kvm->vms()->deleteRecord($id);
            return ['deleted' => $id];
        }],
        'ip_pools' => ['GET', fn ($kvm, $in) => $kvm->ipPools()->list()],
        'ip_pool_servers' => ['GET', fn ($kvm, $in) => $kvm->ipPools()->servers()],
        'create_ip_pool' => ['POST', fn ($kvm, $in) => $kvm->ipPools()->get($kvm->ipPools()->create(puq_without_id($in)))],
        'update_ip_pool' => ['POST', function ($kvm, $in) {
            $id = puq_id($in);
            $kvm->ipPools()->update($id, puq_without_id($in));
            return $kvm->ipPools()->get($id);
        }],
        'delete_ip_pool' => ['POST', function ($kvm, $in) {
            $id = puq_id($in);
            $kvm->ipPools()->delete($id);
            return ['deleted' => $id];
        }],
        'dns_zones' => ['GET', fn ($kvm, $in) => $kvm->dnsZones()->list()],
        'dns_zone_save' => ['POST', static function ($kvm, $in) {
            $id = puq_id($in);
            return $id > 0 ? $kvm->dnsZones()->update($id, puq_without_id($in)) : $kvm->dnsZones()->create(puq_without_id($in));
        }],
        'dns_zone_delete' => ['POST', static function ($kvm, $in) {
            $id = puq_id($in);
            $kvm->dnsZones()->delete($id);
            return ['deleted' => $id];
        }],
        'dns_zone_test' => ['POST', fn ($kvm, $in) => $kvm->dnsZones()->test(puq_id($in))],
    ];
}

/** A form's fields from a request: everything but the record's id. */
function puq_without_id(array $in): array
{
    unset($in['id']);
    return $in;
}

/** The id `$key` of a request; 0 (refused by the module as not an id) when missing. */
function puq_id(array $in, string $key = 'id'): int
{
    return (int) ($in[$key] ?? 0);
}

function puq_proxmox_kvm_render_page(array $vars): void
{
    if (isset($_GET['action'])) {
        puq_proxmox_kvm_run_action((string) $_GET['action']);
    }
    $page = isset($_GET['page'], PUQ_PROXMOX_KVM_PAGES[$_GET['page']]) ? $_GET['page'] : 'home';
    $view = [
        'link' => $vars['modulelink'] ?? 'addonmodules.php?module=puq_proxmox_kvm',
        'page' => $page,
        'pages' => PUQ_PROXMOX_KVM_PAGES,
        'version' => puq_proxmox_kvm_version(),
        'token' => function_exists('generate_token') ? generate_token('plain') : '',
        'error' => puq_proxmox_kvm_extension_loaded() ? null : PUQ_PROXMOX_KVM_EXTENSION_HELP,
    ];
    include __DIR__ . '/../templates/layout.php';
}

/** Answers a JSON action and ends the request. */
function puq_proxmox_kvm_run_action(string $name): void
{
    $actions = puq_proxmox_kvm_actions();
    if (!isset($actions[$name])) {
        puq_proxmox_kvm_json(404, ['ok' => false, 'error' => "unknown action '$name'"]);
    }
    [$method, $handler] = $actions[$name];
    if ($_SERVER['REQUEST_METHOD'] !== $method) {
        puq_proxmox_kvm_json(405, ['ok' => false, 'error' => "action '$name' takes $method requests"]);
    }
    if ($method === 'POST') {
        check_token('WHMCS.admin.default');
    }
    $input = $method === 'POST' ? $_POST : $_GET;
    unset($input['token'], $input['module'], $input['action'], $input['page']);
    try {
        puq_proxmox_kvm_json(200, ['ok' => true, 'data' => $handler(puq_proxmox_kvm(), $input)]);
    } catch (\PuqProxmoxKvm\Exception\ValidationException $e) {
        puq_proxmox_kvm_json(422, ['ok' => false, 'error' => $e->getMessage(), 'field' => $e->getField()]);
    } catch (\PuqProxmoxKvm\Exception\NotFoundException $e) {
        puq_proxmox_kvm_json(404, ['ok' => false, 'error' => $e->getMessage()]);
    } catch (\PuqProxmoxKvm\Exception\ConflictException $e) {
        puq_proxmox_kvm_json(409, ['ok' => false, 'error' => $e->getMessage()]);
    } catch (\Throwable $e) {
        puq_proxmox_kvm_log("action $name", $input, get_class($e) . ': ' . $e->getMessage());
        puq_proxmox_kvm_json(500, ['ok' => false, 'error' => $e->getMessage()]);
    }
}

/** Sends $body as JSON, discarding any page output buffered so far, and exits. */
function puq_proxmox_kvm_json(int $status, array $body): void
{
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    http_response_code($status);
    header('Content-Type: application/json; charset=utf-8');
    header('Cache-Control: no-store');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
    exit;
}
