//! Address math: parsing, reverse names, reverse zones, and the numeric form of an address
//! that the allocation table stores.
//!
//! IPv4 and IPv6 share one numeric space in storage: an IPv4 address is kept as its IPv4-mapped
//! IPv6 form (`::ffff:a.b.c.d`), so one ordered column holds both families, comparisons inside a
//! range work for both, and a unique key on it covers both.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{Error, Result};

/// The two address families a pool can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Family {
    #[serde(rename = "IPv4")]
    V4,
    #[serde(rename = "IPv6")]
    V6,
}

impl Family {
    /// `IPv4` or `IPv6`, as the pages and the pool table spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }

    /// The number the pool and allocation tables store: 4 or 6.
    pub fn code(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }

    /// The family of a stored [`Family::code`] (6: IPv6, anything else IPv4).
    pub fn from_code(code: u8) -> Family {
        if code == 6 {
            Family::V6
        } else {
            Family::V4
        }
    }

    /// The family of `ip`.
    pub fn of(ip: IpAddr) -> Family {
        match ip {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The longest prefix of the family (32 or 128).
    pub fn max_prefix(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    /// Parses `IPv4`/`IPv6` (also `4`, `6`, `ipv4`, `v6`, any case).
    ///
    /// # Errors
    /// [`Error::Validation`] naming `field`.
    pub fn parse(text: &str, field: &str) -> Result<Family> {
        match text.trim().to_ascii_lowercase().as_str() {
            "ipv4" | "4" | "v4" | "inet" => Ok(Family::V4),
            "ipv6" | "6" | "v6" | "inet6" => Ok(Family::V6),
            other => Err(Error::validation(
                field,
                format!("must be IPv4 or IPv6, got '{other}'"),
            )),
        }
    }
}

/// Parses an address given by an admin or a caller. Surrounding blanks are ignored; a zone
/// index (`fe80::1%eth0`) or a prefix is not an address.
///
/// # Errors
/// [`Error::Validation`] naming `field` and showing the value.
pub fn parse_ip(text: &str, field: &str) -> Result<IpAddr> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::validation(
            field,
            "is empty - enter an IPv4 or IPv6 address",
        ));
    }
    t.parse::<IpAddr>().map_err(|_| {
        Error::validation(
            field,
            format!(
                "'{t}' is not an IPv4 or IPv6 address - write it like 192.0.2.10 or 2001:db8::10"
            ),
        )
    })
}

/// The address as WHMCS and the pages show it: dotted IPv4, compressed lower-case IPv6.
pub fn display(ip: IpAddr) -> String {
    ip.to_string()
}

/// The PTR owner name of `ip`, without a trailing dot:
/// `192.168.1.10` -> `10.1.168.192.in-addr.arpa`, `2001:db8::1` -> `1.0.0.0...8.b.d.0.1.0.0.2.ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => format!("{}ip6.arpa", nibbles_reversed(v6, 32)),
    }
}

/// The reverse zone of the network `ip`/`prefix`: IPv4 prefixes round down to /24, /16 or /8
/// (a /26 pool lives in its /24 zone); IPv6 prefixes round down to a nibble boundary (/62 gives
/// the /60 zone).
///
/// # Errors
/// [`Error::Validation`] on `prefix` when it is longer than the family allows or shorter than
/// /8 (IPv4) or /4 (IPv6), which have no reverse zone of their own.
pub fn rdns_zone(ip: IpAddr, prefix: u8) -> Result<String> {
    match ip {
        IpAddr::V4(v4) => {
            if !(8..=32).contains(&prefix) {
                return Err(Error::validation(
                    "prefix",
                    format!("must be 8-32 for an IPv4 reverse zone, got {prefix}"),
                ));
            }
            let o = v4.octets();
            let labels: Vec<String> = o[..usize::from(prefix / 8).min(3)]
                .iter()
                .rev()
                .map(u8::to_string)
                .collect();
            Ok(format!("{}.in-addr.arpa", labels.join(".")))
        }
        IpAddr::V6(v6) => {
            if !(4..=128).contains(&prefix) {
                return Err(Error::validation(
                    "prefix",
                    format!("must be 4-128 for an IPv6 reverse zone, got {prefix}"),
                ));
            }
            Ok(format!(
                "{}ip6.arpa",
                nibbles_reversed(v6, usize::from(prefix / 4))
            ))
        }
    }
}

/// The first `count` nibbles of `ip`, reversed, each followed by a dot.
fn nibbles_reversed(ip: Ipv6Addr, count: usize) -> String {
    let bits = u128::from(ip);
    let mut out = String::with_capacity(count * 2);
    for i in (0..count).rev() {
        let nibble = (bits >> (124 - 4 * i)) & 0xf;
        out.push(char::from_digit(nibble as u32, 16).unwrap_or('0'));
        out.push('.');
    }
    out
}

