//! VM Management against MariaDB: the list (search, filters, sort, paging) through its
//! index, Reset, the DB Record editor and Delete Record.

mod common;

use common::TestDb;
use puq_proxmox_kvm::runtime::block_on;
use puq_proxmox_kvm::vm::admin::{self, ListQuery};
use puq_proxmox_kvm::vm::list_index;
use serde_json::json;

fn fleet() -> TestDb {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblclients (id, firstname, lastname, companyname) VALUES (1, 'Ruslan', 'Poloviy', ''), (2, 'Ada', 'Lovelace', 'Engines Ltd')");
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, name, configoption21) VALUES (1, 'VPS Start', '.puqcloud.com'), (2, 'VPS Pro', 'puqcloud.com')");
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblservers (id, name) VALUES (1, 'pve-waw1'), (2, 'pve-fra1')");
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus, dedicatedip, assignedips) VALUES \
        (10, 1, 1, 1, 'Active', '192.168.130.3', ''), \
        (11, 2, 2, 2, 'Active', '192.168.130.4', '192.168.130.5\n2001:db8::3'), \
        (12, 1, 1, 2, 'Suspended', '10.0.0.9', ''), \
        (13, 2, 1, 1, 'Terminated', '', '')");
    db.value("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_id, vm_name, vm_status, vm_rev_dns) VALUES \
        (10, 2003, '10-1776530145', 'ready', NULL), \
        (11, 2004, '11-1776530149', 'ready', '{\"192.168.130.5\": \"mail.example.com\"}'), \
        (12, 2005, '12-1776530154', 'set_network', NULL), \
        (13, NULL, '', 'remove', NULL)");
    db
}

fn page(db: &TestDb, q: serde_json::Value) -> admin::ListPage {
    let query = ListQuery::from_map(q.as_object().unwrap()).unwrap();
    block_on(admin::list(&db.db(), &query)).unwrap()
}

fn ids(p: &admin::ListPage) -> Vec<i64> {
    p.rows.iter().map(|r| r.service_id).collect()
}

