//! HestiaCP: POST `/api/` with `cmd` and `arg1`..`argN` as form fields or a JSON object,
//! authenticated as the admin (`user` + `password`, legacy mode) or with an access key (`hash`
//! = `ACCESS:SECRET`, or `access_key` + `secret_key`). Responses follow the mode-dependent
//! rules of `web/api/index.php`: legacy mode answers 200 with `OK`, the output, or `Error: ...`;
//! access-key mode answers 204 for silent success, the output with 200, and errors with the
//! exit code mapped to an HTTP status plus `Hestia-Exit-Code`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::cloudflare::url_pairs;
use crate::{serve, Fault, Recorded, Recorder};

const TYPES: &[&str] = &[
    "A", "AAAA", "NS", "CNAME", "MX", "TXT", "SRV", "DNSKEY", "KEY", "IPSECKEY", "PTR", "SPF",
    "TLSA", "CAA", "DS",
];

/// A record as HestiaCP stores it (VALUE with the trailing dot it adds to names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HRecord {
    pub record: String,
    pub rtype: String,
    pub value: String,
}

struct Inner {
    admin: (String, String),
    access_key: Option<String>,
    /// user -> domain -> id -> record
    users: BTreeMap<String, BTreeMap<String, BTreeMap<u64, HRecord>>>,
}

/// The simulator.
#[derive(Clone)]
pub struct HestiaSim {
    pub addr: SocketAddr,
    pub recorder: Recorder,
    inner: Arc<Mutex<Inner>>,
}

