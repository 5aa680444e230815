//! Cloudflare API v4: bearer token, the `success`/`errors`/`result` envelope, page-numbered
//! lists, and the batch endpoint for changes. A batch runs in one transaction (deletes before
//! posts), so a replaced record is never missing; batches are cut at [`BATCH_LIMIT`] records
//! without splitting one name's change where it fits. Where a batch is refused (the token
//! lacks the permission, the plan lacks the endpoint, one record is rejected), each record
//! is sent on its own so the others still land. A 429 is retried after its `Retry-After`.
//!
//! API: <https://developers.cloudflare.com/api/resources/dns/subresources/records/>

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

use super::{excerpt, ApplyMode, DnsProvider, Record, RecordType, RequestCounter, RrsetChange};
use crate::dns::zones::{DnsZone, CLOUDFLARE_API};
use crate::dns::{Fqdn, ZoneName};
use crate::error::{Error, Result};
use crate::http;

/// Records per batch request: the Free plan's limit (paid plans allow 3,500).
pub const BATCH_LIMIT: usize = 200;
/// Records per page when listing a zone.
const PAGE_SIZE: usize = 1000;
/// A single name is looked up by name; for more, the zone is listed (one request for up to
/// 1,000 records, where looking up each name would take one per name).
const NAME_LOOKUPS: usize = 1;
/// Attempts of a request answered with 429.
const ATTEMPTS: u32 = 3;
/// The longest `Retry-After` honoured; a longer one fails the request.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// A Cloudflare zone.
pub struct Cloudflare {
    client: Client,
    base: String,
    token: String,
    zone_id: String,
    zone: ZoneName,
    pub(super) counter: RequestCounter,
}

/// A failed call: the HTTP status (none for transport failures), Cloudflare's error codes
/// and the message.
struct Failure {
    status: Option<StatusCode>,
    codes: Vec<i64>,
    message: String,
}

impl Failure {
    /// Whether sending the same records one by one can succeed where the batch did not: any
    /// refusal of the request itself, but not a rate limit or a token that is refused outright.
    fn record_level(&self) -> bool {
        match self.status {
            Some(s) => {
                s.is_client_error()
                    && s != StatusCode::TOO_MANY_REQUESTS
                    && !self
                        .codes
                        .iter()
                        .any(|c| matches!(c, 10000 | 6003 | 6103 | 6111))
            }
            None => false,
        }
    }
}

fn record_body(rtype: RecordType, name: &Fqdn, content: &str) -> Value {
    json!({"type": rtype.as_str(), "name": name.as_str(), "content": content, "ttl": 1, "proxied": false})
}

impl Cloudflare {
    pub fn new(client: Client, zone: &DnsZone, counter: RequestCounter) -> Cloudflare {
        let base = match zone.value("api_url") {
            "" => CLOUDFLARE_API.to_string(),
            url => url.trim_end_matches('/').to_string(),
        };
        Cloudflare {
            client,
            base,
            token: zone.value("api_token").to_string(),
            zone_id: zone.value("zone_id").to_string(),
            zone: zone.zone.clone(),
            counter,
        }
    }

    /// One call, retried after a 429; the envelope's `result` (and `result_info`) on success.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> std::result::Result<Value, Failure> {
        let url = format!("{}{path}", self.base);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.counter.add();
            let mut req = self
                .client
                .request(method.clone(), &url)
                .bearer_auth(&self.token)
                .query(query);
            if let Some(body) = body {
                req = req.json(body);
            }
            let resp = req.send().await.map_err(|e| Failure {
                status: None,
                codes: vec![],
                message: format!("Cloudflare is unreachable - {}", http::describe(&e)),
            })?;
            let status = resp.status();
            if status == StatusCode::TOO_MANY_REQUESTS && attempt < ATTEMPTS {
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
                    .unwrap_or(Duration::from_secs(1));
                if wait <= MAX_RETRY_AFTER {
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            let text = resp.text().await.unwrap_or_default();
            let envelope: Option<Value> = serde_json::from_str(&text).ok();
            let ok = envelope
                .as_ref()
                .and_then(|v| v.get("success"))
                .and_then(Value::as_bool)
                == Some(true);
            if status.is_success() && ok {
                return Ok(envelope.unwrap_or(Value::Null));
            }
            let errors: Vec<&Value> = envelope
                .as_ref()
                .and_then(|v| v.get("errors"))
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            let codes = errors
                .iter()
                .filter_map(|e| e.get("code").and_then(Value::as_i64))
                .collect();
            let said: Vec<String> = errors
                .iter()
                .map(|e| {
                    format!(
                        "{} ({})",
                        e.get("message").and_then(Value::as_str).unwrap_or("error"),
                        e.get("code").map(Value::to_string).unwrap_or_default()
                    )
                })
                .collect();
            let said = if said.is_empty() {
                excerpt(&text)
            } else {
                said.join("; ")
            };
            let hint = match status.as_u16() {
                401 | 403 => " - check the API token and that it may edit DNS of this zone",
                429 => " - rate limited by Cloudflare; run Set DNS records again later",
                _ => "",
            };
            return Err(Failure {
                status: Some(status),
                codes,
                message: format!(
                    "Cloudflare zone {}: HTTP {} {said}{hint}",
                    self.zone,
                    status.as_u16()
                ),
            });
        }
    }

