//! Versioned schema migrations.
//!
//! Activation runs every migration newer than the database's version, in order, any number
//! of times: each step is idempotent (`CREATE TABLE IF NOT EXISTS`, columns added only when
//! missing), so a run cut short by a crash is finished by the next one, and no step drops or
//! rewrites a row. MariaDB commits DDL implicitly, so a migration is recorded only after all
//! its steps ran. Two activations at once are serialised by a named lock.
//!
//! A table that already exists (the VM table of an earlier release of the module) is kept
//! and gains the columns it lacks.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use super::{first, table_columns, table_exists};
use crate::error::{Error, Result};

/// The table that records applied migrations.
pub const MIGRATIONS_TABLE: &str = "puq_proxmox_kvm_migrations";

/// One step of a migration.
pub enum Step {
    /// A statement that is safe to run again (`CREATE TABLE IF NOT EXISTS ...`).
    Sql(&'static str),
    /// Adds index `name` on `columns` to `table` unless an index of that name exists.
    Index {
        table: &'static str,
        name: &'static str,
        columns: &'static str,
    },
    /// Adds each `(column, definition)` to `table` unless the column exists.
    Columns {
        table: &'static str,
        columns: &'static [(&'static str, &'static str)],
    },
}

/// A numbered schema change.
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub steps: &'static [Step],
    /// The tables this migration creates (dropped on deactivation when asked to).
    pub tables: &'static [&'static str],
}

const TABLE_OPTIONS: &str = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";

