//! The HTTP side: plain HTTP or HTTPS with a generated self-signed certificate, Proxmox's
//! envelopes and authentication, the schema check, and the `/_sim/` control API.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_rustls::rustls;

use crate::cluster::ApiError;
use crate::schema::RouteError;
use crate::{lock, Fault, FaultKind, RecordedRequest, Sim, Violation};

/// A simulator listening on a socket; dropping it stops the server.
pub struct RunningSim {
    pub sim: Sim,
    pub addr: SocketAddr,
    /// `AB:CD:...` of the certificate when serving HTTPS.
    pub fingerprint: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningSim {
    /// `http://addr` or `https://addr`.
    pub fn base_url(&self) -> String {
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TCP listener that completes the TLS handshake before handing out a connection.
struct TlsListener {
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client refusing our certificate (a pin that does not match) ends here.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn tls_acceptor() -> Result<(tokio_rustls::TlsAcceptor, String), String> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(|e| format!("unable to generate a certificate - {e}"))?;
    let der = cert.cert.der().clone();
    let fingerprint = {
        use sha2::Digest;
        sha2::Sha256::digest(der.as_ref())
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .map_err(|e| format!("unable to use the certificate - {e}"))?;
    Ok((
        tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        fingerprint,
    ))
}

impl Sim {
    /// Serves the API on `addr` (port 0 picks a free one), over HTTPS with a fresh self-signed
    /// certificate when `tls`. Must be called inside a tokio runtime.
    pub async fn serve(&self, addr: &str, tls: bool) -> Result<RunningSim, String> {
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("unable to listen on {addr} - {e}"))?;
        let local = tcp.local_addr().map_err(|e| e.to_string())?;
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(self.clone());
        let (task, fingerprint) = if tls {
            let (acceptor, fingerprint) = tls_acceptor()?;
            let listener = TlsListener { tcp, acceptor };
            let task = tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            (task, Some(fingerprint))
        } else {
            let task = tokio::spawn(async move {
                let _ = axum::serve(tcp, app).await;
            });
            (task, None)
        };
        Ok(RunningSim {
            sim: self.clone(),
            addr: local,
            fingerprint,
            task,
        })
    }
}

fn respond(status: u16, body: Option<Value>) -> Response<Body> {
    let mut response = Response::new(match &body {
        Some(v) => Body::from(v.to_string()),
        None => Body::empty(),
    });
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if body.is_some() {
        response.headers_mut().insert(
            "content-type",
            axum::http::HeaderValue::from_static("application/json;charset=UTF-8"),
        );
    }
    response
}

fn error_response(err: &ApiError) -> Response<Body> {
    let mut body = json!({"data": null, "message": format!("{}\n", err.message)});
    if !err.errors.is_empty() {
        body["errors"] = json!(err.errors);
    }
    respond(err.status, Some(body))
}

fn parse_params(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<BTreeMap<String, String>, ApiError> {
    let mut params = BTreeMap::new();
    if !body.is_empty() {
        if method == Method::GET || method == Method::DELETE {
            return Err(ApiError::new(
                501,
                format!("Unexpected content for method '{method}'"),
            ));
        }
        let json_body = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if json_body {
            let v: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::new(400, format!("unable to parse JSON body - {e}")))?;
            for (k, v) in v.as_object().cloned().unwrap_or_default() {
                let text = match v {
                    Value::String(s) => s,
                    Value::Bool(b) => if b { "1" } else { "0" }.to_string(),
                    other => other.to_string(),
                };
                params.insert(k, text);
            }
        } else {
            for (k, v) in form_urlencoded::parse(body) {
                params.insert(k.into_owned(), v.into_owned());
            }
        }
    }
    if let Some(query) = uri.query() {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), v.into_owned());
        }
    }
    Ok(params)
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        })
}

enum Auth {
    Token,
    Ticket { csrf_ok: bool },
    None,
}

fn authenticate(sim: &Sim, headers: &HeaderMap) -> Auth {
    let state = lock(&sim.shared.state);
    if let Some(ticket) = cookie(headers, "PVEAuthCookie") {
        if let Some(csrf) = state.tickets.get(&ticket) {
            let sent = headers
                .get("csrfpreventiontoken")
                .and_then(|v| v.to_str().ok());
            return Auth::Ticket {
                csrf_ok: sent == Some(csrf.as_str()),
            };
        }
        return Auth::None;
    }
    let creds = &sim.shared.credentials;
    let expected = format!("{}={}", creds.token_id, creds.token_secret);
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.trim()
                .strip_prefix("PVEAPIToken=")
                .or_else(|| v.trim().strip_prefix("PVEAPIToken "))
        });
    match token {
        Some(t) if t == expected => Auth::Token,
        _ => Auth::None,
    }
}

