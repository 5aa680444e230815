//! Pool management: create, update, delete, get, list.

use std::net::IpAddr;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde::Serialize;
use serde_json::{Map, Value};

use super::pool::PoolSpec;
use super::{num_param, transaction};
use crate::addon::SERVER_MODULE;
use crate::db::{all, first, Db};
use crate::error::{Error, Result};

/// A pool as the pages and `list()` show it.
#[derive(Debug, Clone, Serialize)]
pub struct PoolView {
    pub id: u32,
    pub server_id: u32,
    pub server_name: String,
    #[serde(rename = "type")]
    pub family: String,
    pub bridge: String,
    pub vlan: u16,
    pub gateway: String,
    pub mask: u8,
    pub dns1: String,
    pub dns2: String,
    pub address_start: String,
    pub address_stop: String,
    /// Addresses in the range: a number, or a decimal string when above 2^63 (IPv6 pools).
    pub total: Value,
    pub used: u64,
    /// `total - used`, in the same form as `total`.
    pub free: Value,
    /// `used / total` in percent, for the usage bar.
    pub usage_percent: f64,
    /// The reverse zone of the pool's network, ready to copy into the DNS Zones form.
    pub rdns_zone: String,
}

type PoolRow = (
    u32,
    u32,
    String,
    String,
    u16,
    String,
    u8,
    String,
    String,
    String,
    String,
);

const POOL_COLUMNS: &str = "p.id, p.server_id, p.type, p.bridge, p.vlan, p.gateway, p.mask, p.dns1, p.dns2, p.address_start, p.address_stop";

/// A stored pool: its id and validated definition.
#[derive(Debug, Clone)]
pub struct StoredPool {
    pub id: u32,
    pub spec: PoolSpec,
}

/// Re-validates a row (it may have been edited by hand).
fn spec_of(row: &PoolRow) -> Result<PoolSpec> {
    let (id, server, ty, bridge, vlan, gw, mask, dns1, dns2, start, stop) = row;
    let mut f = Map::new();
    f.insert("server_id".into(), server.to_string().into());
    f.insert("type".into(), ty.clone().into());
    f.insert("bridge".into(), bridge.clone().into());
    f.insert("vlan".into(), vlan.to_string().into());
    f.insert("gateway".into(), gw.clone().into());
    f.insert("mask".into(), mask.to_string().into());
    f.insert("dns1".into(), dns1.clone().into());
    f.insert("dns2".into(), dns2.clone().into());
    f.insert("address_start".into(), start.clone().into());
    f.insert("address_stop".into(), stop.clone().into());
    PoolSpec::from_fields(&f).map_err(|e| {
        Error::Database(format!(
            "IP pool {id} holds an invalid value ({e}) - edit the pool and save it again"
        ))
    })
}

fn fields_of(spec: &PoolSpec) -> Map<String, Value> {
    let mut f = Map::new();
    f.insert("server_id".into(), spec.server_id.to_string().into());
    f.insert("type".into(), spec.family.as_str().into());
    f.insert("bridge".into(), spec.bridge.as_str().into());
    f.insert("vlan".into(), spec.vlan.to_string().into());
    f.insert("gateway".into(), spec.gateway.to_string().into());
    f.insert("mask".into(), spec.prefix.to_string().into());
    f.insert(
        "dns1".into(),
        spec.dns1.map(|d| d.to_string()).unwrap_or_default().into(),
    );
    f.insert(
        "dns2".into(),
        spec.dns2.map(|d| d.to_string()).unwrap_or_default().into(),
    );
    f.insert(
        "address_start".into(),
        spec.range.start().to_string().into(),
    );
    f.insert("address_stop".into(), spec.range.stop().to_string().into());
    f
}

/// Pools of `server_id`, oldest first (the order allocation tries them in), share-locked until
/// the transaction ends: allocators run side by side, while an edit or a delete of one of these
/// pools waits for them (and they for it), so no address is claimed from a pool being deleted
/// or shrunk.
pub async fn pools_of_server(conn: &mut Conn, server_id: u32) -> Result<Vec<StoredPool>> {
    let rows: Vec<PoolRow> = all(
        conn,
        &format!(
            "SELECT {POOL_COLUMNS} FROM puq_proxmox_kvm_ip_pools p WHERE p.server_id = ? ORDER BY p.id LOCK IN SHARE MODE"
        ),
        (server_id,),
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredPool {
                id: r.0,
                spec: spec_of(r)?,
            })
        })
        .collect()
}

