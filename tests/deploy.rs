//! Deploy against the Proxmox VE simulator (schema-checked), MariaDB and the IP pools: an
//! order goes from `creation` to `ready` with the product's CPU, RAM, disks, network,
//! firewall and cloud-init, in few ticks, with exactly one clone.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::TestDb;
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::http::Trust;
use puq_proxmox_kvm::ipam::pools;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::proxmox::{Auth, Client, Endpoint, ProxmoxApi};
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::engine::{self, Limits};
use puq_proxmox_kvm::vm::platform::{Clients, LivePlatform};
use puq_sim_pve::{Credentials, RunningSim, Sim, SimOptions};
use serde_json::json;

async fn simulator() -> RunningSim {
    let sim = Sim::with_default_schema(SimOptions::default()).expect("apidata.js loads");
    sim.serve("127.0.0.1:0", false)
        .await
        .expect("simulator listens")
}

fn api(running: &RunningSim) -> Arc<dyn ProxmoxApi> {
    let c = Credentials::default();
    let endpoint = Endpoint {
        base_url: running.base_url(),
        auth: Auth::from_server(&c.token_id, &c.token_secret).unwrap(),
        trust: Trust::Verified,
    };
    Arc::new(Client::new(endpoint, Duration::from_secs(5)).unwrap())
}

/// A client, a Proxmox server, a product (template 9000, 2 cores, 2 GB, 20 GB system disk,
/// a 5 GB additional disk with limits, 1 IPv4 + 1 IPv6), its service and the two pools.
async fn order(db: &TestDb, kvm: &Kvm) {
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblclients (id, firstname, lastname) VALUES (3, 'Ada', 'Lovelace')");
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblservers (id, name, type, hostname) VALUES (1, 'pve-sim', 'puqProxmoxKVM', '127.0.0.1')");
    let slots = [
        "auto",
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
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES (42, 3, 1, 1, 'Active')");
    for pool in [
        json!({"server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "192.0.2.1", "mask": 24, "dns1": "192.0.2.53", "dns2": "", "address_start": "192.0.2.10", "address_stop": "192.0.2.20"}),
        json!({"server_id": 1, "type": "IPv6", "bridge": "vmbr0", "vlan": 0, "gateway": "2001:db8::1", "mask": 64, "dns1": "", "dns2": "", "address_start": "2001:db8::10", "address_stop": "2001:db8::ffff"}),
    ] {
        pools::create(kvm.db(), pool.as_object().unwrap())
            .await
            .unwrap();
    }
    db.value("INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status) VALUES (42, 'creation')");
}

#[tokio::test]
async fn an_order_becomes_a_running_vm_with_the_product_configuration() {
    let running = simulator().await;
    let db = TestDb::whmcs();
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    order(&db, &kvm).await;
    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api(&running)))
            .await
            .unwrap(),
    );
    let settings = Settings::default();
    let limits = Limits {
        budget: Duration::from_secs(30),
        max_steps_per_vm: 0,
        per_node: 4,
        max_concurrent: 0,
        max_vms: 100,
        lease_seconds: 120,
    };
    let (events, mut rx) = Events::channel();

    let mut ticks = 0;
    while db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 42") != "ready" {
        let out = engine::tick(kvm.db(), platform.clone(), &settings, &limits, &events)
            .await
            .unwrap();
        assert_eq!(out.errors, 0, "{:?}", out.details);
        ticks += 1;
        assert!(ticks <= 10, "not ready after {ticks} ticks");
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert!(
        ticks <= 4,
        "clone, migration and start each wait for a task: {ticks} ticks"
    );

    let sim = &running.sim;
    assert!(
        sim.violations().is_empty(),
        "refused by the schema: {:#?}",
        sim.violations()
    );
    let clones = sim
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/clone"))
        .count();
    assert_eq!(clones, 1, "exactly one clone");

    let vmid: u32 = db
        .value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42")
        .parse()
        .unwrap();
    assert!(vmid >= 500, "at or above the product's first VMID: {vmid}");
    let config = sim.vm_config(vmid).expect("the VM exists in the simulator");
    assert_eq!(config["cores"], "2");
    assert_eq!(config["memory"], "2048");
    assert!(
        config["description"].contains("service=42"),
        "{}",
        config["description"]
    );
    assert!(
        config["net0"].contains("bridge=vmbr0")
            && config["net0"].contains("firewall=1")
            && config["net0"].contains("rate=10"),
        "{}",
        config["net0"]
    );
    let system = config.get("scsi0").expect("the template's system disk");
    assert!(system.contains("size=20G"), "{system}");
    let additional = config.get("scsi1").expect("the additional disk");
    assert!(
        additional.contains("mbps_rd=50") && additional.contains("iops_wr=300"),
        "{additional}"
    );
    assert!(
        config["ipconfig0"].contains("ip=192.0.2.10/24")
            && config["ipconfig0"].contains("gw=192.0.2.1"),
        "{}",
        config["ipconfig0"]
    );
    assert!(
        config["ipconfig0"].contains("ip6=2001:db8::10/64"),
        "{}",
        config["ipconfig0"]
    );
    assert_eq!(config["ciuser"], "admin");
    assert_eq!(config["searchdomain"], "example.net");
    let state = sim.vm_state(vmid).unwrap();
    assert_eq!(state["running"], true, "{state}");
    let ipset = state.to_string();
    assert!(
        ipset.contains("ipfilter-net0")
            && ipset.contains("192.0.2.10")
            && ipset.contains("2001:db8::10"),
        "{state}"
    );
    assert_eq!(
        db.value("SELECT CONCAT(dedicatedip, '|', assignedips) FROM tblhosting WHERE id = 42"),
        "192.0.2.10|2001:db8::10"
    );
    assert_eq!(
        db.value(
            "SELECT CONCAT(vm_name, ' ', vm_node) FROM puqProxmoxKVM_vm_info WHERE service_id = 42"
        ),
        format!("42-3 {}", state["node"].as_str().unwrap())
    );

    // The run log holds the whole deploy, and the email was asked for once.
    assert_eq!(
        db.value(
            "SELECT CONCAT(kind, ' ', result) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42"
        ),
        "deploy success"
    );
    drop(events);
    let mut emails = 0;
    while let Ok(e) = rx.try_recv() {
        emails += usize::from(e.email.as_deref() == Some("puqProxmoxKVM VM is ready"));
    }
    assert_eq!(emails, 1);

    // A further tick leaves a ready VM alone.
    let requests = sim.requests().len();
    engine::tick(
        kvm.db(),
        platform.clone(),
        &settings,
        &limits,
        &Events::none(),
    )
    .await
    .unwrap();
    assert_eq!(sim.requests().len(), requests);
}
