//! [`Kvm`]: one connected installation of the module, the entry point to every capability.

use crate::addon::{self, Activation, Dashboard, Deactivation};
use crate::db::{Db, DbConfig};
use crate::error::Result;
use crate::settings::Settings;
use serde_json::{Map, Value};

/// The module connected to one WHMCS database.
#[derive(Clone)]
pub struct Kvm {
    db: Db,
    encryption_key: Option<String>,
}

impl Kvm {
    /// Connects and checks the database answers.
    ///
    /// # Errors
    /// [`crate::Error::Database`] saying which server and why.
    pub async fn connect(config: DbConfig, encryption_key: Option<String>) -> Result<Kvm> {
        let db = Db::open(&config);
        db.ping().await?;
        Ok(Kvm { db, encryption_key })
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The key material for secrets at rest (WHMCS's `cc_encryption_hash`).
    pub fn encryption_key(&self) -> Option<&str> {
        self.encryption_key.as_deref()
    }

    pub async fn activate(&self) -> Result<Activation> {
        addon::activate(&self.db).await
    }

    pub async fn deactivate(&self) -> Result<Deactivation> {
        addon::deactivate(&self.db).await
    }

    pub async fn dashboard(&self) -> Result<Dashboard> {
        addon::dashboard(&self.db).await
    }

    pub async fn settings(&self) -> Result<Settings> {
        let mut conn = self.db.conn().await?;
        Settings::load(&mut conn).await
    }

    /// The DNS zones table, with this installation's key for the credentials.
    pub fn dns_zones(&self) -> crate::dns::zones::ZoneStore<'_> {
        crate::dns::zones::ZoneStore::new(&self.db, self.encryption_key())
    }

    pub async fn save_settings(&self, changes: &Map<String, Value>) -> Result<Settings> {
        let mut conn = self.db.conn().await?;
        Settings::save(&mut conn, changes).await
    }

    /// IP pool management and address allocation.
    pub fn ip_pools(&self) -> crate::ipam::IpPools {
        crate::ipam::IpPools::new(self.db.clone())
    }
}