/// Checks the server exists and is a server of this module; returns its name.
pub(super) async fn check_server(conn: &mut Conn, server_id: u32) -> Result<String> {
    let row: Option<(String, String)> = first(
        conn,
        "SELECT name, type FROM tblservers WHERE id = ? FOR UPDATE",
        (server_id,),
    )
    .await?;
    match row {
        None => Err(Error::validation("server_id", format!("server {server_id} does not exist - pick a server from Setup > Servers"))),
        Some((name, ty)) if ty != SERVER_MODULE => Err(Error::validation(
            "server_id",
            format!("server {server_id} ('{name}') uses the module '{ty}', not {SERVER_MODULE} - pick a Proxmox KVM server"),
        )),
        Some((name, _)) => Ok(name),
    }
}

/// Refuses a range that overlaps another pool of the same server, naming that pool.
pub(super) async fn check_overlap(
    conn: &mut Conn,
    spec: &PoolSpec,
    except: Option<u32>,
) -> Result<()> {
    let (start, stop) = spec.range.numbers();
    let clash: Option<(u32, String, String)> = first(
        conn,
        "SELECT id, address_start, address_stop FROM puq_proxmox_kvm_ip_pools \
         WHERE server_id = ? AND type = ? AND id <> ? \
         AND start_num <= CAST(? AS DECIMAL(39,0)) AND stop_num >= CAST(? AS DECIMAL(39,0)) ORDER BY id LIMIT 1",
        (spec.server_id, spec.family.as_str(), except.unwrap_or(0), num_param(stop), num_param(start)),
    )
    .await?;
    match clash {
        Some((id, a, b)) => Err(Error::validation(
            "address_start",
            format!("the range overlaps IP pool {id} ({a} - {b}) on the same server - choose addresses outside it or edit pool {id}"),
        )),
        None => Ok(()),
    }
}

/// Creates a pool; returns its id.
///
/// # Errors
/// [`Error::Validation`] naming the field (including the server and overlaps).
pub async fn create(db: &Db, fields: &Map<String, Value>) -> Result<u32> {
    let spec = PoolSpec::from_fields(fields)?;
    let mut conn = db.conn().await?;
    transaction(&mut conn, async |conn| {
        check_server(conn, spec.server_id).await?;
        check_overlap(conn, &spec, None).await?;
        insert(conn, &spec, None).await
    })
    .await
}

/// Inserts a validated pool (the caller checked server and overlap).
pub(super) async fn insert(
    conn: &mut Conn,
    spec: &PoolSpec,
    legacy_pool_id: Option<i64>,
) -> Result<u32> {
    conn.exec_drop(
        "INSERT INTO puq_proxmox_kvm_ip_pools (server_id, type, bridge, vlan, gateway, mask, dns1, dns2, \
         address_start, address_stop, start_num, stop_num, legacy_pool_id) VALUES (?,?,?,?,?,?,?,?,?,?,CAST(? AS DECIMAL(39,0)),CAST(? AS DECIMAL(39,0)),?)",
        pool_params(spec, legacy_pool_id.into()),
    )
    .await?;
    u32::try_from(conn.last_insert_id().unwrap_or(0))
        .map_err(|_| Error::Database("pool id out of range".into()))
}

/// The pool's columns in table order, then `last` (the legacy id on insert, the id on update).
fn pool_params(spec: &PoolSpec, last: mysql_async::Value) -> mysql_async::Params {
    let (start, stop) = spec.range.numbers();
    mysql_async::Params::Positional(vec![
        spec.server_id.into(),
        spec.family.as_str().into(),
        spec.bridge.as_str().into(),
        spec.vlan.into(),
        spec.gateway.to_string().into(),
        spec.prefix.into(),
        spec.dns1.map(|d| d.to_string()).unwrap_or_default().into(),
        spec.dns2.map(|d| d.to_string()).unwrap_or_default().into(),
        spec.range.start().to_string().into(),
        spec.range.stop().to_string().into(),
        num_param(start).into(),
        num_param(stop).into(),
        last,
    ])
}

