//! Typed values of the Proxmox VE API and their wire encodings: VMIDs, node and storage names,
//! UPIDs, task status, and the property strings of the VM configuration (`netN`, drives,
//! `ipconfigN`), with booleans as `0`/`1` and `sshkeys` percent-encoded.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::Value;

use super::error::{ApiError, ApiResult};

/// A VM id.
///
/// # Invariants
/// 100 <= id <= 999 999 999 (`pve-vmid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Vmid(u32);

impl Vmid {
    pub const MIN: u32 = 100;
    pub const MAX: u32 = 999_999_999;

    /// # Errors
    /// [`ApiError::Invalid`] on `vmid` outside 100-999999999.
    pub fn new(id: u64) -> ApiResult<Vmid> {
        if (u64::from(Self::MIN)..=u64::from(Self::MAX)).contains(&id) {
            Ok(Vmid(id as u32))
        } else {
            Err(ApiError::invalid(
                "vmid",
                format!("must be between 100 and 999999999, got {id}"),
            ))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Vmid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Checks a cluster node name (`pve-node`): letters, digits and inner hyphens.
pub fn check_node(node: &str) -> ApiResult<()> {
    let ok = !node.is_empty()
        && node.len() <= 63
        && node.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !node.starts_with('-')
        && !node.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "node",
            format!("'{node}' is not a Proxmox node name (letters, digits and inner hyphens)"),
        ))
    }
}

/// Checks a storage id (`pve-storage-id`): a letter, then letters, digits, `-`, `_`, `.`.
pub fn check_storage(storage: &str) -> ApiResult<()> {
    let mut chars = storage.chars();
    let ok = storage.len() >= 2
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && storage
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && storage
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "storage",
            format!("'{storage}' is not a Proxmox storage id"),
        ))
    }
}

/// Checks a snapshot or IP set name (`pve-configid`-like): a letter, then letters, digits,
/// `-`, `_`; at most 40 characters.
pub fn check_config_id(field: &str, name: &str) -> ApiResult<()> {
    let ok = name.len() >= 2
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("'{name}' must start with a letter and hold only letters, digits, '-' and '_' (2-40 characters)"),
        ))
    }
}

/// `0`/`1`, as Proxmox takes booleans.
pub fn bool01(v: bool) -> String {
    if v { "1" } else { "0" }.to_string()
}