impl HestiaSim {
    /// Starts a simulator whose admin is `admin` with `password`.
    pub fn start(admin: &str, password: &str) -> HestiaSim {
        let inner = Arc::new(Mutex::new(Inner {
            admin: (admin.into(), password.into()),
            access_key: None,
            users: BTreeMap::new(),
        }));
        let recorder = Recorder::default();
        let app = Router::new()
            .fallback(handle)
            .with_state((inner.clone(), recorder.clone()));
        let addr = serve(app);
        HestiaSim {
            addr,
            recorder,
            inner,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The server URL as a zone's "Server URL" field takes it.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Accepts the access key `ACCESS:SECRET` (20 and 40 characters).
    pub fn allow_access_key(&self, key: &str) {
        self.lock().access_key = Some(key.to_string());
    }

    /// Adds a DNS domain of `user` with an A record at `@` (as v-add-dns-domain's template does).
    pub fn add_domain(&self, user: &str, domain: &str) {
        let mut zone = BTreeMap::new();
        zone.insert(
            1,
            HRecord {
                record: "@".into(),
                rtype: "A".into(),
                value: "192.0.2.1".into(),
            },
        );
        zone.insert(
            2,
            HRecord {
                record: "@".into(),
                rtype: "NS".into(),
                value: "ns1.example.net.".into(),
            },
        );
        self.lock()
            .users
            .entry(user.into())
            .or_default()
            .insert(domain.into(), zone);
    }

    /// Adds a record directly (one the module did not write).
    pub fn put_record(&self, user: &str, domain: &str, record: &str, rtype: &str, value: &str) {
        let mut inner = self.lock();
        if let Some(zone) = inner.users.get_mut(user).and_then(|u| u.get_mut(domain)) {
            let id = zone.keys().max().copied().unwrap_or(0) + 1;
            zone.insert(
                id,
                HRecord {
                    record: record.into(),
                    rtype: rtype.into(),
                    value: value.into(),
                },
            );
        }
    }

    /// `(record, type, value)` of a domain, sorted.
    pub fn records(&self, user: &str, domain: &str) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = self
            .lock()
            .users
            .get(user)
            .and_then(|u| u.get(domain))
            .map(|z| {
                z.values()
                    .map(|r| (r.record.clone(), r.rtype.clone(), r.value.clone()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

/// A script's result: exit code and stdout.
type Outcome = (u16, String);

fn exit_to_http(code: u16) -> StatusCode {
    let s = match code {
        0 => 200,
        2 => 422,
        5 | 6 | 9 | 10 | 21 => 401,
        c if c >= 100 => c,
        _ => 400,
    };
    StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_REQUEST)
}

fn zone<'a>(
    inner: &'a mut Inner,
    user: &str,
    domain: &str,
) -> Result<&'a mut BTreeMap<u64, HRecord>, Outcome> {
    let u = inner
        .users
        .get_mut(user)
        .ok_or((3, format!("Error: user {user} doesn't exist")))?;
    u.get_mut(domain)
        .ok_or((3, format!("Error: dns domain {domain} doesn't exist")))
}

fn run(inner: &mut Inner, cmd: &str, args: &[String]) -> Outcome {
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_default();
    match cmd {
        "v-list-dns-domain" | "v-list-dns-records" => {
            if args.len() < 2 {
                return (1, format!("Usage: {cmd} USER DOMAIN [FORMAT]"));
            }
            let z = match zone(inner, arg(0), arg(1)) {
                Ok(z) => z,
                Err(e) => return e,
            };
            if cmd == "v-list-dns-domain" {
                return (0, json!({arg(1): {"IP": "192.0.2.1", "TPL": "default", "TTL": "14400", "RECORDS": z.len().to_string(), "SUSPENDED": "no"}}).to_string());
            }
            let mut m = Map::new();
            for (id, r) in z {
                m.insert(id.to_string(), json!({"RECORD": r.record, "TYPE": r.rtype, "PRIORITY": "", "VALUE": r.value, "ID": id.to_string(), "SUSPENDED": "no", "TIME": "00:00:00", "DATE": "2026-01-01", "TTL": "14400"}));
            }
            (0, Value::Object(m).to_string())
        }
        "v-add-dns-record" => {
            if args.len() < 5 {
                return (1, "Usage: v-add-dns-record USER DOMAIN RECORD TYPE VALUE [PRIORITY] [ID] [RESTART] [TTL]".into());
            }
            let record = arg(2).to_ascii_lowercase();
            let rtype = arg(3).to_ascii_uppercase();
            let bad = [
                '!', '#', '$', '^', '&', '(', ')', '+', '=', '{', '}', ':', '<', '>', '?', '/',
                '\\', '"', '\'', ';', '%', '`', ' ',
            ];
            if record.is_empty()
                || record.chars().any(|c| bad.contains(&c))
                || record.contains("..")
                || (record.contains('@') && record != "@")
            {
                return (2, format!("Error: invalid record format :: {record}"));
            }
            if !TYPES.contains(&rtype.as_str()) {
                return (
                    2,
                    format!("Error: invalid dns record type format :: {rtype}"),
                );
            }
            let mut value = arg(4).to_string();
            if ["NS", "CNAME", "MX", "PTR", "SRV"].contains(&rtype.as_str())
                && !value.ends_with('.')
            {
                value.push('.');
            }
            if rtype == "PTR" && value.matches('.').count() < 2 {
                return (
                    2,
                    format!(
                        "Error: PTR record {value} should be a fully qualified domain name (FQDN)"
                    ),
                );
            }
            if (rtype == "A" && value.parse::<std::net::Ipv4Addr>().is_err())
                || (rtype == "AAAA" && value.parse::<std::net::Ipv6Addr>().is_err())
            {
                return (2, format!("Error: invalid ip format :: {value}"));
            }
            let z = match zone(inner, arg(0), arg(1)) {
                Ok(z) => z,
                Err(e) => return e,
            };
            let id = match arg(6) {
                "" => z.keys().max().copied().unwrap_or(0) + 1,
                given => match given.parse::<u64>() {
                    Ok(i) if i > 0 => {
                        if z.contains_key(&i) {
                            return (4, format!("Error: ID={i} already exists"));
                        }
                        i
                    }
                    _ => return (2, format!("Error: invalid id format :: {given}")),
                },
            };
            z.insert(
                id,
                HRecord {
                    record,
                    rtype,
                    value,
                },
            );
            (0, String::new())
        }
        "v-delete-dns-record" => {
            if args.len() < 3 {
                return (
                    1,
                    "Usage: v-delete-dns-record USER DOMAIN ID [RESTART]".into(),
                );
            }
            let z = match zone(inner, arg(0), arg(1)) {
                Ok(z) => z,
                Err(e) => return e,
            };
            let Ok(id) = arg(2).parse::<u64>() else {
                return (2, format!("Error: invalid id format :: {}", arg(2)));
            };
            let Some(r) = z.get(&id).cloned() else {
                return (3, format!("Error: {} id {id} doesn't exist", arg(1)));
            };
            if (r.rtype == "A" || r.rtype == "NS")
                && z.values().filter(|o| o.rtype == r.rtype).count() == 1
            {
                return (
                    2,
                    format!(
                        "Error: at least one {} record should remain active",
                        r.rtype
                    ),
                );
            }
            z.remove(&id);
            (0, String::new())
        }
        other => (2, format!("Error: {other} command invalid")),
    }
}

async fn handle(
    State((inner, recorder)): State<(Arc<Mutex<Inner>>, Recorder)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&body).to_string();
    recorder.record(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        body: text.clone(),
    });
    let latency = recorder.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if method != Method::POST || uri.path() != "/api/" {
        return (StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let fields: BTreeMap<String, String> = if form {
        url_pairs(&text).into_iter().collect()
    } else {
        match serde_json::from_str::<Map<String, Value>>(&text) {
            Ok(m) => m
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect(),
            Err(_) => {
                recorder.violation(format!("body is neither a form nor a JSON object: {text}"));
                let mut r = (StatusCode::METHOD_NOT_ALLOWED, "Error: data received is null or invalid, check https://hestiacp.com/docs/server-administration/rest-api.html").into_response();
                r.headers_mut()
                    .insert("hestia-exit-code", "405".parse().expect("header"));
                return r;
            }
        }
    };
    let known = |k: &str| {
        [
            "cmd",
            "user",
            "password",
            "hash",
            "access_key",
            "secret_key",
            "returncode",
        ]
        .contains(&k)
            || k.strip_prefix("arg")
                .and_then(|n| n.parse::<u8>().ok())
                .is_some_and(|n| (1..=13).contains(&n))
    };
    if let Some(k) = fields.keys().find(|k| !known(k)) {
        recorder.violation(format!("unknown field {k}"));
    }
    let mut args = Vec::new();
    for i in 1..=13 {
        match fields.get(&format!("arg{i}")) {
            Some(v) => args.push(v.trim().to_string()),
            None => {
                if (i + 1..=13).any(|j| fields.contains_key(&format!("arg{j}"))) {
                    recorder.violation(format!(
                        "arg{i} is missing but later arguments are given: they would shift"
                    ));
                }
            }
        }
    }
    let cmd = fields.get("cmd").cloned().unwrap_or_default();
    let code_mode = fields.get("returncode").map(String::as_str) == Some("yes");
    let access_key = fields
        .get("hash")
        .filter(|h| {
            h.split_once(':')
                .is_some_and(|(a, s)| a.len() == 20 && s.len() == 40)
        })
        .cloned()
        .or_else(|| {
            Some(format!(
                "{}:{}",
                fields.get("access_key")?,
                fields.get("secret_key")?
            ))
        });
    let key_mode = access_key.is_some();

    let respond = |code: u16, out: String| -> Response {
        if key_mode {
            if code_mode {
                return ([("hestia-exit-code", code.to_string())], code.to_string())
                    .into_response();
            }
            let status = if code == 0 && out.is_empty() {
                StatusCode::NO_CONTENT
            } else {
                exit_to_http(code)
            };
            return (status, [("hestia-exit-code", code.to_string())], out).into_response();
        }
        if code_mode {
            return (StatusCode::OK, code.to_string()).into_response();
        }
        if out.is_empty() {
            (StatusCode::OK, "OK".to_string()).into_response()
        } else {
            (StatusCode::OK, format!("{out}\n")).into_response()
        }
    };
    let api_error = |code: u16, message: &str| -> Response {
        let body = if code_mode {
            code.to_string()
        } else {
            format!("Error: {}", message.trim_start_matches("Error: "))
        };
        (
            exit_to_http(code),
            [("hestia-exit-code", code.to_string())],
            body,
        )
            .into_response()
    };
    if cmd.is_empty() {
        return api_error(2, "Command not provided");
    }
    if !cmd
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return api_error(2, &format!("{cmd} command invalid"));
    }
    let domain = args.get(1).cloned().unwrap_or_default();
    match recorder.fault(&domain) {
        Some(Fault::Status(s)) => {
            return (
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                "Internal Server Error",
            )
                .into_response()
        }
        Some(Fault::BadCredentials) => return api_error(9, "authentication failed"),
        Some(Fault::Timeout) => tokio::time::sleep(std::time::Duration::from_secs(120)).await,
        Some(Fault::RateLimited { .. }) => {
            return (StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response()
        }
        Some(Fault::Unprocessable) if cmd != "v-list-dns-records" && cmd != "v-list-dns-domain" => {
            return respond(2, "Error: invalid dns record format".into())
        }
        _ => {}
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let authorised = match &access_key {
        Some(key) => inner.access_key.as_deref() == Some(key.as_str()),
        None => match (fields.get("user"), fields.get("password")) {
            (Some(u), Some(p)) => (u, p) == (&inner.admin.0, &inner.admin.1),
            (Some(_), None) => return api_error(9, "password is missing"),
            _ => false,
        },
    };
    if !authorised {
        return api_error(
            if key_mode { 9 } else { 10 },
            if key_mode {
                "Access key doesn't exist"
            } else {
                "authentication failed"
            },
        );
    }
    let (code, out) = run(&mut inner, &cmd, &args);
    respond(code, out)
}
