//! IP address management: pools (validated definitions, management), the legacy address list
//! on a server entry, allocation to services, and the one-time import of the PUQ Customization
//! pools.
//!
//! # Never twice
//! Every address a service holds is a row of `puq_proxmox_kvm_ip_allocations`, whose UNIQUE key
//! on the address (pool and list addresses alike, IPv4 mapped into IPv6) is the only guard:
//! a claim is one INSERT, and a duplicate-key answer means "taken, try another", never "check
//! then write". A service's claims happen in one transaction, so it gets all its addresses or none.

pub mod alloc;
pub mod import;
pub mod legacy;
pub mod pool;
pub mod pools;
pub mod service;

use mysql_async::prelude::Queryable;
use mysql_async::Conn;

use crate::error::{Error, Result};

/// A stored number as an SQL parameter: a decimal string, bound where the SQL casts it with
/// `CAST(? AS DECIMAL(39,0))` so it is compared exactly, never as a double.
pub(crate) fn num_param(n: u128) -> String {
    n.to_string()
}

/// A DECIMAL(39,0) value read back as text.
pub(crate) fn dec(text: &str) -> Result<u128> {
    text.trim()
        .split('.')
        .next()
        .unwrap_or_default()
        .parse::<u128>()
        .map_err(|_| {
            Error::Database(format!(
                "an address number in the database is not a number: '{text}'"
            ))
        })
}

/// Whether `err` is a duplicate-key refusal (error 1062).
pub(crate) fn is_duplicate(err: &mysql_async::Error) -> bool {
    matches!(err, mysql_async::Error::Server(s) if s.code == 1062)
}

/// Runs `body` in a READ COMMITTED transaction: committed when it returns `Ok`, rolled back
/// otherwise. READ COMMITTED so each read sees what other allocators committed meanwhile.
pub(crate) async fn transaction<T>(
    conn: &mut Conn,
    body: impl AsyncFnOnce(&mut Conn) -> Result<T>,
) -> Result<T> {
    // One round trip: the isolation level applies to the transaction started right after it.
    conn.query_drop("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; START TRANSACTION")
        .await?;
    let (result, clean) = match body(conn).await {
        Ok(v) => match conn.query_drop("COMMIT").await {
            Ok(()) => (Ok(v), true),
            Err(e) => (Err(Error::from(e)), false),
        },
        Err(e) => {
            let clean = conn.query_drop("ROLLBACK").await.is_ok();
            (Err(e), clean)
        }
    };
    if clean {
        // The transaction ended and left no session state (the isolation level was for this
        // transaction only), so the connection goes back to the pool without a reset: that
        // keeps its prepared statements and saves a prepare round trip per statement on the
        // next call, about half the cost of an allocation.
        conn.reset_connection(false);
    }
    result
}

/// The IPAM capability of a connected module: pools and allocation.
#[derive(Clone)]
pub struct IpPools {
    db: crate::db::Db,
}

impl IpPools {
    pub fn new(db: crate::db::Db) -> IpPools {
        IpPools { db }
    }

    /// See [`pools::create`].
    pub async fn create(&self, fields: &serde_json::Map<String, serde_json::Value>) -> Result<u32> {
        pools::create(&self.db, fields).await
    }

    /// See [`pools::update`].
    pub async fn update(
        &self,
        id: u32,
        fields: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        pools::update(&self.db, id, fields).await
    }

    /// See [`pools::delete`].
    pub async fn delete(&self, id: u32) -> Result<()> {
        pools::delete(&self.db, id).await
    }

    /// See [`pools::get`].
    pub async fn get(&self, id: u32) -> Result<pools::PoolView> {
        pools::get(&self.db, id).await
    }

    /// See [`pools::list`].
    pub async fn list(&self) -> Result<Vec<pools::PoolView>> {
        pools::list(&self.db).await
    }

    /// See [`pools::servers`].
    pub async fn servers(&self) -> Result<Vec<pools::ServerChoice>> {
        pools::servers(&self.db).await
    }

    /// See [`alloc::allocate`].
    pub async fn allocate(&self, service_id: u32) -> Result<Vec<alloc::Assigned>> {
        alloc::allocate(&self.db, service_id).await
    }

    /// See [`alloc::resize`].
    pub async fn resize(&self, service_id: u32) -> Result<Vec<alloc::Assigned>> {
        alloc::resize(&self.db, service_id).await
    }

    /// See [`alloc::release`].
    pub async fn release(&self, service_id: u32) -> Result<u64> {
        alloc::release(&self.db, service_id).await
    }

    /// See [`alloc::addresses`].
    pub async fn addresses(&self, service_id: u32) -> Result<Vec<alloc::Assigned>> {
        alloc::addresses(&self.db, service_id).await
    }
}
