//! DNS sync against the Cloudflare and HestiaCP simulators (tests/sim-dns), which check every
//! request against the schema or protocol and fail on demand.

mod common;

use std::time::Duration;

use common::TestDb;
use puq_proxmox_kvm::dns::plan::Operation;
use puq_proxmox_kvm::dns::providers::{ApplyMode, DnsProvider, Provider};
use puq_proxmox_kvm::dns::sync::{sync_service, SyncReport};
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::runtime::block_on;
use puq_sim_dns::cloudflare::CloudflareSim;
use puq_sim_dns::hestia::HestiaSim;
use puq_sim_dns::Fault;
use serde_json::{json, Map, Value};

const TOKEN: &str = "cf-sim-token-77aa";

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn setup(ips: (&str, &str)) -> (TestDb, Kvm) {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    block_on(kvm.save_settings(&obj(json!({"default_timeout": 2})))).unwrap();
    db.value(&format!(
        "SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, gid, name, servertype, configoption21) VALUES (1, 'server', 1, 'VPS', 'puqProxmoxKVM', 'example.com'); \
         INSERT INTO tblhosting (id, userid, packageid, server, domainstatus, dedicatedip, assignedips) VALUES (5, 1, 1, 1, 'Active', '{}', '{}'); \
         INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name) VALUES (5, 'vm5')",
        ips.0, ips.1
    ));
    (db, kvm)
}

fn cf_zone(kvm: &Kvm, sim_url: &str, zone: &str, zone_id: &str) -> u64 {
    block_on(kvm.dns_zones().create(&obj(json!({"zone": zone, "type": "cloudflare", "zone_id": zone_id, "api_token": TOKEN, "api_url": sim_url})))).unwrap().id
}

fn sync(kvm: &Kvm, op: Operation) -> SyncReport {
    block_on(sync_service(kvm, 5, op, ApplyMode::Batched, None)).unwrap()
}

