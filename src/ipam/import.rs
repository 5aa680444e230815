//! The one-time import of the PUQ Customization addon's pools (module versions 1.3-2.x kept
//! them in `puq_customization_ip_pools`, with an allocation table and a per-server assignment
//! table). Columns are matched by name, so the usual spellings of each field are accepted.
//!
//! A legacy pool assigned to several servers becomes one pool per server (pools belong to one
//! server here); its allocations go to the pool of the server their service runs on. The
//! import runs in one transaction and records itself in the settings table, so a second
//! activation imports nothing.

use std::collections::HashMap;
use std::net::IpAddr;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use super::alloc::{insert as insert_allocation, Source};
use super::pool::PoolSpec;
use super::pools::{check_overlap, check_server, insert};
use super::transaction;
use crate::db::{first, table_columns, table_exists};
use crate::error::Result;

/// The legacy pools table.
pub const POOLS_TABLE: &str = "puq_customization_ip_pools";
const SERVER_TABLES: &[&str] = &[
    "puq_customization_ip_pools_servers",
    "puq_customization_ip_pool_servers",
    "puq_customization_ip_pools_to_servers",
];
const ALLOCATION_TABLES: &[&str] = &[
    "puq_customization_ip_pools_allocations",
    "puq_customization_ip_pool_allocations",
    "puq_customization_ip_allocations",
    "puq_customization_ip_pools_ips",
];
/// The settings row that says the import ran (its value: the report as JSON).
const MARKER: &str = "legacy_ip_import";

/// What the import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Pools created (one per legacy pool and server).
    pub pools: u32,
    /// Legacy per-server assignments read.
    pub assignments: u32,
    /// Allocations imported.
    pub allocations: u32,
    /// What was left out, and why.
    pub skipped: Vec<String>,
}

impl ImportReport {
    /// One sentence for the activation notice.
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "Imported from PUQ Customization: {} IP pool(s), {} server assignment(s), {} allocation(s).",
            self.pools, self.assignments, self.allocations
        );
        if !self.skipped.is_empty() {
            s.push_str(&format!(
                " Skipped {}: {}.",
                self.skipped.len(),
                self.skipped.join("; ")
            ));
        }
        s
    }
}

/// A legacy table's rows as column name (lower case) => text.
async fn rows(conn: &mut Conn, table: &str) -> Result<Vec<HashMap<String, String>>> {
    let columns = table_columns(conn, table).await?;
    // The text protocol gives every value as text, whatever the column type.
    let rows: Vec<Row> = conn.query(format!("SELECT * FROM `{table}`")).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            columns
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let v: Option<Option<String>> = row.get_opt(i).and_then(|r| r.ok());
                    v.flatten()
                        .map(|v| (c.to_ascii_lowercase(), v.trim().to_string()))
                })
                .collect()
        })
        .collect())
}

/// The first of `names` the row has (non-empty).
fn pick<'a>(row: &'a HashMap<String, String>, names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| row.get(*n).map(String::as_str).filter(|v| !v.is_empty()))
}

async fn first_table(conn: &mut Conn, names: &[&str]) -> Result<Option<String>> {
    for n in names {
        if table_exists(conn, n).await? {
            return Ok(Some((*n).to_string()));
        }
    }
    Ok(None)
}

/// A dotted IPv4 mask (`255.255.255.0`) as its prefix length; other text as it is.
fn prefix_text(mask: &str) -> String {
    match mask.parse::<std::net::Ipv4Addr>() {
        Ok(m) if u32::from(m).leading_ones() == u32::from(m).count_ones() => {
            u32::from(m).count_ones().to_string()
        }
        _ => mask.trim_start_matches('/').to_string(),
    }
}

