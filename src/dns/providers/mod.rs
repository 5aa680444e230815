//! The DNS providers behind one interface, as external-dns shapes it: read the records at some
//! names ([`DnsProvider::records`]), apply a zone's changes in as few calls as the provider
//! allows ([`DnsProvider::apply`]), and check a zone is reachable ([`DnsProvider::test`]).
//!
//! Only A, AAAA and PTR records are read or written; every provider reports them in the
//! core's form (names lower case without a trailing dot; PTR targets likewise; AAAA
//! compressed), so the plan compares like with like.

pub mod cloudflare;
pub mod hestia;
pub mod powerdns;

use std::collections::BTreeSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::zones::{DnsZone, ProviderKind};
use super::Fqdn;
use crate::error::Result;
use crate::http::{self, ClientOptions, Trust};

/// The record types the module manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum RecordType {
    A,
    #[serde(rename = "AAAA")]
    Aaaa,
    #[serde(rename = "PTR")]
    Ptr,
}

impl RecordType {
    /// `A`, `AAAA` or `PTR`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::A => "A",
            RecordType::Aaaa => "AAAA",
            RecordType::Ptr => "PTR",
        }
    }

    /// The type named `text` (any case), if the module manages it.
    pub fn parse(text: &str) -> Option<RecordType> {
        match text.to_ascii_uppercase().as_str() {
            "A" => Some(RecordType::A),
            "AAAA" => Some(RecordType::Aaaa),
            "PTR" => Some(RecordType::Ptr),
            _ => None,
        }
    }

    /// The content in the core's form: PTR targets lower case without a trailing dot,
    /// addresses as the standard library prints them (IPv6 compressed).
    pub fn normalise(self, content: &str) -> String {
        let c = content.trim();
        match self {
            RecordType::Ptr => c.trim_end_matches('.').to_ascii_lowercase(),
            _ => c
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
                .unwrap_or_else(|_| c.to_ascii_lowercase()),
        }
    }

    /// The content as zone-file providers (PowerDNS, HestiaCP) take it: a PTR target fully
    /// qualified with its trailing dot; the inverse of [`RecordType::normalise`].
    pub fn wire(self, content: &str) -> String {
        match self {
            RecordType::Ptr => format!("{content}."),
            _ => content.to_string(),
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A record as a provider holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: Fqdn,
    pub rtype: RecordType,
    /// In the core's form ([`RecordType::normalise`]).
    pub content: String,
    /// The provider's id of this record (Cloudflare, HestiaCP); `None` where records are
    /// addressed by name and type (PowerDNS).
    pub id: Option<String>,
}

/// The change to one name and type: after it, exactly `target` is there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrsetChange {
    pub name: Fqdn,
    pub rtype: RecordType,
    /// The contents wanted at the end (empty: none left).
    pub target: Vec<String>,
    /// Existing records to remove (contents not in `target`).
    pub delete: Vec<Record>,
    /// Contents to add (in `target`, not there yet).
    pub create: Vec<String>,
}

/// How changes are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ApplyMode {
    /// As few requests as the provider allows (one PATCH, batches).
    #[default]
    Batched,
    /// One request per record, one after the other: the baseline the benchmark compares with.
    PerRecord,
}

/// Counts the HTTP requests a provider sends.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// One provider, for one zone.
#[allow(async_fn_in_trait)]
pub trait DnsProvider {
    /// Checks the server answers, the credentials are accepted and the zone exists under its
    /// name; returns a short confirmation.
    ///
    /// # Errors
    /// [`crate::Error::Provider`] with the provider's own message.
    async fn test(&self) -> Result<String>;

    /// The A, AAAA and PTR records at `names` (a provider may read more and filter).
    async fn records(&self, names: &BTreeSet<Fqdn>) -> Result<Vec<Record>>;

    /// Applies `changes`; one result per change, in order (an error is the provider's message).
    async fn apply(&self, changes: &[RrsetChange], mode: ApplyMode) -> Vec<Result<(), String>>;
}

/// The provider of a configured zone.
pub enum Provider {
    Cloudflare(cloudflare::Cloudflare),
    HestiaCp(hestia::Hestia),
    PowerDns(powerdns::PowerDns),
}

impl Provider {
    /// The provider for `zone`, with HTTP requests limited to `timeout`.
    ///
    /// # Errors
    /// [`crate::Error::Validation`] only if the HTTP client cannot be built.
    pub fn for_zone(zone: &DnsZone, timeout: Duration) -> Result<Provider> {
        let client = http::client(&ClientOptions {
            timeout,
            trust: Trust::Verified,
        })?;
        let counter = RequestCounter::default();
        Ok(match zone.kind {
            ProviderKind::Cloudflare => {
                Provider::Cloudflare(cloudflare::Cloudflare::new(client, zone, counter))
            }
            ProviderKind::HestiaCp => {
                Provider::HestiaCp(hestia::Hestia::new(client, zone, counter))
            }
            ProviderKind::PowerDns => {
                Provider::PowerDns(powerdns::PowerDns::new(client, zone, counter))
            }
        })
    }

    /// The HTTP requests sent so far.
    pub fn requests(&self) -> u64 {
        match self {
            Provider::Cloudflare(p) => p.counter.get(),
            Provider::HestiaCp(p) => p.counter.get(),
            Provider::PowerDns(p) => p.counter.get(),
        }
    }
}

impl DnsProvider for Provider {
    async fn test(&self) -> Result<String> {
        match self {
            Provider::Cloudflare(p) => p.test().await,
            Provider::HestiaCp(p) => p.test().await,
            Provider::PowerDns(p) => p.test().await,
        }
    }

    async fn records(&self, names: &BTreeSet<Fqdn>) -> Result<Vec<Record>> {
        match self {
            Provider::Cloudflare(p) => p.records(names).await,
            Provider::HestiaCp(p) => p.records(names).await,
            Provider::PowerDns(p) => p.records(names).await,
        }
    }

    async fn apply(&self, changes: &[RrsetChange], mode: ApplyMode) -> Vec<Result<(), String>> {
        match self {
            Provider::Cloudflare(p) => p.apply(changes, mode).await,
            Provider::HestiaCp(p) => p.apply(changes, mode).await,
            Provider::PowerDns(p) => p.apply(changes, mode).await,
        }
    }
}

/// The body of an answer, shortened for a message (providers can answer with whole pages).
pub(crate) fn excerpt(body: &str) -> String {
    let t = body.trim();
    if t.chars().count() > 300 {
        format!("{}...", t.chars().take(300).collect::<String>())
    } else {
        t.to_string()
    }
}