/// The number an address is stored as (IPv4 mapped into `::ffff:0:0/96`).
pub fn to_number(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The address stored as `number` in `family` (the inverse of [`to_number`]).
pub fn from_number(number: u128, family: Family) -> IpAddr {
    let v6 = Ipv6Addr::from(number);
    match family {
        Family::V4 => IpAddr::V4(v6.to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED)),
        Family::V6 => IpAddr::V6(v6),
    }
}

/// Whether `ip` lies in the network `net`/`prefix` (`prefix` valid for the family).
pub fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix.min(32)))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix.min(128)))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn reverse_names() {
        let cases = [
            ("192.168.1.10", "10.1.168.192.in-addr.arpa"),
            ("10.0.0.0", "0.0.0.10.in-addr.arpa"),
            (
                "2001:db8::1",
                "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
            (
                "2001:DB8:ABCD::FF",
                "f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(reverse_name(ip(input)), want, "{input}");
        }
    }

    #[test]
    fn reverse_zones() {
        let cases: &[(&str, u8, &str)] = &[
            ("10.20.30.40", 8, "10.in-addr.arpa"),
            ("10.20.30.40", 12, "10.in-addr.arpa"),
            ("172.16.30.40", 16, "16.172.in-addr.arpa"),
            ("172.16.30.40", 20, "16.172.in-addr.arpa"),
            ("192.168.130.2", 24, "130.168.192.in-addr.arpa"),
            ("192.168.130.70", 26, "130.168.192.in-addr.arpa"),
            ("192.168.130.4", 31, "130.168.192.in-addr.arpa"),
            ("192.168.130.4", 32, "130.168.192.in-addr.arpa"),
            ("2001:db8::1", 32, "8.b.d.0.1.0.0.2.ip6.arpa"),
            ("2001:db8:abcd::1", 48, "d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa"),
            (
                "2001:db8:abcd:1200::1",
                56,
                "2.1.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
            (
                "2001:db8:abcd:12ff::1",
                64,
                "f.f.2.1.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
            (
                "2001:db8:abcd:12f4::1",
                62,
                "f.2.1.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
            ("2001:db8::1", 4, "2.ip6.arpa"),
        ];
        for (addr, prefix, want) in cases {
            assert_eq!(
                rdns_zone(ip(addr), *prefix).unwrap(),
                *want,
                "{addr}/{prefix}"
            );
        }
    }

    #[test]
    fn too_short_or_too_long_prefixes_are_refused() {
        for (addr, prefix) in [
            ("10.0.0.1", 7),
            ("10.0.0.1", 0),
            ("10.0.0.1", 33),
            ("2001:db8::", 3),
            ("2001:db8::", 129),
        ] {
            let err = rdns_zone(ip(addr), prefix).unwrap_err();
            assert_eq!(err.field(), Some("prefix"), "{addr}/{prefix}");
        }
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            " ",
            "300.1.1.1",
            "1.2.3",
            "1.2.3.4/24",
            "2001:db8:::1",
            "fe80::1%eth0",
            "example.com",
            "::ffff:1.2.3",
        ] {
            let err = parse_ip(bad, "ip").unwrap_err();
            assert_eq!(err.field(), Some("ip"), "{bad:?}");
        }
        assert_eq!(
            parse_ip(" 2001:DB8:0:0::3 ", "ip").unwrap().to_string(),
            "2001:db8::3"
        );
    }

    #[test]
    fn numbers_round_trip_and_order_within_a_family() {
        for (s, family) in [
            ("0.0.0.0", Family::V4),
            ("255.255.255.255", Family::V4),
            ("2001:db8::ffff", Family::V6),
            ("::", Family::V6),
        ] {
            assert_eq!(from_number(to_number(ip(s)), family), ip(s));
        }
        assert!(to_number(ip("10.0.0.255")) < to_number(ip("10.0.1.0")));
        assert_eq!(to_number(ip("10.0.0.255")) + 1, to_number(ip("10.0.1.0")));
    }

    #[test]
    fn networks() {
        assert!(in_network(ip("192.168.1.77"), ip("192.168.1.1"), 24));
        assert!(!in_network(ip("192.168.2.1"), ip("192.168.1.1"), 24));
        assert!(in_network(ip("2001:db8:1::5"), ip("2001:db8::1"), 32));
        assert!(!in_network(ip("10.0.0.1"), ip("2001:db8::1"), 32));
        assert!(in_network(ip("192.168.1.5"), ip("192.168.1.4"), 31));
    }
}
