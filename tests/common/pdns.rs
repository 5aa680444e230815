//! A private PowerDNS Authoritative server for one test: Debian's `pdns_server` with the SQLite
//! backend in a temporary directory, its API and DNS on free loopback ports. Nothing of the
//! system's own PowerDNS (if any) is used or touched. Stopped and removed on drop.

use std::net::{TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use puq_proxmox_kvm::runtime::block_on;
use serde_json::{json, Value};

pub const API_KEY: &str = "pdns-test-key-5f1c";

pub struct Pdns {
    pub dir: PathBuf,
    child: Child,
    pub api_port: u16,
    pub dns_port: u16,
    client: reqwest::Client,
}

fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

impl Pdns {
    pub fn start() -> Pdns {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "puq-pdns-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let schema = [
            "/usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql",
            "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql",
        ]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect(
            "pdns-backend-sqlite3 is installed (apt-get install pdns-server pdns-backend-sqlite3)",
        );
        let db = dir.join("pdns.db");
        let out = Command::new("sqlite3")
            .arg(&db)
            .arg(format!(".read {schema}"))
            .output()
            .expect("sqlite3 runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (api_port, dns_port) = (free_port(), free_port());
        let conf = format!(
            "launch=gsqlite3\ngsqlite3-database={}\napi=yes\napi-key={API_KEY}\nwebserver=yes\nwebserver-address=127.0.0.1\nwebserver-port={api_port}\nwebserver-allow-from=127.0.0.0/8\nlocal-address=127.0.0.1\nlocal-port={dns_port}\nsocket-dir={}\ncache-ttl=0\nquery-cache-ttl=0\nnegquery-cache-ttl=0\n",
            db.display(),
            dir.display()
        );
        std::fs::write(dir.join("pdns.conf"), conf).unwrap();
        let log = std::fs::File::create(dir.join("pdns.log")).unwrap();
        let child = Command::new("pdns_server")
            .arg(format!("--config-dir={}", dir.display()))
            .args([
                "--daemon=no",
                "--guardian=no",
                "--disable-syslog",
                "--write-pid=no",
            ])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("pdns_server runs");
        let pdns = Pdns {
            dir,
            child,
            api_port,
            dns_port,
            client: puq_proxmox_kvm::http::client(&puq_proxmox_kvm::http::ClientOptions {
                timeout: Duration::from_secs(10),
                trust: puq_proxmox_kvm::http::Trust::Verified,
            })
            .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok((200, _)) = pdns.try_api("GET", "/servers/localhost", None) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pdns_server did not start: {}",
                std::fs::read_to_string(pdns.dir.join("pdns.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        pdns
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port)
    }

    fn try_api(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, String), String> {
        let url = format!("{}/api/v1{path}", self.url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        block_on(async {
            let mut req = self
                .client
                .request(method, url)
                .header("X-API-Key", API_KEY)
                .header("Accept", "application/json");
            if let Some(b) = body {
                req = req.json(&b);
            }
            let resp = req.send().await.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            Ok((status, resp.text().await.unwrap_or_default()))
        })
    }

    /// Calls the API and asserts a 2xx answer; returns the JSON body (Null when empty).
    pub fn api(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, text) = self.try_api(method, path, body).expect("PowerDNS answers");
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub fn create_zone(&self, name: &str) {
        self.api("POST", "/servers/localhost/zones", Some(json!({"name": format!("{name}."), "kind": "Native", "nameservers": ["ns1.example.net."]})));
    }

    /// Sets records directly (foreign records the module must leave alone).
    pub fn put(&self, zone: &str, name: &str, rtype: &str, contents: &[&str]) {
        let records: Vec<Value> = contents
            .iter()
            .map(|c| json!({"content": c, "disabled": false}))
            .collect();
        self.api(
            "PATCH",
            &format!("/servers/localhost/zones/{zone}."),
            Some(json!({"rrsets": [{"name": format!("{name}."), "type": rtype, "ttl": 300, "changetype": "REPLACE", "records": records}]})),
        );
    }

    /// `(name, type) -> sorted contents` of a zone, as the API returns them (canonical form).
    pub fn rrsets(&self, zone: &str) -> std::collections::BTreeMap<(String, String), Vec<String>> {
        let z = self.api("GET", &format!("/servers/localhost/zones/{zone}."), None);
        let mut out = std::collections::BTreeMap::new();
        for r in z["rrsets"].as_array().unwrap() {
            let mut contents: Vec<String> = r["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["content"].as_str().unwrap().to_string())
                .collect();
            contents.sort();
            out.insert(
                (
                    r["name"].as_str().unwrap().to_string(),
                    r["type"].as_str().unwrap().to_string(),
                ),
                contents,
            );
        }
        out
    }

    /// The answer of a DNS query to this server (`dig +short`), sorted.
    pub fn dig(&self, name: &str, rtype: &str) -> Vec<String> {
        let out = Command::new("dig")
            .args([
                "+short",
                "+norecurse",
                "+time=2",
                "+tries=1",
                "@127.0.0.1",
                "-p",
                &self.dns_port.to_string(),
                name,
                rtype,
            ])
            .output()
            .expect("dig runs (apt-get install dnsutils)");
        let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort();
        lines
    }
}

impl Drop for Pdns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
