//! Advances VMs through their pipelines, several steps per tick.
//!
//! Per tick: pick the VMs whose state has a way out and whose retry time has come, claim each
//! with a lease (one runner per VM across processes and hosts), then run its steps one after
//! another until the pipeline rests, a step waits for a Proxmox task, a step fails, or the time
//! budget or step cap is spent. VMs run concurrently: at most `per_node` steps at once on one
//! Proxmox node (the database work around a step does not count) and as many of its VMs
//! claimed to follow them (the others stay free for another runner), so a slow node does not
//! hold up the others, and at most `max_concurrent` VMs in all when that is set.
//!
//! A step is idempotent and re-attaches to a task it started (its UPID is checkpointed before
//! it returns); a crash at any point resumes on the next tick. A failed step keeps the state,
//! counts the attempt, records the error and waits longer before each retry.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::runlog;
use super::steps::{self, Step, Transition, RESTING};
use crate::cron::runner::TaskOutcome;
use crate::db::{all, first, Db};
use crate::error::{Error, Result};
use crate::events::Events;
use crate::settings::Settings;

const TABLE: &str = "puqProxmoxKVM_vm_info";

/// A VM row as the pipeline sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Vm {
    pub service_id: i64,
    pub vm_id: Option<u32>,
    pub vm_name: String,
    pub vm_node: String,
    pub status: String,
    /// The Proxmox task the current step waits for (empty: none).
    pub task_upid: String,
    /// Scratch state of the current pipeline, kept across ticks (target node, ...).
    pub data: Map<String, Value>,
    /// Failed attempts of the current step.
    pub attempts: u32,
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq)]
pub enum StepResult {
    /// Done: the VM moves on.
    Done,
    /// Nothing needed changing: the VM moves on; logged `skip (no change)`.
    Skipped,
    /// A Proxmox task runs (its UPID is in `vm.task_upid`): poll it again next tick.
    Waiting(String),
    /// The pipeline cannot go on without an admin: the VM goes to `status` (e.g.
    /// `error_terminate`) with `reason`, and cron leaves it alone.
    Halt {
        status: &'static str,
        reason: String,
    },
}

/// What runs the steps: Proxmox, IP pools and DNS in production, a fake in tests.
pub trait Platform: Send + Sync + 'static {
    /// What `vm`'s steps need to know about its service (server entry, product
    /// configuration): read once per VM and tick, before the VM waits for its node.
    type Service: Send + Sync;

    /// Reads what the steps of `vm` need; a failure counts as a failure of its next step.
    fn service(&self, vm: &Vm) -> impl Future<Output = Result<Self::Service>> + Send;

    /// Runs `step` for `vm` once. Must check the actual state first and skip what is done;
    /// may change `vm` (vm_id, node, upid, data) and save it early with [`StepContext::checkpoint`].
    fn run_step(
        &self,
        step: Step,
        vm: &mut Vm,
        service: &Self::Service,
        ctx: &StepContext,
    ) -> impl Future<Output = Result<StepResult>> + Send;
}

/// What a step may use besides the platform.
pub struct StepContext {
    pub db: Db,
    pub settings: Settings,
    pub events: Events,
    owner: String,
}

impl StepContext {
    /// Saves `vm`'s identity and task fields now (not its state), so a crash after a Proxmox
    /// call that started something still finds it on the next tick.
    pub async fn checkpoint(&self, vm: &Vm) -> Result<()> {
        let mut conn = self.db.stateless_conn().await?;
        save_fields(&mut conn, vm, &self.owner).await
    }
}

/// How much one tick may do.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Wall time after which no new step starts.
    pub budget: Duration,
    /// Steps per VM per tick (0: no cap). 1 gives the documented step-per-tick behaviour.
    pub max_steps_per_vm: u32,
    /// Steps run at once on one Proxmox node.
    pub per_node: usize,
    /// VMs worked on at once in all (0: no cap beyond `per_node`); bounds the database
    /// connections and Proxmox requests one tick holds.
    pub max_concurrent: usize,
    /// VMs picked per tick.
    pub max_vms: u32,
    /// How long a claim on a VM lasts if its runner dies.
    pub lease_seconds: u32,
}