async fn stored(conn: &mut Conn, id: u32, lock: bool) -> Result<StoredPool> {
    let row: Option<PoolRow> = first(
        conn,
        &format!(
            "SELECT {POOL_COLUMNS} FROM puq_proxmox_kvm_ip_pools p WHERE p.id = ?{}",
            if lock { " FOR UPDATE" } else { "" }
        ),
        (id,),
    )
    .await?;
    let row = row.ok_or_else(|| {
        Error::NotFound(format!(
            "IP pool {id} does not exist - reload the IP Pools page"
        ))
    })?;
    Ok(StoredPool {
        id,
        spec: spec_of(&row)?,
    })
}

/// Changes the fields given (the others keep their value). Addresses already handed out keep
/// what they were given; the range may not shrink past them and the server and type may not
/// change while the pool has any.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Validation`] naming the field.
pub async fn update(db: &Db, id: u32, changes: &Map<String, Value>) -> Result<()> {
    let mut conn = db.conn().await?;
    transaction(&mut conn, async |conn| {
        let current = stored(conn, id, true).await?;
        let mut fields = fields_of(&current.spec);
        for (k, v) in changes {
            fields.insert(k.clone(), v.clone());
        }
        let spec = PoolSpec::from_fields(&fields)?;
        check_server(conn, spec.server_id).await?;
        check_overlap(conn, &spec, Some(id)).await?;
        let (start, stop) = spec.range.numbers();
        let outside: Option<(u64, Option<String>)> = first(
            conn,
            "SELECT COUNT(*), MIN(ip) FROM puq_proxmox_kvm_ip_allocations WHERE pool_id = ? \
             AND (address < CAST(? AS DECIMAL(39,0)) OR address > CAST(? AS DECIMAL(39,0)) OR server_id <> ? OR family <> ?)",
            (id, num_param(start), num_param(stop), spec.server_id, spec.family.code()),
        )
        .await?;
        if let Some((n, Some(ip))) = outside.filter(|(n, _)| *n > 0) {
            let field = if spec.server_id != current.spec.server_id { "server_id" } else if spec.family != current.spec.family { "type" } else { "address_start" };
            return Err(Error::validation(
                field,
                format!("{n} address(es) handed out from this pool (such as {ip}) would fall outside it - release them first or keep them inside the range"),
            ));
        }
        conn.exec_drop(
            "UPDATE puq_proxmox_kvm_ip_pools SET server_id=?, type=?, bridge=?, vlan=?, gateway=?, mask=?, dns1=?, dns2=?, \
             address_start=?, address_stop=?, start_num=CAST(? AS DECIMAL(39,0)), stop_num=CAST(? AS DECIMAL(39,0)) WHERE id=?",
            pool_params(&spec, id.into()),
        )
        .await?;
        Ok(())
    })
    .await
}

/// Deletes a pool that hands out no address.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Conflict`] naming how many addresses and which services hold them.
pub async fn delete(db: &Db, id: u32) -> Result<()> {
    let mut conn = db.conn().await?;
    transaction(&mut conn, async |conn| {
        stored(conn, id, true).await?;
        let held: Vec<(i64, u64)> = all(
            conn,
            "SELECT service_id, COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE pool_id = ? GROUP BY service_id ORDER BY service_id LOCK IN SHARE MODE",
            (id,),
        )
        .await?;
        if !held.is_empty() {
            let total: u64 = held.iter().map(|(_, n)| n).sum();
            let mut services: Vec<String> = held.iter().take(10).map(|(s, _)| format!("#{s}")).collect();
            if held.len() > 10 {
                services.push(format!("and {} more", held.len() - 10));
            }
            return Err(Error::Conflict(format!(
                "IP pool {id} still has {total} address(es) assigned to service(s) {} - terminate those services or release their addresses first",
                services.join(", ")
            )));
        }
        conn.exec_drop("DELETE FROM puq_proxmox_kvm_ip_pools WHERE id = ?", (id,)).await?;
        Ok(())
    })
    .await
}

