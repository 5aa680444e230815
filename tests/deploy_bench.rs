//! `make bench-deploy`: the VM pipeline against the Proxmox VE simulator with realistic task
//! durations and 20 ms latency per request. The simulator runs on its own thread (as a
//! cluster is another machine); the engine runs on a current-thread runtime as cron does.
//!
//! 1. Time to ready for one order: several steps per tick (`max_steps_per_vm = 0`) against
//!    one step per tick (`max_steps_per_vm = 1`, the documented behaviour of the original
//!    module), in the same run. Between ticks the benchmark waits until the Proxmox task the
//!    VM waits for has stopped, as a cron interval of 60 s would; that wait is not busy time.
//! 2. A fleet tick: 1,000 VMs on 10 nodes, each waiting for its next step (`migrated`, next:
//!    Set CPU and RAM), one step per VM: wall time of one tick with the per-node limit against
//!    the same work with one VM at a time, and against the bound set by the per-node limit and
//!    the latency.
//!
//! `make bench-deploy` builds it optimised (`--release`), as cron runs in production; the
//! debug build spends several times the CPU per step.
//!
//! Prints figures; asserts only that the work was done (states in the database, CPU and RAM
//! in the simulator, no request refused by the schema).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::pve::{api_at, catalog, order};
use common::TestDb;
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::proxmox::{CloneRequest, ConfigUpdate, ProxmoxApi, Upid, Vmid};
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::engine::{self, Limits};
use puq_proxmox_kvm::vm::platform::{Clients, LivePlatform};
use puq_sim_pve::{NodeSpec, Sim, SimOptions, StorageSpec, TemplateSpec};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

const LATENCY: Duration = Duration::from_millis(20);
/// Task type => how long it runs.
const DURATIONS: [(&str, u64); 5] = [
    ("qmclone", 3000),
    ("qmigrate", 2000),
    ("qmstart", 1000),
    ("resize", 200),
    ("qmconfig", 200),
];
const CRON_INTERVAL: f64 = 60.0;

/// Serves `options` on a thread of its own; returns the handle and the base URL.
fn serve_apart(options: SimOptions) -> (Sim, String) {
    let sim = Sim::with_default_schema(options).expect("apidata.js loads");
    let (tx, rx) = std::sync::mpsc::channel();
    let served = sim.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the simulator");
        runtime.block_on(async move {
            let running = served.serve("127.0.0.1:0", false).await.expect("listens");
            tx.send(running.base_url()).expect("the benchmark waits");
            std::future::pending::<()>().await;
        });
    });
    let url = rx.recv().expect("the simulator starts");
    (sim, url)
}

fn storages() -> Vec<StorageSpec> {
    vec![
        StorageSpec::new("local", "dir", &["iso", "vztmpl", "backup"], false),
        StorageSpec::new("local-lvm", "lvmthin", &["images", "rootdir"], false),
        StorageSpec::new("nfs-backup", "nfs", &["backup"], true),
    ]
}

fn options(nodes: usize) -> SimOptions {
    SimOptions {
        nodes: (1..=nodes)
            .map(|i| {
                NodeSpec::new(
                    &format!("pve{i}"),
                    1024,
                    16 * (nodes + 1 - i) as u64,
                    storages(),
                )
            })
            .collect(),
        templates: vec![TemplateSpec {
            vmid: 9000,
            node: "pve1".into(),
            name: "debian-12".into(),
            disk_gb: 10,
        }],
        task_durations: DURATIONS
            .iter()
            .map(|(kind, ms)| (kind.to_string(), Duration::from_millis(*ms)))
            .collect(),
        ..SimOptions::default()
    }
}

async fn connected(db: &TestDb) -> Kvm {
    let kvm = Kvm::connect(db.config(), Some("test-key".into()))
        .await
        .unwrap();
    kvm.activate().await.unwrap();
    catalog(db, &kvm).await;
    kvm
}

fn limits(max_steps_per_vm: u32, per_node: usize, max_concurrent: usize) -> Limits {
    Limits {
        budget: Duration::from_secs(600),
        max_steps_per_vm,
        per_node,
        max_concurrent,
        max_vms: 1000,
        lease_seconds: 900,
    }
}

struct Deploy {
    ticks: u32,
    busy: Duration,
    last_tick: Duration,
    wall: Duration,
}

impl Deploy {
    /// With cron every 60 s: every tick but the last costs the interval.
    fn with_cron(&self) -> f64 {
        f64::from(self.ticks - 1) * CRON_INTERVAL + self.last_tick.as_secs_f64()
    }
}