fn legacy_fields(row: &HashMap<String, String>, server_id: i64) -> Map<String, Value> {
    let get = |names: &[&str]| Value::String(pick(row, names).unwrap_or_default().to_string());
    let start = pick(
        row,
        &[
            "address_start",
            "first_ip",
            "start_ip",
            "ip_start",
            "start",
            "range_start",
            "from_ip",
        ],
    )
    .unwrap_or_default();
    let ty = pick(row, &["type", "ip_type", "family", "version"])
        .map(str::to_string)
        .unwrap_or_else(|| {
            if start.contains(':') {
                "IPv6".into()
            } else {
                "IPv4".into()
            }
        });
    let mut f = Map::new();
    f.insert("server_id".into(), Value::String(server_id.to_string()));
    f.insert("type".into(), Value::String(ty));
    f.insert("bridge".into(), get(&["bridge", "net_bridge"]));
    f.insert(
        "vlan".into(),
        get(&["vlan", "vlan_tag", "vlanid", "vlan_id", "tag"]),
    );
    f.insert("gateway".into(), get(&["gateway", "gw"]));
    f.insert(
        "mask".into(),
        Value::String(prefix_text(
            pick(row, &["mask", "prefix", "netmask", "cidr", "net_mask"]).unwrap_or_default(),
        )),
    );
    f.insert(
        "dns1".into(),
        get(&["dns1", "dns_1", "dns_primary", "nameserver1"]),
    );
    f.insert(
        "dns2".into(),
        get(&["dns2", "dns_2", "dns_secondary", "nameserver2"]),
    );
    f.insert("address_start".into(), Value::String(start.to_string()));
    f.insert(
        "address_stop".into(),
        get(&[
            "address_stop",
            "last_ip",
            "end_ip",
            "stop_ip",
            "ip_end",
            "ip_stop",
            "end",
            "stop",
            "range_end",
            "to_ip",
        ]),
    );
    f
}

fn int(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| t.parse::<i64>().ok()).filter(|n| *n > 0)
}

/// Imports the legacy pools once. `None` when there is nothing to import (no legacy table) or
/// the import already ran.
///
/// # Errors
/// [`Error::Database`] when reading or writing fails; nothing is imported then.
pub async fn import_legacy(conn: &mut Conn) -> Result<Option<ImportReport>> {
    if !table_exists(conn, POOLS_TABLE).await? {
        return Ok(None);
    }
    let done: Option<String> = first(
        conn,
        "SELECT value FROM puq_proxmox_kvm_settings WHERE setting = ?",
        (MARKER,),
    )
    .await?;
    if done.is_some() {
        return Ok(None);
    }
    transaction(conn, async |conn| {
        // The marker row first: a concurrent activation waits on it, then finds it and stops.
        conn.exec_drop(
            "INSERT IGNORE INTO puq_proxmox_kvm_settings (setting, value) VALUES (?, 'running')",
            (MARKER,),
        )
        .await?;
        if conn.affected_rows() == 0 {
            return Ok(None);
        }
        let report = run(conn).await?;
        let json = serde_json::to_string(&report).unwrap_or_default();
        conn.exec_drop(
            "UPDATE puq_proxmox_kvm_settings SET value = ? WHERE setting = ?",
            (json, MARKER),
        )
        .await?;
        Ok(Some(report))
    })
    .await
}

