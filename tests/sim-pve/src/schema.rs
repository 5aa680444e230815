//! The Proxmox VE API schema (`apidata.js` from pve-docs), indexed by path, and the parameter
//! check Proxmox's `PVE::JSONSchema::validate` applies: names, required properties, types,
//! ranges, enums, patterns, registered formats and property strings (`net0`, `scsi0`, ...).
//!
//! Error texts follow PVE::JSONSchema so a client sees what the real API would say.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

/// One API path with its methods (`info` objects keyed by `GET`, `POST`, ...).
struct Route {
    template: String,
    segments: Vec<Segment>,
    methods: serde_json::Map<String, Value>,
}

enum Segment {
    Literal(String),
    Param(String),
}

/// The whole schema, loaded once.
pub struct Schema {
    routes: Vec<Route>,
}

/// A request matched to its schema entry.
pub struct Matched<'a> {
    /// The path template, e.g. `/nodes/{node}/qemu/{vmid}/config`.
    pub template: &'a str,
    /// The path parameters, percent-decoded.
    pub path_params: BTreeMap<String, String>,
    /// The method's `info` object.
    pub info: &'a Value,
}

/// Why a path could not be matched.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteError {
    /// No such path (Proxmox: 501 "Method 'GET /x' not implemented").
    NoPath,
    /// The path exists without this method (also a 501 in Proxmox).
    NoMethod,
}

/// Per-parameter errors, as the `errors` object of a 400.
pub type ParamErrors = BTreeMap<String, String>;

impl Schema {
    /// Parses `apidata.js` (`const apiSchema = [ ... ];`): everything between the first `[`
    /// and the last `]` is JSON.
    pub fn parse(text: &str) -> Result<Schema, String> {
        let start = text.find('[').ok_or("apidata.js holds no '['")?;
        let end = text.rfind(']').ok_or("apidata.js holds no ']'")?;
        let tree: Value = serde_json::from_str(&text[start..=end])
            .map_err(|e| format!("apidata.js is not valid JSON - {e}"))?;
        let mut routes = Vec::new();
        let mut stack: Vec<&Value> = tree
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        while let Some(node) = stack.pop() {
            if let Some(children) = node.get("children").and_then(Value::as_array) {
                stack.extend(children.iter());
            }
            let Some(path) = node.get("path").and_then(Value::as_str) else {
                continue;
            };
            let methods = node
                .get("info")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let segments = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(
                    |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        Some(name) => Segment::Param(name.to_string()),
                        None => Segment::Literal(s.to_string()),
                    },
                )
                .collect();
            routes.push(Route {
                template: path.to_string(),
                segments,
                methods,
            });
        }
        Ok(Schema { routes })
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Schema, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("unable to read {} - {e}", path.display()))?;
        Schema::parse(&text)
    }

    /// The number of paths known.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether no path is known.
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The schema entry for `method` on `path` (relative to `/api2/json`, percent-encoded as
    /// sent). A literal segment beats a template one.
    pub fn route(&self, method: &str, path: &str) -> Result<Matched<'_>, RouteError> {
        let parts: Vec<String> = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let mut best: Option<(usize, &Route, BTreeMap<String, String>)> = None;
        for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut literals = 0;
            let mut params = BTreeMap::new();
            let fits = route
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Literal(l) => {
                        literals += 1;
                        l == part
                    }
                    Segment::Param(name) => {
                        params.insert(name.clone(), part.clone());
                        true
                    }
                });
            if fits && best.as_ref().is_none_or(|(n, _, _)| literals > *n) {
                best = Some((literals, route, params));
            }
        }
        let (_, route, path_params) = best.ok_or(RouteError::NoPath)?;
        let info = route.methods.get(method).ok_or(RouteError::NoMethod)?;
        Ok(Matched {
            template: &route.template,
            path_params,
            info,
        })
    }
}

impl Matched<'_> {
    /// Checks every parameter (path, query and body merged) as Proxmox does before calling the
    /// handler. Empty when all is well.
    pub fn check(&self, params: &BTreeMap<String, String>) -> ParamErrors {
        let mut errors = ParamErrors::new();
        let empty = serde_json::Map::new();
        let parameters = self.info.get("parameters");
        let props = parameters
            .and_then(|p| p.get("properties"))
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let additional = parameters
            .and_then(|p| p.get("additionalProperties"))
            .is_some_and(truthy);
        for (name, value) in params {
            match property(props, name) {
                Some(prop) => {
                    if let Err(e) = check_value(prop, value) {
                        errors.insert(name.clone(), e);
                    }
                }
                None if additional => {}
                None => {
                    errors.insert(
                        name.clone(),
                        "property is not defined in schema and the schema does not allow additional properties".into(),
                    );
                }
            }
        }
        for (name, prop) in props {
            if name.ends_with("[n]") || prop.get("optional").is_some_and(truthy) {
                continue;
            }
            if !params.contains_key(name) {
                errors.insert(
                    name.clone(),
                    "property is missing and it is not optional".into(),
                );
            }
        }
        errors
    }
}