/// A number Proxmox may send as a JSON number or a string (`/cluster/nextid` answers `"100"`).
pub fn lenient_u64(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f.max(0.0) as u64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A float from a number or a numeric string.
pub fn lenient_f64(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A boolean from `0`/`1`, `true`/`false` or their strings.
pub fn lenient_bool(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.as_str() {
            "1" | "true" | "yes" | "on" => Some(true),
            "0" | "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A task id: `UPID:node:pid:pstart:starttime:type:id:user:` (PVE::UPID::encode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upid {
    raw: String,
    pub node: String,
    pub pid: u32,
    pub pstart: u64,
    pub starttime: u64,
    pub task_type: String,
    pub id: String,
    pub user: String,
}

impl Upid {
    /// # Errors
    /// [`ApiError::Decode`] when `text` is not a UPID.
    pub fn parse(text: &str) -> ApiResult<Upid> {
        let bad = || ApiError::Decode(format!("'{text}' is not a task id (UPID)"));
        let body = text
            .strip_prefix("UPID:")
            .and_then(|t| t.strip_suffix(':'))
            .ok_or_else(bad)?;
        let parts: Vec<&str> = body.split(':').collect();
        let [node, pid, pstart, starttime, task_type, id, user] = parts[..] else {
            return Err(bad());
        };
        let hex = |s: &str, min: usize, max: usize| {
            (s.len() >= min && s.len() <= max)
                .then(|| u64::from_str_radix(s, 16).ok())
                .flatten()
                .ok_or_else(bad)
        };
        check_node(node).map_err(|_| bad())?;
        let no_space = |s: &str| !s.contains(|c: char| c.is_whitespace() || c == '/');
        if task_type.is_empty()
            || user.is_empty()
            || ![task_type, id, user].iter().all(|s| no_space(s))
        {
            return Err(bad());
        }
        Ok(Upid {
            raw: text.to_string(),
            node: node.to_string(),
            pid: hex(pid, 8, 8)? as u32,
            pstart: hex(pstart, 8, 9)?,
            starttime: hex(starttime, 8, 8)?,
            task_type: task_type.to_string(),
            id: id.to_string(),
            user: user.to_string(),
        })
    }

    /// The UPID as Proxmox wrote it.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// A task's state from `GET /nodes/{node}/tasks/{upid}/status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskState {
    Running,
    /// Stopped with `OK` or `WARNINGS: n` (PVE::UPID::status_is_error is false).
    Succeeded {
        warnings: u32,
    },
    /// Stopped with any other exit status.
    Failed {
        exitstatus: String,
    },
}

impl TaskState {
    /// From the `status` and `exitstatus` fields.
    pub fn from_status(status: &str, exitstatus: Option<&str>) -> TaskState {
        if status == "running" {
            return TaskState::Running;
        }
        match exitstatus.map(str::trim) {
            Some("OK") => TaskState::Succeeded { warnings: 0 },
            Some(s) if s.starts_with("WARNINGS: ") => TaskState::Succeeded {
                warnings: s["WARNINGS: ".len()..].trim().parse().unwrap_or(1),
            },
            Some(s) => TaskState::Failed {
                exitstatus: s.to_string(),
            },
            None => TaskState::Failed {
                exitstatus: "stopped without an exit status".into(),
            },
        }
    }
}

/// A NIC model Proxmox knows.
pub const NIC_MODELS: &[&str] = &[
    "e1000",
    "e1000-82540em",
    "e1000-82544gc",
    "e1000-82545em",
    "e1000e",
    "i82551",
    "i82557b",
    "i82559er",
    "ne2k_isa",
    "ne2k_pci",
    "pcnet",
    "rtl8139",
    "virtio",
    "vmxnet3",
];

/// A network device (`netN`): `model=MAC,bridge=..,firewall=1,tag=..,rate=..`.
#[derive(Clone, Debug, PartialEq)]
pub struct NetDevice {
    pub model: String,
    pub macaddr: Option<String>,
    pub bridge: Option<String>,
    pub firewall: Option<bool>,
    pub link_down: Option<bool>,
    /// VLAN tag; `None` or 0 = untagged.
    pub tag: Option<u16>,
    /// MB/s; `None` or 0 = unlimited.
    pub rate: Option<f64>,
    pub mtu: Option<u16>,
    pub queues: Option<u8>,
}

impl NetDevice {
    /// Parses a `netN` value as Proxmox returns it.
    ///
    /// # Errors
    /// [`ApiError::Decode`] on an unknown model or a malformed value.
    pub fn parse(text: &str) -> ApiResult<NetDevice> {
        let bad = |why: &str| ApiError::Decode(format!("network device '{text}': {why}"));
        let mut dev = NetDevice {
            model: String::new(),
            macaddr: None,
            bridge: None,
            firewall: None,
            link_down: None,
            tag: None,
            rate: None,
            mtu: None,
            queues: None,
        };
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or(("model", part));
            match k {
                "model" => dev.model = v.to_string(),
                "macaddr" => dev.macaddr = Some(v.to_string()),
                "bridge" => dev.bridge = Some(v.to_string()),
                "firewall" => dev.firewall = Some(v == "1"),
                "link_down" => dev.link_down = Some(v == "1"),
                "tag" => dev.tag = Some(v.parse().map_err(|_| bad("bad tag"))?),
                "rate" => dev.rate = Some(v.parse().map_err(|_| bad("bad rate"))?),
                "mtu" => dev.mtu = Some(v.parse().map_err(|_| bad("bad mtu"))?),
                "queues" => dev.queues = Some(v.parse().map_err(|_| bad("bad queues"))?),
                model if NIC_MODELS.contains(&model) => {
                    dev.model = model.to_string();
                    dev.macaddr = Some(v.to_string());
                }
                // Keys this product does not manage (trunks, ...) are kept out of the typed
                // view; callers that rewrite a NIC re-send only what they set.
                _ => {}
            }
        }
        if !NIC_MODELS.contains(&dev.model.as_str()) {
            return Err(bad("unknown model"));
        }
        Ok(dev)
    }

    /// The `netN` value.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] on `nic_model` or `bridge` when they are not acceptable.
    pub fn encode(&self) -> ApiResult<String> {
        if !NIC_MODELS.contains(&self.model.as_str()) {
            return Err(ApiError::invalid(
                "nic_model",
                format!(
                    "'{}' is not a NIC model; use one of {}",
                    self.model,
                    NIC_MODELS.join(", ")
                ),
            ));
        }
        let mut out = match &self.macaddr {
            Some(mac) => format!("{}={mac}", self.model),
            None => format!("model={}", self.model),
        };
        if let Some(b) = &self.bridge {
            if b.is_empty()
                || !b
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(ApiError::invalid(
                    "bridge",
                    format!("'{b}' is not a bridge name"),
                ));
            }
            out.push_str(&format!(",bridge={b}"));
        }
        if let Some(f) = self.firewall {
            out.push_str(&format!(",firewall={}", bool01(f)));
        }
        if let Some(l) = self.link_down {
            out.push_str(&format!(",link_down={}", bool01(l)));
        }
        if let Some(mtu) = self.mtu {
            out.push_str(&format!(",mtu={mtu}"));
        }
        if let Some(q) = self.queues {
            out.push_str(&format!(",queues={q}"));
        }
        if let Some(rate) = self.rate.filter(|r| *r > 0.0) {
            out.push_str(&format!(",rate={rate}"));
        }
        if let Some(tag) = self.tag.filter(|t| *t > 0) {
            if tag > 4094 {
                return Err(ApiError::invalid(
                    "vlan",
                    format!("VLAN tag must be 1-4094 (0 = untagged), got {tag}"),
                ));
            }
            out.push_str(&format!(",tag={tag}"));
        }
        Ok(out)
    }
}

/// Bandwidth and IOPS limits of a disk; 0 = unlimited (left out of the drive string).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DiskLimits {
    pub mbps_rd: f64,
    pub mbps_wr: f64,
    pub iops_rd: u64,
    pub iops_wr: u64,
}

