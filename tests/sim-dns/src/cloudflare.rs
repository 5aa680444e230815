//! Cloudflare v4: zone details, DNS record list/create/delete and the batch endpoint, under
//! `/client/v4`, with bearer-token auth and the success/errors/messages/result envelope.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

use crate::{new_id, serve, Fault, Recorded, Recorder};

const OPENAPI: &str = include_str!("../spec/cloudflare-dns-zones-subset.openapi.json");
const BATCH: &str = include_str!("../spec/dns-records-batch.derived.json");
const BASE: &str = "/client/v4";
const TYPES: &[&str] = &[
    "A",
    "AAAA",
    "CAA",
    "CERT",
    "CNAME",
    "DNSKEY",
    "DS",
    "HTTPS",
    "LOC",
    "MX",
    "NAPTR",
    "NS",
    "OPENPGPKEY",
    "PTR",
    "SMIMEA",
    "SRV",
    "SSHFP",
    "SVCB",
    "TLSA",
    "TXT",
    "URI",
];

/// A DNS record as the simulator stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfRecord {
    pub id: String,
    pub rtype: String,
    pub name: String,
    pub content: String,
}

struct Zone {
    name: String,
    records: Vec<CfRecord>,
}

struct Inner {
    token: String,
    zones: BTreeMap<String, Zone>,
    /// (method, path template) -> allowed query parameter names.
    operations: Vec<(String, String, Vec<String>)>,
}

/// The simulator.
#[derive(Clone)]
pub struct CloudflareSim {
    pub addr: SocketAddr,
    pub recorder: Recorder,
    inner: Arc<Mutex<Inner>>,
}

fn operations() -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    for doc in [OPENAPI, BATCH] {
        let spec: Value = serde_json::from_str(doc).expect("the spec files are JSON");
        for (path, item) in spec["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                if method == "parameters" {
                    continue;
                }
                let names = op["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] != "path")
                    .filter_map(|p| p["name"].as_str().map(str::to_string))
                    .collect();
                out.push((method.to_uppercase(), path.clone(), names));
            }
        }
    }
    out
}

fn template_matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len()
        && t.iter()
            .zip(&p)
            .all(|(t, p)| (t.starts_with('{') && !p.is_empty()) || t == p)
}

fn envelope(status: StatusCode, result: Value, extra: Option<Value>) -> Response {
    let mut body =
        json!({"success": status.is_success(), "errors": [], "messages": [], "result": result});
    if let Some(info) = extra {
        body["result_info"] = info;
    }
    (status, axum::Json(body)).into_response()
}

fn failure(status: StatusCode, code: i64, message: &str) -> Response {
    (status, axum::Json(json!({"success": false, "errors": [{"code": code, "message": message}], "messages": [], "result": null}))).into_response()
}

fn record_json(zone: &Zone, r: &CfRecord) -> Value {
    json!({"id": r.id, "type": r.rtype, "name": r.name, "content": r.content, "proxiable": r.rtype != "PTR", "proxied": false, "ttl": 1,
           "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z", "meta": {}, "comment": null, "tags": [], "zone_name": zone.name})
}