async fn run(conn: &mut Conn) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let pools = rows(conn, POOLS_TABLE).await?;
    let assignments = match first_table(conn, SERVER_TABLES).await? {
        Some(t) => rows(conn, &t).await?,
        None => Vec::new(),
    };
    report.assignments = assignments.len() as u32;
    // legacy pool id => [(server id, our pool id, spec)]
    let mut imported: HashMap<i64, Vec<(i64, u32, PoolSpec)>> = HashMap::new();
    for pool in &pools {
        let Some(legacy_id) = int(pick(pool, &["id", "pool_id"])) else {
            report.skipped.push("a legacy pool without an id".into());
            continue;
        };
        let mut servers: Vec<i64> = assignments
            .iter()
            .filter(|a| {
                int(pick(a, &["pool_id", "ip_pool_id", "pool", "poolid"])) == Some(legacy_id)
            })
            .filter_map(|a| int(pick(a, &["server_id", "serverid", "server"])))
            .collect();
        if let Some(s) = int(pick(pool, &["server_id", "serverid", "server"])) {
            servers.push(s);
        }
        servers.sort_unstable();
        servers.dedup();
        if servers.is_empty() {
            report
                .skipped
                .push(format!("legacy pool {legacy_id}: assigned to no server"));
        }
        for server in servers {
            let spec = match PoolSpec::from_fields(&legacy_fields(pool, server)) {
                Ok(s) => s,
                Err(e) => {
                    report
                        .skipped
                        .push(format!("legacy pool {legacy_id} on server {server}: {e}"));
                    continue;
                }
            };
            let checked = async {
                check_server(conn, spec.server_id).await?;
                check_overlap(conn, &spec, None).await
            }
            .await;
            if let Err(e) = checked {
                report
                    .skipped
                    .push(format!("legacy pool {legacy_id} on server {server}: {e}"));
                continue;
            }
            let id = insert(conn, &spec, Some(legacy_id)).await?;
            report.pools += 1;
            imported
                .entry(legacy_id)
                .or_default()
                .push((server, id, spec));
        }
    }
    let Some(table) = first_table(conn, ALLOCATION_TABLES).await? else {
        return Ok(report);
    };
    for row in rows(conn, &table).await? {
        let ip_text = pick(
            &row,
            &["ip", "address", "ip_address", "ipaddress", "ip_addr"],
        )
        .unwrap_or_default()
        .to_string();
        let service = int(pick(
            &row,
            &[
                "service_id",
                "serviceid",
                "hosting_id",
                "hostingid",
                "relid",
            ],
        ));
        let legacy_pool = int(pick(&row, &["pool_id", "ip_pool_id", "pool", "poolid"]));
        let (Ok(ip), Some(service)) = (ip_text.parse::<IpAddr>(), service) else {
            report.skipped.push(format!(
                "allocation '{ip_text}': no valid address or service id"
            ));
            continue;
        };
        let status: Option<(i64, String)> = first(
            conn,
            "SELECT server, domainstatus FROM tblhosting WHERE id = ?",
            (service,),
        )
        .await?;
        let Some((service_server, status)) = status else {
            report
                .skipped
                .push(format!("allocation {ip}: service {service} does not exist"));
            continue;
        };
        if status == "Terminated" {
            report.skipped.push(format!(
                "allocation {ip}: service {service} is Terminated (the address is free)"
            ));
            continue;
        }
        let server =
            int(pick(&row, &["server_id", "serverid", "server"])).unwrap_or(service_server);
        let candidates = legacy_pool
            .and_then(|p| imported.get(&p))
            .cloned()
            .unwrap_or_default();
        let target = candidates
            .iter()
            .find(|(s, _, spec)| *s == server && spec.range.contains(ip))
            .or_else(|| {
                candidates
                    .iter()
                    .find(|(s, _, spec)| *s == service_server && spec.range.contains(ip))
            });
        let Some((_, pool_id, spec)) = target else {
            report.skipped.push(format!("allocation {ip} of service {service}: no imported pool of server {server} holds it"));
            continue;
        };
        let service = u32::try_from(service).unwrap_or(0);
        match insert_allocation(
            conn,
            (service, spec.server_id),
            ip,
            &Source::pool(*pool_id, spec),
        )
        .await?
        {
            Some(_) => report.allocations += 1,
            None => report.skipped.push(format!(
                "allocation {ip} of service {service}: the address is already held"
            )),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_masks_become_prefixes() {
        assert_eq!(prefix_text("255.255.255.0"), "24");
        assert_eq!(prefix_text("255.255.254.0"), "23");
        assert_eq!(prefix_text("/64"), "64");
        assert_eq!(prefix_text("255.0.255.0"), "255.0.255.0");
    }
}
