//! Handing addresses to services, and taking them back.
//!
//! Sources, in order (design.md §5): the pools of the service's server (matching the product's
//! bridge and VLAN unless it has "Auto bridge/VLAN"), then the legacy list on the server entry.
//! A claim is one INSERT into the allocation table; its UNIQUE key on the address refuses a
//! second holder across processes and hosts, and a refused claim tries the next candidate.
//!
//! # Cost
//! Candidates come from what is in use, never from walking the range: the next address above
//! the highest one in use in the pool (an index lookup), and only when the top of the range is
//! taken, the lowest gap (an index scan over the addresses in use). After a refused claim (and
//! for two seconds after one in that pool, in this process) the candidate is offset by a random
//! amount, so concurrent allocators spread out instead of queueing on one address; the holes
//! this leaves are filled by the gap search once the top of the range is used. A /48 IPv6 pool
//! costs what a /24 costs.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use serde::Serialize;

use super::legacy::{self, LegacyLine};
use super::pool::{Bridge, PoolSpec};
use super::pools::{pools_of_server, StoredPool};
use super::service::{self, Needs};
use super::{dec, is_duplicate, num_param, transaction};
use crate::db::{all, first, Db};
use crate::error::{Error, Result};
use crate::net::{self, Family};

/// Claims refused in a row before a source is treated as exhausted for this call.
const MAX_REFUSED: u32 = 200;
/// Whole-transaction retries after a deadlock or lock wait timeout.
const MAX_TRANSACTION_RETRIES: u32 = 20;

/// An address a service holds, with what the network setup needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assigned {
    pub family: Family,
    pub address: String,
    pub bridge: String,
    pub vlan: u16,
    pub gateway: String,
    pub prefix: u8,
    pub dns: Vec<String>,
    /// The pool it came from; `None` for the legacy list.
    pub pool_id: Option<u32>,
    /// `pool` or `list` (the server's Assigned IP Addresses).
    pub source: String,
}

type AllocRow = (
    u64,
    String,
    u8,
    Option<u32>,
    String,
    String,
    u16,
    String,
    u8,
    String,
);

const ALLOC_COLUMNS: &str = "id, ip, family, pool_id, source, bridge, vlan, gateway, prefix, dns";

fn assigned(row: &AllocRow) -> Assigned {
    let (_, ip, family, pool_id, source, bridge, vlan, gateway, prefix, dns) = row.clone();
    Assigned {
        family: Family::from_code(family),
        address: ip,
        bridge,
        vlan,
        gateway,
        prefix,
        dns: dns
            .split(',')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        pool_id,
        source,
    }
}

/// The addresses `service_id` holds: IPv4 first, each family in the order handed out.
pub async fn addresses(db: &Db, service_id: u32) -> Result<Vec<Assigned>> {
    let mut conn = db.conn().await?;
    Ok(held(&mut conn, service_id)
        .await?
        .iter()
        .map(assigned)
        .collect())
}

async fn held(conn: &mut Conn, service_id: u32) -> Result<Vec<AllocRow>> {
    all(
        conn,
        &format!("SELECT {ALLOC_COLUMNS} FROM puq_proxmox_kvm_ip_allocations WHERE service_id = ? ORDER BY family, id"),
        (service_id,),
    )
    .await
}

/// Gives `service_id` the addresses its product (and configurable options) ask for, and
/// records them in `tblhosting` (`dedicatedip`: the first IPv4; `assignedips`: the rest, one
/// per line).
///
/// Idempotent: addresses the service already holds count toward its needs, so a second call
/// returns the same addresses and claims nothing. All or nothing: when the sources cannot
/// supply the full count, nothing is claimed.
///
/// # Errors
/// [`Error::NotFound`] for an unknown service; [`Error::Conflict`] naming the server, the
/// family, how many were needed and how many are free; [`Error::Validation`] for an unusable
/// product value or legacy list line.
pub async fn allocate(db: &Db, service_id: u32) -> Result<Vec<Assigned>> {
    with_retries(db, service_id, false).await
}

/// Brings `service_id` to exactly what its package asks for now (change package): addresses
/// it keeps are kept (the oldest first), extras are released, missing ones are claimed.
/// Without "Auto bridge/VLAN", addresses on another bridge or VLAN than the product's are
/// replaced.
///
/// # Errors
/// As [`allocate`]; on failure the service keeps what it had.
pub async fn resize(db: &Db, service_id: u32) -> Result<Vec<Assigned>> {
    with_retries(db, service_id, true).await
}