/// The limit keys this product manages; re-sending a drive replaces all of them.
const LIMIT_KEYS: &[&str] = &["mbps_rd", "mbps_wr", "iops_rd", "iops_wr"];

/// A drive (`scsiN`, `virtioN`, `sataN`, `ideN`): `<volume>[,key=value...]`, kept in order so
/// re-sending it changes only what was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Drive {
    pub volume: String,
    pub options: Vec<(String, String)>,
}

impl Drive {
    pub fn parse(text: &str) -> Drive {
        let mut parts = text.split(',');
        let first = parts.next().unwrap_or_default();
        let volume = first.strip_prefix("file=").unwrap_or(first).to_string();
        let options = parts
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Drive { volume, options }
    }

    /// A new volume of `size_gb` GiB on `storage` (`STORAGE:SIZE`).
    ///
    /// # Errors
    /// [`ApiError::Invalid`] on `storage` or `size` when they are not acceptable.
    pub fn new_volume(storage: &str, size_gb: u32) -> ApiResult<Drive> {
        check_storage(storage)?;
        if size_gb == 0 {
            return Err(ApiError::invalid("size", "a new disk needs at least 1 GB"));
        }
        Ok(Drive {
            volume: format!("{storage}:{size_gb}"),
            options: Vec::new(),
        })
    }

