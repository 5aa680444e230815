//! Runs the module's tasks: picks the due ones, takes each task's lock, runs it, records the
//! outcome. A failing task is recorded and reported, never raised into WHMCS.

use std::collections::HashMap;
use std::time::Instant;

use mysql_async::prelude::Queryable;
use serde::Serialize;

use super::{lock, Task};
use crate::db::all;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::module::Kvm;
use crate::settings::{CronMode, Settings};

const STATE_TABLE: &str = "puq_proxmox_kvm_cron_tasks";

/// Who started the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// WHMCS's `AfterCronJob` hook: runs only in hook mode.
    Hook,
    /// `php cron.php`: the standalone cron or an admin at the command line.
    Cli,
}

/// What to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub trigger: Trigger,
    /// Only this task, whether due or not.
    pub task: Option<Task>,
    /// Run every task now, whether due or not.
    pub force: bool,
    /// Run without taking the task locks (debugging only).
    pub no_lock: bool,
    /// The Proxmox server entries' passwords, decrypted by PHP (server id => password).
    pub server_passwords: HashMap<i64, String>,
}

/// What one task did in a tick.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TaskOutcome {
    /// Items worked on (VMs, snapshots, ...).
    pub processed: u32,
    /// Items that failed.
    pub errors: u32,
    /// One line per item (`sid:12 action:deploy result:ready`).
    pub details: Vec<String>,
}

/// How a task ended in this run.
#[derive(Clone, Debug, Serialize)]
pub struct TaskReport {
    pub task: String,
    /// `success`, `error`, `locked` (another process runs it), `disabled` (interval 0) or
    /// `not_due`.
    pub status: String,
    pub duration_ms: u64,
    #[serde(flatten)]
    pub outcome: TaskOutcome,
    pub message: String,
}

/// The outcome of a run.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// Empty, or why nothing ran (`the cron mode is standalone ...`).
    pub skipped: String,
    pub tasks: Vec<TaskReport>,
}

/// A task's row in the Settings page and `cron.php --list`.
#[derive(Clone, Debug, Serialize)]
pub struct TaskState {
    pub task: String,
    pub label: String,
    pub description: String,
    pub interval: u32,
    pub default_interval: u32,
    pub last_started_at: Option<String>,
    pub last_finished_at: Option<String>,
    pub last_status: String,
    pub last_duration_ms: u32,
    pub last_message: String,
    /// Who holds the task's lock now, if anyone.
    pub locked_by: Option<String>,
}

fn lock_name(task: Task) -> String {
    format!("cron:{}", task.name())
}

/// Runs the tasks `options` selects.
pub async fn run(kvm: &Kvm, options: &RunOptions, events: &Events) -> Result<RunReport> {
    let settings = kvm.settings().await?;
    if options.trigger == Trigger::Hook && settings.cron_mode != CronMode::Hook {
        return Ok(RunReport {
            skipped: "the cron mode is standalone: tasks run from cron.php, not from WHMCS's cron"
                .into(),
            tasks: Vec::new(),
        });
    }
    let selected: Vec<Task> = match options.task {
        Some(task) => vec![task],
        None => Task::available().to_vec(),
    };
    let last_started = last_started(kvm).await?;
    let owner = lock::owner_id();
    let mut reports = Vec::new();
    for task in selected {
        let interval = settings.interval(task);
        let explicit = options.task.is_some() || options.force;
        if !explicit {
            if interval == 0 {
                reports.push(skipped(task, "disabled", "interval is 0"));
                continue;
            }
            if let Some(age) = last_started
                .iter()
                .find(|(t, _)| t == task.name())
                .map(|(_, a)| *a)
            {
                // A little slack so a task due every minute runs on every minute's tick.
                if age + 5 < i64::from(interval) * 60 {
                    reports.push(skipped(task, "not_due", &format!("last run {age} s ago")));
                    continue;
                }
            }
        }
        reports.push(run_task(kvm, task, &settings, options, &owner, events).await);
    }
    Ok(RunReport {
        skipped: String::new(),
        tasks: reports,
    })
}

fn skipped(task: Task, status: &str, message: &str) -> TaskReport {
    TaskReport {
        task: task.name().into(),
        status: status.into(),
        duration_ms: 0,
        outcome: TaskOutcome::default(),
        message: message.into(),
    }
}

async fn last_started(kvm: &Kvm) -> Result<Vec<(String, i64)>> {
    let mut conn = kvm.db().conn().await?;
    all(
        &mut conn,
        &format!(
            "SELECT task, TIMESTAMPDIFF(SECOND, last_started_at, UTC_TIMESTAMP()) FROM `{STATE_TABLE}` \
             WHERE last_started_at IS NOT NULL"
        ),
        (),
    )
    .await
}

