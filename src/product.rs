//! Product configuration: the 24 WHMCS module-setting slots (`tblproducts.configoption1..24`),
//! the settings that do not fit there (`puq_proxmox_kvm_product_settings`, keyed by product),
//! and the configurable options that override both for one service.
//!
//! Slots: 1 target node · 2 OS template VMID · 3 clone type · 4 CPU cores · 5 RAM GB ·
//! 6 first VMID · 7 VM name rule · 8 system disk GB · 9 system disk storage · 10 additional
//! disk GB · 11 additional disk storage · 12 NIC model · 13 bandwidth MB/s · 14 bridge ·
//! 15 VLAN · 16 IPv4 count · 17 IPv6 count · 18 auto bridge/VLAN · 19 DHCP IPv4 ·
//! 20 DHCP IPv6 · 21 main domain · 22 max backups · 23 max snapshots · 24 OS username.
//!
//! Configurable options win over the product: the plain names the vendor documents (`CPU
//! Cores`, `RAM`, ...) or the short ones (`cpu`, `ram`, `ipv4`, `ipv6`, `os`), then the legacy
//! prefixes (`CPU|any text`, ...). An option assigned to the service wins even when its value
//! is 0 (0 additional disk = none, 0 bandwidth = unlimited, 0 backups = disabled).

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::db::{all, first};
use crate::error::{Error, Result};
use crate::proxmox::{check_node, check_storage};

const TABLE: &str = "puq_proxmox_kvm_product_settings";
/// MariaDB: "Table doesn't exist".
const NO_SUCH_TABLE: u16 = 1146;

/// How a field is entered and checked.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// An integer in a range.
    Int(u64, u64),
    /// A number in a range.
    Num(f64, f64),
    /// `on` or empty (WHMCS yes/no).
    YesNo,
    /// One of these values.
    Choice(&'static [&'static str]),
    /// `auto` or a node name.
    Node,
    /// Empty (none) or a VMID.
    Template,
    /// Empty, `auto`/`same`, or a storage id; for backups also `name|plugin`.
    Storage,
    /// The VM name rule with its macros.
    NameRule,
    /// A DNS suffix (`.example.com`).
    Domain,
    /// Free text up to this length.
    Text(usize),
}

/// One configuration field.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Stable key (`cpu_cores`).
    pub key: &'static str,
    /// What the admin sees.
    pub label: &'static str,
    pub default: &'static str,
    pub help: &'static str,
    kind: Kind,
}

const fn f(
    key: &'static str,
    label: &'static str,
    default: &'static str,
    kind: Kind,
    help: &'static str,
) -> Field {
    Field {
        key,
        label,
        default,
        help,
        kind,
    }
}

const ON: &str = "on";
const NIC_CHOICES: &[&str] = &["", "virtio", "e1000", "rtl8139", "vmxnet3"];
const POLICIES: &[&str] = &["ACCEPT", "DROP", "REJECT"];
const LOG_LEVELS: &[&str] = &["nolog", "info", "notice", "warning"];

/// The 24 slots, in `configoptionN` order.
pub const SLOTS: [Field; 24] = [
    f("target_node", "Target node", "auto", Kind::Node, "auto = the node with the most free RAM"),
    f("template_vmid", "OS template VMID", "", Kind::Template, "the default template; the Operating System option overrides it"),
    f("clone_type", "Clone type", "linked", Kind::Choice(&["linked", "full"]), "a linked clone needs its template to stay"),
    f("cpu_cores", "CPU cores", "1", Kind::Int(1, 512), ""),
    f("ram_gb", "RAM (GB)", "1", Kind::Int(1, 4096), ""),
    f("first_vmid", "First VM ID", "100", Kind::Int(100, 999_999_999), "VMIDs are taken from here up, skipping used ones"),
    f("vm_name_rule", "VM name rule", "{client_id}-{service_id}", Kind::NameRule, "macros: {client_id} {service_id} {random_digit_N} {random_letter_N} {unixtime} {year} {month} {day} {hour} {minute} {second}"),
    f("system_disk_gb", "System disk (GB)", "0", Kind::Int(0, 65_536), "0 = the template's size"),
    f("system_disk_storage", "System disk storage", "auto", Kind::Storage, "auto = as in the template"),
    f("additional_disk_gb", "Additional disk (GB)", "0", Kind::Int(0, 65_536), "0 = no additional disk"),
    f("additional_disk_storage", "Additional disk storage", "same", Kind::Storage, "same = as the system disk"),
    f("nic_model", "NIC model", "", Kind::Choice(NIC_CHOICES), "empty = as in the template"),
    f("bandwidth_mbps", "Network bandwidth (MB/s)", "0", Kind::Num(0.0, 100_000.0), "0 = unlimited"),
    f("bridge", "Bridge", "vmbr0", Kind::Text(32), ""),
    f("vlan", "VLAN tag", "0", Kind::Int(0, 4094), "0 = untagged"),
    f("ipv4_count", "IPv4 addresses", "1", Kind::Int(0, 256), ""),
    f("ipv6_count", "IPv6 addresses", "0", Kind::Int(0, 256), ""),
    f("auto_bridge_vlan", "Auto bridge/VLAN", ON, Kind::YesNo, "bridge and VLAN come from the IP pool"),
    f("dhcp_ipv4", "DHCP IPv4", ON, Kind::YesNo, "no IPv4 allocation, no anti-spoofing for IPv4"),
    f("dhcp_ipv6", "DHCP IPv6", ON, Kind::YesNo, "no IPv6 allocation, no anti-spoofing for IPv6"),
    f("main_domain", "Main domain", ".example.com", Kind::Domain, "the VM's FQDN is <vm name><main domain>"),
    f("max_backups", "Max backups", "0", Kind::Int(0, 1000), "0 = backups disabled"),
    f("max_snapshots", "Max snapshots", "0", Kind::Int(0, 1000), "0 = snapshots disabled"),
    f("os_username", "OS username", "", Kind::Text(32), "empty = random"),
];

