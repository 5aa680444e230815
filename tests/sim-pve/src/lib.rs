//! `puq-sim-pve`: an in-memory Proxmox VE cluster behind the `/api2/json` API, for tests and
//! for running the module without a real cluster.
//!
//! It answers as Proxmox does (`{"data": ...}` envelopes, 400 with per-parameter `errors`, 401
//! with an empty body, 501 for unknown paths, UPIDs with the trailing colon, 0/1 booleans, tasks
//! that run and then stop with an exit status) and checks every request against the official
//! schema (`apidata.js`): a request the real API would refuse is refused here and recorded in
//! [`Sim::violations`], so a test can assert there were none.
//!
//! Faults are injected through the [`Sim`] handle or the `/_sim/` control API: an HTTP error or
//! a hang on the next matching request, random errors and hangs on a share of all requests,
//! a failing or slow task, a lock held by another task, and latency on every request.

mod cluster;
pub mod schema;
mod server;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;

pub use cluster::{NodeSpec, StorageSpec, TemplateSpec};
pub use schema::Schema;
pub use server::RunningSim;

/// Where `apidata.js` is: `PVE_APIDATA`, else the copy in this crate (`schema/apidata.js`).
pub fn default_schema_path() -> PathBuf {
    if let Some(path) = std::env::var_os("PVE_APIDATA") {
        return PathBuf::from(path);
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.join("schema/apidata.js")
}

/// Credentials the simulator accepts.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// API token id, `user@realm!tokenid`.
    pub token_id: String,
    /// API token secret.
    pub token_secret: String,
    /// User for ticket login, `user@realm`.
    pub user: String,
    pub password: String,
}

impl Default for Credentials {
    fn default() -> Self {
        Credentials {
            token_id: "root@pam!whmcs".into(),
            token_secret: "6f1c1bde-52d4-4d3c-9a4e-0d5b1f6c2a11".into(),
            user: "root@pam".into(),
            password: "proxmox-password".into(),
        }
    }
}

/// What the simulated cluster holds at start.
#[derive(Clone, Debug)]
pub struct SimOptions {
    pub nodes: Vec<NodeSpec>,
    pub templates: Vec<TemplateSpec>,
    pub credentials: Credentials,
    /// How long a task runs before it stops, unless `task_durations` names its type.
    pub task_duration: Duration,
    /// Task type (`qmclone`, `qmstart`, `qmigrate`, ...) => how long such a task runs, for
    /// realistic timings (a clone takes seconds, a start one).
    pub task_durations: BTreeMap<String, Duration>,
}

impl Default for SimOptions {
    /// Two nodes (`pve1` 64 GiB with 16 used, `pve2` 128 GiB with 100 used), storages
    /// `local` (iso, backup) and `local-lvm` (images) on each plus shared `nfs-backup`, and a
    /// Debian template 9000 on `pve1`.
    fn default() -> Self {
        let storages = || {
            vec![
                StorageSpec::new("local", "dir", &["iso", "vztmpl", "backup"], false),
                StorageSpec::new("local-lvm", "lvmthin", &["images", "rootdir"], false),
                StorageSpec::new("nfs-backup", "nfs", &["backup"], true),
            ]
        };
        SimOptions {
            nodes: vec![
                NodeSpec::new("pve1", 64, 16, storages()),
                NodeSpec::new("pve2", 128, 100, storages()),
            ],
            templates: vec![TemplateSpec {
                vmid: 9000,
                node: "pve1".into(),
                name: "debian-12".into(),
                disk_gb: 10,
            }],
            credentials: Credentials::default(),
            task_duration: Duration::from_millis(50),
            task_durations: BTreeMap::new(),
        }
    }
}

/// One request as received, for assertions.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    /// The path below `/api2/json`, as sent (percent-encoded).
    pub path: String,
    /// The schema path it matched, e.g. `/nodes/{node}/qemu/{vmid}/config`.
    pub template: Option<String>,
    /// Query and body parameters merged (path parameters not included).
    pub params: BTreeMap<String, String>,
    /// `token`, `ticket` or `none`.
    pub auth: &'static str,
    pub status: u16,
}