    fn records_path(&self) -> String {
        format!("/zones/{}/dns_records", self.zone_id)
    }

    async fn list(
        &self,
        query: Vec<(&str, String)>,
        names: &BTreeSet<Fqdn>,
        out: &mut Vec<Record>,
    ) -> Result<()> {
        let mut page = 1usize;
        loop {
            let mut q = query.clone();
            q.push(("page", page.to_string()));
            q.push(("per_page", PAGE_SIZE.to_string()));
            let v = self
                .call(Method::GET, &self.records_path(), &q, None)
                .await
                .map_err(|f| Error::Provider(f.message))?;
            let items = v
                .get("result")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for r in &items {
                let rtype = r
                    .get("type")
                    .and_then(Value::as_str)
                    .and_then(RecordType::parse);
                let name = Fqdn::parse(
                    "name",
                    r.get("name").and_then(Value::as_str).unwrap_or_default(),
                )
                .ok();
                let (Some(rtype), Some(name)) = (rtype, name) else {
                    continue;
                };
                if !names.contains(&name) {
                    continue;
                }
                out.push(Record {
                    name,
                    rtype,
                    content: rtype
                        .normalise(r.get("content").and_then(Value::as_str).unwrap_or_default()),
                    id: r.get("id").and_then(Value::as_str).map(str::to_string),
                });
            }
            let total = v
                .pointer("/result_info/total_count")
                .and_then(Value::as_u64);
            let done = items.is_empty()
                || total.is_some_and(|t| (page * PAGE_SIZE) as u64 >= t)
                || items.len() < PAGE_SIZE;
            if done {
                return Ok(());
            }
            page += 1;
        }
    }

    /// One batch; Ok, or the failure.
    async fn batch(&self, changes: &[&RrsetChange]) -> std::result::Result<(), Failure> {
        let deletes: Vec<Value> = changes
            .iter()
            .flat_map(|c| {
                c.delete
                    .iter()
                    .filter_map(|r| r.id.as_ref())
                    .map(|id| json!({"id": id}))
            })
            .collect();
        let posts: Vec<Value> = changes
            .iter()
            .flat_map(|c| {
                c.create
                    .iter()
                    .map(|content| record_body(c.rtype, &c.name, content))
            })
            .collect();
        let body = json!({"deletes": deletes, "posts": posts});
        self.call(
            Method::POST,
            &format!("{}/batch", self.records_path()),
            &[],
            Some(&body),
        )
        .await
        .map(|_| ())
    }

