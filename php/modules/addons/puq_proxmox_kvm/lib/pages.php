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
        'dns_zones' => ['GET', fn ($kvm, $in) => $kvm->dnsZones()->list()],
        'dns_zone_save' => ['POST', static function ($kvm, $in) {
            $id = (int) ($in['id'] ?? 0);
            unset($in['id']);
            return $id > 0 ? $kvm->dnsZones()->update($id, $in) : $kvm->dnsZones()->create($in);
        }],
        'dns_zone_delete' => ['POST', static function ($kvm, $in) {
            $kvm->dnsZones()->delete((int) ($in['id'] ?? 0));
            return ['deleted' => (int) $in['id']];
        }],
        'dns_zone_test' => ['POST', fn ($kvm, $in) => $kvm->dnsZones()->test((int) ($in['id'] ?? 0))],
    ];
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
