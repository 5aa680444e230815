//! Shared by the Rust integration tests: a scratch MariaDB database per test, with the WHMCS
//! tables of the harness (`tests/whmcs/schema.sql`), dropped when the test ends.
//!
//! MariaDB is reached as root on 127.0.0.1:3306 unless `PUQ_TEST_DB_HOST`, `PUQ_TEST_DB_PORT`,
//! `PUQ_TEST_DB_USER` and `PUQ_TEST_DB_PASSWORD` say otherwise.

#![allow(dead_code)]

pub mod pdns;
pub mod pve;

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use puq_proxmox_kvm::db::{Db, DbConfig};
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::runtime::block_on;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// A database that exists for the life of the value.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// An empty database.
    pub fn empty() -> TestDb {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "puq_rt_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos % 100_000
        );
        let db = TestDb { name };
        db.sql(&format!("CREATE DATABASE `{}`", db.name), false);
        db
    }

    /// A database with WHMCS's tables (as the harness defines them), module not activated.
    pub fn whmcs() -> TestDb {
        let db = TestDb::empty();
        let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/whmcs/schema.sql");
        let sql = std::fs::read_to_string(schema).expect("tests/whmcs/schema.sql is readable");
        db.sql(&sql, true);
        db
    }

    /// Runs SQL through the `mariadb` client, in this database when `in_db`.
    pub fn sql(&self, sql: &str, in_db: bool) -> String {
        let mut cmd = Command::new("mariadb");
        cmd.args([
            "-h",
            &env("PUQ_TEST_DB_HOST", "127.0.0.1"),
            "-P",
            &env("PUQ_TEST_DB_PORT", "3306"),
            "-u",
            &env("PUQ_TEST_DB_USER", "root"),
            "-N",
            "-B",
        ]);
        let password = env("PUQ_TEST_DB_PASSWORD", "");
        if !password.is_empty() {
            cmd.arg(format!("-p{password}"));
        }
        if in_db {
            cmd.arg(&self.name);
        }
        cmd.arg("-e").arg(sql);
        let out = cmd.output().expect("the mariadb client runs");
        assert!(
            out.status.success(),
            "SQL failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            sql.chars().take(300).collect::<String>()
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// One value from a query in this database.
    pub fn value(&self, sql: &str) -> String {
        self.sql(sql, true)
    }

    pub fn config(&self) -> DbConfig {
        DbConfig::new(
            &env("PUQ_TEST_DB_HOST", "127.0.0.1"),
            env("PUQ_TEST_DB_PORT", "3306").parse().ok(),
            &env("PUQ_TEST_DB_USER", "root"),
            &env("PUQ_TEST_DB_PASSWORD", ""),
            &self.name,
            None,
        )
        .expect("valid test database settings")
    }

    pub fn db(&self) -> Db {
        Db::open(&self.config())
    }

    pub fn kvm(&self) -> Kvm {
        block_on(Kvm::connect(self.config(), Some("test-key".into()))).expect("connects")
    }

    /// The module's tables present in this database, sorted.
    pub fn module_tables(&self) -> Vec<String> {
        let out = self.value(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
             AND (TABLE_NAME LIKE 'puq\\_proxmox\\_kvm\\_%' OR TABLE_NAME = 'puqProxmoxKVM_vm_info') ORDER BY TABLE_NAME",
        );
        out.lines().map(str::to_string).collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = Command::new("mariadb")
            .args([
                "-h",
                &env("PUQ_TEST_DB_HOST", "127.0.0.1"),
                "-P",
                &env("PUQ_TEST_DB_PORT", "3306"),
                "-u",
                &env("PUQ_TEST_DB_USER", "root"),
            ])
            .arg("-e")
            .arg(format!("DROP DATABASE IF EXISTS `{}`", self.name))
            .output();
    }
}
