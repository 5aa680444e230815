//! DNS: validated names, zone matching, reverse names, the zones admins configure
//! ([`zones`]), the change plan ([`plan`]), the providers ([`providers`]) and the sync of a
//! service's records ([`sync`]).
//!
//! Names are kept in one form everywhere in the core: lower case, no trailing dot. Providers
//! add what their wire format needs (PowerDNS's trailing dot, HestiaCP's zone-relative names).

pub mod plan;
pub mod providers;
pub mod sync;
pub mod zones;

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::error::{Error, Result};

/// A fully qualified domain name.
///
/// # Invariants
/// Lower case, no trailing dot, 1-253 characters, labels of 1-63 characters from
/// `[a-z0-9_-]` (a `*` label is refused: the module never writes wildcards).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Fqdn(String);

impl Fqdn {
    /// Validates and normalises `text` (trimmed, one trailing dot dropped, lower-cased).
    ///
    /// # Errors
    /// [`Error::Validation`] on `field` saying which rule the name breaks.
    pub fn parse(field: &str, text: &str) -> Result<Fqdn> {
        let name = normalise(text);
        if name.is_empty() {
            return Err(Error::validation(
                field,
                "is empty - enter a domain name such as example.com",
            ));
        }
        if name.len() > 253 {
            return Err(Error::validation(
                field,
                format!(
                    "is {} characters long; a domain name has at most 253",
                    name.len()
                ),
            ));
        }
        for label in name.split('.') {
            if label.is_empty() {
                return Err(Error::validation(
                    field,
                    format!(
                        "'{name}' has an empty label (two dots in a row) - remove the extra dot"
                    ),
                ));
            }
            if label.len() > 63 {
                return Err(Error::validation(
                    field,
                    format!("label '{label}' is longer than 63 characters"),
                ));
            }
            if let Some(bad) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(Error::validation(
                    field,
                    format!("'{name}' contains '{bad}'; use letters, digits, '-' and '_' (IDNs in their xn-- form)"),
                ));
            }
        }
        Ok(Fqdn(name))
    }

    /// The name, lower case, without a trailing dot.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with a trailing dot (`example.com.`), as zone files and PowerDNS write it.
    pub fn canonical(&self) -> String {
        format!("{}.", self.0)
    }

    /// Whether this name is `zone` or below it, label-aligned.
    pub fn is_in(&self, zone: &ZoneName) -> bool {
        suffix_matches(zone.as_str(), &self.0)
    }

    /// The part of this name below `zone` (`@` for the apex), as HestiaCP records it.
    /// `None` when the name is not in the zone.
    pub fn relative_to(&self, zone: &ZoneName) -> Option<String> {
        if self.0 == zone.as_str() {
            return Some("@".into());
        }
        self.0
            .strip_suffix(zone.as_str())
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|rest| !rest.is_empty())
            .map(str::to_string)
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name of a configured zone (`example.com`, `130.168.192.in-addr.arpa`).
///
/// # Invariants
/// As [`Fqdn`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ZoneName(Fqdn);

impl ZoneName {
    /// Validates and normalises a zone name (see [`Fqdn::parse`]).
    pub fn parse(field: &str, text: &str) -> Result<ZoneName> {
        Fqdn::parse(field, text).map(ZoneName)
    }

    /// The zone's name, lower case, without a trailing dot.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The zone's name with a trailing dot.
    pub fn canonical(&self) -> String {
        self.0.canonical()
    }

    /// Whether `name` belongs in this zone.
    pub fn contains(&self, name: &Fqdn) -> bool {
        name.is_in(self)
    }
}

impl fmt::Display for ZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

fn normalise(text: &str) -> String {
    let t = text.trim();
    t.strip_suffix('.').unwrap_or(t).to_ascii_lowercase()
}

fn suffix_matches(zone: &str, name: &str) -> bool {
    if zone.is_empty() || name.is_empty() {
        return false;
    }
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1)
}

/// Whether a record `name` belongs in `zone`: the zone is a label-aligned suffix of the name,
/// compared case-insensitively with trailing dots ignored; a name equal to the zone matches.
/// `a-foo.example.com` is not in `foo.example.com`; anything malformed matches nothing.
pub fn zone_matches(zone: &str, name: &str) -> bool {
    let (zone, name) = (normalise(zone), normalise(name));
    if zone.contains("..") || name.contains("..") {
        return false;
    }
    suffix_matches(&zone, &name)
}

