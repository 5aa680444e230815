//! Activation, upgrades and deactivation against a real MariaDB.

mod common;

use common::TestDb;
use puq_proxmox_kvm::db::migrations::{self, latest_version, module_tables, MIGRATIONS};
use puq_proxmox_kvm::runtime::block_on;
use serde_json::json;

/// A row for each module table, keyed by the table name, and a query that reads it back.
fn fixtures() -> Vec<(&'static str, &'static str, &'static str)> {
    vec![
        (
            "puqProxmoxKVM_vm_info",
            "INSERT INTO puqProxmoxKVM_vm_info (service_id) VALUES (5546)",
            "SELECT service_id FROM puqProxmoxKVM_vm_info",
        ),
        (
            "puq_proxmox_kvm_settings",
            "INSERT INTO puq_proxmox_kvm_settings (setting, value) VALUES ('heavy_timeout', '120')",
            "SELECT CONCAT(setting, '=', value) FROM puq_proxmox_kvm_settings WHERE setting = 'heavy_timeout'",
        ),
        (
            "puq_proxmox_kvm_cron_tasks",
            "INSERT INTO puq_proxmox_kvm_cron_tasks (task, last_status) VALUES ('processVirtualMachines', 'success')",
            "SELECT CONCAT(task, ':', last_status) FROM puq_proxmox_kvm_cron_tasks",
        ),
        (
            "puq_proxmox_kvm_locks",
            "INSERT INTO puq_proxmox_kvm_locks VALUES ('cron', 'host-a:123', NOW(), NOW())",
            "SELECT CONCAT(name, ':', owner) FROM puq_proxmox_kvm_locks",
        ),
        (
            "puq_proxmox_kvm_vm_runs",
            "INSERT INTO puq_proxmox_kvm_vm_runs (service_id, kind, started_at, steps) VALUES (5546, 'deploy', NOW(3), '[]')",
            "SELECT CONCAT(service_id, ':', kind) FROM puq_proxmox_kvm_vm_runs",
        ),
        (
            "puq_proxmox_kvm_product_settings",
            "INSERT INTO puq_proxmox_kvm_product_settings VALUES (7, 'backup_storage', 'nfs-backup|nfs')",
            "SELECT CONCAT(product_id, ':', value) FROM puq_proxmox_kvm_product_settings",
        ),
    ]
}

#[test]
fn activation_creates_every_table_and_repeating_it_changes_nothing() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    let first = block_on(kvm.activate()).unwrap();
    assert_eq!(first.migrations.from, 0);
    assert_eq!(first.migrations.to, latest_version());
    assert_eq!(first.migrations.applied.len(), MIGRATIONS.len());
    let mut expected: Vec<String> = module_tables().iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(db.module_tables(), expected);

    let schema_before = db.value(
        "SELECT GROUP_CONCAT(TABLE_NAME, '.', COLUMN_NAME, ':', COLUMN_TYPE ORDER BY TABLE_NAME, ORDINAL_POSITION) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
    );
    let installation =
        db.value("SELECT value FROM puq_proxmox_kvm_settings WHERE setting = 'installation_id'");
    assert_eq!(installation.len(), 36, "a UUID is stamped: {installation}");

    let second = block_on(kvm.activate()).unwrap();
    assert!(second.migrations.applied.is_empty());
    assert!(
        second.message.contains("nothing was changed"),
        "{}",
        second.message
    );
    let schema_after = db.value(
        "SELECT GROUP_CONCAT(TABLE_NAME, '.', COLUMN_NAME, ':', COLUMN_TYPE ORDER BY TABLE_NAME, ORDINAL_POSITION) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()",
    );
    assert_eq!(schema_before, schema_after);
    assert_eq!(
        db.value("SELECT value FROM puq_proxmox_kvm_settings WHERE setting = 'installation_id'"),
        installation,
        "the installation id never changes"
    );
}

#[test]
fn an_upgrade_from_every_earlier_version_keeps_every_row() {
    for from in 0..latest_version() {
        let db = TestDb::whmcs();
        let mut conn = block_on(db.db().conn()).unwrap();
        let report = block_on(migrations::migrate(&mut conn, Some(from))).unwrap();
        assert_eq!(report.to, from);
        drop(conn);

        let present: Vec<_> = fixtures()
            .into_iter()
            .filter(|(table, _, _)| db.module_tables().iter().any(|t| t == table))
            .collect();
        let mut before = Vec::new();
        for (_, insert, read) in &present {
            db.value(insert);
            before.push(db.value(read));
        }

        let activation = block_on(db.kvm().activate()).unwrap();
        assert_eq!(activation.migrations.from, from);
        assert_eq!(activation.migrations.to, latest_version());
        assert_eq!(
            activation.migrations.applied,
            ((from + 1)..=latest_version()).collect::<Vec<_>>()
        );
        for ((table, _, read), expected) in present.iter().zip(&before) {
            assert_eq!(
                &db.value(read),
                expected,
                "{table} lost its row upgrading from v{from}"
            );
        }
        // Settings written under an earlier version are still in force.
        if from >= 1 {
            assert_eq!(block_on(db.kvm().settings()).unwrap().heavy_timeout, 120);
        }
    }
}

