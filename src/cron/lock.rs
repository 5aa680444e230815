//! Named locks in the database, so they hold across processes and hosts.
//!
//! A lock is a row `(name, owner, acquired_at, expires_at)`. Taking it is one statement: insert
//! the row, or take over an existing one only when it has expired (its holder died or hung
//! past the lock timeout). Times are the database's, so hosts with skewed clocks agree.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::db::first;
use crate::error::Result;

const TABLE: &str = "puq_proxmox_kvm_locks";

/// Takes lock `name` for `owner` for `ttl_seconds`, unless another owner holds it and it has
/// not expired. Returns whether `owner` holds it now. Taking a lock one already holds renews it.
pub async fn acquire(conn: &mut Conn, name: &str, owner: &str, ttl_seconds: u32) -> Result<bool> {
    // MariaDB applies the assignments left to right: `expires_at` is compared before it changes.
    conn.exec_drop(
        format!(
            "INSERT INTO `{TABLE}` (name, owner, acquired_at, expires_at) \
             VALUES (?, ?, UTC_TIMESTAMP(), UTC_TIMESTAMP() + INTERVAL ? SECOND) \
             ON DUPLICATE KEY UPDATE \
               owner = IF(expires_at < UTC_TIMESTAMP() OR owner = VALUES(owner), VALUES(owner), owner), \
               acquired_at = IF(owner = VALUES(owner), VALUES(acquired_at), acquired_at), \
               expires_at = IF(owner = VALUES(owner), VALUES(expires_at), expires_at)"
        ),
        (name, owner, ttl_seconds),
    )
    .await?;
    let holder: Option<String> = first(
        conn,
        &format!("SELECT owner FROM `{TABLE}` WHERE name = ?"),
        (name,),
    )
    .await?;
    Ok(holder.as_deref() == Some(owner))
}

/// Releases lock `name` if `owner` holds it.
pub async fn release(conn: &mut Conn, name: &str, owner: &str) -> Result<()> {
    conn.exec_drop(
        format!("DELETE FROM `{TABLE}` WHERE name = ? AND owner = ?"),
        (name, owner),
    )
    .await?;
    Ok(())
}

/// Who holds lock `name` and for how many more seconds, if anyone does.
pub async fn holder(conn: &mut Conn, name: &str) -> Result<Option<(String, i64)>> {
    first(
        conn,
        &format!(
            "SELECT owner, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), expires_at) FROM `{TABLE}` \
             WHERE name = ? AND expires_at >= UTC_TIMESTAMP()"
        ),
        (name,),
    )
    .await
}

/// A name for this process as a lock owner: `host:pid:nonce`.
pub fn owner_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("{host}:{}:{nonce:08x}", std::process::id())
}
