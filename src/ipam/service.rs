//! What a service needs from IPAM, read from WHMCS's tables: its server, the product's network
//! slots (14 bridge, 15 VLAN, 16/17 IPv4/IPv6 counts, 18 auto bridge/VLAN, 19/20 DHCP) and the
//! configurable options that override the counts.

use mysql_async::Conn;

use super::pool::Bridge;
use crate::db::{all, first};
use crate::error::{Error, Result};
use crate::net::Family;

/// The most addresses of one family a service may hold; a product asking for more is a typo.
pub const MAX_PER_FAMILY: u32 = 256;

/// A service's address needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    pub service_id: u32,
    pub server_id: u32,
    pub server_name: String,
    pub server_list: String,
    pub ipv4: u32,
    pub ipv6: u32,
    /// The product's bridge and VLAN; `None` with "Auto bridge/VLAN" (the source supplies them).
    pub network: Option<(Bridge, u16)>,
}

impl Needs {
    pub fn count(&self, family: Family) -> u32 {
        match family {
            Family::V4 => self.ipv4,
            Family::V6 => self.ipv6,
        }
    }
}

fn on(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "on" | "1" | "yes" | "true"
    )
}

fn count(text: &str, field: &str) -> Result<u32> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(0);
    }
    t.parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_PER_FAMILY)
        .ok_or_else(|| {
            Error::validation(
                field,
                format!("must be a number of addresses 0-{MAX_PER_FAMILY}, got '{t}'"),
            )
        })
}

/// The option names that set a family's count, plain names before the legacy prefix.
fn option_family(name: &str) -> Option<(Family, bool)> {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "ipv4" | "ipv4 addresses" => return Some((Family::V4, true)),
        "ipv6" | "ipv6 addresses" => return Some((Family::V6, true)),
        _ => {}
    }
    match lower.split_once('|') {
        Some(("ipv4", _)) => Some((Family::V4, false)),
        Some(("ipv6", _)) => Some((Family::V6, false)),
        _ => None,
    }
}

/// Reads the needs of `service_id`, locking its `tblhosting` row until the transaction ends so
/// two allocations for one service never run at once.
///
/// # Errors
/// [`Error::NotFound`] for an unknown service; [`Error::Validation`] for unusable product values.
pub async fn read_locked(conn: &mut Conn, service_id: u32) -> Result<Needs> {
    type Row = (
        Option<u32>,
        Option<String>,
        Option<String>,
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    );
    // Only the service's row is locked: FOR UPDATE on a join would lock the product and server
    // rows too and queue every allocation of that product or server behind one another.
    let locked: Option<(String, u32, u32)> = first(
        conn,
        "SELECT domainstatus, server, packageid FROM tblhosting WHERE id = ? FOR UPDATE",
        (service_id,),
    )
    .await?;
    let not_found = || {
        Error::NotFound(format!(
            "service {service_id} does not exist (or its product is gone)"
        ))
    };
    let (status, server_id, product_id) = locked.ok_or_else(not_found)?;
    let row: Option<Row> = first(
        conn,
        "SELECT s.id, s.name, s.assignedips, p.configoption14, p.configoption15, p.configoption16, \
         p.configoption17, p.configoption18, p.configoption19, p.configoption20 \
         FROM tblproducts p LEFT JOIN tblservers s ON s.id = ? WHERE p.id = ?",
        (server_id, product_id),
    )
    .await?;
    let (_, server_name, list, bridge, vlan, v4, v6, auto, dhcp4, dhcp6) =
        row.ok_or_else(not_found)?;
    if status == "Terminated" {
        return Err(Error::Conflict(format!(
            "service {service_id} is Terminated - a terminated service gets no addresses; reactivate it first"
        )));
    }
    let server_name = server_name.ok_or_else(|| {
        Error::validation(
            "server",
            format!("service {service_id} has no server - assign it a Proxmox KVM server"),
        )
    })?;
    let mut ipv4 = count(&v4, "configoption16")?;
    let mut ipv6 = count(&v6, "configoption17")?;

    // Configurable options: (name, value before '|' of the chosen sub-option, qty, type).
    let options: Vec<(String, String, i64, String)> = all(
        conn,
        "SELECT o.optionname, COALESCE(s.optionname, ''), hc.qty, o.optiontype FROM tblhostingconfigoptions hc \
         JOIN tblproductconfigoptions o ON o.id = hc.configid \
         LEFT JOIN tblproductconfigoptionssub s ON s.id = hc.optionid WHERE hc.relid = ?",
        (service_id,),
    )
    .await?;
    let mut chosen: [Option<(bool, u32)>; 2] = [None, None];
    for (name, sub, qty, ty) in options {
        let Some((family, plain)) = option_family(&name) else {
            continue;
        };
        let value = if matches!(ty.trim(), "3" | "4") {
            u32::try_from(qty).unwrap_or(0).min(MAX_PER_FAMILY)
        } else {
            count(sub.split('|').next().unwrap_or_default(), &name)?
        };
        let slot = &mut chosen[usize::from(family == Family::V6)];
        if slot.is_none_or(|(was_plain, _)| plain && !was_plain) {
            *slot = Some((plain, value));
        }
    }
    if let Some((_, n)) = chosen[0] {
        ipv4 = n;
    }
    if let Some((_, n)) = chosen[1] {
        ipv6 = n;
    }
    // DHCP for a family: the VM gets its address elsewhere, so none is allocated.
    if on(&dhcp4) {
        ipv4 = 0;
    }
    if on(&dhcp6) {
        ipv6 = 0;
    }
    let network = if on(&auto) {
        None
    } else {
        let bridge = Bridge::parse(
            if bridge.trim().is_empty() {
                "vmbr0"
            } else {
                &bridge
            },
            "configoption14",
        )?;
        let vlan = super::pool::parse_vlan(&serde_json::Value::String(vlan), "configoption15")?;
        Some((bridge, vlan))
    };
    Ok(Needs {
        service_id,
        server_id,
        server_name,
        server_list: list.unwrap_or_default(),
        ipv4,
        ipv6,
        network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_names() {
        let cases = [
            ("IPv4 Addresses", Some((Family::V4, true))),
            ("ipv4", Some((Family::V4, true))),
            ("ipv6", Some((Family::V6, true))),
            ("IPv6 Addresses", Some((Family::V6, true))),
            ("ipv4|Extra IPv4", Some((Family::V4, false))),
            ("ipv6|More v6", Some((Family::V6, false))),
            ("CPU|Cores", None),
            ("ipv4x", None),
        ];
        for (name, want) in cases {
            assert_eq!(option_family(name), want, "{name}");
        }
    }

    #[test]
    fn counts() {
        assert_eq!(count("", "f").unwrap(), 0);
        assert_eq!(count(" 3 ", "f").unwrap(), 3);
        assert_eq!(
            count("257", "configoption16").unwrap_err().field(),
            Some("configoption16")
        );
        assert_eq!(count("-1", "f").unwrap_err().field(), Some("f"));
    }
}
