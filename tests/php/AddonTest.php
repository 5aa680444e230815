<?php
/**
 * The addon's WHMCS entry points through the harness: config, activate, deactivate, upgrade,
 * and the Dashboard and Settings pages' JSON actions.
 */

use PHPUnit\Framework\TestCase;

final class AddonTest extends TestCase
{
    private WhmcsHarness $whmcs;

    protected function setUp(): void
    {
        if (!extension_loaded('puq_proxmox_kvm')) {
            $this->markTestSkipped('run with -d extension=$PUQ_EXTENSION');
        }
        $this->whmcs = WhmcsHarness::create();
    }

    protected function tearDown(): void
    {
        if (isset($this->whmcs)) {
            $this->whmcs->destroy();
        }
    }

    private function moduleTables(): array
    {
        return $this->whmcs->pdo()->query(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            . "AND (TABLE_NAME LIKE 'puq\\_proxmox\\_kvm\\_%' OR TABLE_NAME = 'puqProxmoxKVM_vm_info') ORDER BY TABLE_NAME"
        )->fetchAll(PDO::FETCH_COLUMN);
    }

    public function testConfigDescribesTheModule(): void
    {
        $config = $this->whmcs->callAddon('config');
        $this->assertSame('PUQ Proxmox KVM', $config['name']);
        $this->assertSame(\PuqProxmoxKvm\Module::buildInfo()['version'], $config['version']);
    }

    public function testActivateCreatesTablesAndIsSafeToRepeat(): void
    {
        $first = $this->whmcs->callAddon('activate');
        $this->assertSame('success', $first['status'], $first['description']);
        $this->assertStringContainsString('created', $first['description']);
        $tables = $this->moduleTables();
        $this->assertContains('puqProxmoxKVM_vm_info', $tables);
        $this->assertContains('puq_proxmox_kvm_settings', $tables);

        $this->whmcs->pdo()->exec("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status) VALUES (7, 'ready')");
        $second = $this->whmcs->callAddon('activate');
        $this->assertSame('success', $second['status']);
        $this->assertStringContainsString('nothing was changed', $second['description']);
        $this->assertSame($tables, $this->moduleTables());
        $this->assertSame('ready', $this->whmcs->pdo()->query('SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 7')->fetchColumn());

        // WHMCS's _upgrade runs the same migrations.
        $this->whmcs->callAddon('upgrade', ['version' => '0.0.1']);
        $this->assertSame($tables, $this->moduleTables());
    }

    public function testDeactivateKeepsTablesUnlessTheSettingIsOn(): void
    {
        $this->whmcs->callAddon('activate');
        $kept = $this->whmcs->callAddon('deactivate');
        $this->assertSame('success', $kept['status']);
        $this->assertStringContainsString('kept', $kept['description']);
        $this->assertCount(7, $this->moduleTables());

        puq_proxmox_kvm()->saveSettings(['delete_tables_on_deactivate' => '1']);
        $dropped = $this->whmcs->callAddon('deactivate');
        $this->assertSame('success', $dropped['status']);
        $this->assertStringContainsString('7 tables were dropped', $dropped['description']);
        $this->assertSame([], $this->moduleTables());
        $this->assertSame('0', (string) $this->whmcs->pdo()->query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'puq%'")->fetchColumn());
    }

    public function testActivationFailureIsAClearWhmcsError(): void
    {
        // A table the module needs exists but is not the module's: MariaDB refuses the upgrade.
        $this->whmcs->pdo()->exec('CREATE TABLE puq_proxmox_kvm_migrations (version varchar(3)) ENGINE=InnoDB');
        $this->whmcs->pdo()->exec("INSERT INTO puq_proxmox_kvm_migrations VALUES ('abc')");
        $result = $this->whmcs->callAddon('activate');
        $this->assertSame('error', $result['status']);
        $this->assertStringStartsWith('PUQ Proxmox KVM could not activate: ', $result['description']);
        $log = $this->whmcs->moduleLog();
        $this->assertNotEmpty($log);
        $this->assertSame('activate', end($log)['action']);
    }
}
