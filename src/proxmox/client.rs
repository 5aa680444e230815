//! The HTTP client for `/api2/json`: authentication (API token, or ticket with CSRF token on
//! writes and one re-login when the ticket expired), the envelope, Proxmox's error bodies, and
//! retries of idempotent reads only.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

use super::error::{ApiError, ApiResult};
use super::types::{
    bool01, check_config_id, check_node, check_storage, lenient_bool, lenient_f64, lenient_u64,
};
use super::{
    text, Auth, BackupRequest, CloneRequest, ConfigUpdate, Endpoint, FirewallOptions, FirewallRule,
    MigrateRequest, NodeInfo, NodeMemory, ProxmoxApi, RestoreRequest, RrdPoint, Snapshot,
    StorageInfo, StorageVolume, TaskState, Timeframe, Upid, Version, VmConfig, VmStatus, VmSummary,
    Vmid,
};
use crate::http::{self, ClientOptions};
use crate::settings::Settings;

/// Which timeout a client uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Admin and client-area pages: the default API timeout (Settings, 10 s by default).
    Page,
    /// Cron work (clone, migrate, backups): the heavy operations timeout (60 s by default).
    Cron,
}

/// Reads are retried this many times after the first attempt, with a growing pause.
const READ_RETRIES: u32 = 2;
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// Path segments are percent-encoded except RFC 3986 unreserved characters (a UPID holds
/// `:`, `@` and `!`; a volume id holds `:` and `/`).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn seg(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

struct Session {
    ticket: String,
    csrf: String,
}

/// The Proxmox VE API client for one server entry.
pub struct Client {
    endpoint: Endpoint,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
}

impl Client {
    /// A client whose every request must finish within `timeout`.
    ///
    /// # Errors
    /// [`ApiError::Invalid`] on `tls` only if TLS cannot be set up.
    pub fn new(endpoint: Endpoint, timeout: Duration) -> ApiResult<Client> {
        let http = http::client(&ClientOptions {
            timeout,
            trust: endpoint.trust.clone(),
        })
        .map_err(|e| ApiError::invalid("tls", e.to_string()))?;
        Ok(Client {
            endpoint,
            http,
            session: Mutex::new(None),
        })
    }

    /// A client with the timeout the settings give `purpose`.
    pub fn for_purpose(
        endpoint: Endpoint,
        settings: &Settings,
        purpose: Purpose,
    ) -> ApiResult<Client> {
        let secs = match purpose {
            Purpose::Page => settings.default_timeout,
            Purpose::Cron => settings.heavy_timeout,
        };
        Client::new(endpoint, Duration::from_secs(u64::from(secs.max(1))))
    }

