//! The Proxmox client against the schema-checked simulator: every call, both authentication
//! modes, certificate pinning, and each injected fault turned into a clear error. Each test
//! ends by asserting the simulator refused nothing the client sent (unless the test sends a
//! bad request on purpose).

use std::collections::BTreeMap;
use std::time::Duration;

use puq_proxmox_kvm::http::Trust;
use puq_proxmox_kvm::proxmox::{
    ApiError, Auth, BackupRequest, Client, CloneRequest, ConfigUpdate, DiskLimits, Drive, Endpoint,
    FirewallOptions, FirewallRule, Ip4Config, Ip6Config, IpConfig, MigrateRequest, ProxmoxApi,
    RestoreRequest, TaskState, Timeframe, Upid, Vmid,
};
use puq_sim_pve::{Credentials, RunningSim, Sim, SimOptions};

const POLL: Duration = Duration::from_millis(20);
const LIMIT: Duration = Duration::from_secs(5);

async fn start(tls: bool) -> RunningSim {
    let sim = Sim::with_default_schema(SimOptions::default()).expect("apidata.js loads");
    sim.serve("127.0.0.1:0", tls)
        .await
        .expect("simulator listens")
}

fn token() -> Auth {
    let c = Credentials::default();
    Auth::from_server(&c.token_id, &c.token_secret).unwrap()
}

fn client(running: &RunningSim, auth: Auth, timeout: Duration) -> Client {
    let endpoint = Endpoint {
        base_url: running.base_url(),
        auth,
        trust: Trust::Verified,
    };
    Client::new(endpoint, timeout).unwrap()
}

fn vmid(n: u64) -> Vmid {
    Vmid::new(n).unwrap()
}

fn assert_no_violations(sim: &Sim) {
    let v = sim.violations();
    assert!(v.is_empty(), "the simulator refused requests: {v:#?}");
}

async fn done(api: &impl ProxmoxApi, upid: Upid) {
    api.wait_for_task(&upid, POLL, LIMIT)
        .await
        .unwrap_or_else(|e| panic!("task {upid} - {e}"));
}

