//! Deploy against the Proxmox VE simulator (schema-checked), MariaDB and the IP pools: an
//! order goes from `creation` to `ready` with the product's CPU, RAM, disks, network,
//! firewall and cloud-init, in few ticks, with exactly one clone.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{pve, TestDb};
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::proxmox::{CloneRequest, Vmid};
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::engine::{self, Limits};
use puq_proxmox_kvm::vm::platform::{Clients, LivePlatform};
use puq_sim_pve::{RunningSim, SimOptions};
use pve::api;

async fn simulator() -> RunningSim {
    pve::simulator(SimOptions::default()).await
}

/// The catalog of [`pve::catalog`] and its service 42, in `creation`.
async fn order(db: &TestDb, kvm: &Kvm) {
    order_on(db, kvm, "auto").await
}

async fn order_on(db: &TestDb, kvm: &Kvm, target_node: &str) {
    pve::catalog_on(db, kvm, target_node).await;
    pve::order(db, 42);
}

/// Several steps per tick (`max_steps_per_vm` 0: no cap), 4 per node.
fn limits(max_steps_per_vm: u32) -> Limits {
    Limits {
        budget: Duration::from_secs(30),
        max_steps_per_vm,
        per_node: 4,
        max_vms: 100,
        lease_seconds: 120,
        max_concurrent: 0,
    }
}

/// One tick without live output.
async fn quiet_tick(
    kvm: &Kvm,
    platform: &Arc<LivePlatform>,
    settings: &Settings,
    limits: &Limits,
) -> puq_proxmox_kvm::cron::runner::TaskOutcome {
    engine::tick(
        kvm.db(),
        platform.clone(),
        settings,
        limits,
        &Events::none(),
    )
    .await
    .unwrap()
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
    let limits = limits(0);
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

    // The run log holds the whole deploy, and the email is queued once for the PHP side.
    assert_eq!(
        db.value(
            "SELECT CONCAT(kind, ' ', result) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42"
        ),
        "deploy success"
    );
    assert_eq!(
        db.value("SELECT GROUP_CONCAT(CONCAT(template, ' ', run_id = (SELECT MAX(id) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42 AND kind = 'deploy'), ' ', sent_at IS NULL)) FROM puq_proxmox_kvm_email_outbox WHERE service_id = 42"),
        "puqProxmoxKVM VM is ready 1 1"
    );
    drop(events);
    let mut queued = 0;
    while let Ok(e) = rx.try_recv() {
        queued += usize::from(
            e.message
                .contains("email queued: puqProxmoxKVM VM is ready"),
        );
    }
    assert_eq!(queued, 1);

    // A further tick leaves a ready VM alone.
    let requests = sim.requests().len();
    quiet_tick(&kvm, &platform, &settings, &limits).await;
    assert_eq!(sim.requests().len(), requests);
}

/// A cron run killed after Proxmox accepted the clone but before the UPID was checkpointed:
/// the row has the VMID (checkpointed before the call), no UPID, and the VM exists, stamped,
/// still locked by its clone task. The next runs re-attach to it: no second clone, no orphan.
#[tokio::test]
async fn a_clone_whose_checkpoint_was_lost_is_reattached_not_repeated() {
    let running = simulator().await;
    let db = TestDb::whmcs();
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    order(&db, &kvm).await;
    let api = api(&running);
    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api.clone()))
            .await
            .unwrap(),
    );
    let settings = Settings::default();
    let limits = limits(1);
    quiet_tick(&kvm, &platform, &settings, &limits).await;
    assert_eq!(
        db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 42"),
        "set_ip"
    );

    // What the killed run left behind.
    let sim = &running.sim;
    sim.slow_next_task(Duration::from_millis(400));
    let vmid = Vmid::new(123).unwrap();
    api.clone_vm(
        "pve1",
        Vmid::new(9000).unwrap(),
        &CloneRequest {
            newid: vmid,
            name: Some("42-3".into()),
            full: false,
            target: None,
            storage: None,
            description: Some(platform.stamp(42)),
        },
    )
    .await
    .unwrap();
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_id = 123, vm_name = '42-3', vm_node = 'pve1', vm_task_upid = '' WHERE service_id = 42");

    let limits = Limits {
        max_steps_per_vm: 0,
        ..limits
    };
    let mut ticks = 0;
    while db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 42") != "ready" {
        let out = quiet_tick(&kvm, &platform, &settings, &limits).await;
        assert_eq!(out.errors, 0, "{:?}", out.details);
        ticks += 1;
        assert!(ticks <= 20, "not ready after {ticks} ticks");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let clones: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/clone"))
        .collect();
    assert_eq!(clones.len(), 1, "only the clone the killed run made");
    assert_eq!(
        db.value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42"),
        "123"
    );
    assert!(sim.vm_state(124).is_none() && sim.vm_state(100).is_none());
    assert!(sim.violations().is_empty());
}