#[test]
fn a_vm_table_from_an_earlier_release_is_kept_and_completed() {
    let db = TestDb::whmcs();
    db.value(
        "CREATE TABLE puqProxmoxKVM_vm_info (service_id int(10) NOT NULL PRIMARY KEY, vm_id int(10) DEFAULT NULL, \
         vm_status varchar(64) NOT NULL DEFAULT '', vm_rev_dns text) ENGINE=InnoDB",
    );
    db.value(
        "INSERT INTO puqProxmoxKVM_vm_info VALUES (5550, 2003, 'ready', '{\"192.168.130.3\":\"mail.example.com\"}')",
    );
    block_on(db.kvm().activate()).unwrap();
    assert_eq!(
        db.value("SELECT CONCAT(vm_id, ' ', vm_status, ' ', vm_rev_dns, ' [', vm_name, '] ', vm_snapshots) FROM puqProxmoxKVM_vm_info"),
        "2003 ready {\"192.168.130.3\":\"mail.example.com\"} [] 0"
    );
}

#[test]
fn deactivation_keeps_tables_unless_asked_to_drop_them() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    db.value("INSERT INTO puqProxmoxKVM_vm_info (service_id) VALUES (1)");

    let kept = block_on(kvm.deactivate()).unwrap();
    assert!(kept.dropped.is_empty());
    assert_eq!(db.module_tables().len(), module_tables().len());
    assert_eq!(db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info"), "1");

    let on = json!({"delete_tables_on_deactivate": "on"});
    block_on(kvm.save_settings(on.as_object().unwrap())).unwrap();
    let dropped = block_on(kvm.deactivate()).unwrap();
    assert_eq!(dropped.dropped.len(), module_tables().len());
    assert!(db.module_tables().is_empty());
    // WHMCS's own tables are never touched.
    assert_eq!(db.value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tblhosting'"), "1");

    // Reactivation starts over cleanly.
    let again = block_on(kvm.activate()).unwrap();
    assert_eq!(again.migrations.from, 0);
}

#[test]
fn a_database_newer_than_the_build_is_refused() {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    db.value(
        "INSERT INTO puq_proxmox_kvm_migrations (version, name) VALUES (999, 'from the future')",
    );
    let err = block_on(db.kvm().activate()).unwrap_err();
    assert!(err.to_string().contains("schema version 999"), "{err}");
}

#[test]
fn invalid_settings_save_nothing() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    let bad = json!({"default_timeout": 30, "heavy_timeout": 601});
    let err = block_on(kvm.save_settings(bad.as_object().unwrap())).unwrap_err();
    assert_eq!(err.field(), Some("heavy_timeout"));
    assert_eq!(
        db.value(
            "SELECT COUNT(*) FROM puq_proxmox_kvm_settings WHERE setting <> 'installation_id'"
        ),
        "0"
    );
    let good = json!({"default_timeout": 30, "cron_mode": "standalone"});
    let saved = block_on(kvm.save_settings(good.as_object().unwrap())).unwrap();
    assert_eq!(saved.default_timeout, 30);
    assert_eq!(
        db.value("SELECT GROUP_CONCAT(setting, '=', value ORDER BY setting) FROM puq_proxmox_kvm_settings WHERE setting <> 'installation_id'"),
        "cron_mode=standalone,default_timeout=30"
    );
}

#[test]
fn dashboard_counts_active_services_of_this_module_only() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, gid, name, servertype) VALUES (1, 'server', 1, 'VPS', 'puqProxmoxKVM'), (2, 'hostingaccount', 1, 'Web', 'cpanel')");
    for (id, pid, status) in [
        (1, 1, "Active"),
        (2, 1, "Active"),
        (3, 1, "Terminated"),
        (4, 2, "Active"),
    ] {
        db.value(&format!(
            "SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES ({id}, 1, {pid}, 1, '{status}')"
        ));
    }
    let d = block_on(kvm.dashboard()).unwrap();
    assert_eq!(d.kvm_services, 2);
}
