//! Deploy against the Proxmox VE simulator (schema-checked), MariaDB and the IP pools: an
//! order goes from `creation` to `ready` with the product's CPU, RAM, disks, network,
//! firewall and cloud-init, in few ticks, with exactly one clone.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::pve::{api, catalog, order, simulator};
use common::TestDb;
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::engine::{self, Limits};
use puq_proxmox_kvm::vm::platform::{Clients, LivePlatform};
use puq_sim_pve::SimOptions;

#[tokio::test]
async fn an_order_becomes_a_running_vm_with_the_product_configuration() {
    let running = simulator(SimOptions::default()).await;
    let db = TestDb::whmcs();
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    catalog(&db, &kvm).await;
    order(&db, 42);
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
