//! Proxmox VE: the API client the pipelines use, behind the [`ProxmoxApi`] trait so tests and
//! pipelines can swap it.
//!
//! - [`Endpoint`] is one WHMCS server entry: host, port, credentials (an API token when the
//!   username holds `!`, else a user for ticket login) and how its certificate is trusted.
//! - [`Client`] speaks HTTP to `/api2/json` with a timeout for its purpose (page requests or
//!   cron work), retries only idempotent reads, and turns every failure into [`ApiError`].
//! - Tasks: calls that start a task return its [`Upid`]; [`ProxmoxApi::task_state`] polls it
//!   (`OK` and `WARNINGS: n` are success) and a failure carries the task's last log lines.
//!
//! API reference: <https://pve.proxmox.com/pve-docs/api-viewer/>.

pub mod access;
mod client;
mod error;
mod types;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

pub use client::{Client, Purpose};
pub use error::{ApiError, ApiResult};
pub use types::{
    bool01, check_config_id, check_node, check_storage, encode_sshkeys, ConfigUpdate, DiskLimits,
    Drive, Ip4Config, Ip6Config, IpConfig, NetDevice, TaskState, Upid, VmConfig, Vmid, NIC_MODELS,
};

use crate::http::Trust;

/// How the client authenticates.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`; no CSRF token needed.
    Token { id: String, secret: String },
    /// `POST /access/ticket`, then the `PVEAuthCookie` cookie and `CSRFPreventionToken` on writes.
    Ticket { user: String, password: String },
}

impl Auth {
    /// From a WHMCS server entry: a username holding `!` is an API token id (`root@pam!whmcs`)
    /// and the password its secret; otherwise a user (`root@pam`) and its password.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] on `username` or `password` when empty or malformed.
    pub fn from_server(username: &str, password: &str) -> ApiResult<Auth> {
        let username = username.trim();
        if username.is_empty() {
            return Err(ApiError::invalid(
                "username",
                "is empty - enter an API token id (user@realm!tokenid) or a user (user@realm)",
            ));
        }
        if password.is_empty() {
            return Err(ApiError::invalid(
                "password",
                "is empty - enter the token secret or the user's password",
            ));
        }
        let (user, token) = match username.split_once('!') {
            Some((user, token)) => (user, Some(token)),
            None => (username, None),
        };
        if !user.contains('@') || user.starts_with('@') || user.ends_with('@') {
            return Err(ApiError::invalid(
                "username",
                "must be user@realm (root@pam) or a token id user@realm!tokenid (root@pam!whmcs)",
            ));
        }
        match token {
            Some(t)
                if t.is_empty()
                    || !t
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) =>
            {
                Err(ApiError::invalid(
                    "username",
                    "the token id after '!' must hold only letters, digits, '-', '_' and '.'",
                ))
            }
            Some(_) => Ok(Auth::Token {
                id: username.to_string(),
                secret: password.to_string(),
            }),
            None => Ok(Auth::Ticket {
                user: username.to_string(),
                password: password.to_string(),
            }),
        }
    }

    /// The user or token id, never the secret.
    pub fn principal(&self) -> &str {
        match self {
            Auth::Token { id, .. } => id,
            Auth::Ticket { user, .. } => user,
        }
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Token { id, .. } => write!(f, "Token({id}, secret hidden)"),
            Auth::Ticket { user, .. } => write!(f, "Ticket({user}, password hidden)"),
        }
    }
}

/// One Proxmox server (cluster entry point).
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// `https://host:8006` (or `http://` for the test simulator); no trailing slash.
    pub base_url: String,
    pub auth: Auth,
    pub trust: Trust,
}

impl Endpoint {
    /// From a WHMCS server entry: hostname (or IP when the hostname is empty), port (8006 when
    /// 0), the credentials, and the Access Hash, which holds `key=value` lines; the only key
    /// is `fingerprint=AB:CD:...` (the SHA-256 fingerprint of a self-signed certificate).
    ///
    /// # Errors
    /// [`ApiError::Invalid`] naming the field: `hostname`, `username`, `password`, `accesshash`.
    pub fn from_server(
        hostname: &str,
        ip: &str,
        port: u16,
        username: &str,
        password: &str,
        access_hash: &str,
    ) -> ApiResult<Endpoint> {
        let host = [hostname.trim(), ip.trim()]
            .into_iter()
            .find(|h| !h.is_empty())
            .ok_or_else(|| {
                ApiError::invalid(
                    "hostname",
                    "is empty - enter the Proxmox node or cluster address",
                )
            })?;
        let host = host
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_string();
        let (host, port) = match host.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => {
                (h.to_string(), p.parse().unwrap_or(8006))
            }
            _ => (host, if port == 0 { 8006 } else { port }),
        };
        let ok = host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
        if host.is_empty() || !ok {
            return Err(ApiError::invalid(
                "hostname",
                format!("'{host}' is not a host name or IP address"),
            ));
        }
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host
        };
        Ok(Endpoint {
            base_url: format!("https://{host}:{port}"),
            auth: Auth::from_server(username, password)?,
            trust: access_hash_trust(access_hash)?,
        })
    }
}