/// Returns every address of `service_id` to its source and clears them from `tblhosting`.
/// Returns how many were released (0 when it held none).
pub async fn release(db: &Db, service_id: u32) -> Result<u64> {
    let mut conn = db.conn().await?;
    transaction(&mut conn, async |conn| {
        conn.exec_drop(
            "DELETE FROM puq_proxmox_kvm_ip_allocations WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        let n = conn.affected_rows();
        conn.exec_drop(
            "UPDATE tblhosting SET dedicatedip = '', assignedips = '' WHERE id = ?",
            (service_id,),
        )
        .await?;
        Ok(n)
    })
    .await
}

/// Deadlocks and lock wait timeouts roll the transaction back; it is then safe to run again.
fn retryable(err: &Error) -> bool {
    matches!(err, Error::Database(m) if m.contains("(MariaDB error 1213)") || m.contains("(MariaDB error 1205)"))
}

async fn with_retries(db: &Db, service_id: u32, exact: bool) -> Result<Vec<Assigned>> {
    let mut conn = db.conn().await?;
    let mut attempt = 0;
    loop {
        match transaction(&mut conn, async |conn| {
            ensure(conn, service_id, exact).await
        })
        .await
        {
            Err(e) if retryable(&e) && attempt < MAX_TRANSACTION_RETRIES => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(
                    random(u128::from(5 * attempt)) as u64 + 1,
                ))
                .await;
            }
            other => return other,
        }
    }
}

/// When this process last had a claim refused, per database and pool (milliseconds since the
/// epoch). Small: one entry per pool this process allocated from under contention.
static LAST_REFUSAL: Mutex<Option<HashMap<(String, u32), u64>>> = Mutex::new(None);
/// How long after a refusal this process keeps spreading its first candidates in that pool.
const CONTENTION_WINDOW_MS: u64 = 2_000;

/// A pool across databases: ids repeat from one WHMCS database to the next.
fn pool_key(conn: &Conn, pool_id: u32) -> (String, u32) {
    (
        conn.opts().db_name().unwrap_or_default().to_string(),
        pool_id,
    )
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How far past the lowest candidate to spread: 0 (take the lowest free address) unless this
/// process met other allocators in this pool recently or in this very claim, so that a quiet pool
/// hands out addresses in order and a busy one does not queue on one address.
fn spread(pool: &(String, u32), refused: u32) -> u128 {
    let last = LAST_REFUSAL
        .lock()
        .map(|m| m.as_ref().and_then(|m| m.get(pool).copied()).unwrap_or(0))
        .unwrap_or(0);
    let recent = now_ms().saturating_sub(last) < CONTENTION_WINDOW_MS;
    let steps = refused + if recent { 8 } else { 0 };
    u128::from((8 * steps).min(256))
}

/// A small random number in `0..=max` (xorshift, seeded by time and process; spreading
/// candidates needs no cryptographic quality).
fn random(max: u128) -> u128 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        x = nanos ^ (u64::from(std::process::id()) << 32) | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    if max == 0 {
        0
    } else {
        u128::from(x) % (max + 1)
    }
}

/// The network new addresses must be on: the product's, or with Auto bridge/VLAN the one the
/// service's first address came from (a VM has one NIC).
fn constraint(needs: &Needs, kept: &[AllocRow]) -> Option<(String, u16)> {
    match &needs.network {
        Some((bridge, vlan)) => Some((bridge.as_str().to_string(), *vlan)),
        None => kept.first().map(|r| (r.5.clone(), r.6)),
    }
}

async fn ensure(conn: &mut Conn, service_id: u32, exact: bool) -> Result<Vec<Assigned>> {
    let needs = service::read_locked(conn, service_id).await?;
    let current = held(conn, service_id).await?;
    let mut kept: Vec<AllocRow> = Vec::new();
    let mut dropped: Vec<u64> = Vec::new();
    for row in current {
        let family = Family::from_code(row.2);
        let on_network = needs
            .network
            .as_ref()
            .is_none_or(|(b, v)| b.as_str() == row.5 && *v == row.6);
        let have = kept.iter().filter(|r| r.2 == row.2).count() as u32;
        if !exact || (on_network && have < needs.count(family)) {
            kept.push(row);
        } else {
            dropped.push(row.0);
        }
    }
    for id in &dropped {
        conn.exec_drop(
            "DELETE FROM puq_proxmox_kvm_ip_allocations WHERE id = ?",
            (*id,),
        )
        .await?;
    }
    let mut claimer = Claimer {
        needs: &needs,
        list: None,
        held_elsewhere: None,
        pools: None,
        network: constraint(&needs, &kept),
        new_rows: Vec::new(),
    };
    for family in [Family::V4, Family::V6] {
        let code = family.code();
        let have = kept.iter().filter(|r| r.2 == code).count() as u32;
        let missing = needs.count(family).saturating_sub(have);
        if missing > 0 {
            claimer.claim(conn, family, missing).await?;
        }
    }
    let mut all_rows = kept;
    all_rows.append(&mut claimer.new_rows);
    all_rows.sort_by_key(|r| (r.2, r.0));
    let list: Vec<Assigned> = all_rows.iter().map(assigned).collect();
    let first_v4 = list.iter().position(|a| a.family == Family::V4);
    let dedicated = first_v4
        .map(|i| list[i].address.clone())
        .unwrap_or_default();
    let rest: Vec<&str> = list
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != first_v4)
        .map(|(_, a)| a.address.as_str())
        .collect();
    conn.exec_drop(
        "UPDATE tblhosting SET dedicatedip = ?, assignedips = ? WHERE id = ?",
        (dedicated, rest.join("\n"), service_id),
    )
    .await?;
    Ok(list)
}