/// The settings kept in `puq_proxmox_kvm_product_settings`.
pub const EXTENDED: &[Field] = &[
    f(
        "system_disk_mbps_rd",
        "System disk read (MB/s)",
        "0",
        Kind::Num(0.0, 100_000.0),
        "0 = unlimited",
    ),
    f(
        "system_disk_mbps_wr",
        "System disk write (MB/s)",
        "0",
        Kind::Num(0.0, 100_000.0),
        "0 = unlimited",
    ),
    f(
        "system_disk_iops_rd",
        "System disk read IOPS",
        "0",
        Kind::Int(0, 10_000_000),
        "0 = unlimited",
    ),
    f(
        "system_disk_iops_wr",
        "System disk write IOPS",
        "0",
        Kind::Int(0, 10_000_000),
        "0 = unlimited",
    ),
    f(
        "additional_disk_mbps_rd",
        "Additional disk read (MB/s)",
        "0",
        Kind::Num(0.0, 100_000.0),
        "0 = unlimited",
    ),
    f(
        "additional_disk_mbps_wr",
        "Additional disk write (MB/s)",
        "0",
        Kind::Num(0.0, 100_000.0),
        "0 = unlimited",
    ),
    f(
        "additional_disk_iops_rd",
        "Additional disk read IOPS",
        "0",
        Kind::Int(0, 10_000_000),
        "0 = unlimited",
    ),
    f(
        "additional_disk_iops_wr",
        "Additional disk write IOPS",
        "0",
        Kind::Int(0, 10_000_000),
        "0 = unlimited",
    ),
    f(
        "firewall_policy_in",
        "Firewall input policy",
        "ACCEPT",
        Kind::Choice(POLICIES),
        "",
    ),
    f(
        "firewall_policy_out",
        "Firewall output policy",
        "ACCEPT",
        Kind::Choice(POLICIES),
        "",
    ),
    f(
        "firewall_log_in",
        "Firewall log level in",
        "nolog",
        Kind::Choice(LOG_LEVELS),
        "",
    ),
    f(
        "firewall_log_out",
        "Firewall log level out",
        "nolog",
        Kind::Choice(LOG_LEVELS),
        "",
    ),
    f("firewall_enable", "Firewall enabled", ON, Kind::YesNo, ""),
    f("firewall_dhcp", "Firewall: allow DHCP", ON, Kind::YesNo, ""),
    f("firewall_ndp", "Firewall: allow NDP", ON, Kind::YesNo, ""),
    f(
        "firewall_radv",
        "Firewall: allow router advertisement",
        "",
        Kind::YesNo,
        "",
    ),
    f(
        "firewall_macfilter",
        "Firewall: MAC filter",
        ON,
        Kind::YesNo,
        "",
    ),
    f(
        "firewall_ipfilter",
        "Firewall: IP filter",
        "",
        Kind::YesNo,
        "",
    ),
    f(
        "firewall_antispoofing",
        "Anti-spoofing IP set (ipfilter-net0)",
        ON,
        Kind::YesNo,
        "effective only with DROP/DROP cluster policies",
    ),
    f(
        "backup_storage",
        "Backup storage",
        "",
        Kind::Storage,
        "name|plugin, e.g. nfs-backup|nfs; must be reachable from every node",
    ),
    f("iso_storage", "ISO storage", "", Kind::Storage, ""),
    f(
        "snapshot_lifetime_days",
        "Snapshot lifetime (days)",
        "0",
        Kind::Int(0, 10),
        "0 = don't remove",
    ),
    f(
        "snapshot_schedule",
        "Weekly snapshot schedule",
        "",
        Kind::YesNo,
        "on = weekly snapshots rotated first in, first out; the lifetime is then ignored",
    ),
    f(
        "novnc_domain",
        "noVNC proxy domain",
        "vncproxy.puqcloud.com",
        Kind::Text(253),
        "",
    ),
    f(
        "novnc_key",
        "noVNC proxy key",
        "puqcloud",
        Kind::Text(128),
        "",
    ),
    f(
        "rdns_ticket",
        "Reverse DNS change opens a ticket",
        ON,
        Kind::YesNo,
        "when no DNS zone covers the address",
    ),
    f(
        "rdns_department",
        "Ticket department id",
        "0",
        Kind::Int(0, 1_000_000),
        "0 = the first department",
    ),
    f(
        "email_vm_ready",
        "Email: VM is ready",
        "puqProxmoxKVM VM is ready",
        Kind::Text(128),
        "empty = no email",
    ),
    f(
        "email_reset_password",
        "Email: reset password",
        "puqProxmoxKVM Reset password",
        Kind::Text(128),
        "empty = no email",
    ),
    f(
        "email_backup_restored",
        "Email: backup restored",
        "puqProxmoxKVM Backup restored",
        Kind::Text(128),
        "empty = no email",
    ),
    f("client_start", "Client area: start", ON, Kind::YesNo, ""),
    f("client_stop", "Client area: stop", ON, Kind::YesNo, ""),
    f("client_novnc", "Client area: noVNC", ON, Kind::YesNo, ""),
    f("client_charts", "Client area: charts", ON, Kind::YesNo, ""),
    f(
        "client_reinstall",
        "Client area: reinstall",
        ON,
        Kind::YesNo,
        "",
    ),
    f(
        "client_reset_password",
        "Client area: reset password",
        ON,
        Kind::YesNo,
        "",
    ),
    f(
        "client_rdns",
        "Client area: reverse DNS",
        ON,
        Kind::YesNo,
        "",
    ),
    f("client_iso", "Client area: ISO mount", ON, Kind::YesNo, ""),
    f(
        "client_firewall",
        "Client area: firewall",
        ON,
        Kind::YesNo,
        "",
    ),
];

