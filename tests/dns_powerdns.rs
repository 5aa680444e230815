//! DNS zones and sync against a real PowerDNS (Debian's pdns_server, private to each test),
//! checked through its API and with DNS queries.

mod common;

use std::collections::BTreeMap;

use common::pdns::{Pdns, API_KEY};
use common::TestDb;
use puq_proxmox_kvm::dns::plan::Operation;
use puq_proxmox_kvm::dns::providers::{ApplyMode, DnsProvider, Provider};
use puq_proxmox_kvm::dns::sync::{sync_service, SyncReport};
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::runtime::block_on;
use serde_json::{json, Map, Value};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn setup() -> (TestDb, Kvm) {
    let db = TestDb::whmcs();
    let kvm = db.kvm();
    block_on(kvm.activate()).unwrap();
    db.value("SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, type, gid, name, servertype, configoption21) VALUES (1, 'server', 1, 'VPS', 'puqProxmoxKVM', '.vps.example.com')");
    (db, kvm)
}

fn set_service(db: &TestDb, id: u64, dedicated: &str, assigned: &[&str], rev_dns: &str) {
    db.value(&format!(
        "SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus, dedicatedip, assignedips) VALUES ({id}, 1, 1, 1, 'Active', '{dedicated}', '{}') \
         ON DUPLICATE KEY UPDATE dedicatedip = VALUES(dedicatedip), assignedips = VALUES(assignedips); \
         INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_name, vm_rev_dns) VALUES ({id}, 'vm{id}', '{rev_dns}') ON DUPLICATE KEY UPDATE vm_rev_dns = VALUES(vm_rev_dns)",
        assigned.join("\n")
    ));
}

fn add_zone(kvm: &Kvm, pdns: &Pdns, zone: &str, key: &str) -> u64 {
    block_on(kvm.dns_zones().create(&obj(
        json!({"zone": zone, "type": "PowerDNS", "server_url": pdns.url(), "api_key": key}),
    )))
    .unwrap()
    .id
}

fn sync(kvm: &Kvm, id: u64, op: Operation) -> SyncReport {
    block_on(sync_service(kvm, id, op, ApplyMode::Batched, None)).unwrap()
}

