//! IPAM against MariaDB, below the PHP layer: the unique key is the guard, concurrent claims on
//! many connections never collide, candidates come from the addresses in use, and the Dashboard
//! counts pools.

mod common;

use common::TestDb;
use puq_proxmox_kvm::runtime::block_on;
use serde_json::{json, Map, Value};

fn fields(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A WHMCS database with the module activated, server 1 (pve-1), and services 1..=n of a product
/// asking for `v4` IPv4 and `v6` IPv6 addresses on vmbr0.
fn world(n: u32, v4: u32, v6: u32) -> TestDb {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblservers (id, name, type, assignedips) VALUES (1, 'pve-1', 'puqProxmoxKVM', '')");
    db.value(&format!(
        "SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, gid, name, servertype, configoption14, configoption15, configoption16, configoption17) \
         VALUES (1, 'server', 1, 'VPS', 'puqProxmoxKVM', 'vmbr0', '0', '{v4}', '{v6}')"
    ));
    let rows: Vec<String> = (1..=n)
        .map(|i| format!("({i}, 1, 1, 1, 'Active', '', '')"))
        .collect();
    if !rows.is_empty() {
        db.value(&format!(
            "SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus, dedicatedip, assignedips) VALUES {}",
            rows.join(",")
        ));
    }
    db
}

#[test]
fn the_unique_key_refuses_a_second_holder() {
    let db = world(2, 1, 0);
    let pools = db.kvm().ip_pools();
    block_on(pools.create(&fields(json!({
        "server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "10.0.0.1",
        "mask": 24, "address_start": "10.0.0.2", "address_stop": "10.0.0.254"
    }))))
    .unwrap();
    let got = block_on(pools.allocate(1)).unwrap();
    assert_eq!(got[0].address, "10.0.0.2");
    // A writer that skips the module (or a buggy one) cannot hold the same address.
    let out = std::process::Command::new("mariadb")
        .args(["-h", "127.0.0.1", "-u", "root", &db.name, "-e"])
        .arg("INSERT INTO puq_proxmox_kvm_ip_allocations (address, ip, family, service_id, server_id, source, bridge, gateway, prefix) \
              SELECT address, ip, family, 2, server_id, source, bridge, gateway, prefix FROM puq_proxmox_kvm_ip_allocations")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Duplicate entry"));
}

#[test]
fn concurrent_claims_on_many_connections_never_collide() {
    let db = world(120, 2, 1);
    let pools = db.kvm().ip_pools();
    block_on(pools.create(&fields(json!({
        "server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "10.1.0.1",
        "mask": 24, "address_start": "10.1.0.2", "address_stop": "10.1.0.254"
    }))))
    .unwrap();
    block_on(pools.create(&fields(json!({
        "server_id": 1, "type": "IPv6", "bridge": "vmbr0", "vlan": 0, "gateway": "2001:db8:5::1",
        "mask": 48, "address_start": "2001:db8:5::2", "address_stop": "2001:db8:5:ffff:ffff:ffff:ffff:ffff"
    }))))
    .unwrap();
    // 120 services want 240 IPv4 addresses from a pool of 253, all at once: every claim
    // interleaves with the others on its own connection.
    let results = block_on(async {
        let futures: Vec<_> = (1..=120).map(|s| pools.allocate(s)).collect();
        futures_join(futures).await
    });
    let mut seen = std::collections::HashSet::new();
    for r in results {
        let addresses = r.unwrap();
        assert_eq!(addresses.len(), 3);
        for a in addresses {
            assert!(
                seen.insert(a.address.clone()),
                "{} handed out twice",
                a.address
            );
        }
    }
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations"),
        "360"
    );
    // The pool now has 13 left: a service wanting 2 more than that fails whole.
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES (121, 1, 1, 1, 'Active')");
    db.value("UPDATE tblproducts SET configoption16 = '15'");
    let err = block_on(pools.allocate(121)).unwrap_err();
    assert!(
        err.to_string().contains(
            "has 13 free IPv4 address(es) on bridge vmbr0 VLAN 0 but service 121 needs 15"
        ),
        "{err}"
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 121"),
        "0"
    );
}

/// Polls every future together on the current-thread runtime until all are ready.
async fn futures_join<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in pinned.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|o| o.expect("every future finished"))
        .collect()
}

#[test]
fn candidates_come_from_the_addresses_in_use_even_in_a_48() {
    let db = world(1, 0, 1);
    let pools = db.kvm().ip_pools();
    let id = block_on(pools.create(&fields(json!({
        "server_id": 1, "type": "IPv6", "bridge": "vmbr0", "vlan": 0, "gateway": "2001:db8:7::1",
        "mask": 48, "address_start": "2001:db8:7::2", "address_stop": "2001:db8:7:ffff:ffff:ffff:ffff:ffff"
    }))))
    .unwrap();
    // 10,000 addresses in use from the start of the range (service 999 is someone else's).
    db.value(&format!(
        "INSERT INTO puq_proxmox_kvm_ip_allocations (address, ip, family, service_id, server_id, pool_id, source, bridge, gateway, prefix) \
         SELECT p.start_num + s.seq, CONCAT('x', s.seq), 6, 999, 1, p.id, 'pool', 'vmbr0', p.gateway, 48 \
         FROM puq_proxmox_kvm_ip_pools p JOIN seq_0_to_9999 s WHERE p.id = {id}"
    ));
    let got = block_on(pools.allocate(1)).unwrap();
    assert_eq!(
        got[0].address, "2001:db8:7::2712",
        "the next above the 10,000 in use (0x2 + 10000)"
    );
    let view = block_on(pools.get(id)).unwrap();
    assert_eq!(view.used, 10_001);
    assert_eq!(view.total, json!("1208925819614629174706174"));
    // The top of a small range used up: the lowest gap is found.
    db.value("DELETE FROM puq_proxmox_kvm_ip_allocations WHERE ip = 'x17'");
    db.value("UPDATE puq_proxmox_kvm_ip_pools SET address_stop = '2001:db8:7::2712', stop_num = start_num + 10000");
    db.value("UPDATE tblproducts SET configoption17 = '2'");
    let grown = block_on(pools.resize(1)).unwrap();
    assert_eq!(
        grown[1].address, "2001:db8:7::13",
        "the gap left by x17 (0x2 + 17)"
    );
}

#[test]
fn the_dashboard_counts_pools() {
    let db = world(0, 0, 0);
    let kvm = db.kvm();
    assert_eq!(block_on(kvm.dashboard()).unwrap().ip_pools, Some(0));
    block_on(kvm.ip_pools().create(&fields(json!({
        "server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "10.9.0.1",
        "mask": 24, "address_start": "10.9.0.2", "address_stop": "10.9.0.9"
    }))))
    .unwrap();
    assert_eq!(block_on(kvm.dashboard()).unwrap().ip_pools, Some(1));
}