    /// The server entry this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api2/json{path}", self.endpoint.base_url)
    }

    fn transport(err: &reqwest::Error) -> ApiError {
        let text = http::describe(err);
        if err.is_timeout() {
            return ApiError::Timeout(text);
        }
        let lower = text.to_ascii_lowercase();
        if lower.contains("certificate")
            || lower.contains("fingerprint")
            || lower.contains("unknownissuer")
        {
            ApiError::Certificate(text)
        } else {
            ApiError::Transport(text)
        }
    }

    /// Proxmox's answer as `data`, or the error its status and body describe.
    async fn decode(response: reqwest::Response, what: &str) -> ApiResult<Value> {
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Self::transport(&e))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status == StatusCode::OK {
            let mut json =
                json.ok_or_else(|| ApiError::Decode(format!("{what}: the answer is not JSON")))?;
            return Ok(json.get_mut("data").map(Value::take).unwrap_or(Value::Null));
        }
        let message = json
            .as_ref()
            .and_then(|j| j.get("message"))
            .and_then(Value::as_str)
            .map(|m| m.trim_end().to_string())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
        Err(match status.as_u16() {
            401 => ApiError::Unauthorized(what.to_string()),
            403 => ApiError::Forbidden(message),
            400 => ApiError::BadRequest {
                message,
                errors: json
                    .as_ref()
                    .and_then(|j| j.get("errors"))
                    .and_then(Value::as_object)
                    .map(|o| {
                        o.iter()
                            .map(|(k, v)| {
                                (
                                    k.clone(),
                                    v.as_str()
                                        .map(str::to_string)
                                        .unwrap_or_else(|| v.to_string()),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            code => ApiError::Status {
                status: code,
                message,
            },
        })
    }

    async fn login(&self, user: &str, password: &str) -> ApiResult<Session> {
        let response = self
            .http
            .post(self.url("/access/ticket"))
            .form(&[("username", user), ("password", password)])
            .send()
            .await
            .map_err(|e| Self::transport(&e))?;
        let data = Self::decode(
            response,
            &format!("the user '{user}' or its password was refused"),
        )
        .await?;
        match (text(&data, "ticket"), text(&data, "CSRFPreventionToken")) {
            (Some(ticket), Some(csrf)) => Ok(Session { ticket, csrf }),
            _ => Err(ApiError::Decode("the login answer holds no ticket (is two-factor authentication on for this user? use an API token)".into())),
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        path: &str,
        params: &[(String, String)],
    ) -> ApiResult<Value> {
        let mut relogged = false;
        loop {
            let mut request = self.http.request(method.clone(), self.url(path));
            request = if *method == Method::GET || *method == Method::DELETE {
                request.query(params)
            } else {
                request.form(params)
            };
            let refused = match &self.endpoint.auth {
                Auth::Token { id, secret } => {
                    request = request.header("Authorization", format!("PVEAPIToken={id}={secret}"));
                    format!("the API token '{id}' or its secret was refused - check the server's username (token id) and password (secret)")
                }
                Auth::Ticket { user, password } => {
                    let mut session = self.session.lock().await;
                    if session.is_none() {
                        *session = Some(self.login(user, password).await?);
                    }
                    if let Some(s) = session.as_ref() {
                        request =
                            request.header("Cookie", format!("PVEAuthCookie={}", seg(&s.ticket)));
                        if *method != Method::GET {
                            request = request.header("CSRFPreventionToken", &s.csrf);
                        }
                    }
                    format!("the session of '{user}' was refused")
                }
            };
            let response = request.send().await.map_err(|e| Self::transport(&e))?;
            // An expired ticket (2 h): log in again once; the refused request did nothing.
            if response.status() == StatusCode::UNAUTHORIZED
                && matches!(self.endpoint.auth, Auth::Ticket { .. })
                && !relogged
            {
                relogged = true;
                *self.session.lock().await = None;
                continue;
            }
            return Self::decode(response, &refused).await;
        }
    }

    /// One API call. GETs are retried on transport errors, timeouts and 502-504; nothing
    /// else is (a write may have been applied).
    async fn call(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> ApiResult<Value> {
        let mut attempt = 0;
        loop {
            match self.send_once(&method, path, &params).await {
                Err(e)
                    if method == Method::GET
                        && attempt < READ_RETRIES
                        && e.retry_safe_for_reads() =>
                {
                    attempt += 1;
                    tokio::time::sleep(RETRY_PAUSE * attempt).await;
                }
                other => return other,
            }
        }
    }

    async fn get(&self, path: &str, params: Vec<(String, String)>) -> ApiResult<Value> {
        self.call(Method::GET, path, params).await
    }

    /// A write whose answer carries nothing (`null`).
    async fn exec(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> ApiResult<()> {
        self.call(method, path, params).await.map(|_| ())
    }

    async fn upid(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> ApiResult<Upid> {
        match self.call(method, path, params).await? {
            Value::String(s) => Upid::parse(&s),
            other => Err(ApiError::Decode(format!(
                "{path}: expected a task id, got {other}"
            ))),
        }
    }

    async fn maybe_upid(
        &self,
        method: Method,
        path: &str,
        params: Vec<(String, String)>,
    ) -> ApiResult<Option<Upid>> {
        match self.call(method, path, params).await? {
            Value::String(s) => Upid::parse(&s).map(Some),
            Value::Null => Ok(None),
            other => Err(ApiError::Decode(format!(
                "{path}: expected a task id or null, got {other}"
            ))),
        }
    }

    fn vm_path(node: &str, vmid: Vmid, rest: &str) -> ApiResult<String> {
        check_node(node)?;
        Ok(format!("/nodes/{node}/qemu/{vmid}{rest}"))
    }
}

fn list(v: Value, what: &str) -> ApiResult<Vec<Value>> {
    match v {
        Value::Array(items) => Ok(items),
        Value::Null => Ok(Vec::new()),
        other => Err(ApiError::Decode(format!(
            "{what}: expected a list, got {other}"
        ))),
    }
}

fn pairs(items: &[(&str, String)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn vm_summary(v: &Value) -> Option<VmSummary> {
    Some(VmSummary {
        vmid: lenient_u64(v.get("vmid"))? as u32,
        node: text(v, "node"),
        name: text(v, "name"),
        running: text(v, "status").as_deref() == Some("running"),
        template: lenient_bool(v.get("template")).unwrap_or(false),
    })
}

fn check_cidr(cidr: &str) -> ApiResult<()> {
    let ok = match cidr.split_once('/') {
        Some((ip, p)) => {
            ip.parse::<std::net::IpAddr>().is_ok() && p.parse::<u8>().is_ok_and(|p| p <= 128)
        }
        None => cidr.parse::<std::net::IpAddr>().is_ok(),
    };
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "cidr",
            format!("'{cidr}' is not an IP address or network"),
        ))
    }
}

#[async_trait]
impl ProxmoxApi for Client {
    async fn version(&self) -> ApiResult<Version> {
        let v = self.get("/version", Vec::new()).await?;
        Ok(Version {
            version: text(&v, "version")
                .ok_or_else(|| ApiError::Decode("/version holds no version".into()))?,
            release: text(&v, "release").unwrap_or_default(),
        })
    }

    async fn permissions(
        &self,
        path: Option<&str>,
    ) -> ApiResult<BTreeMap<String, BTreeMap<String, bool>>> {
        let params = path
            .map(|p| pairs(&[("path", p.to_string())]))
            .unwrap_or_default();
        let v = self.get("/access/permissions", params).await?;
        let object = v
            .as_object()
            .ok_or_else(|| ApiError::Decode("/access/permissions: expected an object".into()))?;
        Ok(object
            .iter()
            .map(|(acl, privs)| {
                let granted = privs
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(k, v)| (k.clone(), lenient_bool(Some(v)).unwrap_or(false)))
                            .collect()
                    })
                    .unwrap_or_default();
                (acl.clone(), granted)
            })
            .collect())
    }

    async fn next_vmid(&self) -> ApiResult<Vmid> {
        let v = self.get("/cluster/nextid", Vec::new()).await?;
        let id = lenient_u64(Some(&v))
            .ok_or_else(|| ApiError::Decode(format!("/cluster/nextid answered {v}")))?;
        Vmid::new(id).map_err(|e| ApiError::Decode(e.to_string()))
    }

    async fn vmid_is_free(&self, vmid: Vmid) -> ApiResult<bool> {
        match self
            .get("/cluster/nextid", pairs(&[("vmid", vmid.to_string())]))
            .await
        {
            Ok(_) => Ok(true),
            // Proxmox: 400 with errors.vmid "VM n already exists".
            Err(ApiError::BadRequest { errors, .. }) if errors.contains_key("vmid") => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn nodes(&self) -> ApiResult<Vec<NodeInfo>> {
        Ok(list(self.get("/nodes", Vec::new()).await?, "/nodes")?
            .iter()
            .filter_map(|n| {
                Some(NodeInfo {
                    node: text(n, "node")?,
                    online: text(n, "status").as_deref() == Some("online"),
                    maxmem: lenient_u64(n.get("maxmem")).unwrap_or(0),
                    mem: lenient_u64(n.get("mem")).unwrap_or(0),
                })
            })
            .collect())
    }

    async fn node_memory(&self, node: &str) -> ApiResult<NodeMemory> {
        check_node(node)?;
        let v = self
            .get(&format!("/nodes/{node}/status"), Vec::new())
            .await?;
        let m = v
            .get("memory")
            .ok_or_else(|| ApiError::Decode("node status holds no memory".into()))?;
        let total = lenient_u64(m.get("total")).unwrap_or(0);
        let used = lenient_u64(m.get("used")).unwrap_or(0);
        Ok(NodeMemory {
            total,
            used,
            free: lenient_u64(m.get("free")).unwrap_or(total.saturating_sub(used)),
        })
    }

    async fn storages(&self, node: &str, content: Option<&str>) -> ApiResult<Vec<StorageInfo>> {
        check_node(node)?;
        let params = content
            .map(|c| pairs(&[("content", c.to_string())]))
            .unwrap_or_default();
        Ok(list(
            self.get(&format!("/nodes/{node}/storage"), params).await?,
            "storages",
        )?
        .iter()
        .filter_map(|s| {
            Some(StorageInfo {
                storage: text(s, "storage")?,
                kind: text(s, "type").unwrap_or_default(),
                content: text(s, "content")
                    .unwrap_or_default()
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                shared: lenient_bool(s.get("shared")).unwrap_or(false),
                active: lenient_bool(s.get("active")).unwrap_or(true),
                total: lenient_u64(s.get("total")).unwrap_or(0),
                used: lenient_u64(s.get("used")).unwrap_or(0),
                avail: lenient_u64(s.get("avail")).unwrap_or(0),
            })
        })
        .collect())
    }

    async fn cluster_vms(&self) -> ApiResult<Vec<VmSummary>> {
        let v = self
            .get("/cluster/resources", pairs(&[("type", "vm".into())]))
            .await?;
        Ok(list(v, "/cluster/resources")?
            .iter()
            .filter(|r| text(r, "type").as_deref() == Some("qemu"))
            .filter_map(vm_summary)
            .collect())
    }

    async fn node_vms(&self, node: &str) -> ApiResult<Vec<VmSummary>> {
        check_node(node)?;
        let v = self.get(&format!("/nodes/{node}/qemu"), Vec::new()).await?;
        Ok(list(v, "VM list")?
            .iter()
            .filter_map(vm_summary)
            .map(|mut s| {
                s.node.get_or_insert_with(|| node.to_string());
                s
            })
            .collect())
    }

    async fn clone_vm(
        &self,
        node: &str,
        template: Vmid,
        request: &CloneRequest,
    ) -> ApiResult<Upid> {
        let mut params = pairs(&[
            ("newid", request.newid.to_string()),
            ("full", bool01(request.full)),
        ]);
        if let Some(name) = &request.name {
            params.push(("name".into(), name.clone()));
        }
        if let Some(target) = &request.target {
            check_node(target)?;
            params.push(("target".into(), target.clone()));
        }
        if let Some(storage) = &request.storage {
            check_storage(storage)?;
            params.push(("storage".into(), storage.clone()));
        }
        if let Some(d) = &request.description {
            params.push(("description".into(), d.clone()));
        }
        self.upid(
            Method::POST,
            &Self::vm_path(node, template, "/clone")?,
            params,
        )
        .await
    }

    async fn vm_config(&self, node: &str, vmid: Vmid) -> ApiResult<VmConfig> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/config")?, Vec::new())
            .await?;
        let object = v
            .as_object()
            .ok_or_else(|| ApiError::Decode(format!("config of VM {vmid}: expected an object")))?;
        let mut values = BTreeMap::new();
        for (k, v) in object {
            let s = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            values.insert(k.clone(), s);
        }
        let digest = values.remove("digest").unwrap_or_default();
        Ok(VmConfig { values, digest })
    }

    async fn update_config(
        &self,
        node: &str,
        vmid: Vmid,
        update: &ConfigUpdate,
    ) -> ApiResult<Option<Upid>> {
        self.maybe_upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/config")?,
            update.to_params(),
        )
        .await
    }

    async fn update_config_sync(
        &self,
        node: &str,
        vmid: Vmid,
        update: &ConfigUpdate,
    ) -> ApiResult<()> {
        self.exec(
            Method::PUT,
            &Self::vm_path(node, vmid, "/config")?,
            update.to_params(),
        )
        .await
    }

    async fn resize_disk(
        &self,
        node: &str,
        vmid: Vmid,
        disk: &str,
        size: &str,
    ) -> ApiResult<Option<Upid>> {
        let number = size.strip_prefix('+').unwrap_or(size);
        let digits = number.trim_end_matches(['K', 'M', 'G', 'T']);
        if digits.is_empty() || digits.parse::<f64>().is_err() || digits.starts_with('-') {
            return Err(ApiError::invalid(
                "size",
                format!("'{size}' is not a disk size such as 50G or +10G"),
            ));
        }
        let params = pairs(&[("disk", disk.to_string()), ("size", size.to_string())]);
        self.maybe_upid(Method::PUT, &Self::vm_path(node, vmid, "/resize")?, params)
            .await
    }

    async fn migrate(&self, node: &str, vmid: Vmid, request: &MigrateRequest) -> ApiResult<Upid> {
        check_node(&request.target)?;
        let mut params = pairs(&[
            ("target", request.target.clone()),
            ("online", bool01(request.online)),
        ]);
        if request.with_local_disks {
            params.push(("with-local-disks".into(), bool01(true)));
        }
        if let Some(storage) = &request.target_storage {
            check_storage(storage)?;
            params.push(("targetstorage".into(), storage.clone()));
        }
        self.upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/migrate")?,
            params,
        )
        .await
    }

    async fn start(&self, node: &str, vmid: Vmid) -> ApiResult<Upid> {
        self.upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/status/start")?,
            Vec::new(),
        )
        .await
    }

    async fn stop(&self, node: &str, vmid: Vmid) -> ApiResult<Upid> {
        self.upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/status/stop")?,
            Vec::new(),
        )
        .await
    }

    async fn shutdown(&self, node: &str, vmid: Vmid, timeout: Option<Duration>) -> ApiResult<Upid> {
        let mut params = Vec::new();
        if let Some(t) = timeout {
            params = pairs(&[
                ("timeout", t.as_secs().to_string()),
                ("forceStop", bool01(true)),
            ]);
        }
        self.upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/status/shutdown")?,
            params,
        )
        .await
    }

    async fn vm_status(&self, node: &str, vmid: Vmid) -> ApiResult<VmStatus> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/status/current")?, Vec::new())
            .await?;
        Ok(VmStatus {
            running: text(&v, "status").as_deref() == Some("running"),
            qmpstatus: text(&v, "qmpstatus"),
            lock: text(&v, "lock"),
            name: text(&v, "name"),
            cpus: lenient_f64(v.get("cpus")),
            maxmem: lenient_u64(v.get("maxmem")),
            mem: lenient_u64(v.get("mem")),
            uptime: lenient_u64(v.get("uptime")),
        })
    }

    async fn delete_vm(&self, node: &str, vmid: Vmid, purge: bool) -> ApiResult<Upid> {
        let params = pairs(&[
            ("purge", bool01(purge)),
            ("destroy-unreferenced-disks", bool01(true)),
        ]);
        self.upid(Method::DELETE, &Self::vm_path(node, vmid, "")?, params)
            .await
    }

    async fn snapshots(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<Snapshot>> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/snapshot")?, Vec::new())
            .await?;
        Ok(list(v, "snapshots")?
            .iter()
            .filter_map(|s| {
                Some(Snapshot {
                    name: text(s, "name")?,
                    description: text(s, "description").unwrap_or_default(),
                    snaptime: lenient_u64(s.get("snaptime")),
                    parent: text(s, "parent"),
                })
            })
            .filter(|s| s.name != "current")
            .collect())
    }

    async fn create_snapshot(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        description: &str,
    ) -> ApiResult<Upid> {
        check_config_id("snapname", name)?;
        let mut params = pairs(&[("snapname", name.to_string())]);
        if !description.is_empty() {
            params.push(("description".into(), description.to_string()));
        }
        self.upid(
            Method::POST,
            &Self::vm_path(node, vmid, "/snapshot")?,
            params,
        )
        .await
    }

    async fn delete_snapshot(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Upid> {
        check_config_id("snapname", name)?;
        self.upid(
            Method::DELETE,
            &Self::vm_path(node, vmid, &format!("/snapshot/{}", seg(name)))?,
            Vec::new(),
        )
        .await
    }

    async fn rollback_snapshot(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Upid> {
        check_config_id("snapname", name)?;
        let path = Self::vm_path(node, vmid, &format!("/snapshot/{}/rollback", seg(name)))?;
        self.upid(Method::POST, &path, Vec::new()).await
    }

    async fn firewall_options(&self, node: &str, vmid: Vmid) -> ApiResult<FirewallOptions> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/firewall/options")?, Vec::new())
            .await?;
        let b = |k: &str| lenient_bool(v.get(k));
        Ok(FirewallOptions {
            enable: b("enable"),
            dhcp: b("dhcp"),
            ndp: b("ndp"),
            radv: b("radv"),
            macfilter: b("macfilter"),
            ipfilter: b("ipfilter"),
            policy_in: text(&v, "policy_in"),
            policy_out: text(&v, "policy_out"),
            log_level_in: text(&v, "log_level_in"),
            log_level_out: text(&v, "log_level_out"),
        })
    }

    async fn set_firewall_options(
        &self,
        node: &str,
        vmid: Vmid,
        o: &FirewallOptions,
    ) -> ApiResult<()> {
        let mut params = Vec::new();
        for (k, v) in [
            ("enable", o.enable),
            ("dhcp", o.dhcp),
            ("ndp", o.ndp),
            ("radv", o.radv),
            ("macfilter", o.macfilter),
            ("ipfilter", o.ipfilter),
        ] {
            if let Some(v) = v {
                params.push((k.to_string(), bool01(v)));
            }
        }
        for (k, v, allowed) in [
            ("policy_in", &o.policy_in, &["ACCEPT", "REJECT", "DROP"][..]),
            (
                "policy_out",
                &o.policy_out,
                &["ACCEPT", "REJECT", "DROP"][..],
            ),
            (
                "log_level_in",
                &o.log_level_in,
                &[
                    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog",
                ][..],
            ),
            (
                "log_level_out",
                &o.log_level_out,
                &[
                    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug", "nolog",
                ][..],
            ),
        ] {
            if let Some(v) = v {
                if !allowed.contains(&v.as_str()) {
                    return Err(ApiError::invalid(
                        k,
                        format!("'{v}' is not one of {}", allowed.join(", ")),
                    ));
                }
                params.push((k.to_string(), v.clone()));
            }
        }
        self.exec(
            Method::PUT,
            &Self::vm_path(node, vmid, "/firewall/options")?,
            params,
        )
        .await
    }

    async fn firewall_rules(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<FirewallRule>> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/firewall/rules")?, Vec::new())
            .await?;
        Ok(list(v, "firewall rules")?
            .iter()
            .map(|r| FirewallRule {
                pos: lenient_u64(r.get("pos")).map(|p| p as u32),
                direction: text(r, "type").unwrap_or_default(),
                action: text(r, "action").unwrap_or_default(),
                enable: lenient_bool(r.get("enable")).unwrap_or(false),
                proto: text(r, "proto"),
                source: text(r, "source"),
                dest: text(r, "dest"),
                dport: text(r, "dport"),
                sport: text(r, "sport"),
                macro_name: text(r, "macro"),
                iface: text(r, "iface"),
                comment: text(r, "comment"),
            })
            .collect())
    }

    async fn add_firewall_rule(
        &self,
        node: &str,
        vmid: Vmid,
        rule: &FirewallRule,
    ) -> ApiResult<()> {
        if !["in", "out", "forward", "group"].contains(&rule.direction.as_str()) {
            return Err(ApiError::invalid(
                "type",
                format!("'{}' is not in, out, forward or group", rule.direction),
            ));
        }
        // `enable` defaults to 0 in Proxmox: always send it.
        let mut params = pairs(&[
            ("type", rule.direction.clone()),
            ("action", rule.action.clone()),
            ("enable", bool01(rule.enable)),
        ]);
        for (k, v) in [
            ("proto", &rule.proto),
            ("source", &rule.source),
            ("dest", &rule.dest),
            ("dport", &rule.dport),
            ("sport", &rule.sport),
            ("macro", &rule.macro_name),
            ("iface", &rule.iface),
            ("comment", &rule.comment),
        ] {
            if let Some(v) = v {
                params.push((k.to_string(), v.clone()));
            }
        }
        self.exec(
            Method::POST,
            &Self::vm_path(node, vmid, "/firewall/rules")?,
            params,
        )
        .await
    }

    async fn delete_firewall_rule(&self, node: &str, vmid: Vmid, pos: u32) -> ApiResult<()> {
        self.exec(
            Method::DELETE,
            &Self::vm_path(node, vmid, &format!("/firewall/rules/{pos}"))?,
            Vec::new(),
        )
        .await
    }

    async fn ip_sets(&self, node: &str, vmid: Vmid) -> ApiResult<Vec<String>> {
        let v = self
            .get(&Self::vm_path(node, vmid, "/firewall/ipset")?, Vec::new())
            .await?;
        Ok(list(v, "IP sets")?
            .iter()
            .filter_map(|s| text(s, "name"))
            .collect())
    }

    async fn create_ip_set(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        comment: &str,
    ) -> ApiResult<()> {
        check_config_id("ipset", name)?;
        let mut params = pairs(&[("name", name.to_string())]);
        if !comment.is_empty() {
            params.push(("comment".into(), comment.to_string()));
        }
        self.exec(
            Method::POST,
            &Self::vm_path(node, vmid, "/firewall/ipset")?,
            params,
        )
        .await
    }

    async fn ip_set_entries(&self, node: &str, vmid: Vmid, name: &str) -> ApiResult<Vec<String>> {
        check_config_id("ipset", name)?;
        let v = self
            .get(
                &Self::vm_path(node, vmid, &format!("/firewall/ipset/{}", seg(name)))?,
                Vec::new(),
            )
            .await?;
        Ok(list(v, "IP set")?
            .iter()
            .filter_map(|e| text(e, "cidr"))
            .collect())
    }

    async fn add_ip_set_entry(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        cidr: &str,
    ) -> ApiResult<()> {
        check_config_id("ipset", name)?;
        check_cidr(cidr)?;
        let path = Self::vm_path(node, vmid, &format!("/firewall/ipset/{}", seg(name)))?;
        self.exec(Method::POST, &path, pairs(&[("cidr", cidr.to_string())]))
            .await
    }

    async fn delete_ip_set_entry(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        cidr: &str,
    ) -> ApiResult<()> {
        check_config_id("ipset", name)?;
        check_cidr(cidr)?;
        let path = Self::vm_path(
            node,
            vmid,
            &format!("/firewall/ipset/{}/{}", seg(name), seg(cidr)),
        )?;
        self.exec(Method::DELETE, &path, Vec::new()).await
    }

    async fn delete_ip_set(
        &self,
        node: &str,
        vmid: Vmid,
        name: &str,
        force: bool,
    ) -> ApiResult<()> {
        check_config_id("ipset", name)?;
        let path = Self::vm_path(node, vmid, &format!("/firewall/ipset/{}", seg(name)))?;
        let params = if force {
            pairs(&[("force", bool01(true))])
        } else {
            Vec::new()
        };
        self.exec(Method::DELETE, &path, params).await
    }

    async fn regenerate_cloudinit(&self, node: &str, vmid: Vmid) -> ApiResult<()> {
        self.exec(
            Method::PUT,
            &Self::vm_path(node, vmid, "/cloudinit")?,
            Vec::new(),
        )
        .await
    }

    async fn backup(&self, node: &str, request: &BackupRequest) -> ApiResult<Upid> {
        check_node(node)?;
        check_storage(&request.storage)?;
        if !["snapshot", "suspend", "stop"].contains(&request.mode.as_str()) {
            return Err(ApiError::invalid(
                "mode",
                format!("'{}' is not snapshot, suspend or stop", request.mode),
            ));
        }
        if !["0", "1", "gzip", "lzo", "zstd"].contains(&request.compress.as_str()) {
            return Err(ApiError::invalid(
                "compress",
                format!("'{}' is not 0, 1, gzip, lzo or zstd", request.compress),
            ));
        }
        let mut params = pairs(&[
            ("vmid", request.vmid.to_string()),
            ("storage", request.storage.clone()),
            ("mode", request.mode.clone()),
            ("compress", request.compress.clone()),
        ]);
        if let Some(notes) = &request.notes {
            params.push(("notes-template".into(), notes.clone()));
        }
        if request.protected {
            params.push(("protected".into(), bool01(true)));
        }
        self.upid(Method::POST, &format!("/nodes/{node}/vzdump"), params)
            .await
    }

    async fn storage_content(
        &self,
        node: &str,
        storage: &str,
        content: Option<&str>,
        vmid: Option<Vmid>,
    ) -> ApiResult<Vec<StorageVolume>> {
        check_node(node)?;
        check_storage(storage)?;
        let mut params = Vec::new();
        if let Some(c) = content {
            params.push(("content".to_string(), c.to_string()));
        }
        if let Some(id) = vmid {
            params.push(("vmid".to_string(), id.to_string()));
        }
        let v = self
            .get(&format!("/nodes/{node}/storage/{storage}/content"), params)
            .await?;
        Ok(list(v, "storage content")?
            .iter()
            .filter_map(|c| {
                Some(StorageVolume {
                    volid: text(c, "volid")?,
                    content: text(c, "content").unwrap_or_default(),
                    vmid: lenient_u64(c.get("vmid")).map(|v| v as u32),
                    size: lenient_u64(c.get("size")).unwrap_or(0),
                    ctime: lenient_u64(c.get("ctime")),
                    format: text(c, "format"),
                    notes: text(c, "notes"),
                    protected: lenient_bool(c.get("protected")).unwrap_or(false),
                })
            })
            .collect())
    }

    async fn delete_volume(
        &self,
        node: &str,
        storage: &str,
        volid: &str,
    ) -> ApiResult<Option<Upid>> {
        check_node(node)?;
        check_storage(storage)?;
        if !volid.starts_with(&format!("{storage}:")) {
            return Err(ApiError::invalid(
                "volume",
                format!("'{volid}' is not a volume of storage '{storage}'"),
            ));
        }
        let path = format!("/nodes/{node}/storage/{storage}/content/{}", seg(volid));
        self.maybe_upid(Method::DELETE, &path, Vec::new()).await
    }

    async fn restore(&self, node: &str, request: &RestoreRequest) -> ApiResult<Upid> {
        check_node(node)?;
        let mut params = pairs(&[
            ("vmid", request.vmid.to_string()),
            ("archive", request.archive.clone()),
        ]);
        if let Some(storage) = &request.storage {
            check_storage(storage)?;
            params.push(("storage".into(), storage.clone()));
        }
        for (k, v) in [
            ("force", request.force),
            ("unique", request.unique),
            ("start", request.start),
        ] {
            if v {
                params.push((k.to_string(), bool01(true)));
            }
        }
        self.upid(Method::POST, &format!("/nodes/{node}/qemu"), params)
            .await
    }

    async fn rrd_data(
        &self,
        node: &str,
        vmid: Vmid,
        timeframe: Timeframe,
        max: bool,
    ) -> ApiResult<Vec<RrdPoint>> {
        let params = pairs(&[
            ("timeframe", timeframe.as_str().to_string()),
            ("cf", if max { "MAX" } else { "AVERAGE" }.to_string()),
        ]);
        let v = self
            .get(&Self::vm_path(node, vmid, "/rrddata")?, params)
            .await?;
        Ok(list(v, "rrddata")?
            .iter()
            .filter_map(|p| {
                let object = p.as_object()?;
                Some(RrdPoint {
                    time: lenient_u64(p.get("time"))?,
                    values: object
                        .iter()
                        .filter(|(k, _)| *k != "time")
                        .filter_map(|(k, v)| Some((k.clone(), lenient_f64(Some(v))?)))
                        .collect(),
                })
            })
            .collect())
    }

    async fn task_state(&self, upid: &Upid) -> ApiResult<TaskState> {
        let path = format!("/nodes/{}/tasks/{}/status", upid.node, seg(upid.as_str()));
        let v = self.get(&path, Vec::new()).await?;
        let status = text(&v, "status")
            .ok_or_else(|| ApiError::Decode(format!("task {upid}: no status")))?;
        Ok(TaskState::from_status(
            &status,
            text(&v, "exitstatus").as_deref(),
        ))
    }

    async fn task_log(&self, upid: &Upid, start: u32, limit: u32) -> ApiResult<Vec<String>> {
        let path = format!("/nodes/{}/tasks/{}/log", upid.node, seg(upid.as_str()));
        let params = pairs(&[("start", start.to_string()), ("limit", limit.to_string())]);
        Ok(list(self.get(&path, params).await?, "task log")?
            .iter()
            .filter_map(|l| text(l, "t"))
            .collect())
    }
}
