//! A crash in the middle of each pipeline, then a rerun: the tick is cut off at a random
//! point (the future is dropped at an await, as when the cron process dies between two
//! requests), the lease it held expires, and cron runs again. Every pipeline still ends where
//! it should, with one clone per (re)install and nothing destroyed twice.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{pve, TestDb};
use puq_proxmox_kvm::events::Events;
use puq_proxmox_kvm::module::Kvm;
use puq_proxmox_kvm::settings::Settings;
use puq_proxmox_kvm::vm::{admin, engine, platform};
use puq_sim_pve::{RunningSim, SimOptions};
use serde_json::json;

struct World {
    running: RunningSim,
    db: TestDb,
    kvm: Kvm,
    platform: Arc<platform::LivePlatform>,
    seed: u64,
}

impl World {
    async fn new() -> World {
        let running = pve::simulator(SimOptions::default()).await;
        let db = TestDb::whmcs();
        let kvm = Kvm::connect(db.config(), Some("k".into())).await.unwrap();
        kvm.activate().await.unwrap();
        db.value(
            "SET SESSION sql_mode = ''; INSERT INTO tblclients (id, firstname) VALUES (1, 'Ada')",
        );
        db.value("SET SESSION sql_mode = ''; INSERT INTO tblservers (id, name, type) VALUES (1, 'pve', 'puqProxmoxKVM')");
        db.value("SET SESSION sql_mode = ''; INSERT INTO tblproducts (id, name, servertype, configoption1, configoption2, configoption4, configoption5, configoption8, configoption16, configoption17, configoption19, configoption20, configoption21) VALUES (1, 'VPS', 'puqProxmoxKVM', 'pve2', '9000', '2', '2', '20', '1', '1', '', '', '.example.net')");
        db.value("SET SESSION sql_mode = ''; INSERT INTO tblhosting (id, userid, packageid, server, domainstatus) VALUES (7, 1, 1, 1, 'Active')");
        for pool in [
            json!({"server_id": 1, "type": "IPv4", "bridge": "vmbr0", "vlan": 0, "gateway": "192.0.2.1", "mask": 24, "dns1": "", "dns2": "", "address_start": "192.0.2.10", "address_stop": "192.0.2.99"}),
            json!({"server_id": 1, "type": "IPv6", "bridge": "vmbr0", "vlan": 0, "gateway": "2001:db8::1", "mask": 64, "dns1": "", "dns2": "", "address_start": "2001:db8::10", "address_stop": "2001:db8::ff"}),
        ] {
            puq_proxmox_kvm::ipam::pools::create(kvm.db(), pool.as_object().unwrap())
                .await
                .unwrap();
        }
        db.value(
            "INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status) VALUES (7, 'creation')",
        );
        let api = pve::api(&running);
        let platform = Arc::new(
            platform::LivePlatform::new(kvm.clone(), platform::Clients::Fixed(api))
                .await
                .unwrap(),
        );
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64
            | 1;
        World {
            running,
            db,
            kvm,
            platform,
            seed,
        }
    }

    fn status(&self) -> String {
        self.db
            .value("SELECT vm_status FROM puqProxmoxKVM_vm_info WHERE service_id = 7")
    }

    fn random_ms(&mut self, max: u64) -> u64 {
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        1 + self.seed % max
    }

    /// Ticks that are cut off at random moments, each followed by what a restart finds (the
    /// lease of the dead runner expired), until the VM is in `target`. Returns the crashes.
    async fn run_with_crashes(&mut self, target: &str) -> u32 {
        let limits = engine::Limits {
            budget: Duration::from_secs(30),
            max_steps_per_vm: 0,
            per_node: 4,
            max_vms: 10,
            lease_seconds: 120,
            max_concurrent: 0,
        };
        let mut crashes = 0;
        for _ in 0..200 {
            if self.status() == target {
                return crashes;
            }
            // Within a tick's first 15 ms: a deploy is cut off about every other tick.
            let cut = Duration::from_millis(self.random_ms(15));
            let (settings, events) = (Settings::default(), Events::none());
            let tick = engine::tick(
                self.kvm.db(),
                self.platform.clone(),
                &settings,
                &limits,
                &events,
            );
            match tokio::time::timeout(cut, tick).await {
                Ok(result) => {
                    result.unwrap();
                }
                Err(_) => crashes += 1,
            }
            // The dead runner's lease has expired; a failed step's retry time has come.
            self.db.value("UPDATE puqProxmoxKVM_vm_info SET vm_lease_until = UTC_TIMESTAMP() - INTERVAL 1 SECOND, vm_next_attempt_at = NULL WHERE vm_lease_owner <> ''");
            self.db
                .value("UPDATE puqProxmoxKVM_vm_info SET vm_next_attempt_at = NULL");
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        panic!("never reached {target}: {}", self.db.value("SELECT CONCAT(vm_status, ' ', COALESCE(vm_last_error, '')) FROM puqProxmoxKVM_vm_info"));
    }

    fn count(&self, method: &str, suffix: &str) -> usize {
        self.running
            .sim
            .requests()
            .iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .count()
    }

    fn vmid(&self) -> u32 {
        self.db
            .value("SELECT vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = 7")
            .parse()
            .unwrap()
    }
}

#[tokio::test]
async fn every_pipeline_survives_crashes_at_random_points() {
    let mut w = World::new().await;

    let crashes = w.run_with_crashes("ready").await;
    assert!(crashes > 0, "the deploy was cut off at least once");
    assert_eq!(
        w.count("POST", "/clone"),
        1,
        "one clone despite {crashes} crashes"
    );
    assert_eq!(w.count("POST", "/migrate"), 1, "one migration");
    let vmid = w.vmid();
    assert_eq!(w.running.sim.vm_state(vmid).unwrap()["node"], "pve2");
    assert_eq!(
        w.db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 7"),
        "2",
        "no address leaked or doubled"
    );

    w.db.value("UPDATE tblproducts SET configoption4 = '3', configoption16 = '2'");
    admin::queue_change_package(w.kvm.db(), 7).await.unwrap();
    w.run_with_crashes("ready").await;
    assert_eq!(w.running.sim.vm_config(vmid).unwrap()["cores"], "3");
    assert_eq!(
        w.db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 7"),
        "3"
    );

    admin::queue_reinstall(w.kvm.db(), 7).await.unwrap();
    w.run_with_crashes("ready").await;
    assert_eq!(
        w.count("POST", "/clone"),
        2,
        "one more clone for the reinstall"
    );
    assert_eq!(
        w.count("DELETE", &format!("/qemu/{vmid}")),
        1,
        "the old VM deleted once"
    );
    assert!(w.running.sim.vm_state(w.vmid()).is_some());

    admin::queue_dns_resync(w.kvm.db(), 7).await.unwrap();
    w.run_with_crashes("ready").await;

    admin::terminate(w.kvm.db(), 7).await.unwrap();
    w.run_with_crashes("remove").await;
    assert!(w.running.sim.vm_state(w.vmid()).is_none());
    assert_eq!(
        w.db.value("SELECT COUNT(*) FROM puq_proxmox_kvm_ip_allocations WHERE service_id = 7"),
        "0"
    );
    assert!(
        w.running.sim.violations().is_empty(),
        "{:#?}",
        w.running.sim.violations()
    );
}