/// The trust a server's Access Hash asks for: `fingerprint=AB:CD:...` pins the certificate;
/// empty verifies it against the CA roots.
///
/// # Errors
/// [`ApiError::Invalid`] on `accesshash` for an unknown key or a malformed fingerprint.
pub fn access_hash_trust(access_hash: &str) -> ApiResult<Trust> {
    let mut trust = Trust::Verified;
    for line in access_hash.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let invalid = |message: String| ApiError::invalid("accesshash", message);
        let (key, value) = line.split_once('=').ok_or_else(|| {
            invalid(format!(
                "'{line}' is not key=value - write fingerprint=AB:CD:... or leave the field empty"
            ))
        })?;
        match key.trim().to_ascii_lowercase().as_str() {
            "fingerprint" => {
                trust = Trust::from_fingerprint(value.trim(), "accesshash").map_err(|e| {
                    invalid(match e {
                        crate::Error::Validation { message, .. } => message,
                        other => other.to_string(),
                    })
                })?;
            }
            other => {
                return Err(invalid(format!(
                    "unknown key '{other}' - the only key is fingerprint=AB:CD:..."
                )))
            }
        }
    }
    Ok(trust)
}

/// `GET /version`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub version: String,
    pub release: String,
}

/// A cluster node from `GET /nodes`.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    pub node: String,
    pub online: bool,
    pub maxmem: u64,
    pub mem: u64,
}

impl NodeInfo {
    /// Free memory in bytes (the automatic node choice takes the node with the most).
    pub fn free_memory(&self) -> u64 {
        self.maxmem.saturating_sub(self.mem)
    }
}

/// `GET /nodes/{node}/status` memory figures, in bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeMemory {
    pub total: u64,
    pub used: u64,
    pub free: u64,
}

/// A storage as a node sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct StorageInfo {
    pub storage: String,
    pub kind: String,
    pub content: Vec<String>,
    pub shared: bool,
    pub active: bool,
    pub total: u64,
    pub used: u64,
    pub avail: u64,
}

/// A VM in a listing.
#[derive(Clone, Debug, PartialEq)]
pub struct VmSummary {
    pub vmid: u32,
    pub node: Option<String>,
    pub name: Option<String>,
    pub running: bool,
    pub template: bool,
}

/// `GET /nodes/{node}/qemu/{vmid}/status/current`.
#[derive(Clone, Debug, PartialEq)]
pub struct VmStatus {
    pub running: bool,
    pub qmpstatus: Option<String>,
    pub lock: Option<String>,
    pub name: Option<String>,
    pub cpus: Option<f64>,
    pub maxmem: Option<u64>,
    pub mem: Option<u64>,
    pub uptime: Option<u64>,
}

/// A snapshot (the `current` pseudo entry is left out).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    pub name: String,
    pub description: String,
    pub snaptime: Option<u64>,
    pub parent: Option<String>,
}

/// A VM's firewall options; `None` leaves an option unchanged (or, read, unset).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallOptions {
    pub enable: Option<bool>,
    pub dhcp: Option<bool>,
    pub ndp: Option<bool>,
    pub radv: Option<bool>,
    pub macfilter: Option<bool>,
    pub ipfilter: Option<bool>,
    /// ACCEPT, DROP or REJECT.
    pub policy_in: Option<String>,
    pub policy_out: Option<String>,
    /// nolog, emerg, alert, crit, err, warning, notice, info, debug.
    pub log_level_in: Option<String>,
    pub log_level_out: Option<String>,
}