#[tokio::test]
async fn every_call_with_an_api_token_passes_the_schema_check() {
    let running = start(false).await;
    let sim = &running.sim;
    let api = client(&running, token(), Duration::from_secs(5));

    assert_eq!(api.version().await.unwrap().version, "9.1.3");
    let perms = api.permissions(None).await.unwrap();
    assert_eq!(perms["/"].get("VM.Clone"), Some(&true));
    assert!(!api.permissions(Some("/vms/100")).await.unwrap().is_empty());

    let nodes = api.nodes().await.unwrap();
    assert_eq!(nodes.len(), 2);
    let freest = nodes.iter().max_by_key(|n| n.free_memory()).unwrap();
    assert_eq!(freest.node, "pve1", "64-16 GiB free beats 128-100");
    assert_eq!(api.node_memory("pve2").await.unwrap().free, 28 << 30);
    let backup_storages = api.storages("pve1", Some("backup")).await.unwrap();
    let names: Vec<_> = backup_storages.iter().map(|s| s.storage.as_str()).collect();
    assert_eq!(names, ["local", "nfs-backup"]);
    assert!(backup_storages[1].shared);
    let templates: Vec<_> = api
        .cluster_vms()
        .await
        .unwrap()
        .into_iter()
        .filter(|v| v.template)
        .collect();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].node.as_deref(), Some("pve1"));
    assert_eq!(api.node_vms("pve1").await.unwrap()[0].vmid, 9000);

    // Clone the template to the next free VMID.
    let id = api.next_vmid().await.unwrap();
    assert_eq!(id.get(), 100);
    assert!(!api.vmid_is_free(vmid(9000)).await.unwrap());
    assert!(api.vmid_is_free(id).await.unwrap());
    let upid = api
        .clone_vm(
            "pve1",
            vmid(9000),
            &CloneRequest {
                newid: id,
                name: Some("c12-s34".into()),
                full: false,
                target: None,
                storage: None,
                description: Some("WHMCS service 34".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (upid.task_type.as_str(), upid.id.as_str()),
        ("qmclone", "9000")
    );
    assert_eq!(upid.user, "root@pam!whmcs");
    done(&api, upid.clone()).await;
    assert!(api
        .task_log(&upid, 0, 50)
        .await
        .unwrap()
        .iter()
        .any(|l| l == "TASK OK"));

    // Configuration: CPU, RAM, NIC, cloud-init, a new disk, tags, a removed key.
    let config = api.vm_config("pve1", id).await.unwrap();
    assert_eq!(config.get("name"), Some("c12-s34"));
    let mut nic = config.net(0).unwrap().unwrap();
    nic.bridge = Some("vmbr1".into());
    nic.tag = Some(20);
    nic.rate = Some(12.5);
    nic.firewall = Some(true);
    let keys = "ssh-ed25519 AAAAC3Nza+/= admin@example.com\nssh-rsa AAAAB3 other@host";
    let update = ConfigUpdate::new()
        .cores(4)
        .memory_mib(4096)
        .net(0, &nic)
        .unwrap()
        .ipconfig(
            0,
            &IpConfig {
                v4: Some(Ip4Config::Static {
                    address: "192.0.2.10".parse().unwrap(),
                    prefix: 24,
                    gateway: Some("192.0.2.1".parse().unwrap()),
                }),
                v6: Some(Ip6Config::Static {
                    address: "2001:db8::10".parse().unwrap(),
                    prefix: 64,
                    gateway: Some("2001:db8::1".parse().unwrap()),
                }),
            },
        )
        .unwrap()
        .ciuser("admin")
        .cipassword("s3cret pass&word")
        .sshkeys(keys)
        .nameservers(&[
            "192.0.2.53".parse().unwrap(),
            "2001:db8::53".parse().unwrap(),
        ])
        .searchdomain(".example.com")
        .drive("scsi1", &Drive::new_volume("local-lvm", 20).unwrap())
        .unwrap()
        .tags(&["whmcs-s34", "puq"])
        .onboot(true)
        .delete("boot")
        .digest(&config.digest);
    let upid = api
        .update_config("pve1", id, &update)
        .await
        .unwrap()
        .expect("a qmconfig task");
    done(&api, upid).await;
    let config = api.vm_config("pve1", id).await.unwrap();
    assert_eq!(config.get("cores"), Some("4"));
    assert_eq!(
        config.get("net0"),
        Some("virtio=BC:24:11:00:90:00,bridge=vmbr1,firewall=1,rate=12.5,tag=20")
    );
    assert_eq!(
        config.get("ipconfig0"),
        Some("ip=192.0.2.10/24,gw=192.0.2.1,ip6=2001:db8::10/64,gw6=2001:db8::1")
    );
    assert_eq!(
        config.get("cipassword"),
        Some("**********"),
        "masked on read"
    );
    assert_eq!(
        sim.vm_config(100).unwrap()["cipassword"],
        "s3cret pass&word"
    );
    assert_eq!(
        config.sshkeys().as_deref(),
        Some(keys),
        "sshkeys survive the double encoding"
    );
    assert_eq!(config.get("searchdomain"), Some("example.com"));
    assert_eq!(
        config.get("scsi1"),
        Some("local-lvm:vm-100-disk-2,size=20G")
    );
    assert_eq!(config.tags(), ["whmcs-s34", "puq"]);
    assert_eq!(config.get("onboot"), Some("1"));
    assert_eq!(config.get("boot"), None);

    // Disk limits: the drive string re-sent whole, synchronously.
    let limited = config.drive("scsi0").unwrap().with_limits(&DiskLimits {
        mbps_rd: 50.0,
        mbps_wr: 40.5,
        iops_rd: 1000,
        iops_wr: 0,
    });
    api.update_config_sync(
        "pve1",
        id,
        &ConfigUpdate::new().drive("scsi0", &limited).unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(
        sim.vm_config(100).unwrap()["scsi0"],
        "local-lvm:base-9000-disk-0/vm-100-disk-0,size=10G,mbps_rd=50,mbps_wr=40.5,iops_rd=1000"
    );

    // Resize: grow, then a shrink Proxmox refuses.
    done(
        &api,
        api.resize_disk("pve1", id, "scsi0", "25G")
            .await
            .unwrap()
            .unwrap(),
    )
    .await;
    done(
        &api,
        api.resize_disk("pve1", id, "scsi1", "+5G")
            .await
            .unwrap()
            .unwrap(),
    )
    .await;
    let config = api.vm_config("pve1", id).await.unwrap();
    assert_eq!(config.drive("scsi0").unwrap().option("size"), Some("25G"));
    assert_eq!(config.drive("scsi1").unwrap().size_bytes(), Some(25 << 30));
    let err = api
        .resize_disk("pve1", id, "scsi0", "5G")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApiError::Status { status: 500, message } if message.starts_with("shrinking disks is not supported")),
        "{err}"
    );

    // Firewall: options, rules, the anti-spoofing IP set.
    let options = FirewallOptions {
        enable: Some(true),
        dhcp: Some(true),
        ndp: Some(true),
        radv: Some(false),
        macfilter: Some(true),
        ipfilter: Some(true),
        policy_in: Some("DROP".into()),
        policy_out: Some("ACCEPT".into()),
        log_level_in: Some("nolog".into()),
        log_level_out: Some("info".into()),
    };
    api.set_firewall_options("pve1", id, &options)
        .await
        .unwrap();
    assert_eq!(api.firewall_options("pve1", id).await.unwrap(), options);
    for port in ["22", "443"] {
        let rule = FirewallRule {
            direction: "in".into(),
            action: "ACCEPT".into(),
            enable: true,
            proto: Some("tcp".into()),
            dport: Some(port.into()),
            comment: Some(format!("port {port}")),
            ..FirewallRule::default()
        };
        api.add_firewall_rule("pve1", id, &rule).await.unwrap();
    }
    let rules = api.firewall_rules("pve1", id).await.unwrap();
    assert_eq!(
        rules
            .iter()
            .map(|r| (r.pos, r.dport.as_deref(), r.enable))
            .collect::<Vec<_>>(),
        [(Some(0), Some("443"), true), (Some(1), Some("22"), true)]
    );
    api.delete_firewall_rule("pve1", id, 0).await.unwrap();
    assert_eq!(api.firewall_rules("pve1", id).await.unwrap().len(), 1);
    api.create_ip_set("pve1", id, "ipfilter-net0", "anti-spoofing")
        .await
        .unwrap();
    for cidr in [
        "192.0.2.10",
        "2001:db8::10",
        "fe80::be24:11ff:fe00:9000/128",
    ] {
        api.add_ip_set_entry("pve1", id, "ipfilter-net0", cidr)
            .await
            .unwrap();
    }
    assert_eq!(api.ip_sets("pve1", id).await.unwrap(), ["ipfilter-net0"]);
    api.delete_ip_set_entry("pve1", id, "ipfilter-net0", "fe80::be24:11ff:fe00:9000/128")
        .await
        .unwrap();
    assert_eq!(
        api.ip_set_entries("pve1", id, "ipfilter-net0")
            .await
            .unwrap(),
        ["192.0.2.10", "2001:db8::10"]
    );
    let err = api
        .delete_ip_set("pve1", id, "ipfilter-net0", false)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not empty"), "{err}");
    api.delete_ip_set("pve1", id, "ipfilter-net0", true)
        .await
        .unwrap();
    assert!(api.ip_sets("pve1", id).await.unwrap().is_empty());
    api.regenerate_cloudinit("pve1", id).await.unwrap();

    // Migrate (offline, with a target storage), then power.
    let upid = api
        .migrate(
            "pve1",
            id,
            &MigrateRequest {
                target: "pve2".into(),
                online: false,
                target_storage: Some("local-lvm".into()),
                with_local_disks: true,
            },
        )
        .await
        .unwrap();
    done(&api, upid).await;
    assert_eq!(sim.vm_state(100).unwrap()["node"], "pve2");
    done(&api, api.start("pve2", id).await.unwrap()).await;
    assert!(api.vm_status("pve2", id).await.unwrap().running);
    done(
        &api,
        api.shutdown("pve2", id, Some(Duration::from_secs(30)))
            .await
            .unwrap(),
    )
    .await;
    assert!(!api.vm_status("pve2", id).await.unwrap().running);
    done(&api, api.start("pve2", id).await.unwrap()).await;

    // Snapshots.
    done(
        &api,
        api.create_snapshot("pve2", id, "before-upgrade", "nightly")
            .await
            .unwrap(),
    )
    .await;
    let snaps = api.snapshots("pve2", id).await.unwrap();
    assert_eq!(
        snaps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["before-upgrade"],
        "'current' left out"
    );
    done(
        &api,
        api.rollback_snapshot("pve2", id, "before-upgrade")
            .await
            .unwrap(),
    )
    .await;
    done(
        &api,
        api.delete_snapshot("pve2", id, "before-upgrade")
            .await
            .unwrap(),
    )
    .await;
    assert!(api.snapshots("pve2", id).await.unwrap().is_empty());

    // Backups: vzdump, listing, restore to a new VMID, deletion.
    let upid = api
        .backup(
            "pve2",
            &BackupRequest {
                vmid: id,
                storage: "nfs-backup".into(),
                mode: "snapshot".into(),
                compress: "zstd".into(),
                notes: Some("{{guestname}} by WHMCS".into()),
                protected: false,
            },
        )
        .await
        .unwrap();
    done(&api, upid).await;
    let backups = api
        .storage_content("pve1", "nfs-backup", Some("backup"), Some(id))
        .await
        .unwrap();
    assert_eq!(
        backups.len(),
        1,
        "a shared storage shows the backup on every node"
    );
    assert_eq!(backups[0].notes.as_deref(), Some("c12-s34 by WHMCS"));
    let restored = api.next_vmid().await.unwrap();
    let upid = api
        .restore(
            "pve1",
            &RestoreRequest {
                vmid: restored,
                archive: backups[0].volid.clone(),
                storage: Some("local-lvm".into()),
                force: false,
                unique: true,
                start: false,
            },
        )
        .await
        .unwrap();
    done(&api, upid).await;
    assert_eq!(
        api.vm_config("pve1", restored).await.unwrap().get("cores"),
        Some("4")
    );
    let deleted = api
        .delete_volume("pve2", "nfs-backup", &backups[0].volid)
        .await
        .unwrap();
    done(&api, deleted.expect("a deletion task")).await;
    assert!(api
        .storage_content("pve2", "nfs-backup", Some("backup"), None)
        .await
        .unwrap()
        .is_empty());

    // Statistics.
    let points = api
        .rrd_data("pve2", id, Timeframe::Hour, false)
        .await
        .unwrap();
    assert_eq!(points.len(), 70);
    assert!(points[0].values.contains_key("netin"));
    assert!(
        points.last().unwrap().values.is_empty(),
        "unknown values are absent"
    );
    assert_eq!(
        api.rrd_data("pve2", id, Timeframe::Day, true)
            .await
            .unwrap()
            .len(),
        1440
    );

    // Delete: refused while running, then purged.
    let err = api.delete_vm("pve2", id, true).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "VM 100 is running - destroy failed (HTTP 500)"
    );
    done(&api, api.stop("pve2", id).await.unwrap()).await;
    done(&api, api.delete_vm("pve2", id, true).await.unwrap()).await;
    let err = api.vm_config("pve2", id).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(sim.vm_config(100).is_none());

    assert_no_violations(sim);
    let requests = sim.requests();
    assert!(
        requests.iter().all(|r| r.auth == "token"),
        "every request carried the token"
    );
    let delete = requests
        .iter()
        .find(|r| {
            r.method == "DELETE"
                && r.template.as_deref() == Some("/nodes/{node}/qemu/{vmid}")
                && r.status == 200
        })
        .unwrap();
    assert_eq!(delete.params["purge"], "1");
    assert_eq!(delete.params["destroy-unreferenced-disks"], "1");
    let rule = requests
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/firewall/rules"))
        .unwrap();
    assert_eq!(
        rule.params["enable"], "1",
        "rules are sent enabled (Proxmox defaults to 0)"
    );
    let clone = requests
        .iter()
        .find(|r| r.path.ends_with("/clone"))
        .unwrap();
    assert_eq!(clone.params["full"], "0");
    let mut templates: Vec<_> = requests
        .iter()
        .filter_map(|r| Some(format!("{} {}", r.method, r.template.clone()?)))
        .collect();
    templates.sort();
    templates.dedup();
    assert!(templates.len() >= 38, "calls covered: {templates:#?}");
}