fn count_value(n: u128) -> Value {
    match u64::try_from(n).ok().filter(|n| *n <= i64::MAX as u64) {
        Some(n) => Value::from(n),
        None => Value::String(n.to_string()),
    }
}

async fn view(conn: &mut Conn, rows: Vec<(PoolRow, Option<String>)>) -> Result<Vec<PoolView>> {
    let used: Vec<(u32, u64)> = all(
        conn,
        "SELECT pool_id, COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE pool_id IS NOT NULL GROUP BY pool_id",
        (),
    )
    .await?;
    rows.into_iter()
        .map(|(row, server_name)| {
            let spec = spec_of(&row)?;
            let used = used
                .iter()
                .find(|(id, _)| *id == row.0)
                .map_or(0, |(_, n)| *n);
            let total = spec.range.size();
            let free = total.saturating_sub(u128::from(used));
            let dns = |d: Option<IpAddr>| d.map(|d| d.to_string()).unwrap_or_default();
            Ok(PoolView {
                id: row.0,
                server_id: spec.server_id,
                server_name: server_name
                    .unwrap_or_else(|| format!("server {} (missing)", spec.server_id)),
                family: spec.family.as_str().into(),
                bridge: spec.bridge.as_str().into(),
                vlan: spec.vlan,
                gateway: spec.gateway.to_string(),
                mask: spec.prefix,
                dns1: dns(spec.dns1),
                dns2: dns(spec.dns2),
                address_start: spec.range.start().to_string(),
                address_stop: spec.range.stop().to_string(),
                total: count_value(total),
                used,
                free: count_value(free),
                usage_percent: (used as f64 / total as f64 * 100.0 * 100.0).round() / 100.0,
                rdns_zone: spec.rdns_zone(),
            })
        })
        .collect()
}

/// One pool with its usage.
///
/// # Errors
/// [`Error::NotFound`].
pub async fn get(db: &Db, id: u32) -> Result<PoolView> {
    let mut conn = db.conn().await?;
    let rows: Vec<(PoolRow, Option<String>)> = fetch(&mut conn, Some(id)).await?;
    view(&mut conn, rows).await?.pop().ok_or_else(|| {
        Error::NotFound(format!(
            "IP pool {id} does not exist - reload the IP Pools page"
        ))
    })
}

/// Every pool, by server then id, with usage and reverse zone.
pub async fn list(db: &Db) -> Result<Vec<PoolView>> {
    let mut conn = db.conn().await?;
    let rows = fetch(&mut conn, None).await?;
    view(&mut conn, rows).await
}

async fn fetch(conn: &mut Conn, id: Option<u32>) -> Result<Vec<(PoolRow, Option<String>)>> {
    let rows: Vec<PoolRow> = all(
        conn,
        &format!("SELECT {POOL_COLUMNS} FROM puq_proxmox_kvm_ip_pools p WHERE (? IS NULL OR p.id = ?) ORDER BY p.server_id, p.id"),
        (id, id),
    )
    .await?;
    let names: Vec<(u32, String)> = all(conn, "SELECT id, name FROM tblservers", ()).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = names
                .iter()
                .find(|(id, _)| *id == r.1)
                .map(|(_, n)| n.clone());
            (r, name)
        })
        .collect())
}

/// A server a pool can belong to.
#[derive(Debug, Clone, Serialize)]
pub struct ServerChoice {
    pub id: u32,
    pub name: String,
    pub hostname: String,
}

/// The servers of this module, by name: the choices of the pool form's Server field.
pub async fn servers(db: &Db) -> Result<Vec<ServerChoice>> {
    let mut conn = db.conn().await?;
    let rows: Vec<(u32, String, String)> = all(
        &mut conn,
        "SELECT id, name, hostname FROM tblservers WHERE type = ? ORDER BY name, id",
        (SERVER_MODULE,),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, hostname)| ServerChoice { id, name, hostname })
        .collect())
}