#[tokio::test]
async fn a_clone_moves_to_the_target_node_after_the_clone() {
    let running = simulator().await;
    let db = TestDb::whmcs();
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    order_on(&db, &kvm, "pve2").await;
    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api(&running)))
            .await
            .unwrap(),
    );
    tick_until(&db, &kvm, &platform, "ready").await;
    let paths: Vec<String> = running
        .sim
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(db.value("SELECT CONCAT(vm_status, ' ', vm_node) FROM puqProxmoxKVM_vm_info WHERE service_id = 42"), "ready pve2", "{paths:#?} {}", db.value("SELECT steps FROM puq_proxmox_kvm_vm_runs"));
    let vmid: u32 = db
        .value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42")
        .parse()
        .unwrap();
    let sim = &running.sim;
    assert_eq!(sim.vm_state(vmid).unwrap()["node"], "pve2");
    let requests = sim.requests();
    let clone = requests
        .iter()
        .find(|r| r.path.ends_with("/clone"))
        .unwrap();
    assert!(
        clone.path.starts_with("/nodes/pve1/"),
        "cloned on the template's node: {}",
        clone.path
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/migrate"))
            .count(),
        1
    );
    assert!(sim.violations().is_empty(), "{:#?}", sim.violations());
}

/// Deploys service 42 to ready on a fresh simulator; returns its VMID.
async fn deployed(db: &TestDb, kvm: &Kvm, platform: &Arc<LivePlatform>) -> u32 {
    order(db, kvm).await;
    tick_until(db, kvm, platform, "ready").await;
    db.value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42")
        .parse()
        .unwrap()
}

async fn tick_until(db: &TestDb, kvm: &Kvm, platform: &Arc<LivePlatform>, status: &str) {
    for _ in 0..12 {
        if db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 42") == status {
            return;
        }
        quiet_tick(kvm, platform, &Settings::default(), &limits(0)).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    panic!("service 42 never reached {status}: {}", db.value("SELECT CONCAT(vm_status, ' ', COALESCE(vm_last_error, '')) FROM puqProxmoxKVM_vm_info WHERE service_id = 42"));
}

async fn setup() -> (RunningSim, TestDb, Kvm, Arc<LivePlatform>) {
    let running = simulator().await;
    let db = TestDb::whmcs();
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api(&running)))
            .await
            .unwrap(),
    );
    (running, db, kvm, platform)
}

#[tokio::test]
async fn terminate_stops_deletes_and_releases() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    assert!(puq_proxmox_kvm::vm::admin::terminate(kvm.db(), 42)
        .await
        .unwrap());
    tick_until(&db, &kvm, &platform, "remove").await;
    let sim = &running.sim;
    assert!(sim.vm_state(vmid).is_none(), "the VM is gone from Proxmox");
    let deletes: Vec<_> = sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.ends_with(&format!("/qemu/{vmid}")))
        .collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].params.get("purge").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 42"),
        "0"
    );
    assert_eq!(
        db.value(
            "SELECT CONCAT('[', dedicatedip, '|', assignedips, ']') FROM tblhosting WHERE id = 42"
        ),
        "[|]"
    );
    assert_eq!(db.value("SELECT CONCAT(kind, ' ', result) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42 ORDER BY id DESC LIMIT 1"), "terminate success");
    assert!(sim.violations().is_empty(), "{:#?}", sim.violations());
}

