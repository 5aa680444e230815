//! PowerDNS Authoritative HTTP API (4.x): `X-API-Key`, server `localhost`, names canonical
//! (trailing dot) on the wire. A zone's changes go in one PATCH: REPLACE for a name and type
//! that keeps records, DELETE for one that keeps none; PowerDNS applies the PATCH in one
//! transaction, so a replaced record is never missing.
//!
//! API: <https://doc.powerdns.com/authoritative/http-api/zone.html>

use std::collections::BTreeSet;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use super::{excerpt, ApplyMode, DnsProvider, Record, RecordType, RequestCounter, RrsetChange};
use crate::dns::zones::DnsZone;
use crate::dns::{Fqdn, ZoneName};
use crate::error::{Error, Result};
use crate::http;

/// TTL of the records the module writes.
pub const TTL: u32 = 3600;

/// A PowerDNS server, for one zone.
pub struct PowerDns {
    client: Client,
    base: String,
    api_key: String,
    zone: ZoneName,
    pub(super) counter: RequestCounter,
}

/// The zone id in a URL: the canonical name with characters outside `[A-Za-z0-9.-]` as `=XX`.
fn zone_id(zone: &ZoneName) -> String {
    let mut out = String::new();
    for b in zone.canonical().bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

impl PowerDns {
    pub fn new(client: Client, zone: &DnsZone, counter: RequestCounter) -> PowerDns {
        PowerDns {
            client,
            base: zone.value("server_url").trim_end_matches('/').to_string(),
            api_key: zone.value("api_key").to_string(),
            zone: zone.zone.clone(),
            counter,
        }
    }

    fn url(&self) -> String {
        format!(
            "{}/api/v1/servers/localhost/zones/{}",
            self.base,
            zone_id(&self.zone)
        )
    }

    /// Sends a request; `Ok((status, body))` for any HTTP answer.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<(StatusCode, String)> {
        self.counter.add();
        let mut req = self
            .client
            .request(method, url)
            .header("X-API-Key", &self.api_key)
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.json(body);
        }
        let resp = req.send().await.map_err(|e| {
            Error::Provider(format!(
                "PowerDNS at {} is unreachable - {}",
                self.base,
                http::describe(&e)
            ))
        })?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Ok((status, text))
    }

    fn failure(&self, status: StatusCode, body: &str) -> Error {
        let said = serde_json::from_str::<Value>(body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| excerpt(body));
        let hint = match status.as_u16() {
            401 => " - check the API key (api-key in pdns.conf)",
            403 => " - check webserver-allow-from in pdns.conf allows this WHMCS server",
            404 => " - create the zone in PowerDNS or correct its name here",
            _ => "",
        };
        Error::Provider(format!(
            "PowerDNS zone {}: HTTP {} {said}{hint}",
            self.zone,
            status.as_u16()
        ))
    }

    /// GETs the zone at `url` (the zone URL, with or without a query) as JSON.
    async fn zone_json(&self, url: &str) -> Result<Value> {
        let (status, body) = self.send(Method::GET, url, None).await?;
        if !status.is_success() {
            return Err(self.failure(status, &body));
        }
        serde_json::from_str(&body).map_err(|_| {
            Error::Provider(format!(
                "PowerDNS answered with something that is not JSON: {}",
                excerpt(&body)
            ))
        })
    }

    async fn patch(&self, changes: &[&RrsetChange]) -> std::result::Result<(), String> {
        let rrsets: Vec<Value> = changes
            .iter()
            .map(|c| {
                if c.target.is_empty() {
                    json!({"name": c.name.canonical(), "type": c.rtype.as_str(), "changetype": "DELETE"})
                } else {
                    let records: Vec<Value> = c
                        .target
                        .iter()
                        .map(|t| json!({"content": c.rtype.wire(t), "disabled": false}))
                        .collect();
                    json!({"name": c.name.canonical(), "type": c.rtype.as_str(), "ttl": TTL,
                           "changetype": "REPLACE", "records": records})
                }
            })
            .collect();
        // DELETE entries first, then REPLACE: the order octoDNS uses; PowerDNS applies all of
        // it in one transaction either way.
        let mut rrsets = rrsets;
        rrsets.sort_by_key(|r| r["changetype"] != "DELETE");
        let body = json!({ "rrsets": rrsets });
        match self.send(Method::PATCH, &self.url(), Some(&body)).await {
            Ok((s, _)) if s.is_success() => Ok(()),
            Ok((s, b)) => Err(self.failure(s, &b).to_string()),
            Err(e) => Err(e.to_string()),
        }
    }
}

impl DnsProvider for PowerDns {
    async fn test(&self) -> Result<String> {
        let v = self
            .zone_json(&format!("{}?rrsets=false", self.url()))
            .await?;
        let name = v.get("name").and_then(Value::as_str).unwrap_or_default();
        if ZoneName::parse("zone", name).ok().as_ref() != Some(&self.zone) {
            return Err(Error::Provider(format!(
                "PowerDNS returned zone '{name}' for {}",
                self.zone
            )));
        }
        Ok(format!(
            "PowerDNS zone {} found ({} zone, serial {})",
            self.zone,
            v.get("kind").and_then(Value::as_str).unwrap_or("?"),
            v.get("serial").map(Value::to_string).unwrap_or_default()
        ))
    }

    async fn records(&self, names: &BTreeSet<Fqdn>) -> Result<Vec<Record>> {
        // One name (a forward zone, where most records are someone else's): only its RRsets.
        // More names: the whole zone in one request rather than one per name.
        let url = match names.iter().next() {
            Some(only) if names.len() == 1 => {
                format!("{}?rrset_name={}", self.url(), only.canonical())
            }
            _ => self.url(),
        };
        let v = self.zone_json(&url).await?;
        let mut out = Vec::new();
        for rrset in v
            .get("rrsets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(rtype) = rrset
                .get("type")
                .and_then(Value::as_str)
                .and_then(RecordType::parse)
            else {
                continue;
            };
            let Ok(name) = Fqdn::parse(
                "name",
                rrset
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ) else {
                continue;
            };
            if !names.contains(&name) {
                continue;
            }
            for r in rrset
                .get("records")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(content) = r.get("content").and_then(Value::as_str) {
                    out.push(Record {
                        name: name.clone(),
                        rtype,
                        content: rtype.normalise(content),
                        id: None,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn apply(&self, changes: &[RrsetChange], mode: ApplyMode) -> Vec<Result<(), String>> {
        if changes.is_empty() {
            return Vec::new();
        }
        match mode {
            ApplyMode::Batched => {
                let all: Vec<&RrsetChange> = changes.iter().collect();
                let result = self.patch(&all).await;
                vec![result; changes.len()]
            }
            ApplyMode::PerRecord => {
                let mut out = Vec::with_capacity(changes.len());
                for c in changes {
                    out.push(self.patch(&[c]).await);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_ids_escape_what_urls_cannot_carry() {
        let z = |s| ZoneName::parse("z", s).unwrap();
        assert_eq!(zone_id(&z("Example.com")), "example.com.");
        assert_eq!(zone_id(&z("_x.example.com")), "=5Fx.example.com.");
        assert_eq!(zone_id(&z("2.0.192.in-addr.arpa")), "2.0.192.in-addr.arpa.");
    }
}
