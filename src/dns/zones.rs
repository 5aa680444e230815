//! The DNS zones admins configure: a zone name plus a provider and its credentials, stored in
//! `puq_proxmox_kvm_dns_zones` with the secrets sealed ([`crate::secret`]).
//!
//! Anything that leaves the core for a browser goes through [`DnsZone::to_public`], which puts
//! [`KEEP`] in place of every secret; saving `KEEP` or an empty secret keeps the stored one.

use mysql_async::prelude::Queryable;
use reqwest::Url;
use serde_json::{Map, Value};

use super::ZoneName;
use crate::db::{all, first, Db};
use crate::error::{Error, Result};
use crate::secret::{SecretBox, KEEP};

/// The zones table.
pub const TABLE: &str = "puq_proxmox_kvm_dns_zones";

/// The Cloudflare API's base URL.
pub const CLOUDFLARE_API: &str = "https://api.cloudflare.com/client/v4";

/// The DNS providers the module writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    Cloudflare,
    HestiaCp,
    PowerDns,
}

/// One field of a provider's form.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct FieldSpec {
    /// The key in the zone's array (`api_token`).
    pub name: &'static str,
    /// The label on the form (`API Token`).
    pub label: &'static str,
    /// Stored sealed, shown as `KEEP`.
    pub secret: bool,
    /// Must be given.
    pub required: bool,
    /// A hint shown under the field.
    pub hint: &'static str,
}

const fn field(
    name: &'static str,
    label: &'static str,
    secret: bool,
    required: bool,
    hint: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        secret,
        required,
        hint,
    }
}

const CLOUDFLARE_FIELDS: &[FieldSpec] = &[
    field(
        "account_id",
        "Account ID",
        false,
        false,
        "From the Cloudflare dashboard (32 hex digits).",
    ),
    field(
        "zone_id",
        "Zone ID",
        false,
        true,
        "From the zone's Overview page (32 hex digits).",
    ),
    field(
        "api_token",
        "API Token",
        true,
        true,
        "An API token with DNS edit on this zone.",
    ),
    field(
        "api_url",
        "API URL",
        false,
        false,
        "Leave empty for https://api.cloudflare.com/client/v4.",
    ),
];
const HESTIA_FIELDS: &[FieldSpec] = &[
    field("server_url", "Server URL", false, true, "e.g. https://hestia.example.com:8083/"),
    field("admin_user", "Admin User", false, false, "The HestiaCP admin; leave empty when the password field holds an access key ACCESS:SECRET."),
    field("admin_password", "Admin Password", true, true, "The admin's password, or an access key as ACCESS_KEY:SECRET_KEY."),
    field("user", "User", false, true, "The HestiaCP user that owns the DNS zone."),
];
const POWERDNS_FIELDS: &[FieldSpec] = &[
    field(
        "server_url",
        "Server URL",
        false,
        true,
        "The REST API base URL, e.g. https://pdns.example.com:8081",
    ),
    field(
        "api_key",
        "API Key",
        true,
        true,
        "The api-key from pdns.conf (sent as X-API-Key).",
    ),
];

impl ProviderKind {
    /// Every provider, in the order the form lists them.
    pub const ALL: [ProviderKind; 3] = [
        ProviderKind::Cloudflare,
        ProviderKind::HestiaCp,
        ProviderKind::PowerDns,
    ];

    /// The stored and API name: `cloudflare`, `hestiacp`, `powerdns`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Cloudflare => "cloudflare",
            ProviderKind::HestiaCp => "hestiacp",
            ProviderKind::PowerDns => "powerdns",
        }
    }

    /// The name admins know: `Cloudflare`, `HestiaCP`, `PowerDNS`.
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Cloudflare => "Cloudflare",
            ProviderKind::HestiaCp => "HestiaCP",
            ProviderKind::PowerDns => "PowerDNS",
        }
    }

    /// The provider's form fields.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            ProviderKind::Cloudflare => CLOUDFLARE_FIELDS,
            ProviderKind::HestiaCp => HESTIA_FIELDS,
            ProviderKind::PowerDns => POWERDNS_FIELDS,
        }
    }

    /// Parses a type as stored or as shown (`PowerDNS`, `powerdns`).
    ///
    /// # Errors
    /// [`Error::Validation`] on `type` listing the providers.
    pub fn parse(text: &str) -> Result<ProviderKind> {
        let t = text.trim().to_ascii_lowercase();
        ProviderKind::ALL
            .into_iter()
            .find(|k| k.as_str() == t)
            .ok_or_else(|| {
                Error::validation(
                    "type",
                    format!(
                        "'{}' is not a provider - choose Cloudflare, HestiaCP or PowerDNS",
                        text.trim()
                    ),
                )
            })
    }
}

