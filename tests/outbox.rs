//! The email outbox against MariaDB: queued once per run however often the step runs, claimed
//! by one cron process at a time, retried after a failure and given up after five.

mod common;

use common::TestDb;
use puq_proxmox_kvm::outbox::{self, MAX_ATTEMPTS};
use puq_proxmox_kvm::runtime::block_on;

const READY: &str = "puqProxmoxKVM VM is ready";

fn vm(db: &TestDb, service: i64, run: u64) {
    db.value(&format!(
        "INSERT INTO puqProxmoxKVM_vm_info (service_id, vm_status, vm_run_id) VALUES ({service}, 'starting', {run}) \
         ON DUPLICATE KEY UPDATE vm_run_id = {run}"
    ));
}

#[test]
fn an_email_is_queued_once_per_run() {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    vm(&db, 5, 40);
    let queue = |template: &str| block_on(outbox::queue(&db.db(), 5, template)).unwrap();

    assert!(queue(READY), "queued");
    assert!(
        !queue(READY),
        "the step ran again after a crash: not queued twice"
    );
    assert!(queue("puqProxmoxKVM Upgrade Email"), "another template");
    vm(&db, 5, 41);
    assert!(queue(READY), "a later run (a reinstall) earns it again");
    assert_eq!(
        db.value("SELECT GROUP_CONCAT(CONCAT(run_id, ' ', template) ORDER BY id SEPARATOR ', ') FROM puq_proxmox_kvm_email_outbox"),
        "40 puqProxmoxKVM VM is ready, 40 puqProxmoxKVM Upgrade Email, 41 puqProxmoxKVM VM is ready"
    );
    // A service without a VM row (removed meanwhile) still gets its email.
    assert!(block_on(outbox::queue(&db.db(), 6, READY)).unwrap());
}

#[test]
fn one_process_claims_an_email_and_reports_it() {
    let db = TestDb::whmcs();
    block_on(db.kvm().activate()).unwrap();
    for service in [5, 6] {
        vm(&db, service, 1);
        block_on(outbox::queue(&db.db(), service, READY)).unwrap();
    }
    let a = block_on(outbox::claim(&db.db(), "cron-a", 1)).unwrap();
    assert_eq!(a.len(), 1, "at most the limit");
    assert_eq!(
        (a[0].service_id, a[0].template.as_str(), a[0].attempts),
        (5, READY, 0)
    );
    let b = block_on(outbox::claim(&db.db(), "cron-b", 10)).unwrap();
    assert_eq!(
        b.iter().map(|e| e.service_id).collect::<Vec<_>>(),
        [6],
        "the other process gets only what a is not holding"
    );
    assert!(block_on(outbox::claim(&db.db(), "cron-c", 10))
        .unwrap()
        .is_empty());

    // a sent its email; b failed and gave its claim back: the next run retries it.
    assert!(!block_on(outbox::report(&db.db(), a[0].id, None)).unwrap());
    assert!(!block_on(outbox::report(&db.db(), b[0].id, Some("SMTP down"))).unwrap());
    let retry = block_on(outbox::claim(&db.db(), "cron-c", 10)).unwrap();
    assert_eq!(
        retry
            .iter()
            .map(|e| (e.service_id, e.attempts))
            .collect::<Vec<_>>(),
        [(6, 1)]
    );
    for attempt in 2..=MAX_ATTEMPTS {
        let given_up = block_on(outbox::report(&db.db(), retry[0].id, Some("SMTP down"))).unwrap();
        assert_eq!(given_up, attempt == MAX_ATTEMPTS, "attempt {attempt}");
    }
    assert!(block_on(outbox::claim(&db.db(), "cron-d", 10))
        .unwrap()
        .is_empty());
    // The VM's log shows it, with the failure banner.
    let log = block_on(puq_proxmox_kvm::vm::admin::log(&db.db(), 6)).unwrap();
    assert_eq!(
        log.last_failure.as_deref(),
        Some("email: SMTP down - given up after 5 attempts; fix it in WHMCS and send the email from the service's page")
    );
    assert_eq!(
        log.runs[0].steps[0]["label"],
        "Send the email \"puqProxmoxKVM VM is ready\""
    );
    assert_eq!(
        db.value("SELECT GROUP_CONCAT(CONCAT(service_id, ' ', sent_at IS NOT NULL, ' ', attempts, ' ', COALESCE(last_error, '-')) ORDER BY id SEPARATOR ', ') FROM puq_proxmox_kvm_email_outbox"),
        "5 1 0 -, 6 0 5 SMTP down"
    );
}
