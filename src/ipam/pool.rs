//! The pool definition as validated values: what an admin types becomes a [`PoolSpec`] or a
//! [`Error::Validation`] naming the field and the fix.

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::net::{self, Family};

/// A Proxmox bridge name (`vmbr0`, `vmbr1v20`, an SDN vnet).
///
/// # Invariants
/// 1-15 characters (a Linux interface name), a letter first, then letters, digits, `_`, `.`, `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Bridge(String);

impl Bridge {
    /// # Errors
    /// [`Error::Validation`] naming `field`.
    pub fn parse(text: &str, field: &str) -> Result<Bridge> {
        let t = text.trim();
        let ok = !t.is_empty()
            && t.len() <= 15
            && t.starts_with(|c: char| c.is_ascii_alphabetic())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if ok {
            Ok(Bridge(t.to_string()))
        } else {
            Err(Error::validation(
                field,
                format!("'{t}' is not a Proxmox bridge name - use the name shown under System > Network, like vmbr0 (a letter, then letters, digits, '.', '_' or '-', at most 15)"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A VLAN tag: 0 (untagged) or 1-4094.
pub fn parse_vlan(value: &Value, field: &str) -> Result<u16> {
    let n = match value {
        Value::Null => Some(0),
        Value::Number(n) => n.as_i64(),
        Value::String(s) if s.trim().is_empty() => Some(0),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if (0..=4094).contains(&n) => Ok(n as u16),
        _ => Err(Error::validation(
            field,
            format!(
                "must be 0 (untagged) or a VLAN tag 1-4094, got {}",
                shown(value)
            ),
        )),
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

/// The first and last address of a pool.
///
/// # Invariants
/// Both of one family, `start <= stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolRange {
    start: IpAddr,
    stop: IpAddr,
}

impl PoolRange {
    /// # Errors
    /// [`Error::Validation`] on `address_stop` when the families differ or the range runs backwards.
    pub fn new(start: IpAddr, stop: IpAddr) -> Result<PoolRange> {
        if Family::of(start) != Family::of(stop) {
            return Err(Error::validation(
                "address_stop",
                format!(
                    "{stop} is {} but the first address {start} is {} - both ends must be of one family",
                    Family::of(stop).as_str(),
                    Family::of(start).as_str()
                ),
            ));
        }
        if net::to_number(stop) < net::to_number(start) {
            return Err(Error::validation(
                "address_stop",
                format!("{stop} comes before the first address {start} - swap them"),
            ));
        }
        Ok(PoolRange { start, stop })
    }

    pub fn start(&self) -> IpAddr {
        self.start
    }

    pub fn stop(&self) -> IpAddr {
        self.stop
    }

    pub fn family(&self) -> Family {
        Family::of(self.start)
    }

    /// Stored numbers of the ends, inclusive.
    pub fn numbers(&self) -> (u128, u128) {
        (net::to_number(self.start), net::to_number(self.stop))
    }

    /// How many addresses the range holds (saturating at `u128::MAX` for `::/0`).
    pub fn size(&self) -> u128 {
        let (a, b) = self.numbers();
        (b - a).saturating_add(1)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (a, b) = self.numbers();
        Family::of(ip) == self.family() && (a..=b).contains(&net::to_number(ip))
    }

    pub fn overlaps(&self, other: &PoolRange) -> bool {
        let (a, b) = self.numbers();
        let (c, d) = other.numbers();
        self.family() == other.family() && a <= d && c <= b
    }
}

/// Everything a pool is, validated. The server's existence is checked against the database by
/// the store, not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSpec {
    pub server_id: u32,
    pub family: Family,
    pub bridge: Bridge,
    pub vlan: u16,
    pub gateway: IpAddr,
    pub prefix: u8,
    pub dns1: Option<IpAddr>,
    pub dns2: Option<IpAddr>,
    pub range: PoolRange,
}

/// The field names a pool takes, in form order.
pub const FIELDS: &[&str] = &[
    "server_id",
    "type",
    "bridge",
    "vlan",
    "gateway",
    "mask",
    "dns1",
    "dns2",
    "address_start",
    "address_stop",
];

fn text(fields: &Map<String, Value>, key: &str) -> Result<String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(_) => Err(Error::validation(key, "must be text")),
    }
}

fn required(fields: &Map<String, Value>, key: &str, what: &str) -> Result<String> {
    let t = text(fields, key)?;
    if t.is_empty() {
        return Err(Error::validation(key, format!("is empty - enter {what}")));
    }
    Ok(t)
}

impl PoolSpec {
    /// Validates the fields of a pool form (see [`FIELDS`]). Unknown keys are refused so that a
    /// typo never silently keeps an old value.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field that is wrong and the fix.
    pub fn from_fields(fields: &Map<String, Value>) -> Result<PoolSpec> {
        if let Some(unknown) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
            return Err(Error::validation(
                unknown.clone(),
                format!("is not a pool field - use {}", FIELDS.join(", ")),
            ));
        }
        let server = required(
            fields,
            "server_id",
            "the Proxmox server the pool belongs to",
        )?;
        let server_id = server
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                Error::validation("server_id", format!("must be a server id, got '{server}'"))
            })?;
        let family = Family::parse(&required(fields, "type", "IPv4 or IPv6")?, "type")?;
        let bridge = Bridge::parse(
            &required(fields, "bridge", "a bridge name like vmbr0")?,
            "bridge",
        )?;
        let vlan = parse_vlan(fields.get("vlan").unwrap_or(&Value::Null), "vlan")?;
        let gateway = net::parse_ip(&text(fields, "gateway")?, "gateway")?;
        if Family::of(gateway) != family {
            return Err(Error::validation(
                "gateway",
                format!(
                    "{gateway} is {} but the pool is {} - enter the pool's {} gateway",
                    Family::of(gateway).as_str(),
                    family.as_str(),
                    family.as_str()
                ),
            ));
        }
        let mask_text = required(fields, "mask", "the prefix length, like 24")?;
        let max = family.max_prefix();
        let prefix = mask_text
            .trim_start_matches('/')
            .parse::<u8>()
            .ok()
            .filter(|p| (1..=max).contains(p))
            .ok_or_else(|| {
                Error::validation(
                    "mask",
                    format!(
                        "must be a prefix length 1-{max} for an {} pool, got '{mask_text}'",
                        family.as_str()
                    ),
                )
            })?;
        let dns = |key: &str| -> Result<Option<IpAddr>> {
            let t = text(fields, key)?;
            if t.is_empty() {
                Ok(None)
            } else {
                net::parse_ip(&t, key).map(Some)
            }
        };
        let (dns1, dns2) = (dns("dns1")?, dns("dns2")?);
        let start = net::parse_ip(&text(fields, "address_start")?, "address_start")?;
        let stop = net::parse_ip(&text(fields, "address_stop")?, "address_stop")?;
        for (ip, key) in [(start, "address_start"), (stop, "address_stop")] {
            if Family::of(ip) != family {
                return Err(Error::validation(
                    key,
                    format!(
                        "{ip} is {} but the pool is {}",
                        Family::of(ip).as_str(),
                        family.as_str()
                    ),
                ));
            }
            if !net::in_network(ip, gateway, prefix) {
                return Err(Error::validation(
                    key,
                    format!("{ip} is outside the gateway's network {gateway}/{prefix} - keep the range inside it or correct the mask"),
                ));
            }
        }
        let range = PoolRange::new(start, stop)?;
        if range.contains(gateway) {
            return Err(Error::validation(
                "gateway",
                format!("{gateway} lies inside the address range {start} - {stop} and would be handed to a VM - start or end the range beside it"),
            ));
        }
        Ok(PoolSpec {
            server_id,
            family,
            bridge,
            vlan,
            gateway,
            prefix,
            dns1,
            dns2,
            range,
        })
    }

    /// The reverse zone of the pool's network (design.md §3).
    pub fn rdns_zone(&self) -> String {
        // The prefix is 1-32/1-128; shorter than /8 (/4) is shown for the /8 (/4) around the gateway.
        let p = match self.family {
            Family::V4 => self.prefix.max(8),
            Family::V6 => self.prefix.max(4),
        };
        net::rdns_zone(self.range.start(), p).unwrap_or_default()
    }

    /// The DNS servers, in order, without blanks.
    pub fn dns(&self) -> Vec<IpAddr> {
        self.dns1.iter().chain(self.dns2.iter()).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(changes: Value) -> Map<String, Value> {
        let mut base = json!({
            "server_id": "1", "type": "IPv4", "bridge": "vmbr0", "vlan": "0",
            "gateway": "192.168.130.1", "mask": "24", "dns1": "8.8.8.8", "dns2": "1.1.1.1",
            "address_start": "192.168.130.2", "address_stop": "192.168.130.254"
        });
        for (k, v) in changes.as_object().unwrap() {
            base[k] = v.clone();
        }
        base.as_object().unwrap().clone()
    }

    #[test]
    fn a_documented_pool_is_accepted() {
        let spec = PoolSpec::from_fields(&fields(json!({}))).unwrap();
        assert_eq!(spec.range.size(), 253);
        assert_eq!(spec.rdns_zone(), "130.168.192.in-addr.arpa");
        let v6 = PoolSpec::from_fields(&fields(json!({
            "type": "IPv6", "gateway": "2001:db8:1::1", "mask": "48", "dns1": "2001:4860:4860::8888", "dns2": "",
            "address_start": "2001:db8:1::100", "address_stop": "2001:db8:1:ffff:ffff:ffff:ffff:ffff"
        })))
        .unwrap();
        assert_eq!(v6.rdns_zone(), "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
        assert!(v6.range.size() > 1u128 << 79);
    }

    #[test]
    fn each_mistake_names_its_field() {
        let cases = [
            (json!({"server_id": ""}), "server_id"),
            (json!({"server_id": "abc"}), "server_id"),
            (json!({"type": "IPv5"}), "type"),
            (json!({"bridge": "1vmbr"}), "bridge"),
            (json!({"bridge": "vmbr0; rm"}), "bridge"),
            (json!({"bridge": "averyveryverylongbridge"}), "bridge"),
            (json!({"vlan": "4095"}), "vlan"),
            (json!({"vlan": "-1"}), "vlan"),
            (json!({"vlan": "ten"}), "vlan"),
            (json!({"gateway": "192.168.130"}), "gateway"),
            (json!({"gateway": "2001:db8::1"}), "gateway"),
            (json!({"gateway": "192.168.130.10"}), "gateway"),
            (json!({"mask": "33"}), "mask"),
            (json!({"mask": "0"}), "mask"),
            (json!({"mask": "255.255.255.0"}), "mask"),
            (json!({"dns1": "dns.google"}), "dns1"),
            (json!({"dns2": "1.1.1"}), "dns2"),
            (json!({"address_start": "192.168.131.2"}), "address_start"),
            (json!({"address_start": "2001:db8::2"}), "address_start"),
            (json!({"address_stop": "192.168.130.1x"}), "address_stop"),
            (
                json!({"address_start": "192.168.130.200", "address_stop": "192.168.130.100"}),
                "address_stop",
            ),
            (json!({"colour": "red"}), "colour"),
        ];
        for (change, field) in cases {
            let err = PoolSpec::from_fields(&fields(change.clone())).unwrap_err();
            assert_eq!(err.field(), Some(field), "{change}: {err}");
        }
    }

    #[test]
    fn ranges_overlap_only_when_they_share_an_address() {
        let r = |a: &str, b: &str| PoolRange::new(a.parse().unwrap(), b.parse().unwrap()).unwrap();
        assert!(r("10.0.0.1", "10.0.0.10").overlaps(&r("10.0.0.10", "10.0.0.20")));
        assert!(!r("10.0.0.1", "10.0.0.10").overlaps(&r("10.0.0.11", "10.0.0.20")));
        assert!(r("10.0.0.1", "10.0.0.100").overlaps(&r("10.0.0.5", "10.0.0.6")));
        assert!(!r("10.0.0.1", "10.0.0.100").overlaps(&r("2001:db8::1", "2001:db8::ff")));
        assert_eq!(r("10.0.0.7", "10.0.0.7").size(), 1);
    }
}