/// Every migration, oldest first. Append only: a released migration never changes.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "vm table and settings",
        tables: &["puqProxmoxKVM_vm_info", "puq_proxmox_kvm_settings"],
        steps: &[
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puqProxmoxKVM_vm_info` (",
                "`service_id` int(10) NOT NULL,",
                "PRIMARY KEY (`service_id`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            Step::Columns {
                table: "puqProxmoxKVM_vm_info",
                columns: &[
                    ("vm_id", "int(10) unsigned DEFAULT NULL"),
                    ("vm_name", "varchar(128) NOT NULL DEFAULT ''"),
                    ("vm_node", "varchar(64) NOT NULL DEFAULT ''"),
                    ("vm_status", "varchar(48) NOT NULL DEFAULT 'creation'"),
                    ("vm_net0_mac", "varchar(17) NOT NULL DEFAULT ''"),
                    ("vm_rev_dns", "text DEFAULT NULL"),
                    ("vm_snapshots", "int(10) NOT NULL DEFAULT 0"),
                    ("vm_backups", "int(10) NOT NULL DEFAULT 0"),
                    ("vm_backup_now_utid", "varchar(255) NOT NULL DEFAULT ''"),
                    ("vm_backup_restore_utid", "varchar(255) NOT NULL DEFAULT ''"),
                    ("vm_backup_schedule", "text DEFAULT NULL"),
                    ("created_at", "datetime NOT NULL DEFAULT CURRENT_TIMESTAMP"),
                    (
                        "updated_at",
                        "datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
                    ),
                ],
            },
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_settings` (",
                "`setting` varchar(64) NOT NULL,",
                "`value` text NOT NULL,",
                "`updated_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,",
                "PRIMARY KEY (`setting`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
        ],
    },
    Migration {
        version: 2,
        name: "cron task state and locks",
        tables: &["puq_proxmox_kvm_cron_tasks", "puq_proxmox_kvm_locks"],
        steps: &[
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_cron_tasks` (",
                "`task` varchar(64) NOT NULL,",
                "`last_started_at` datetime DEFAULT NULL,",
                "`last_finished_at` datetime DEFAULT NULL,",
                "`last_status` varchar(16) NOT NULL DEFAULT 'never',",
                "`last_duration_ms` int(10) unsigned NOT NULL DEFAULT 0,",
                "`last_processed` int(10) unsigned NOT NULL DEFAULT 0,",
                "`last_errors` int(10) unsigned NOT NULL DEFAULT 0,",
                "`last_message` text DEFAULT NULL,",
                "PRIMARY KEY (`task`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_locks` (",
                "`name` varchar(64) NOT NULL,",
                "`owner` varchar(191) NOT NULL,",
                "`acquired_at` datetime NOT NULL,",
                "`expires_at` datetime NOT NULL,",
                "PRIMARY KEY (`name`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
        ],
    },
    Migration {
        version: 3,
        name: "vm run log",
        tables: &["puq_proxmox_kvm_vm_runs"],
        steps: &[Step::Sql(concat!(
            "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_vm_runs` (",
            "`id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,",
            "`service_id` int(10) NOT NULL,",
            "`kind` varchar(32) NOT NULL,",
            "`started_at` datetime(3) NOT NULL,",
            "`finished_at` datetime(3) DEFAULT NULL,",
            "`result` varchar(16) NOT NULL DEFAULT 'running',",
            "`error` text DEFAULT NULL,",
            "`steps` mediumtext NOT NULL,",
            "PRIMARY KEY (`id`),",
            "KEY `service_runs` (`service_id`,`id`)",
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        ))],
    },
    Migration {
        version: 4,
        name: "vm pipeline state",
        tables: &[],
        steps: &[
            Step::Columns {
                table: "puqProxmoxKVM_vm_info",
                columns: &[
                    ("vm_task_upid", "varchar(255) NOT NULL DEFAULT ''"),
                    ("vm_pipeline_data", "mediumtext DEFAULT NULL"),
                    ("vm_attempts", "int(10) unsigned NOT NULL DEFAULT 0"),
                    ("vm_last_error", "text DEFAULT NULL"),
                    ("vm_next_attempt_at", "datetime DEFAULT NULL"),
                    ("vm_lease_owner", "varchar(191) NOT NULL DEFAULT ''"),
                    ("vm_lease_until", "datetime DEFAULT NULL"),
                    ("vm_run_id", "bigint(20) unsigned DEFAULT NULL"),
                ],
            },
            Step::Index {
                table: "puqProxmoxKVM_vm_info",
                name: "vm_work",
                columns: "`vm_status`, `vm_next_attempt_at`",
            },
        ],
    },
    Migration {
        version: 5,
        name: "vm list index",
        tables: &["puq_proxmox_kvm_vm_list", "puq_proxmox_kvm_vm_terms"],
        steps: &[
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_vm_list` (",
                "`service_id` int(10) NOT NULL,",
                "`client_id` int(10) DEFAULT NULL,",
                "`client_name` varchar(191) NOT NULL DEFAULT '',",
                "`product` varchar(191) NOT NULL DEFAULT '',",
                "`server` varchar(191) NOT NULL DEFAULT '',",
                "`service_status` varchar(16) NOT NULL DEFAULT '',",
                "`source_hash` char(32) NOT NULL,",
                "PRIMARY KEY (`service_id`),",
                "KEY `client_name` (`client_name`, `service_id`),",
                "KEY `product` (`product`, `service_id`),",
                "KEY `server` (`server`, `service_id`),",
                "KEY `service_status` (`service_status`, `service_id`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_vm_terms` (",
                "`term` varchar(128) NOT NULL,",
                "`service_id` int(10) NOT NULL,",
                "PRIMARY KEY (`term`, `service_id`),",
                "KEY `service_id` (`service_id`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            Step::Index {
                table: "puqProxmoxKVM_vm_info",
                name: "vm_status_service",
                columns: "`vm_status`, `service_id`",
            },
            Step::Index {
                table: "puqProxmoxKVM_vm_info",
                name: "vm_id",
                columns: "`vm_id`",
            },
        ],
    },
    Migration {
        version: 6,
        name: "ip pools and address allocations",
        tables: &["puq_proxmox_kvm_ip_pools", "puq_proxmox_kvm_ip_allocations"],
        steps: &[
            // start_num/stop_num: the ends as numbers (IPv4 mapped into ::ffff:0:0/96), so one
            // ordered column serves both families; DECIMAL(39,0) holds any 128-bit value exactly.
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_ip_pools` (",
                "`id` int(10) unsigned NOT NULL AUTO_INCREMENT,",
                "`server_id` int(10) NOT NULL,",
                "`type` varchar(4) NOT NULL,",
                "`bridge` varchar(32) NOT NULL,",
                "`vlan` smallint(5) unsigned NOT NULL DEFAULT 0,",
                "`gateway` varchar(45) NOT NULL,",
                "`mask` tinyint(3) unsigned NOT NULL,",
                "`dns1` varchar(45) NOT NULL DEFAULT '',",
                "`dns2` varchar(45) NOT NULL DEFAULT '',",
                "`address_start` varchar(45) NOT NULL,",
                "`address_stop` varchar(45) NOT NULL,",
                "`start_num` decimal(39,0) NOT NULL,",
                "`stop_num` decimal(39,0) NOT NULL,",
                "`legacy_pool_id` int(10) DEFAULT NULL,",
                "`created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,",
                "`updated_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,",
                "PRIMARY KEY (`id`),",
                "KEY `server_range` (`server_id`,`type`,`start_num`),",
                "UNIQUE KEY `legacy` (`legacy_pool_id`,`server_id`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            // One row per address held by a service. The UNIQUE key on `address` is what makes
            // a claim safe across processes and hosts: pool and legacy-list addresses alike.
            // bridge..dns are copied from the source at allocation, so editing a pool never
            // changes an address already handed out.
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_ip_allocations` (",
                "`id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,",
                "`address` decimal(39,0) NOT NULL,",
                "`ip` varchar(45) NOT NULL,",
                "`family` tinyint(3) unsigned NOT NULL,",
                "`service_id` int(10) NOT NULL,",
                "`server_id` int(10) NOT NULL,",
                "`pool_id` int(10) unsigned DEFAULT NULL,",
                "`source` varchar(8) NOT NULL,",
                "`bridge` varchar(32) NOT NULL,",
                "`vlan` smallint(5) unsigned NOT NULL DEFAULT 0,",
                "`gateway` varchar(45) NOT NULL,",
                "`prefix` tinyint(3) unsigned NOT NULL,",
                "`dns` varchar(255) NOT NULL DEFAULT '',",
                "`created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,",
                "PRIMARY KEY (`id`),",
                "UNIQUE KEY `address` (`address`),",
                "KEY `service` (`service_id`),",
                "KEY `pool` (`pool_id`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
        ],
    },
    Migration {
        version: 7,
        name: "dns zones and the records each vm manages",
        tables: &["puq_proxmox_kvm_dns_zones"],
        steps: &[
            Step::Sql(concat!(
                "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_dns_zones` (",
                "`id` int(10) unsigned NOT NULL AUTO_INCREMENT,",
                "`zone` varchar(253) NOT NULL,",
                "`type` varchar(16) NOT NULL,",
                "`settings` text NOT NULL,",
                "`secrets` text NOT NULL,",
                "`created_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,",
                "`updated_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,",
                "PRIMARY KEY (`id`),",
                "UNIQUE KEY `zone_type` (`zone`,`type`)",
                ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
            )),
            Step::Columns {
                table: "puqProxmoxKVM_vm_info",
                columns: &[("vm_dns_managed", "text DEFAULT NULL")],
            },
        ],
    },
    Migration {
        version: 8,
        name: "product settings beyond the 24 WHMCS slots",
        tables: &["puq_proxmox_kvm_product_settings"],
        steps: &[Step::Sql(concat!(
            "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_product_settings` (",
            "`product_id` int(10) NOT NULL,",
            "`setting` varchar(64) NOT NULL,",
            "`value` text NOT NULL,",
            "PRIMARY KEY (`product_id`,`setting`)",
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        ))],
    },
    Migration {
        version: 9,
        name: "vm password for cloud-init",
        tables: &[],
        steps: &[Step::Columns {
            table: "puqProxmoxKVM_vm_info",
            columns: &[("vm_password_sealed", "text DEFAULT NULL")],
        }],
    },
    Migration {
        version: 10,
        name: "vm list sorted by VM within a VM status",
        tables: &[],
        // The VM Management list filtered by VM status and sorted by VM reads a page straight
        // from this index (the primary key, service_id, breaks ties inside it).
        steps: &[Step::Index {
            table: "puqProxmoxKVM_vm_info",
            name: "vm_status_vm_id",
            columns: "`vm_status`, `vm_id`",
        }],
    },
    Migration {
        version: 11,
        name: "email outbox",
        tables: &["puq_proxmox_kvm_email_outbox"],
        // One row per email a step earned (see `outbox`): `once` stops a step that runs again
        // after a crash from queueing it twice; the claim, two cron processes from sending
        // one email twice.
        steps: &[Step::Sql(concat!(
            "CREATE TABLE IF NOT EXISTS `puq_proxmox_kvm_email_outbox` (",
            "`id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,",
            "`service_id` int(10) NOT NULL,",
            "`run_id` bigint(20) unsigned NOT NULL DEFAULT 0,",
            "`template` varchar(191) NOT NULL,",
            "`queued_at` datetime NOT NULL,",
            "`sent_at` datetime DEFAULT NULL,",
            "`attempts` int(10) unsigned NOT NULL DEFAULT 0,",
            "`last_error` text DEFAULT NULL,",
            "`claimed_by` varchar(96) NOT NULL DEFAULT '',",
            "`claim_until` datetime DEFAULT NULL,",
            "PRIMARY KEY (`id`),",
            "UNIQUE KEY `once` (`service_id`, `run_id`, `template`),",
            "KEY `pending` (`sent_at`, `attempts`)",
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        ))],
    },
];