    pub fn option(&self, key: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The size in bytes from `size=` (`32G`, `512M`).
    pub fn size_bytes(&self) -> Option<u64> {
        let v = self.option("size")?;
        let (num, unit) = match v.chars().last()? {
            c @ ('K' | 'M' | 'G' | 'T') => (&v[..v.len() - 1], c),
            _ => (v, 'B'),
        };
        let n: f64 = num.parse().ok()?;
        let shift = match unit {
            'K' => 10,
            'M' => 20,
            'G' => 30,
            'T' => 40,
            _ => 0,
        };
        Some((n * (1u64 << shift) as f64) as u64)
    }

    /// Whether this is a CD-ROM (cloud-init drive, ISO), not a disk.
    pub fn is_cdrom(&self) -> bool {
        self.option("media") == Some("cdrom")
    }

    /// This drive with `limits` instead of its current ones (0 removes a limit).
    pub fn with_limits(&self, limits: &DiskLimits) -> Drive {
        let mut options: Vec<(String, String)> = self
            .options
            .iter()
            .filter(|(k, _)| !LIMIT_KEYS.contains(&k.as_str()))
            .cloned()
            .collect();
        let mut put = |k: &str, v: String| options.push((k.to_string(), v));
        if limits.mbps_rd > 0.0 {
            put("mbps_rd", limits.mbps_rd.to_string());
        }
        if limits.mbps_wr > 0.0 {
            put("mbps_wr", limits.mbps_wr.to_string());
        }
        if limits.iops_rd > 0 {
            put("iops_rd", limits.iops_rd.to_string());
        }
        if limits.iops_wr > 0 {
            put("iops_wr", limits.iops_wr.to_string());
        }
        Drive {
            volume: self.volume.clone(),
            options,
        }
    }

    pub fn encode(&self) -> String {
        let mut out = self.volume.clone();
        for (k, v) in &self.options {
            out.push_str(&format!(",{k}={v}"));
        }
        out
    }
}

/// IPv4 side of `ipconfigN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ip4Config {
    Dhcp,
    Static {
        address: Ipv4Addr,
        prefix: u8,
        gateway: Option<Ipv4Addr>,
    },
}

/// IPv6 side of `ipconfigN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ip6Config {
    Dhcp,
    Auto,
    Static {
        address: Ipv6Addr,
        prefix: u8,
        gateway: Option<Ipv6Addr>,
    },
}

/// A cloud-init `ipconfigN`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpConfig {
    pub v4: Option<Ip4Config>,
    pub v6: Option<Ip6Config>,
}

impl IpConfig {
    /// `ip=192.0.2.10/24,gw=192.0.2.1,ip6=2001:db8::10/64,gw6=2001:db8::1`.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] on `ipconfig` for a prefix out of range.
    pub fn encode(&self) -> ApiResult<String> {
        let mut parts = Vec::new();
        match &self.v4 {
            Some(Ip4Config::Dhcp) => parts.push("ip=dhcp".to_string()),
            Some(Ip4Config::Static {
                address,
                prefix,
                gateway,
            }) => {
                if *prefix == 0 || *prefix > 32 {
                    return Err(ApiError::invalid(
                        "ipconfig",
                        format!("IPv4 prefix must be 1-32, got {prefix}"),
                    ));
                }
                parts.push(format!("ip={address}/{prefix}"));
                if let Some(gw) = gateway {
                    parts.push(format!("gw={gw}"));
                }
            }
            None => {}
        }
        match &self.v6 {
            Some(Ip6Config::Dhcp) => parts.push("ip6=dhcp".to_string()),
            Some(Ip6Config::Auto) => parts.push("ip6=auto".to_string()),
            Some(Ip6Config::Static {
                address,
                prefix,
                gateway,
            }) => {
                if *prefix == 0 || *prefix > 128 {
                    return Err(ApiError::invalid(
                        "ipconfig",
                        format!("IPv6 prefix must be 1-128, got {prefix}"),
                    ));
                }
                parts.push(format!("ip6={address}/{prefix}"));
                if let Some(gw) = gateway {
                    parts.push(format!("gw6={gw}"));
                }
            }
            None => {}
        }
        Ok(parts.join(","))
    }
}

