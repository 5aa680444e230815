//! The VM list's index: a copy of what the list searches and sorts by (client, product,
//! server, service status) and the search terms of each VM (names, VM name, every IP), so a
//! page of a 100,000-VM list is a few index lookups instead of a scan of WHMCS's tables.
//!
//! WHMCS changes its own tables without telling the module, so the copy is brought up to date
//! by comparing a hash of the source fields: on every cron run, after the module changes a
//! VM, and by the list itself when the last full pass is over five minutes old. A page always
//! shows the live values of its rows; only searching and sorting use the copy.

use std::net::IpAddr;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row, Value as SqlValue};

use crate::db::{first, Db};
use crate::error::{Error, Result};

const LIST: &str = "puq_proxmox_kvm_vm_list";
const TERMS: &str = "puq_proxmox_kvm_vm_terms";
const SETTINGS: &str = "puq_proxmox_kvm_settings";
/// How old the last full pass may be before the list runs one itself.
const MAX_AGE_SECONDS: i64 = 300;

const SOURCE: &str =
    "CONCAT_WS('|', h.userid, c.firstname, c.lastname, c.companyname, p.name, s.name, \
    h.domainstatus, h.dedicatedip, h.assignedips, v.vm_name)";

/// A search term as stored: lower case, an IP in its canonical form.
pub fn normalise_term(raw: &str) -> String {
    let trimmed = raw.trim();
    match trimmed.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => trimmed.to_lowercase(),
    }
    .chars()
    .take(128)
    .collect()
}