/// One service's claims within one transaction.
struct Claimer<'a> {
    needs: &'a Needs,
    list: Option<Vec<LegacyLine>>,
    held_elsewhere: Option<HashSet<IpAddr>>,
    /// The server's pools, read (and share-locked) once per transaction, for both families.
    pools: Option<Vec<StoredPool>>,
    network: Option<(String, u16)>,
    /// The rows claimed so far.
    new_rows: Vec<AllocRow>,
}

/// Where a claimed address came from, copied into its allocation row.
pub(super) struct Source<'a> {
    pool_id: Option<u32>,
    kind: &'static str,
    bridge: &'a Bridge,
    vlan: u16,
    gateway: IpAddr,
    prefix: u8,
    dns: Vec<IpAddr>,
}

impl Source<'_> {
    /// Pool `id` defined by `spec`.
    pub(super) fn pool(id: u32, spec: &PoolSpec) -> Source<'_> {
        Source {
            pool_id: Some(id),
            kind: "pool",
            bridge: &spec.bridge,
            vlan: spec.vlan,
            gateway: spec.gateway,
            prefix: spec.prefix,
            dns: spec.dns(),
        }
    }
}

fn list_source(line: &LegacyLine) -> Source<'_> {
    Source {
        pool_id: None,
        kind: "list",
        bridge: &line.bridge,
        vlan: line.vlan,
        gateway: line.gateway,
        prefix: line.prefix,
        dns: line.dns.clone(),
    }
}

