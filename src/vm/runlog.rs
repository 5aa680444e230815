//! The run log: every pipeline run of a VM with its steps (label, transition, result,
//! duration, time). The last 50 runs per VM are kept.
//!
//! A run spans ticks: it opens with the pipeline's first step and closes when the VM rests
//! (`ready`, `remove`, `error_terminate`). A step that keeps waiting for the same Proxmox task
//! updates its one `waiting` entry instead of adding one per tick.

use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde_json::{json, Value};

use super::engine::Vm;
use super::steps::Transition;
use crate::db::first;
use crate::error::Result;

const RUNS: &str = "puq_proxmox_kvm_vm_runs";
const VMS: &str = "puqProxmoxKVM_vm_info";
/// Runs kept per VM.
pub const KEEP: u32 = 50;

/// The VM's open run for `transition` (opening one if needed): its id and steps so far.
async fn open_run(
    conn: &mut Conn,
    vm: &Vm,
    transition: &Transition,
) -> Result<(u64, Option<String>)> {
    let open: Option<(u64, String, Option<String>)> = first(
        conn,
        &format!(
            "SELECT r.id, r.kind, r.steps FROM `{VMS}` v JOIN `{RUNS}` r ON r.id = v.vm_run_id \
             WHERE v.service_id = ? AND r.finished_at IS NULL"
        ),
        (vm.service_id,),
    )
    .await?;
    if let Some((id, kind, steps)) = open {
        // A reinstall continues as a deploy within the same run.
        if kind == transition.kind.as_str() || kind == "reinstall" {
            return Ok((id, steps));
        }
        finish_id(conn, id, "error", Some("superseded by another action")).await?;
    }
    conn.exec_drop(
        format!("INSERT INTO `{RUNS}` (service_id, kind, started_at, result, steps) VALUES (?, ?, UTC_TIMESTAMP(3), 'running', '[]')"),
        (vm.service_id, transition.kind.as_str()),
    )
    .await?;
    let id = conn.last_insert_id().unwrap_or_default();
    conn.exec_drop(
        format!("UPDATE `{VMS}` SET vm_run_id = ? WHERE service_id = ?"),
        (id, vm.service_id),
    )
    .await?;
    // Keep the newest runs only.
    conn.exec_drop(
        format!(
            "DELETE FROM `{RUNS}` WHERE service_id = ? AND id < (SELECT id FROM (SELECT id FROM `{RUNS}` \
             WHERE service_id = ? ORDER BY id DESC LIMIT 1 OFFSET {}) keep)",
            KEEP - 1
        ),
        (vm.service_id, vm.service_id),
    )
    .await?;
    // A new run starts with no steps.
    Ok((id, None))
}

/// Adds a step to the VM's open run (opening one if needed).
pub async fn record(
    conn: &mut Conn,
    vm: &Vm,
    transition: &Transition,
    result: &str,
    duration: Duration,
) -> Result<()> {
    let (id, steps) = open_run(conn, vm, transition).await?;
    let mut steps: Vec<Value> = steps
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    let entry = json!({
        "label": transition.label,
        "from": transition.from,
        "to": if result == "waiting" || result.starts_with("error") { transition.to } else { vm.status.as_str() },
        "result": result,
        "duration_ms": duration.as_millis() as u64,
        "at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
    });
    let repeat_wait = steps.last().is_some_and(|last| {
        last["from"] == transition.from && last["result"] == "waiting" && result == "waiting"
    });
    if repeat_wait {
        let total = steps
            .last()
            .and_then(|l| l["duration_ms"].as_u64())
            .unwrap_or(0)
            + duration.as_millis() as u64;
        let mut entry = entry;
        entry["duration_ms"] = total.into();
        if let Some(last) = steps.last_mut() {
            *last = entry;
        }
    } else {
        steps.push(entry);
    }
    conn.exec_drop(
        format!("UPDATE `{RUNS}` SET steps = ?, result = IF(result = 'error' AND ? = 'waiting', result, 'running') WHERE id = ?"),
        (Value::Array(steps).to_string(), result, id),
    )
    .await?;
    Ok(())
}

/// Marks the open run failed (it stays open: the step is retried).
pub async fn fail(conn: &mut Conn, vm: &Vm, message: &str) -> Result<()> {
    conn.exec_drop(
        format!(
            "UPDATE `{RUNS}` r JOIN `{VMS}` v ON v.vm_run_id = r.id SET r.result = 'error', r.error = ? \
             WHERE v.service_id = ? AND r.finished_at IS NULL"
        ),
        (message, vm.service_id),
    )
    .await?;
    Ok(())
}

/// Closes the open run with `result`.
pub async fn finish(conn: &mut Conn, vm: &Vm, result: &str, error: Option<&str>) -> Result<()> {
    let id: Option<Option<u64>> = first(
        conn,
        &format!("SELECT vm_run_id FROM `{VMS}` WHERE service_id = ?"),
        (vm.service_id,),
    )
    .await?;
    if let Some(Some(id)) = id {
        finish_id(conn, id, result, error).await?;
        conn.exec_drop(
            format!("UPDATE `{VMS}` SET vm_run_id = NULL WHERE service_id = ?"),
            (vm.service_id,),
        )
        .await?;
    }
    Ok(())
}

async fn finish_id(conn: &mut Conn, id: u64, result: &str, error: Option<&str>) -> Result<()> {
    conn.exec_drop(
        format!("UPDATE `{RUNS}` SET result = ?, error = COALESCE(?, error), finished_at = UTC_TIMESTAMP(3) WHERE id = ?"),
        (result, error, id),
    )
    .await?;
    Ok(())
}

/// Records an action done at once (suspend, unsuspend) as a finished run of one step.
pub async fn record_action(
    conn: &mut Conn,
    service_id: i64,
    kind: &str,
    label: &str,
    result: &str,
    duration: Duration,
) -> Result<()> {
    let steps = json!([{
        "label": label,
        "from": kind,
        "to": kind,
        "result": result,
        "duration_ms": duration.as_millis() as u64,
        "at": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
    }]);
    let (outcome, error) = match result.strip_prefix("error: ") {
        Some(message) => ("error", Some(message)),
        None => ("success", None),
    };
    conn.exec_drop(
        format!(
            "INSERT INTO `{RUNS}` (service_id, kind, started_at, finished_at, result, error, steps) \
             VALUES (?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3), ?, ?, ?)"
        ),
        (service_id, kind, outcome, error, steps.to_string()),
    )
    .await?;
    Ok(())
}