/// Ticks until `service_id` is ready; between ticks waits for the task the VM waits for.
async fn deploy(
    db: &TestDb,
    kvm: &Kvm,
    api: &Arc<dyn ProxmoxApi>,
    service_id: i64,
    limits: &Limits,
) -> Deploy {
    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api.clone()))
            .await
            .unwrap(),
    );
    let settings = Settings::default();
    let field = |name: &str| {
        db.value(&format!(
            "SELECT {name} FROM puqProxmoxKVM_vm_info WHERE service_id = {service_id}"
        ))
    };
    let started = Instant::now();
    let mut run = Deploy {
        ticks: 0,
        busy: Duration::ZERO,
        last_tick: Duration::ZERO,
        wall: Duration::ZERO,
    };
    while field("vm_status") != "ready" {
        assert!(run.ticks < 60, "not ready after {} ticks", run.ticks);
        let tick = Instant::now();
        let out = engine::tick(
            kvm.db(),
            platform.clone(),
            &settings,
            limits,
            &Events::none(),
        )
        .await
        .unwrap();
        run.last_tick = tick.elapsed();
        run.busy += run.last_tick;
        run.ticks += 1;
        assert_eq!(out.errors, 0, "{:?}", out.details);
        let upid = field("vm_task_upid");
        if !upid.is_empty() {
            let upid = Upid::parse(&upid).unwrap();
            while api.task_result(&upid).await.unwrap().is_none() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    run.wall = started.elapsed();
    run
}

#[tokio::test]
#[ignore = "benchmark: make bench-deploy"]
async fn time_to_ready_for_one_vm() {
    let (sim, url) = serve_apart(options(2));
    sim.set_latency(LATENCY);
    let api = api_at(url);
    let db = TestDb::whmcs();
    let kvm = connected(&db).await;
    order(&db, 42);
    let several = deploy(&db, &kvm, &api, 42, &limits(0, 4, 0)).await;
    order(&db, 43);
    let one = deploy(&db, &kvm, &api, 43, &limits(1, 4, 0)).await;
    assert!(sim.violations().is_empty(), "{:#?}", sim.violations());

    let durations: Vec<String> = DURATIONS
        .iter()
        .map(|(kind, ms)| format!("{kind} {:.1} s", *ms as f64 / 1000.0))
        .collect();
    println!(
        "\nTime to ready for one VM (16 steps; tasks: {}; default task 0.05 s; {} ms per request)",
        durations.join(", "),
        LATENCY.as_millis()
    );
    println!(
        "  {:<28} {:>6} {:>10} {:>15} {:>22}",
        "", "ticks", "busy", "wall, no cron", "ready with cron 60 s"
    );
    for (name, run) in [
        ("several steps per tick", &several),
        ("one step per tick", &one),
    ] {
        println!(
            "  {:<28} {:>6} {:>8.2} s {:>13.2} s {:>20.1} s",
            name,
            run.ticks,
            run.busy.as_secs_f64(),
            run.wall.as_secs_f64(),
            run.with_cron()
        );
    }
    println!(
        "  one step per tick needs {:.1}x the ticks and {:.1}x the time to ready with cron",
        f64::from(one.ticks) / f64::from(several.ticks),
        one.with_cron() / several.with_cron()
    );
}

/// Clones `count` VMs from template 9000 spread over the nodes, `parallel` at once; returns
/// (vmid, node) of each.
async fn clone_fleet(
    api: &Arc<dyn ProxmoxApi>,
    count: u32,
    nodes: usize,
    parallel: usize,
) -> Vec<(u32, String)> {
    let gate = Arc::new(Semaphore::new(parallel));
    let mut clones = JoinSet::new();
    for i in 0..count {
        let (api, gate) = (api.clone(), gate.clone());
        let vmid = 10_000 + i;
        let node = format!("pve{}", i as usize % nodes + 1);
        clones.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let request = CloneRequest {
                newid: Vmid::new(u64::from(vmid)).unwrap(),
                name: Some(format!("fleet-{vmid}")),
                full: false,
                target: Some(node.clone()),
                storage: None,
                description: None,
            };
            let upid = api
                .clone_vm("pve1", Vmid::new(9000).unwrap(), &request)
                .await
                .unwrap();
            while api.task_result(&upid).await.unwrap().is_none() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (vmid, node)
        });
    }
    let mut fleet = Vec::new();
    while let Some(done) = clones.join_next().await {
        fleet.push(done.unwrap());
    }
    fleet.sort();
    fleet
}

/// Puts every VM back to 1 core and 1 GiB, `parallel` at once.
async fn reset_cpu_ram(api: &Arc<dyn ProxmoxApi>, fleet: &[(u32, String)], parallel: usize) {
    let gate = Arc::new(Semaphore::new(parallel));
    let mut updates = JoinSet::new();
    for (vmid, node) in fleet.iter().cloned() {
        let (api, gate) = (api.clone(), gate.clone());
        updates.spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            api.update_config_sync(
                &node,
                Vmid::new(u64::from(vmid)).unwrap(),
                &ConfigUpdate::new().cores(1).memory_mib(1024),
            )
            .await
            .unwrap();
        });
    }
    while let Some(done) = updates.join_next().await {
        done.unwrap();
    }
}

