//! The VM state machine against MariaDB with a fake platform: several steps per tick, tasks
//! re-attached not resubmitted, retries with growing delay, one runner per VM, the run log.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestDb;
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::runtime::block_on;
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::engine::{
    self, backoff_seconds, Limits, Platform, StepContext, StepResult, Vm,
};
use puq_proxmox_kvm::vm::steps::Step;
use puq_proxmox_kvm::Error;

/// Every step succeeds at once, except: the clone starts a "task" and completes on the next
/// call that finds its UPID; steps listed in `fail` fail that many times first.
#[derive(Default)]
struct FakePlatform {
    calls: Mutex<Vec<(i64, Step)>>,
    clones_started: Mutex<Vec<i64>>,
    fail: Mutex<HashMap<(i64, Step), u32>>,
    halt: Mutex<Vec<(i64, Step)>>,
    /// Services whose configuration cannot be read (a product deleted in WHMCS, ...).
    unreadable: Mutex<Vec<i64>>,
    delay: Duration,
    /// Steps running now, and the most ever at once.
    running: AtomicUsize,
    peak: AtomicUsize,
}

impl FakePlatform {
    fn calls_of(&self, service: i64, step: Step) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| **c == (service, step))
            .count()
    }
}

impl Platform for FakePlatform {
    type Service = i64;

    async fn service(&self, vm: &Vm) -> Result<i64, Error> {
        if self.unreadable.lock().unwrap().contains(&vm.service_id) {
            return Err(Error::NotFound(format!(
                "service {} (or its product) does not exist",
                vm.service_id
            )));
        }
        Ok(vm.service_id)
    }

    async fn run_step(
        &self,
        step: Step,
        vm: &mut Vm,
        service: &i64,
        ctx: &StepContext,
    ) -> Result<StepResult, Error> {
        assert_eq!(*service, vm.service_id, "the service read for this VM");
        self.calls.lock().unwrap().push((vm.service_id, step));
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        if !self.delay.is_zero() {
            tokio::time::sleep(self.delay).await;
        }
        self.running.fetch_sub(1, Ordering::SeqCst);
        if let Some(left) = self.fail.lock().unwrap().get_mut(&(vm.service_id, step)) {
            if *left > 0 {
                *left -= 1;
                return Err(Error::Proxmox(format!("unable to run {step:?} - HTTP 500")));
            }
        }
        if self.halt.lock().unwrap().contains(&(vm.service_id, step)) {
            return Ok(StepResult::Halt {
                status: "error_terminate",
                reason: "Proxmox refused the delete".into(),
            });
        }
        match step {
            Step::Clone if vm.task_upid.is_empty() => {
                self.clones_started.lock().unwrap().push(vm.service_id);
                vm.vm_id = Some(100 + vm.service_id as u32);
                vm.task_upid = format!(
                    "UPID:pve1:0000AAAA:00000001:65000000:qmclone:{}:root@pam:",
                    vm.service_id
                );
                vm.data.insert("target_node".into(), "pve2".into());
                ctx.checkpoint(vm).await?;
                Ok(StepResult::Waiting("clone task running".into()))
            }
            Step::CreateAdditionalDisk => Ok(StepResult::Skipped),
            _ => Ok(StepResult::Done),
        }
    }
}

fn limits(max_steps: u32) -> Limits {
    Limits {
        budget: Duration::from_secs(30),
        max_steps_per_vm: max_steps,
        per_node: 4,
        max_concurrent: 0,
        max_vms: 1000,
        lease_seconds: 120,
    }
}

fn add_vms(db: &TestDb, ids: std::ops::RangeInclusive<i64>, status: &str) {
    let values: Vec<String> = ids
        .map(|id| format!("({id}, '{status}', 'vm-{id}')"))
        .collect();
    db.value(&format!(
        "INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status, vm_name) VALUES {}",
        values.join(",")
    ));
}

fn tick(
    db: &TestDb,
    platform: &Arc<FakePlatform>,
    limits: &Limits,
) -> puq_proxmox_kvm::cron::runner::TaskOutcome {
    block_on(engine::tick(
        &db.db(),
        platform.clone(),
        &Settings::default(),
        limits,
        &Events::none(),
    ))
    .unwrap()
}

fn status(db: &TestDb, id: i64) -> String {
    db.value(&format!(
        "SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = {id}"
    ))
}