#[tokio::test]
async fn ticket_login_sends_the_csrf_token_on_writes() {
    let running = start(false).await;
    let c = Credentials::default();
    let auth = Auth::from_server(&c.user, &c.password).unwrap();
    assert!(matches!(auth, Auth::Ticket { .. }));
    let api = client(&running, auth, Duration::from_secs(5));
    assert_eq!(api.version().await.unwrap().release, "9.1");
    let upid = api.start("pve1", vmid(9000)).await.unwrap_err();
    assert!(upid.to_string().contains("template"), "{upid}");
    let id = api.next_vmid().await.unwrap();
    let upid = api
        .clone_vm(
            "pve1",
            vmid(9000),
            &CloneRequest {
                newid: id,
                name: Some("t1".into()),
                full: true,
                target: Some("pve2".into()),
                storage: Some("local-lvm".into()),
                description: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(upid.user, "root@pam");
    done(&api, upid).await;
    assert_eq!(running.sim.vm_state(100).unwrap()["node"], "pve2");
    let requests = running.sim.requests();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path == "/access/ticket")
            .count(),
        1,
        "one login for the session"
    );
    assert!(requests
        .iter()
        .filter(|r| r.path != "/access/ticket")
        .all(|r| r.auth == "ticket"));
    assert!(
        requests.iter().all(|r| r.status != 401),
        "the CSRF token was accepted"
    );
    assert_no_violations(&running.sim);
}