    /// Each record of `change` on its own: posts first, then deletes, so the name is never empty.
    async fn single(&self, change: &RrsetChange) -> std::result::Result<(), String> {
        let mut errors = Vec::new();
        for content in &change.create {
            if let Err(f) = self
                .call(
                    Method::POST,
                    &self.records_path(),
                    &[],
                    Some(&record_body(change.rtype, &change.name, content)),
                )
                .await
            {
                errors.push(f.message);
            }
        }
        for r in &change.delete {
            let Some(id) = &r.id else { continue };
            if let Err(f) = self
                .call(
                    Method::DELETE,
                    &format!("{}/{id}", self.records_path()),
                    &[],
                    None,
                )
                .await
            {
                errors.push(f.message);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Changes cut into batches of at most `limit` records; a change is split only when it alone
/// exceeds the limit.
fn chunks(changes: &[RrsetChange], limit: usize) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut size = 0;
    for (i, c) in changes.iter().enumerate() {
        let n = c.delete.len() + c.create.len();
        if size + n > limit && !out.last().is_none_or(Vec::is_empty) {
            out.push(Vec::new());
            size = 0;
        }
        if out.is_empty() {
            out.push(Vec::new());
        }
        if let Some(last) = out.last_mut() {
            last.push(i);
        }
        size += n;
    }
    out
}

impl DnsProvider for Cloudflare {
    async fn test(&self) -> Result<String> {
        let v = self
            .call(Method::GET, &format!("/zones/{}", self.zone_id), &[], None)
            .await
            .map_err(|f| Error::Provider(f.message))?;
        let name = v
            .pointer("/result/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if ZoneName::parse("zone", name).ok().as_ref() != Some(&self.zone) {
            return Err(Error::Provider(format!(
                "Cloudflare zone id {} is the zone '{name}', not {} - correct the Zone ID or the zone name",
                self.zone_id, self.zone
            )));
        }
        let status = v
            .pointer("/result/status")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        Ok(format!(
            "Cloudflare zone {} found (status {status})",
            self.zone
        ))
    }

    async fn records(&self, names: &BTreeSet<Fqdn>) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        if names.len() <= NAME_LOOKUPS {
            for name in names {
                self.list(vec![("name", name.as_str().to_string())], names, &mut out)
                    .await?;
            }
        } else {
            self.list(Vec::new(), names, &mut out).await?;
        }
        Ok(out)
    }

    async fn apply(&self, changes: &[RrsetChange], mode: ApplyMode) -> Vec<Result<(), String>> {
        let mut results: Vec<Result<(), String>> = vec![Ok(()); changes.len()];
        if mode == ApplyMode::PerRecord {
            for (i, c) in changes.iter().enumerate() {
                results[i] = self.single(c).await;
            }
            return results;
        }
        let mut fallback = false;
        for chunk in chunks(changes, BATCH_LIMIT) {
            let batch: Vec<&RrsetChange> = chunk.iter().map(|&i| &changes[i]).collect();
            let outcome = if fallback {
                Err(None)
            } else {
                self.batch(&batch).await.map_err(Some)
            };
            match outcome {
                Ok(()) => {}
                Err(failure) if failure.as_ref().is_none_or(Failure::record_level) => {
                    // Refused as a batch: send each record on its own so the others land, and
                    // skip batching for the rest of this zone.
                    fallback = true;
                    for &i in &chunk {
                        results[i] = self.single(&changes[i]).await;
                    }
                }
                Err(failure) => {
                    let message = failure.map(|f| f.message).unwrap_or_default();
                    for &i in &chunk {
                        results[i] = Err(message.clone());
                    }
                }
            }
        }
        results
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(n: usize) -> RrsetChange {
        RrsetChange {
            name: Fqdn::parse("n", "a.example.com").unwrap(),
            rtype: RecordType::A,
            target: vec![],
            delete: vec![],
            create: (0..n).map(|i| format!("192.0.2.{i}")).collect(),
        }
    }

    #[test]
    #[allow(clippy::type_complexity)]
    fn batches_keep_a_change_whole_when_it_fits() {
        let cases: &[(&[usize], usize, &[&[usize]])] = &[
            (&[1, 1, 1], 2, &[&[0, 1], &[2]]),
            (&[3], 2, &[&[0]]),
            (&[1, 3, 1], 2, &[&[0], &[1], &[2]]),
            (&[100, 100, 1], 200, &[&[0, 1], &[2]]),
            (&[], 200, &[]),
        ];
        for (sizes, limit, expected) in cases {
            let changes: Vec<_> = sizes.iter().map(|&n| change(n)).collect();
            let got = chunks(&changes, *limit);
            let expected: Vec<Vec<usize>> = expected.iter().map(|c| c.to_vec()).collect();
            assert_eq!(got, expected, "{sizes:?} / {limit}");
        }
    }
}
