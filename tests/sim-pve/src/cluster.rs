//! The in-memory cluster and one handler per endpoint. Parameters arrive already checked
//! against the schema; handlers enforce what Proxmox checks at run time (VM exists, not
//! locked, not running, no shrinking, ...) with Proxmox's messages.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::schema::parse_bool;
use crate::{Credentials, Faults, SimOptions};

/// A node of the simulated cluster.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    pub memory_gb: u64,
    pub used_gb: u64,
    pub storages: Vec<StorageSpec>,
}

impl NodeSpec {
    pub fn new(name: &str, memory_gb: u64, used_gb: u64, storages: Vec<StorageSpec>) -> Self {
        NodeSpec {
            name: name.into(),
            memory_gb,
            used_gb,
            storages,
        }
    }
}

/// A storage on a node.
#[derive(Clone, Debug)]
pub struct StorageSpec {
    pub name: String,
    pub kind: String,
    pub content: Vec<String>,
    pub shared: bool,
}

impl StorageSpec {
    pub fn new(name: &str, kind: &str, content: &[&str], shared: bool) -> Self {
        StorageSpec {
            name: name.into(),
            kind: kind.into(),
            content: content.iter().map(|c| c.to_string()).collect(),
            shared,
        }
    }
}

/// A template VM present at start.
#[derive(Clone, Debug)]
pub struct TemplateSpec {
    pub vmid: u32,
    pub node: String,
    pub name: String,
    pub disk_gb: u64,
}

/// An error answered to the client.
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            errors: BTreeMap::new(),
        }
    }

    fn param(name: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: 400,
            message: "Parameter verification failed.".into(),
            errors: BTreeMap::from([(name.to_string(), message.into())]),
        }
    }
}

type Reply = Result<Value, ApiError>;

fn die(message: impl Into<String>) -> ApiError {
    ApiError::new(500, message)
}

#[derive(Clone, Debug)]
struct Volume {
    volid: String,
    content: String,
    vmid: u32,
    size: u64,
    ctime: u64,
    notes: String,
    /// The VM's configuration when backed up (for restore).
    config: BTreeMap<String, String>,
}

#[derive(Debug)]
struct Storage {
    spec: StorageSpec,
    total: u64,
    volumes: Vec<Volume>,
}

#[derive(Debug)]
struct Node {
    name: String,
    maxmem: u64,
    mem: u64,
    storages: Vec<Storage>,
}

#[derive(Clone, Debug)]
struct Snapshot {
    name: String,
    description: String,
    snaptime: u64,
}

/// A VM (or template).
#[derive(Clone, Debug)]
pub struct Vm {
    node: String,
    pub config: BTreeMap<String, String>,
    running: bool,
    lock: Option<String>,
    snapshots: Vec<Snapshot>,
    firewall: BTreeMap<String, String>,
    rules: Vec<BTreeMap<String, String>>,
    ipsets: BTreeMap<String, Vec<(String, String)>>,
}

impl Vm {
    /// Node, running state, lock, firewall options, rules and IP sets as JSON.
    pub fn describe(&self) -> Value {
        json!({
            "node": self.node,
            "running": self.running,
            "lock": self.lock,
            "snapshots": self.snapshots.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
            "firewall": self.firewall,
            "rules": self.rules,
            "ipsets": self.ipsets.iter().map(|(k, v)| (k.clone(), v.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>())).collect::<BTreeMap<_, _>>(),
        })
    }
}

struct Task {
    upid: String,
    node: String,
    kind: String,
    user: String,
    pid: u32,
    pstart: u32,
    starttime: u64,
    started: Instant,
    duration: Duration,
    exitstatus: String,
    log: Vec<String>,
    /// Released when the task stops.
    lock: Option<(u32, String)>,
}

/// The cluster's whole state.
pub struct Cluster {
    nodes: Vec<Node>,
    vms: BTreeMap<u32, Vm>,
    tasks: Vec<Task>,
    task_duration: Duration,
    /// Task type => duration, overriding `task_duration`.
    pub task_durations: BTreeMap<String, Duration>,
    next_pid: u32,
    /// Ticket => CSRF token.
    pub tickets: BTreeMap<String, String>,
    /// ACL path => privileges the authenticated user or token holds.
    pub privileges: BTreeMap<String, Vec<String>>,
}

/// Every privilege the module's pipelines use.
pub const ALL_PRIVILEGES: &[&str] = &[
    "Sys.Audit",
    "Datastore.Audit",
    "Datastore.AllocateSpace",
    "Datastore.Allocate",
    "VM.Audit",
    "VM.Allocate",
    "VM.Clone",
    "VM.Config.Disk",
    "VM.Config.CPU",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Cloudinit",
    "VM.Config.Options",
    "VM.Config.HWType",
    "VM.PowerMgmt",
    "VM.Migrate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
    "VM.Backup",
    "VM.Console",
    "SDN.Use",
];

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// `2026_11_30-01_02_03` for vzdump file names.
fn stamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}_{m:02}_{d:02}-{:02}_{:02}_{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

fn digest(config: &BTreeMap<String, String>) -> String {
    use sha2::Digest;
    let text: String = config.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    sha2::Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..40]
        .to_string()
}

/// A number from the JSON-ish string config, as Proxmox returns it (numbers as numbers).
fn typed(v: &str) -> Value {
    if let Ok(i) = v.parse::<i64>() {
        if !v.starts_with('0') || v == "0" {
            return json!(i);
        }
    }
    json!(v)
}

/// `10G`, `512M`, `1T`, `1024` (bytes) -> bytes.
fn parse_size(v: &str) -> Option<u64> {
    let (num, unit) = match v.chars().last()? {
        c @ ('K' | 'M' | 'G' | 'T') => (&v[..v.len() - 1], c),
        _ => (v, 'B'),
    };
    let n: f64 = num.parse().ok()?;
    let factor = match unit {
        'K' => 1u64 << 10,
        'M' => 1 << 20,
        'G' => 1 << 30,
        'T' => 1 << 40,
        _ => 1,
    };
    Some((n * factor as f64) as u64)
}