#[tokio::test]
async fn refused_credentials_say_which() {
    let running = start(false).await;
    let c = Credentials::default();
    let cases = [
        (
            Auth::from_server(&c.token_id, "wrong-secret").unwrap(),
            "the API token 'root@pam!whmcs' or its secret was refused",
        ),
        (
            Auth::from_server(&c.user, "wrong").unwrap(),
            "the user 'root@pam' or its password was refused",
        ),
    ];
    for (auth, want) in cases {
        let err = client(&running, auth, Duration::from_secs(5))
            .version()
            .await
            .unwrap_err();
        assert!(matches!(err, ApiError::Unauthorized(_)), "{err:?}");
        assert!(
            err.to_string()
                .starts_with(&format!("authentication failed - {want}")),
            "{err}"
        );
    }
    for (user, pass, field) in [
        ("", "x", "username"),
        ("root", "x", "username"),
        ("root@pam!", "x", "username"),
        ("root@pam!whmcs", "", "password"),
    ] {
        match Auth::from_server(user, pass) {
            Err(ApiError::Invalid { field: f, .. }) => assert_eq!(f, field, "{user}"),
            other => panic!("{user}: {other:?}"),
        }
    }
    assert_no_violations(&running.sim);
}

#[tokio::test]
async fn a_pinned_certificate_is_trusted_and_nothing_else() {
    let running = start(true).await;
    let fingerprint = running.fingerprint.clone().unwrap();
    let with_trust = |trust: Trust| {
        Client::new(
            Endpoint {
                base_url: running.base_url(),
                auth: token(),
                trust,
            },
            Duration::from_secs(5),
        )
        .unwrap()
    };
    let pinned = Trust::from_fingerprint(&fingerprint, "accesshash").unwrap();
    assert_eq!(with_trust(pinned).version().await.unwrap().version, "9.1.3");

    let other = fingerprint.replace(
        &fingerprint[..2],
        if &fingerprint[..2] == "00" {
            "11"
        } else {
            "00"
        },
    );
    let wrong = Trust::from_fingerprint(&other, "accesshash").unwrap();
    for trust in [wrong, Trust::Verified] {
        let err = with_trust(trust.clone()).version().await.unwrap_err();
        assert!(
            matches!(err, ApiError::Certificate(_)),
            "{trust:?}: {err:?}"
        );
        assert!(
            err.to_string().contains("fingerprint=AB:CD:"),
            "the message says how to fix it: {err}"
        );
    }
    assert_eq!(
        running.sim.requests().len(),
        1,
        "no request got past a refused certificate"
    );
}

