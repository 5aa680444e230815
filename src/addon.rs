//! The addon module's life cycle (activate, deactivate, upgrade) and the Dashboard figures.

use mysql_async::prelude::Queryable;
use serde::Serialize;

use crate::db::migrations::{self, MigrationReport};
use crate::db::{first, table_exists, Db};
use crate::error::Result;
use crate::settings::Settings;

/// The server module's name in `tblservers.type` and `tblproducts.servertype`.
pub const SERVER_MODULE: &str = "puqProxmoxKVM";

/// What an activation did.
#[derive(Debug, Serialize)]
pub struct Activation {
    pub migrations: MigrationReport,
    /// The one-time import of the PUQ Customization IP pools, when it ran now.
    pub legacy_import: Option<crate::ipam::import::ImportReport>,
    /// One sentence for WHMCS's activation notice.
    pub message: String,
}

/// Creates or upgrades the module's tables in place. Safe to repeat; never loses a row.
pub async fn activate(db: &Db) -> Result<Activation> {
    let mut conn = db.conn().await?;
    let report = migrations::migrate(&mut conn, None).await?;
    // This installation's id, stamped on every VM it clones (kept once made).
    conn.query_drop(
        "INSERT IGNORE INTO `puq_proxmox_kvm_settings` (setting, value) VALUES ('installation_id', UUID())",
    )
    .await?;
    let legacy_import = crate::ipam::import::import_legacy(&mut conn).await?;
    let mut message = if report.applied.is_empty() {
        format!(
            "The module's tables are up to date (schema version {}); nothing was changed.",
            report.to
        )
    } else if report.from == 0 {
        format!(
            "The module's tables were created (schema version {}).",
            report.to
        )
    } else {
        format!(
            "The module's tables were upgraded from schema version {} to {}; every row was kept.",
            report.from, report.to
        )
    };
    if let Some(import) = &legacy_import {
        message.push(' ');
        message.push_str(&import.sentence());
    }
    Ok(Activation {
        migrations: report,
        legacy_import,
        message,
    })
}

/// What a deactivation did.
#[derive(Debug, Serialize)]
pub struct Deactivation {
    /// The tables dropped (empty unless "Delete all database tables" is on).
    pub dropped: Vec<String>,
    pub message: String,
}

/// Drops the module's tables when the "Delete all database tables" setting is on; otherwise
/// keeps everything for a later reactivation.
pub async fn deactivate(db: &Db) -> Result<Deactivation> {
    let mut conn = db.conn().await?;
    let settings = if table_exists(&mut conn, "puq_proxmox_kvm_settings").await? {
        Settings::load(&mut conn).await?
    } else {
        Settings::default()
    };
    if !settings.delete_tables_on_deactivate {
        return Ok(Deactivation {
            dropped: Vec::new(),
            message: "The module's tables were kept; reactivate to continue where you left off."
                .into(),
        });
    }
    let dropped = migrations::drop_all(&mut conn).await?;
    let message = format!(
        "\"Delete all database tables\" is on: {} tables were dropped.",
        dropped.len()
    );
    Ok(Deactivation { dropped, message })
}

/// The Dashboard's cards. A count is `None` while that part of the module has no table yet.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Dashboard {
    pub ip_pools: Option<u64>,
    pub dns_zones: Option<u64>,
    /// Active services of products that use this module.
    pub kvm_services: u64,
}

/// Reads the Dashboard's figures.
pub async fn dashboard(db: &Db) -> Result<Dashboard> {
    let mut conn = db.conn().await?;
    let mut count_of = async |table: &str| -> Result<Option<u64>> {
        if !table_exists(&mut conn, table).await? {
            return Ok(None);
        }
        let n: Option<u64> =
            first(&mut conn, &format!("SELECT COUNT(*) FROM `{table}`"), ()).await?;
        Ok(Some(n.unwrap_or(0)))
    };
    let ip_pools = count_of("puq_proxmox_kvm_ip_pools").await?;
    let dns_zones = count_of("puq_proxmox_kvm_dns_zones").await?;
    let kvm_services: Option<u64> = first(
        &mut conn,
        "SELECT COUNT(*) FROM tblhosting h JOIN tblproducts p ON p.id = h.packageid \
         WHERE p.servertype = ? AND h.domainstatus = 'Active'",
        (SERVER_MODULE,),
    )
    .await?;
    Ok(Dashboard {
        ip_pools,
        dns_zones,
        kvm_services: kvm_services.unwrap_or(0),
    })
}