/// A firewall rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FirewallRule {
    /// Position (read only; new rules go to the top).
    pub pos: Option<u32>,
    /// in, out, forward or group.
    pub direction: String,
    /// ACCEPT, DROP, REJECT, or a security group name.
    pub action: String,
    pub enable: bool,
    pub proto: Option<String>,
    pub source: Option<String>,
    pub dest: Option<String>,
    pub dport: Option<String>,
    pub sport: Option<String>,
    pub macro_name: Option<String>,
    pub iface: Option<String>,
    pub comment: Option<String>,
}

/// `POST /nodes/{node}/qemu/{vmid}/clone`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloneRequest {
    pub newid: Vmid,
    pub name: Option<String>,
    /// Full copy; `false` makes a linked clone (needs a template).
    pub full: bool,
    /// The node the clone lands on (shared storage needed when it is not the template's).
    pub target: Option<String>,
    /// Storage for a full clone's disks.
    pub storage: Option<String>,
    pub description: Option<String>,
}

/// `POST /nodes/{node}/qemu/{vmid}/migrate`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrateRequest {
    pub target: String,
    pub online: bool,
    /// Move local disks to this storage on the target (`targetstorage`).
    pub target_storage: Option<String>,
    pub with_local_disks: bool,
}

/// `POST /nodes/{node}/vzdump`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupRequest {
    pub vmid: Vmid,
    pub storage: String,
    /// snapshot, suspend or stop.
    pub mode: String,
    /// 0, 1, gzip, lzo or zstd.
    pub compress: String,
    /// Notes written on the backup (`{{guestname}}`, `{{vmid}}` are expanded by Proxmox).
    pub notes: Option<String>,
    pub protected: bool,
}

/// A volume on a storage (a backup from `content=backup`).
#[derive(Clone, Debug, PartialEq)]
pub struct StorageVolume {
    pub volid: String,
    pub content: String,
    pub vmid: Option<u32>,
    pub size: u64,
    pub ctime: Option<u64>,
    pub format: Option<String>,
    pub notes: Option<String>,
    pub protected: bool,
}

/// `POST /nodes/{node}/qemu` with an archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestoreRequest {
    pub vmid: Vmid,
    pub archive: String,
    pub storage: Option<String>,
    /// Overwrite the existing VM.
    pub force: bool,
    /// New MAC addresses.
    pub unique: bool,
    pub start: bool,
}

/// The RRD time frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeframe {
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl Timeframe {
    pub fn as_str(self) -> &'static str {
        match self {
            Timeframe::Hour => "hour",
            Timeframe::Day => "day",
            Timeframe::Week => "week",
            Timeframe::Month => "month",
            Timeframe::Year => "year",
        }
    }
}

/// One RRD point: `time` and the data sources Proxmox knew (an unknown one is absent).
/// `netin`/`netout`/`diskread`/`diskwrite` are rates in bytes per second.
#[derive(Clone, Debug, PartialEq)]
pub struct RrdPoint {
    pub time: u64,
    pub values: BTreeMap<String, f64>,
}

/// A finished task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskOutcome {
    pub upid: Upid,
    pub warnings: u32,
}