/// `name`'s schema: itself, or the patterned `prefix[n]` (`net0` -> `net[n]`).
fn property<'a>(props: &'a serde_json::Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(p) = props.get(name) {
        return Some(p);
    }
    let prefix = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if prefix.len() == name.len() || prefix.is_empty() {
        return None;
    }
    props.get(&format!("{prefix}[n]"))
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        _ => false,
    }
}

/// A boolean as PVE's parser accepts it.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn regex(pattern: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{pattern})$")).ok()
}

/// Checks one value against its property schema.
fn check_value(prop: &Value, value: &str) -> Result<(), String> {
    let kind = prop.get("type").and_then(Value::as_str).unwrap_or("string");
    match kind {
        "boolean" => {
            parse_bool(value)
                .ok_or_else(|| format!("type check ('boolean') failed - got '{value}'"))?;
        }
        "integer" | "number" => {
            let number: f64 = if kind == "integer" {
                value
                    .parse::<i64>()
                    .map_err(|_| format!("type check ('integer') failed - got '{value}'"))?
                    as f64
            } else {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .ok_or_else(|| format!("type check ('number') failed - got '{value}'"))?
            };
            if let Some(min) = prop.get("minimum").and_then(Value::as_f64) {
                if number < min {
                    return Err(format!("value must have a minimum value of {min}"));
                }
            }
            if let Some(max) = prop.get("maximum").and_then(Value::as_f64) {
                if number > max {
                    return Err(format!("value must have a maximum value of {max}"));
                }
            }
        }
        _ => {
            if let Some(choices) = prop.get("enum").and_then(Value::as_array) {
                let names: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
                if !names.contains(&value) {
                    return Err(format!(
                        "value '{value}' does not have a value in the enumeration '{}'",
                        names.join(", ")
                    ));
                }
            }
            if let Some(max) = prop.get("maxLength").and_then(Value::as_u64) {
                if value.chars().count() as u64 > max {
                    return Err(format!("value may only be {max} characters long"));
                }
            }
            if let Some(min) = prop.get("minLength").and_then(Value::as_u64) {
                if (value.chars().count() as u64) < min {
                    return Err(format!("value must be at least {min} characters long"));
                }
            }
            if let Some(pattern) = prop.get("pattern").and_then(Value::as_str) {
                if !regex(pattern).is_some_and(|r| r.is_match(value)) {
                    return Err("value does not match the regex pattern".into());
                }
            }
        }
    }
    match prop.get("format") {
        Some(Value::Object(format)) => {
            check_property_string(format, value).map_err(|e| format!("invalid format - {e}"))
        }
        Some(Value::String(name)) => check_format(name, value),
        _ => Ok(()),
    }
}

/// Parses a property string (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`) against its
/// format object and checks each key, as `PVE::JSONSchema::parse_property_string` does.
fn check_property_string(
    format: &serde_json::Map<String, Value>,
    value: &str,
) -> Result<(), String> {
    let default_key = format
        .iter()
        .find(|(_, p)| p.get("default_key").is_some_and(truthy))
        .map(|(k, _)| k.as_str());
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for part in value.split(',').filter(|p| !p.is_empty()) {
        let (key, val) = match part.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => match default_key {
                Some(k) if !seen.contains_key(k) => (k.to_string(), part.to_string()),
                _ => {
                    return Err(format!(
                        "value without key, but schema does not define a default key: '{part}'"
                    ))
                }
            },
        };
        let Some(schema) = format.get(&key) else {
            return Err(format!(
                "{key}: property is not defined in schema and the schema does not allow additional properties"
            ));
        };
        // `virtio=MAC`: the key names the model, the value is the MAC address.
        if let Some(key_alias) = schema.get("keyAlias").and_then(Value::as_str) {
            let target = schema
                .get("alias")
                .and_then(Value::as_str)
                .unwrap_or_default();
            seen.insert(key_alias.to_string(), key.clone());
            seen.insert(target.to_string(), val);
            continue;
        }
        let key = match schema.get("alias").and_then(Value::as_str) {
            Some(alias) => alias.to_string(),
            None => key,
        };
        if seen.insert(key.clone(), val).is_some() {
            return Err(format!(
                "{key}: duplicate key in comma-separated list property"
            ));
        }
    }
    for (key, val) in &seen {
        let Some(schema) = format.get(key) else {
            return Err(format!("{key}: property is not defined in schema"));
        };
        check_value(schema, val).map_err(|e| format!("{key}: {e}"))?;
    }
    for (key, schema) in format {
        let required = schema.get("alias").is_none()
            && schema.get("keyAlias").is_none()
            && !schema.get("optional").is_some_and(truthy);
        if required && !seen.contains_key(key) {
            return Err(format!("{key}: property is missing and it is not optional"));
        }
    }
    Ok(())
}