async fn run_task(
    kvm: &Kvm,
    task: Task,
    settings: &Settings,
    options: &RunOptions,
    owner: &str,
    events: &Events,
) -> TaskReport {
    let no_lock = options.no_lock;
    let started = Instant::now();
    let result = async {
        let mut conn = kvm.db().conn().await?;
        if !no_lock && !lock::acquire(&mut conn, &lock_name(task), owner, settings.cron_lock_timeout).await? {
            let holder = lock::holder(&mut conn, &lock_name(task)).await?;
            return Ok(Err(holder.map_or_else(
                || "another process holds the lock".to_string(),
                |(who, left)| format!("locked by {who} for {left} s more"),
            )));
        }
        conn.exec_drop(
            format!(
                "INSERT INTO `{STATE_TABLE}` (task, last_started_at, last_status) VALUES (?, UTC_TIMESTAMP(), 'running') \
                 ON DUPLICATE KEY UPDATE last_started_at = VALUES(last_started_at), last_status = 'running'"
            ),
            (task.name(),),
        )
        .await?;
        drop(conn);
        events.info(None, format!("[{}] start", task.name()));
        let outcome = execute(kvm, task, settings, options, events).await;
        let mut conn = kvm.db().conn().await?;
        if !no_lock {
            lock::release(&mut conn, &lock_name(task), owner).await?;
        }
        Ok::<_, Error>(Ok(outcome))
    }
    .await;

    let duration_ms = started.elapsed().as_millis() as u64;
    let report = match result {
        Ok(Err(locked)) => TaskReport {
            task: task.name().into(),
            status: "locked".into(),
            duration_ms,
            outcome: TaskOutcome::default(),
            message: locked,
        },
        Ok(Ok(Ok(outcome))) => TaskReport {
            task: task.name().into(),
            status: if outcome.errors == 0 {
                "success"
            } else {
                "error"
            }
            .into(),
            duration_ms,
            message: format!(
                "processed: {}, errors: {}",
                outcome.processed, outcome.errors
            ),
            outcome,
        },
        Ok(Ok(Err(err))) | Err(err) => {
            events.error(None, &format!("cron {}", task.name()), "", err.to_string());
            TaskReport {
                task: task.name().into(),
                status: "error".into(),
                duration_ms,
                outcome: TaskOutcome::default(),
                message: err.to_string(),
            }
        }
    };
    if report.status != "locked" {
        let _ = record(kvm, &report).await;
        events.info(
            None,
            format!(
                "[{}] Done ({:.2} s) - {}",
                task.name(),
                duration_ms as f64 / 1000.0,
                report.message
            ),
        );
    }
    report
}

async fn record(kvm: &Kvm, report: &TaskReport) -> Result<()> {
    let mut conn = kvm.db().conn().await?;
    conn.exec_drop(
        format!(
            "UPDATE `{STATE_TABLE}` SET last_finished_at = UTC_TIMESTAMP(), last_status = ?, last_duration_ms = ?, \
             last_processed = ?, last_errors = ?, last_message = ? WHERE task = ?"
        ),
        (
            &report.status,
            report.duration_ms.min(u64::from(u32::MAX)),
            report.outcome.processed,
            report.outcome.errors,
            &report.message,
            &report.task,
        ),
    )
    .await?;
    Ok(())
}

/// Runs one task's work.
async fn execute(
    kvm: &Kvm,
    task: Task,
    settings: &Settings,
    options: &RunOptions,
    events: &Events,
) -> Result<TaskOutcome> {
    match task {
        Task::ProcessVirtualMachines => {
            let clients = crate::vm::platform::Clients::Servers(options.server_passwords.clone());
            crate::vm::process_virtual_machines(kvm, settings, events, clients).await
        }
        other => Err(Error::NotFound(format!(
            "task {} is not available in this version",
            other.name()
        ))),
    }
}

/// The state of every available task, for `--list` and the Settings page.
pub async fn states(kvm: &Kvm) -> Result<Vec<TaskState>> {
    let settings = kvm.settings().await?;
    let mut conn = kvm.db().conn().await?;
    type Row = (
        String,
        Option<String>,
        Option<String>,
        String,
        u32,
        Option<String>,
    );
    let rows: Vec<Row> = all(
        &mut conn,
        &format!(
            "SELECT task, DATE_FORMAT(last_started_at, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(last_finished_at, '%Y-%m-%d %H:%i:%s'), \
             last_status, last_duration_ms, last_message FROM `{STATE_TABLE}`"
        ),
        (),
    )
    .await?;
    let mut states = Vec::new();
    for task in Task::available() {
        let row = rows.iter().find(|r| r.0 == task.name());
        let locked_by = lock::holder(&mut conn, &lock_name(*task))
            .await?
            .map(|(who, _)| who);
        states.push(TaskState {
            task: task.name().into(),
            label: task.label().into(),
            description: task.description().into(),
            interval: settings.interval(*task),
            default_interval: task.default_interval(),
            last_started_at: row.and_then(|r| r.1.clone()),
            last_finished_at: row.and_then(|r| r.2.clone()),
            last_status: row.map_or_else(|| "never".into(), |r| r.3.clone()),
            last_duration_ms: row.map_or(0, |r| r.4),
            last_message: row.and_then(|r| r.5.clone()).unwrap_or_default(),
            locked_by,
        });
    }
    Ok(states)
}

/// The module's Proxmox server entries with their passwords as WHMCS stores them (encrypted
/// with WHMCS's `encrypt()`): PHP decrypts them and hands them back in
/// [`RunOptions::server_passwords`].
pub async fn encrypted_server_passwords(kvm: &Kvm) -> Result<Vec<(i64, String)>> {
    let mut conn = kvm.db().conn().await?;
    all(
        &mut conn,
        "SELECT id, password FROM tblservers WHERE type = ?",
        (crate::addon::SERVER_MODULE,),
    )
    .await
}