fn terms_of(first: &str, last: &str, company: &str, vm_name: &str, ips: &[&str]) -> Vec<String> {
    let mut terms: Vec<String> = [
        first.to_string(),
        last.to_string(),
        format!("{first} {last}"),
        company.to_string(),
        vm_name.to_string(),
    ]
    .iter()
    .chain(
        ips.iter()
            .map(|ip| ip.to_string())
            .collect::<Vec<_>>()
            .iter(),
    )
    .map(|t| normalise_term(t))
    .filter(|t| !t.is_empty())
    .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// Brings the index up to date (for one service, or all). Returns how many rows changed.
pub async fn sync(db: &Db, only: Option<i64>) -> Result<u64> {
    let mut conn = db.conn().await?;
    let (filter, params): (&str, Vec<SqlValue>) = match only {
        Some(id) => ("AND v.service_id = ?", vec![id.into()]),
        None => ("", Vec::new()),
    };
    let rows: Vec<Row> = conn
        .exec(
            format!(
                "SELECT v.service_id, h.userid, c.firstname, c.lastname, c.companyname, p.name, s.name, h.domainstatus, \
                 h.dedicatedip, h.assignedips, v.vm_name, MD5({SOURCE}) \
                 FROM `puqProxmoxKVM_vm_info` v LEFT JOIN tblhosting h ON h.id = v.service_id \
                 LEFT JOIN tblclients c ON c.id = h.userid LEFT JOIN tblproducts p ON p.id = h.packageid \
                 LEFT JOIN tblservers s ON s.id = h.server LEFT JOIN `{LIST}` l ON l.service_id = v.service_id \
                 WHERE (l.service_id IS NULL OR l.source_hash <> MD5({SOURCE})) {filter}"
            ),
            params,
        )
        .await?;
    let changed = rows.len() as u64;
    for chunk in rows.chunks(500) {
        write_chunk(&mut conn, chunk).await?;
    }
    // Rows whose VM record is gone.
    let gone = match only {
        Some(id) => format!("WHERE l.service_id = {id} AND v.service_id IS NULL"),
        None => "WHERE v.service_id IS NULL".into(),
    };
    conn.query_drop(format!(
        "DELETE l, t FROM `{LIST}` l LEFT JOIN `{TERMS}` t ON t.service_id = l.service_id \
         LEFT JOIN `puqProxmoxKVM_vm_info` v ON v.service_id = l.service_id {gone}"
    ))
    .await?;
    if only.is_none() {
        conn.query_drop(format!(
            "INSERT INTO `{SETTINGS}` (setting, value) VALUES ('vm_list_synced_at', UNIX_TIMESTAMP()) \
             ON DUPLICATE KEY UPDATE value = VALUES(value)"
        ))
        .await?;
    }
    Ok(changed)
}

fn text(row: &Row, i: usize) -> String {
    match row.as_ref(i) {
        Some(SqlValue::Bytes(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(SqlValue::Int(n)) => n.to_string(),
        Some(SqlValue::UInt(n)) => n.to_string(),
        _ => String::new(),
    }
}

async fn write_chunk(conn: &mut Conn, rows: &[Row]) -> Result<()> {
    let mut list_values = Vec::new();
    let mut list_params: Vec<SqlValue> = Vec::new();
    let mut term_params: Vec<SqlValue> = Vec::new();
    let mut ids = Vec::new();
    for row in rows {
        let service_id: i64 = text(row, 0)
            .parse()
            .map_err(|_| Error::Database("a VM record has no service id".into()))?;
        ids.push(service_id.to_string());
        let (first_name, last_name, company) = (text(row, 2), text(row, 3), text(row, 4));
        let client_name: String = format!("{last_name} {first_name}")
            .trim()
            .chars()
            .take(191)
            .collect();
        list_values.push("(?, ?, ?, ?, ?, ?, ?)");
        list_params.extend([
            service_id.into(),
            text(row, 1).parse::<i64>().ok().into(),
            client_name.into(),
            text(row, 5).chars().take(191).collect::<String>().into(),
            text(row, 6).chars().take(191).collect::<String>().into(),
            text(row, 7).into(),
            text(row, 11).into(),
        ]);
        let (dedicated, assigned) = (text(row, 8), text(row, 9));
        let ips: Vec<&str> = std::iter::once(dedicated.as_str())
            .chain(assigned.lines())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        for term in terms_of(&first_name, &last_name, &company, &text(row, 10), &ips) {
            term_params.push(term.into());
            term_params.push(service_id.into());
        }
    }
    conn.exec_drop(
        format!(
            "INSERT INTO `{LIST}` (service_id, client_id, client_name, product, server, service_status, source_hash) VALUES {} \
             ON DUPLICATE KEY UPDATE client_id = VALUES(client_id), client_name = VALUES(client_name), product = VALUES(product), \
             server = VALUES(server), service_status = VALUES(service_status), source_hash = VALUES(source_hash)",
            list_values.join(",")
        ),
        list_params,
    )
    .await?;
    conn.query_drop(format!(
        "DELETE FROM `{TERMS}` WHERE service_id IN ({})",
        ids.join(",")
    ))
    .await?;
    for terms in term_params.chunks(2 * 2000) {
        let placeholders = vec!["(?, ?)"; terms.len() / 2].join(",");
        conn.exec_drop(
            format!("INSERT IGNORE INTO `{TERMS}` (term, service_id) VALUES {placeholders}"),
            terms.to_vec(),
        )
        .await?;
    }
    Ok(())
}

/// Runs a full pass when the last one is older than five minutes (or never ran).
pub async fn ensure_fresh(db: &Db) -> Result<()> {
    let mut conn = db.conn().await?;
    let age: Option<Option<i64>> = first(
        &mut conn,
        &format!("SELECT UNIX_TIMESTAMP() - CAST(value AS SIGNED) FROM `{SETTINGS}` WHERE setting = 'vm_list_synced_at'"),
        (),
    )
    .await?;
    drop(conn);
    match age.flatten() {
        Some(age) if age < MAX_AGE_SECONDS => Ok(()),
        _ => sync(db, None).await.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_lower_case_and_ips_canonical() {
        let terms = terms_of(
            "Ruslan",
            "Poloviy",
            "",
            "5546-1776530154",
            &["192.168.130.6", "2001:0db8:0000:0000:0000:0000:0000:0007"],
        );
        assert_eq!(
            terms,
            [
                "192.168.130.6",
                "2001:db8::7",
                "5546-1776530154",
                "poloviy",
                "ruslan",
                "ruslan poloviy"
            ]
        );
        assert_eq!(normalise_term(" 2001:DB8::7 "), "2001:db8::7");
        assert_eq!(normalise_term("10.1.2"), "10.1.2");
    }
}
