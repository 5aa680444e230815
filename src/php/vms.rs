//! `PuqProxmoxKvm\Vms`: the VM Management page's data and admin actions.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use serde_json::{Map, Value};

use super::convert::{array_to_map, map_to_array, server_passwords, to_array};
use crate::module::Kvm;
use crate::runtime::block_on;
use crate::vm::platform::{Clients, LivePlatform};
use crate::vm::{admin, steps};

/// Every VM of the module: `$kvm->vms()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Vms")]
pub struct PhpVms {
    pub(super) kvm: Kvm,
}

#[php_impl]
impl PhpVms {
    /// The states for the page's filters and Reset dialog: `vm_states`, `reset_targets`,
    /// `service_states`.
    pub fn states() -> ZBox<ZendHashTable> {
        let mut m = Map::new();
        m.insert("vm_states".into(), steps::all_states().into());
        m.insert("reset_targets".into(), admin::RESET_TARGETS.to_vec().into());
        m.insert(
            "service_states".into(),
            admin::SERVICE_STATES.to_vec().into(),
        );
        map_to_array(&m)
    }

    /// A page of the list: `total`, `filtered` and `rows` (service_id, client_id, client,
    /// product, server, vm_id, vm_name, vm_status, service_status, ips [ip, rdns],
    /// last_error, actions). `$query`: `start`, `length` (1-100), `search` (service id,
    /// client, VM name, IP), `sort` (id, client, product, server, vm, vm_status,
    /// service_status), `dir` (asc, desc), `service_status`, `vm_status`.
    ///
    /// @throws Exception\ValidationException naming the bad parameter
    pub fn list(&self, query: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let query = admin::ListQuery::from_map(&array_to_map(query, "query")?)?;
        Ok(to_array(&block_on(admin::list(self.kvm.db(), &query))?)?)
    }

    /// The VM's run log: `vm_status`, `last_failure` (for the red banner, or null) and `runs`
    /// (newest first: kind, started_at, finished_at, result, error, steps).
    pub fn log(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        Ok(to_array(&block_on(admin::log(self.kvm.db(), service_id))?)?)
    }

    /// CreateAccount: records the VM in `creation` and returns at once; cron builds it.
    /// `$password` is the service's password (sealed for cloud-init).
    ///
    /// @throws Exception\ConflictException when the service already has a VM
    pub fn create(&self, service_id: i64, password: String) -> PhpResult<()> {
        let kvm = &self.kvm;
        Ok(block_on(admin::create(
            kvm.db(),
            kvm.encryption_key(),
            service_id,
            &password,
        ))?)
    }

    /// TerminateAccount: asks Proxmox to stop the VM now (best effort, with the server entry's
    /// decrypted password) and queues the terminate pipeline for cron. Returns whether a VM
    /// was queued (false: the service had none; its addresses are released at once).
    pub fn terminate(
        &self,
        service_id: i64,
        server_id: i64,
        server_password: String,
    ) -> PhpResult<bool> {
        let kvm = self.kvm.clone();
        Ok(block_on(async move {
            let queued = admin::terminate(kvm.db(), service_id).await?;
            if queued {
                let passwords = std::iter::once((server_id, server_password)).collect();
                let platform = LivePlatform::new(kvm.clone(), Clients::Servers(passwords)).await?;
                // The stop is best effort here: cron's terminate step checks it and goes on.
                let _ = platform.stop_now(service_id).await;
            }
            Ok::<_, crate::Error>(queued)
        })?)
    }

    /// Redeploy (only when the VM is not ready): destroys the VM on Proxmox after the
    /// ownership check, releases its addresses, clears its log and sets `creation`.
    /// `$serverPasswords`: server id => the decrypted password of each Proxmox server entry.
    ///
    /// @throws Exception\ConflictException when the VM is ready or is not this service's
    pub fn redeploy(&self, service_id: i64, server_passwords: &ZendHashTable) -> PhpResult<()> {
        let passwords = passwords(server_passwords)?;
        let kvm = self.kvm.clone();
        Ok(block_on(async move {
            let timeout =
                std::time::Duration::from_secs(u64::from(kvm.settings().await?.default_timeout));
            let platform = LivePlatform::new(kvm, Clients::Servers(passwords)).await?;
            platform.redeploy(service_id, timeout).await
        })?)
    }