#[tokio::test]
async fn terminate_never_destroys_a_vm_that_is_not_ours() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    // Someone re-used the VMID for another VM (its description has no stamp of ours).
    let node = db.value("SELECT vm_node FROM puqProxmoxKVM_vm_info WHERE service_id = 42");
    let update = puq_proxmox_kvm::proxmox::ConfigUpdate::new()
        .description("customer database, do not delete");
    api(&running)
        .update_config_sync(
            &node,
            puq_proxmox_kvm::proxmox::Vmid::new(u64::from(vmid)).unwrap(),
            &update,
        )
        .await
        .unwrap();
    puq_proxmox_kvm::vm::admin::terminate(kvm.db(), 42)
        .await
        .unwrap();
    tick_until(&db, &kvm, &platform, "error_terminate").await;
    assert!(
        running.sim.vm_state(vmid).is_some(),
        "nothing was destroyed"
    );
    assert!(db
        .value("SELECT vm_last_error FROM puqProxmoxKVM_vm_info WHERE service_id = 42")
        .contains("ownership stamp"));
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 42"),
        "2",
        "addresses kept"
    );
}

#[tokio::test]
async fn a_refused_delete_waits_for_an_admin_with_the_addresses_kept() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    let node = db.value("SELECT vm_node FROM puqProxmoxKVM_vm_info WHERE service_id = 42");
    running.sim.fail_next(
        "DELETE",
        &format!("/nodes/{node}/qemu/{vmid}"),
        500,
        "VM is locked (backup)",
    );
    puq_proxmox_kvm::vm::admin::terminate(kvm.db(), 42)
        .await
        .unwrap();
    tick_until(&db, &kvm, &platform, "error_terminate").await;
    let error = db.value("SELECT vm_last_error FROM puqProxmoxKVM_vm_info WHERE service_id = 42");
    assert!(
        error.contains("refused to delete") && error.contains("locked"),
        "{error}"
    );
    assert!(running.sim.vm_state(vmid).is_some());
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 42"),
        "2"
    );
    // No automatic retry: cron leaves error_terminate alone.
    let before = running.sim.requests().len();
    quiet_tick(&kvm, &platform, &Settings::default(), &limits(0)).await;
    assert_eq!(running.sim.requests().len(), before);
}

#[tokio::test]
async fn redeploy_destroys_our_vm_and_starts_over() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    let timeout = Duration::from_secs(5);
    let refused = platform.redeploy(42, timeout).await.unwrap_err();
    assert!(refused.to_string().contains("ready"), "{refused}");
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_status = 'set_network' WHERE service_id = 42");

    platform.redeploy(42, timeout).await.unwrap();
    assert!(
        running.sim.vm_state(vmid).is_none(),
        "the old VM is destroyed"
    );
    assert_eq!(db.value("SELECT CONCAT(vm_status, '|', COALESCE(vm_id, ''), '|', vm_name) FROM puqProxmoxKVM_vm_info WHERE service_id = 42"), "creation||");
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42"),
        "0",
        "logs cleared"
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 42"),
        "0"
    );
    tick_until(&db, &kvm, &platform, "ready").await;
    let again: u32 = db
        .value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42")
        .parse()
        .unwrap();
    assert!(running.sim.vm_state(again).is_some());
}

#[tokio::test]
async fn redeploy_refuses_a_vm_that_is_not_ours() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    let node = db.value("SELECT vm_node FROM puqProxmoxKVM_vm_info WHERE service_id = 42");
    let update = puq_proxmox_kvm::proxmox::ConfigUpdate::new().description("someone else's VM");
    api(&running)
        .update_config_sync(
            &node,
            puq_proxmox_kvm::proxmox::Vmid::new(u64::from(vmid)).unwrap(),
            &update,
        )
        .await
        .unwrap();
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_status = 'set_network' WHERE service_id = 42");
    let err = platform
        .redeploy(42, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ownership stamp"), "{err}");
    assert!(running.sim.vm_state(vmid).is_some(), "nothing destroyed");
    assert_eq!(
        db.value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 42"),
        "set_network"
    );
}

