//! The legacy address list on a server entry (WHMCS's "Assigned IP Addresses",
//! `tblservers.assignedips`): one address per line, `bridge|vlan|ip|prefix|gateway|dns1,dns2`.

use std::net::IpAddr;

use serde_json::Value;

use super::pool::{parse_vlan, Bridge};
use crate::error::{Error, Result};
use crate::net::{self, Family};

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyLine {
    /// 1-based line number in the field, for messages.
    pub line: usize,
    pub bridge: Bridge,
    pub vlan: u16,
    pub ip: IpAddr,
    pub prefix: u8,
    pub gateway: IpAddr,
    pub dns: Vec<IpAddr>,
}

impl LegacyLine {
    pub fn family(&self) -> Family {
        Family::of(self.ip)
    }
}

/// Parses the whole field. Blank lines and lines starting with `#` are skipped; a line with an
/// address already listed above is an error (it would be handed out twice).
///
/// # Errors
/// [`Error::Validation`] on `assignedips` naming the line, its text and what is wrong.
pub fn parse_list(text: &str) -> Result<Vec<LegacyLine>> {
    let mut lines: Vec<LegacyLine> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let line = parse_line(t, i + 1)?;
        if let Some(first) = lines.iter().find(|l| l.ip == line.ip) {
            return Err(fail(
                i + 1,
                t,
                &format!("{} is already listed on line {}", line.ip, first.line),
            ));
        }
        lines.push(line);
    }
    Ok(lines)
}

fn fail(line: usize, text: &str, why: &str) -> Error {
    Error::validation(
        "assignedips",
        format!("line {line} of the server's Assigned IP Addresses ('{text}'): {why} - the format is bridge|vlan|ip|prefix|gateway|dns1,dns2"),
    )
}

fn parse_line(t: &str, n: usize) -> Result<LegacyLine> {
    let parts: Vec<&str> = t.split('|').map(str::trim).collect();
    if !(5..=6).contains(&parts.len()) {
        return Err(fail(
            n,
            t,
            &format!("has {} fields, expected 6", parts.len()),
        ));
    }
    let why = |e: Error| match e {
        Error::Validation { field, message } => fail(n, t, &format!("{field} {message}")),
        other => other,
    };
    let bridge = Bridge::parse(parts[0], "bridge").map_err(why)?;
    let vlan = parse_vlan(&Value::String(parts[1].into()), "vlan").map_err(why)?;
    let ip = net::parse_ip(parts[2], "ip").map_err(why)?;
    let family = Family::of(ip);
    let prefix = parts[3]
        .trim_start_matches('/')
        .parse::<u8>()
        .ok()
        .filter(|p| (1..=family.max_prefix()).contains(p))
        .ok_or_else(|| {
            fail(
                n,
                t,
                &format!("prefix '{}' must be 1-{}", parts[3], family.max_prefix()),
            )
        })?;
    let gateway = net::parse_ip(parts[4], "gateway").map_err(why)?;
    if Family::of(gateway) != family {
        return Err(fail(
            n,
            t,
            &format!("gateway {gateway} is not of the address's family"),
        ));
    }
    let mut dns = Vec::new();
    if let Some(list) = parts.get(5) {
        for d in list.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            dns.push(net::parse_ip(d, "dns").map_err(why)?);
        }
    }
    Ok(LegacyLine {
        line: n,
        bridge,
        vlan,
        ip,
        prefix,
        gateway,
        dns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_lines_parse() {
        let list = parse_list(
            "vmbr0|10|192.168.10.2|24|192.168.10.1|8.8.8.8,1.1.1.1\r\n\n# spare\nvmbr3|0|10.0.25.2|24|10.0.25.1|10.0.10.10,10.0.10.20\nvmbr0|0|2001:db8::5|64|2001:db8::1|\n",
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[0].vlan, 10);
        assert_eq!(list[0].dns.len(), 2);
        assert_eq!(list[1].line, 4);
        assert_eq!(list[1].bridge.as_str(), "vmbr3");
        assert_eq!(list[2].family(), Family::V6);
        assert!(list[2].dns.is_empty());
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("vmbr0|0|10.0.0.2|24|10.0.0.1", None),
            ("vmbr0|0|10.0.0.2|24", Some("has 4 fields")),
            ("vmbr0|x|10.0.0.2|24|10.0.0.1|", Some("vlan")),
            ("vmbr0|0|10.0.0.300|24|10.0.0.1|", Some("ip")),
            ("vmbr0|0|10.0.0.2|33|10.0.0.1|", Some("prefix '33'")),
            (
                "vmbr0|0|10.0.0.2|24|2001:db8::1|",
                Some("gateway 2001:db8::1"),
            ),
            ("vmbr0|0|10.0.0.2|24|10.0.0.1|8.8.8", Some("dns")),
            ("vm br0|0|10.0.0.2|24|10.0.0.1|", Some("bridge")),
        ];
        for (line, want) in cases {
            let text = format!("vmbr0|0|10.0.0.9|24|10.0.0.1|8.8.8.8\n{line}");
            match (parse_list(&text), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => {
                    assert_eq!(e.field(), Some("assignedips"));
                    let m = e.to_string();
                    assert!(m.contains("line 2 "), "{m}");
                    assert!(m.contains(w), "{m} lacks {w}");
                }
                (r, w) => panic!("{line}: {r:?} but expected {w:?}"),
            }
        }
    }

    #[test]
    fn a_repeated_address_is_refused() {
        let e =
            parse_list("vmbr0|0|10.0.0.2|24|10.0.0.1|\nvmbr0|0|10.0.0.2|24|10.0.0.1|").unwrap_err();
        assert!(e.to_string().contains("already listed on line 1"), "{e}");
    }
}