#[tokio::test]
async fn faults_become_clear_errors() {
    let running = start(false).await;
    let sim = &running.sim;
    let api = client(&running, token(), Duration::from_millis(700));

    // A 503 on a read is retried; on a write it is not.
    sim.fail_next("GET", "/version", 503, "service unavailable");
    assert!(api.version().await.is_ok());
    assert_eq!(
        sim.requests()
            .iter()
            .filter(|r| r.path == "/version")
            .count(),
        2
    );
    sim.fail_next("POST", "/status/start", 503, "service unavailable");
    let err = api.start("pve1", vmid(9000)).await.unwrap_err();
    assert_eq!(
        err,
        ApiError::Status {
            status: 503,
            message: "service unavailable".into()
        }
    );
    assert_eq!(
        sim.requests()
            .iter()
            .filter(|r| r.path.ends_with("/status/start"))
            .count(),
        1,
        "writes are never retried"
    );

    // A hang: the read is retried, the write times out.
    sim.hang_next("GET", "/nodes", Duration::from_secs(2));
    assert_eq!(api.nodes().await.unwrap().len(), 2);
    sim.hang_next("POST", "/clone", Duration::from_secs(2));
    let request = CloneRequest {
        newid: vmid(100),
        name: None,
        full: false,
        target: None,
        storage: None,
        description: None,
    };
    let err = api
        .clone_vm("pve1", vmid(9000), &request)
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::Timeout(_)), "{err:?}");
    assert!(err.to_string().contains("did not answer in time"), "{err}");
    // The hung request went through after all: the state shows it, which is why writes are
    // checked before being repeated.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // A lock held by another task.
    sim.set_lock(9000, Some("backup"));
    let request = CloneRequest {
        newid: vmid(101),
        ..request
    };
    let err = api
        .clone_vm("pve1", vmid(9000), &request)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "VM is locked (backup) (HTTP 500)");
    assert_eq!(
        err.clone().context("unable to clone VM 101").to_string(),
        "unable to clone VM 101 - VM is locked (backup) (HTTP 500)"
    );
    sim.set_lock(9000, None);

    // A task that fails: its exit status and last log lines become the error.
    sim.fail_next_task("qmclone", "clone failed: storage 'local-lvm' is full");
    let upid = api.clone_vm("pve1", vmid(9000), &request).await.unwrap();
    let err = api.wait_for_task(&upid, POLL, LIMIT).await.unwrap_err();
    match &err {
        ApiError::TaskFailed {
            exitstatus, log, ..
        } => {
            assert_eq!(exitstatus, "clone failed: storage 'local-lvm' is full");
            assert_eq!(
                log.last().map(String::as_str),
                Some("TASK ERROR: clone failed: storage 'local-lvm' is full")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        sim.vm_config(101).is_none(),
        "the failed clone left nothing"
    );

    // A slow task: waiting gives up without restarting it; a later poll sees it finish.
    sim.slow_next_task(Duration::from_millis(600));
    let upid = api.clone_vm("pve1", vmid(9000), &request).await.unwrap();
    let err = api
        .wait_for_task(&upid, POLL, Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, ApiError::TaskTimeout { .. }), "{err:?}");
    assert_eq!(api.task_state(&upid).await.unwrap(), TaskState::Running);
    assert!(api.task_result(&upid).await.unwrap().is_none());
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        api.task_result(&upid).await.unwrap().map(|o| o.warnings),
        Some(0)
    );

    // Durations per task type: a clone runs for what its type says, a start for the default.
    sim.set_task_duration("qmclone", Duration::from_millis(500));
    let request = CloneRequest {
        newid: vmid(102),
        ..request
    };
    let clone = api.clone_vm("pve1", vmid(9000), &request).await.unwrap();
    let start = api.start("pve1", vmid(101)).await.unwrap();
    assert!(start.to_string().contains(":qmstart:"), "{start}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        api.task_result(&start).await.unwrap().is_some(),
        "the start took the default 50 ms"
    );
    assert_eq!(api.task_state(&clone).await.unwrap(), TaskState::Running);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(api.task_result(&clone).await.unwrap().is_some());
    sim.set_task_duration("qmclone", Duration::from_millis(50));

    // Checked before sending: nothing reaches the server.
    let before = sim.requests().len();
    let err = api.vm_status("bad node", vmid(101)).await.unwrap_err();
    assert!(
        matches!(&err, ApiError::Invalid { field, .. } if field == "node"),
        "{err:?}"
    );
    assert!(Vmid::new(42).is_err());
    assert_eq!(sim.requests().len(), before);
    assert_no_violations(sim);

    // What the schema refuses comes back as a 400 with the parameter's reason, and the
    // simulator records it.
    let rule = FirewallRule {
        direction: "in".into(),
        action: "not a group!".into(),
        enable: true,
        ..FirewallRule::default()
    };
    let err = api
        .add_firewall_rule("pve1", vmid(101), &rule)
        .await
        .unwrap_err();
    match &err {
        ApiError::BadRequest { message, errors } => {
            assert_eq!(message, "Parameter verification failed.");
            assert_eq!(
                errors.get("action").map(String::as_str),
                Some("value does not match the regex pattern")
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "Parameter verification failed.; action: value does not match the regex pattern"
    );
    let violations = sim.violations();
    assert_eq!(violations.len(), 1);
    assert_eq!(violations[0].errors.keys().collect::<Vec<_>>(), ["action"]);
}

#[tokio::test]
async fn latency_is_added_to_every_request() {
    let running = start(false).await;
    running.sim.set_latency(Duration::from_millis(150));
    let api = client(&running, token(), Duration::from_secs(5));
    let began = std::time::Instant::now();
    api.version().await.unwrap();
    assert!(began.elapsed() >= Duration::from_millis(150));
    let slow = client(&running, token(), Duration::from_millis(50));
    // Every attempt times out: the read is retried, then the timeout is reported.
    assert!(matches!(
        slow.version().await.unwrap_err(),
        ApiError::Timeout(_)
    ));
}

#[test]
fn server_entries_become_endpoints() {
    let e =
        Endpoint::from_server("pve.example.com", "", 0, "root@pam!whmcs", "secret", "").unwrap();
    assert_eq!(e.base_url, "https://pve.example.com:8006");
    assert_eq!(e.trust, Trust::Verified);
    let fp = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89";
    let e = Endpoint::from_server(
        "",
        "2001:db8::5",
        8443,
        "root@pam",
        "pw",
        &format!("\nfingerprint={fp}\n"),
    )
    .unwrap();
    assert_eq!(e.base_url, "https://[2001:db8::5]:8443");
    assert!(matches!(e.trust, Trust::Pinned(_)));
    assert!(matches!(e.auth, Auth::Ticket { .. }));
    assert!(
        !format!("{:?}", e.auth).contains("pw"),
        "secrets stay out of debug output"
    );
    let cases: BTreeMap<&str, (&str, &str)> = BTreeMap::from([
        ("hostname", ("", "")),
        ("accesshash", ("pve1", "fingerprint=AB:CD")),
    ]);
    for (field, (host, hash)) in cases {
        match Endpoint::from_server(host, "", 0, "root@pam", "pw", hash) {
            Err(ApiError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    match Endpoint::from_server("pve1", "", 0, "root@pam", "pw", "verify=no") {
        Err(ApiError::Invalid { field, message }) => {
            assert_eq!(field, "accesshash");
            assert!(message.contains("unknown key 'verify'"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}