impl Limits {
    /// The limits in force for `settings`.
    pub fn from_settings(settings: &Settings) -> Limits {
        Limits {
            budget: Duration::from_secs(u64::from(settings.cron_time_budget)),
            max_steps_per_vm: settings.cron_max_steps,
            per_node: settings.cron_node_concurrency as usize,
            max_concurrent: 0,
            max_vms: 1000,
            lease_seconds: settings.cron_time_budget + settings.heavy_timeout * 2,
        }
    }
}

/// Seconds before retry number `attempts` (1, 2, ...): 1 min, 2, 4, ... up to 1 h.
pub fn backoff_seconds(attempts: u32) -> u32 {
    60u32
        .saturating_mul(1 << attempts.saturating_sub(1).min(6))
        .min(3600)
}

/// One tick: advances every VM that has work and is not claimed by another runner.
pub async fn tick<P: Platform>(
    db: &Db,
    platform: Arc<P>,
    settings: &Settings,
    limits: &Limits,
    events: &Events,
) -> Result<TaskOutcome> {
    let started = Instant::now();
    let owner = crate::cron::lock::owner_id();
    let placeholders = vec!["?"; steps::TRANSITIONS.len()].join(",");
    let mut params: Vec<mysql_async::Value> =
        steps::TRANSITIONS.iter().map(|t| t.from.into()).collect();
    params.push(limits.max_vms.into());
    let mut conn = db.stateless_conn().await?;
    let candidates: Vec<(i64, String)> = all(
        &mut conn,
        &format!(
            "SELECT service_id, vm_node FROM `{TABLE}` WHERE vm_status IN ({placeholders}) \
             AND (vm_next_attempt_at IS NULL OR vm_next_attempt_at <= UTC_TIMESTAMP()) \
             AND (vm_lease_until IS NULL OR vm_lease_until < UTC_TIMESTAMP()) \
             ORDER BY vm_next_attempt_at IS NOT NULL, vm_next_attempt_at, service_id LIMIT ?"
        ),
        params,
    )
    .await?;
    drop(conn);

    let mut nodes: HashMap<String, Node> = HashMap::new();
    let all_nodes =
        (limits.max_concurrent > 0).then(|| Arc::new(Semaphore::new(limits.max_concurrent)));
    let mut runs = JoinSet::new();
    for (service_id, node) in candidates {
        let node = nodes
            .entry(node)
            .or_insert_with(|| Node::new(limits.per_node))
            .clone();
        let ctx = StepContext {
            db: db.clone(),
            settings: settings.clone(),
            events: events.clone(),
            owner: owner.clone(),
        };
        let platform = platform.clone();
        let limits = limits.clone();
        let global = all_nodes.clone();
        runs.spawn(async move {
            let _global = match global {
                Some(global) => Some(global.acquire_owned().await),
                None => None,
            };
            // The next VMs of a node are claimed and read while its steps run, but no more of
            // them than the node runs at once: the rest stay free for another runner.
            let staged = node.staging.clone().acquire_owned().await.ok();
            if started.elapsed() >= limits.budget {
                return Ok(None);
            }
            advance(
                service_id,
                platform.as_ref(),
                (node.steps, staged),
                &ctx,
                &limits,
                started,
            )
            .await
        });
    }

    let mut outcome = TaskOutcome::default();
    while let Some(joined) = runs.join_next().await {
        match joined {
            Ok(Ok(Some(line))) => {
                outcome.processed += 1;
                if line.failed {
                    outcome.errors += 1;
                }
                outcome.details.push(line.text);
            }
            Ok(Ok(None)) => {}
            Ok(Err(err)) => {
                outcome.processed += 1;
                outcome.errors += 1;
                events.error(None, "processVirtualMachines", "", err.to_string());
                outcome.details.push(format!("error: {err}"));
            }
            Err(join) => {
                outcome.errors += 1;
                outcome
                    .details
                    .push(format!("error: a VM runner stopped - {join}"));
            }
        }
    }
    Ok(outcome)
}

struct Line {
    text: String,
    failed: bool,
}

/// A Proxmox node's limits within a tick: `steps` running at once, and as many VMs `staging`
/// (claimed, their row and service read) to follow them.
#[derive(Clone)]
struct Node {
    steps: Arc<Semaphore>,
    staging: Arc<Semaphore>,
}