/// Checks and normalises one value; `field_name` names it in the error.
fn normalise(field: &Field, raw: &str, field_name: &str) -> Result<String> {
    let v = raw.trim();
    let bad = |why: String| Error::validation(field_name, format!("{} {why}", field.label));
    match field.kind {
        Kind::Int(min, max) => {
            let n: u64 = v.parse().map_err(|_| {
                bad(format!(
                    "must be a whole number from {min} to {max}, got '{v}'"
                ))
            })?;
            if n < min || n > max {
                return Err(bad(format!("must be from {min} to {max}, got {n}")));
            }
            Ok(n.to_string())
        }
        Kind::Num(min, max) => {
            let n: f64 = v
                .parse()
                .ok()
                .filter(|n: &f64| n.is_finite())
                .ok_or_else(|| bad(format!("must be a number from {min} to {max}, got '{v}'")))?;
            if n < min || n > max {
                return Err(bad(format!("must be from {min} to {max}, got {n}")));
            }
            Ok(n.to_string())
        }
        Kind::YesNo => match v.to_ascii_lowercase().as_str() {
            "on" | "1" | "yes" | "true" => Ok(ON.into()),
            "" | "0" | "off" | "no" | "false" => Ok(String::new()),
            _ => Err(bad(format!("must be on or empty, got '{v}'"))),
        },
        Kind::Choice(choices) => {
            let lower = v.to_ascii_lowercase();
            let alias = match lower.as_str() {
                "linked clone" => "linked",
                "full clone" => "full",
                "intel e1000" => "e1000",
                "realtek rtl8139" => "rtl8139",
                "vmware vmxnet3" => "vmxnet3",
                "as in template" => "",
                other => other,
            };
            choices
                .iter()
                .find(|c| c.eq_ignore_ascii_case(alias) || c.eq_ignore_ascii_case(v))
                .map(|c| c.to_string())
                .ok_or_else(|| {
                    bad(format!(
                        "must be one of {}, got '{v}'",
                        choices
                            .iter()
                            .map(|c| if c.is_empty() { "(empty)" } else { c })
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        }
        Kind::Node => {
            if v.is_empty()
                || v.eq_ignore_ascii_case("auto")
                || v.eq_ignore_ascii_case("automatically")
            {
                return Ok("auto".into());
            }
            check_node(v)
                .map_err(|_| bad(format!("must be auto or a Proxmox node name, got '{v}'")))?;
            Ok(v.into())
        }
        Kind::Template => {
            if v.is_empty() || v == "0" {
                return Ok(String::new());
            }
            match v.parse::<u64>() {
                Ok(n) if (100..=999_999_999).contains(&n) => Ok(n.to_string()),
                _ => Err(bad(format!(
                    "must be a template VMID (100-999999999) or empty, got '{v}'"
                ))),
            }
        }
        Kind::Storage => {
            let word = v.to_ascii_lowercase();
            if v.is_empty()
                || word == "auto"
                || word == "same"
                || word.starts_with("auto (")
                || word.starts_with("same as")
            {
                return Ok(if v.is_empty() {
                    String::new()
                } else {
                    word.split([' ', '('])
                        .next()
                        .unwrap_or_default()
                        .to_string()
                });
            }
            // Backups storage: `name|plugin`.
            let (name, plugin) = v.split_once('|').unwrap_or((v, ""));
            check_storage(name)
                .map_err(|_| bad(format!("must be a Proxmox storage id, got '{name}'")))?;
            if !plugin.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(bad(format!("has a bad storage type '{plugin}'")));
            }
            Ok(v.into())
        }
        Kind::NameRule => {
            if v.is_empty() {
                return Err(bad("must not be empty".into()));
            }
            let mut rest = v;
            while let Some(start) = rest.find('{') {
                let end = rest[start..]
                    .find('}')
                    .ok_or_else(|| bad(format!("has an unclosed macro in '{v}'")))?
                    + start;
                let name = &rest[start + 1..end];
                let known = [
                    "client_id",
                    "service_id",
                    "unixtime",
                    "year",
                    "month",
                    "day",
                    "hour",
                    "minute",
                    "second",
                ]
                .contains(&name)
                    || name
                        .strip_prefix("random_digit_")
                        .or_else(|| name.strip_prefix("random_letter_"))
                        .and_then(|n| n.parse::<u8>().ok())
                        .is_some_and(|n| (1..=32).contains(&n));
                if !known {
                    return Err(bad(format!("uses an unknown macro {{{name}}}")));
                }
                rest = &rest[end + 1..];
            }
            let literal: String = v.split(['{', '}']).step_by(2).collect();
            if !literal
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
            {
                return Err(bad(
                    "may hold only letters, digits, '-' and macros (it becomes a DNS name)".into(),
                ));
            }
            Ok(v.into())
        }
        Kind::Domain => {
            let d = v.trim_start_matches('.').trim_end_matches('.');
            let ok = !d.is_empty()
                && d.len() <= 253
                && d.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && !l.starts_with('-')
                        && !l.ends_with('-')
                        && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !ok {
                return Err(bad(format!(
                    "must be a domain such as .example.com, got '{v}'"
                )));
            }
            Ok(format!(".{}", d.to_ascii_lowercase()))
        }
        Kind::Text(max) => {
            if v.chars().count() > max || v.chars().any(char::is_control) {
                return Err(bad(format!("must be at most {max} characters on one line")));
            }
            if field.key == "bridge"
                && (v.is_empty()
                    || !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            {
                return Err(bad(format!(
                    "must be a Proxmox bridge name such as vmbr0, got '{v}'"
                )));
            }
            if field.key == "os_username"
                && !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(bad(format!(
                    "must be a Linux user name or empty, got '{v}'"
                )));
            }
            Ok(v.into())
        }
    }
}

/// Where a value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Product,
    ConfigOption,
}

/// The effective configuration of one service: every field of [`SLOTS`] and [`EXTENDED`],
/// validated, with configurable options applied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceConfig {
    pub service_id: u64,
    pub product_id: u64,
    /// key => normalised value.
    pub values: BTreeMap<String, String>,
    /// Keys a configurable option set.
    pub overridden: BTreeMap<String, String>,
}

impl ServiceConfig {
    pub fn text(&self, key: &str) -> &str {
        self.values.get(key).map(String::as_str).unwrap_or_default()
    }

    pub fn int(&self, key: &str) -> u64 {
        self.text(key).parse().unwrap_or(0)
    }

    pub fn number(&self, key: &str) -> f64 {
        self.text(key).parse().unwrap_or(0.0)
    }

    pub fn on(&self, key: &str) -> bool {
        self.text(key) == ON
    }

    /// The node asked for, `None` for automatic.
    pub fn target_node(&self) -> Option<&str> {
        Some(self.text("target_node")).filter(|n| *n != "auto")
    }

    /// The template VMID, if any.
    pub fn template_vmid(&self) -> Option<u32> {
        self.text("template_vmid").parse().ok()
    }

    pub fn full_clone(&self) -> bool {
        self.text("clone_type") == "full"
    }

    pub fn ram_mib(&self) -> u64 {
        self.int("ram_gb") * 1024
    }

    /// `name.example.com` for a VM name.
    pub fn fqdn(&self, vm_name: &str) -> String {
        format!("{vm_name}{}", self.text("main_domain"))
    }

    /// Where a value came from.
    pub fn source(&self, key: &str) -> Source {
        if self.overridden.contains_key(key) {
            Source::ConfigOption
        } else {
            Source::Product
        }
    }
}

/// Validates the 24 slots (`configoption1..24`, missing ones empty): normalised values by key.
///
/// # Errors
/// [`Error::Validation`] on `configoptionN` naming the field and the fix.
pub fn slots_from(values: &[String]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (i, field) in SLOTS.iter().enumerate() {
        let raw = values.get(i).map(String::as_str).unwrap_or_default();
        // An unset slot (a product saved before this field existed) takes the default; a yes/no
        // slot is '' when switched off, so it is taken as it is.
        let raw = if raw.trim().is_empty() && !matches!(field.kind, Kind::YesNo) {
            field.default
        } else {
            raw
        };
        out.insert(
            field.key.to_string(),
            normalise(field, raw, &format!("configoption{}", i + 1))?,
        );
    }
    Ok(out)
}

/// The WHMCS `_ConfigOptions` array for the 24 slots: label => Type, Default, Size,
/// Options, Description.
pub fn config_options() -> Map<String, Value> {
    let mut out = Map::new();
    for field in &SLOTS {
        let mut entry = json!({"Default": field.default, "Description": field.help});
        match field.kind {
            Kind::YesNo => {
                entry["Type"] = json!("yesno");
            }
            Kind::Choice(choices) => {
                entry["Type"] = json!("dropdown");
                let options: Map<String, Value> = choices
                    .iter()
                    .map(|c| {
                        (
                            c.to_string(),
                            json!(if c.is_empty() { "as in template" } else { c }),
                        )
                    })
                    .collect();
                entry["Options"] = Value::Object(options);
            }
            _ => {
                entry["Type"] = json!("text");
                entry["Size"] = json!(if matches!(field.kind, Kind::NameRule | Kind::Domain) {
                    30
                } else {
                    12
                });
            }
        }
        out.insert(field.label.to_string(), entry);
    }
    out
}

/// The fields of [`EXTENDED`] for a form, in order: key => `key`, `label`, `default`, `help`,
/// `type` (`yesno`, `dropdown` with `options`, or `text`).
pub fn settings_fields() -> Map<String, Value> {
    EXTENDED
        .iter()
        .map(|field| {
            let mut entry = json!({"key": field.key, "label": field.label, "default": field.default, "help": field.help});
            match field.kind {
                Kind::YesNo => entry["type"] = json!("yesno"),
                Kind::Choice(choices) => {
                    entry["type"] = json!("dropdown");
                    entry["options"] = json!(choices);
                }
                _ => entry["type"] = json!("text"),
            }
            (field.key.to_string(), entry)
        })
        .collect()
}

/// The product's extended settings, defaults filled in.
///
/// # Errors
/// [`Error::Database`]; [`Error::Validation`] if a stored value was edited into something
/// invalid.
pub async fn load_settings(conn: &mut Conn, product_id: u64) -> Result<BTreeMap<String, String>> {
    // Before the addon's first activation the table does not exist yet: every setting is at
    // its default. Asked directly (not through information_schema first): one round trip.
    let rows: Vec<(String, String)> = match conn
        .exec(
            format!("SELECT setting, value FROM {TABLE} WHERE product_id = ?"),
            (product_id,),
        )
        .await
    {
        Ok(rows) => rows,
        Err(mysql_async::Error::Server(e)) if e.code == NO_SUCH_TABLE => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let stored: BTreeMap<String, String> = rows.into_iter().collect();
    let mut out = BTreeMap::new();
    for field in EXTENDED {
        let raw = stored
            .get(field.key)
            .map(String::as_str)
            .unwrap_or(field.default);
        out.insert(field.key.to_string(), normalise(field, raw, field.key)?);
    }
    Ok(out)
}

/// Validates `changes` (keys of [`EXTENDED`]) and saves them for `product_id`; returns all
/// settings. Nothing is saved when any value is invalid.
///
/// # Errors
/// [`Error::Validation`] naming the first unknown key or bad value; [`Error::Database`].
pub async fn save_settings(
    conn: &mut Conn,
    product_id: u64,
    changes: &Map<String, Value>,
) -> Result<BTreeMap<String, String>> {
    let mut checked = Vec::new();
    for (key, value) in changes {
        let field = EXTENDED.iter().find(|f| f.key == key).ok_or_else(|| {
            Error::validation(
                key,
                "is not a product setting of this module - remove it from the request",
            )
        })?;
        let raw = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => if *b { ON } else { "" }.to_string(),
            Value::Null => String::new(),
            _ => return Err(Error::validation(key, "must be a single value")),
        };
        checked.push((field.key, normalise(field, &raw, key)?));
    }
    let mut tx = conn
        .start_transaction(mysql_async::TxOpts::default())
        .await?;
    for (key, value) in &checked {
        tx.exec_drop(
            format!("INSERT INTO {TABLE} (product_id, setting, value) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)"),
            (product_id, *key, value.as_str()),
        )
        .await?;
    }
    tx.commit().await?;
    load_settings(conn, product_id).await
}

/// Which configurable option names set which field, plain names first (they win), then the
/// legacy `PREFIX|any text` prefixes.
const OPTION_NAMES: &[(&str, &[&str], &[&str])] = &[
    ("cpu_cores", &["CPU Cores", "cpu"], &["CPU"]),
    ("ram_gb", &["RAM", "ram"], &["RAM"]),
    ("system_disk_gb", &["System Disk"], &[]),
    ("additional_disk_gb", &["Additional Disk"], &[]),
    ("bandwidth_mbps", &["Network Bandwidth"], &[]),
    ("ipv4_count", &["IPv4 Addresses", "ipv4"], &["ipv4"]),
    ("ipv6_count", &["IPv6 Addresses", "ipv6"], &["ipv6"]),
    ("template_vmid", &["Operating System", "os"], &["OS"]),
    ("max_backups", &["Backups"], &["B"]),
    ("max_snapshots", &["Snapshots"], &["S"]),
];

/// Options that set two fields (read and write) at once.
const PAIRED_OPTIONS: &[(&str, [&str; 2])] = &[
    (
        "System Disk Read/Write Bandwidth",
        ["system_disk_mbps_rd", "system_disk_mbps_wr"],
    ),
    (
        "System Disk Read/Write IOPS",
        ["system_disk_iops_rd", "system_disk_iops_wr"],
    ),
    (
        "Additional Disk Read/Write Bandwidth",
        ["additional_disk_mbps_rd", "additional_disk_mbps_wr"],
    ),
    (
        "Additional Disk Read/Write IOPS",
        ["additional_disk_iops_rd", "additional_disk_iops_wr"],
    ),
];

/// An option assigned to a service: its full name and value (dropdown/radio: the chosen
/// sub-option's part before `|`; yes/no and quantity: the quantity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignedOption {
    pub name: String,
    pub value: String,
}

