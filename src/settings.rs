//! Module settings: General (timeouts, migration, table removal) and Cron (mode, intervals,
//! lock timeout). Stored as `(setting, value)` rows in `puq_proxmox_kvm_settings`; a setting
//! without a row has its default.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, TxOpts};
use serde_json::{Map, Value};

use crate::cron::Task;
use crate::db::all;
use crate::error::{Error, Result};

/// How cron tasks are started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CronMode {
    /// From WHMCS's own cron, through the `AfterCronJob` hook.
    Hook,
    /// From the system crontab running `php cron.php`.
    Standalone,
}

impl CronMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CronMode::Hook => "hook",
            CronMode::Standalone => "standalone",
        }
    }
}

/// The module's settings, validated.
///
/// # Invariants
/// Every number is inside the range [`Settings::save`] enforces.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Seconds for Proxmox API requests made from admin and client pages (1-300).
    pub default_timeout: u32,
    /// Seconds for cron operations: clone, migrate, delete (1-600).
    pub heavy_timeout: u32,
    /// Migrate a clone from the template's node to the target node.
    pub migration_enabled: bool,
    /// Seconds a cron run waits for a migration before resuming on the next run (1-3600).
    pub migration_timeout: u32,
    /// Drop every module table when the addon is deactivated.
    pub delete_tables_on_deactivate: bool,
    /// How cron tasks are started.
    pub cron_mode: CronMode,
    /// Seconds after which a cron lock is stale and taken over (60-86400).
    pub cron_lock_timeout: u32,
    /// Seconds a processVirtualMachines tick may start new steps for (10-3600).
    pub cron_time_budget: u32,
    /// Steps one VM may take per tick (0: as many as the time budget allows; 1: one step per
    /// tick, the documented behaviour of earlier releases).
    pub cron_max_steps: u32,
    /// VMs worked on at once on one Proxmox node (1-64).
    pub cron_node_concurrency: u32,
    /// Addresses and networks allowed to read the legacy `dns.php` endpoint (empty: none).
    pub dns_endpoint_allow: Vec<ipnet::IpNet>,
    /// Minutes between runs of each task (0 disables it; at most a week).
    pub task_intervals: BTreeMap<Task, u32>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_timeout: 10,
            heavy_timeout: 60,
            migration_enabled: true,
            migration_timeout: 300,
            delete_tables_on_deactivate: false,
            cron_mode: CronMode::Hook,
            cron_lock_timeout: 600,
            cron_time_budget: 50,
            cron_max_steps: 0,
            cron_node_concurrency: 4,
            dns_endpoint_allow: Vec::new(),
            task_intervals: Task::ALL
                .into_iter()
                .map(|t| (t, t.default_interval()))
                .collect(),
        }
    }
}

const TABLE: &str = "puq_proxmox_kvm_settings";
const MAX_INTERVAL: u32 = 7 * 24 * 60;

fn interval_key(task: Task) -> String {
    format!("interval_{}", task.name())
}