    /// ChangePackage: queues the change-package pipeline (only from ready, or when already
    /// queued); cron applies the new package.
    ///
    /// @throws Exception\ConflictException when the VM is not ready
    pub fn queue_change_package(&self, service_id: i64) -> PhpResult<()> {
        Ok(block_on(admin::queue_change_package(
            self.kvm.db(),
            service_id,
        ))?)
    }

    /// Reinstall: queues the removal of the old VM and a fresh deploy from the template
    /// (addresses, VMID and MAC kept), only from ready.
    ///
    /// @throws Exception\ConflictException when the VM is not ready
    pub fn queue_reinstall(&self, service_id: i64) -> PhpResult<()> {
        Ok(block_on(admin::queue_reinstall(self.kvm.db(), service_id))?)
    }

    /// SuspendAccount (`$running` false: stop the VM) and UnsuspendAccount (true: start it),
    /// waiting for Proxmox within the default API timeout; recorded in the run log.
    pub fn set_power(
        &self,
        service_id: i64,
        running: bool,
        server_id: i64,
        server_password: String,
    ) -> PhpResult<()> {
        let kvm = self.kvm.clone();
        Ok(block_on(async move {
            let timeout =
                std::time::Duration::from_secs(u64::from(kvm.settings().await?.default_timeout));
            let passwords = std::iter::once((server_id, server_password)).collect();
            LivePlatform::new(kvm, Clients::Servers(passwords))
                .await?
                .set_power(service_id, running, timeout)
                .await
        })?)
    }

    /// The Set DNS records button: queues a full DNS resync of a ready VM; cron runs it.
    ///
    /// @throws Exception\ConflictException when the VM is not ready
    pub fn queue_dns_resync(&self, service_id: i64) -> PhpResult<()> {
        Ok(block_on(admin::queue_dns_resync(
            self.kvm.db(),
            service_id,
        ))?)
    }

    /// Switches the VM to a re-runnable state (ready, creation, set_ip, change_package,
    /// set_dns_records, terminate, remove); cron picks it up on its next run.
    ///
    /// @throws Exception\ValidationException for any other state
    pub fn reset(&self, service_id: i64, status: String) -> PhpResult<()> {
        Ok(block_on(admin::reset(self.kvm.db(), service_id, &status))?)
    }

    /// The raw `puqProxmoxKVM_vm_info` row, column => text (or null).
    pub fn record(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        Ok(map_to_array(&block_on(admin::record(
            self.kvm.db(),
            service_id,
        ))?))
    }

    /// Writes raw values to the row after checking each against its column (numbers, dates,
    /// JSON that parses, a known status); nothing is written if one fails.
    ///
    /// @throws Exception\ValidationException naming the column
    pub fn update_record(&self, service_id: i64, changes: &ZendHashTable) -> PhpResult<()> {
        let changes: Map<String, Value> = array_to_map(changes, "record")?;
        Ok(block_on(admin::update_record(
            self.kvm.db(),
            service_id,
            &changes,
        ))?)
    }

    /// Deletes the VM row (only in error_terminate or remove); never touches Proxmox or
    /// tblhosting.
    ///
    /// @throws Exception\ConflictException in any other state
    pub fn delete_record(&self, service_id: i64) -> PhpResult<()> {
        Ok(block_on(admin::delete_record(self.kvm.db(), service_id))?)
    }
}

fn passwords(table: &ZendHashTable) -> crate::Result<std::collections::HashMap<i64, String>> {
    server_passwords(&array_to_map(table, "server_passwords")?)
}
