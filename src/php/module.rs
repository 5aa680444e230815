//! `PuqProxmoxKvm\Module`: build information, the database connection, and the addon's life
//! cycle, Dashboard and settings.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use serde_json::{Map, Value};

use super::convert::{array_to_map, map_to_array, to_array};
use crate::build_info;
use crate::db::DbConfig;
use crate::error::{Error, Result};
use crate::module::Kvm;
use crate::runtime::block_on;

/// The module connected to the WHMCS database. Get one with `Module::connect()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Module")]
pub struct PhpModule {
    kvm: Kvm,
}

fn text(map: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Error::validation(key, "must be a string")),
    }
}

fn port(map: &Map<String, Value>) -> Result<Option<i64>> {
    match map.get("port") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_i64()),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| Error::validation("port", format!("must be a number, got '{s}'"))),
        Some(_) => Err(Error::validation("port", "must be a number")),
    }
}

fn db_config(db: &Map<String, Value>) -> Result<(DbConfig, Option<String>)> {
    let config = DbConfig::new(
        &text(db, "host")?.unwrap_or_default(),
        port(db)?,
        &text(db, "user")?.unwrap_or_default(),
        &text(db, "password")?.unwrap_or_default(),
        &text(db, "database")?.unwrap_or_default(),
        text(db, "socket")?.as_deref(),
    )?;
    let key = text(db, "encryption_key")?.filter(|k| !k.is_empty());
    Ok((config, key))
}

#[php_impl]
impl PhpModule {
    /// The module's version and the git revision it was built from: `0.1.0 (rev 1a2b3c4d5e6f)`.
    pub fn version() -> String {
        build_info::version_string()
    }

    /// Build details: `version`, `revision`, `php_api` (the PHP API number the extension was
    /// built for) and `php_version`.
    pub fn build_info() -> ZBox<ZendHashTable> {
        let mut m = Map::new();
        m.insert("version".into(), build_info::VERSION.into());
        m.insert("revision".into(), build_info::REVISION.into());
        m.insert("php_api".into(), build_info::PHP_API.into());
        m.insert("php_version".into(), build_info::PHP_VERSION.into());
        map_to_array(&m)
    }

    /// Connects to the WHMCS database and checks it answers.
    ///
    /// `$db` holds WHMCS's configuration.php settings: `host` ($db_host, may carry `:port`),
    /// `port` ($db_port), `user` ($db_username), `password` ($db_password), `database`
    /// ($db_name), optional `socket`, and `encryption_key` ($cc_encryption_hash), the key
    /// material for secrets stored by the module.
    ///
    /// @throws Exception\ValidationException when a setting is missing or malformed
    /// @throws Exception\DatabaseException saying which server and why when it cannot connect
    pub fn connect(db: &ZendHashTable) -> PhpResult<PhpModule> {
        let db = array_to_map(db, "db")?;
        let (config, key) = db_config(&db)?;
        let kvm = block_on(Kvm::connect(config, key))?;
        Ok(PhpModule { kvm })
    }

    /// Creates or upgrades the module's tables in place; safe to repeat, never loses a row.
    /// Returns `message`, and `migrations` with `from`, `to` (schema versions) and `applied`.
    pub fn activate(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let report = block_on(self.kvm.activate())?;
        Ok(to_array(&report)?)
    }

    /// Drops the module's tables only when the "Delete all database tables" setting is on.
    /// Returns `message` and `dropped` (the table names).
    pub fn deactivate(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let report = block_on(self.kvm.deactivate())?;
        Ok(to_array(&report)?)
    }

    /// The Dashboard's figures: `ip_pools`, `dns_zones` (null while that section has no
    /// table) and `kvm_services` (active services of this module's products).
    pub fn dashboard(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let dashboard = block_on(self.kvm.dashboard())?;
        Ok(to_array(&dashboard)?)
    }

    /// The VMs of the module: the VM Management list and admin actions.
    pub fn vms(&self) -> super::vms::PhpVms {
        super::vms::PhpVms {
            kvm: self.kvm.clone(),
        }
    }

    /// The module's scheduled tasks.
    pub fn cron(&self) -> super::cron::PhpCron {
        super::cron::PhpCron {
            kvm: self.kvm.clone(),
        }
    }

    /// Every setting as `name => value`: `default_timeout`, `heavy_timeout`,
    /// `migration_enabled`, `migration_timeout`, `delete_tables_on_deactivate`, `cron_mode`
    /// (`hook` or `standalone`), `cron_lock_timeout`, and `interval_<task>` in minutes.
    pub fn settings(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let settings = block_on(self.kvm.settings())?;
        Ok(map_to_array(&settings.to_map()))
    }

    /// IP pools and address allocation.
    pub fn ip_pools(&self) -> super::ipam::PhpIpPools {
        super::ipam::PhpIpPools::new(self.kvm.ip_pools())
    }

    /// The DNS zones and the sync of a service's records.
    pub fn dns_zones(&self) -> super::dns::PhpDnsZones {
        super::dns::PhpDnsZones::new(self.kvm.clone())
    }

    /// Validates and saves the settings given (others keep their value); returns all of them.
    /// Nothing is saved when any value is invalid.
    ///
    /// @throws Exception\ValidationException naming the field and its allowed range
    pub fn save_settings(&self, values: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let values = array_to_map(values, "settings")?;
        let settings = block_on(self.kvm.save_settings(&values))?;
        Ok(map_to_array(&settings.to_map()))
    }

    /// Proxmox VE operations for a server entry (Test Connection).
    pub fn proxmox(&self) -> super::proxmox::PhpProxmox {
        super::proxmox::PhpProxmox {
            kvm: self.kvm.clone(),
        }
    }

    /// Product configuration: module settings, product settings, a service's effective values.
    pub fn products(&self) -> super::products::PhpProducts {
        super::products::PhpProducts {
            kvm: self.kvm.clone(),
        }
    }
}