/// Applies `options` to `values`; returns key => option name for what was overridden.
///
/// # Errors
/// [`Error::Validation`] on the option's name when its value is not acceptable.
pub fn apply_options(
    values: &mut BTreeMap<String, String>,
    options: &[AssignedOption],
) -> Result<BTreeMap<String, String>> {
    let mut overridden = BTreeMap::new();
    let field_of = |key: &str| {
        SLOTS
            .iter()
            .chain(EXTENDED.iter())
            .find(|f| f.key == key)
            .copied()
    };
    for (key, plain, legacy) in OPTION_NAMES {
        let by_plain = options.iter().find(|o| {
            plain.contains(&o.name.split('|').next().unwrap_or_default())
                && !is_legacy(&o.name, legacy)
        });
        let by_legacy = || options.iter().find(|o| is_legacy(&o.name, legacy));
        if let Some(option) = by_plain.or_else(by_legacy) {
            if let Some(field) = field_of(key) {
                let value = if *key == "template_vmid" && option.value.trim() == "0" {
                    ""
                } else {
                    option.value.as_str()
                };
                values.insert(key.to_string(), normalise(&field, value, &option.name)?);
                overridden.insert(key.to_string(), option.name.clone());
            }
        }
    }
    for (name, keys) in PAIRED_OPTIONS {
        if let Some(option) = options
            .iter()
            .find(|o| o.name.split('|').next() == Some(*name))
        {
            for key in keys {
                if let Some(field) = field_of(key) {
                    values.insert(
                        key.to_string(),
                        normalise(&field, &option.value, &option.name)?,
                    );
                    overridden.insert(key.to_string(), option.name.clone());
                }
            }
        }
    }
    Ok(overridden)
}