/// What `sshkeys` accepts: PVE's `urlencoded` format keeps only these characters unescaped,
/// so a space is `%20`, never `+`.
const SSHKEYS_ESCAPE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// Percent-encodes SSH public keys for `sshkeys` (before the form encoding of the body).
pub fn encode_sshkeys(keys: &str) -> String {
    utf8_percent_encode(keys, SSHKEYS_ESCAPE).to_string()
}

/// A configuration change for `POST`/`PUT /nodes/{node}/qemu/{vmid}/config`, built from typed
/// setters so every value is encoded as Proxmox expects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigUpdate {
    params: Vec<(String, String)>,
    delete: Vec<String>,
}

impl ConfigUpdate {
    pub fn new() -> Self {
        Self::default()
    }

    fn put(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let key = key.into();
        self.params.retain(|(k, _)| *k != key);
        self.params.push((key, value.into()));
        self
    }

    pub fn cores(self, cores: u32) -> Self {
        self.put("cores", cores.to_string())
    }

    pub fn sockets(self, sockets: u32) -> Self {
        self.put("sockets", sockets.to_string())
    }

    /// RAM in MiB.
    pub fn memory_mib(self, mib: u64) -> Self {
        self.put("memory", mib.to_string())
    }

    /// Balloon target in MiB; 0 disables the balloon device.
    pub fn balloon_mib(self, mib: u64) -> Self {
        self.put("balloon", mib.to_string())
    }

    pub fn name(self, name: &str) -> Self {
        self.put("name", name)
    }

    pub fn description(self, text: &str) -> Self {
        self.put("description", text)
    }

    /// Tags, `;`-separated on the wire.
    pub fn tags(self, tags: &[&str]) -> Self {
        self.put("tags", tags.join(";"))
    }

    pub fn onboot(self, on: bool) -> Self {
        self.put("onboot", bool01(on))
    }

    /// `netN`.
    pub fn net(self, index: u8, device: &NetDevice) -> ApiResult<Self> {
        Ok(self.put(format!("net{index}"), device.encode()?))
    }

    /// A drive (`scsi0`, `virtio1`, ...): a new volume or an existing one re-sent whole (how
    /// disk limits are changed).
    pub fn drive(self, key: &str, drive: &Drive) -> ApiResult<Self> {
        let ok = ["scsi", "virtio", "sata", "ide"].iter().any(|p| {
            key.strip_prefix(p).is_some_and(|n| {
                !n.is_empty() && n.len() <= 2 && n.chars().all(|c| c.is_ascii_digit())
            })
        });
        if !ok {
            return Err(ApiError::invalid(
                "disk",
                format!("'{key}' is not a disk slot (scsi0, virtio1, ...)"),
            ));
        }
        Ok(self.put(key, drive.encode()))
    }

    pub fn ciuser(self, user: &str) -> Self {
        self.put("ciuser", user)
    }

    pub fn cipassword(self, password: &str) -> Self {
        self.put("cipassword", password)
    }

    pub fn ipconfig(self, index: u8, config: &IpConfig) -> ApiResult<Self> {
        Ok(self.put(format!("ipconfig{index}"), config.encode()?))
    }

    /// DNS servers, space-separated on the wire.
    pub fn nameservers(self, servers: &[IpAddr]) -> Self {
        let list: Vec<String> = servers.iter().map(IpAddr::to_string).collect();
        self.put("nameserver", list.join(" "))
    }

    pub fn searchdomain(self, domain: &str) -> Self {
        self.put("searchdomain", domain.trim_start_matches('.'))
    }

    /// SSH public keys, one per line; percent-encoded here as `sshkeys` requires.
    pub fn sshkeys(self, keys: &str) -> Self {
        self.put("sshkeys", encode_sshkeys(keys))
    }

    /// Removes `key` from the configuration.
    pub fn delete(mut self, key: &str) -> Self {
        self.params.retain(|(k, _)| k != key);
        if !self.delete.iter().any(|k| k == key) {
            self.delete.push(key.to_string());
        }
        self
    }

    /// Refuses the change if the configuration changed since it was read.
    pub fn digest(self, digest: &str) -> Self {
        self.put("digest", digest)
    }