impl Claimer<'_> {
    /// The service and server new rows are recorded for.
    fn holder(&self) -> (u32, u32) {
        (self.needs.service_id, self.needs.server_id)
    }

    fn fits(&self, bridge: &Bridge, vlan: u16) -> bool {
        self.network
            .as_ref()
            .is_none_or(|(b, v)| b == bridge.as_str() && *v == vlan)
    }

    async fn claim(&mut self, conn: &mut Conn, family: Family, missing: u32) -> Result<()> {
        let mut got = 0;
        let pools = match self.pools.take() {
            Some(pools) => pools,
            None => pools_of_server(conn, self.needs.server_id).await?,
        };
        for pool in pools.iter().filter(|p| p.spec.family == family) {
            while got < missing && self.fits(&pool.spec.bridge, pool.spec.vlan) {
                if !self.claim_in_pool(conn, pool).await? {
                    break;
                }
                got += 1;
            }
        }
        self.pools = Some(pools);
        if got < missing && !self.needs.server_list.trim().is_empty() {
            got += self.claim_from_list(conn, family, missing - got).await?;
        }
        if got < missing {
            let network = match &self.network {
                Some((b, v)) => format!(" on bridge {b} VLAN {v}"),
                None => String::new(),
            };
            return Err(Error::Conflict(format!(
                "server '{}' has {got} free {} address(es){network} but service {} needs {missing} - add addresses to an IP pool of this server (or to its Assigned IP Addresses); nothing was allocated",
                self.needs.server_name,
                family.as_str(),
                self.needs.service_id
            )));
        }
        Ok(())
    }

    fn claimed(&mut self, bridge: &Bridge, vlan: u16, row: AllocRow) {
        self.new_rows.push(row);
        if self.network.is_none() {
            self.network = Some((bridge.as_str().to_string(), vlan));
        }
    }

    /// Claims one address of `pool`; `false` when the pool has none left.
    async fn claim_in_pool(&mut self, conn: &mut Conn, pool: &StoredPool) -> Result<bool> {
        let spec = &pool.spec;
        let source = Source::pool(pool.id, spec);
        for refused in 0..MAX_REFUSED {
            let Some(candidate) = candidate(conn, pool, refused).await? else {
                return Ok(false);
            };
            let ip = net::from_number(candidate, spec.family);
            if let Some(row) = insert(conn, self.holder(), ip, &source).await? {
                self.claimed(&spec.bridge, spec.vlan, row);
                return Ok(true);
            }
            if let Ok(mut map) = LAST_REFUSAL.lock() {
                map.get_or_insert_with(HashMap::new)
                    .insert(pool_key(conn, pool.id), now_ms());
            }
        }
        Err(Error::Conflict(format!(
            "IP pool {} is too busy: {MAX_REFUSED} claims in a row were taken by other allocators - try again",
            pool.id
        )))
    }

    async fn claim_from_list(
        &mut self,
        conn: &mut Conn,
        family: Family,
        missing: u32,
    ) -> Result<u32> {
        if self.list.is_none() {
            self.list = Some(legacy::parse_list(&self.needs.server_list)?);
        }
        if self.held_elsewhere.is_none() {
            self.held_elsewhere = Some(held_in_whmcs(conn, self.needs.service_id).await?);
        }
        // What the allocation table already holds from this list; `true`: held by a Terminated
        // (or deleted) service, so free to take over.
        let rows: Vec<(String, u8)> = all(
            conn,
            "SELECT a.ip, IF(h.id IS NULL OR h.domainstatus = 'Terminated', 1, 0) FROM puq_proxmox_kvm_ip_allocations a \
             LEFT JOIN tblhosting h ON h.id = a.service_id WHERE a.server_id = ? AND a.source = 'list'",
            (self.needs.server_id,),
        )
        .await?;
        let taken: HashMap<IpAddr, bool> = rows
            .into_iter()
            .filter_map(|(ip, stale)| ip.parse::<IpAddr>().ok().map(|ip| (ip, stale == 1)))
            .collect();
        let candidates: Vec<LegacyLine> = self
            .list
            .iter()
            .flatten()
            .filter(|l| l.family() == family && self.fits(&l.bridge, l.vlan))
            .filter(|l| {
                !self
                    .held_elsewhere
                    .as_ref()
                    .is_some_and(|h| h.contains(&l.ip))
            })
            .filter(|l| taken.get(&l.ip).is_none_or(|stale| *stale))
            .cloned()
            .collect();
        let (mut got, mut refused, mut next) = (0, 0u32, 0usize);
        while got < missing && next < candidates.len() {
            let line = &candidates[next];
            let source = list_source(line);
            if taken.get(&line.ip) == Some(&true) {
                take_over_terminated(conn, line.ip).await?;
            }
            if let Some(row) = insert(conn, self.holder(), line.ip, &source).await? {
                self.claimed(&line.bridge, line.vlan, row);
                got += 1;
                next += 1;
            } else {
                // Another allocator got there first: spread out from it.
                refused += 1;
                next += 1 + random(u128::from((2 * refused).min(16))) as usize;
            }
        }
        // A random skip may have stepped over free lines: one more pass, in order.
        if got < missing && refused > 0 {
            for line in &candidates {
                if got == missing {
                    break;
                }
                let source = list_source(line);
                if !self.fits(&line.bridge, line.vlan) {
                    continue;
                }
                if let Some(row) = insert(conn, self.holder(), line.ip, &source).await? {
                    self.claimed(&line.bridge, line.vlan, row);
                    got += 1;
                }
            }
        }
        Ok(got)
    }
}

