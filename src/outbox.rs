//! The emails the module sends for a service ("VM is ready", "Upgrade Email").
//!
//! The step that earns an email queues it here, in the database, before the VM moves on; the
//! PHP side sends what is pending after each cron run (WHMCS's `localAPI('SendEmail')` runs
//! only there) and reports each result back. A cron process killed between the step and the
//! send loses nothing: the next run sends it. Queueing is keyed on the service, its run and
//! the template, so a step that runs again after a crash does not queue the email twice. An
//! email that fails [`MAX_ATTEMPTS`] times is given up, and the VM's log says so.

use mysql_async::prelude::Queryable;
use serde::Serialize;

use crate::db::{all, Db};
use crate::error::Result;

const TABLE: &str = "puq_proxmox_kvm_email_outbox";
const VMS: &str = "puqProxmoxKVM_vm_info";
/// Sending attempts before an email is given up (each failure is in the module log).
pub const MAX_ATTEMPTS: u32 = 5;
/// How long a cron process holds the emails it claimed.
pub const CLAIM_SECONDS: u32 = 120;
/// Sent emails are kept this long (the key that stops a second queueing), then removed.
const KEEP_SENT_DAYS: u32 = 30;

/// An email waiting to be sent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingEmail {
    pub id: u64,
    pub service_id: i64,
    /// The WHMCS email template's name.
    pub template: String,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Queues `template` for `service_id` in the VM's current run; `false` when that run already
/// queued it.
///
/// # Errors
/// [`crate::Error::Database`].
pub async fn queue(db: &Db, service_id: i64, template: &str) -> Result<bool> {
    let mut conn = db.stateless_conn().await?;
    let inserted = conn
        .exec_iter(
            format!(
                "INSERT IGNORE INTO `{TABLE}` (service_id, run_id, template, queued_at) \
                 SELECT ?, COALESCE((SELECT vm_run_id FROM `{VMS}` WHERE service_id = ?), 0), ?, UTC_TIMESTAMP()"
            ),
            (service_id, service_id, template),
        )
        .await?
        .affected_rows();
    Ok(inserted == 1)
}

/// Claims the emails still to send, oldest first (at most `limit`), for `owner` (a cron
/// process) for [`CLAIM_SECONDS`]: another process does not send them meanwhile; a process
/// that dies before it reports leaves them to the next run after that.
///
/// # Errors
/// [`crate::Error::Database`].
pub async fn claim(db: &Db, owner: &str, limit: u32) -> Result<Vec<PendingEmail>> {
    let mut conn = db.conn().await?;
    conn.exec_drop(
        format!(
            "UPDATE `{TABLE}` SET claimed_by = ?, claim_until = UTC_TIMESTAMP() + INTERVAL ? SECOND \
             WHERE sent_at IS NULL AND attempts < ? AND (claim_until IS NULL OR claim_until < UTC_TIMESTAMP()) \
             ORDER BY id LIMIT ?"
        ),
        (owner, CLAIM_SECONDS, MAX_ATTEMPTS, limit),
    )
    .await?;
    let rows: Vec<(u64, i64, String, u32)> = all(
        &mut conn,
        &format!(
            "SELECT id, service_id, template, attempts FROM `{TABLE}` \
             WHERE claimed_by = ? AND sent_at IS NULL AND claim_until >= UTC_TIMESTAMP() ORDER BY id"
        ),
        (owner,),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, service_id, template, attempts)| PendingEmail {
            id,
            service_id,
            template,
            attempts,
        })
        .collect())
}

/// Records the outcome of sending email `id`: sent (`error` is `None`), or one more failed
/// attempt with its reason. Returns whether the email is given up (no attempt left).
///
/// # Errors
/// [`crate::Error::Database`].
pub async fn report(db: &Db, id: u64, error: Option<&str>) -> Result<bool> {
    let mut conn = db.conn().await?;
    match error {
        None => {
            conn.exec_drop(
                format!(
                    "UPDATE `{TABLE}` SET sent_at = UTC_TIMESTAMP(), last_error = NULL, claim_until = NULL WHERE id = ?"
                ),
                (id,),
            )
            .await?;
            conn.exec_drop(
                format!("DELETE FROM `{TABLE}` WHERE sent_at < UTC_TIMESTAMP() - INTERVAL ? DAY"),
                (KEEP_SENT_DAYS,),
            )
            .await?;
            Ok(false)
        }
        Some(reason) => {
            conn.exec_drop(
                format!(
                    "UPDATE `{TABLE}` SET attempts = attempts + 1, last_error = ?, claim_until = NULL \
                     WHERE id = ? AND sent_at IS NULL"
                ),
                (reason, id),
            )
            .await?;
            let row: Option<(i64, String, u32)> = crate::db::first(
                &mut conn,
                &format!("SELECT service_id, template, attempts FROM `{TABLE}` WHERE id = ?"),
                (id,),
            )
            .await?;
            let Some((service_id, template, attempts)) = row else {
                return Ok(false);
            };
            if attempts < MAX_ATTEMPTS {
                return Ok(false);
            }
            // Given up: the VM's log says so (with the red banner in VM Management), also
            // where module logging is off.
            crate::vm::runlog::record_action(
                &mut conn,
                service_id,
                "email",
                &format!("Send the email \"{template}\""),
                &format!(
                    "error: {reason} - given up after {MAX_ATTEMPTS} attempts; fix it in WHMCS and send the email from the service's page"
                ),
                std::time::Duration::ZERO,
            )
            .await?;
            Ok(true)
        }
    }
}