/// The newest schema version this build knows.
pub fn latest_version() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Every table the module owns, the migrations table last.
pub fn module_tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = MIGRATIONS
        .iter()
        .flat_map(|m| m.tables.iter().copied())
        .collect();
    tables.push(MIGRATIONS_TABLE);
    tables
}

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationReport {
    /// Schema version before the run (0: none).
    pub from: u32,
    /// Schema version after the run.
    pub to: u32,
    /// The versions applied by this run.
    pub applied: Vec<u32>,
}

/// The schema version of the database (0 when the module was never activated).
pub async fn current_version(conn: &mut Conn) -> Result<u32> {
    if !table_exists(conn, MIGRATIONS_TABLE).await? {
        return Ok(0);
    }
    let v: Option<Option<u32>> = first(
        conn,
        &format!("SELECT MAX(version) FROM `{MIGRATIONS_TABLE}`"),
        (),
    )
    .await
    .map_err(|e| {
        e.context(format!(
            "{MIGRATIONS_TABLE} is not the module's migrations table"
        ))
    })?;
    Ok(v.flatten().unwrap_or(0))
}

/// Brings the schema up to `target` (the latest version when `None`).
///
/// # Errors
/// [`Error::Conflict`] when the database is newer than this build (downgrades are refused),
/// or another activation holds the migration lock for over a minute; [`Error::Database`]
/// naming the migration that failed.
pub async fn migrate(conn: &mut Conn, target: Option<u32>) -> Result<MigrationReport> {
    let target = target.unwrap_or_else(latest_version);
    let locked: Option<Option<i64>> = first(
        conn,
        "SELECT GET_LOCK(CONCAT('puq_proxmox_kvm.migrate.', DATABASE()), 60)",
        (),
    )
    .await?;
    if locked.flatten() != Some(1) {
        return Err(Error::Conflict(
            "another activation is upgrading the module's tables - try again in a minute".into(),
        ));
    }
    let result = migrate_locked(conn, target).await;
    let _ = conn
        .query_drop("DO RELEASE_LOCK(CONCAT('puq_proxmox_kvm.migrate.', DATABASE()))")
        .await;
    result
}