#[test]
fn the_list_searches_filters_sorts_and_pages() {
    let db = fleet();
    let all = page(&db, json!({}));
    assert_eq!((all.total, all.filtered), (4, 4));
    assert_eq!(ids(&all), [13, 12, 11, 10], "newest first");
    let eleven = &all.rows[1 + 1];
    assert_eq!(
        (
            eleven.client.as_str(),
            eleven.product.as_str(),
            eleven.server.as_str()
        ),
        ("Ada Lovelace", "VPS Pro", "pve-fra1")
    );
    let ips: Vec<String> = eleven
        .ips
        .iter()
        .map(|a| format!("{} {}", a.ip, a.rdns.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        ips,
        [
            "192.168.130.4 11-1776530149.puqcloud.com",
            "192.168.130.5 mail.example.com",
            "2001:db8::3 11-1776530149.puqcloud.com"
        ]
    );

    for (query, expected) in [
        (json!({"search": "192.168.130.5"}), vec![11]),
        (json!({"search": "192.168.130"}), vec![11, 10]),
        (json!({"search": "2001:0DB8::3"}), vec![11]),
        (json!({"search": "lovel"}), vec![13, 11]),
        (json!({"search": "ada love"}), vec![13, 11]),
        (json!({"search": "engines"}), vec![13, 11]),
        (json!({"search": "12-17765"}), vec![12]),
        (json!({"search": "#12"}), vec![12]),
        (json!({"search": "2004"}), vec![11]),
        (json!({"search": "%"}), vec![]),
        (json!({"service_status": "Active"}), vec![11, 10]),
        (json!({"vm_status": "ready", "search": "192"}), vec![11, 10]),
        (
            json!({"sort": "client", "dir": "asc"}),
            vec![11, 13, 10, 12],
        ),
        (
            json!({"sort": "server", "dir": "asc"}),
            vec![11, 12, 10, 13],
        ),
        (
            json!({"sort": "vm_status", "dir": "asc"}),
            vec![10, 11, 13, 12],
        ),
        (
            json!({"sort": "id", "dir": "asc", "start": 1, "length": 2}),
            vec![11, 12],
        ),
        // Each shape of query: the sorted copy alone, the VM table alone, both joined.
        (
            json!({"search": "192.168.130", "sort": "client", "dir": "asc"}),
            vec![11, 10],
        ),
        (json!({"service_status": "Terminated"}), vec![13]),
        (json!({"sort": "vm", "dir": "asc"}), vec![13, 10, 11, 12]),
        (
            json!({"vm_status": "set_network", "search": "poloviy"}),
            vec![12],
        ),
        (
            json!({"service_status": "Active", "vm_status": "ready", "sort": "vm", "dir": "desc"}),
            vec![11, 10],
        ),
        (
            json!({"vm_status": "ready", "sort": "client", "dir": "desc"}),
            vec![10, 11],
        ),
    ] {
        let p = page(&db, query.clone());
        assert_eq!(ids(&p), expected, "{query}");
        assert_eq!(p.total, 4);
    }
    assert_eq!(
        page(&db, json!({"search": "192.168.130", "length": 1})).filtered,
        2
    );
}

#[test]
fn changes_made_in_whmcs_reach_the_index() {
    let db = fleet();
    assert_eq!(ids(&page(&db, json!({"search": "lovelace"}))), [13, 11]);
    // An admin renames the client in WHMCS and moves a service's IP.
    db.value("UPDATE tblclients SET lastname = 'Byron' WHERE id = 2");
    db.value("UPDATE tblhosting SET dedicatedip = '172.16.0.1' WHERE id = 10");
    // Rows on screen are always live; searching catches up with the next pass (cron, or the
    // list itself when the last pass is older than five minutes).
    assert_eq!(
        page(&db, json!({"search": "192.168.130.4"})).rows[0].client,
        "Ada Byron"
    );
    assert_eq!(
        block_on(list_index::sync(&db.db(), None)).unwrap(),
        3,
        "both of the client's services and the moved IP"
    );
    assert_eq!(ids(&page(&db, json!({"search": "byron"}))), [13, 11]);
    assert!(ids(&page(&db, json!({"search": "lovelace"}))).is_empty());
    assert_eq!(ids(&page(&db, json!({"search": "172.16"}))), [10]);
    assert_eq!(
        block_on(list_index::sync(&db.db(), None)).unwrap(),
        0,
        "nothing changed since"
    );
    db.value("UPDATE puq_proxmox_kvm_settings SET value = value - 600 WHERE setting = 'vm_list_synced_at'");
    db.value("UPDATE tblclients SET firstname = 'Augusta' WHERE id = 2");
    assert_eq!(
        ids(&page(&db, json!({"search": "augusta"}))),
        [13, 11],
        "a stale index is refreshed by the list"
    );
}

#[test]
fn reset_only_to_rerunnable_states() {
    let db = fleet();
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_attempts = 3, vm_last_error = 'boom', vm_next_attempt_at = UTC_TIMESTAMP() + INTERVAL 1 HOUR, vm_task_upid = 'UPID:x' WHERE service_id = 12");
    let err = block_on(admin::reset(&db.db(), 12, "set_network")).unwrap_err();
    assert_eq!(err.field(), Some("status"));
    assert_eq!(
        db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 12"),
        "set_network"
    );
    block_on(admin::reset(&db.db(), 12, "creation")).unwrap();
    assert_eq!(
        db.value("SELECT CONCAT(vm_status, '|', vm_attempts, '|', vm_last_error IS NULL, '|', vm_next_attempt_at IS NULL, '|', vm_task_upid) FROM puqProxmoxKVM_vm_info WHERE service_id = 12"),
        "creation|0|1|1|"
    );
    assert!(matches!(
        block_on(admin::reset(&db.db(), 99, "ready")),
        Err(puq_proxmox_kvm::Error::NotFound(_))
    ));
}

#[test]
fn the_record_editor_checks_every_column() {
    let db = fleet();
    let record = block_on(admin::record(&db.db(), 11)).unwrap();
    assert_eq!(record["vm_id"], "2004");
    assert_eq!(
        record["vm_rev_dns"],
        "{\"192.168.130.5\": \"mail.example.com\"}"
    );
    for (changes, field) in [
        (json!({"vm_rev_dns": "{not json"}), "vm_rev_dns"),
        (json!({"vm_id": "two"}), "vm_id"),
        (json!({"vm_status": "exploded"}), "vm_status"),
        (json!({"service_id": "99"}), "service_id"),
        (json!({"no_such_column": "1"}), "no_such_column"),
        (json!({"vm_net0_mac": "x".repeat(18)}), "vm_net0_mac"),
        (
            json!({"vm_next_attempt_at": "tomorrow"}),
            "vm_next_attempt_at",
        ),
        (
            json!({"vm_name": "ok", "vm_snapshots": "1.5"}),
            "vm_snapshots",
        ),
    ] {
        let err = block_on(admin::update_record(
            &db.db(),
            11,
            changes.as_object().unwrap(),
        ))
        .unwrap_err();
        assert_eq!(err.field(), Some(field), "{changes}");
    }
    assert_eq!(
        db.value("SELECT vm_name FROM puqProxmoxKVM_vm_info WHERE service_id = 11"),
        "11-1776530149",
        "nothing half-written"
    );
    block_on(admin::update_record(
        &db.db(),
        11,
        json!({"vm_name": "renamed", "vm_rev_dns": "", "vm_snapshots": "2"})
            .as_object()
            .unwrap(),
    ))
    .unwrap();
    assert_eq!(db.value("SELECT CONCAT(vm_name, '|', vm_rev_dns IS NULL, '|', vm_snapshots) FROM puqProxmoxKVM_vm_info WHERE service_id = 11"), "renamed|1|2");
    assert_eq!(
        ids(&page(&db, json!({"search": "renamed"}))),
        [11],
        "the index follows the edit"
    );
}

#[test]
fn delete_record_only_when_removed_and_never_tblhosting() {
    let db = fleet();
    let err = block_on(admin::delete_record(&db.db(), 10)).unwrap_err();
    assert!(
        err.to_string()
            .contains("only in error_terminate or remove"),
        "{err}"
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE service_id = 10"),
        "1"
    );
    block_on(admin::delete_record(&db.db(), 13)).unwrap();
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE service_id = 13"),
        "0"
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM tblhosting WHERE id = 13"),
        "1"
    );
    assert_eq!(page(&db, json!({})).total, 3);
    assert!(ids(&page(&db, json!({"search": "lovelace"})))
        .iter()
        .all(|id| *id != 13));
}

#[test]
fn the_log_shows_runs_newest_first_with_a_failure_banner() {
    let db = fleet();
    db.value("INSERT INTO puq_proxmox_kvm_vm_runs (service_id, kind, started_at, finished_at, result, steps) VALUES (12, 'deploy', UTC_TIMESTAMP(3) - INTERVAL 1 DAY, UTC_TIMESTAMP(3), 'success', '[]')");
    db.value("INSERT INTO puq_proxmox_kvm_vm_runs (service_id, kind, started_at, result, error, steps) VALUES (12, 'change_package', UTC_TIMESTAMP(3), 'error', 'disk cannot shrink', '[{\"label\": \"Resize the system disk\"}]')");
    let log = block_on(admin::log(&db.db(), 12)).unwrap();
    assert_eq!(log.runs.len(), 2);
    assert_eq!(log.runs[0].kind, "change_package");
    assert_eq!(
        log.last_failure.as_deref(),
        Some("change_package: disk cannot shrink")
    );
    assert_eq!(log.runs[0].steps[0]["label"], "Resize the system disk");
    assert!(block_on(admin::log(&db.db(), 10))
        .unwrap()
        .last_failure
        .is_none());
}