#[tokio::test]
async fn change_package_applies_the_new_package_and_never_shrinks_a_disk() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    // The new package: 4 cores, 4 GB, a 30 GB system disk, 2 IPv4 addresses, and an additional
    // disk of 2 GB (smaller than the 5 GB it has: refused, logged, not retried).
    db.value("UPDATE tblproducts SET configoption4 = '4', configoption5 = '4', configoption8 = '30', configoption10 = '2', configoption16 = '2' WHERE id = 1");
    puq_proxmox_kvm::vm::admin::queue_change_package(kvm.db(), 42)
        .await
        .unwrap();
    tick_until(&db, &kvm, &platform, "ready").await;

    let config = running.sim.vm_config(vmid).unwrap();
    assert_eq!(
        (config["cores"].as_str(), config["memory"].as_str()),
        ("4", "4096")
    );
    assert!(config["scsi0"].contains("size=30G"), "{}", config["scsi0"]);
    assert!(
        config["scsi1"].contains("size=5G"),
        "the additional disk did not shrink: {}",
        config["scsi1"]
    );
    assert_eq!(db.value("SELECT CONCAT(dedicatedip, '|', REPLACE(assignedips, '\\n', ',')) FROM tblhosting WHERE id = 42"), "192.0.2.10|192.0.2.11,2001:db8::10", "the first address is kept, one is added");
    assert!(
        running
            .sim
            .vm_state(vmid)
            .unwrap()
            .to_string()
            .contains("192.0.2.11"),
        "the IP set follows"
    );
    let paths: Vec<String> = running
        .sim
        .requests()
        .iter()
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(
        paths.iter().filter(|p| p.ends_with("/status/stop")).count(),
        1,
        "stopped once for the change"
    );
    assert_eq!(
        paths
            .iter()
            .filter(|p| p.ends_with("/status/start"))
            .count(),
        2,
        "started after deploy and after the change"
    );
    let steps = db.value("SELECT steps FROM puq_proxmox_kvm_vm_runs WHERE service_id = 42 AND kind = 'change_package'");
    assert!(steps.contains("\"from\":\"cp_additional_disk\",\"to\":\"cp_additional_disk_size\",\"result\":\"skip (no change)\""), "{steps}");
    assert_eq!(db.value("SELECT CONCAT(result, ' ', vm_attempts) FROM puq_proxmox_kvm_vm_runs r JOIN puqProxmoxKVM_vm_info v ON v.service_id = r.service_id WHERE r.kind = 'change_package'"), "success 0");
    // Only from ready.
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_status = 'set_network' WHERE service_id = 42");
    assert!(
        puq_proxmox_kvm::vm::admin::queue_change_package(kvm.db(), 42)
            .await
            .is_err()
    );
    assert!(
        running.sim.violations().is_empty(),
        "{:#?}",
        running.sim.violations()
    );
}

#[tokio::test]
async fn reinstall_replaces_the_vm_keeping_addresses_vmid_and_mac() {
    let (running, db, kvm, platform) = setup().await;
    let vmid = deployed(&db, &kvm, &platform).await;
    let mac_before = running.sim.vm_config(vmid).unwrap()["net0"].clone();
    let clones_before = running
        .sim
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/clone"))
        .count();
    puq_proxmox_kvm::vm::admin::queue_reinstall(kvm.db(), 42)
        .await
        .unwrap();
    tick_until(&db, &kvm, &platform, "ready").await;
    assert_eq!(
        db.value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 42"),
        vmid.to_string(),
        "the VMID is kept"
    );
    let requests = running.sim.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path.ends_with("/clone"))
            .count(),
        clones_before + 1,
        "one new clone"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.method == "DELETE" && r.path.ends_with(&format!("/qemu/{vmid}")))
            .count(),
        1
    );
    let net0 = running.sim.vm_config(vmid).unwrap()["net0"].clone();
    let mac = |net: &str| {
        net.split(',').find_map(|p| {
            p.split_once('=')
                .filter(|(k, _)| k.starts_with("virtio") || *k == "macaddr")
                .map(|(_, v)| v.to_string())
        })
    };
    assert_eq!(mac(&net0), mac(&mac_before), "{mac_before} -> {net0}");
    assert_eq!(
        db.value("SELECT dedicatedip FROM tblhosting WHERE id = 42"),
        "192.0.2.10",
        "addresses kept"
    );
    assert!(
        running.sim.violations().is_empty(),
        "{:#?}",
        running.sim.violations()
    );
}