async fn migrate_locked(conn: &mut Conn, target: u32) -> Result<MigrationReport> {
    conn.query_drop(format!(
        "CREATE TABLE IF NOT EXISTS `{MIGRATIONS_TABLE}` (\
         `version` int(10) unsigned NOT NULL, \
         `name` varchar(191) NOT NULL, \
         `applied_at` datetime NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         PRIMARY KEY (`version`)) {TABLE_OPTIONS}"
    ))
    .await?;
    let from = current_version(conn).await?;
    if from > latest_version() {
        return Err(Error::Conflict(format!(
            "the database holds schema version {from} but this build knows only up to {} - install the newer module files again",
            latest_version()
        )));
    }
    let mut applied = Vec::new();
    for migration in MIGRATIONS
        .iter()
        .filter(|m| m.version > from && m.version <= target)
    {
        for step in migration.steps {
            run_step(conn, step).await.map_err(|e| {
                e.context(format!(
                    "unable to apply schema migration {} ({})",
                    migration.version, migration.name
                ))
            })?;
        }
        conn.exec_drop(
            format!("INSERT IGNORE INTO `{MIGRATIONS_TABLE}` (version, name) VALUES (?, ?)"),
            (migration.version, migration.name),
        )
        .await?;
        applied.push(migration.version);
    }
    let to = current_version(conn).await?;
    Ok(MigrationReport { from, to, applied })
}

async fn run_step(conn: &mut Conn, step: &Step) -> Result<()> {
    match step {
        Step::Sql(sql) => conn.query_drop(*sql).await?,
        Step::Index {
            table,
            name,
            columns,
        } => {
            let exists: Option<u64> = first(
                conn,
                "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = ? AND INDEX_NAME = ?",
                (*table, *name),
            )
            .await?;
            if exists.unwrap_or(0) == 0 {
                conn.query_drop(format!(
                    "ALTER TABLE `{table}` ADD INDEX `{name}` ({columns})"
                ))
                .await?;
            }
        }
        Step::Columns { table, columns } => {
            let existing = table_columns(conn, table).await?;
            for (name, definition) in *columns {
                if !existing.iter().any(|c| c.eq_ignore_ascii_case(name)) {
                    conn.query_drop(format!(
                        "ALTER TABLE `{table}` ADD COLUMN `{name}` {definition}"
                    ))
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Drops every table of the module. Returns the tables that existed and were dropped.
pub async fn drop_all(conn: &mut Conn) -> Result<Vec<String>> {
    let mut dropped = Vec::new();
    for table in module_tables() {
        if table_exists(conn, table).await? {
            conn.query_drop(format!("DROP TABLE `{table}`")).await?;
            dropped.push(table.to_string());
        }
    }
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(
                m.version as usize,
                i + 1,
                "migration {} out of order",
                m.name
            );
        }
    }

    #[test]
    fn every_table_is_prefixed_or_the_documented_vm_table() {
        for t in module_tables() {
            assert!(
                t.starts_with("puq_proxmox_kvm_") || t == "puqProxmoxKVM_vm_info",
                "{t} breaks the naming rule"
            );
        }
    }
}