/// A configured zone with its credentials in clear (never sent to a browser as is).
#[derive(Clone, Debug)]
pub struct DnsZone {
    pub id: u64,
    pub zone: ZoneName,
    pub kind: ProviderKind,
    /// Non-secret fields by name, normalised.
    pub settings: Map<String, Value>,
    /// Secret fields by name, in clear.
    pub secrets: Map<String, Value>,
}

impl DnsZone {
    /// A field's value, secret or not (empty when unset).
    pub fn value(&self, name: &str) -> &str {
        self.settings
            .get(name)
            .or_else(|| self.secrets.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Every secret value, for masking in logs.
    pub fn secret_values(&self) -> Vec<String> {
        self.secrets
            .values()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The zone as the pages see it: `id`, `zone`, `type`, `type_label` and each field, with
    /// [`KEEP`] in place of every secret that is set.
    pub fn to_public(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("id".into(), self.id.into());
        m.insert("zone".into(), self.zone.as_str().into());
        m.insert("type".into(), self.kind.as_str().into());
        m.insert("type_label".into(), self.kind.label().into());
        for f in self.kind.fields() {
            let v = self.value(f.name);
            let shown = if f.secret && !v.is_empty() { KEEP } else { v };
            m.insert(f.name.into(), shown.into());
        }
        m
    }
}

fn text_of(input: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match input.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(Error::validation(key, "must be text")),
    }
}

fn http_url(field: &str, text: &str) -> Result<Url> {
    let url = Url::parse(text).map_err(|e| {
        Error::validation(
            field,
            format!("'{text}' is not a URL ({e}) - enter it as https://host:port/"),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(Error::validation(
            field,
            format!("'{text}' must start with https:// (or http://) and name a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(Error::validation(
            field,
            "must not carry credentials, a query or a fragment - enter them in their own fields",
        ));
    }
    Ok(url)
}

fn hex_id(field: &str, text: &str) -> Result<String> {
    let t = text.to_ascii_lowercase();
    if t.len() == 32 && t.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(t)
    } else {
        Err(Error::validation(
            field,
            format!("'{text}' is not a Cloudflare id - copy the 32 hex digits from the dashboard"),
        ))
    }
}

/// Whether `text` is a HestiaCP access key written `ACCESS:SECRET` (20 and 40 characters).
pub fn is_hestia_access_key(text: &str) -> bool {
    match text.split_once(':') {
        Some((a, s)) => {
            a.len() == 20
                && a.chars().all(|c| c.is_ascii_alphanumeric())
                && s.len() == 40
                && !s.contains(':')
        }
        None => false,
    }
}

/// Validates a field that is not secret, returning its normalised value.
fn normalise_setting(kind: ProviderKind, name: &str, value: &str) -> Result<String> {
    Ok(match (kind, name) {
        (ProviderKind::Cloudflare, "account_id") if !value.is_empty() => hex_id(name, value)?,
        (ProviderKind::Cloudflare, "zone_id") => hex_id(name, value)?,
        (ProviderKind::Cloudflare, "api_url") if !value.is_empty() => http_url(name, value)?
            .as_str()
            .trim_end_matches('/')
            .to_string(),
        (ProviderKind::HestiaCp, "server_url") => {
            let url = http_url(name, value)?;
            let s = url.as_str().to_string();
            if s.ends_with('/') {
                s
            } else {
                format!("{s}/")
            }
        }
        (ProviderKind::PowerDns, "server_url") => {
            let url = http_url(name, value)?;
            let s = url.as_str().trim_end_matches('/');
            s.strip_suffix("/api/v1").unwrap_or(s).to_string()
        }
        (ProviderKind::HestiaCp, "user") | (ProviderKind::HestiaCp, "admin_user")
            if !value.is_empty() =>
        {
            if value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            {
                value.to_string()
            } else {
                return Err(Error::validation(
                    name,
                    format!(
                        "'{value}' is not a HestiaCP user name (letters, digits, '_', '-', '.')"
                    ),
                ));
            }
        }
        _ => value.to_string(),
    })
}

/// Builds a zone from a form's `input`, on top of `existing` for an update.
///
/// # Errors
/// [`Error::Validation`] naming the first field that is missing or malformed.
pub fn from_input(input: &Map<String, Value>, existing: Option<&DnsZone>) -> Result<DnsZone> {
    let kind = match (text_of(input, "type")?, existing) {
        (Some(t), _) if !t.is_empty() => ProviderKind::parse(&t)?,
        (_, Some(e)) => e.kind,
        _ => {
            return Err(Error::validation(
                "type",
                "is required - choose Cloudflare, HestiaCP or PowerDNS",
            ))
        }
    };
    let zone =
        match (text_of(input, "zone")?, existing) {
            (Some(z), _) if !z.is_empty() => ZoneName::parse("zone", &z)?,
            (_, Some(e)) => e.zone.clone(),
            _ => return Err(Error::validation(
                "zone",
                "is required - enter the zone name, e.g. example.com or 130.168.192.in-addr.arpa",
            )),
        };
    let same_kind = existing.filter(|e| e.kind == kind);
    let known: Vec<&str> = ["id", "zone", "type", "type_label"]
        .into_iter()
        .chain(
            ProviderKind::ALL
                .iter()
                .flat_map(|k| k.fields().iter().map(|f| f.name)),
        )
        .collect();
    if let Some(unknown) = input.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(Error::validation(
            unknown.as_str(),
            "is not a field of a DNS zone - remove it from the request",
        ));
    }
    let mut settings = Map::new();
    let mut secrets = Map::new();
    for f in kind.fields() {
        let given = text_of(input, f.name)?;
        if f.secret {
            let kept = same_kind
                .map(|e| e.value(f.name).to_string())
                .filter(|v| !v.is_empty());
            let value = match given {
                Some(v) if !v.is_empty() && v != KEEP => v,
                _ => match kept {
                    Some(v) => v,
                    None if f.required => {
                        return Err(Error::validation(
                            f.name,
                            format!("is required - enter the {}", f.label),
                        ))
                    }
                    None => String::new(),
                },
            };
            if value.chars().any(char::is_control) {
                return Err(Error::validation(
                    f.name,
                    "must not contain line breaks or control characters",
                ));
            }
            secrets.insert(f.name.into(), value.into());
        } else {
            let value = match given {
                Some(v) => v,
                None => same_kind
                    .map(|e| e.value(f.name).to_string())
                    .unwrap_or_default(),
            };
            if value.is_empty() && f.required {
                return Err(Error::validation(
                    f.name,
                    format!("is required - enter the {}", f.label),
                ));
            }
            settings.insert(
                f.name.into(),
                normalise_setting(kind, f.name, &value)?.into(),
            );
        }
    }
    let zone = DnsZone {
        id: existing.map_or(0, |e| e.id),
        zone,
        kind,
        settings,
        secrets,
    };
    if kind == ProviderKind::HestiaCp
        && zone.value("admin_user").is_empty()
        && !is_hestia_access_key(zone.value("admin_password"))
    {
        return Err(Error::validation(
            "admin_user",
            "is required unless the password field holds an access key ACCESS_KEY:SECRET_KEY (20 and 40 characters)",
        ));
    }
    Ok(zone)
}

type Row = (u64, String, String, String, String);

/// The zones table, with the key that seals its secrets.
pub struct ZoneStore<'a> {
    db: &'a Db,
    key: Option<&'a str>,
}

impl<'a> ZoneStore<'a> {
    pub fn new(db: &'a Db, key: Option<&'a str>) -> Self {
        ZoneStore { db, key }
    }

    fn secret_box(&self) -> Result<SecretBox> {
        SecretBox::new(self.key)
    }

    fn decode(&self, sb: &SecretBox, (id, zone, kind, settings, sealed): Row) -> Result<DnsZone> {
        let broken = |what: &str| {
            Error::Database(format!(
                "dns zone {id} has {what} - edit the zone and save it again"
            ))
        };
        let zone = ZoneName::parse("zone", &zone).map_err(|_| broken("an invalid name"))?;
        let kind = ProviderKind::parse(&kind).map_err(|_| broken("an unknown type"))?;
        let settings: Map<String, Value> =
            serde_json::from_str(&settings).map_err(|_| broken("damaged settings"))?;
        let secrets: Map<String, Value> = if sealed.is_empty() {
            Map::new()
        } else {
            serde_json::from_str(
                &sb.open(&sealed)
                    .map_err(|e| e.context(format!("dns zone {id} ({zone})")))?,
            )
            .map_err(|_| broken("damaged credentials"))?
        };
        Ok(DnsZone {
            id,
            zone,
            kind,
            settings,
            secrets,
        })
    }

    /// Every zone with its credentials in clear, by id.
    ///
    /// # Errors
    /// [`Error::Validation`] on `encryption_key` when no key was given; [`Error::Database`]
    /// naming a zone whose credentials cannot be decrypted.
    pub async fn all(&self) -> Result<Vec<DnsZone>> {
        let sb = self.secret_box()?;
        let mut conn = self.db.conn().await?;
        let rows: Vec<Row> = all(
            &mut conn,
            &format!("SELECT id, zone, type, settings, secrets FROM `{TABLE}` ORDER BY id"),
            (),
        )
        .await?;
        rows.into_iter().map(|r| self.decode(&sb, r)).collect()
    }

    /// One zone with its credentials in clear.
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no zone `id`.
    pub async fn get(&self, id: u64) -> Result<DnsZone> {
        let sb = self.secret_box()?;
        let mut conn = self.db.conn().await?;
        let row: Option<Row> = first(
            &mut conn,
            &format!("SELECT id, zone, type, settings, secrets FROM `{TABLE}` WHERE id = ?"),
            (id,),
        )
        .await?;
        let row = row.ok_or_else(|| {
            Error::NotFound(format!(
                "dns zone {id} does not exist - reload the DNS Zones page"
            ))
        })?;
        self.decode(&sb, row)
    }

    async fn check_unique(&self, zone: &DnsZone) -> Result<()> {
        let mut conn = self.db.conn().await?;
        let clash: Option<u64> = first(
            &mut conn,
            &format!("SELECT id FROM `{TABLE}` WHERE zone = ? AND type = ? AND id <> ?"),
            (zone.zone.as_str(), zone.kind.as_str(), zone.id),
        )
        .await?;
        match clash {
            Some(other) => Err(Error::Conflict(format!(
                "zone {} at {} is already configured (zone {other}) - edit that one instead",
                zone.zone,
                zone.kind.label()
            ))),
            None => Ok(()),
        }
    }

    async fn write(&self, zone: &DnsZone) -> Result<u64> {
        let sb = self.secret_box()?;
        let settings = Value::Object(zone.settings.clone()).to_string();
        let sealed = sb.seal(&Value::Object(zone.secrets.clone()).to_string())?;
        self.check_unique(zone).await?;
        let mut conn = self.db.conn().await?;
        if zone.id == 0 {
            conn.exec_drop(
                format!(
                    "INSERT INTO `{TABLE}` (zone, type, settings, secrets) VALUES (?, ?, ?, ?)"
                ),
                (zone.zone.as_str(), zone.kind.as_str(), settings, sealed),
            )
            .await?;
            Ok(conn.last_insert_id().unwrap_or(0))
        } else {
            conn.exec_drop(
                format!("UPDATE `{TABLE}` SET zone = ?, type = ?, settings = ?, secrets = ? WHERE id = ?"),
                (zone.zone.as_str(), zone.kind.as_str(), settings, sealed, zone.id),
            )
            .await?;
            Ok(zone.id)
        }
    }

    /// Validates and adds a zone; returns it as [`DnsZone::to_public`] shows it.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the field; [`Error::Conflict`] when the same zone is
    /// already configured at the same provider.
    pub async fn create(&self, input: &Map<String, Value>) -> Result<DnsZone> {
        let mut zone = from_input(input, None)?;
        zone.id = self.write(&zone).await?;
        Ok(zone)
    }

    /// Validates and saves changes to zone `id`; a secret given as `KEEP` or empty keeps its
    /// stored value.
    pub async fn update(&self, id: u64, input: &Map<String, Value>) -> Result<DnsZone> {
        let existing = self.get(id).await?;
        let zone = from_input(input, Some(&existing))?;
        self.write(&zone).await?;
        Ok(zone)
    }

    /// Removes zone `id`. Records already written at the provider stay.
    pub async fn delete(&self, id: u64) -> Result<()> {
        let mut conn = self.db.conn().await?;
        conn.exec_drop(format!("DELETE FROM `{TABLE}` WHERE id = ?"), (id,))
            .await?;
        if conn.affected_rows() == 0 {
            return Err(Error::NotFound(format!(
                "dns zone {id} does not exist - reload the DNS Zones page"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect()
    }

    #[test]
    fn names_and_urls_are_normalised() {
        let z = from_input(
            &input(&[
                ("zone", "Example.COM."),
                ("type", "PowerDNS"),
                ("server_url", "http://127.0.0.1:8081/api/v1/"),
                ("api_key", "k"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(z.zone.as_str(), "example.com");
        assert_eq!(z.value("server_url"), "http://127.0.0.1:8081");
        let z = from_input(
            &input(&[
                ("zone", "example.com"),
                ("type", "hestiacp"),
                ("server_url", "https://h.example.com:8083"),
                ("admin_user", "admin"),
                ("admin_password", "pw"),
                ("user", "web"),
            ]),
            None,
        )
        .unwrap();
        assert_eq!(z.value("server_url"), "https://h.example.com:8083/");
    }

    #[test]
    fn secrets_are_kept_on_keep_or_empty_and_masked_on_output() {
        let base = input(&[
            ("zone", "example.com"),
            ("type", "cloudflare"),
            ("zone_id", &"a".repeat(32)),
            ("api_token", "tok-1"),
        ]);
        let z = from_input(&base, None).unwrap();
        assert_eq!(z.to_public()["api_token"], "KEEP");
        assert!(!Value::Object(z.to_public()).to_string().contains("tok-1"));
        for keep in ["KEEP", ""] {
            let again = from_input(&input(&[("api_token", keep)]), Some(&z)).unwrap();
            assert_eq!(again.value("api_token"), "tok-1");
        }
        let changed = from_input(&input(&[("api_token", "tok-2")]), Some(&z)).unwrap();
        assert_eq!(changed.value("api_token"), "tok-2");
        // Switching provider does not carry a secret over.
        let err = from_input(
            &input(&[("type", "powerdns"), ("server_url", "http://x:1")]),
            Some(&z),
        )
        .unwrap_err();
        assert_eq!(err.field(), Some("api_key"));
    }

    #[test]
    fn bad_fields_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[("type", "route53"), ("zone", "a.com")], "type"),
            (&[("type", "powerdns")], "zone"),
            (
                &[
                    ("type", "powerdns"),
                    ("zone", "a..com"),
                    ("server_url", "http://x"),
                    ("api_key", "k"),
                ],
                "zone",
            ),
            (
                &[
                    ("type", "powerdns"),
                    ("zone", "a.com"),
                    ("server_url", "ftp://x"),
                    ("api_key", "k"),
                ],
                "server_url",
            ),
            (
                &[
                    ("type", "powerdns"),
                    ("zone", "a.com"),
                    ("server_url", "http://x"),
                ],
                "api_key",
            ),
            (
                &[
                    ("type", "cloudflare"),
                    ("zone", "a.com"),
                    ("zone_id", "123"),
                    ("api_token", "t"),
                ],
                "zone_id",
            ),
            (
                &[
                    ("type", "hestiacp"),
                    ("zone", "a.com"),
                    ("server_url", "https://h"),
                    ("admin_password", "pw"),
                    ("user", "u"),
                ],
                "admin_user",
            ),
            (
                &[
                    ("type", "hestiacp"),
                    ("zone", "a.com"),
                    ("server_url", "https://h"),
                    ("admin_user", "a b"),
                    ("admin_password", "pw"),
                    ("user", "u"),
                ],
                "admin_user",
            ),
            (
                &[
                    ("type", "powerdns"),
                    ("zone", "a.com"),
                    ("server_url", "http://x"),
                    ("api_key", "k"),
                    ("colour", "red"),
                ],
                "colour",
            ),
        ];
        for (fields, field) in cases {
            let err = from_input(&input(fields), None).unwrap_err();
            assert_eq!(err.field(), Some(*field), "{fields:?}: {err}");
        }
        let key = format!("{}:{}", "A".repeat(20), "s".repeat(40));
        assert!(from_input(
            &input(&[
                ("type", "hestiacp"),
                ("zone", "a.com"),
                ("server_url", "https://h"),
                ("admin_password", &key),
                ("user", "u")
            ]),
            None
        )
        .is_ok());
    }
}
