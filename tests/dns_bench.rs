//! `make bench-dns`: resync (Set DNS records: delete all, then recreate) of a service with 4
//! IPv4 and 64 IPv6 addresses whose addresses all changed: 68 PTRs plus A and AAAA, in three
//! zones (forward, IPv4 reverse, IPv6 reverse), against a real PowerDNS and the Cloudflare
//! simulator with 20 ms latency per request. Each is compared, in the same run, with the
//! baseline of one request per record (PowerDNS: per name and type) sent one after another.
//! Prints figures; asserts only that both runs leave the zones right.

mod common;

use std::time::{Duration, Instant};

use common::pdns::{Pdns, API_KEY};
use common::TestDb;
use puq_proxmox_kvm::dns::plan::Operation;
use puq_proxmox_kvm::dns::providers::ApplyMode;
use puq_proxmox_kvm::dns::sync::sync_service;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::runtime::block_on;
use puq_sim_dns::cloudflare::CloudflareSim;
use serde_json::{json, Map, Value};

const ZONES: [&str; 3] = [
    "example.com",
    "2.0.192.in-addr.arpa",
    "8.b.d.0.1.0.0.2.ip6.arpa",
];

fn addresses(generation: u32) -> (String, String) {
    let v4: Vec<String> = (0..4)
        .map(|i| format!("192.0.2.{}", 10 + generation * 10 + i))
        .collect();
    let v6: Vec<String> = (0..64)
        .map(|i| format!("2001:db8::{:x}:{:x}", generation + 1, i + 1))
        .collect();
    (
        v4[0].clone(),
        v4[1..]
            .iter()
            .chain(v6.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

fn setup() -> (TestDb, Kvm) {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, gid, name, servertype, configoption21) VALUES (1, 'server', 1, 'VPS', 'puqProxmoxKVM', 'example.com'); \
              INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES (9, 1, 1, 1, 'Active'); \
              INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name) VALUES (9, 'bench')");
    (db, kvm)
}

/// Sets generation `g`'s addresses and runs `op`; returns (requests, wall time, errors).
fn run(db: &TestDb, kvm: &Kvm, g: u32, op: Operation, mode: ApplyMode) -> (u64, Duration, usize) {
    let (dedicated, assigned) = addresses(g);
    db.value(&format!("UPDATE tblhosting SET dedicatedip = '{dedicated}', assignedips = '{assigned}' WHERE id = 9"));
    let started = Instant::now();
    let r = block_on(sync_service(kvm, 9, op, mode, None)).unwrap();
    (
        r.zones.iter().map(|z| z.requests).sum(),
        started.elapsed(),
        r.errors,
    )
}

fn compare(name: &str, db: &TestDb, kvm: &Kvm, zones: usize) -> Vec<String> {
    // Generation 0 in place; each measured run moves every address to a new generation.
    assert_eq!(run(db, kvm, 0, Operation::Create, ApplyMode::Batched).2, 0);
    let (req, time, err) = run(db, kvm, 1, Operation::Replace, ApplyMode::Batched);
    assert_eq!(err, 0, "{name} batched");
    let (base_req, base_time, base_err) = run(db, kvm, 2, Operation::Replace, ApplyMode::PerRecord);
    assert_eq!(base_err, 0, "{name} baseline");
    vec![
        format!(
            "{name:<36} {:>8} {:>10.1} {:>12.1}",
            req,
            time.as_secs_f64() * 1000.0,
            req as f64 / zones as f64
        ),
        format!(
            "{:<36} {:>8} {:>10.1}",
            format!("{name} baseline"),
            base_req,
            base_time.as_secs_f64() * 1000.0
        ),
        format!(
            "{:<36} {:>7.1}x fewer requests, {:.1}x less time",
            format!("{name} gain"),
            base_req as f64 / req.max(1) as f64,
            base_time.as_secs_f64() / time.as_secs_f64().max(1e-9)
        ),
    ]
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
#[ignore = "benchmark: make bench-dns"]
fn bench_dns_resync() {
    let mut lines = vec![
        "resync of 4 IPv4 + 64 IPv6 addresses (68 PTR + A + AAAA), every address changed, 3 zones"
            .to_string(),
        format!(
            "{:<36} {:>8} {:>10} {:>12}",
            "run", "requests", "wall ms", "req/zone"
        ),
    ];

    let pdns = Pdns::start();
    let (db, kvm) = setup();
    for z in ZONES {
        pdns.create_zone(z);
        block_on(kvm.dns_zones().create(&obj(
            json!({"zone": z, "type": "powerdns", "server_url": pdns.url(), "api_key": API_KEY}),
        )))
        .unwrap();
    }
    lines.extend(compare("PowerDNS", &db, &kvm, ZONES.len()));
    assert_eq!(
        pdns.rrsets("8.b.d.0.1.0.0.2.ip6.arpa")
            .keys()
            .filter(|(_, t)| t == "PTR")
            .count(),
        64
    );
    drop((db, kvm));

    let sim = CloudflareSim::start("bench-token");
    sim.recorder.set_latency(Duration::from_millis(20));
    let (db, kvm) = setup();
    for z in ZONES {
        let id = sim.add_zone(z);
        block_on(kvm.dns_zones().create(&obj(json!({"zone": z, "type": "cloudflare", "zone_id": id, "api_token": "bench-token", "api_url": sim.url()})))).unwrap();
    }
    lines.extend(compare(
        "Cloudflare (20 ms latency)",
        &db,
        &kvm,
        ZONES.len(),
    ));
    assert!(
        sim.recorder.violations().is_empty(),
        "{:?}",
        sim.recorder.violations()
    );

    println!("\n{}\n", lines.join("\n"));
}