struct Formats {
    node: Regex,
    storage: Regex,
    configid: Regex,
    dns_name: Regex,
    urlencoded: Regex,
    mac: Regex,
    bridge: Regex,
    volume: Regex,
    disk_size: Regex,
    fw_name: Regex,
}

fn formats() -> &'static Formats {
    static FORMATS: OnceLock<Formats> = OnceLock::new();
    FORMATS.get_or_init(|| {
        let r = |p: &str| Regex::new(p).unwrap_or_else(|_| Regex::new("^$").expect("empty regex"));
        Formats {
            node: r(r"^(?i:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)$"),
            storage: r(r"^(?i:[a-z][a-z0-9\-_.]*[a-z0-9])$"),
            configid: r(r"^(?i:[a-z][a-z0-9_-]+)$"),
            dns_name: r(
                r"^(?i:(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?)$",
            ),
            urlencoded: r(r"^[-%a-zA-Z0-9_.!~*'()]*$"),
            mac: r(r"^(?i:[a-f0-9][02468ace](?::[a-f0-9]{2}){5})$"),
            bridge: r(r"^[-_.\w\d]+$"),
            volume: r(r"^(?i:(?:[a-z][a-z0-9\-_.]*[a-z0-9]):.+|/.+|none|cdrom)$"),
            disk_size: r(r"^\d+(?:\.\d+)?[KMGT]?$"),
            fw_name: r(r"^[A-Za-z][A-Za-z0-9\-_]+$"),
        }
    })
}

fn is_ip(v: &str) -> bool {
    v.parse::<std::net::IpAddr>().is_ok()
}

fn is_cidr(v: &str, v4: bool, v6: bool) -> bool {
    let Some((ip, prefix)) = v.split_once('/') else {
        return false;
    };
    let Ok(prefix) = prefix.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => v4 && prefix <= 32,
        Ok(std::net::IpAddr::V6(_)) => v6 && prefix <= 128,
        Err(_) => false,
    }
}

/// The registered string formats this product's calls use. A format this simulator does not
/// know is accepted (it is never one the client sends: the tests would show it in the log).
fn check_format(name: &str, value: &str) -> Result<(), String> {
    let f = formats();
    if let Some(base) = name.strip_suffix("-list") {
        if base != "pve-configid" && base != "pve-vmid" && base != "pve-storage-content" {
            return Ok(());
        }
        for item in value.split([',', ';', ' ', '\0']).filter(|s| !s.is_empty()) {
            check_format(base, item)?;
        }
        return Ok(());
    }
    let ok = match name {
        "pve-vmid" => value
            .parse::<u64>()
            .is_ok_and(|n| (100..=999_999_999).contains(&n)),
        "pve-node" => f.node.is_match(value),
        "pve-storage-id" => f.storage.is_match(value),
        "pve-configid" | "pve-poolid" => f.configid.is_match(value),
        "dns-name" => f.dns_name.is_match(value),
        "urlencoded" => f.urlencoded.is_match(value),
        "mac-addr" => f.mac.is_match(value),
        "pve-bridge-id" => f.bridge.is_match(value),
        "pve-volume-id" | "pve-volume-id-or-qm-path" => f.volume.is_match(value),
        "disk-size" => f.disk_size.is_match(value),
        "pve-storage-content" => [
            "images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import",
        ]
        .contains(&value),
        "ipv4" => value.parse::<std::net::Ipv4Addr>().is_ok(),
        "ipv6" => value.parse::<std::net::Ipv6Addr>().is_ok(),
        "ip" => is_ip(value),
        "CIDR" => is_cidr(value, true, true),
        "CIDRv4" => is_cidr(value, true, false),
        "CIDRv6" => is_cidr(value, false, true),
        "IPorCIDR" => is_ip(value) || is_cidr(value, true, true),
        "IPorCIDRorAlias" => {
            is_ip(value) || is_cidr(value, true, true) || f.fw_name.is_match(value)
        }
        "pve-ipv4-config" => value == "dhcp" || is_cidr(value, true, false),
        "pve-ipv6-config" => value == "dhcp" || value == "auto" || is_cidr(value, false, true),
        "pve-qm-ipconfig" => {
            return check_ipconfig(value).map_err(|e| format!("invalid format - {e}"));
        }
        "address-list" => value
            .split([',', ';', ' '])
            .filter(|s| !s.is_empty())
            .all(is_ip),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "value does not match the format '{name}': '{value}'"
        ))
    }
}