    /// Whether nothing would be sent.
    pub fn is_empty(&self) -> bool {
        self.params.iter().all(|(k, _)| k == "digest") && self.delete.is_empty()
    }

    /// The form parameters.
    pub fn to_params(&self) -> Vec<(String, String)> {
        let mut out = self.params.clone();
        if !self.delete.is_empty() {
            out.push(("delete".into(), self.delete.join(",")));
        }
        out
    }
}

/// A VM configuration as read, plus its digest for optimistic locking.
#[derive(Clone, Debug, PartialEq)]
pub struct VmConfig {
    pub values: BTreeMap<String, String>,
    pub digest: String,
}

impl VmConfig {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    pub fn drive(&self, key: &str) -> Option<Drive> {
        self.get(key).map(Drive::parse)
    }

    pub fn net(&self, index: u8) -> Option<ApiResult<NetDevice>> {
        self.get(&format!("net{index}")).map(NetDevice::parse)
    }

    /// Decoded `sshkeys`.
    pub fn sshkeys(&self) -> Option<String> {
        self.get("sshkeys").map(|k| {
            percent_encoding::percent_decode_str(k)
                .decode_utf8_lossy()
                .into_owned()
        })
    }

    /// The VM's tags (`tags` is `;`-separated), e.g. the ownership stamp `whmcs-s123`.
    pub fn tags(&self) -> Vec<String> {
        self.get("tags")
            .map(|t| {
                t.split([';', ',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upids_parse_and_refuse() {
        let text = "UPID:pve1:00001A2B:0123ABCD:65F0C0DE:qmclone:9000:root@pam!whmcs:";
        let upid = Upid::parse(text).unwrap();
        assert_eq!(upid.node, "pve1");
        assert_eq!(upid.pid, 0x1A2B);
        assert_eq!(upid.task_type, "qmclone");
        assert_eq!(upid.id, "9000");
        assert_eq!(upid.user, "root@pam!whmcs");
        assert_eq!(upid.to_string(), text);
        let nine = "UPID:pve1:00001A2B:10123ABCD:65F0C0DE:vzdump::root@pam:";
        assert_eq!(Upid::parse(nine).unwrap().id, "");
        for bad in [
            "",
            "UPID:pve1:00001A2B:0123ABCD:65F0C0DE:qmclone:9000:root@pam",
            "UPID:pve1:1A2B:0123ABCD:65F0C0DE:qmclone:9000:root@pam:",
            "UPID:pve_1:00001A2B:0123ABCD:65F0C0DE:qmclone:9000:root@pam:",
            "UPID:pve1:00001A2B:0123ABCD:65F0C0DE::9000:root@pam:",
            "UPID:pve1:0000ZZZZ:0123ABCD:65F0C0DE:qmclone:9000:root@pam:",
        ] {
            assert!(Upid::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn task_exit_statuses() {
        let cases = [
            ("running", None, TaskState::Running),
            ("stopped", Some("OK"), TaskState::Succeeded { warnings: 0 }),
            (
                "stopped",
                Some("WARNINGS: 3"),
                TaskState::Succeeded { warnings: 3 },
            ),
            (
                "stopped",
                Some("unable to create VM 105: config file already exists"),
                TaskState::Failed {
                    exitstatus: "unable to create VM 105: config file already exists".into(),
                },
            ),
            (
                "stopped",
                None,
                TaskState::Failed {
                    exitstatus: "stopped without an exit status".into(),
                },
            ),
        ];
        for (status, exit, want) in cases {
            assert_eq!(
                TaskState::from_status(status, exit),
                want,
                "{status} {exit:?}"
            );
        }
    }

    #[test]
    fn vmids_are_bounded() {
        assert!(Vmid::new(99).is_err());
        assert_eq!(Vmid::new(100).unwrap().get(), 100);
        assert!(Vmid::new(999_999_999).is_ok());
        assert!(Vmid::new(1_000_000_000).is_err());
    }

    #[test]
    fn names_are_checked() {
        for (node, ok) in [
            ("pve1", true),
            ("pve-1", true),
            ("-pve", false),
            ("pve_1", false),
            ("", false),
        ] {
            assert_eq!(check_node(node).is_ok(), ok, "{node}");
        }
        for (s, ok) in [
            ("local-lvm", true),
            ("nfs.backup", true),
            ("1local", false),
            ("a", false),
            ("x:y", false),
        ] {
            assert_eq!(check_storage(s).is_ok(), ok, "{s}");
        }
    }

    #[test]
    fn net_devices_round_trip() {
        let dev =
            NetDevice::parse("virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=10,rate=12.5")
                .unwrap();
        assert_eq!(dev.model, "virtio");
        assert_eq!(dev.macaddr.as_deref(), Some("BC:24:11:00:00:01"));
        assert_eq!(dev.tag, Some(10));
        assert_eq!(
            dev.encode().unwrap(),
            "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,rate=12.5,tag=10"
        );
        let untagged = NetDevice {
            tag: Some(0),
            rate: Some(0.0),
            ..dev.clone()
        };
        assert_eq!(
            untagged.encode().unwrap(),
            "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"
        );
        let bad = NetDevice {
            model: "tulip".into(),
            ..dev.clone()
        };
        assert_eq!(
            bad.encode().unwrap_err(),
            ApiError::invalid(
                "nic_model",
                format!(
                    "'tulip' is not a NIC model; use one of {}",
                    NIC_MODELS.join(", ")
                )
            )
        );
        assert!(NetDevice {
            tag: Some(4095),
            ..dev
        }
        .encode()
        .is_err());
    }

    #[test]
    fn drive_limits_replace_only_limits() {
        let drive =
            Drive::parse("local-lvm:vm-101-disk-0,cache=writeback,size=32G,mbps_rd=10,iops_wr=5");
        assert_eq!(drive.size_bytes(), Some(32 << 30));
        let limited = drive.with_limits(&DiskLimits {
            mbps_rd: 50.0,
            mbps_wr: 0.0,
            iops_rd: 0,
            iops_wr: 200,
        });
        assert_eq!(
            limited.encode(),
            "local-lvm:vm-101-disk-0,cache=writeback,size=32G,mbps_rd=50,iops_wr=200"
        );
        assert_eq!(
            drive.with_limits(&DiskLimits::default()).encode(),
            "local-lvm:vm-101-disk-0,cache=writeback,size=32G"
        );
        assert_eq!(
            Drive::new_volume("local-lvm", 20).unwrap().encode(),
            "local-lvm:20"
        );
        assert!(Drive::new_volume("local-lvm", 0).is_err());
    }

    #[test]
    fn cloud_init_encodings() {
        assert_eq!(
            encode_sshkeys("ssh-ed25519 AAAA+/= me@host\n"),
            "ssh-ed25519%20AAAA%2B%2F%3D%20me%40host%0A"
        );
        let cfg = IpConfig {
            v4: Some(Ip4Config::Static {
                address: "192.0.2.10".parse().unwrap(),
                prefix: 24,
                gateway: Some("192.0.2.1".parse().unwrap()),
            }),
            v6: Some(Ip6Config::Auto),
        };
        assert_eq!(
            cfg.encode().unwrap(),
            "ip=192.0.2.10/24,gw=192.0.2.1,ip6=auto"
        );
        let update = ConfigUpdate::new()
            .cores(2)
            .onboot(true)
            .searchdomain(".example.com")
            .delete("ide2")
            .nameservers(&[
                "1.1.1.1".parse().unwrap(),
                "2606:4700:4700::1111".parse().unwrap(),
            ]);
        assert_eq!(
            update.to_params(),
            vec![
                ("cores".to_string(), "2".to_string()),
                ("onboot".into(), "1".into()),
                ("searchdomain".into(), "example.com".into()),
                ("nameserver".into(), "1.1.1.1 2606:4700:4700::1111".into()),
                ("delete".into(), "ide2".into()),
            ]
        );
        assert!(ConfigUpdate::new()
            .drive("net0", &Drive::parse("x:1"))
            .is_err());
    }
}
