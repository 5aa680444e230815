//! What the VM Management page does with VM rows: the server-side list (paging, search,
//! sort, two filters), the run log, Reset, the raw DB Record editor and Delete Record.
//! Redeploy touches Proxmox and lives with the pipelines.

use std::collections::HashMap;
use std::net::IpAddr;

use mysql_async::prelude::Queryable;
use mysql_async::Value as SqlValue;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{list_index, steps};
use crate::db::{all, first, Db};
use crate::error::{Error, Result};

const VMS: &str = "puqProxmoxKVM_vm_info";
const RUNS: &str = "puq_proxmox_kvm_vm_runs";
const LIST: &str = "puq_proxmox_kvm_vm_list";
const TERMS: &str = "puq_proxmox_kvm_vm_terms";

/// States an admin may reset a VM to (the re-runnable ones).
pub const RESET_TARGETS: &[&str] = &[
    "ready",
    "creation",
    "set_ip",
    "change_package",
    "set_dns_records",
    "terminate",
    "remove",
];

/// WHMCS service states (`tblhosting.domainstatus`).
pub const SERVICE_STATES: &[&str] = &[
    "Pending",
    "Active",
    "Suspended",
    "Terminated",
    "Cancelled",
    "Fraud",
    "Completed",
];

/// A column the list sorts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortColumn {
    Id,
    Client,
    Product,
    Server,
    Vm,
    VmStatus,
    ServiceStatus,
}

impl SortColumn {
    fn parse(name: &str) -> Result<SortColumn> {
        Ok(match name {
            "" | "id" => SortColumn::Id,
            "client" => SortColumn::Client,
            "product" => SortColumn::Product,
            "server" => SortColumn::Server,
            "vm" => SortColumn::Vm,
            "vm_status" => SortColumn::VmStatus,
            "service_status" => SortColumn::ServiceStatus,
            other => {
                return Err(Error::validation(
                    "sort",
                    format!("cannot sort by '{other}'; use id, client, product, server, vm, vm_status or service_status"),
                ))
            }
        })
    }

    fn sql(self) -> &'static str {
        match self {
            SortColumn::Id => "l.service_id",
            SortColumn::Client => "l.client_name",
            SortColumn::Product => "l.product",
            SortColumn::Server => "l.server",
            SortColumn::Vm => "v.vm_id",
            SortColumn::VmStatus => "v.vm_status",
            SortColumn::ServiceStatus => "l.service_status",
        }
    }
}

/// One page request of the list.
#[derive(Clone, Debug)]
pub struct ListQuery {
    pub offset: u32,
    pub limit: u32,
    pub search: String,
    pub sort: SortColumn,
    pub descending: bool,
    pub service_status: Option<String>,
    pub vm_status: Option<String>,
}

impl ListQuery {
    /// From the page's request: `start`, `length` (1-100), `search`, `sort`, `dir`
    /// (`asc`/`desc`), `service_status`, `vm_status` (empty: all).
    pub fn from_map(input: &Map<String, Value>) -> Result<ListQuery> {
        let text = |key: &str| -> String {
            match input.get(key) {
                Some(Value::String(s)) => s.trim().to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            }
        };
        let number = |key: &str, default: u32, max: u32| -> Result<u32> {
            let raw = text(key);
            if raw.is_empty() {
                return Ok(default);
            }
            raw.parse::<u32>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| {
                    Error::validation(
                        key,
                        format!("must be a whole number from 0 to {max}, got '{raw}'"),
                    )
                })
        };
        let limit = number("length", 25, 100)?.max(1);
        let service_status = Some(text("service_status")).filter(|s| !s.is_empty());
        if let Some(s) = &service_status {
            if !SERVICE_STATES.contains(&s.as_str()) {
                return Err(Error::validation(
                    "service_status",
                    format!(
                        "'{s}' is not a WHMCS service status; use one of {}",
                        SERVICE_STATES.join(", ")
                    ),
                ));
            }
        }
        let vm_status = Some(text("vm_status")).filter(|s| !s.is_empty());
        if let Some(s) = &vm_status {
            if !steps::all_states().contains(&s.as_str()) {
                return Err(Error::validation(
                    "vm_status",
                    format!("'{s}' is not a VM status"),
                ));
            }
        }
        let dir = text("dir");
        Ok(ListQuery {
            offset: number("start", 0, u32::MAX)?,
            limit,
            search: text("search"),
            sort: SortColumn::parse(&text("sort"))?,
            descending: match dir.as_str() {
                "" | "desc" => true,
                "asc" => false,
                other => {
                    return Err(Error::validation(
                        "dir",
                        format!("must be asc or desc, got '{other}'"),
                    ))
                }
            },
            service_status,
            vm_status,
        })
    }
}