fn format_size(bytes: u64) -> String {
    const G: u64 = 1 << 30;
    const M: u64 = 1 << 20;
    if bytes.is_multiple_of(G) {
        format!("{}G", bytes / G)
    } else {
        format!("{}M", bytes.div_ceil(M))
    }
}

fn is_disk_key(key: &str) -> bool {
    ["scsi", "virtio", "sata", "ide"].iter().any(|p| {
        key.strip_prefix(p)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

fn drive_option<'a>(drive: &'a str, key: &str) -> Option<&'a str> {
    drive
        .split(',')
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

fn set_drive_option(drive: &str, key: &str, value: &str) -> String {
    let mut parts: Vec<String> = drive.split(',').map(str::to_string).collect();
    match parts
        .iter_mut()
        .skip(1)
        .find(|p| p.split_once('=').is_some_and(|(k, _)| k == key))
    {
        Some(p) => *p = format!("{key}={value}"),
        None => parts.push(format!("{key}={value}")),
    }
    parts.join(",")
}

/// One checked API call.
pub struct Call<'a> {
    pub method: &'a str,
    pub template: &'a str,
    pub params: &'a BTreeMap<String, String>,
    pub user: &'a str,
    pub credentials: &'a Credentials,
}

impl Call<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }
    fn text(&self, key: &str) -> &str {
        self.get(key).unwrap_or_default()
    }
    fn flag(&self, key: &str) -> bool {
        self.get(key).and_then(parse_bool).unwrap_or(false)
    }
    fn vmid(&self) -> u32 {
        self.get("vmid")
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }
    fn node(&self) -> &str {
        self.text("node")
    }
}

/// Keys of a config write that are call options, not configuration.
const CONFIG_OPTIONS: &[&str] = &[
    "node",
    "vmid",
    "delete",
    "digest",
    "background_delay",
    "skiplock",
    "force",
    "revert",
];