impl Node {
    fn new(per_node: usize) -> Node {
        Node {
            steps: Arc::new(Semaphore::new(per_node.max(1))),
            staging: Arc::new(Semaphore::new(per_node.max(1))),
        }
    }
}

/// A node's step semaphore, and the staging permit of a VM not yet running a step.
type NodeTurn = (Arc<Semaphore>, Option<OwnedSemaphorePermit>);

/// Claims one VM, runs its steps, releases it. `None` when another runner holds it.
async fn advance<P: Platform>(
    service_id: i64,
    platform: &P,
    node: NodeTurn,
    ctx: &StepContext,
    limits: &Limits,
    tick_started: Instant,
) -> Result<Option<Line>> {
    let mut conn = ctx.db.stateless_conn().await?;
    let claimed = conn
        .exec_iter(
            format!(
                "UPDATE `{TABLE}` SET vm_lease_owner = ?, vm_lease_until = UTC_TIMESTAMP() + INTERVAL ? SECOND \
                 WHERE service_id = ? AND (vm_lease_until IS NULL OR vm_lease_until < UTC_TIMESTAMP())"
            ),
            (&ctx.owner, limits.lease_seconds, service_id),
        )
        .await?
        .affected_rows();
    if claimed != 1 {
        return Ok(None);
    }
    let loaded = load_on(&mut conn, service_id).await;
    drop(conn);
    let result = match loaded {
        Ok(vm) => run_steps(vm, platform, node, ctx, limits, tick_started).await,
        Err(e) => Err(e),
    };
    let mut conn = ctx.db.stateless_conn().await?;
    conn.exec_drop(
        format!(
            "UPDATE `{TABLE}` SET vm_lease_owner = '', vm_lease_until = NULL WHERE service_id = ? AND vm_lease_owner = ?"
        ),
        (service_id, &ctx.owner),
    )
    .await?;
    result
}