/// Checks a record body (POST, batch posts) as the schema types it; the record on success.
fn check_record(v: &Value) -> Result<(String, String, String), String> {
    let o = v.as_object().ok_or("a record must be an object")?;
    let rtype = o
        .get("type")
        .and_then(Value::as_str)
        .ok_or("type is required and must be a string")?;
    if !TYPES.contains(&rtype) {
        return Err(format!("type '{rtype}' is not one of the record types"));
    }
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .ok_or("name is required and must be a string")?;
    if name.is_empty() || name.len() > 255 {
        return Err("name must be 1-255 characters".into());
    }
    let content = o
        .get("content")
        .and_then(Value::as_str)
        .ok_or("content is required and must be a string")?;
    match o.get("ttl") {
        Some(Value::Number(n))
            if n.as_u64()
                .is_some_and(|t| t == 1 || (30..=86400).contains(&t)) => {}
        _ => return Err("ttl is required: 1 (automatic) or 30-86400".into()),
    }
    if let Some(p) = o.get("proxied") {
        if !p.is_boolean() {
            return Err("proxied must be a boolean".into());
        }
    }
    let ok = match rtype {
        "A" => content.parse::<std::net::Ipv4Addr>().is_ok(),
        "AAAA" => content.parse::<std::net::Ipv6Addr>().is_ok(),
        _ => !content.is_empty(),
    };
    if !ok {
        return Err(format!(
            "content '{content}' is not valid for a {rtype} record"
        ));
    }
    Ok((
        rtype.to_string(),
        name.trim_end_matches('.').to_ascii_lowercase(),
        content.trim_end_matches('.').to_string(),
    ))
}