/// Every VM back in `migrated`, in the middle of its deploy: its run open with the steps
/// before (as cron left it), so the tick adds a step to it.
fn reset_rows(db: &TestDb) {
    db.value("DELETE FROM puq_proxmox_kvm_vm_runs");
    db.value(
        "INSERT INTO puq_proxmox_kvm_vm_runs (service_id, kind, started_at, result, steps) \
         SELECT service_id, 'deploy', UTC_TIMESTAMP(3), 'running', \
         '[{\"label\":\"Migrate to the target node\",\"from\":\"set_dns\",\"to\":\"migrated\",\"result\":\"success\",\"duration_ms\":2100}]' \
         FROM puqProxmoxKVM_vm_info",
    );
    db.value(
        "UPDATE puqProxmoxKVM_vm_info v JOIN puq_proxmox_kvm_vm_runs r ON r.service_id = v.service_id \
         SET v.vm_status = 'migrated', v.vm_run_id = r.id",
    );
}

#[tokio::test]
#[ignore = "benchmark: make bench-deploy"]
async fn a_fleet_tick() {
    const NODES: usize = 10;
    const VMS: u32 = 1000;
    let (sim, url) = serve_apart(SimOptions {
        task_duration: Duration::ZERO,
        task_durations: Default::default(),
        ..options(NODES)
    });
    let api = api_at(url);
    let db = TestDb::whmcs();
    let kvm = connected(&db).await;

    let setup = Instant::now();
    let fleet = clone_fleet(&api, VMS, NODES, 16).await;
    reset_cpu_ram(&api, &fleet, 16).await;
    let hosting: Vec<String> = fleet
        .iter()
        .map(|(vmid, _)| format!("({vmid}, 3, 1, 1, 'Active')"))
        .collect();
    db.value(&format!(
        "SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES {}",
        hosting.join(",")
    ));
    let rows: Vec<String> = fleet
        .iter()
        .map(|(vmid, node)| format!("({vmid}, {vmid}, 'fleet-{vmid}', '{node}', 'migrated')"))
        .collect();
    db.value(&format!(
        "INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_id, vm_name, vm_node, vm_status) VALUES {}",
        rows.join(",")
    ));
    let setup = setup.elapsed();

    let platform = Arc::new(
        LivePlatform::new(kvm.clone(), Clients::Fixed(api.clone()))
            .await
            .unwrap(),
    );
    let settings = Settings::default();
    let per_node = Limits::from_settings(&settings).per_node;
    let mut runs = Vec::new();
    for (name, limits) in [
        (
            format!("per node {per_node}, no global cap"),
            limits(1, per_node, 0),
        ),
        ("one VM at a time".to_string(), limits(1, per_node, 1)),
    ] {
        sim.set_latency(Duration::ZERO);
        reset_cpu_ram(&api, &fleet, 16).await;
        reset_rows(&db);
        sim.clear_log();
        sim.set_latency(LATENCY);
        let started = Instant::now();
        let out = engine::tick(
            kvm.db(),
            platform.clone(),
            &settings,
            &limits,
            &Events::none(),
        )
        .await
        .unwrap();
        let wall = started.elapsed();
        assert_eq!(
            (out.processed, out.errors),
            (VMS, 0),
            "{:?}",
            out.details.iter().take(5).collect::<Vec<_>>()
        );
        assert_eq!(
            db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_status = 'set_cpu_ram'"),
            VMS.to_string()
        );
        for (vmid, _) in fleet.iter().step_by(97) {
            let config = sim.vm_config(*vmid).unwrap();
            assert_eq!(
                (config["cores"].as_str(), config["memory"].as_str()),
                ("2", "2048")
            );
        }
        assert_eq!(
            db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_vm_runs WHERE JSON_LENGTH(steps) = 2"),
            VMS.to_string(),
            "each open run got its step"
        );
        assert!(sim.violations().is_empty(), "{:#?}", sim.violations());
        let requests = sim.requests().len();
        let step_ms: f64 = db
            .value(
                "SELECT AVG(JSON_EXTRACT(steps, '$[1].duration_ms')) FROM puq_proxmox_kvm_vm_runs",
            )
            .parse()
            .unwrap();
        runs.push((name, wall, requests, step_ms));
    }

    let requests_per_vm = runs[0].2 as f64 / f64::from(VMS);
    let per_node_vms = (VMS as usize).div_ceil(NODES);
    let bound = per_node_vms.div_ceil(per_node) as f64 * requests_per_vm * LATENCY.as_secs_f64();
    println!(
        "\nFleet tick: {VMS} VMs on {NODES} nodes in `migrated`, one step each (Set CPU and RAM; max_steps_per_vm = 1), {} ms per request (setup {:.1} s)",
        LATENCY.as_millis(),
        setup.as_secs_f64()
    );
    for (name, wall, requests, step_ms) in &runs {
        println!(
            "  {:<32} {:>8.2} s  {:>5} requests, a step takes {step_ms:.1} ms on average",
            name,
            wall.as_secs_f64(),
            requests
        );
    }
    println!(
        "  speed-up: {:.1}x (goal >= 20x)",
        runs[1].1.as_secs_f64() / runs[0].1.as_secs_f64()
    );
    println!(
        "  bound: {per_node_vms} VMs per node / {per_node} per node x {requests_per_vm:.1} requests per VM x {} ms = {bound:.2} s; measured / bound: {:.2} (goal <= 1.5)",
        LATENCY.as_millis(),
        runs[0].1.as_secs_f64() / bound
    );
}