/// A request the schema check refused.
#[derive(Clone, Debug)]
pub struct Violation {
    pub method: String,
    pub path: String,
    pub errors: BTreeMap<String, String>,
}

/// A fault on the next request whose method matches and whose path contains `path`.
#[derive(Clone, Debug)]
pub struct Fault {
    /// `GET`, `POST`, ...; empty matches any.
    pub method: String,
    /// A substring of the path below `/api2/json`; empty matches any.
    pub path: String,
    pub kind: FaultKind,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// Answer with this status and message instead of handling the request.
    Status(u16, String),
    /// Wait this long before handling the request (longer than the client's timeout: a timeout).
    Hang(Duration),
}

/// Faults waiting to be applied.
#[derive(Default)]
pub(crate) struct Faults {
    pub requests: VecDeque<Fault>,
    /// Task type (`qmclone`, ... or empty for any) => exit status of the next such task.
    pub failing_tasks: VecDeque<(String, String)>,
    /// The next task runs this long.
    pub slow_tasks: VecDeque<Duration>,
    pub latency: Duration,
    /// Faults on a random share of all requests (after the queued ones).
    pub random: Option<RandomFaults>,
}

/// Random faults: each API request fails with `status` with probability `error_rate`, else
/// hangs for `hang` with probability `hang_rate`. Seeded, so a failing run can be repeated.
#[derive(Clone, Debug)]
pub struct RandomFaults {
    pub error_rate: f64,
    pub status: u16,
    pub hang_rate: f64,
    pub hang: Duration,
    pub seed: u64,
}