impl CloudflareSim {
    /// Starts a simulator accepting `token`.
    pub fn start(token: &str) -> CloudflareSim {
        let inner = Arc::new(Mutex::new(Inner {
            token: token.to_string(),
            zones: BTreeMap::new(),
            operations: operations(),
        }));
        let recorder = Recorder::default();
        let state = (inner.clone(), recorder.clone());
        let app = Router::new().fallback(handle).with_state(state);
        let addr = serve(app);
        CloudflareSim {
            addr,
            recorder,
            inner,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The API base URL, as a zone's "API URL" field takes it.
    pub fn url(&self) -> String {
        format!("http://{}{BASE}", self.addr)
    }

    /// Adds a zone; returns its id.
    pub fn add_zone(&self, name: &str) -> String {
        let id = new_id();
        self.lock().zones.insert(
            id.clone(),
            Zone {
                name: name.to_string(),
                records: Vec::new(),
            },
        );
        id
    }

    /// Adds a record directly (one the module did not write).
    pub fn put_record(&self, zone_id: &str, rtype: &str, name: &str, content: &str) {
        if let Some(z) = self.lock().zones.get_mut(zone_id) {
            z.records.push(CfRecord {
                id: new_id(),
                rtype: rtype.into(),
                name: name.into(),
                content: content.into(),
            });
        }
    }

    /// `(name, type, content)` of every record of a zone, sorted.
    pub fn records(&self, zone_id: &str) -> Vec<(String, String, String)> {
        let mut out: Vec<_> = self
            .lock()
            .zones
            .get(zone_id)
            .map(|z| {
                z.records
                    .iter()
                    .map(|r| (r.name.clone(), r.rtype.clone(), r.content.clone()))
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

type AppState = (Arc<Mutex<Inner>>, Recorder);

async fn handle(
    State((inner, recorder)): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body_text = String::from_utf8_lossy(&body).to_string();
    recorder.record(Recorded {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        body: body_text.clone(),
    });
    let latency = recorder.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let Some(path) = uri.path().strip_prefix(BASE) else {
        return failure(StatusCode::NOT_FOUND, 7003, "No route for the URI");
    };
    let query: Vec<(String, String)> = uri.query().map(url_pairs).unwrap_or_default();

    // Schema: the operation exists and takes these query parameters with these types.
    let allowed = {
        let inner = inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .operations
            .iter()
            .find(|(m, t, _)| *m == method.as_str() && template_matches(t, path))
            .map(|(_, _, q)| q.clone())
    };
    let Some(allowed) = allowed else {
        recorder.violation(format!("{method} {path}: no such operation"));
        return failure(StatusCode::BAD_REQUEST, 7003, "No route for the URI");
    };
    for (k, v) in &query {
        let typed_ok = match k.as_str() {
            "page" | "per_page" => v.parse::<u64>().is_ok_and(|n| n >= 1),
            _ => true,
        };
        if !allowed.contains(k) || !typed_ok {
            recorder.violation(format!(
                "{method} {path}: query parameter {k}={v} is not in the schema"
            ));
            return failure(
                StatusCode::BAD_REQUEST,
                1001,
                &format!("invalid query parameter {k}"),
            );
        }
    }
    let token_ok = headers.get("authorization").and_then(|h| h.to_str().ok())
        == Some(&format!(
            "Bearer {}",
            inner.lock().unwrap_or_else(|p| p.into_inner()).token
        ));
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let zone_id = segments.get(1).copied().unwrap_or_default().to_string();
    match recorder.fault(&zone_id) {
        Some(Fault::Status(s)) => {
            return failure(
                StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                1000,
                "internal error",
            )
        }
        Some(Fault::BadCredentials) => {
            return failure(StatusCode::FORBIDDEN, 10000, "Authentication error")
        }
        Some(Fault::RateLimited { retry_after, .. }) => {
            let mut r = failure(
                StatusCode::TOO_MANY_REQUESTS,
                971,
                "Please wait and consider throttling your request speed",
            );
            r.headers_mut().insert(
                "retry-after",
                retry_after
                    .to_string()
                    .parse()
                    .expect("a number is a header value"),
            );
            return r;
        }
        Some(Fault::Timeout) => {
            tokio::time::sleep(std::time::Duration::from_secs(120)).await;
        }
        Some(Fault::Unprocessable) if method != Method::GET => {
            return failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                1004,
                "DNS Validation Error",
            )
        }
        Some(Fault::BatchRefused) if path.ends_with("/batch") => {
            return failure(
                StatusCode::FORBIDDEN,
                9109,
                "Unauthorized to access requested resource",
            )
        }
        _ => {}
    }
    if !token_ok {
        return failure(StatusCode::FORBIDDEN, 10000, "Authentication error");
    }
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let Some(zone) = inner.zones.get_mut(&zone_id) else {
        return failure(StatusCode::NOT_FOUND, 1001, "Invalid zone identifier");
    };
    let json_body =
        || serde_json::from_slice::<Value>(&body).map_err(|e| format!("body is not JSON: {e}"));
    match (method.clone(), &segments[2..]) {
        (Method::GET, []) => envelope(
            StatusCode::OK,
            json!({"id": zone_id, "name": zone.name, "status": "active", "paused": false, "type": "full",
            "development_mode": 0, "owner": {}, "account": {"id": "0123456789abcdef0123456789abcdef"}, "meta": {}, "name_servers": [], "original_name_servers": [],
            "original_registrar": null, "original_dnshost": null, "created_on": "2026-01-01T00:00:00Z", "modified_on": "2026-01-01T00:00:00Z", "activated_on": "2026-01-01T00:00:00Z"}),
            None,
        ),
        (Method::GET, ["dns_records"]) => {
            let get = |k: &str| query.iter().find(|(q, _)| q == k).map(|(_, v)| v.clone());
            let page: usize = get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
            let per_page: usize = get("per_page").and_then(|p| p.parse().ok()).unwrap_or(100);
            let matching: Vec<&CfRecord> = zone
                .records
                .iter()
                .filter(|r| {
                    get("name").is_none_or(|n| n.eq_ignore_ascii_case(&r.name))
                        && get("type").is_none_or(|t| t == r.rtype)
                })
                .collect();
            let total = matching.len();
            let items: Vec<Value> = matching
                .iter()
                .skip((page - 1) * per_page)
                .take(per_page)
                .map(|r| record_json(zone, r))
                .collect();
            let count = items.len();
            envelope(
                StatusCode::OK,
                Value::Array(items),
                Some(
                    json!({"page": page, "per_page": per_page, "count": count, "total_count": total}),
                ),
            )
        }
        (Method::POST, ["dns_records"]) => {
            let record = match json_body().and_then(|v| check_record(&v)) {
                Ok(r) => r,
                Err(e) => {
                    recorder.violation(format!("POST {path}: {e}"));
                    return failure(StatusCode::BAD_REQUEST, 9000, &e);
                }
            };
            if zone.records.iter().any(|r| {
                (r.rtype.as_str(), r.name.as_str(), r.content.as_str())
                    == (record.0.as_str(), record.1.as_str(), record.2.as_str())
            }) {
                return failure(StatusCode::BAD_REQUEST, 81057, "Record already exists.");
            }
            let r = CfRecord {
                id: new_id(),
                rtype: record.0,
                name: record.1,
                content: record.2,
            };
            zone.records.push(r.clone());
            envelope(StatusCode::OK, record_json(zone, &r), None)
        }
        (Method::DELETE, ["dns_records", id]) => {
            let before = zone.records.len();
            zone.records.retain(|r| r.id != *id);
            if zone.records.len() == before {
                return failure(StatusCode::NOT_FOUND, 81044, "Record does not exist.");
            }
            envelope(StatusCode::OK, json!({"id": id}), None)
        }
        (Method::POST, ["dns_records", "batch"]) => {
            let v = match json_body() {
                Ok(v) => v,
                Err(e) => return failure(StatusCode::BAD_REQUEST, 9000, &e),
            };
            let Some(o) = v.as_object() else {
                return failure(StatusCode::BAD_REQUEST, 9000, "body must be an object");
            };
            if let Some(k) = o
                .keys()
                .find(|k| !["deletes", "patches", "puts", "posts"].contains(&k.as_str()))
            {
                recorder.violation(format!("batch: unknown key {k}"));
                return failure(StatusCode::BAD_REQUEST, 9000, &format!("unknown key {k}"));
            }
            let list = |k: &str| {
                o.get(k)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            let (deletes, posts) = (list("deletes"), list("posts"));
            if deletes.len() + posts.len() + list("patches").len() + list("puts").len() > 200 {
                return failure(
                    StatusCode::BAD_REQUEST,
                    81058,
                    "batch exceeds the plan's limit of 200 records",
                );
            }
            // All or nothing, deletes before posts.
            let mut next = zone.records.clone();
            let mut deleted = Vec::new();
            for d in &deletes {
                let Some(id) = d
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|_| d.as_object().is_some_and(|o| o.len() == 1))
                else {
                    recorder.violation(format!("batch delete {d}: must be {{id}}"));
                    return failure(StatusCode::BAD_REQUEST, 9000, "deletes take {id} only");
                };
                let Some(pos) = next.iter().position(|r| r.id == id) else {
                    return failure(StatusCode::NOT_FOUND, 81044, "Record does not exist.");
                };
                deleted.push(next.remove(pos));
            }
            let mut created = Vec::new();
            for p in &posts {
                let (t, n, c) = match check_record(p) {
                    Ok(r) => r,
                    Err(e) => {
                        recorder.violation(format!("batch post: {e}"));
                        return failure(StatusCode::BAD_REQUEST, 9000, &e);
                    }
                };
                if next
                    .iter()
                    .any(|r| r.rtype == t && r.name == n && r.content == c)
                {
                    return failure(StatusCode::BAD_REQUEST, 81057, "Record already exists.");
                }
                let r = CfRecord {
                    id: new_id(),
                    rtype: t,
                    name: n,
                    content: c,
                };
                next.push(r.clone());
                created.push(r);
            }
            zone.records = next;
            let result = json!({"deletes": deleted.iter().map(|r| record_json(zone, r)).collect::<Vec<_>>(), "patches": [], "puts": [],
                                "posts": created.iter().map(|r| record_json(zone, r)).collect::<Vec<_>>()});
            envelope(StatusCode::OK, result, None)
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            7001,
            "Method not allowed for this route",
        ),
    }
}

/// `a=1&b=x%20y` as pairs, percent-decoded.
pub(crate) fn url_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 2;
                }
                Err(_) => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).to_string()
}