/// Runs `vm`'s steps, holding `node`'s step permit only while a step runs: the claim, the
/// service's configuration (under the staging permit, given back once the first step starts)
/// and the database work after each step (state, run log, release) overlap the steps of other
/// VMs on the node, so a tick of many VMs is bound by Proxmox, not by the database.
async fn run_steps<P: Platform>(
    mut vm: Vm,
    platform: &P,
    node: NodeTurn,
    ctx: &StepContext,
    limits: &Limits,
    tick_started: Instant,
) -> Result<Option<Line>> {
    let service_id = vm.service_id;
    let mut steps_run = 0u32;
    let first_status = vm.status.clone();
    let kind = steps::next(&vm.status).map(|t| t.kind);
    ctx.events.info(
        Some(service_id),
        format!(
            "--- {}: service={} vm={} status={} ---",
            kind.map_or("Pipeline", |k| k.as_str()),
            service_id,
            vm.vm_id.map_or("-".to_string(), |id| id.to_string()),
            vm.status
        ),
    );
    let (node, mut staged) = node;
    let mut known: Option<P::Service> = None;
    while let Some(transition) = steps::next(&vm.status) {
        if limits.max_steps_per_vm > 0 && steps_run >= limits.max_steps_per_vm {
            break;
        }
        if known.is_none() {
            let reading = Instant::now();
            match platform.service(&vm).await {
                Ok(service) => known = Some(service),
                Err(err) => {
                    return fail_step(vm, transition, err, reading.elapsed(), ctx)
                        .await
                        .map(Some)
                }
            }
        }
        let service = known.as_ref().expect("read above");
        let (result, elapsed) = {
            let _permit = node.acquire().await.ok();
            drop(staged.take());
            if tick_started.elapsed() >= limits.budget {
                break;
            }
            steps_run += 1;
            let step_started = Instant::now();
            let result = platform
                .run_step(transition.step, &mut vm, service, ctx)
                .await;
            (result, step_started.elapsed())
        };
        let mut conn = ctx.db.stateless_conn().await?;
        match result {
            Ok(StepResult::Done) | Ok(StepResult::Skipped) => {
                let skipped = matches!(result, Ok(StepResult::Skipped));
                vm.task_upid.clear();
                vm.attempts = 0;
                let to = transition.to;
                move_to(&mut conn, &mut vm, transition, to, &ctx.owner, None).await?;
                let label = if skipped {
                    "skip (no change)"
                } else {
                    "success"
                };
                runlog::record(
                    &mut conn,
                    &vm,
                    transition,
                    label,
                    if skipped { Duration::ZERO } else { elapsed },
                )
                .await?;
                ctx.events.info(
                    Some(service_id),
                    format!(
                        "  {} ({} -> {}): {label} [{:.2}s]",
                        transition.label,
                        transition.from,
                        to,
                        elapsed.as_secs_f64()
                    ),
                );
            }
            Ok(StepResult::Waiting(note)) => {
                save_fields(&mut conn, &vm, &ctx.owner).await?;
                runlog::record(&mut conn, &vm, transition, "waiting", elapsed).await?;
                ctx.events.info(
                    Some(service_id),
                    format!(
                        "  {} ({} -> {}): waiting - {note} [{:.2}s]",
                        transition.label,
                        transition.from,
                        transition.to,
                        elapsed.as_secs_f64()
                    ),
                );
                break;
            }
            Ok(StepResult::Halt { status, reason }) => {
                move_to(
                    &mut conn,
                    &mut vm,
                    transition,
                    status,
                    &ctx.owner,
                    Some(&reason),
                )
                .await?;
                let label = format!("error: {reason}");
                runlog::record(&mut conn, &vm, transition, &label, elapsed).await?;
                runlog::finish(&mut conn, &vm, "error", Some(&reason)).await?;
                ctx.events.error(
                    Some(service_id),
                    transition.kind.as_str(),
                    format!("service {service_id}"),
                    format!(
                        "  {} ({} -> {status}): {label}",
                        transition.label, transition.from
                    ),
                );
                return Ok(Some(Line {
                    text: format!(
                        "sid:{service_id} action:{} result:{status}",
                        transition.kind.as_str()
                    ),
                    failed: true,
                }));
            }
            Err(err) => {
                drop(conn);
                return fail_step(vm, transition, err, elapsed, ctx).await.map(Some);
            }
        }
    }
    if RESTING.contains(&vm.status.as_str()) && vm.status != first_status {
        let mut conn = ctx.db.stateless_conn().await?;
        runlog::finish(&mut conn, &vm, "success", None).await?;
        ctx.events.info(
            Some(service_id),
            format!(
                "--- {} complete: service={service_id} status={} ---",
                kind.map_or("Pipeline", |k| k.as_str()),
                vm.status
            ),
        );
    }
    if steps_run == 0 {
        return Ok(None);
    }
    Ok(Some(Line {
        text: format!(
            "sid:{service_id} action:{} result:{}",
            kind.map_or("none", |k| k.as_str()),
            vm.status
        ),
        failed: false,
    }))
}

/// Records a failed step: the attempt counted, the error kept, the retry time set, the run
/// marked failed (it stays open: the step is retried then).
async fn fail_step(
    mut vm: Vm,
    transition: &Transition,
    err: Error,
    elapsed: Duration,
    ctx: &StepContext,
) -> Result<Line> {
    let service_id = vm.service_id;
    vm.attempts += 1;
    let delay = backoff_seconds(vm.attempts);
    let message = err.to_string();
    let mut conn = ctx.db.stateless_conn().await?;
    update_vm(
        &mut conn,
        &vm,
        &ctx.owner,
        ", vm_attempts = ?, vm_last_error = ?, vm_next_attempt_at = UTC_TIMESTAMP() + INTERVAL ? SECOND",
        vec![vm.attempts.into(), message.as_str().into(), delay.into()],
        None,
    )
    .await?;
    let label = format!("error: {message}");
    runlog::record(&mut conn, &vm, transition, &label, elapsed).await?;
    runlog::fail(&mut conn, &vm, &message).await?;
    ctx.events.error(
        Some(service_id),
        transition.kind.as_str(),
        format!("service {service_id} step {}", transition.from),
        format!(
            "  {} ({} -> {}): {label} (attempt {}, retry in {delay} s)",
            transition.label, transition.from, transition.to, vm.attempts
        ),
    );
    Ok(Line {
        text: format!(
            "sid:{service_id} action:{} result:error at {}",
            transition.kind.as_str(),
            vm.status
        ),
        failed: true,
    })
}