impl RandomFaults {
    /// The fault for the next request, if the dice say so; advances the seed.
    pub fn roll(&mut self) -> Option<FaultKind> {
        // xorshift64*: plenty for spreading faults, no dependency.
        let mut x = self.seed | 1;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.seed = x;
        let dice = (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64;
        if dice < self.error_rate {
            Some(FaultKind::Status(
                self.status,
                format!("simulated failure ({})", self.status),
            ))
        } else if dice < self.error_rate + self.hang_rate {
            Some(FaultKind::Hang(self.hang))
        } else {
            None
        }
    }
}

pub(crate) struct Shared {
    pub schema: Schema,
    pub state: Mutex<cluster::Cluster>,
    pub faults: Mutex<Faults>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub violations: Mutex<Vec<Violation>>,
    pub credentials: Credentials,
}

/// A handle on a simulated cluster: serve it, inject faults, read what it received.
#[derive(Clone)]
pub struct Sim {
    pub(crate) shared: Arc<Shared>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sim {
    /// A cluster as `options` describe, checked against the schema at `schema_path`.
    pub fn new(options: SimOptions, schema: Schema) -> Sim {
        Sim {
            shared: Arc::new(Shared {
                schema,
                state: Mutex::new(cluster::Cluster::new(&options)),
                faults: Mutex::new(Faults::default()),
                requests: Mutex::new(Vec::new()),
                violations: Mutex::new(Vec::new()),
                credentials: options.credentials,
            }),
        }
    }

    /// A cluster as `options` describe, with the schema loaded from [`default_schema_path`].
    pub fn with_default_schema(options: SimOptions) -> Result<Sim, String> {
        Ok(Sim::new(options, Schema::load(&default_schema_path())?))
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Requests the schema check refused. A test asserts this is empty.
    pub fn violations(&self) -> Vec<Violation> {
        lock(&self.shared.violations).clone()
    }

    /// Forgets the request log and the violations.
    pub fn clear_log(&self) {
        lock(&self.shared.requests).clear();
        lock(&self.shared.violations).clear();
    }

    /// Queues a fault for the next matching request.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared.faults).requests.push_back(fault);
    }

    /// The next request matching `method` and `path` answers `status` with `message`.
    pub fn fail_next(&self, method: &str, path: &str, status: u16, message: &str) {
        self.inject(Fault {
            method: method.into(),
            path: path.into(),
            kind: FaultKind::Status(status, message.into()),
        });
    }

    /// The next request matching `method` and `path` waits `delay` before it is handled.
    pub fn hang_next(&self, method: &str, path: &str, delay: Duration) {
        self.inject(Fault {
            method: method.into(),
            path: path.into(),
            kind: FaultKind::Hang(delay),
        });
    }

    /// The next task of `task_type` (`qmclone`, ...; empty for any) stops with `exitstatus`.
    pub fn fail_next_task(&self, task_type: &str, exitstatus: &str) {
        lock(&self.shared.faults)
            .failing_tasks
            .push_back((task_type.into(), exitstatus.into()));
    }

    /// The next task runs for `duration`.
    pub fn slow_next_task(&self, duration: Duration) {
        lock(&self.shared.faults).slow_tasks.push_back(duration);
    }

    /// Faults on a random share of all requests from now on; `None` stops them.
    pub fn set_random_faults(&self, random: Option<RandomFaults>) {
        lock(&self.shared.faults).random = random;
    }

    /// Tasks started from now on run this long (unless a slow task is queued).
    pub fn set_default_task_duration(&self, duration: Duration) {
        lock(&self.shared.state).set_task_duration(duration);
    }

    /// Tasks of `task_type` (`qmclone`, ...) started from now on run for `duration`.
    pub fn set_task_duration(&self, task_type: &str, duration: Duration) {
        lock(&self.shared.state)
            .task_durations
            .insert(task_type.to_string(), duration);
    }

    /// Every request waits `latency` first.
    pub fn set_latency(&self, latency: Duration) {
        lock(&self.shared.faults).latency = latency;
    }

    /// Marks VM `vmid` locked (`backup`, `clone`, ...) as if another task held it; `None`
    /// releases it.
    pub fn set_lock(&self, vmid: u32, lock_name: Option<&str>) -> bool {
        lock(&self.shared.state).set_lock(vmid, lock_name)
    }

    /// Replaces the privileges the API token and the user hold: ACL path => privilege names.
    pub fn set_privileges(&self, privileges: BTreeMap<String, Vec<String>>) {
        lock(&self.shared.state).privileges = privileges;
    }

    /// A VM's configuration as stored (`None` when it does not exist).
    pub fn vm_config(&self, vmid: u32) -> Option<BTreeMap<String, String>> {
        lock(&self.shared.state)
            .vm(vmid)
            .map(|vm| vm.config.clone())
    }

    /// A VM's node, running state, firewall options, rules and IP sets as JSON, for assertions.
    pub fn vm_state(&self, vmid: u32) -> Option<Value> {
        lock(&self.shared.state).vm(vmid).map(cluster::Vm::describe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(random: &mut RandomFaults, rolls: u32) -> (u32, u32) {
        let (mut errors, mut hangs) = (0, 0);
        for _ in 0..rolls {
            match random.roll() {
                Some(FaultKind::Status(500, _)) => errors += 1,
                Some(FaultKind::Hang(d)) if d == Duration::from_millis(10) => hangs += 1,
                Some(other) => panic!("unexpected fault {other:?}"),
                None => {}
            }
        }
        (errors, hangs)
    }

    #[test]
    fn random_faults_hit_about_their_share() {
        let cases = [
            // (error rate, hang rate, expected errors range, expected hangs range) over 10,000
            (0.0, 0.0, 0..=0, 0..=0),
            (0.1, 0.0, 850..=1150, 0..=0),
            (0.05, 0.05, 400..=600, 400..=600),
            (1.0, 0.0, 10_000..=10_000, 0..=0),
            (0.0, 1.0, 0..=0, 10_000..=10_000),
        ];
        for (error_rate, hang_rate, errors, hangs) in cases {
            let mut random = RandomFaults {
                error_rate,
                status: 500,
                hang_rate,
                hang: Duration::from_millis(10),
                seed: 42,
            };
            let (e, h) = share(&mut random, 10_000);
            assert!(errors.contains(&e), "{error_rate}: {e} errors");
            assert!(hangs.contains(&h), "{hang_rate}: {h} hangs");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_faults() {
        let make = || RandomFaults {
            error_rate: 0.3,
            status: 503,
            hang_rate: 0.0,
            hang: Duration::ZERO,
            seed: 7,
        };
        let (mut a, mut b) = (make(), make());
        let left: Vec<bool> = (0..200).map(|_| a.roll().is_some()).collect();
        let right: Vec<bool> = (0..200).map(|_| b.roll().is_some()).collect();
        assert_eq!(left, right);
    }
}