impl Settings {
    /// Every setting as `name => value` (numbers as integers, switches as booleans, the mode
    /// as `hook` or `standalone`), the form the PHP side reads and [`Settings::apply`] takes.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("default_timeout".into(), self.default_timeout.into());
        m.insert("heavy_timeout".into(), self.heavy_timeout.into());
        m.insert("migration_enabled".into(), self.migration_enabled.into());
        m.insert("migration_timeout".into(), self.migration_timeout.into());
        m.insert(
            "delete_tables_on_deactivate".into(),
            self.delete_tables_on_deactivate.into(),
        );
        m.insert("cron_mode".into(), self.cron_mode.as_str().into());
        m.insert("cron_lock_timeout".into(), self.cron_lock_timeout.into());
        m.insert("cron_time_budget".into(), self.cron_time_budget.into());
        m.insert("cron_max_steps".into(), self.cron_max_steps.into());
        m.insert(
            "cron_node_concurrency".into(),
            self.cron_node_concurrency.into(),
        );
        let allow: Vec<String> = self.dns_endpoint_allow.iter().map(show_net).collect();
        m.insert("dns_endpoint_allow".into(), allow.join(", ").into());
        for (task, minutes) in &self.task_intervals {
            m.insert(interval_key(*task), (*minutes).into());
        }
        m
    }

    /// Returns these settings with `changes` applied. Every value is checked before any is
    /// taken, so a bad value changes nothing.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first unknown setting or bad value and its allowed range.
    pub fn apply(&self, changes: &Map<String, Value>) -> Result<Settings> {
        let mut next = self.clone();
        for (key, value) in changes {
            match key.as_str() {
                "default_timeout" => next.default_timeout = int_in(key, value, 1, 300)?,
                "heavy_timeout" => next.heavy_timeout = int_in(key, value, 1, 600)?,
                "migration_enabled" => next.migration_enabled = switch(key, value)?,
                "migration_timeout" => next.migration_timeout = int_in(key, value, 1, 3600)?,
                "delete_tables_on_deactivate" => {
                    next.delete_tables_on_deactivate = switch(key, value)?
                }
                "cron_mode" => {
                    next.cron_mode = match text(value).as_deref() {
                        Some("hook") => CronMode::Hook,
                        Some("standalone") => CronMode::Standalone,
                        _ => {
                            return Err(Error::validation(
                                key,
                                format!("must be 'hook' or 'standalone', got {}", shown(value)),
                            ))
                        }
                    }
                }
                "cron_lock_timeout" => next.cron_lock_timeout = int_in(key, value, 60, 86400)?,
                "cron_time_budget" => next.cron_time_budget = int_in(key, value, 10, 3600)?,
                "cron_max_steps" => next.cron_max_steps = int_in(key, value, 0, 100)?,
                "cron_node_concurrency" => next.cron_node_concurrency = int_in(key, value, 1, 64)?,
                "dns_endpoint_allow" => next.dns_endpoint_allow = networks(key, value)?,
                other => {
                    let task = other
                        .strip_prefix("interval_")
                        .and_then(Task::from_name)
                        .ok_or_else(|| {
                            Error::validation(
                                key,
                                "is not a setting of this module - remove it from the request",
                            )
                        })?;
                    next.task_intervals
                        .insert(task, int_in(key, value, 0, MAX_INTERVAL)?);
                }
            }
        }
        Ok(next)
    }

    /// Reads the settings; rows that are missing take their defaults.
    ///
    /// # Errors
    /// [`Error::Database`] when a stored value is no longer valid (edited by hand), naming it.
    pub async fn load(conn: &mut Conn) -> Result<Settings> {
        let rows: Vec<(String, String)> =
            all(conn, &format!("SELECT setting, value FROM `{TABLE}`"), ()).await?;
        let known = Settings::default().to_map();
        let stored: Map<String, Value> = rows
            .into_iter()
            .filter(|(k, _)| known.contains_key(k))
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        Settings::default().apply(&stored).map_err(|e| {
            Error::Database(format!(
                "a stored setting is invalid ({e}) - save it again on the Settings page"
            ))
        })
    }

    /// Validates `changes` against the stored settings and writes them in one transaction.
    /// Returns the settings now in force.
    pub async fn save(conn: &mut Conn, changes: &Map<String, Value>) -> Result<Settings> {
        let next = Settings::load(conn).await?.apply(changes)?;
        let values = next.to_map();
        let mut tx = conn.start_transaction(TxOpts::default()).await?;
        for key in changes.keys() {
            let stored = match &values[key] {
                Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            tx.exec_drop(
                format!("INSERT INTO `{TABLE}` (setting, value) VALUES (?, ?) ON DUPLICATE KEY UPDATE value = VALUES(value)"),
                (key, stored),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(next)
    }

    /// Whether `ip` may read the legacy `dns.php` endpoint.
    pub fn dns_endpoint_allows(&self, ip: std::net::IpAddr) -> bool {
        let ip = match ip {
            std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
            v4 => v4,
        };
        self.dns_endpoint_allow.iter().any(|net| net.contains(&ip))
    }

    /// The interval of `task` in minutes (0: disabled).
    pub fn interval(&self, task: Task) -> u32 {
        self.task_intervals
            .get(&task)
            .copied()
            .unwrap_or_else(|| task.default_interval())
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.into()),
        _ => None,
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

fn int_in(key: &str, value: &Value, min: u32, max: u32) -> Result<u32> {
    let parsed = match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match parsed {
        Some(n) if n >= i64::from(min) && n <= i64::from(max) => Ok(n as u32),
        Some(n) => Err(Error::validation(
            key,
            format!("must be between {min} and {max}, got {n}"),
        )),
        None => Err(Error::validation(
            key,
            format!(
                "must be a whole number between {min} and {max}, got {}",
                shown(value)
            ),
        )),
    }
}

/// An address as `192.0.2.1`, a network as `192.0.2.0/24`.
fn show_net(net: &ipnet::IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// A list of addresses and networks separated by commas, spaces or lines.
fn networks(key: &str, value: &Value) -> Result<Vec<ipnet::IpNet>> {
    let text = text(value).unwrap_or_default();
    let mut out = Vec::new();
    for item in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let net = match item.parse::<std::net::IpAddr>() {
            Ok(ip) => ipnet::IpNet::from(ip),
            Err(_) => item.parse::<ipnet::IpNet>().map(|n| n.trunc()).map_err(|_| {
                Error::validation(
                    key,
                    format!("'{item}' is not an IP address or network - list addresses such as 192.0.2.10 or 192.0.2.0/24, separated by commas"),
                )
            })?,
        };
        if !out.contains(&net) {
            out.push(net);
        }
    }
    Ok(out)
}

fn switch(key: &str, value: &Value) -> Result<bool> {
    match text(value).map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("1" | "on" | "yes" | "true") => Ok(true),
        Some("0" | "off" | "no" | "false" | "") => Ok(false),
        _ if value.is_null() => Ok(false),
        _ => Err(Error::validation(
            key,
            format!("must be on or off (1 or 0), got {}", shown(value)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn changes(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let s = Settings::default();
        assert_eq!((s.default_timeout, s.heavy_timeout), (10, 60));
        assert!(s.migration_enabled);
        assert_eq!(s.migration_timeout, 300);
        assert!(!s.delete_tables_on_deactivate);
        assert_eq!(s.cron_mode, CronMode::Hook);
        assert_eq!(s.cron_lock_timeout, 600);
        assert_eq!(s.interval(Task::ProcessVirtualMachines), 1);
        assert_eq!(s.interval(Task::RemoveOldSnapshots), 5);
        assert_eq!(s.interval(Task::CollectingStatistics), 60);
    }

    #[test]
    fn form_strings_are_accepted() {
        let s = Settings::default()
            .apply(&changes(json!({
                "default_timeout": "30", "migration_enabled": "", "delete_tables_on_deactivate": "on",
                "cron_mode": "standalone", "interval_scheduleBackup": "0"
            })))
            .unwrap();
        assert_eq!(s.default_timeout, 30);
        assert!(!s.migration_enabled);
        assert!(s.delete_tables_on_deactivate);
        assert_eq!(s.cron_mode, CronMode::Standalone);
        assert_eq!(s.interval(Task::ScheduleBackup), 0);
    }

    #[test]
    fn out_of_range_names_field_and_range() {
        let cases = [
            (
                json!({"default_timeout": 0}),
                "default_timeout",
                "between 1 and 300",
            ),
            (
                json!({"default_timeout": 301}),
                "default_timeout",
                "between 1 and 300",
            ),
            (
                json!({"heavy_timeout": "601"}),
                "heavy_timeout",
                "between 1 and 600",
            ),
            (
                json!({"heavy_timeout": "ten"}),
                "heavy_timeout",
                "whole number",
            ),
            (
                json!({"cron_lock_timeout": 5}),
                "cron_lock_timeout",
                "between 60 and 86400",
            ),
            (
                json!({"interval_processVirtualMachines": -1}),
                "interval_processVirtualMachines",
                "between 0 and 10080",
            ),
            (
                json!({"cron_mode": "systemd"}),
                "cron_mode",
                "'hook' or 'standalone'",
            ),
            (
                json!({"migration_enabled": "maybe"}),
                "migration_enabled",
                "on or off",
            ),
            (
                json!({"interval_process_vms": 1}),
                "interval_process_vms",
                "not a setting",
            ),
        ];
        for (input, field, needle) in cases {
            let err = Settings::default()
                .apply(&changes(input.clone()))
                .unwrap_err();
            assert_eq!(err.field(), Some(field), "{input}");
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn a_bad_value_changes_nothing() {
        let base = Settings::default();
        let err = base.apply(&changes(json!({"default_timeout": 20, "heavy_timeout": 0})));
        assert!(err.is_err());
        assert_eq!(base, Settings::default());
    }

    #[test]
    fn dns_endpoint_allow_list() {
        let s = Settings::default();
        assert!(
            !s.dns_endpoint_allows("127.0.0.1".parse().unwrap()),
            "empty allows nobody"
        );
        let s = s
            .apply(&changes(json!({"dns_endpoint_allow": "192.0.2.10, 198.51.100.0/24\n2001:db8::/32 192.0.2.10"})))
            .unwrap();
        assert_eq!(
            s.to_map()["dns_endpoint_allow"],
            "192.0.2.10, 198.51.100.0/24, 2001:db8::/32"
        );
        let cases = [
            ("192.0.2.10", true),
            ("192.0.2.11", false),
            ("198.51.100.77", true),
            ("::ffff:198.51.100.1", true),
            ("2001:db8::5", true),
            ("2001:db9::5", false),
        ];
        for (ip, allowed) in cases {
            assert_eq!(s.dns_endpoint_allows(ip.parse().unwrap()), allowed, "{ip}");
        }
        let err = Settings::default()
            .apply(&changes(
                json!({"dns_endpoint_allow": "192.0.2.1, example.com"}),
            ))
            .unwrap_err();
        assert_eq!(err.field(), Some("dns_endpoint_allow"));
        assert!(err.to_string().contains("example.com"));
    }

    #[test]
    fn map_round_trips() {
        let s = Settings::default()
            .apply(&changes(
                json!({"heavy_timeout": 120, "cron_mode": "standalone"}),
            ))
            .unwrap();
        assert_eq!(Settings::default().apply(&s.to_map()).unwrap(), s);
    }
}
