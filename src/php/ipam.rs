//! `PuqProxmoxKvm\Net` (address helpers) and `PuqProxmoxKvm\IpPools` (pools and allocation).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use super::convert::{array_to_map, positive_id, to_array};
use crate::error::{Error, Result};
use crate::ipam::IpPools;
use crate::net;
use crate::runtime::block_on;

/// Address helpers: reverse names and reverse zones.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Net")]
pub struct PhpNet;

#[php_impl]
impl PhpNet {
    /// The PTR owner name of an address, without a trailing dot:
    /// `'192.168.1.10'` gives `'10.1.168.192.in-addr.arpa'`.
    ///
    /// @throws Exception\ValidationException when `$ip` is not an address
    pub fn reverse_name(ip: String) -> PhpResult<String> {
        Ok(net::reverse_name(net::parse_ip(&ip, "ip")?))
    }

    /// The reverse zone of the network `$ip`/`$prefix`: IPv4 prefixes round down to /24, /16
    /// or /8, IPv6 prefixes to a nibble boundary. `('192.168.130.2', 24)` gives
    /// `'130.168.192.in-addr.arpa'`; `('2001:db8::1', 32)` gives `'8.b.d.0.1.0.0.2.ip6.arpa'`.
    ///
    /// @throws Exception\ValidationException for a malformed address, or a prefix shorter than
    /// /8 (IPv4) or /4 (IPv6) or longer than the family allows
    pub fn rdns_zone(ip: String, prefix: i64) -> PhpResult<String> {
        let ip = net::parse_ip(&ip, "ip")?;
        let prefix = u8::try_from(prefix).map_err(|_| {
            Error::validation("prefix", format!("must be a prefix length, got {prefix}"))
        })?;
        Ok(net::rdns_zone(ip, prefix)?)
    }
}

/// IP pools of the Proxmox servers and the addresses services hold. Get it with
/// `$kvm->ipPools()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\IpPools")]
pub struct PhpIpPools {
    pools: IpPools,
}

impl PhpIpPools {
    pub fn new(pools: IpPools) -> Self {
        PhpIpPools { pools }
    }
}

fn id(value: i64, field: &str) -> Result<u32> {
    positive_id(value, field, "")
}

fn list<T: serde::Serialize>(items: &[T]) -> Result<ZBox<ZendHashTable>> {
    let mut ht = ZendHashTable::with_capacity(items.len() as u32);
    for item in items {
        ht.push(to_array(item)?)
            .map_err(|e| Error::Database(format!("internal: {e}")))?;
    }
    Ok(ht)
}

#[php_impl]
impl PhpIpPools {
    /// Creates a pool from `server_id`, `type` (`IPv4`/`IPv6`), `bridge`, `vlan` (0 =
    /// untagged), `gateway`, `mask` (prefix length), `dns1`, `dns2`, `address_start`,
    /// `address_stop`. Returns the new pool's id.
    ///
    /// @throws Exception\ValidationException naming the field and the fix (overlaps name the other pool)
    pub fn create(&self, fields: &ZendHashTable) -> PhpResult<i64> {
        let fields = array_to_map(fields, "fields")?;
        Ok(i64::from(block_on(self.pools.create(&fields))?))
    }

    /// Changes the fields given; the others keep their value. Addresses already handed out
    /// keep what they were given.
    ///
    /// @throws Exception\NotFoundException when there is no such pool
    /// @throws Exception\ValidationException naming the field and the fix
    pub fn update(&self, id: i64, fields: &ZendHashTable) -> PhpResult<()> {
        let fields = array_to_map(fields, "fields")?;
        block_on(self.pools.update(self::id(id, "id")?, &fields))?;
        Ok(())
    }

    /// Deletes a pool that has no address assigned.
    ///
    /// @throws Exception\NotFoundException when there is no such pool
    /// @throws Exception\ConflictException naming how many addresses and which services hold them
    pub fn delete(&self, id: i64) -> PhpResult<()> {
        block_on(self.pools.delete(self::id(id, "id")?))?;
        Ok(())
    }

    /// One pool: its fields plus `server_name`, `total`, `used`, `free`, `usage_percent` and
    /// `rdns_zone`. `total` and `free` are strings when above PHP_INT_MAX (large IPv6 pools).
    ///
    /// @throws Exception\NotFoundException when there is no such pool
    pub fn get(&self, id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let pool = block_on(self.pools.get(self::id(id, "id")?))?;
        Ok(to_array(&pool)?)
    }

    /// Every pool, as `get()` returns them, by server then id.
    pub fn list(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let pools = block_on(self.pools.list())?;
        Ok(list(&pools)?)
    }

    /// The Proxmox KVM servers a pool can belong to: `id`, `name`, `hostname`, by name.
    pub fn servers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let servers = block_on(self.pools.servers())?;
        Ok(list(&servers)?)
    }

    /// Gives the service the addresses its product and configurable options ask for and
    /// records them in tblhosting (dedicatedip: the first IPv4; assignedips: the rest).
    /// Idempotent; all or nothing. Returns each address with `family`, `address`, `bridge`,
    /// `vlan`, `gateway`, `prefix`, `dns` (list), `pool_id` (null for the server's list) and
    /// `source` (`pool` or `list`).
    ///
    /// @throws Exception\ConflictException naming the server, family, needed and free counts
    /// @throws Exception\NotFoundException for an unknown service
    pub fn allocate(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let addresses = block_on(self.pools.allocate(id(service_id, "service_id")?))?;
        Ok(list(&addresses)?)
    }

    /// Change package: brings the service to exactly what its package asks for now, keeping
    /// the addresses it has where it can. Returns the addresses as `allocate()` does.
    ///
    /// @throws Exception\ConflictException when the new counts cannot be met (nothing changes)
    pub fn resize(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let addresses = block_on(self.pools.resize(id(service_id, "service_id")?))?;
        Ok(list(&addresses)?)
    }

    /// Returns every address of the service to its source and clears them from tblhosting.
    /// Returns how many were released.
    pub fn release(&self, service_id: i64) -> PhpResult<i64> {
        let n = block_on(self.pools.release(id(service_id, "service_id")?))?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }

    /// The addresses the service holds, as `allocate()` returns them.
    pub fn addresses(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let addresses = block_on(self.pools.addresses(id(service_id, "service_id")?))?;
        Ok(list(&addresses)?)
    }
}

/// Registers `Net` and `IpPools`.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.class::<PhpNet>().class::<PhpIpPools>()
}