/// `PREFIX|any text` with PREFIX one of `prefixes`.
fn is_legacy(name: &str, prefixes: &[&str]) -> bool {
    name.split_once('|')
        .is_some_and(|(p, _)| prefixes.contains(&p))
}

/// The configurable options assigned to a service.
pub async fn assigned_options(conn: &mut Conn, service_id: u64) -> Result<Vec<AssignedOption>> {
    let rows: Vec<(String, String, Option<String>, Option<i64>)> = all(
        conn,
        "SELECT o.optionname, o.optiontype, s.optionname, hc.qty
         FROM tblhostingconfigoptions hc
         JOIN tblproductconfigoptions o ON o.id = hc.configid
         LEFT JOIN tblproductconfigoptionssub s ON s.id = hc.optionid AND s.configid = o.id
         WHERE hc.relid = ? ORDER BY hc.id",
        (service_id,),
    )
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, kind, sub, qty)| {
            let value = match kind.trim() {
                // Dropdown and radio: the chosen sub-option, `value|Display`; none chosen = not assigned.
                "1" | "2" => sub?
                    .split('|')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                _ => qty.unwrap_or(0).to_string(),
            };
            Some(AssignedOption { name, value })
        })
        .collect())
}

/// The effective configuration of service `service_id`: its product's slots and settings,
/// overridden by its configurable options.
///
/// # Errors
/// [`Error::NotFound`] when the service or its product is missing; [`Error::Validation`]
/// naming the slot, setting or option that is invalid; [`Error::Database`].
pub async fn resolve(conn: &mut Conn, service_id: u64) -> Result<ServiceConfig> {
    Ok(resolve_service(conn, service_id).await?.config)
}