fn triples(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = v
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn cloudflare_batches_and_keeps_foreign_records() {
    let sim = CloudflareSim::start(TOKEN);
    let (db, kvm) = setup(("192.0.2.5", "192.0.2.6\n2001:db8::5"));
    let fwd = sim.add_zone("example.com");
    let rev = sim.add_zone("2.0.192.in-addr.arpa");
    cf_zone(&kvm, &sim.url(), "example.com", &fwd);
    cf_zone(&kvm, &sim.url(), "2.0.192.in-addr.arpa", &rev);
    sim.put_record(&fwd, "A", "www.example.com", "192.0.2.80");
    sim.put_record(&fwd, "TXT", "vm5.example.com", "owned elsewhere");
    sim.put_record(&rev, "PTR", "80.2.0.192.in-addr.arpa", "www.example.com");

    let r = sync(&kvm, Operation::Create);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    assert_eq!(
        sim.records(&fwd),
        triples(&[
            ("vm5.example.com", "A", "192.0.2.5"),
            ("vm5.example.com", "A", "192.0.2.6"),
            ("vm5.example.com", "AAAA", "2001:db8::5"),
            ("vm5.example.com", "TXT", "owned elsewhere"),
            ("www.example.com", "A", "192.0.2.80")
        ])
    );
    assert_eq!(
        sim.records(&rev),
        triples(&[
            ("5.2.0.192.in-addr.arpa", "PTR", "vm5.example.com"),
            ("6.2.0.192.in-addr.arpa", "PTR", "vm5.example.com"),
            ("80.2.0.192.in-addr.arpa", "PTR", "www.example.com")
        ])
    );
    // Read, then one batch per zone.
    let batches = sim
        .recorder
        .requests()
        .iter()
        .filter(|q| q.path.ends_with("/batch"))
        .count();
    assert_eq!(batches, 2);
    assert!(r.zones.iter().all(|z| z.requests == 2), "{:?}", r.zones);

    // Change package: .5 goes; replace swaps in one batch (deletes and posts together).
    db.value(
        "UPDATE tblhosting SET dedicatedip = '192.0.2.6', assignedips = '192.0.2.7' WHERE id = 5",
    );
    sim.recorder.clear_requests();
    let r = sync(&kvm, Operation::Replace);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    assert_eq!(
        sim.records(&fwd),
        triples(&[
            ("vm5.example.com", "A", "192.0.2.6"),
            ("vm5.example.com", "A", "192.0.2.7"),
            ("vm5.example.com", "TXT", "owned elsewhere"),
            ("www.example.com", "A", "192.0.2.80")
        ])
    );
    assert_eq!(
        sim.records(&rev),
        triples(&[
            ("6.2.0.192.in-addr.arpa", "PTR", "vm5.example.com"),
            ("7.2.0.192.in-addr.arpa", "PTR", "vm5.example.com"),
            ("80.2.0.192.in-addr.arpa", "PTR", "www.example.com")
        ])
    );
    let batch = sim
        .recorder
        .requests()
        .into_iter()
        .find(|q| q.path.contains(&fwd) && q.path.ends_with("/batch"))
        .unwrap();
    let body: Value = serde_json::from_str(&batch.body).unwrap();
    assert_eq!(
        (
            body["deletes"].as_array().unwrap().len(),
            body["posts"].as_array().unwrap().len()
        ),
        (2, 1),
        "{body}"
    );

    let r = sync(&kvm, Operation::Delete);
    assert_eq!(r.errors, 0);
    assert_eq!(
        sim.records(&fwd),
        triples(&[
            ("vm5.example.com", "TXT", "owned elsewhere"),
            ("www.example.com", "A", "192.0.2.80")
        ])
    );
    assert_eq!(
        sim.records(&rev),
        triples(&[("80.2.0.192.in-addr.arpa", "PTR", "www.example.com")])
    );
    assert_eq!(sim.recorder.violations(), Vec::<String>::new());
}

#[test]
fn cloudflare_faults_stay_in_their_zone() {
    struct Case {
        fault: Option<Fault>,
        down: bool,
        written: bool,
        error: &'static str,
    }
    let cases = [
        Case {
            fault: Some(Fault::Status(503)),
            down: false,
            written: false,
            error: "HTTP 503",
        },
        Case {
            fault: Some(Fault::BadCredentials),
            down: false,
            written: false,
            error: "Authentication error (10000)",
        },
        Case {
            fault: Some(Fault::Unprocessable),
            down: false,
            written: false,
            error: "HTTP 422 DNS Validation Error",
        },
        Case {
            fault: Some(Fault::Timeout),
            down: false,
            written: false,
            error: "no answer before the timeout",
        },
        Case {
            fault: None,
            down: true,
            written: false,
            error: "unreachable",
        },
        // Recovered: the 429 is retried after Retry-After; a refused batch falls back to single calls.
        Case {
            fault: Some(Fault::RateLimited {
                times: 1,
                retry_after: 1,
            }),
            down: false,
            written: true,
            error: "",
        },
        Case {
            fault: Some(Fault::BatchRefused),
            down: false,
            written: true,
            error: "",
        },
    ];
    for case in cases {
        let sim = CloudflareSim::start(TOKEN);
        let (_db, kvm) = setup(("192.0.2.5", ""));
        let fwd = sim.add_zone("example.com");
        let rev = sim.add_zone("2.0.192.in-addr.arpa");
        let url = if case.down {
            "http://127.0.0.1:9/client/v4".to_string()
        } else {
            sim.url()
        };
        cf_zone(&kvm, &url, "example.com", &fwd);
        cf_zone(&kvm, &sim.url(), "2.0.192.in-addr.arpa", &rev);
        if let Some(f) = &case.fault {
            sim.recorder.set_fault(&fwd, Some(f.clone()));
        }
        let r = sync(&kvm, Operation::Create);
        let label = format!("{:?} down={}", case.fault, case.down);
        // The other zone is always written.
        assert_eq!(
            sim.records(&rev),
            triples(&[("5.2.0.192.in-addr.arpa", "PTR", "vm5.example.com")]),
            "{label}"
        );
        let fwd_events: Vec<_> = r.events.iter().filter(|e| e.kind == "fwd").collect();
        assert_eq!(fwd_events.len(), 1, "{label}: {:?}", r.events);
        if case.written {
            assert!(fwd_events[0].ok, "{label}: {:?}", fwd_events[0]);
            assert_eq!(
                sim.records(&fwd),
                triples(&[("vm5.example.com", "A", "192.0.2.5")]),
                "{label}"
            );
        } else {
            let error = fwd_events[0].error.clone().unwrap_or_default();
            assert!(
                !fwd_events[0].ok && error.contains(case.error),
                "{label}: {error}"
            );
            assert!(!error.contains(TOKEN), "{label}");
            assert!(r.summary.contains("1 errors"), "{label}: {}", r.summary);
        }
        assert_eq!(sim.recorder.violations(), Vec::<String>::new(), "{label}");
    }
}

#[test]
fn cloudflare_test_reports_the_providers_words() {
    let sim = CloudflareSim::start(TOKEN);
    let (_db, kvm) = setup(("192.0.2.5", ""));
    let fwd = sim.add_zone("example.com");
    let ok = cf_zone(&kvm, &sim.url(), "example.com", &fwd);
    let wrong_name = cf_zone(&kvm, &sim.url(), "example.net", &fwd);
    let test = |id: u64| {
        block_on(async {
            Provider::for_zone(&kvm.dns_zones().get(id).await?, Duration::from_secs(2))?
                .test()
                .await
        })
    };
    assert!(test(ok).unwrap().contains("example.com found"));
    assert!(test(wrong_name)
        .unwrap_err()
        .to_string()
        .contains("is the zone 'example.com', not example.net"));
    sim.recorder.set_fault(&fwd, Some(Fault::BadCredentials));
    let err = test(ok).unwrap_err().to_string();
    assert!(
        err.contains("HTTP 403 Authentication error (10000)"),
        "{err}"
    );
}

#[test]
fn hestia_adds_before_it_deletes_and_learns_ids_from_the_listing() {
    let sim = HestiaSim::start("admin", "hestia-pw-9");
    let (db, kvm) = setup(("192.0.2.5", "192.0.2.6"));
    sim.add_domain("web", "example.com");
    sim.add_domain("web", "2.0.192.in-addr.arpa");
    sim.put_record("web", "example.com", "www", "A", "192.0.2.80");
    let key = format!("{}:{}", "K".repeat(20), "s".repeat(40));
    sim.allow_access_key(&key);
    block_on(kvm.dns_zones().create(&obj(json!({"zone": "example.com", "type": "hestiacp", "server_url": sim.url(), "admin_user": "admin", "admin_password": "hestia-pw-9", "user": "web"})))).unwrap();
    let rev_id = block_on(kvm.dns_zones().create(&obj(json!({"zone": "2.0.192.in-addr.arpa", "type": "hestiacp", "server_url": sim.url(), "admin_password": key, "user": "web"})))).unwrap().id;

    let r = sync(&kvm, Operation::Create);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    assert_eq!(
        sim.records("web", "example.com"),
        triples(&[
            ("@", "A", "192.0.2.1"),
            ("@", "NS", "ns1.example.net."),
            ("vm5", "A", "192.0.2.5"),
            ("vm5", "A", "192.0.2.6"),
            ("www", "A", "192.0.2.80")
        ])
    );
    assert_eq!(
        sim.records("web", "2.0.192.in-addr.arpa"),
        triples(&[
            ("5", "PTR", "vm5.example.com."),
            ("6", "PTR", "vm5.example.com."),
            ("@", "A", "192.0.2.1"),
            ("@", "NS", "ns1.example.net.")
        ])
    );

    db.value(
        "UPDATE tblhosting SET dedicatedip = '192.0.2.6', assignedips = '192.0.2.9' WHERE id = 5",
    );
    let r = sync(&kvm, Operation::Replace);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    assert_eq!(
        sim.records("web", "example.com"),
        triples(&[
            ("@", "A", "192.0.2.1"),
            ("@", "NS", "ns1.example.net."),
            ("vm5", "A", "192.0.2.6"),
            ("vm5", "A", "192.0.2.9"),
            ("www", "A", "192.0.2.80")
        ])
    );
    // Adds went before deletes.
    let cmds: Vec<String> = sim
        .recorder
        .requests()
        .iter()
        .filter(|q| q.body.contains("example.com") && !q.body.contains("in-addr"))
        .map(|q| {
            q.body
                .split('&')
                .find(|kv| kv.starts_with("cmd="))
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    let last_add = cmds
        .iter()
        .rposition(|c| c == "cmd=v-add-dns-record")
        .unwrap();
    let first_delete = cmds
        .iter()
        .position(|c| c == "cmd=v-delete-dns-record")
        .unwrap();
    assert!(last_add < first_delete, "{cmds:?}");

    // A refused credential in one zone: the other is still written.
    sim.recorder
        .set_fault("2.0.192.in-addr.arpa", Some(Fault::BadCredentials));
    let r = sync(&kvm, Operation::Delete);
    assert_eq!(
        sim.records("web", "example.com"),
        triples(&[
            ("@", "A", "192.0.2.1"),
            ("@", "NS", "ns1.example.net."),
            ("www", "A", "192.0.2.80")
        ])
    );
    let rev_errors: Vec<_> = r.events.iter().filter(|e| e.kind == "rev").collect();
    assert!(
        rev_errors.iter().all(|e| !e.ok
            && e.error
                .as_deref()
                .unwrap_or_default()
                .contains("exit code 9")),
        "{rev_errors:?}"
    );
    assert!(!r.summary.contains(&key));
    let test = block_on(async {
        Provider::for_zone(&kvm.dns_zones().get(rev_id).await?, Duration::from_secs(2))?
            .test()
            .await
    });
    assert!(test
        .unwrap_err()
        .to_string()
        .contains("authentication failed"));
    assert_eq!(sim.recorder.violations(), Vec::<String>::new());
}

#[test]
fn cloudflare_pages_through_big_zones_and_cuts_batches_at_the_limit() {
    let sim = CloudflareSim::start(TOKEN);
    let v6 = |g: u32| {
        (1..=150)
            .map(|i| format!("2001:db8::{g:x}:{i:x}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (db, kvm) = setup(("", &v6(1)));
    let rev = sim.add_zone("8.b.d.0.1.0.0.2.ip6.arpa");
    cf_zone(&kvm, &sim.url(), "8.b.d.0.1.0.0.2.ip6.arpa", &rev);
    // 1,100 records of others: listing takes two pages of 1,000.
    for i in 0..1100u32 {
        let name = format!(
            "{:x}.{:x}.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.f.f.f.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
            i % 16,
            i / 16
        );
        sim.put_record(&rev, "PTR", &name, "other.example.net");
    }
    let r = sync(&kvm, Operation::Create);
    assert_eq!(r.errors, 0, "{:?}", r.events.iter().find(|e| !e.ok));
    assert_eq!(sim.records(&rev).len(), 1250);

    db.value(&format!(
        "UPDATE tblhosting SET assignedips = '{}' WHERE id = 5",
        v6(2)
    ));
    sim.recorder.clear_requests();
    let r = sync(&kvm, Operation::Replace);
    assert_eq!(r.errors, 0);
    let records = sim.records(&rev);
    assert_eq!(records.len(), 1250);
    // Every PTR of the VM is now at a generation-2 address (…:2:i reverses to "i.i.i.i.2.0.0.0.…").
    let ours: Vec<_> = records
        .iter()
        .filter(|(_, _, c)| c == "vm5.example.com")
        .collect();
    assert_eq!(ours.len(), 150);
    assert!(
        ours.iter().all(|(n, _, _)| &n[8..16] == "2.0.0.0."),
        "{ours:?}"
    );
    let requests = sim.recorder.requests();
    let pages: Vec<&str> = requests
        .iter()
        .filter(|q| q.method == "GET")
        .map(|q| q.query.as_str())
        .collect();
    assert_eq!(pages, ["page=1&per_page=1000", "page=2&per_page=1000"]);
    // 150 deletes and 150 posts: two batches, each name's delete and post in the same one.
    let batches: Vec<Value> = requests
        .iter()
        .filter(|q| q.path.ends_with("/batch"))
        .map(|q| serde_json::from_str(&q.body).unwrap())
        .collect();
    assert_eq!(batches.len(), 2);
    for b in &batches {
        let n = b["deletes"].as_array().unwrap().len() + b["posts"].as_array().unwrap().len();
        assert!(
            n <= 200
                && b["deletes"].as_array().unwrap().len() == b["posts"].as_array().unwrap().len(),
            "{n}"
        );
    }
    assert_eq!(sim.recorder.violations(), Vec::<String>::new());
}