async fn handle(
    State(sim): State<Sim>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let full = uri.path().to_string();
    if let Some(control) = full.strip_prefix("/_sim/") {
        return control_api(&sim, &method, control, &body);
    }
    let Some(path) = full.strip_prefix("/api2/json") else {
        return respond(404, None);
    };
    let path = path.to_string();

    let (latency, fault) = {
        let mut faults = lock(&sim.shared.faults);
        let position = faults.requests.iter().position(|f| {
            (f.method.is_empty() || f.method.eq_ignore_ascii_case(method.as_str()))
                && path.contains(&f.path)
        });
        let queued = position.and_then(|i| faults.requests.remove(i));
        let random = match (&queued, faults.random.as_mut()) {
            (None, Some(random)) => random.roll().map(|kind| Fault {
                method: String::new(),
                path: String::new(),
                kind,
            }),
            _ => None,
        };
        (faults.latency, queued.or(random))
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut record = RecordedRequest {
        method: method.to_string(),
        path: path.clone(),
        template: None,
        params: BTreeMap::new(),
        auth: "none",
        status: 0,
    };
    let response = answer(
        &sim,
        &method,
        &uri,
        &headers,
        &body,
        &path,
        fault,
        &mut record,
    )
    .await;
    record.status = response.status().as_u16();
    lock(&sim.shared.requests).push(record);
    response
}

#[allow(clippy::too_many_arguments)]
async fn answer(
    sim: &Sim,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
    path: &str,
    fault: Option<Fault>,
    record: &mut RecordedRequest,
) -> Response<Body> {
    match fault.map(|f| f.kind) {
        Some(FaultKind::Status(status, message)) => {
            return error_response(&ApiError::new(status, message));
        }
        Some(FaultKind::Hang(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }
    let params = match parse_params(method, uri, headers, body) {
        Ok(p) => p,
        Err(e) => return error_response(&e),
    };
    record.params = params.clone();

    let is_login = method == Method::POST && path.trim_end_matches('/') == "/access/ticket";
    if !is_login {
        match authenticate(sim, headers) {
            Auth::Token => record.auth = "token",
            Auth::Ticket { csrf_ok } => {
                record.auth = "ticket";
                if method != Method::GET && !csrf_ok {
                    return respond(401, None);
                }
            }
            // Proxmox: 401 with an empty body for the json format.
            Auth::None => return respond(401, None),
        }
    }

    let schema = &sim.shared.schema;
    let matched = match schema.route(method.as_str(), path) {
        Ok(m) => m,
        Err(RouteError::NoPath) | Err(RouteError::NoMethod) => {
            let message = format!("Method '{method} {path}' not implemented");
            lock(&sim.shared.violations).push(Violation {
                method: method.to_string(),
                path: path.to_string(),
                errors: BTreeMap::from([("path".into(), message.clone())]),
            });
            return error_response(&ApiError::new(501, message));
        }
    };
    record.template = Some(matched.template.to_string());
    let mut all = params.clone();
    let mut errors = BTreeMap::new();
    for (k, v) in &matched.path_params {
        if let Some(previous) = all.insert(k.clone(), v.clone()) {
            if &previous != v {
                errors.insert(
                    k.clone(),
                    "duplicate parameter (with different values)".into(),
                );
            }
        }
    }
    errors.extend(matched.check(&all));
    if !errors.is_empty() {
        lock(&sim.shared.violations).push(Violation {
            method: method.to_string(),
            path: path.to_string(),
            errors: errors.clone(),
        });
        return error_response(&ApiError {
            status: 400,
            message: "Parameter verification failed.".into(),
            errors,
        });
    }

    let user = match record.auth {
        "token" => sim.shared.credentials.token_id.clone(),
        _ => sim.shared.credentials.user.clone(),
    };
    let result = {
        let mut state = lock(&sim.shared.state);
        let mut faults = lock(&sim.shared.faults);
        state.advance();
        state.dispatch(
            &crate::cluster::Call {
                method: method.as_str(),
                template: matched.template,
                params: &all,
                user: &user,
                credentials: &sim.shared.credentials,
            },
            &mut faults,
        )
    };
    match result {
        Ok(data) => respond(200, Some(json!({ "data": data }))),
        Err(e) => error_response(&e),
    }
}

/// `GET /_sim/requests`, `GET /_sim/violations`, `POST /_sim/fault` (JSON `{method, path,
/// status, message}` or `{method, path, hang_ms}`), `POST /_sim/task-fault` (`{type,
/// exitstatus}`), `POST /_sim/random-faults` (`{error_rate, status, hang_rate, hang_ms, seed}`;
/// rates 0 stop them), `POST /_sim/task-duration` (`{ms}`), `POST /_sim/latency` (`{ms}`), `POST /_sim/lock` (`{vmid, lock}`),
/// `POST /_sim/privileges` (`{"/vms": ["VM.Audit", ...], ...}`), `POST /_sim/clear`.
fn control_api(sim: &Sim, method: &Method, what: &str, body: &Bytes) -> Response<Body> {
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |k: &str| {
        input
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let number = |k: &str| input.get(k).and_then(Value::as_u64).unwrap_or_default();
    let data = match (method.as_str(), what) {
        ("GET", "requests") => json!(sim
            .requests()
            .iter()
            .map(
                |r| json!({"method": r.method, "path": r.path, "template": r.template,
                "params": r.params, "auth": r.auth, "status": r.status})
            )
            .collect::<Vec<_>>()),
        ("GET", "violations") => json!(sim
            .violations()
            .iter()
            .map(|v| json!({"method": v.method, "path": v.path, "errors": v.errors}))
            .collect::<Vec<_>>()),
        ("POST", "fault") => {
            let kind = if input.get("hang_ms").is_some() {
                FaultKind::Hang(std::time::Duration::from_millis(number("hang_ms")))
            } else {
                FaultKind::Status(number("status").clamp(400, 599) as u16, text("message"))
            };
            sim.inject(Fault {
                method: text("method"),
                path: text("path"),
                kind,
            });
            Value::Null
        }
        ("POST", "task-fault") => {
            sim.fail_next_task(&text("type"), &text("exitstatus"));
            Value::Null
        }
        ("POST", "random-faults") => {
            let rate = |k: &str| {
                input
                    .get(k)
                    .and_then(Value::as_f64)
                    .unwrap_or_default()
                    .clamp(0.0, 1.0)
            };
            let (error_rate, hang_rate) = (rate("error_rate"), rate("hang_rate"));
            sim.set_random_faults((error_rate + hang_rate > 0.0).then(|| {
                crate::RandomFaults {
                    error_rate,
                    status: input
                        .get("status")
                        .and_then(Value::as_u64)
                        .unwrap_or(500)
                        .clamp(500, 599) as u16,
                    hang_rate,
                    hang: std::time::Duration::from_millis(number("hang_ms")),
                    seed: input.get("seed").and_then(Value::as_u64).unwrap_or(1),
                }
            }));
            Value::Null
        }
        ("POST", "task-duration") => {
            sim.set_default_task_duration(std::time::Duration::from_millis(number("ms")));
            Value::Null
        }
        ("POST", "latency") => {
            sim.set_latency(std::time::Duration::from_millis(number("ms")));
            Value::Null
        }
        ("POST", "lock") => {
            let name = text("lock");
            json!(sim.set_lock(
                number("vmid") as u32,
                (!name.is_empty()).then_some(name.as_str())
            ))
        }
        ("POST", "privileges") => {
            let privileges = input
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(path, privs)| {
                            let list = privs
                                .as_array()
                                .map(|a| {
                                    a.iter()
                                        .filter_map(|p| p.as_str().map(str::to_string))
                                        .collect()
                                })
                                .unwrap_or_default();
                            (path.clone(), list)
                        })
                        .collect()
                })
                .unwrap_or_default();
            sim.set_privileges(privileges);
            Value::Null
        }
        ("POST", "clear") => {
            sim.clear_log();
            Value::Null
        }
        _ => {
            return respond(
                404,
                Some(json!({"data": null, "message": "unknown control call\n"})),
            )
        }
    };
    respond(200, Some(json!({ "data": data })))
}