/// An address of a VM with the reverse name it answers to.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AddressLine {
    pub ip: String,
    pub rdns: Option<String>,
}

/// A row of the list.
#[derive(Clone, Debug, Serialize)]
pub struct VmListRow {
    pub service_id: i64,
    pub client_id: Option<i64>,
    pub client: String,
    pub product: String,
    pub server: String,
    pub vm_id: Option<u32>,
    pub vm_name: String,
    pub vm_status: String,
    pub service_status: String,
    pub ips: Vec<AddressLine>,
    pub last_error: Option<String>,
    /// The buttons the page shows for this row.
    pub actions: Vec<&'static str>,
}

/// A page of the list.
#[derive(Clone, Debug, Serialize)]
pub struct ListPage {
    pub total: u64,
    pub filtered: u64,
    pub rows: Vec<VmListRow>,
}

/// The buttons for a VM in `status`, as the spec lists them.
pub fn actions_for(status: &str) -> Vec<&'static str> {
    let mut actions = Vec::new();
    if status != "ready" {
        actions.push("redeploy");
    }
    actions.extend(["reset", "log", "record"]);
    if status == "error_terminate" || status == "remove" {
        actions.push("delete");
    }
    actions
}

/// A LIKE pattern matching values that start with `term`.
fn prefix(term: &str) -> String {
    let escaped = term
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// The live sources of a row of the list.
const FROM: &str = "FROM `puqProxmoxKVM_vm_info` v \
    LEFT JOIN tblhosting h ON h.id = v.service_id \
    LEFT JOIN tblclients c ON c.id = h.userid \
    LEFT JOIN tblproducts p ON p.id = h.packageid \
    LEFT JOIN tblservers s ON s.id = h.server";

/// The addresses of a service as WHMCS records them, each with its reverse name: the custom
/// one from `vm_rev_dns`, else the VM's FQDN.
pub fn address_lines(
    dedicated: &str,
    assigned: &str,
    rev_dns: Option<&str>,
    fqdn: Option<&str>,
) -> Vec<AddressLine> {
    let custom: HashMap<String, String> = rev_dns
        .and_then(|text| serde_json::from_str::<Map<String, Value>>(text).ok())
        .map(|map| {
            map.into_iter()
                .filter_map(|(ip, name)| Some((normalise_ip(&ip), name.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let mut seen = Vec::new();
    std::iter::once(dedicated)
        .chain(assigned.lines())
        .map(str::trim)
        .filter(|ip| !ip.is_empty())
        .filter_map(|raw| {
            let ip = normalise_ip(raw);
            if seen.contains(&ip) {
                return None;
            }
            seen.push(ip.clone());
            let rdns = custom
                .get(&ip)
                .cloned()
                .filter(|n| !n.is_empty())
                .or_else(|| fqdn.map(str::to_string));
            Some(AddressLine { ip, rdns })
        })
        .collect()
}

fn normalise_ip(raw: &str) -> String {
    raw.trim()
        .parse::<IpAddr>()
        .map_or_else(|_| raw.trim().to_string(), |ip| ip.to_string())
}

fn fqdn(vm_name: &str, main_domain: &str) -> Option<String> {
    let domain = main_domain.trim().trim_matches('.');
    (!vm_name.is_empty() && !domain.is_empty())
        .then(|| format!("{vm_name}.{domain}").to_lowercase())
}

fn list_row(mut row: mysql_async::Row) -> Result<VmListRow> {
    fn take<T: mysql_async::prelude::FromValue>(row: &mut mysql_async::Row, i: usize) -> Result<T> {
        row.take_opt::<T, usize>(i)
            .unwrap_or_else(|| Err(mysql_async::FromValueError(SqlValue::NULL)))
            .map_err(|e| {
                Error::Database(format!(
                    "unexpected value in the VM list, column {i}: {:?}",
                    e.0
                ))
            })
    }
    let text = |row: &mut mysql_async::Row, i: usize| -> Result<String> {
        Ok(take::<Option<String>>(row, i)?.unwrap_or_default())
    };
    let vm_name = text(&mut row, 7)?;
    let vm_status = text(&mut row, 8)?;
    let main_domain = text(&mut row, 12)?;
    let fqdn = fqdn(&vm_name, &main_domain);
    Ok(VmListRow {
        service_id: take(&mut row, 0)?,
        client_id: take(&mut row, 1)?,
        client: text(&mut row, 2)?,
        product: text(&mut row, 3)?,
        server: text(&mut row, 4)?,
        service_status: text(&mut row, 5)?,
        vm_id: take(&mut row, 6)?,
        ips: address_lines(
            &text(&mut row, 9)?,
            &text(&mut row, 10)?,
            take::<Option<String>>(&mut row, 11)?.as_deref(),
            fqdn.as_deref(),
        ),
        last_error: take(&mut row, 13)?,
        actions: actions_for(&vm_status),
        vm_name,
        vm_status,
    })
}

/// A page of the VM list. Searching, filtering, sorting and counting use the list index
/// (see [`list_index`]); the page's rows are read live.
pub async fn list(db: &Db, query: &ListQuery) -> Result<ListPage> {
    list_index::ensure_fresh(db).await?;
    let mut conn = db.conn().await?;
    // Each query reads only the tables its filters and sort need: the sorted copy (`l`), the
    // VM table (`v`), or both joined. A count or a deep page over one table walks one index
    // instead of looking up a row of the other table per VM.
    let sort = query.sort.sql();
    let needs_list = query.service_status.is_some() || sort.starts_with("l.");
    let needs_vms = query.vm_status.is_some() || sort.starts_with("v.");
    let (from, id) = match (needs_list, needs_vms) {
        (true, true) => (
            format!("FROM `{LIST}` l JOIN `{VMS}` v ON v.service_id = l.service_id"),
            "v",
        ),
        (true, false) => (format!("FROM `{LIST}` l"), "l"),
        (false, _) => (format!("FROM `{VMS}` v"), "v"),
    };
    let sort = if query.sort == SortColumn::Id {
        format!("{id}.service_id")
    } else {
        sort.to_string()
    };
    let mut conditions = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(status) = &query.service_status {
        conditions.push("l.service_status = ?".to_string());
        params.push(status.as_str().into());
    }
    if let Some(status) = &query.vm_status {
        conditions.push("v.vm_status = ?".to_string());
        params.push(status.as_str().into());
    }
    if !query.search.is_empty() {
        let mut matches = format!("SELECT service_id FROM `{TERMS}` WHERE term LIKE ?");
        params.push(prefix(&list_index::normalise_term(&query.search)).into());
        if let Ok(number) = query.search.trim().trim_start_matches('#').parse::<i64>() {
            matches.push_str(&format!(
                " UNION SELECT ? UNION SELECT service_id FROM `{VMS}` WHERE vm_id = ?"
            ));
            params.push(number.into());
            params.push(number.into());
        }
        conditions.push(format!("{id}.service_id IN ({matches})"));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let total: u64 = first(&mut conn, &format!("SELECT COUNT(*) FROM `{VMS}`"), ())
        .await?
        .unwrap_or(0);
    let filtered: u64 = if conditions.is_empty() {
        total
    } else {
        first(
            &mut conn,
            &format!("SELECT COUNT(*) {from} {filter}"),
            params.clone(),
        )
        .await?
        .unwrap_or(0)
    };
    let dir = if query.descending { "DESC" } else { "ASC" };
    let mut page_params = params;
    page_params.push(query.offset.into());
    page_params.push(query.limit.into());
    let ids: Vec<i64> =
        all(
            &mut conn,
            &format!(
            "SELECT {id}.service_id {from} {filter} ORDER BY {sort} {dir}, {}.service_id {dir} LIMIT ?, ?",
            // The tie-breaker from the same table as the sort column, so one index serves both.
            &sort[..1]
        ),
            page_params,
        )
        .await?;
    if ids.is_empty() {
        return Ok(ListPage {
            total,
            filtered,
            rows: Vec::new(),
        });
    }
    let placeholders = vec!["?"; ids.len()].join(",");
    let rows: Vec<mysql_async::Row> = conn
        .exec(
            format!(
                "SELECT v.service_id, h.userid, TRIM(CONCAT_WS(' ', c.firstname, c.lastname)), p.name, s.name, h.domainstatus, \
                 v.vm_id, v.vm_name, v.vm_status, h.dedicatedip, h.assignedips, v.vm_rev_dns, p.configoption21, v.vm_last_error \
                 {FROM} WHERE v.service_id IN ({placeholders})"
            ),
            ids.clone(),
        )
        .await?;
    let mut rows = rows.into_iter().map(list_row).collect::<Result<Vec<_>>>()?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.service_id));
    Ok(ListPage {
        total,
        filtered,
        rows,
    })
}

/// A run of the log, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct LoggedRun {
    pub id: u64,
    pub kind: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub result: String,
    pub error: Option<String>,
    pub steps: Value,
}

/// The VM's log: its runs, newest first, and whether the last one failed.
#[derive(Clone, Debug, Serialize)]
pub struct VmLog {
    pub service_id: i64,
    pub vm_status: String,
    /// Set when the newest run failed: the failing action and its error, for the red banner.
    pub last_failure: Option<String>,
    pub runs: Vec<LoggedRun>,
}

/// The run history of `service_id`.
pub async fn log(db: &Db, service_id: i64) -> Result<VmLog> {
    let mut conn = db.conn().await?;
    let status: Option<String> = vm_status(&mut conn, service_id).await?;
    let vm_status = status.ok_or_else(|| super::no_vm_record(service_id))?;
    type RunRow = (
        u64,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        String,
    );
    let rows: Vec<RunRow> = all(
        &mut conn,
        &format!(
            "SELECT id, kind, DATE_FORMAT(started_at, '%Y-%m-%d %H:%i:%s'), DATE_FORMAT(finished_at, '%Y-%m-%d %H:%i:%s'), result, error, steps \
             FROM `{RUNS}` WHERE service_id = ? ORDER BY id DESC"
        ),
        (service_id,),
    )
    .await?;
    let runs: Vec<LoggedRun> = rows
        .into_iter()
        .map(
            |(id, kind, started_at, finished_at, result, error, steps)| LoggedRun {
                id,
                kind,
                started_at,
                finished_at,
                result,
                error,
                steps: serde_json::from_str(&steps).unwrap_or(Value::Array(Vec::new())),
            },
        )
        .collect();
    let last_failure = runs
        .first()
        .filter(|r| r.result == "error")
        .map(|r| format!("{}: {}", r.kind, r.error.clone().unwrap_or_default()));
    Ok(VmLog {
        service_id,
        vm_status,
        last_failure,
        runs,
    })
}

/// Records a new VM for `service_id` in `creation` (CreateAccount): no Proxmox call, cron does
/// the work. `password` (the service's, as WHMCS hands it to CreateAccount) is sealed for
/// cloud-init.
///
/// # Errors
/// [`Error::Conflict`] when the service already has a VM record: never a second VM.
pub async fn create(db: &Db, key: Option<&str>, service_id: i64, password: &str) -> Result<()> {
    let mut conn = db.conn().await?;
    let service: Option<String> = first(
        &mut conn,
        "SELECT domainstatus FROM tblhosting WHERE id = ?",
        (service_id,),
    )
    .await?;
    match service.as_deref() {
        None => {
            return Err(Error::NotFound(format!(
                "service {service_id} does not exist in WHMCS"
            )))
        }
        Some("Terminated" | "Cancelled") => {
            return Err(Error::Conflict(format!(
                "service {service_id} is terminated; create a new order instead"
            )))
        }
        Some(_) => {}
    }
    let sealed = if password.is_empty() {
        None
    } else {
        Some(crate::secret::SecretBox::new(key)?.seal(password)?)
    };
    let inserted = conn
        .exec_iter(
            format!("INSERT IGNORE INTO `{VMS}` (service_id, vm_status, vm_password_sealed) VALUES (?, 'creation', ?)"),
            (service_id, sealed),
        )
        .await?
        .affected_rows();
    if inserted == 0 {
        let status: Option<String> = vm_status(&mut conn, service_id).await?;
        return Err(Error::Conflict(format!(
            "service {service_id} already has a VM (status {}); use Redeploy or Reset in VM Management instead of creating it again",
            status.unwrap_or_default()
        )));
    }
    drop(conn);
    list_index::sync(db, Some(service_id)).await.map(|_| ())
}

/// What queueing a pipeline resets: the attempts, the error and retry time, the task and the
/// scratch state of the one before.
const REQUEUE: &str = "vm_attempts = 0, vm_last_error = NULL, vm_next_attempt_at = NULL, vm_task_upid = '', vm_pipeline_data = NULL";

/// TerminateAccount: queues the terminate pipeline (cron stops the VM, removes backups, DNS
/// and the VM, and releases the addresses). A service with no VM record only has its
/// addresses released. Returns whether a VM was queued.
pub async fn terminate(db: &Db, service_id: i64) -> Result<bool> {
    let mut conn = db.conn().await?;
    let status: Option<String> = vm_status(&mut conn, service_id).await?;
    match status.as_deref() {
        None => {
            drop(conn);
            crate::ipam::alloc::release(db, service_id as u32).await?;
            Ok(false)
        }
        Some("remove") => Ok(false),
        Some(_) => {
            conn.exec_drop(
                format!(
                    "UPDATE `{VMS}` SET vm_status = 'terminate', {REQUEUE} WHERE service_id = ?"
                ),
                (service_id,),
            )
            .await?;
            drop(conn);
            list_index::sync(db, Some(service_id)).await?;
            Ok(true)
        }
    }
}

/// Moves the VM to `status` (a queued pipeline) when it is in one of `from`; otherwise says
/// why not (`refusal` gets the current state).
async fn queue(
    db: &Db,
    service_id: i64,
    status: &str,
    from: &[&str],
    refusal: impl Fn(&str) -> String,
) -> Result<()> {
    let mut conn = db.conn().await?;
    let allowed = vec!["?"; from.len()].join(", ");
    let mut params: Vec<SqlValue> = vec![status.into(), service_id.into()];
    params.extend(from.iter().map(|s| SqlValue::from(*s)));
    let queued = conn
        .exec_iter(
            format!(
                "UPDATE `{VMS}` SET vm_status = ?, {REQUEUE} WHERE service_id = ? AND vm_status IN ({allowed})"
            ),
            params,
        )
        .await?
        .affected_rows();
    if queued == 1 {
        return Ok(());
    }
    let current: Option<String> = vm_status(&mut conn, service_id).await?;
    Err(match current {
        None => super::no_vm_record(service_id),
        Some(current) => Error::Conflict(refusal(&current)),
    })
}

/// ChangePackage: queues the change-package pipeline of a ready VM (or one already queued).
///
/// # Errors
/// [`Error::Conflict`] when the VM is in another pipeline or removed.
pub async fn queue_change_package(db: &Db, service_id: i64) -> Result<()> {
    queue(db, service_id, "change_package", &["ready", "change_package"], |s| {
        format!("the VM is in {s}; a package change runs on a ready VM - wait for it to finish, then change the package again")
    })
    .await
}

/// Reinstall: queues the removal of the old VM and a new deploy from `set_ip` (addresses,
/// VMID and MAC kept), only from ready.
///
/// # Errors
/// [`Error::Conflict`] when the VM is not ready.
pub async fn queue_reinstall(db: &Db, service_id: i64) -> Result<()> {
    queue(db, service_id, "reinstall", &["ready"], |s| {
        format!("the VM is in {s}; a reinstall starts from a ready VM")
    })
    .await
}

/// The Set DNS records button: queues a full DNS resync of a ready VM for cron.
///
/// # Errors
/// [`Error::Conflict`] when the VM is not ready (a pipeline is running or it is removed).
pub async fn queue_dns_resync(db: &Db, service_id: i64) -> Result<()> {
    queue(db, service_id, "set_dns_records", &["ready"], |s| {
        format!("the VM is in {s}; Set DNS records runs on a ready VM - wait for it or reset it to ready")
    })
    .await
}

/// Switches a VM to one of the re-runnable states and lets cron pick it up at once.
pub async fn reset(db: &Db, service_id: i64, status: &str) -> Result<()> {
    if !RESET_TARGETS.contains(&status) {
        return Err(Error::validation(
            "status",
            format!(
                "a VM can be reset to {} only, not '{status}'",
                RESET_TARGETS.join(", ")
            ),
        ));
    }
    let mut conn = db.conn().await?;
    let changed = conn
        .exec_iter(
            format!("UPDATE `{VMS}` SET vm_status = ?, {REQUEUE} WHERE service_id = ?"),
            (status, service_id),
        )
        .await?
        .affected_rows();
    if changed == 0 && vm_status(&mut conn, service_id).await?.is_none() {
        return Err(super::no_vm_record(service_id));
    }
    Ok(())
}

/// The VM's state; `None` when the service has no VM row.
async fn vm_status(conn: &mut mysql_async::Conn, service_id: i64) -> Result<Option<String>> {
    first(
        conn,
        &format!("SELECT vm_status FROM `{VMS}` WHERE service_id = ?"),
        (service_id,),
    )
    .await
}

/// Columns that hold JSON.
const JSON_COLUMNS: &[&str] = &[
    "vm_rev_dns",
    "vm_backup_schedule",
    "vm_pipeline_data",
    "vm_dns_managed",
    "vm_snapshot_schedule",
];
/// Columns the editor does not change: the key and the runner's bookkeeping.
const READ_ONLY: &[&str] = &[
    "service_id",
    "created_at",
    "updated_at",
    "vm_lease_owner",
    "vm_lease_until",
    "vm_run_id",
];

/// The raw VM row, every column as text (NULL as null), in table order.
pub async fn record(db: &Db, service_id: i64) -> Result<Map<String, Value>> {
    let mut conn = db.conn().await?;
    let row: Option<mysql_async::Row> = conn
        .exec_first(
            format!("SELECT * FROM `{VMS}` WHERE service_id = ?"),
            (service_id,),
        )
        .await?;
    let row = row.ok_or_else(|| super::no_vm_record(service_id))?;
    let mut map = Map::new();
    for (i, column) in row.columns_ref().iter().enumerate() {
        let value = match row.as_ref(i) {
            None | Some(SqlValue::NULL) => Value::Null,
            Some(SqlValue::Bytes(b)) => Value::String(String::from_utf8_lossy(b).into_owned()),
            Some(SqlValue::Int(n)) => Value::String(n.to_string()),
            Some(SqlValue::UInt(n)) => Value::String(n.to_string()),
            Some(other) => Value::String(other.as_sql(true).trim_matches('\'').to_string()),
        };
        map.insert(column.name_str().into_owned(), value);
    }
    Ok(map)
}

/// Writes `changes` to the raw row after checking each value against its column's type
/// (integers, lengths, JSON that parses, a known status). Nothing is written if one fails.
pub async fn update_record(db: &Db, service_id: i64, changes: &Map<String, Value>) -> Result<()> {
    let mut conn = db.conn().await?;
    if vm_status(&mut conn, service_id).await?.is_none() {
        return Err(super::no_vm_record(service_id));
    }
    type ColumnRow = (String, String, String, Option<u64>);
    let columns: Vec<ColumnRow> = all(
        &mut conn,
        "SELECT COLUMN_NAME, DATA_TYPE, IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
        (VMS,),
    )
    .await?;
    let mut sets = Vec::new();
    let mut params: Vec<SqlValue> = Vec::new();
    for (name, value) in changes {
        let (_, data_type, nullable, max_len) = columns
            .iter()
            .find(|c| &c.0 == name)
            .ok_or_else(|| Error::validation(name, "is not a column of the VM record"))?;
        if READ_ONLY.contains(&name.as_str()) {
            return Err(Error::validation(name, "cannot be edited here"));
        }
        let text = match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            other => {
                return Err(Error::validation(
                    name,
                    format!("must be text, got {other}"),
                ))
            }
        };
        let Some(text) =
            text.filter(|t| !(t.is_empty() && nullable == "YES" && data_type != "varchar"))
        else {
            if nullable != "YES" {
                return Err(Error::validation(name, "cannot be empty"));
            }
            sets.push(format!("`{name}` = NULL"));
            continue;
        };
        match data_type.as_str() {
            "int" | "bigint" | "smallint" | "tinyint" | "mediumint" => {
                text.trim().parse::<i64>().map_err(|_| {
                    Error::validation(name, format!("must be a whole number, got '{text}'"))
                })?;
            }
            "datetime" | "timestamp" => {
                chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").map_err(
                    |_| {
                        Error::validation(
                            name,
                            format!("must be a date and time as YYYY-MM-DD HH:MM:SS, got '{text}'"),
                        )
                    },
                )?;
            }
            _ => {}
        }
        if let Some(max) = max_len {
            if text.chars().count() as u64 > *max {
                return Err(Error::validation(
                    name,
                    format!("is longer than {max} characters"),
                ));
            }
        }
        if JSON_COLUMNS.contains(&name.as_str()) {
            serde_json::from_str::<Value>(&text)
                .map_err(|e| Error::validation(name, format!("must be valid JSON - {e}")))?;
        }
        if name == "vm_status" && !steps::all_states().contains(&text.as_str()) {
            return Err(Error::validation(
                name,
                format!("'{text}' is not a VM status"),
            ));
        }
        sets.push(format!("`{name}` = ?"));
        params.push(text.into());
    }
    if sets.is_empty() {
        return Ok(());
    }
    params.push(service_id.into());
    conn.exec_drop(
        format!(
            "UPDATE `{VMS}` SET {} WHERE service_id = ?",
            sets.join(", ")
        ),
        params,
    )
    .await?;
    Ok(())
}

/// Deletes the VM row (only in `error_terminate` or `remove`): never Proxmox, never tblhosting.
pub async fn delete_record(db: &Db, service_id: i64) -> Result<()> {
    let mut conn = db.conn().await?;
    let status: Option<String> = vm_status(&mut conn, service_id).await?;
    match status.as_deref() {
        None => Err(super::no_vm_record(service_id)),
        Some("error_terminate" | "remove") => {
            conn.exec_drop(format!("DELETE FROM `{VMS}` WHERE service_id = ? AND vm_status IN ('error_terminate', 'remove')"), (service_id,)).await?;
            conn.exec_drop(format!("DELETE FROM `{RUNS}` WHERE service_id = ?"), (service_id,)).await?;
            drop(conn);
            list_index::sync(db, Some(service_id)).await.map(|_| ())
        }
        Some(other) => Err(Error::Conflict(format!(
            "the record of service {service_id} can be deleted only in error_terminate or remove, it is in {other}; terminate the service first"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn buttons_follow_the_spec() {
        assert_eq!(actions_for("ready"), ["reset", "log", "record"]);
        assert_eq!(
            actions_for("set_network"),
            ["redeploy", "reset", "log", "record"]
        );
        assert_eq!(
            actions_for("remove"),
            ["redeploy", "reset", "log", "record", "delete"]
        );
        assert_eq!(
            actions_for("error_terminate"),
            ["redeploy", "reset", "log", "record", "delete"]
        );
    }

    #[test]
    fn addresses_pair_with_custom_or_default_reverse_names() {
        let lines = address_lines(
            "192.168.130.3",
            "192.168.130.4\n2001:0db8:0000:0000:0000:0000:0000:0003\n\n192.168.130.3",
            Some(r#"{"192.168.130.4": "mail.example.com", "2001:db8::3": ""}"#),
            Some("5550-1776530145.puqcloud.com"),
        );
        assert_eq!(
            lines,
            vec![
                AddressLine {
                    ip: "192.168.130.3".into(),
                    rdns: Some("5550-1776530145.puqcloud.com".into())
                },
                AddressLine {
                    ip: "192.168.130.4".into(),
                    rdns: Some("mail.example.com".into())
                },
                AddressLine {
                    ip: "2001:db8::3".into(),
                    rdns: Some("5550-1776530145.puqcloud.com".into())
                },
            ]
        );
        assert_eq!(address_lines("10.0.0.1", "", None, None)[0].rdns, None);
    }

    #[test]
    fn list_queries_are_validated() {
        let q = |v: Value| ListQuery::from_map(v.as_object().unwrap());
        let ok = q(json!({"start": "50", "length": "25", "sort": "client", "dir": "asc", "vm_status": "ready", "service_status": "Active"})).unwrap();
        assert_eq!(
            (ok.offset, ok.limit, ok.sort, ok.descending),
            (50, 25, SortColumn::Client, false)
        );
        for (input, field) in [
            (json!({"length": "1000"}), "length"),
            (json!({"sort": "password"}), "sort"),
            (json!({"dir": "sideways"}), "dir"),
            (json!({"vm_status": "exploded"}), "vm_status"),
            (json!({"service_status": "active; DROP"}), "service_status"),
            (json!({"start": "-1"}), "start"),
        ] {
            assert_eq!(
                q(input.clone()).unwrap_err().field(),
                Some(field),
                "{input}"
            );
        }
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(prefix("10_0%"), "10\\_0\\%%");
    }
}