fn activated() -> TestDb {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    db
}

#[test]
fn a_vm_is_ready_in_two_ticks_when_only_the_clone_waits() {
    let db = activated();
    add_vms(&db, 1..=1, "creation");
    let platform = Arc::new(FakePlatform::default());

    let first = tick(&db, &platform, &limits(0));
    assert_eq!((first.processed, first.errors), (1, 0));
    assert_eq!(status(&db, 1), "set_ip", "the clone waits for its task");
    assert!(db
        .value("SELECT vm_task_upid FROM puqProxmoxKVM_vm_info WHERE service_id = 1")
        .contains(":qmclone:1:"));

    tick(&db, &platform, &limits(0));
    assert_eq!(status(&db, 1), "ready");
    assert_eq!(
        platform.calls_of(1, Step::Clone),
        2,
        "polled once more, never resubmitted"
    );
    assert_eq!(db.value("SELECT CONCAT(vm_id, ' [', vm_task_upid, '] ', vm_attempts) FROM puqProxmoxKVM_vm_info WHERE service_id = 1"), "101 [] 0");

    // One run, finished, with every step once (the waiting clone folded into one entry).
    assert_eq!(db.value("SELECT CONCAT(kind, ' ', result, ' ', finished_at IS NOT NULL) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 1"), "deploy success 1");
    let steps: serde_json::Value = serde_json::from_str(
        &db.value("SELECT steps FROM puq_proxmox_kvm_vm_runs WHERE service_id = 1"),
    )
    .unwrap();
    let results: Vec<String> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}->{}:{}",
                s["from"].as_str().unwrap(),
                s["to"].as_str().unwrap(),
                s["result"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(results.len(), 16, "{results:?}");
    assert_eq!(results[0], "creation->set_ip:success");
    assert_eq!(results[1], "set_ip->clone:waiting");
    assert_eq!(results[2], "set_ip->clone:success");
    assert!(results.contains(
        &"set_system_disk_bandwidth->set_created_additional_disk:skip (no change)".to_string()
    ));
    assert_eq!(results[15], "starting->ready:success");
    assert_eq!(db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_run_id IS NOT NULL OR vm_lease_owner <> ''"), "0");
}

#[test]
fn one_step_per_tick_is_still_possible() {
    let db = activated();
    add_vms(&db, 1..=1, "creation");
    let platform = Arc::new(FakePlatform::default());
    let mut ticks = 0;
    while status(&db, 1) != "ready" {
        tick(&db, &platform, &limits(1));
        ticks += 1;
        assert!(ticks < 40, "never became ready");
    }
    assert_eq!(ticks, 16, "15 steps plus one tick polling the clone");
}

#[test]
fn a_failing_step_backs_off_and_resumes_where_it_stopped() {
    let db = activated();
    add_vms(&db, 7..=7, "creation");
    let platform = Arc::new(FakePlatform::default());
    platform
        .fail
        .lock()
        .unwrap()
        .insert((7, Step::SetCpuRam), 2);

    assert_eq!(tick(&db, &platform, &limits(0)).errors, 0);
    assert_eq!(status(&db, 7), "set_ip");
    // The clone completes, then CPU/RAM fails.
    assert_eq!(tick(&db, &platform, &limits(0)).errors, 1);
    assert_eq!(status(&db, 7), "migrated");
    assert_eq!(db.value("SELECT CONCAT(vm_attempts, ' ', vm_last_error) FROM puqProxmoxKVM_vm_info WHERE service_id = 7"), "1 unable to run SetCpuRam - HTTP 500");
    let wait = db.value("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), vm_next_attempt_at) FROM puqProxmoxKVM_vm_info WHERE service_id = 7");
    assert!(
        (55..=60).contains(&wait.parse::<i64>().unwrap()),
        "first retry in a minute: {wait}"
    );
    assert_eq!(
        db.value(
            "SELECT CONCAT(result, ': ', error) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 7"
        ),
        "error: unable to run SetCpuRam - HTTP 500"
    );

    // Not picked again before its time.
    assert_eq!(tick(&db, &platform, &limits(0)).processed, 0);
    assert_eq!(platform.calls_of(7, Step::SetCpuRam), 1);

    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_next_attempt_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE service_id = 7");
    tick(&db, &platform, &limits(0));
    assert_eq!(
        db.value("SELECT vm_attempts FROM puqProxmoxKVM_vm_info WHERE service_id = 7"),
        "2"
    );
    let wait = db.value("SELECT TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), vm_next_attempt_at) FROM puqProxmoxKVM_vm_info WHERE service_id = 7");
    assert!(
        (115..=120).contains(&wait.parse::<i64>().unwrap()),
        "the delay grows: {wait}"
    );

    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_next_attempt_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE service_id = 7");
    tick(&db, &platform, &limits(0));
    assert_eq!(status(&db, 7), "ready");
    assert_eq!(
        platform.calls_of(7, Step::AllocateAddresses),
        1,
        "finished steps never run again"
    );
    assert_eq!(db.value("SELECT CONCAT(vm_attempts, '|', COALESCE(vm_last_error, ''), '|', vm_next_attempt_at IS NULL) FROM puqProxmoxKVM_vm_info WHERE service_id = 7"), "0||1");
    assert_eq!(
        db.value("SELECT result FROM puq_proxmox_kvm_vm_runs WHERE service_id = 7"),
        "success"
    );
}

#[test]
fn a_service_that_cannot_be_read_fails_its_next_step_and_is_retried() {
    let db = activated();
    add_vms(&db, 8..=8, "migrated");
    let platform = Arc::new(FakePlatform::default());
    platform.unreadable.lock().unwrap().push(8);

    let out = tick(&db, &platform, &limits(0));
    assert_eq!((out.processed, out.errors), (1, 1), "{:?}", out.details);
    assert_eq!(status(&db, 8), "migrated");
    assert!(platform.calls.lock().unwrap().is_empty(), "no step ran");
    assert_eq!(
        db.value("SELECT CONCAT(vm_attempts, ' ', vm_last_error, ' ', vm_next_attempt_at > UTC_TIMESTAMP(), ' ', vm_lease_owner = '') FROM puqProxmoxKVM_vm_info WHERE service_id = 8"),
        "1 service 8 (or its product) does not exist 1 1"
    );
    assert_eq!(
        db.value("SELECT CONCAT(result, ' | ', JSON_UNQUOTE(JSON_EXTRACT(steps, '$[0].label')), ' | ', JSON_UNQUOTE(JSON_EXTRACT(steps, '$[0].result'))) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 8"),
        "error | Set CPU and RAM | error: service 8 (or its product) does not exist"
    );

    platform.unreadable.lock().unwrap().clear();
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_next_attempt_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE service_id = 8");
    tick(&db, &platform, &limits(0));
    assert_eq!(status(&db, 8), "ready");
    assert_eq!(platform.calls_of(8, Step::SetCpuRam), 1);
}

#[test]
fn retry_delays_grow_to_an_hour() {
    let delays: Vec<u32> = (1..=9).map(backoff_seconds).collect();
    assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
}

#[test]
fn a_vm_claimed_by_another_runner_is_left_alone() {
    let db = activated();
    add_vms(&db, 1..=2, "creation");
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_lease_owner = 'other-host:1:1', vm_lease_until = UTC_TIMESTAMP() + INTERVAL 60 SECOND WHERE service_id = 2");
    let platform = Arc::new(FakePlatform::default());
    tick(&db, &platform, &limits(0));
    assert_eq!(status(&db, 2), "creation");
    assert_eq!(platform.calls_of(2, Step::AllocateAddresses), 0);
    // An expired lease (its runner died) is taken over.
    db.value("UPDATE puqProxmoxKVM_vm_info SET vm_lease_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND WHERE service_id = 2");
    tick(&db, &platform, &limits(0));
    assert_eq!(status(&db, 2), "set_ip");
}

#[test]
fn two_runners_at_once_never_run_a_step_twice() {
    let db = activated();
    add_vms(&db, 1..=40, "creation");
    let platform = Arc::new(FakePlatform {
        delay: Duration::from_millis(2),
        ..Default::default()
    });
    let (a, b) = block_on(async {
        let settings = Settings::default();
        let (dba, dbb) = (db.db(), db.db());
        let (limits, events) = (limits(0), Events::none());
        tokio::join!(
            engine::tick(&dba, platform.clone(), &settings, &limits, &events),
            engine::tick(&dbb, platform.clone(), &settings, &limits, &events)
        )
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.processed + b.processed >= 40, "every VM was worked on");
    let started = platform.clones_started.lock().unwrap().clone();
    for id in 1..=40 {
        assert_eq!(
            platform.calls_of(id, Step::AllocateAddresses),
            1,
            "service {id}"
        );
        assert_eq!(
            started.iter().filter(|s| **s == id).count(),
            1,
            "one clone for service {id}"
        );
    }
}

#[test]
fn a_runner_claims_no_more_of_a_nodes_vms_than_it_can_run_next() {
    let db = activated();
    add_vms(&db, 1..=12, "migrated");
    let platform = Arc::new(FakePlatform {
        delay: Duration::from_millis(500),
        ..Default::default()
    });
    let limits = Limits {
        per_node: 2,
        ..limits(1)
    };
    let (outcome, held) = block_on(async {
        let (dba, settings, events) = (db.db(), Settings::default(), Events::none());
        tokio::join!(
            engine::tick(&dba, platform.clone(), &settings, &limits, &events),
            async {
                tokio::time::sleep(Duration::from_millis(200)).await;
                // (a blocking look from the side: the tick is inside its first steps)
                db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_lease_owner <> ''")
            }
        )
    });
    assert_eq!(
        held, "4",
        "2 VMs run a step, 2 are claimed to follow; 8 stay free for another runner"
    );
    assert_eq!(outcome.unwrap().processed, 12);
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_status = 'set_cpu_ram' AND vm_lease_owner = ''"),
        "12"
    );
}

#[test]
fn a_halting_step_rests_the_vm_for_an_admin() {
    let db = activated();
    add_vms(&db, 3..=3, "terminate");
    let platform = Arc::new(FakePlatform::default());
    platform.halt.lock().unwrap().push((3, Step::TerminateVm));
    let out = tick(&db, &platform, &limits(0));
    assert_eq!(out.errors, 1);
    assert_eq!(db.value("SELECT CONCAT(vm_status, ': ', vm_last_error) FROM puqProxmoxKVM_vm_info WHERE service_id = 3"), "error_terminate: Proxmox refused the delete");
    assert_eq!(
        db.value(
            "SELECT CONCAT(kind, ' ', result) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 3"
        ),
        "terminate error"
    );
    tick(&db, &platform, &limits(0));
    assert_eq!(
        platform.calls_of(3, Step::TerminateVm),
        1,
        "cron leaves error_terminate alone"
    );
}

#[test]
fn the_run_log_keeps_the_last_fifty_runs() {
    let db = activated();
    add_vms(&db, 5..=5, "set_dns_records");
    let platform = Arc::new(FakePlatform::default());
    for _ in 0..55 {
        tick(&db, &platform, &limits(0));
        db.value(
            "UPDATE puqProxmoxKVM_vm_info SET vm_status = 'set_dns_records' WHERE service_id = 5",
        );
    }
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_vm_runs WHERE service_id = 5"),
        "50"
    );
}