/// A service as the VM pipeline needs it: its server entry, its client and its configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedService {
    /// `tblhosting.server`: the Proxmox server entry.
    pub server_id: i64,
    /// `tblhosting.userid`.
    pub client_id: i64,
    pub config: ServiceConfig,
}

/// [`resolve`] with the service's server and client, in three queries (the service and its
/// product, the product's settings, the configurable options): the pipeline calls it once per
/// VM and tick.
///
/// # Errors
/// As [`resolve`].
pub async fn resolve_service(conn: &mut Conn, service_id: u64) -> Result<ResolvedService> {
    let columns: Vec<String> = (1..=24).map(|n| format!("p.configoption{n}")).collect();
    let row: Option<Row> = first(
        conn,
        &format!(
            "SELECT h.server, h.userid, p.id, {} FROM tblhosting h JOIN tblproducts p ON p.id = h.packageid WHERE h.id = ?",
            columns.join(", ")
        ),
        (service_id,),
    )
    .await?;
    let row = row.ok_or_else(|| {
        Error::NotFound(format!(
            "service {service_id} (or its product) does not exist"
        ))
    })?;
    let number = |i: usize, what: &str| {
        row.get_opt::<Option<i64>, _>(i)
            .and_then(|r| r.ok())
            .ok_or_else(|| Error::Database(format!("service {service_id}: unreadable {what}")))
    };
    let server_id = number(0, "server")?.unwrap_or(0);
    let client_id = number(1, "client id")?.unwrap_or(0);
    let product_id = number(2, "product id")?
        .and_then(|id| u64::try_from(id).ok())
        .ok_or_else(|| Error::Database(format!("service {service_id}: unreadable product id")))?;
    let slots: Vec<String> = (3..27)
        .map(|i| {
            row.get_opt::<Option<String>, _>(i)
                .and_then(|r| r.ok())
                .flatten()
                .unwrap_or_default()
        })
        .collect();
    let mut values = slots_from(&slots).map_err(|e| e.context(format!("product {product_id}")))?;
    values.extend(load_settings(conn, product_id).await?);
    let options = assigned_options(conn, service_id).await?;
    let overridden = apply_options(&mut values, &options)?;
    Ok(ResolvedService {
        server_id,
        client_id,
        config: ServiceConfig {
            service_id,
            product_id,
            values,
            overridden,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> BTreeMap<String, String> {
        let mut v = slots_from(&[]).unwrap();
        v.extend(
            EXTENDED
                .iter()
                .map(|f| (f.key.to_string(), normalise(f, f.default, f.key).unwrap())),
        );
        v
    }

    #[test]
    fn empty_slots_take_the_documented_defaults() {
        let v = slots_from(&[]).unwrap();
        let want = [
            ("target_node", "auto"),
            ("clone_type", "linked"),
            ("cpu_cores", "1"),
            ("ram_gb", "1"),
            ("first_vmid", "100"),
            ("vm_name_rule", "{client_id}-{service_id}"),
            ("bridge", "vmbr0"),
            ("ipv4_count", "1"),
            ("main_domain", ".example.com"),
            ("auto_bridge_vlan", ""),
        ];
        for (k, value) in want {
            assert_eq!(v[k], value, "{k}");
        }
        assert_eq!(config_options().len(), 24);
        for model in NIC_CHOICES.iter().filter(|m| !m.is_empty()) {
            assert!(crate::proxmox::NIC_MODELS.contains(model), "{model}");
        }
        assert_eq!(config_options()["Auto bridge/VLAN"]["Default"], "on");
    }

    #[test]
    fn slots_are_validated_with_the_slot_named() {
        let cases: &[(usize, &str, Option<&str>)] = &[
            (0, "pve-2", Some("pve-2")),
            (0, "Automatically", Some("auto")),
            (0, "pve 2", None),
            (1, "9000", Some("9000")),
            (1, "42", None),
            (2, "Full Clone", Some("full")),
            (2, "thin", None),
            (3, "0", None),
            (3, "8", Some("8")),
            (
                6,
                "{service_id}-{random_letter_4}",
                Some("{service_id}-{random_letter_4}"),
            ),
            (6, "{nope}", None),
            (6, "vm_{service_id}", None),
            (8, "local-lvm", Some("local-lvm")),
            (8, "auto (from template)", Some("auto")),
            (8, "1bad", None),
            (11, "Intel E1000", Some("e1000")),
            (12, "12.5", Some("12.5")),
            (12, "-1", None),
            (13, "vmbr 0", None),
            (14, "4095", None),
            (17, "yes", Some("on")),
            (17, "maybe", None),
            (20, "example.com.", Some(".example.com")),
            (20, "bad_domain", None),
            (23, "root", Some("root")),
            (23, "ro ot", None),
        ];
        for (slot, raw, want) in cases {
            let mut values = vec![String::new(); 24];
            values[*slot] = raw.to_string();
            let key = SLOTS[*slot].key;
            match (slots_from(&values), want) {
                (Ok(v), Some(w)) => assert_eq!(v[key], *w, "{key} {raw}"),
                (Err(e), None) => assert_eq!(
                    e.field(),
                    Some(format!("configoption{}", slot + 1).as_str()),
                    "{key} {raw}: {e}"
                ),
                (other, _) => panic!("{key} {raw}: {other:?}"),
            }
        }
    }

    #[test]
    fn options_override_plain_names_first_and_zero_counts() {
        let opt = |n: &str, v: &str| AssignedOption {
            name: n.into(),
            value: v.into(),
        };
        let cases: Vec<(Vec<AssignedOption>, &str, &str)> = vec![
            (
                vec![opt("CPU|Processor", "2"), opt("CPU Cores", "4")],
                "cpu_cores",
                "4",
            ),
            (
                vec![opt("CPU Cores", "4"), opt("CPU|Processor", "2")],
                "cpu_cores",
                "4",
            ),
            (vec![opt("CPU|Processor", "2")], "cpu_cores", "2"),
            (vec![opt("cpu", "3")], "cpu_cores", "3"),
            (vec![opt("Additional Disk", "0")], "additional_disk_gb", "0"),
            (vec![opt("B|Backups", "0")], "max_backups", "0"),
            (
                vec![
                    opt("OS|Operating system", "9001"),
                    opt("Operating System", "9002"),
                ],
                "template_vmid",
                "9002",
            ),
            (vec![opt("ipv4|IPs", "0")], "ipv4_count", "0"),
            (
                vec![opt("System Disk Read/Write IOPS", "500")],
                "system_disk_iops_wr",
                "500",
            ),
            (vec![opt("Unrelated", "7")], "cpu_cores", "1"),
        ];
        for (options, key, want) in cases {
            let mut v = defaults();
            v.insert("additional_disk_gb".into(), "20".into());
            v.insert("max_backups".into(), "3".into());
            apply_options(&mut v, &options).unwrap();
            assert_eq!(v[key], want, "{options:?}");
        }
        let mut v = defaults();
        let err = apply_options(&mut v, &[opt("RAM", "lots")]).unwrap_err();
        assert_eq!(err.field(), Some("RAM"));
    }
}