fn set(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

fn at(rrsets: &BTreeMap<(String, String), Vec<String>>, name: &str, t: &str) -> Vec<String> {
    rrsets
        .get(&(format!("{name}."), t.to_string()))
        .cloned()
        .unwrap_or_default()
}

const V6_ZONE: &str = "8.b.d.0.1.0.0.2.ip6.arpa";
const V6_10: &str = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa";

#[test]
fn create_replace_delete_touch_only_the_vms_records_in_every_matching_zone() {
    let pdns = Pdns::start();
    let (db, kvm) = setup();
    for z in [
        "example.com",
        "vps.example.com",
        "2.0.192.in-addr.arpa",
        V6_ZONE,
        "example.org",
    ] {
        pdns.create_zone(z);
        add_zone(&kvm, &pdns, z, API_KEY);
    }
    // Records the module did not write: another host, the VM's name with another type, a PTR
    // of an address the VM does not have.
    pdns.put("example.com", "www.example.com", "A", &["192.0.2.200"]);
    pdns.put(
        "vps.example.com",
        "vm7.vps.example.com",
        "TXT",
        &["\"owned by someone\""],
    );
    pdns.put(
        "2.0.192.in-addr.arpa",
        "99.2.0.192.in-addr.arpa",
        "PTR",
        &["other.example.net."],
    );

    set_service(&db, 7, "192.0.2.10", &["192.0.2.11", "2001:db8::10"], "");
    let r = sync(&kvm, 7, Operation::Create);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    assert_eq!(r.fqdn, "vm7.vps.example.com");
    // A and AAAA go to both forward zones; example.org matches nothing and is not contacted.
    assert_eq!(
        r.zones.iter().map(|z| z.zone.as_str()).collect::<Vec<_>>(),
        [
            "example.com",
            "vps.example.com",
            "2.0.192.in-addr.arpa",
            V6_ZONE
        ]
    );
    for z in ["example.com", "vps.example.com"] {
        let rr = pdns.rrsets(z);
        assert_eq!(
            at(&rr, "vm7.vps.example.com", "A"),
            set(&["192.0.2.10", "192.0.2.11"]),
            "{z}"
        );
        assert_eq!(
            at(&rr, "vm7.vps.example.com", "AAAA"),
            set(&["2001:db8::10"]),
            "{z}"
        );
    }
    let rev = pdns.rrsets("2.0.192.in-addr.arpa");
    assert_eq!(
        at(&rev, "10.2.0.192.in-addr.arpa", "PTR"),
        set(&["vm7.vps.example.com."])
    );
    assert_eq!(
        at(&pdns.rrsets(V6_ZONE), V6_10, "PTR"),
        set(&["vm7.vps.example.com."])
    );
    assert_eq!(
        pdns.dig("vm7.vps.example.com", "A"),
        set(&["192.0.2.10", "192.0.2.11"])
    );
    assert_eq!(
        pdns.dig("11.2.0.192.in-addr.arpa", "PTR"),
        set(&["vm7.vps.example.com."])
    );
    assert_eq!(pdns.dig(V6_10, "PTR"), set(&["vm7.vps.example.com."]));
    let events: Vec<String> = r
        .events
        .iter()
        .map(|e| format!("{} {}", e.kind, if e.ok { "OK" } else { "ERR" }))
        .collect();
    assert_eq!(events.iter().filter(|e| *e == "fwd OK").count(), 6);
    assert_eq!(events.iter().filter(|e| *e == "rev OK").count(), 3);
    let managed: Value = serde_json::from_str(
        &db.value("SELECT vm_dns_managed FROM puqProxmoxKVM_vm_info WHERE service_id = 7"),
    )
    .unwrap();
    assert_eq!(
        managed,
        json!({"192.0.2.10": "vm7.vps.example.com", "192.0.2.11": "vm7.vps.example.com", "2001:db8::10": "vm7.vps.example.com"})
    );

    // Running create again changes nothing and sends only reads.
    let again = sync(&kvm, 7, Operation::Create);
    assert!(again.events.is_empty(), "{:#?}", again.events);
    assert!(again
        .zones
        .iter()
        .all(|z| z.requests == 1 && z.changes == 0));

    // Change package: .10 and the IPv6 address go, .12 arrives with a custom reverse name.
    // Someone else added a second PTR at .10's name: only the module's one is removed.
    pdns.put(
        "2.0.192.in-addr.arpa",
        "10.2.0.192.in-addr.arpa",
        "PTR",
        &["vm7.vps.example.com.", "keep.example.net."],
    );
    set_service(
        &db,
        7,
        "192.0.2.11",
        &["192.0.2.12"],
        r#"{"192.0.2.12":"Mail.Example.org."}"#,
    );
    let r = sync(&kvm, 7, Operation::Replace);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    for z in &r.zones {
        assert!(
            z.requests <= 2,
            "PowerDNS zone {} took {} requests",
            z.zone,
            z.requests
        );
    }
    for z in ["example.com", "vps.example.com"] {
        let rr = pdns.rrsets(z);
        assert_eq!(
            at(&rr, "vm7.vps.example.com", "A"),
            set(&["192.0.2.11", "192.0.2.12"]),
            "{z}"
        );
        assert!(at(&rr, "vm7.vps.example.com", "AAAA").is_empty(), "{z}");
    }
    let rev = pdns.rrsets("2.0.192.in-addr.arpa");
    assert_eq!(
        at(&rev, "10.2.0.192.in-addr.arpa", "PTR"),
        set(&["keep.example.net."])
    );
    assert_eq!(
        at(&rev, "12.2.0.192.in-addr.arpa", "PTR"),
        set(&["mail.example.org."])
    );
    assert!(at(&pdns.rrsets(V6_ZONE), V6_10, "PTR").is_empty());
    assert_eq!(
        pdns.dig("12.2.0.192.in-addr.arpa", "PTR"),
        set(&["mail.example.org."])
    );
    // Foreign records are all still there.
    assert_eq!(
        at(&pdns.rrsets("example.com"), "www.example.com", "A"),
        set(&["192.0.2.200"])
    );
    assert_eq!(
        at(
            &pdns.rrsets("vps.example.com"),
            "vm7.vps.example.com",
            "TXT"
        ),
        set(&["\"owned by someone\""])
    );
    assert_eq!(
        at(&rev, "99.2.0.192.in-addr.arpa", "PTR"),
        set(&["other.example.net."])
    );

    // Replace repairs a record changed behind the module's back.
    pdns.put(
        "vps.example.com",
        "vm7.vps.example.com",
        "A",
        &["192.0.2.66"],
    );
    let r = sync(&kvm, 7, Operation::Replace);
    assert_eq!(r.errors, 0);
    assert_eq!(
        at(&pdns.rrsets("vps.example.com"), "vm7.vps.example.com", "A"),
        set(&["192.0.2.11", "192.0.2.12"])
    );

    // Terminate.
    let r = sync(&kvm, 7, Operation::Delete);
    assert_eq!(r.errors, 0, "{:#?}", r.events);
    for z in ["example.com", "vps.example.com"] {
        let rr = pdns.rrsets(z);
        assert!(at(&rr, "vm7.vps.example.com", "A").is_empty(), "{z}");
    }
    let rev = pdns.rrsets("2.0.192.in-addr.arpa");
    assert!(at(&rev, "11.2.0.192.in-addr.arpa", "PTR").is_empty());
    assert!(at(&rev, "12.2.0.192.in-addr.arpa", "PTR").is_empty());
    assert_eq!(
        at(&rev, "10.2.0.192.in-addr.arpa", "PTR"),
        set(&["keep.example.net."])
    );
    assert_eq!(
        at(&rev, "99.2.0.192.in-addr.arpa", "PTR"),
        set(&["other.example.net."])
    );
    assert_eq!(
        at(&pdns.rrsets("example.com"), "www.example.com", "A"),
        set(&["192.0.2.200"])
    );
    assert_eq!(
        at(
            &pdns.rrsets("vps.example.com"),
            "vm7.vps.example.com",
            "TXT"
        ),
        set(&["\"owned by someone\""])
    );
    assert!(pdns.dig("vm7.vps.example.com", "A").is_empty());
    assert_eq!(
        db.value("SELECT vm_dns_managed FROM puqProxmoxKVM_vm_info WHERE service_id = 7"),
        "{}"
    );
}

#[test]
fn a_failing_zone_does_not_stop_the_others() {
    let pdns = Pdns::start();
    let (db, kvm) = setup();
    for z in ["example.com", "vps.example.com", "2.0.192.in-addr.arpa"] {
        pdns.create_zone(z);
    }
    add_zone(&kvm, &pdns, "example.com", API_KEY);
    // 422: a CNAME at the VM's name conflicts with the A record.
    add_zone(&kvm, &pdns, "vps.example.com", API_KEY);
    pdns.put(
        "vps.example.com",
        "vm3.vps.example.com",
        "CNAME",
        &["elsewhere.example.net."],
    );
    // 401: wrong key.
    add_zone(&kvm, &pdns, "2.0.192.in-addr.arpa", "wrong-key");
    // 404: configured here, missing in PowerDNS.
    add_zone(&kvm, &pdns, "192.in-addr.arpa", API_KEY);
    set_service(&db, 3, "192.0.2.30", &[], "");

    let r = sync(&kvm, 3, Operation::Create);
    let by_zone = |zone: &str| {
        r.events
            .iter()
            .filter(|e| e.zone == zone)
            .collect::<Vec<_>>()
    };
    assert!(by_zone("example.com").iter().all(|e| e.ok) && by_zone("example.com").len() == 1);
    assert_eq!(
        at(&pdns.rrsets("example.com"), "vm3.vps.example.com", "A"),
        set(&["192.0.2.30"])
    );
    let unprocessable = by_zone("vps.example.com");
    assert!(unprocessable.len() == 1 && !unprocessable[0].ok);
    assert!(
        unprocessable[0]
            .error
            .as_deref()
            .unwrap()
            .contains("HTTP 422"),
        "{unprocessable:?}"
    );
    assert!(unprocessable[0]
        .error
        .as_deref()
        .unwrap()
        .contains("Conflicts with pre-existing RRset"));
    let unauthorised = by_zone("2.0.192.in-addr.arpa");
    assert!(unauthorised.len() == 1 && unauthorised[0].kind == "rev" && !unauthorised[0].ok);
    assert!(unauthorised[0]
        .error
        .as_deref()
        .unwrap()
        .contains("HTTP 401"));
    assert!(!unauthorised[0]
        .error
        .as_deref()
        .unwrap()
        .contains("wrong-key"));
    let missing = by_zone("192.in-addr.arpa");
    assert!(
        missing.len() == 1 && missing[0].error.as_deref().unwrap().contains("HTTP 404"),
        "{missing:?}"
    );
    assert_eq!(r.errors, 3);
    assert!(
        r.summary.contains("1 records ok, 3 errors"),
        "{}",
        r.summary
    );
    // The PTR that failed stays in the managed map, so a later run still knows it.
    assert!(db
        .value("SELECT vm_dns_managed FROM puqProxmoxKVM_vm_info WHERE service_id = 3")
        .contains("192.0.2.30"));
}

#[test]
fn zones_are_stored_with_sealed_credentials_and_tested_against_the_server() {
    let pdns = Pdns::start();
    let (db, kvm) = setup();
    pdns.create_zone("example.com");
    let store = kvm.dns_zones();
    let z = block_on(store.create(&obj(json!({"zone": "EXAMPLE.com.", "type": "powerdns", "server_url": format!("{}/", pdns.url()), "api_key": API_KEY})))).unwrap();
    let raw = db.value(&format!("SELECT CONCAT_WS('|', zone, type, settings, secrets) FROM puq_proxmox_kvm_dns_zones WHERE id = {}", z.id));
    assert!(raw.starts_with("example.com|powerdns|"), "{raw}");
    assert!(
        !raw.contains(API_KEY),
        "the key is not stored in clear: {raw}"
    );
    assert_eq!(z.to_public()["api_key"], "KEEP");

    let test = |id: u64| {
        block_on(async {
            Provider::for_zone(
                &kvm.dns_zones().get(id).await?,
                std::time::Duration::from_secs(5),
            )?
            .test()
            .await
        })
    };
    assert!(test(z.id).unwrap().contains("example.com found"));

    // Saving KEEP keeps the key; the zone still works.
    block_on(store.update(
        z.id,
        &obj(json!({"api_key": "KEEP", "server_url": pdns.url()})),
    ))
    .unwrap();
    assert!(test(z.id).is_ok());
    // A wrong key: the provider's own words.
    block_on(store.update(z.id, &obj(json!({"api_key": "nope"})))).unwrap();
    let err = test(z.id).unwrap_err().to_string();
    assert!(err.contains("HTTP 401") && err.contains("API key"), "{err}");
    // A zone PowerDNS does not have.
    let missing = block_on(store.create(&obj(json!({"zone": "example.net", "type": "powerdns", "server_url": pdns.url(), "api_key": API_KEY})))).unwrap();
    let err = test(missing.id).unwrap_err().to_string();
    assert!(
        err.contains("HTTP 404") && err.contains("Not Found"),
        "{err}"
    );
    // Unreachable.
    let down = block_on(store.create(&obj(json!({"zone": "example.org", "type": "powerdns", "server_url": "http://127.0.0.1:9", "api_key": "k"})))).unwrap();
    assert!(test(down.id)
        .unwrap_err()
        .to_string()
        .contains("unreachable"));

    // Duplicates, listing, deleting.
    let dup = block_on(store.create(&obj(json!({"zone": "example.com", "type": "powerdns", "server_url": pdns.url(), "api_key": "x"})))).unwrap_err();
    assert!(dup.to_string().contains("already configured"), "{dup}");
    assert_eq!(block_on(store.all()).unwrap().len(), 3);
    assert_eq!(block_on(kvm.dashboard()).unwrap().dns_zones, Some(3));
    block_on(store.delete(down.id)).unwrap();
    assert!(matches!(
        block_on(store.get(down.id)),
        Err(puq_proxmox_kvm::Error::NotFound(_))
    ));

    // Another installation's key cannot read the credentials: a clear error, not garbage.
    let other = block_on(Kvm::connect(db.config(), Some("another-hash".into()))).unwrap();
    let err = block_on(other.dns_zones().all()).unwrap_err().to_string();
    assert!(err.contains("cc_encryption_hash"), "{err}");
}