impl Cluster {
    pub fn new(options: &SimOptions) -> Cluster {
        const GIB: u64 = 1 << 30;
        let nodes = options
            .nodes
            .iter()
            .map(|n| Node {
                name: n.name.clone(),
                maxmem: n.memory_gb * GIB,
                mem: n.used_gb * GIB,
                storages: n
                    .storages
                    .iter()
                    .map(|s| Storage {
                        spec: s.clone(),
                        total: 2048 * GIB,
                        volumes: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        let mut cluster = Cluster {
            nodes,
            vms: BTreeMap::new(),
            tasks: Vec::new(),
            task_duration: options.task_duration,
            task_durations: options.task_durations.clone(),
            next_pid: 0x1000,
            tickets: BTreeMap::new(),
            privileges: BTreeMap::from([(
                "/".to_string(),
                ALL_PRIVILEGES.iter().map(|p| p.to_string()).collect(),
            )]),
        };
        for t in &options.templates {
            let config = BTreeMap::from([
                ("name".to_string(), t.name.clone()),
                ("template".to_string(), "1".to_string()),
                ("cores".to_string(), "1".to_string()),
                ("memory".to_string(), "1024".to_string()),
                ("ostype".to_string(), "l26".to_string()),
                ("scsihw".to_string(), "virtio-scsi-pci".to_string()),
                (
                    "scsi0".to_string(),
                    format!("local-lvm:base-{}-disk-0,size={}G", t.vmid, t.disk_gb),
                ),
                (
                    "ide2".to_string(),
                    "local-lvm:vm-9000-cloudinit,media=cdrom".replace("9000", &t.vmid.to_string()),
                ),
                (
                    "net0".to_string(),
                    "virtio=BC:24:11:00:90:00,bridge=vmbr0".to_string(),
                ),
                ("boot".to_string(), "order=scsi0".to_string()),
            ]);
            cluster.vms.insert(t.vmid, Vm::new(&t.node, config));
        }
        cluster
    }

    pub fn vm(&self, vmid: u32) -> Option<&Vm> {
        self.vms.get(&vmid)
    }

    pub fn set_lock(&mut self, vmid: u32, name: Option<&str>) -> bool {
        match self.vms.get_mut(&vmid) {
            Some(vm) => {
                vm.lock = name.map(str::to_string);
                true
            }
            None => false,
        }
    }

    /// Tasks started from now on run `duration`.
    pub fn set_task_duration(&mut self, duration: Duration) {
        self.task_duration = duration;
    }

    /// Stops tasks whose time is up and releases their locks.
    pub fn advance(&mut self) {
        let mut released = Vec::new();
        for task in &mut self.tasks {
            if task.started.elapsed() >= task.duration {
                if let Some(lock) = task.lock.take() {
                    released.push(lock);
                }
            }
        }
        for (vmid, name) in released {
            if let Some(vm) = self.vms.get_mut(&vmid) {
                if vm.lock.as_deref() == Some(name.as_str()) {
                    vm.lock = None;
                }
            }
        }
    }

    fn node_mut(&mut self, name: &str) -> Result<&mut Node, ApiError> {
        self.nodes
            .iter_mut()
            .find(|n| n.name == name)
            .ok_or_else(|| ApiError::param("node", format!("no such cluster node '{name}'")))
    }

    fn node_ref(&self, name: &str) -> Result<&Node, ApiError> {
        self.nodes
            .iter()
            .find(|n| n.name == name)
            .ok_or_else(|| ApiError::param("node", format!("no such cluster node '{name}'")))
    }

    /// The VM on `node`, as Proxmox finds its config file.
    fn vm_on(&mut self, node: &str, vmid: u32) -> Result<&mut Vm, ApiError> {
        match self.vms.get_mut(&vmid) {
            Some(vm) if vm.node == node => Ok(vm),
            _ => Err(die(format!(
                "Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist"
            ))),
        }
    }

    /// The VM, refusing when another task holds its lock.
    fn vm_unlocked(&mut self, node: &str, vmid: u32, skiplock: bool) -> Result<&mut Vm, ApiError> {
        let vm = self.vm_on(node, vmid)?;
        match &vm.lock {
            Some(lock) if !skiplock => Err(die(format!("VM is locked ({lock})"))),
            _ => Ok(vm),
        }
    }

    fn storage_mut(&mut self, node: &str, storage: &str) -> Result<&mut Storage, ApiError> {
        let node = self.node_mut(node)?;
        node.storages
            .iter_mut()
            .find(|s| s.spec.name == storage)
            .ok_or_else(|| die(format!("storage '{storage}' does not exist")))
    }

    /// Starts a task; `lock` (vmid, lock name) is held until it stops. Returns the UPID, or
    /// the failure the test injected (the task still exists and stops with that status).
    fn start_task(
        &mut self,
        faults: &mut Faults,
        node: &str,
        kind: &str,
        id: &str,
        user: &str,
        lock: Option<(u32, &str)>,
    ) -> (String, bool) {
        self.next_pid += 1;
        let pid = self.next_pid;
        let pstart = 0x0123_4567 + pid;
        let starttime = now();
        let upid =
            format!("UPID:{node}:{pid:08X}:{pstart:08X}:{starttime:08X}:{kind}:{id}:{user}:");
        let failure = faults
            .failing_tasks
            .iter()
            .position(|(k, _)| k.is_empty() || k == kind)
            .and_then(|i| faults.failing_tasks.remove(i))
            .map(|(_, status)| status);
        let duration = faults
            .slow_tasks
            .pop_front()
            .or_else(|| self.task_durations.get(kind).copied())
            .unwrap_or(self.task_duration);
        let mut log = vec![format!("starting task {kind} for {id}")];
        let exitstatus = match &failure {
            Some(status) => {
                log.push(format!("ERROR: {status}"));
                log.push(format!("TASK ERROR: {status}"));
                status.clone()
            }
            None => {
                log.push(format!("{kind} {id} finished"));
                log.push("TASK OK".into());
                "OK".into()
            }
        };
        if let Some((vmid, name)) = lock {
            if let Some(vm) = self.vms.get_mut(&vmid) {
                vm.lock = Some(name.to_string());
            }
        }
        self.tasks.push(Task {
            upid: upid.clone(),
            node: node.to_string(),
            kind: kind.to_string(),
            user: user.to_string(),
            pid,
            pstart,
            starttime,
            started: Instant::now(),
            duration,
            exitstatus,
            log,
            lock: lock.map(|(v, n)| (v, n.to_string())),
        });
        (upid, failure.is_some())
    }

    /// Handles one call whose parameters passed the schema check.
    pub fn dispatch(&mut self, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let vm_path = "/nodes/{node}/qemu/{vmid}";
        match (call.method, call.template) {
            ("POST", "/access/ticket") => self.login(call),
            ("GET", "/version") => {
                Ok(json!({"version": "9.1.3", "release": "9.1", "repoid": "e5010dce"}))
            }
            ("GET", "/access/permissions") => Ok(self.permissions(call)),
            ("GET", "/cluster/nextid") => self.next_id(call),
            ("GET", "/cluster/resources") => Ok(self.resources(call)),
            ("GET", "/nodes") => Ok(self.nodes()),
            ("GET", "/nodes/{node}/status") => self.node_status(call),
            ("GET", "/nodes/{node}/storage") => self.storages(call),
            ("GET", "/nodes/{node}/qemu") => self.list_vms(call),
            ("POST", "/nodes/{node}/qemu") => self.restore(call, faults),
            ("GET", "/nodes/{node}/storage/{storage}/content") => self.content(call),
            ("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}") => {
                self.delete_volume(call, faults)
            }
            ("POST", "/nodes/{node}/vzdump") => self.vzdump(call, faults),
            ("GET", "/nodes/{node}/tasks/{upid}/status") => self.task_status(call),
            ("GET", "/nodes/{node}/tasks/{upid}/log") => self.task_log(call),
            ("DELETE", "/nodes/{node}/tasks/{upid}") => Ok(Value::Null),
            (m, t) if t.starts_with(vm_path) => {
                let rest = &t[vm_path.len()..];
                self.vm_call(m, rest, call, faults)
            }
            (m, t) => Err(ApiError::new(
                501,
                format!("Method '{m} {t}' not implemented by the simulator"),
            )),
        }
    }

    fn vm_call(&mut self, method: &str, rest: &str, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let (node, vmid) = (call.node(), call.vmid());
        let skiplock = call.flag("skiplock");
        match (method, rest) {
            ("DELETE", "") => {
                let vm = self.vm_unlocked(node, vmid, skiplock)?;
                if vm.running {
                    return Err(die(format!("VM {vmid} is running - destroy failed")));
                }
                let (upid, failed) = self.start_task(faults, node, "qmdestroy", &vmid.to_string(), call.user, None);
                if !failed {
                    self.vms.remove(&vmid);
                }
                Ok(json!(upid))
            }
            ("POST", "/clone") => self.clone_vm(call, faults),
            ("GET", "/config") => {
                let vm = self.vm_on(node, vmid)?;
                let mut out = serde_json::Map::new();
                for (k, v) in &vm.config {
                    let shown = if k == "cipassword" { "**********".to_string() } else { v.clone() };
                    out.insert(k.clone(), typed(&shown));
                }
                // As Proxmox: a task holding the VM shows as `lock` in its configuration.
                if let Some(lock) = &vm.lock {
                    out.insert("lock".into(), json!(lock));
                }
                out.insert("digest".into(), json!(digest(&vm.config)));
                Ok(Value::Object(out))
            }
            ("POST" | "PUT", "/config") => {
                let vm = self.vm_unlocked(node, vmid, skiplock)?;
                if let Some(expected) = call.get("digest") {
                    if expected != digest(&vm.config) {
                        return Err(die("detected modified configuration - file changed by other user? Try again."));
                    }
                }
                for key in call.text("delete").split([',', ';', ' ']).filter(|k| !k.is_empty()) {
                    vm.config.remove(key);
                }
                let mut next_disk = vm.config.keys().filter(|k| is_disk_key(k)).count();
                for (k, v) in call.params {
                    if CONFIG_OPTIONS.contains(&k.as_str()) {
                        continue;
                    }
                    let mut value = v.clone();
                    // `STORAGE:SIZE_GiB` allocates a new volume.
                    if is_disk_key(k) {
                        if let Some((storage, rest)) = v.split_once(':') {
                            let size = rest.split(',').next().unwrap_or_default();
                            if !size.is_empty() && size.chars().all(|c| c.is_ascii_digit()) {
                                let tail: String = rest.split(',').skip(1).map(|p| format!(",{p}")).collect();
                                value = format!("{storage}:vm-{vmid}-disk-{next_disk},size={size}G{tail}");
                                next_disk += 1;
                            }
                        }
                    }
                    vm.config.insert(k.clone(), value);
                }
                if method == "PUT" {
                    return Ok(Value::Null);
                }
                let (upid, _) = self.start_task(faults, node, "qmconfig", &vmid.to_string(), call.user, None);
                Ok(json!(upid))
            }
            ("PUT", "/resize") => {
                let disk = call.text("disk").to_string();
                let size = call.text("size").to_string();
                let vm = self.vm_unlocked(node, vmid, skiplock)?;
                let Some(drive) = vm.config.get(&disk).cloned() else {
                    return Err(die(format!("disk '{disk}' does not exist")));
                };
                let current = drive_option(&drive, "size").and_then(parse_size).unwrap_or(0);
                let wanted = match size.strip_prefix('+') {
                    Some(delta) => current + parse_size(delta).unwrap_or(0),
                    None => parse_size(&size).unwrap_or(0),
                };
                if wanted < current {
                    return Err(die(format!(
                        "shrinking disks is not supported (requested {size}, current {})",
                        format_size(current)
                    )));
                }
                vm.config.insert(disk, set_drive_option(&drive, "size", &format_size(wanted)));
                let (upid, _) = self.start_task(faults, node, "resize", &vmid.to_string(), call.user, None);
                Ok(json!(upid))
            }
            ("POST", "/migrate") => {
                let target = call.text("target").to_string();
                self.node_ref(&target)?;
                let vm = self.vm_unlocked(node, vmid, false)?;
                if target == node {
                    return Err(ApiError::param("target", "target is local node.".to_string()));
                }
                if vm.running && !call.flag("online") {
                    return Err(die("can't migrate running VM without --online"));
                }
                let (upid, failed) =
                    self.start_task(faults, node, "qmigrate", &vmid.to_string(), call.user, Some((vmid, "migrate")));
                if !failed {
                    if let Some(vm) = self.vms.get_mut(&vmid) {
                        vm.node = target;
                    }
                    if let Some(t) = self.tasks.last_mut() {
                        t.log.insert(1, format!("starting migration of VM {vmid} to node '{}'", call.text("target")));
                    }
                }
                Ok(json!(upid))
            }
            ("GET", "/status/current") => {
                let vm = self.vm_on(node, vmid)?;
                let mut out = json!({
                    "vmid": vmid,
                    "status": if vm.running { "running" } else { "stopped" },
                    "qmpstatus": if vm.running { "running" } else { "stopped" },
                    "name": vm.config.get("name"),
                    "cpus": vm.config.get("cores").and_then(|c| c.parse::<u64>().ok()).unwrap_or(1),
                    "maxmem": vm.config.get("memory").and_then(|m| m.parse::<u64>().ok()).unwrap_or(512) << 20,
                    "mem": if vm.running { 256u64 << 20 } else { 0 },
                    "uptime": if vm.running { 42 } else { 0 },
                    "ha": {"managed": 0},
                });
                if let Some(lock) = &vm.lock {
                    out["lock"] = json!(lock);
                }
                if vm.config.get("template").is_some_and(|t| t == "1") {
                    out["template"] = json!(1);
                }
                Ok(out)
            }
            ("POST", "/status/start" | "/status/stop" | "/status/shutdown") => {
                let vm = self.vm_unlocked(node, vmid, skiplock)?;
                let starting = rest == "/status/start";
                if starting && vm.config.get("template").is_some_and(|t| t == "1") {
                    return Err(die("you can't start a vm if it's a template"));
                }
                if starting && vm.running {
                    return Err(die(format!("VM {vmid} already running")));
                }
                let kind = match rest {
                    "/status/start" => "qmstart",
                    "/status/stop" => "qmstop",
                    _ => "qmshutdown",
                };
                let (upid, failed) = self.start_task(faults, node, kind, &vmid.to_string(), call.user, None);
                if !failed {
                    if let Some(vm) = self.vms.get_mut(&vmid) {
                        vm.running = starting;
                    }
                }
                Ok(json!(upid))
            }
            ("GET", "/snapshot") => {
                let vm = self.vm_on(node, vmid)?;
                let mut list: Vec<Value> = vm
                    .snapshots
                    .iter()
                    .map(|s| json!({"name": s.name, "description": s.description, "snaptime": s.snaptime, "vmstate": 0}))
                    .collect();
                list.push(json!({"name": "current", "description": "You are here!", "running": i32::from(vm.running)}));
                Ok(json!(list))
            }
            ("POST", "/snapshot") => {
                let name = call.text("snapname").to_string();
                let vm = self.vm_unlocked(node, vmid, false)?;
                if name == "current" || vm.snapshots.iter().any(|s| s.name == name) {
                    return Err(die(format!("snapshot name '{name}' already used")));
                }
                let (upid, failed) =
                    self.start_task(faults, node, "qmsnapshot", &vmid.to_string(), call.user, Some((vmid, "snapshot")));
                if !failed {
                    if let Some(vm) = self.vms.get_mut(&vmid) {
                        vm.snapshots.push(Snapshot {
                            name,
                            description: call.text("description").to_string(),
                            snaptime: now(),
                        });
                    }
                }
                Ok(json!(upid))
            }
            ("DELETE", "/snapshot/{snapname}") | ("POST", "/snapshot/{snapname}/rollback") => {
                let name = call.text("snapname").to_string();
                let vm = self.vm_unlocked(node, vmid, false)?;
                let Some(pos) = vm.snapshots.iter().position(|s| s.name == name) else {
                    return Err(die(format!("snapshot '{name}' does not exist")));
                };
                let deleting = method == "DELETE";
                if deleting {
                    vm.snapshots.remove(pos);
                }
                let kind = if deleting { "qmdelsnapshot" } else { "qmrollback" };
                let (upid, _) = self.start_task(faults, node, kind, &vmid.to_string(), call.user, None);
                Ok(json!(upid))
            }
            ("GET", "/firewall/options") => {
                let vm = self.vm_on(node, vmid)?;
                Ok(Value::Object(vm.firewall.iter().map(|(k, v)| (k.clone(), typed(v))).collect()))
            }
            ("PUT", "/firewall/options") => {
                let vm = self.vm_on(node, vmid)?;
                for key in call.text("delete").split([',', ';', ' ']).filter(|k| !k.is_empty()) {
                    vm.firewall.remove(key);
                }
                for (k, v) in call.params {
                    if !["node", "vmid", "delete", "digest"].contains(&k.as_str()) {
                        let v = match parse_bool(v) {
                            Some(b) if k != "policy_in" && k != "policy_out" => if b { "1" } else { "0" }.to_string(),
                            _ => v.clone(),
                        };
                        vm.firewall.insert(k.clone(), v);
                    }
                }
                Ok(Value::Null)
            }
            ("GET", "/firewall/rules") => {
                let vm = self.vm_on(node, vmid)?;
                Ok(json!(vm
                    .rules
                    .iter()
                    .enumerate()
                    .map(|(pos, r)| {
                        let mut o: serde_json::Map<String, Value> = r.iter().map(|(k, v)| (k.clone(), typed(v))).collect();
                        o.insert("pos".into(), json!(pos));
                        Value::Object(o)
                    })
                    .collect::<Vec<_>>()))
            }
            ("POST", "/firewall/rules") => {
                let vm = self.vm_on(node, vmid)?;
                let rule: BTreeMap<String, String> = call
                    .params
                    .iter()
                    .filter(|(k, _)| !["node", "vmid", "digest", "pos"].contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                // pve-firewall inserts new rules at the top.
                vm.rules.insert(0, rule);
                Ok(Value::Null)
            }
            ("DELETE", "/firewall/rules/{pos}") => {
                let vm = self.vm_on(node, vmid)?;
                let pos: usize = call.text("pos").parse().unwrap_or(usize::MAX);
                if pos >= vm.rules.len() {
                    return Err(die(format!("no rule at position {pos}")));
                }
                vm.rules.remove(pos);
                Ok(Value::Null)
            }
            ("GET", "/firewall/ipset") => {
                let vm = self.vm_on(node, vmid)?;
                Ok(json!(vm
                    .ipsets
                    .keys()
                    .map(|name| json!({"name": name, "digest": "0"}))
                    .collect::<Vec<_>>()))
            }
            ("POST", "/firewall/ipset") => {
                let name = call.text("name").to_string();
                let vm = self.vm_on(node, vmid)?;
                if vm.ipsets.contains_key(&name) {
                    return Err(die(format!("IPSet '{name}' already exists")));
                }
                vm.ipsets.insert(name, Vec::new());
                Ok(Value::Null)
            }
            ("GET", "/firewall/ipset/{name}") => {
                let name = call.text("name");
                let vm = self.vm_on(node, vmid)?;
                let set = vm.ipsets.get(name).ok_or_else(|| die(format!("no such IPSet '{name}'")))?;
                Ok(json!(set
                    .iter()
                    .map(|(cidr, comment)| json!({"cidr": cidr, "comment": comment, "nomatch": 0}))
                    .collect::<Vec<_>>()))
            }
            ("POST", "/firewall/ipset/{name}") => {
                let (name, cidr) = (call.text("name"), call.text("cidr").to_string());
                let comment = call.text("comment").to_string();
                let vm = self.vm_on(node, vmid)?;
                let set = vm.ipsets.get_mut(name).ok_or_else(|| die(format!("no such IPSet '{name}'")))?;
                if set.iter().any(|(c, _)| *c == cidr) {
                    return Err(die(format!("address '{cidr}' already exists")));
                }
                set.push((cidr, comment));
                Ok(Value::Null)
            }
            ("DELETE", "/firewall/ipset/{name}/{cidr}") => {
                let (name, cidr) = (call.text("name"), call.text("cidr"));
                let vm = self.vm_on(node, vmid)?;
                let set = vm.ipsets.get_mut(name).ok_or_else(|| die(format!("no such IPSet '{name}'")))?;
                let before = set.len();
                set.retain(|(c, _)| c != cidr);
                if set.len() == before {
                    return Err(die(format!("no such IP/Network '{cidr}'")));
                }
                Ok(Value::Null)
            }
            ("DELETE", "/firewall/ipset/{name}") => {
                let name = call.text("name").to_string();
                let force = call.flag("force");
                let vm = self.vm_on(node, vmid)?;
                match vm.ipsets.get(&name) {
                    None => Err(die(format!("no such IPSet '{name}'"))),
                    Some(set) if !set.is_empty() && !force => Err(die(format!("IPSet '{name}' is not empty"))),
                    Some(_) => {
                        vm.ipsets.remove(&name);
                        Ok(Value::Null)
                    }
                }
            }
            ("GET", "/cloudinit") => {
                let vm = self.vm_on(node, vmid)?;
                Ok(json!(vm
                    .config
                    .iter()
                    .filter(|(k, _)| k.starts_with("ci") || k.starts_with("ipconfig") || ["nameserver", "searchdomain", "sshkeys"].contains(&k.as_str()))
                    .map(|(k, v)| json!({"key": k, "value": if k == "cipassword" { "**********" } else { v.as_str() }}))
                    .collect::<Vec<_>>()))
            }
            ("PUT", "/cloudinit") => {
                self.vm_unlocked(node, vmid, false)?;
                Ok(Value::Null)
            }
            ("GET", "/rrddata") => {
                self.vm_on(node, vmid)?;
                Ok(rrd(call.text("timeframe")))
            }
            (m, r) => Err(ApiError::new(501, format!("Method '{m} /nodes/{{node}}/qemu/{{vmid}}{r}' not implemented by the simulator"))),
        }
    }

    fn login(&mut self, call: &Call<'_>) -> Reply {
        let mut user = call.text("username").to_string();
        if let Some(realm) = call.get("realm") {
            if !user.contains('@') {
                user = format!("{user}@{realm}");
            }
        }
        if user != call.credentials.user || call.text("password") != call.credentials.password {
            return Err(ApiError::new(401, "authentication failure"));
        }
        self.next_pid += 1;
        let ticket = format!("PVE:{user}:{:08X}::c2lnbmF0dXJl{}", now(), self.next_pid);
        let csrf = format!("{:08X}:Y3NyZg{}", now(), self.next_pid);
        self.tickets.insert(ticket.clone(), csrf.clone());
        Ok(json!({"ticket": ticket, "CSRFPreventionToken": csrf, "username": user, "cap": {}}))
    }

    fn permissions(&self, call: &Call<'_>) -> Value {
        let wanted = call.get("path");
        let mut out = serde_json::Map::new();
        for (path, privs) in &self.privileges {
            if wanted.is_some_and(|w| {
                !(w == path
                    || w.starts_with(&format!("{}/", path.trim_end_matches('/')))
                    || path == "/")
            }) {
                continue;
            }
            let key = wanted.unwrap_or(path);
            let entry = out.entry(key.to_string()).or_insert_with(|| json!({}));
            for p in privs {
                entry[p] = json!(1);
            }
        }
        Value::Object(out)
    }

    fn next_id(&self, call: &Call<'_>) -> Reply {
        if let Some(v) = call.get("vmid") {
            let id: u32 = v.parse().unwrap_or_default();
            if self.vms.contains_key(&id) {
                return Err(ApiError::param("vmid", format!("VM {id} already exists")));
            }
            return Ok(json!(id.to_string()));
        }
        let id = (100u32..)
            .find(|id| !self.vms.contains_key(id))
            .unwrap_or(100);
        // Proxmox answers the number as a JSON string.
        Ok(json!(id.to_string()))
    }

    fn resources(&self, call: &Call<'_>) -> Value {
        let kind = call.get("type");
        let mut out = Vec::new();
        if kind.is_none() || kind == Some("vm") {
            for (id, vm) in &self.vms {
                out.push(json!({
                    "id": format!("qemu/{id}"), "type": "qemu", "vmid": id, "node": vm.node,
                    "name": vm.config.get("name"), "status": if vm.running { "running" } else { "stopped" },
                    "template": i32::from(vm.config.get("template").is_some_and(|t| t == "1")),
                }));
            }
        }
        if kind.is_none() || kind == Some("node") {
            for n in &self.nodes {
                out.push(
                    json!({"id": format!("node/{}", n.name), "type": "node", "node": n.name,
                    "status": "online", "maxmem": n.maxmem, "mem": n.mem}),
                );
            }
        }
        json!(out)
    }

    fn nodes(&self) -> Value {
        json!(self
            .nodes
            .iter()
            .map(|n| json!({"node": n.name, "status": "online", "maxmem": n.maxmem, "mem": n.mem,
                "maxcpu": 32, "cpu": 0.05, "uptime": 86_400, "type": "node", "id": format!("node/{}", n.name)}))
            .collect::<Vec<_>>())
    }

    fn node_status(&self, call: &Call<'_>) -> Reply {
        let n = self.node_ref(call.node())?;
        Ok(json!({
            "memory": {"total": n.maxmem, "used": n.mem, "free": n.maxmem - n.mem.min(n.maxmem)},
            "cpuinfo": {"cpus": 32, "sockets": 2, "model": "Simulated CPU"},
            "uptime": 86_400, "cpu": 0.05, "pveversion": "pve-manager/9.1.3",
        }))
    }

    fn storages(&self, call: &Call<'_>) -> Reply {
        let n = self.node_ref(call.node())?;
        let content = call.get("content");
        Ok(json!(n
            .storages
            .iter()
            .filter(|s| content.is_none_or(|c| c.split(',').any(|c| s.spec.content.iter().any(|x| x == c))))
            .map(|s| {
                let used: u64 = s.volumes.iter().map(|v| v.size).sum();
                json!({"storage": s.spec.name, "type": s.spec.kind, "content": s.spec.content.join(","),
                    "shared": i32::from(s.spec.shared), "active": 1, "enabled": 1,
                    "total": s.total, "used": used, "avail": s.total - used.min(s.total)})
            })
            .collect::<Vec<_>>()))
    }

    fn list_vms(&self, call: &Call<'_>) -> Reply {
        let node = call.node();
        self.node_ref(node)?;
        Ok(json!(self
            .vms
            .iter()
            .filter(|(_, vm)| vm.node == node)
            .map(|(id, vm)| {
                let mut o = json!({"vmid": id, "name": vm.config.get("name"),
                    "status": if vm.running { "running" } else { "stopped" }});
                if vm.config.get("template").is_some_and(|t| t == "1") {
                    o["template"] = json!(1);
                }
                o
            })
            .collect::<Vec<_>>()))
    }

    fn clone_vm(&mut self, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let (node, vmid) = (call.node(), call.vmid());
        let newid: u32 = call.text("newid").parse().unwrap_or_default();
        let target = call.get("target").unwrap_or(node).to_string();
        self.node_ref(&target)?;
        let source = self.vm_unlocked(node, vmid, false)?.clone();
        if self.vms.contains_key(&newid) {
            return Err(die(format!(
                "unable to create VM {newid}: config file already exists"
            )));
        }
        let full = call
            .get("full")
            .and_then(parse_bool)
            .unwrap_or(!source.config.contains_key("template"));
        if !full && !source.config.contains_key("template") {
            return Err(die(
                "Linked clone feature is not supported for drive 'scsi0'",
            ));
        }
        let mut config = BTreeMap::new();
        for (k, v) in &source.config {
            if k == "template" {
                continue;
            }
            let value = if is_disk_key(k) && !v.contains("media=cdrom") {
                let (volume, rest) = v.split_once(',').unwrap_or((v, ""));
                let storage = call
                    .get("storage")
                    .unwrap_or_else(|| volume.split(':').next().unwrap_or("local-lvm"));
                let disk = volume.rsplit('-').next().unwrap_or("0");
                let base = if full {
                    String::new()
                } else {
                    format!("base-{vmid}-disk-{disk}/")
                };
                format!("{storage}:{base}vm-{newid}-disk-{disk},{rest}")
            } else if k == "name" {
                call.get("name").unwrap_or(v).to_string()
            } else {
                v.replace(&format!("vm-{vmid}-"), &format!("vm-{newid}-"))
            };
            config.insert(k.clone(), value);
        }
        if let Some(name) = call.get("name") {
            config.insert("name".into(), name.to_string());
        }
        if let Some(d) = call.get("description") {
            config.insert("description".into(), d.to_string());
        }
        let (upid, failed) = self.start_task(
            faults,
            node,
            "qmclone",
            &vmid.to_string(),
            call.user,
            Some((vmid, "clone")),
        );
        if !failed {
            let mut vm = Vm::new(&target, config);
            vm.lock = Some("clone".into());
            self.vms.insert(newid, vm);
            if let Some(task) = self.tasks.last_mut() {
                task.lock = Some((newid, "clone".into()));
            }
            if let Some(src) = self.vms.get_mut(&vmid) {
                src.lock = None;
            }
        }
        Ok(json!(upid))
    }

    fn vzdump(&mut self, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let node = call.node().to_string();
        let storage = call.get("storage").unwrap_or("local").to_string();
        let ids: Vec<u32> = call
            .text("vmid")
            .split([',', ';', ' '])
            .filter_map(|v| v.parse().ok())
            .collect();
        if ids.is_empty() && !call.flag("all") {
            return Err(ApiError::param(
                "vmid",
                "property is missing and it is not optional",
            ));
        }
        for id in &ids {
            self.vm_unlocked(&node, *id, false)?;
        }
        let st = self.storage_mut(&node, &storage)?;
        if !st.spec.content.iter().any(|c| c == "backup") {
            return Err(die(format!("storage '{storage}' does not support backups")));
        }
        let id_text = if ids.len() == 1 {
            ids[0].to_string()
        } else {
            String::new()
        };
        let (upid, failed) = self.start_task(faults, &node, "vzdump", &id_text, call.user, None);
        if failed {
            return Ok(json!(upid));
        }
        let time = now() + self.tasks.len() as u64;
        let notes = call
            .get("notes-template")
            .unwrap_or("{{guestname}}")
            .to_string();
        let mut created = Vec::new();
        for id in ids {
            let config = self
                .vms
                .get(&id)
                .map(|vm| vm.config.clone())
                .unwrap_or_default();
            let name = config.get("name").cloned().unwrap_or_default();
            created.push(Volume {
                volid: format!("{storage}:backup/vzdump-qemu-{id}-{}.vma.zst", stamp(time)),
                content: "backup".into(),
                vmid: id,
                size: 512 << 20,
                ctime: time,
                notes: notes
                    .replace("{{guestname}}", &name)
                    .replace("{{vmid}}", &id.to_string()),
                config,
            });
        }
        let shared = self.storage_mut(&node, &storage)?.spec.shared;
        // A shared storage shows the same volumes on every node.
        for n in &mut self.nodes {
            if n.name == node || shared {
                if let Some(s) = n.storages.iter_mut().find(|s| s.spec.name == storage) {
                    s.volumes.extend(created.iter().cloned());
                }
            }
        }
        Ok(json!(upid))
    }

    fn content(&mut self, call: &Call<'_>) -> Reply {
        let (content, vmid) = (
            call.get("content").map(str::to_string),
            call.get("vmid").and_then(|v| v.parse::<u32>().ok()),
        );
        let st = self.storage_mut(call.node(), call.text("storage"))?;
        Ok(json!(st
            .volumes
            .iter()
            .filter(|v| content.as_deref().is_none_or(|c| c == v.content)
                && vmid.is_none_or(|id| id == v.vmid))
            .map(
                |v| json!({"volid": v.volid, "content": v.content, "vmid": v.vmid, "size": v.size,
                "ctime": v.ctime, "format": "vma.zst", "notes": v.notes, "protected": 0})
            )
            .collect::<Vec<_>>()))
    }

    fn delete_volume(&mut self, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let (node, storage) = (call.node().to_string(), call.text("storage").to_string());
        let volume = call.text("volume").to_string();
        let volid = if volume.contains(':') {
            volume.clone()
        } else {
            format!("{storage}:{volume}")
        };
        let shared = self.storage_mut(&node, &storage)?.spec.shared;
        let mut found = false;
        for n in &mut self.nodes {
            if n.name == node || shared {
                if let Some(s) = n.storages.iter_mut().find(|s| s.spec.name == storage) {
                    let before = s.volumes.len();
                    s.volumes.retain(|v| v.volid != volid);
                    found |= s.volumes.len() != before;
                }
            }
        }
        if !found {
            return Err(die(format!("volume '{volid}' does not exist")));
        }
        let (upid, _) = self.start_task(faults, &node, "imgdel", "", call.user, None);
        Ok(json!(upid))
    }

    fn restore(&mut self, call: &Call<'_>, faults: &mut Faults) -> Reply {
        let node = call.node().to_string();
        let vmid = call.vmid();
        let Some(archive) = call.get("archive").map(str::to_string) else {
            return Err(die(
                "creating VMs from scratch is not simulated; pass 'archive' to restore",
            ));
        };
        let storage = archive.split(':').next().unwrap_or_default().to_string();
        let volume = self
            .storage_mut(&node, &storage)?
            .volumes
            .iter()
            .find(|v| v.volid == archive)
            .cloned()
            .ok_or_else(|| die(format!("volume '{archive}' does not exist")))?;
        if let Some(existing) = self.vms.get(&vmid) {
            if !call.flag("force") {
                return Err(die(format!(
                    "unable to restore VM {vmid} - VM {vmid} already exists on node '{}'",
                    existing.node
                )));
            }
            if existing.running {
                return Err(die(format!("unable to restore VM {vmid} - VM is running")));
            }
            if let Some(lock) = &existing.lock {
                return Err(die(format!(
                    "unable to restore VM {vmid} - VM is locked ({lock})"
                )));
            }
        }
        let (upid, failed) = self.start_task(
            faults,
            &node,
            "qmrestore",
            &vmid.to_string(),
            call.user,
            None,
        );
        if !failed {
            let mut config = volume.config.clone();
            if let Some(target) = call.get("storage") {
                for (k, v) in config.iter_mut() {
                    if is_disk_key(k) && !v.contains("media=cdrom") {
                        if let Some((_, rest)) = v.split_once(':') {
                            *v = format!("{target}:{rest}");
                        }
                    }
                }
            }
            let mut vm = Vm::new(&node, config);
            vm.running = call.flag("start");
            self.vms.insert(vmid, vm);
        }
        Ok(json!(upid))
    }

    fn find_task(&self, call: &Call<'_>) -> Result<&Task, ApiError> {
        let upid = call.text("upid");
        self.tasks
            .iter()
            .find(|t| t.upid == upid && t.node == call.node())
            .ok_or_else(|| ApiError::param("upid", format!("unable to parse worker upid '{upid}'")))
    }

    fn task_status(&self, call: &Call<'_>) -> Reply {
        let t = self.find_task(call)?;
        let id = t.upid.split(':').nth(6).unwrap_or_default();
        let mut out = json!({
            "upid": t.upid, "node": t.node, "pid": t.pid, "pstart": t.pstart, "starttime": t.starttime,
            "type": t.kind, "id": id, "user": t.user, "status": "running",
        });
        if t.started.elapsed() >= t.duration {
            out["status"] = json!("stopped");
            out["exitstatus"] = json!(t.exitstatus);
        }
        Ok(out)
    }

    fn task_log(&self, call: &Call<'_>) -> Reply {
        let t = self.find_task(call)?;
        let start: usize = call.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
        let limit: usize = call.get("limit").and_then(|s| s.parse().ok()).unwrap_or(50);
        let done = t.started.elapsed() >= t.duration;
        let visible = if done { t.log.len() } else { 1 };
        Ok(json!(t
            .log
            .iter()
            .take(visible)
            .enumerate()
            .skip(start)
            .take(limit)
            .map(|(i, line)| json!({"n": i + 1, "t": line}))
            .collect::<Vec<_>>()))
    }
}

impl Vm {
    fn new(node: &str, config: BTreeMap<String, String>) -> Vm {
        Vm {
            node: node.to_string(),
            config,
            running: false,
            lock: None,
            snapshots: Vec::new(),
            firewall: BTreeMap::new(),
            rules: Vec::new(),
            ipsets: BTreeMap::new(),
        }
    }
}

/// RRD points as pmxcfs returns them: rates for the DERIVE sources, and the last point with
/// only `time` (an unknown value is omitted).
fn rrd(timeframe: &str) -> Value {
    let (step, count) = match timeframe {
        "hour" => (60, 70),
        "day" => (60, 1440),
        "week" => (1800, 336),
        "month" => (21_600, 124),
        _ => (604_800, 53),
    };
    let end = now() / step * step;
    let mut points: Vec<Value> = (0..count)
        .map(|i| {
            let t = end - (count - 1 - i) * step;
            json!({"time": t, "cpu": 0.01 * (i % 50) as f64, "maxcpu": 2, "mem": 268_435_456 + i * 1024,
                "maxmem": 1_073_741_824u64, "disk": 0, "maxdisk": 10_737_418_240u64,
                "netin": 1000.5 + i as f64, "netout": 500.25 + i as f64, "diskread": 0.0, "diskwrite": 12.5})
        })
        .collect();
    if let Some(last) = points.last_mut() {
        *last = json!({"time": end});
    }
    json!(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_and_sizes() {
        assert_eq!(stamp(0), "1970_01_01-00_00_00");
        assert_eq!(stamp(1_796_000_523), "2026_11_30-01_02_03");
        assert_eq!(parse_size("10G"), Some(10 << 30));
        assert_eq!(format_size(15 << 30), "15G");
        assert_eq!(
            set_drive_option("a:b,size=10G", "size", "20G"),
            "a:b,size=20G"
        );
        assert_eq!(set_drive_option("a:b", "mbps_rd", "50"), "a:b,mbps_rd=50");
    }
}
