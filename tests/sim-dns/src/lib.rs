//! Simulators of the Cloudflare v4 DNS API and the HestiaCP API for the DNS tests.
//!
//! Each runs on its own thread and runtime on a free loopback port, records every request,
//! can add latency, and fails on demand per zone ([`Fault`]). The Cloudflare simulator checks
//! every request against the official OpenAPI subset and the batch fragment (`spec/`): an
//! unknown path, method or query parameter, or a malformed value, is a 400 as the real API
//! answers, and is recorded in [`violations`](Recorder::violations) so a test fails on it.
//! The HestiaCP simulator follows the protocol of `web/api/index.php` and the `v-*-dns-*`
//! scripts (see the project's spec/api-notes.md §4).

pub mod cloudflare;
pub mod hestia;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A failure a zone answers with, until cleared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every request about the zone answers this HTTP status (5xx: the provider is broken).
    Status(u16),
    /// The credentials are refused.
    BadCredentials,
    /// Writes are refused as invalid (422).
    Unprocessable,
    /// The next `times` requests answer 429 with `Retry-After: retry_after` seconds.
    RateLimited { times: u32, retry_after: u64 },
    /// No answer for two minutes (the client's timeout fires first).
    Timeout,
    /// Cloudflare only: the batch endpoint is refused (a plan or token without it).
    BatchRefused,
}

/// One request as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
}

/// Requests, schema violations, faults and latency, shared by a simulator's handlers.
#[derive(Clone, Default)]
pub struct Recorder {
    inner: Arc<Mutex<RecorderState>>,
}

#[derive(Default)]
struct RecorderState {
    requests: Vec<Recorded>,
    violations: Vec<String>,
    faults: HashMap<String, Fault>,
    latency: Duration,
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().requests.clone()
    }
    pub fn clear_requests(&self) {
        self.lock().requests.clear();
    }
    /// Requests that broke the schema or protocol (each also answered 400).
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }
    /// Makes requests about `zone` (Cloudflare zone id, HestiaCP domain) fail with `fault`.
    pub fn set_fault(&self, zone: &str, fault: Option<Fault>) {
        let mut s = self.lock();
        match fault {
            Some(f) => s.faults.insert(zone.to_string(), f),
            None => s.faults.remove(zone),
        };
    }
    fn record(&self, r: Recorded) {
        self.lock().requests.push(r);
    }
    fn violation(&self, v: String) {
        self.lock().violations.push(v);
    }
    fn latency(&self) -> Duration {
        self.lock().latency
    }
    /// The fault of `zone`, consuming one 429 of a rate limit.
    fn fault(&self, zone: &str) -> Option<Fault> {
        let mut s = self.lock();
        let f = s.faults.get(zone).cloned();
        if let Some(Fault::RateLimited { times, retry_after }) = f {
            if times <= 1 {
                s.faults.remove(zone);
            } else {
                s.faults.insert(
                    zone.to_string(),
                    Fault::RateLimited {
                        times: times - 1,
                        retry_after,
                    },
                );
            }
        }
        f
    }
}

/// Serves `app` on a free loopback port from its own thread and runtime; returns the address.
fn serve(app: axum::Router) -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("simulator runtime");
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind a loopback port");
            tx.send(listener.local_addr().expect("local address"))
                .expect("report the address");
            let _ = axum::serve(listener, app).await;
        });
    });
    rx.recv().expect("simulator started")
}

/// A 32-hex id, distinct per call.
fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0) as u64;
    format!(
        "{:016x}{:016x}",
        seed.rotate_left(17) ^ 0x9e37_79b9_7f4a_7c15,
        n
    )
}