/// `ipconfigN`: `[gw=<IPv4>] [,gw6=<IPv6>] [,ip=<IPv4/CIDR|dhcp>] [,ip6=<IPv6/CIDR|dhcp|auto>]`.
fn check_ipconfig(value: &str) -> Result<(), String> {
    for part in value.split(',').filter(|p| !p.is_empty()) {
        let (key, val) = part.split_once('=').ok_or_else(|| {
            format!("value without key, but schema does not define a default key: '{part}'")
        })?;
        let format = match key {
            "gw" => "ipv4",
            "gw6" => "ipv6",
            "ip" => "pve-ipv4-config",
            "ip6" => "pve-ipv6-config",
            _ => {
                return Err(format!(
                    "{key}: property is not defined in schema and the schema does not allow additional properties"
                ))
            }
        };
        check_format(format, val).map_err(|e| format!("{key}: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::load(&crate::default_schema_path()).expect("apidata.js")
    }

    #[test]
    fn routes_prefer_literals_and_decode_segments() {
        let s = schema();
        let m = s
            .route("GET", "/nodes/pve1/qemu/100/status/current")
            .unwrap();
        assert_eq!(m.template, "/nodes/{node}/qemu/{vmid}/status/current");
        assert_eq!(m.path_params["vmid"], "100");
        let m = s
            .route("GET", "/nodes/pve1/tasks/UPID%3Apve1%3A0000%3A/status")
            .unwrap();
        assert_eq!(m.path_params["upid"], "UPID:pve1:0000:");
        assert_eq!(s.route("GET", "/nope").err(), Some(RouteError::NoPath));
        assert_eq!(
            s.route("PATCH", "/version").err(),
            Some(RouteError::NoMethod)
        );
    }

    #[test]
    fn parameters_are_checked_like_proxmox() {
        let s = schema();
        let m = s.route("POST", "/nodes/pve1/qemu/100/config").unwrap();
        let check = |pairs: &[(&str, &str)]| {
            let mut p: BTreeMap<String, String> = m.path_params.clone();
            for (k, v) in pairs {
                p.insert(k.to_string(), v.to_string());
            }
            m.check(&p)
        };
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (&[("cores", "2")], None),
            (&[("cores", "two")], Some("cores")),
            (&[("cores", "0")], Some("cores")),
            (&[("bogus", "1")], Some("bogus")),
            (
                &[(
                    "net0",
                    "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1,tag=10,rate=12.5",
                )],
                None,
            ),
            (&[("net0", "model=virtio,bridge=vmbr0")], None),
            (&[("net0", "virtio,colour=red")], Some("net0")),
            (&[("net0", "virtio,firewall=maybe")], Some("net0")),
            (&[("net99x", "virtio")], Some("net99x")),
            (
                &[(
                    "scsi0",
                    "local-lvm:vm-101-disk-0,size=32G,mbps_rd=50,iops_wr=100",
                )],
                None,
            ),
            (
                &[("scsi0", "local-lvm:vm-101-disk-0,size=lots")],
                Some("scsi0"),
            ),
            (
                &[(
                    "ipconfig0",
                    "ip=192.0.2.10/24,gw=192.0.2.1,ip6=2001:db8::10/64,gw6=2001:db8::1",
                )],
                None,
            ),
            (
                &[("ipconfig0", "ip=192.0.2.10,gw=192.0.2.1")],
                Some("ipconfig0"),
            ),
            (&[("sshkeys", "ssh-ed25519%20AAAA%20me%40host")], None),
            (&[("sshkeys", "ssh-ed25519 AAAA me@host")], Some("sshkeys")),
            (&[("onboot", "1")], None),
            (&[("onboot", "maybe")], Some("onboot")),
            (&[("delete", "ide2,net1")], None),
            (&[("memory", "2048")], None),
        ];
        for (pairs, bad) in cases {
            let errors = check(pairs);
            match bad {
                None => assert!(errors.is_empty(), "{pairs:?}: {errors:?}"),
                Some(field) => assert!(errors.contains_key(*field), "{pairs:?}: {errors:?}"),
            }
        }
        let m = s.route("PUT", "/nodes/pve1/qemu/100/resize").unwrap();
        let errors = m.check(&m.path_params.clone());
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors["disk"], "property is missing and it is not optional");
        let m = s.route("GET", "/nodes/bad_node!/qemu/99/config").unwrap();
        let errors = m.check(&m.path_params.clone());
        assert!(
            errors.contains_key("node") && errors.contains_key("vmid"),
            "{errors:?}"
        );
    }
}