/// Everything the pipelines ask of Proxmox. [`Client`] is the real one; a test fake
/// implements what it needs.
#[async_trait]
pub trait ProxmoxApi: Send + Sync {
    /// `GET /version`.
    async fn version(&self) -> ApiResult<Version>;
    /// `GET /access/permissions`: ACL path => privilege => granted, for the authenticated
    /// user or token (`path` narrows it to one ACL path).
    async fn permissions(
        &self,
        path: Option<&str>,
    ) -> ApiResult<BTreeMap<String, BTreeMap<String, bool>>>;
    /// `GET /cluster/nextid`: the lowest free VMID.
    async fn next_vmid(&self) -> ApiResult<Vmid>;
    /// `GET /cluster/nextid?vmid=N`: whether `vmid` is free.
    async fn vmid_is_free(&self, vmid: Vmid) -> ApiResult<bool>;
    /// `GET /nodes`.
    async fn nodes(&self) -> ApiResult<Vec<NodeInfo>>;
    /// `GET /nodes/{node}/status` memory.
    async fn node_memory(&self, node: &str) -> ApiResult<NodeMemory>;
    /// `GET /nodes/{node}/storage`, optionally only storages holding `content`.
    async fn storages(&self, node: &str, content: Option<&str>) -> ApiResult<Vec<StorageInfo>>;
    /// `GET /cluster/resources?type=vm`: every VM and template with its node.
    async fn cluster_vms(&self) -> ApiResult<Vec<VmSummary>>;
    /// VM `vmid` anywhere in the cluster, from [`ProxmoxApi::cluster_vms`].
    async fn find_vm(&self, vmid: u32) -> ApiResult<Option<VmSummary>> {
        Ok(self
            .cluster_vms()
            .await?
            .into_iter()
            .find(|v| v.vmid == vmid))
    }
    /// `GET /nodes/{node}/qemu`.
    async fn node_vms(&self, node: &str) -> ApiResult<Vec<VmSummary>>;
    /// `POST /nodes/{node}/qemu/{vmid}/clone`.
    async fn clone_vm(&self, node: &str, template: Vmid, request: &CloneRequest)
        -> ApiResult<Upid>;
    /// `GET /nodes/{node}/qemu/{vmid}/config`.
    async fn vm_config(&self, node: &str, vmid: Vmid) -> ApiResult<VmConfig>;
    /// `POST /nodes/{node}/qemu/{vmid}/config`: a task, or `None` when Proxmox finished at once.
    async fn update_config(
        &self,
        node: &str,
        vmid: Vmid,
        update: &ConfigUpdate,
    ) -> ApiResult<Option<Upid>>;
    /// `PUT /nodes/{node}/qemu/{vmid}/config`: applied before it answers.
    async fn update_config_sync(
        &self,
        node: &str,
        vmid: Vmid,
        update: &ConfigUpdate,
    ) -> ApiResult<()>;
    /// `PUT /nodes/{node}/qemu/{vmid}/resize`; `size` is `50G` (absolute) or `+10G`. A task
    /// from PVE 8, `None` before.
    async fn resize_disk(
        &self,
        node: &str,
        vmid: Vmid,
        disk: &str,
        size: &str,
    ) -> ApiResult<Option<Upid>>;
    /// `POST /nodes/{node}/qemu/{vmid}/migrate`.
    async fn migrate(&self, node: &str, vmid: Vmid, request: &MigrateRequest) -> ApiResult<Upid>;
    /// `POST /nodes/{node}/qemu/{vmid}/status/start`.
    async fn start(&self, node: &str, vmid: Vmid) -> ApiResult<Upid>;
    /// `POST /nodes/{node}/qemu/{vmid}/status/stop` (hard stop).
    async fn stop(&self, node: &str, vmid: Vmid) -> ApiResult<Upid>;
    /// `POST /nodes/{node}/qemu/{vmid}/status/shutdown` (ACPI), hard stop after `timeout`.
    async fn shutdown(&self, node: &str, vmid: Vmid, timeout: Option<Duration>) -> ApiResult<Upid>;
    /// `GET /nodes/{node}/qemu/{vmid}/status/current`.
    async fn vm_status(&self, node: &str, vmid: Vmid) -> ApiResult<VmStatus>;
    /// `DELETE /nodes/{node}/qemu/{vmid}` with `purge` (from jobs, HA, replication) and
    /// `destroy-unreferenced-disks`.
    async fn delete_vm(&self, node: &str, vmid: Vmid, purge: bool) -> ApiResult<Upid>;
    /// `GET /nodes/{node}/qemu/{vmid}/snapshot`.
    async fn snapshots(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<Snapshot>>;
    /// `POST /nodes/{node}/qemu/{vmid}/snapshot`.
    async fn create_snapshot(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        description: &str,
    ) -> ApiResult<Upid>;
    /// `DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}`.
    async fn delete_snapshot(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Upid>;
    /// `POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback`.
    async fn rollback_snapshot(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Upid>;
    /// `GET /nodes/{node}/qemu/{vmid}/firewall/options`.
    async fn firewall_options(&self, node: &str, vmid: Vmid) -> ApiResult<FirewallOptions>;
    /// `PUT /nodes/{node}/qemu/{vmid}/firewall/options`.
    async fn set_firewall_options(
        &self,
        node: &str,
        vmid: Vmid,
        options: &FirewallOptions,
    ) -> ApiResult<()>;
    /// `GET /nodes/{node}/qemu/{vmid}/firewall/rules`.
    async fn firewall_rules(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<FirewallRule>>;
    /// `POST /nodes/{node}/qemu/{vmid}/firewall/rules` (inserted at the top).
    async fn add_firewall_rule(&self, node: &str, vmid: Vmid, rule: &FirewallRule)
        -> ApiResult<()>;
    /// `DELETE /nodes/{node}/qemu/{vmid}/firewall/rules/{pos}`.
    async fn delete_firewall_rule(&self, node: &str, vmid: Vmid, pos: u32) -> ApiResult<()>;
    /// `GET /nodes/{node}/qemu/{vmid}/firewall/ipset`: IP set names.
    async fn ip_sets(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<String>>;
    /// `POST /nodes/{node}/qemu/{vmid}/firewall/ipset`.
    async fn create_ip_set(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        comment: &str,
    ) -> ApiResult<()>;
    /// `GET /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}`: the CIDRs.
    async fn ip_set_entries(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Vec<String>>;
    /// `POST /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}`.
    async fn add_ip_set_entry(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        cidr: &str,
    ) -> ApiResult<()>;
    /// `DELETE /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}/{cidr}`.
    async fn delete_ip_set_entry(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        cidr: &str,
    ) -> ApiResult<()>;
    /// `DELETE /nodes/{node}/qemu/{vmid}/firewall/ipset/{name}` (`force` empties it first).
    async fn delete_ip_set(&self, node: &str, vmid: Vmid, name: &str, force: bool)
        -> ApiResult<()>;
    /// `PUT /nodes/{node}/qemu/{vmid}/cloudinit`: regenerates the cloud-init drive.
    async fn regenerate_cloudinit(&self, node: &str, vmid: Vmid) -> ApiResult<()>;
    /// `POST /nodes/{node}/vzdump`.
    async fn backup(&self, node: &str, request: &BackupRequest) -> ApiResult<Upid>;
    /// `GET /nodes/{node}/storage/{storage}/content`.
    async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
        vmid: Option<Vmid>,
    ) -> ApiResult<Vec<StorageVolume>>;
    /// `DELETE /nodes/{node}/storage/{storage}/content/{volume}`: a task or `None`.
    async fn delete_volume(
        &self,
        node: &str,
        storage: &str,
        volid: &str,
    ) -> ApiResult<Option<Upid>>;
    /// `POST /nodes/{node}/qemu` with `archive`: restores a backup.
    async fn restore(&self, node: &str, request: &RestoreRequest) -> ApiResult<Upid>;
    /// `GET /nodes/{node}/qemu/{vmid}/rrddata`; `max` picks `cf=MAX` over `AVERAGE`.
    async fn rrd_data(
        &self,
        node: &str,
        vmid: Vmid,
        timeframe: Timeframe,
        max: bool,
    ) -> ApiResult<Vec<RrdPoint>>;
    /// `GET /nodes/{node}/tasks/{upid}/status`.
    async fn task_state(&self, upid: &Upid) -> ApiResult<TaskState>;
    /// `GET /nodes/{node}/tasks/{upid}/log`: lines from `start`, at most `limit`.
    async fn task_log(&self, upid: &Upid, start: u32, limit: u32) -> ApiResult<Vec<String>>;

    /// The task's outcome if it stopped: `Ok(Some(..))` on `OK`/`WARNINGS`, `Ok(None)` while it
    /// runs, [`ApiError::TaskFailed`] with its last log lines otherwise. Never blocks: this is
    /// what a cron step calls once per pass.
    async fn task_result(&self, upid: &Upid) -> ApiResult<Option<TaskOutcome>> {
        match self.task_state(upid).await? {
            TaskState::Running => Ok(None),
            TaskState::Succeeded { warnings } => Ok(Some(TaskOutcome {
                upid: upid.clone(),
                warnings,
            })),
            TaskState::Failed { exitstatus } => {
                // The log is context only: a failure to read it must not hide the failure.
                let log = self.task_log(upid, 0, 500).await.unwrap_or_default();
                let tail = log[log.len().saturating_sub(5)..].to_vec();
                Err(ApiError::TaskFailed {
                    upid: upid.to_string(),
                    exitstatus,
                    log: tail,
                })
            }
        }
    }

    /// Polls the task every `interval` until it stops or `limit` passes
    /// ([`ApiError::TaskTimeout`]: poll again later, never restart it).
    async fn wait_for_task(
        &self,
        upid: &Upid,
        interval: Duration,
        limit: Duration,
    ) -> ApiResult<TaskOutcome> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(outcome) = self.task_result(upid).await? {
                return Ok(outcome);
            }
            if tokio::time::Instant::now() + interval > deadline {
                return Err(ApiError::TaskTimeout {
                    upid: upid.to_string(),
                });
            }
            tokio::time::sleep(interval).await;
        }
    }
}

/// A JSON object's string field.
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
