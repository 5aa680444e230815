//! Product configuration against a real MariaDB: slots, the product settings table and
//! configurable options resolved for a service.

mod common;

use common::TestDb;
use puq_proxmox_kvm::product::{self, Source};
use puq_proxmox_kvm::runtime::block_on;
use puq_proxmox_kvm::Error;
use serde_json::json;

/// Runs `sql` without strict mode, so WHMCS's many NOT NULL columns take their implicit defaults.
fn insert(db: &TestDb, sql: &str) {
    db.value(&format!("SET SESSION sql_mode = ''; {sql}"));
}

/// A product with `slots` (1-based slot => value), a service of it, and its id.
fn product_and_service(db: &TestDb, slots: &[(usize, &str)]) -> (u64, u64) {
    let mut columns = String::new();
    let mut values = String::new();
    for (n, v) in slots {
        columns.push_str(&format!(", configoption{n}"));
        values.push_str(&format!(", '{v}'"));
    }
    insert(db, &format!(
        "INSERT INTO tblproducts (id, type, gid, name, servertype{columns}) VALUES (7, 'server', 1, 'VPS', 'puqProxmoxKVM'{values})"
    ));
    insert(db, "INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES (34, 12, 7, 1, 'Active')");
    (7, 34)
}

fn option(db: &TestDb, id: u64, name: &str, kind: u8, sub: Option<&str>, qty: i64) {
    insert(db, &format!(
        "INSERT INTO tblproductconfigoptions (id, gid, optionname, optiontype, qtyminimum, qtymaximum, hidden) VALUES ({id}, 1, '{name}', '{kind}', 0, 100, 0)"
    ));
    let sub_id = id * 10;
    if let Some(sub) = sub {
        insert(db, &format!("INSERT INTO tblproductconfigoptionssub (id, configid, optionname, sortorder, hidden) VALUES ({sub_id}, {id}, '{sub}', 0, 0)"));
    }
    insert(db, &format!("INSERT INTO tblhostingconfigoptions (relid, configid, optionid, qty) VALUES (34, {id}, {sub_id}, {qty})"));
}

#[test]
fn a_service_resolves_to_product_values_overridden_by_its_options() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    let (pid, sid) = product_and_service(
        &db,
        &[
            (1, "pve2"),
            (2, "9000"),
            (4, "2"),
            (5, "4"),
            (10, "20"),
            (18, "on"),
            (21, "vps.example.net"),
            (22, "3"),
        ],
    );
    let mut conn = block_on(kvm.db().conn()).unwrap();

    let saved = block_on(product::save_settings(&mut conn, pid, &json!({"backup_storage": "nfs-backup|nfs", "system_disk_mbps_rd": 50, "client_iso": false}).as_object().unwrap().clone())).unwrap();
    assert_eq!(saved["backup_storage"], "nfs-backup|nfs");
    assert_eq!(db.value("SELECT value FROM puq_proxmox_kvm_product_settings WHERE product_id = 7 AND setting = 'system_disk_mbps_rd'"), "50");

    // Plain names beat legacy prefixes; an assigned 0 wins.
    option(&db, 1, "CPU|Processor", 1, Some("8|8 cores"), 0);
    option(&db, 2, "CPU Cores", 1, Some("6|6 cores"), 0);
    option(&db, 3, "Additional Disk", 4, None, 0);
    option(&db, 4, "OS|Operating system", 1, Some("9001|Debian 12"), 0);

    let config = block_on(product::resolve(&mut conn, sid)).unwrap();
    assert_eq!(config.product_id, pid);
    assert_eq!(config.target_node(), Some("pve2"));
    assert_eq!(config.int("cpu_cores"), 6);
    assert_eq!(config.source("cpu_cores"), Source::ConfigOption);
    assert_eq!(config.ram_mib(), 4096);
    assert_eq!(config.source("ram_gb"), Source::Product);
    assert_eq!(
        config.int("additional_disk_gb"),
        0,
        "an assigned 0 removes the disk"
    );
    assert_eq!(config.template_vmid(), Some(9001));
    assert!(config.on("auto_bridge_vlan"));
    assert!(!config.on("dhcp_ipv4"), "a yes/no slot saved empty is off");
    assert_eq!(config.fqdn("c12-s34"), "c12-s34.vps.example.net");
    assert_eq!(config.number("system_disk_mbps_rd"), 50.0);
    assert!(!config.on("client_iso"));
    assert!(
        config.on("client_start"),
        "unsaved settings keep their defaults"
    );
    assert_eq!(config.int("max_backups"), 3);

    // Nothing is saved when one value is wrong, and the error names the field.
    let err = block_on(product::save_settings(
        &mut conn,
        pid,
        &json!({"iso_storage": "local", "firewall_policy_in": "OPEN"})
            .as_object()
            .unwrap()
            .clone(),
    ))
    .unwrap_err();
    assert_eq!(err.field(), Some("firewall_policy_in"));
    assert_eq!(
        db.value(
            "SELECT COUNT(*) FROM puq_proxmox_kvm_product_settings WHERE setting = 'iso_storage'"
        ),
        "0"
    );

    // A bad slot names its configoption.
    db.value("UPDATE tblproducts SET configoption4 = 'many' WHERE id = 7");
    db.value("DELETE FROM tblhostingconfigoptions");
    let err = block_on(product::resolve(&mut conn, sid)).unwrap_err();
    assert_eq!(err.field(), Some("configoption4"), "{err}");
    assert!(matches!(
        block_on(product::resolve(&mut conn, 999)).unwrap_err(),
        Error::NotFound(_)
    ));
}

#[test]
fn before_the_addon_is_activated_a_service_resolves_with_default_settings() {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    let (pid, sid) = product_and_service(&db, &[(4, "3")]);
    assert_eq!(
        db.value("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'puq_proxmox_kvm_product_settings'"),
        "0"
    );
    let mut conn = block_on(kvm.db().conn()).unwrap();
    let service = block_on(product::resolve_service(&mut conn, sid)).unwrap();
    assert_eq!((service.server_id, service.client_id), (1, 12));
    assert_eq!(service.config.product_id, pid);
    assert_eq!(service.config.int("cpu_cores"), 3);
    assert_eq!(service.config.text("system_disk_mbps_rd"), "0");
    assert_eq!(
        block_on(product::resolve(&mut conn, sid)).unwrap(),
        service.config
    );
}