/// The reverse name of an address: `192.168.1.10` -> `10.1.168.192.in-addr.arpa`, an IPv6
/// address -> its 32 nibbles under `ip6.arpa`.
pub fn reverse_name(ip: IpAddr) -> Fqdn {
    Fqdn(crate::net::reverse_name(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_matching_is_label_aligned() {
        let v6 = reverse_name("2001:db8::3".parse().unwrap());
        let v6 = v6.as_str();
        let cases: &[(&str, &str, bool)] = &[
            ("example.com", "vm-1.example.com", true),
            ("example.com", "example.com", true),
            ("example.com", "a.b.example.com", true),
            ("foo.example.com", "a-foo.example.com", false),
            ("example.com", "badexample.com", false),
            ("puq.com", "vm-123.puqcloud.com", false),
            ("example.com", "example.com.evil.org", false),
            ("3.2.1.in-addr.arpa", "10.13.2.1.in-addr.arpa", false),
            ("3.2.1.in-addr.arpa", "10.3.2.1.in-addr.arpa", true),
            ("1.168.192.in-addr.arpa", "10.1.168.192.in-addr.arpa", true),
            ("168.192.in-addr.arpa", "10.1.168.192.in-addr.arpa", true),
            ("192.in-addr.arpa", "10.1.168.192.in-addr.arpa", true),
            ("EXAMPLE.COM.", "Vm-1.Example.Com", true),
            ("example.com", "VM-1.EXAMPLE.COM.", true),
            (" example.com ", "vm.example.com.", true),
            ("", "example.com", false),
            ("example.com", "", false),
            (".", "example.com", false),
            ("example..com", "a.example..com", false),
            ("8.b.d.0.1.0.0.2.ip6.arpa", v6, true),
            ("0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", v6, true),
            ("0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", v6, true),
            ("ip6.arpa", v6, true),
            ("9.b.d.0.1.0.0.2.ip6.arpa", v6, false),
            ("b.d.0.1.0.0.2.ip6.arpa", v6, true),
            ("c.d.0.1.0.0.2.ip6.arpa", v6, false),
            ("1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", v6, false),
            ("8.B.D.0.1.0.0.2.IP6.ARPA.", &v6.to_uppercase(), true),
        ];
        for (zone, name, expected) in cases {
            assert_eq!(zone_matches(zone, name), *expected, "{name} in {zone}");
        }
    }

    #[test]
    fn reverse_names() {
        let cases = [
            ("192.168.1.10", "10.1.168.192.in-addr.arpa"),
            ("10.0.0.0", "0.0.0.10.in-addr.arpa"),
            (
                "2001:db8::3",
                "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
            (
                "2001:db8:abcd:12::ff01",
                "1.0.f.f.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.ip6.arpa",
            ),
        ];
        for (ip, name) in cases {
            assert_eq!(reverse_name(ip.parse().unwrap()).as_str(), name);
        }
    }

    #[test]
    fn names_are_validated_and_normalised() {
        assert_eq!(
            Fqdn::parse("zone", " Example.COM. ").unwrap().as_str(),
            "example.com"
        );
        assert_eq!(
            ZoneName::parse("zone", "8.B.D.0.1.0.0.2.ip6.arpa.")
                .unwrap()
                .as_str(),
            "8.b.d.0.1.0.0.2.ip6.arpa"
        );
        for bad in [
            "",
            ".",
            "a..b",
            "exa mple.com",
            "*.example.com",
            &"a".repeat(64),
        ] {
            assert_eq!(
                Fqdn::parse("zone", bad).unwrap_err().field(),
                Some("zone"),
                "{bad:?}"
            );
        }
        let zone = ZoneName::parse("z", "example.com").unwrap();
        let name = Fqdn::parse("n", "vm.a.example.com").unwrap();
        assert_eq!(name.relative_to(&zone).as_deref(), Some("vm.a"));
        assert_eq!(
            Fqdn::parse("n", "example.com")
                .unwrap()
                .relative_to(&zone)
                .as_deref(),
            Some("@")
        );
        assert_eq!(
            Fqdn::parse("n", "a-example.com")
                .unwrap()
                .relative_to(&zone),
            None
        );
    }
}