#[test]
fn concurrency_is_capped_per_node_and_in_all() {
    let db = activated();
    let values: Vec<String> = (1..=12)
        .map(|id| format!("({id}, 'creation', 'vm-{id}', 'pve{}')", id % 2))
        .collect();
    db.value(&format!(
        "INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status, vm_name, vm_node) VALUES {}",
        values.join(",")
    ));
    // (per node, in all, most steps at once): two nodes of six VMs each.
    for (per_node, max_concurrent, peak) in [(4, 0, 8), (4, 3, 3), (4, 1, 1), (2, 8, 4), (1, 0, 2)]
    {
        db.value("UPDATE puqProxmoxKVM_vm_info SET vm_status = 'creation'");
        let platform = Arc::new(FakePlatform {
            delay: Duration::from_millis(40),
            ..FakePlatform::default()
        });
        let limits = Limits {
            per_node,
            max_concurrent,
            ..limits(1)
        };
        let out = tick(&db, &platform, &limits);
        assert_eq!((out.processed, out.errors), (12, 0), "{:?}", out.details);
        assert_eq!(
            platform.peak.load(Ordering::SeqCst),
            peak,
            "per node {per_node}, in all {max_concurrent}"
        );
        assert_eq!(
            db.value("SELECT COUNT(*) FROM puqProxmoxKVM_vm_info WHERE vm_status = 'set_ip'"),
            "12"
        );
    }
}