type VmRow = (
    i64,
    Option<u32>,
    String,
    String,
    String,
    String,
    Option<String>,
    u32,
);

/// Reads the VM row of `service_id`.
pub async fn load(db: &Db, service_id: i64) -> Result<Vm> {
    let mut conn = db.stateless_conn().await?;
    load_on(&mut conn, service_id).await
}

async fn load_on(conn: &mut mysql_async::Conn, service_id: i64) -> Result<Vm> {
    let row: Option<VmRow> = first(
        conn,
        &format!(
            "SELECT service_id, vm_id, vm_name, vm_node, vm_status, vm_task_upid, vm_pipeline_data, vm_attempts \
             FROM `{TABLE}` WHERE service_id = ?"
        ),
        (service_id,),
    )
    .await?;
    let (service_id, vm_id, vm_name, vm_node, status, task_upid, data, attempts) =
        row.ok_or_else(|| super::no_vm_record(service_id))?;
    let data = match data.as_deref().map(str::trim) {
        None | Some("") => Map::new(),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            Error::Database(format!(
                "vm_pipeline_data of service {service_id} is not a JSON object ({e}) - fix it in the DB Record editor"
            ))
        })?,
    };
    Ok(Vm {
        service_id,
        vm_id,
        vm_name,
        vm_node,
        status,
        task_upid,
        data,
        attempts,
    })
}

/// Saves `vm`'s identity, task and scratch fields with `set` (more `, column = ...`
/// assignments taking `values`), if the VM is still `owner`'s and `also` (a further
/// condition and its value) holds; returns the rows changed.
async fn update_vm(
    conn: &mut mysql_async::Conn,
    vm: &Vm,
    owner: &str,
    set: &str,
    values: Vec<mysql_async::Value>,
    also: Option<(&str, mysql_async::Value)>,
) -> Result<u64> {
    let mut params: Vec<mysql_async::Value> = vec![
        vm.vm_id.into(),
        vm.vm_name.as_str().into(),
        vm.vm_node.as_str().into(),
        vm.task_upid.as_str().into(),
        Value::Object(vm.data.clone()).to_string().into(),
    ];
    params.extend(values);
    params.push(vm.service_id.into());
    params.push(owner.into());
    let condition = match also {
        Some((condition, value)) => {
            params.push(value);
            condition
        }
        None => "",
    };
    Ok(conn
        .exec_iter(
            format!(
                "UPDATE `{TABLE}` SET vm_id = ?, vm_name = ?, vm_node = ?, vm_task_upid = ?, vm_pipeline_data = ?{set} \
                 WHERE service_id = ? AND vm_lease_owner = ?{condition}"
            ),
            mysql_async::Params::Positional(params),
        )
        .await?
        .affected_rows())
}

async fn save_fields(conn: &mut mysql_async::Conn, vm: &Vm, owner: &str) -> Result<()> {
    update_vm(conn, vm, owner, "", Vec::new(), None).await?;
    Ok(())
}

/// Moves `vm` to `to`, only if it is still in `transition.from` and still ours (an admin's
/// reset in the meantime wins). One statement saves the step's fields and moves the state.
async fn move_to(
    conn: &mut mysql_async::Conn,
    vm: &mut Vm,
    transition: &Transition,
    to: &str,
    owner: &str,
    error: Option<&str>,
) -> Result<()> {
    if crate::vm::steps::next(to).map(|t| t.kind) != Some(transition.kind) {
        // Leaving this pipeline: its scratch state is spent.
        vm.data.clear();
    }
    let moved = update_vm(
        conn,
        vm,
        owner,
        ", vm_status = ?, vm_attempts = 0, vm_last_error = ?, vm_next_attempt_at = NULL",
        vec![to.into(), error.into()],
        Some((" AND vm_status = ?", transition.from.into())),
    )
    .await?;
    if moved != 1 {
        return Err(Error::Conflict(format!(
            "service {} changed state while its step ran - left as it is",
            vm.service_id
        )));
    }
    vm.status = to.to_string();
    Ok(())
}
