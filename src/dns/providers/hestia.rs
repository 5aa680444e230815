//! HestiaCP's API: POST `/api/` with a command (`cmd`) and positional arguments (`arg1`...),
//! authenticated as the admin (`user` + `password`) or with an access key (`hash` =
//! `ACCESS:SECRET`). A command fails with a non-2xx status (access-key mode) or an answer that
//! starts with `Error:` (legacy mode, always HTTP 200); both carry the script's message.
//!
//! HestiaCP has no batch: records are added and deleted one by one, a few at a time. Adds go
//! before deletes, so a replaced name is never empty (and the zone never loses its last A).
//!
//! Protocol: <https://hestiacp.com/docs/server-administration/rest-api.html>

use std::collections::BTreeSet;
use std::sync::Arc;

use reqwest::Client;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{excerpt, ApplyMode, DnsProvider, Record, RecordType, RequestCounter, RrsetChange};
use crate::dns::zones::{is_hestia_access_key, DnsZone};
use crate::dns::{Fqdn, ZoneName};
use crate::error::{Error, Result};
use crate::http;

/// Commands in flight at once against one server.
pub const CONCURRENCY: usize = 4;

/// A HestiaCP zone.
#[derive(Clone)]
pub struct Hestia {
    client: Client,
    url: String,
    auth: Vec<(&'static str, String)>,
    user: String,
    zone: ZoneName,
    pub(super) counter: RequestCounter,
}

impl Hestia {
    pub fn new(client: Client, zone: &DnsZone, counter: RequestCounter) -> Hestia {
        let (admin, secret) = (zone.value("admin_user"), zone.value("admin_password"));
        let auth = if admin.is_empty() && is_hestia_access_key(secret) {
            vec![("hash", secret.to_string())]
        } else {
            vec![
                ("user", admin.to_string()),
                ("password", secret.to_string()),
            ]
        };
        Hestia {
            client,
            url: format!("{}api/", zone.value("server_url")),
            auth,
            user: zone.value("user").to_string(),
            zone: zone.zone.clone(),
            counter,
        }
    }

