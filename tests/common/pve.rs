//! A Proxmox VE simulator, a client of it, and a WHMCS catalog with orders, for the deploy
//! tests and benchmarks.

use std::sync::Arc;
use std::time::Duration;

use puq_proxmox_kvm::http::Trust;
use puq_proxmox_kvm::ipam::pools;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::proxmox::{Auth, Client, Endpoint, ProxmoxApi};
use puq_sim_pve::{Credentials, RunningSim, Sim, SimOptions};
use serde_json::json;

use super::TestDb;

/// The simulator as `options` describe, listening on a free loopback port.
pub async fn simulator(options: SimOptions) -> RunningSim {
    let sim = Sim::with_default_schema(options).expect("apidata.js loads");
    sim.serve("127.0.0.1:0", false)
        .await
        .expect("simulator listens")
}

/// A client of `running` with its API token.
pub fn api(running: &RunningSim) -> Arc<dyn ProxmoxApi> {
    api_at(running.base_url())
}

/// A client of the simulator at `base_url` with its API token.
pub fn api_at(base_url: String) -> Arc<dyn ProxmoxApi> {
    let c = Credentials::default();
    let endpoint = Endpoint {
        base_url,
        auth: Auth::from_server(&c.token_id, &c.token_secret).unwrap(),
        trust: Trust::Verified,
    };
    Arc::new(Client::new(endpoint, Duration::from_secs(5)).unwrap())
}

/// A client (3), a Proxmox server (1), a product (1: template 9000, 2 cores, 2 GB, 20 GB
/// system disk, a 5 GB additional disk with limits, 1 IPv4 + 1 IPv6) and the two pools.
pub async fn catalog(db: &TestDb, kvm: &Kvm) {
    catalog_on(db, kvm, "auto").await
}

/// [`catalog`] with the product's target node set to `target_node`.
pub async fn catalog_on(db: &TestDb, kvm: &Kvm, target_node: &str) {
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblclients (id, firstname, lastname) VALUES (3, 'Ada', 'Lovelace')");
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblservers (id, name, type, hostname) VALUES (1, 'pve-sim', 'puqProxmoxKVM', '127.0.0.1')");
    let slots = [
        target_node,
        "9000",
        "linked",
        "2",
        "2",
        "500",
        "{service_id}-{client_id}",
        "20",
        "auto",
        "5",
        "same",
        "virtio",
        "10",
        "vmbr0",
        "0",
        "1",
        "1",
        "on",
        "",
        "",
        ".example.net",
        "0",
        "0",
        "admin",
    ];
    let columns: Vec<String> = (1..=24).map(|i| format!("configoption{i}")).collect();
    let values: Vec<String> = slots.iter().map(|v| format!("'{v}'")).collect();
    db.value(&format!(
        "SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, name, servertype, {}) VALUES (1, 'server', 'VPS', 'puqProxmoxKVM', {})",
        columns.join(", "),
        values.join(", ")
    ));
    db.value("INSERT INTO puq_proxmox_kvm_product_settings (product_id, setting, value) VALUES (1, 'additional_disk_mbps_rd', '50'), (1, 'additional_disk_iops_wr', '300')");
    for pool in [
        json!({"server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "192.0.2.1", "mask": 24, "dns1": "192.0.2.53", "dns2": "", "address_start": "192.0.2.10", "address_stop": "192.0.2.20"}),
        json!({"server_id": 1, "type": "IPv6", "bridge": "vmbr0", "vlan": 0, "gateway": "2001:db8::1", "mask": 64, "dns1": "", "dns2": "", "address_start": "2001:db8::10", "address_stop": "2001:db8::ffff"}),
    ] {
        pools::create(kvm.db(), pool.as_object().unwrap())
            .await
            .unwrap();
    }
}

/// An active service `service_id` of the catalog's product, with its VM record in `creation`.
pub fn order(db: &TestDb, service_id: i64) {
    db.value(&format!("SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES ({service_id}, 3, 1, 1, 'Active')"));
    db.value(&format!("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status) VALUES ({service_id}, 'creation')"));
}
