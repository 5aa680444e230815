//! The cron runner and its database locks against MariaDB.

mod common;

use common::TestDb;
use puq_proxmox_kvm::cron::lock;
use puq_proxmox_kvm::cron::runner::{self, RunOptions, Trigger};
use puq_proxmox_kvm::cron::Task;
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::runtime::block_on;
use serde_json::json;

fn activated() -> TestDb {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    db
}

fn opts(trigger: Trigger) -> RunOptions {
    RunOptions {
        trigger,
        task: None,
        force: false,
        no_lock: false,
        server_passwords: Default::default(),
    }
}

#[test]
fn a_lock_is_held_until_released_or_expired() {
    let db = activated();
    let mut conn = block_on(db.db().conn()).unwrap();
    block_on(async {
        assert!(lock::acquire(&mut conn, "cron:x", "host-a:1:1", 600)
            .await
            .unwrap());
        assert!(
            !lock::acquire(&mut conn, "cron:x", "host-b:2:2", 600)
                .await
                .unwrap(),
            "held by a"
        );
        assert!(
            lock::acquire(&mut conn, "cron:x", "host-a:1:1", 600)
                .await
                .unwrap(),
            "the holder renews"
        );
        let (who, left) = lock::holder(&mut conn, "cron:x").await.unwrap().unwrap();
        assert_eq!(who, "host-a:1:1");
        assert!((595..=600).contains(&left), "{left}");
        lock::release(&mut conn, "cron:x", "host-b:2:2")
            .await
            .unwrap();
        assert!(
            !lock::acquire(&mut conn, "cron:x", "host-b:2:2", 600)
                .await
                .unwrap(),
            "only the holder releases"
        );
        lock::release(&mut conn, "cron:x", "host-a:1:1")
            .await
            .unwrap();
        assert!(lock::acquire(&mut conn, "cron:x", "host-b:2:2", 600)
            .await
            .unwrap());
    });
    // A stale lock (its holder died) is taken over.
    db.value("UPDATE puq_proxmox_kvm_locks SET expires_at = UTC_TIMESTAMP() - INTERVAL 1 SECOND");
    assert!(block_on(lock::acquire(&mut conn, "cron:x", "host-c:3:3", 600)).unwrap());
    assert_eq!(
        db.value("SELECT owner FROM puq_proxmox_kvm_locks WHERE name = 'cron:x'"),
        "host-c:3:3"
    );
}

#[test]
fn concurrent_takers_get_the_lock_once() {
    let db = activated();
    let winners: usize = block_on(async {
        let mut tries = tokio::task::JoinSet::new();
        for i in 0..8 {
            let handle = db.db();
            tries.spawn(async move {
                let mut conn = handle.conn().await.unwrap();
                lock::acquire(&mut conn, "cron:race", &format!("host:{i}:0"), 600)
                    .await
                    .unwrap()
            });
        }
        let mut won = 0;
        while let Some(t) = tries.join_next().await {
            won += usize::from(t.unwrap());
        }
        won
    });
    assert_eq!(winners, 1);
}

#[test]
fn the_hook_does_nothing_in_standalone_mode() {
    let db = activated();
    let kvm = db.kvm();
    block_on(kvm.save_settings(json!({"cron_mode": "standalone"}).as_object().unwrap())).unwrap();
    let report = block_on(runner::run(&kvm, &opts(Trigger::Hook), &Events::none())).unwrap();
    assert!(report.tasks.is_empty());
    assert!(report.skipped.contains("standalone"), "{}", report.skipped);
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_cron_tasks"),
        "0"
    );
}

#[test]
fn a_task_held_by_another_process_is_skipped_and_reported() {
    let db = activated();
    db.value("INSERT INTO puq_proxmox_kvm_locks VALUES ('cron:processVirtualMachines', 'other-host:9:9', UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL 300 SECOND)");
    let report = block_on(runner::run(&db.kvm(), &opts(Trigger::Cli), &Events::none())).unwrap();
    assert_eq!(report.tasks.len(), 1);
    assert_eq!(report.tasks[0].status, "locked");
    assert!(
        report.tasks[0].message.contains("other-host:9:9"),
        "{}",
        report.tasks[0].message
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_cron_tasks"),
        "0",
        "a locked task is not recorded as run"
    );
    // --no-lock runs it anyway (debugging).
    let forced = RunOptions {
        no_lock: true,
        ..opts(Trigger::Cli)
    };
    let report = block_on(runner::run(&db.kvm(), &forced, &Events::none())).unwrap();
    assert_ne!(report.tasks[0].status, "locked");
}

#[test]
fn intervals_decide_what_is_due() {
    let db = activated();
    let kvm = db.kvm();
    // Ran 30 s ago with a 1 minute interval: not due; --task and --force run it anyway.
    db.value("INSERT INTO puq_proxmox_kvm_cron_tasks (task, last_started_at, last_status) VALUES ('processVirtualMachines', UTC_TIMESTAMP() - INTERVAL 30 SECOND, 'success')");
    let report = block_on(runner::run(&kvm, &opts(Trigger::Cli), &Events::none())).unwrap();
    assert_eq!(report.tasks[0].status, "not_due");
    let one = RunOptions {
        task: Some(Task::ProcessVirtualMachines),
        ..opts(Trigger::Cli)
    };
    assert_ne!(
        block_on(runner::run(&kvm, &one, &Events::none()))
            .unwrap()
            .tasks[0]
            .status,
        "not_due"
    );
    // Started 58 s ago: due (a tick every minute must not skip a beat).
    db.value("UPDATE puq_proxmox_kvm_cron_tasks SET last_started_at = UTC_TIMESTAMP() - INTERVAL 58 SECOND");
    assert_ne!(
        block_on(runner::run(&kvm, &opts(Trigger::Cli), &Events::none()))
            .unwrap()
            .tasks[0]
            .status,
        "not_due"
    );
    // Interval 0 disables it.
    block_on(
        kvm.save_settings(
            json!({"interval_processVirtualMachines": 0})
                .as_object()
                .unwrap(),
        ),
    )
    .unwrap();
    db.value(
        "UPDATE puq_proxmox_kvm_cron_tasks SET last_started_at = UTC_TIMESTAMP() - INTERVAL 1 DAY",
    );
    assert_eq!(
        block_on(runner::run(&kvm, &opts(Trigger::Cli), &Events::none()))
            .unwrap()
            .tasks[0]
            .status,
        "disabled"
    );
}

#[test]
fn a_run_is_recorded_with_its_outcome() {
    let db = activated();
    let kvm = db.kvm();
    let (events, mut rx) = Events::channel();
    let report = block_on(runner::run(&kvm, &opts(Trigger::Cli), &events)).unwrap();
    drop(events);
    let task = &report.tasks[0];
    assert_eq!(
        db.value("SELECT CONCAT(task, ' ', last_status, ' ', last_finished_at IS NOT NULL) FROM puq_proxmox_kvm_cron_tasks"),
        format!("processVirtualMachines {} 1", task.status)
    );
    assert_eq!(
        db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_locks"),
        "0",
        "the lock is released"
    );
    let mut lines = Vec::new();
    while let Ok(e) = rx.try_recv() {
        lines.push(e.message);
    }
    assert_eq!(
        lines.first().map(String::as_str),
        Some("[processVirtualMachines] start")
    );
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("[processVirtualMachines] Done ("),
        "{lines:?}"
    );
    let states = block_on(runner::states(&kvm)).unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].last_status, task.status);
    assert!(states[0].last_started_at.is_some());
}