/// The next address to try in `pool`, or `None` when every address is in use.
async fn candidate(conn: &mut Conn, pool: &StoredPool, refused: u32) -> Result<Option<u128>> {
    let (start, stop) = pool.spec.range.numbers();
    let max: Option<Option<String>> = first(
        conn,
        "SELECT MAX(address) FROM puq_proxmox_kvm_ip_allocations \
         WHERE address BETWEEN CAST(? AS DECIMAL(39,0)) AND CAST(? AS DECIMAL(39,0))",
        (num_param(start), num_param(stop)),
    )
    .await?;
    let base = match max.flatten() {
        None => start,
        Some(m) => dec(&m)?.saturating_add(1),
    };
    let spread = spread(&pool_key(conn, pool.id), refused);
    if base <= stop {
        let c = base.saturating_add(random(spread));
        return Ok(Some(if c > stop { base } else { c }));
    }
    // The top of the range is taken: the lowest gap, found from the addresses in use.
    let start_used: Option<u64> = first(
        conn,
        "SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE address = CAST(? AS DECIMAL(39,0))",
        (num_param(start),),
    )
    .await?;
    if start_used.unwrap_or(0) == 0 {
        return Ok(Some(start));
    }
    let gap: Option<String> = first(
        conn,
        &format!(
            "SELECT CAST(a.address + 1 AS CHAR) FROM puq_proxmox_kvm_ip_allocations a \
             LEFT JOIN puq_proxmox_kvm_ip_allocations b ON b.address = a.address + 1 \
             WHERE a.address BETWEEN CAST(? AS DECIMAL(39,0)) AND CAST(? AS DECIMAL(39,0)) AND b.id IS NULL \
             ORDER BY a.address LIMIT 1 OFFSET {}",
            random(spread.min(16))
        ),
        (num_param(start), num_param(stop.saturating_sub(1))),
    )
    .await?;
    match gap {
        Some(g) => Ok(Some(dec(&g)?)),
        None if spread > 0 => {
            // The random offset went past the last gap: take the lowest one, if any.
            let gap: Option<String> = first(
                conn,
                "SELECT CAST(a.address + 1 AS CHAR) FROM puq_proxmox_kvm_ip_allocations a \
                 LEFT JOIN puq_proxmox_kvm_ip_allocations b ON b.address = a.address + 1 \
                 WHERE a.address BETWEEN CAST(? AS DECIMAL(39,0)) AND CAST(? AS DECIMAL(39,0)) AND b.id IS NULL \
                 ORDER BY a.address LIMIT 1",
                (num_param(start), num_param(stop.saturating_sub(1))),
            )
            .await?;
            gap.map(|g| dec(&g)).transpose()
        }
        None => Ok(None),
    }
}

/// The claim: one INSERT guarded by the UNIQUE key. `None` when another holder has it.
pub(super) async fn insert(
    conn: &mut Conn,
    (service_id, server_id): (u32, u32),
    ip: IpAddr,
    source: &Source<'_>,
) -> Result<Option<AllocRow>> {
    let dns: Vec<String> = source.dns.iter().map(ToString::to_string).collect();
    let result = conn
        .exec_drop(
            "INSERT INTO puq_proxmox_kvm_ip_allocations \
             (address, ip, family, service_id, server_id, pool_id, source, bridge, vlan, gateway, prefix, dns) \
             VALUES (CAST(? AS DECIMAL(39,0)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                num_param(net::to_number(ip)),
                net::display(ip),
                Family::of(ip).code(),
                service_id,
                server_id,
                source.pool_id,
                source.kind,
                source.bridge.as_str(),
                source.vlan,
                source.gateway.to_string(),
                source.prefix,
                dns.join(","),
            ),
        )
        .await;
    match result {
        Ok(()) => Ok(Some((
            conn.last_insert_id().unwrap_or(0),
            net::display(ip),
            Family::of(ip).code(),
            source.pool_id,
            source.kind.to_string(),
            source.bridge.as_str().to_string(),
            source.vlan,
            source.gateway.to_string(),
            source.prefix,
            dns.join(","),
        ))),
        Err(e) if is_duplicate(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A list address still recorded for a Terminated (or deleted) service is free: drops that
/// stale row. `true` when it did.
async fn take_over_terminated(conn: &mut Conn, ip: IpAddr) -> Result<bool> {
    conn.exec_drop(
        "DELETE a FROM puq_proxmox_kvm_ip_allocations a LEFT JOIN tblhosting h ON h.id = a.service_id \
         WHERE a.address = CAST(? AS DECIMAL(39,0)) AND a.source = 'list' \
         AND (h.id IS NULL OR h.domainstatus = 'Terminated')",
        (num_param(net::to_number(ip)),),
    )
    .await?;
    Ok(conn.affected_rows() > 0)
}

/// Addresses WHMCS records for other services that are not Terminated (set by hand or by an
/// earlier module), which the legacy list must not hand out again.
async fn held_in_whmcs(conn: &mut Conn, service_id: u32) -> Result<HashSet<IpAddr>> {
    let rows: Vec<(Option<String>, Option<String>)> = all(
        conn,
        "SELECT dedicatedip, assignedips FROM tblhosting WHERE id <> ? AND domainstatus <> 'Terminated' \
         AND (dedicatedip <> '' OR assignedips <> '')",
        (service_id,),
    )
    .await?;
    Ok(rows
        .iter()
        .flat_map(|(d, a)| {
            let text = format!(
                "{}\n{}",
                d.as_deref().unwrap_or(""),
                a.as_deref().unwrap_or("")
            );
            text.split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
                .filter_map(|t| t.trim().parse::<IpAddr>().ok())
                .collect::<Vec<_>>()
        })
        .collect())
}