    /// Runs `cmd` with `args`; its output on success, the script's message otherwise.
    async fn run(&self, cmd: &str, args: &[&str]) -> std::result::Result<String, String> {
        self.counter.add();
        let mut form: Vec<(String, String)> = self
            .auth
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        form.push(("cmd".into(), cmd.into()));
        for (i, a) in args.iter().enumerate() {
            form.push((format!("arg{}", i + 1), a.to_string()));
        }
        let resp = self
            .client
            .post(&self.url)
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "HestiaCP at {} is unreachable - {}",
                    self.url,
                    http::describe(&e)
                )
            })?;
        let status = resp.status();
        let code = resp
            .headers()
            .get("hestia-exit-code")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = resp.text().await.unwrap_or_default();
        let text = body.trim();
        if status.is_success() && !text.starts_with("Error:") && !text.starts_with("Usage:") {
            return Ok(text.to_string());
        }
        let hint = match code.as_deref() {
            Some("9") | Some("10") => " - check the admin user and password (or access key) and that the API allows this WHMCS server",
            _ if status.as_u16() == 401 => " - check the admin user and password (or access key)",
            _ => "",
        };
        Err(format!(
            "HestiaCP zone {} ({cmd}): HTTP {}{} {}{hint}",
            self.zone,
            status.as_u16(),
            code.map(|c| format!(", exit code {c}")).unwrap_or_default(),
            excerpt(text)
        ))
    }

    /// Runs a listing command of this zone (`USER DOMAIN json`) and parses its JSON.
    async fn run_json(&self, cmd: &str) -> Result<Value> {
        let out = self
            .run(cmd, &[&self.user, self.zone.as_str(), "json"])
            .await
            .map_err(Error::Provider)?;
        serde_json::from_str(&out).map_err(|_| {
            Error::Provider(format!(
                "HestiaCP answered with something that is not JSON: {}",
                excerpt(&out)
            ))
        })
    }

    fn absolute(&self, record: &str) -> Option<Fqdn> {
        let name = if record == "@" {
            self.zone.as_str().to_string()
        } else {
            format!("{record}.{}", self.zone)
        };
        Fqdn::parse("record", &name).ok()
    }

    async fn add(
        &self,
        name: &Fqdn,
        rtype: RecordType,
        content: &str,
    ) -> std::result::Result<(), String> {
        let record = name
            .relative_to(&self.zone)
            .ok_or_else(|| format!("{name} is not in zone {}", self.zone))?;
        let value = rtype.wire(content);
        self.run(
            "v-add-dns-record",
            &[
                &self.user,
                self.zone.as_str(),
                &record,
                rtype.as_str(),
                &value,
            ],
        )
        .await
        .map(|_| ())
    }

    async fn delete(&self, record: &Record) -> std::result::Result<(), String> {
        let id = record.id.as_deref().ok_or("record without a HestiaCP id")?;
        self.run("v-delete-dns-record", &[&self.user, self.zone.as_str(), id])
            .await
            .map(|_| ())
    }

    /// Adds then deletes the records of `change`.
    async fn change(&self, change: RrsetChange) -> std::result::Result<(), String> {
        let mut errors = Vec::new();
        for content in &change.create {
            if let Err(e) = self.add(&change.name, change.rtype, content).await {
                errors.push(e);
            }
        }
        for record in &change.delete {
            if let Err(e) = self.delete(record).await {
                errors.push(e);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

impl DnsProvider for Hestia {
    async fn test(&self) -> Result<String> {
        let v = self.run_json("v-list-dns-domain").await?;
        if v.get(self.zone.as_str()).is_none() {
            return Err(Error::Provider(format!(
                "HestiaCP user {} has no DNS domain {}",
                self.user, self.zone
            )));
        }
        Ok(format!(
            "HestiaCP zone {} found (user {})",
            self.zone, self.user
        ))
    }

    async fn records(&self, names: &BTreeSet<Fqdn>) -> Result<Vec<Record>> {
        let v = self.run_json("v-list-dns-records").await?;
        let mut records = Vec::new();
        for (id, r) in v.as_object().into_iter().flatten() {
            let Some(rtype) = r
                .get("TYPE")
                .and_then(Value::as_str)
                .and_then(RecordType::parse)
            else {
                continue;
            };
            let Some(name) = r
                .get("RECORD")
                .and_then(Value::as_str)
                .and_then(|n| self.absolute(n))
            else {
                continue;
            };
            if !names.contains(&name) {
                continue;
            }
            let content = r.get("VALUE").and_then(Value::as_str).unwrap_or_default();
            records.push(Record {
                name,
                rtype,
                content: rtype.normalise(content),
                id: Some(id.clone()),
            });
        }
        Ok(records)
    }

    async fn apply(&self, changes: &[RrsetChange], mode: ApplyMode) -> Vec<Result<(), String>> {
        let limit = if mode == ApplyMode::PerRecord {
            1
        } else {
            CONCURRENCY
        };
        let permits = Arc::new(Semaphore::new(limit));
        let mut set = JoinSet::new();
        for (i, c) in changes.iter().cloned().enumerate() {
            let (this, permits) = (self.clone(), permits.clone());
            set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                (i, this.change(c).await)
            });
        }
        let mut results = vec![Err("not run".to_string()); changes.len()];
        while let Some(done) = set.join_next().await {
            match done {
                Ok((i, r)) => results[i] = r,
                Err(e) => {
                    let msg = format!("HestiaCP change stopped: {e}");
                    for r in results
                        .iter_mut()
                        .filter(|r| matches!(r, Err(m) if m == "not run"))
                    {
                        *r = Err(msg.clone());
                    }
                }
            }
        }
        results
    }
}
