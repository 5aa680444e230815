//! The production [`Platform`]: each deploy step against Proxmox VE, the IP pools and DNS.
//!
//! Every step checks the actual state first (the VM exists, the config already holds the
//! value) and skips what is done, so a step that is run again after a crash changes nothing
//! twice. A step that starts a Proxmox task checkpoints its UPID before it returns `Waiting`;
//! the next pass polls that task instead of starting another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mysql_async::prelude::Queryable;
use serde_json::Value;

use super::engine::{Platform, StepContext, StepResult, Vm};
use super::steps::Step;
use crate::db::first;
use crate::dns::plan::Operation;
use crate::dns::providers::ApplyMode;
use crate::error::{Error, Result};
use crate::ipam::alloc::{self, Assigned};
use crate::module::Kvm;
use crate::product::{self, ResolvedService, ServiceConfig};
use crate::proxmox::{
    Client, CloneRequest, ConfigUpdate, DiskLimits, Drive, Endpoint, FirewallOptions, Ip4Config,
    Ip6Config, IpConfig, MigrateRequest, NetDevice, ProxmoxApi, Purpose, Upid, VmConfig, Vmid,
};
use crate::secret::SecretBox;

/// The anti-spoofing IP set of the first NIC.
pub const IP_SET: &str = "ipfilter-net0";
/// Tag stamped on every VM this module clones, with the service and installation ids in the
/// description: terminate, reinstall and redeploy refuse a VM without the matching stamp.
pub const STAMP_TAG: &str = "puq-proxmox-kvm";

/// Tries of a deploy's DNS step before its failures are logged and the deploy goes on.
const DNS_ATTEMPTS: u64 = 3;

/// Where Proxmox clients come from.
pub enum Clients {
    /// Built per WHMCS server entry; the passwords come decrypted from PHP (WHMCS's
    /// `decrypt()` runs only on the PHP side).
    Servers(HashMap<i64, String>),
    /// One client for every server (tests, the simulator).
    Fixed(Arc<dyn ProxmoxApi>),
}

/// Runs deploy steps against the real systems.
pub struct LivePlatform {
    kvm: Kvm,
    clients: Clients,
    cache: Mutex<HashMap<i64, Arc<dyn ProxmoxApi>>>,
    installation_id: String,
}

impl LivePlatform {
    /// A platform for `kvm`, reading this installation's id.
    pub async fn new(kvm: Kvm, clients: Clients) -> Result<LivePlatform> {
        let mut conn = kvm.db().conn().await?;
        let installation_id: Option<String> = first(
            &mut conn,
            "SELECT value FROM puq_proxmox_kvm_settings WHERE setting = 'installation_id'",
            (),
        )
        .await?;
        Ok(LivePlatform {
            kvm,
            clients,
            cache: Mutex::new(HashMap::new()),
            installation_id: installation_id.unwrap_or_default(),
        })
    }

    /// Whether `config` carries this installation's stamp for `service_id`: the check before
    /// any step destroys or adopts a VM.
    fn stamped(&self, config: &VmConfig, service_id: i64) -> bool {
        config
            .get("description")
            .is_some_and(|d| d.contains(&self.stamp(service_id)))
    }

    /// The ownership stamp written into a VM's description.
    pub fn stamp(&self, service_id: i64) -> String {
        format!(
            "{STAMP_TAG}: service={service_id} installation={}",
            self.installation_id
        )
    }

    async fn resolve(&self, service_id: i64) -> Result<ResolvedService> {
        let mut conn = self.kvm.db().stateless_conn().await?;
        product::resolve_service(&mut conn, service_id as u64).await
    }

    async fn api(&self, server_id: i64) -> Result<Arc<dyn ProxmoxApi>> {
        if let Some(api) = self
            .cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&server_id)
        {
            return Ok(api.clone());
        }
        let api: Arc<dyn ProxmoxApi> = match &self.clients {
            Clients::Fixed(api) => api.clone(),
            Clients::Servers(passwords) => {
                let mut conn = self.kvm.db().conn().await?;
                let row: Option<(String, String, i64, String, String)> = first(
                    &mut conn,
                    "SELECT hostname, ipaddress, port, username, accesshash FROM tblservers WHERE id = ? AND type = 'puqProxmoxKVM'",
                    (server_id,),
                )
                .await?;
                let (hostname, ip, port, username, access_hash) = row.ok_or_else(|| {
                    Error::NotFound(format!(
                        "server {server_id} is not a Proxmox KVM server entry"
                    ))
                })?;
                let password = passwords.get(&server_id).cloned().unwrap_or_default();
                let endpoint = Endpoint::from_server(
                    &hostname,
                    &ip,
                    u16::try_from(port).unwrap_or(0),
                    &username,
                    &password,
                    &access_hash,
                )?;
                let settings = self.kvm.settings().await?;
                Arc::new(Client::for_purpose(endpoint, &settings, Purpose::Cron)?)
            }
        };
        self.cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(server_id, api.clone());
        Ok(api)
    }
}

fn vmid_of(vm: &Vm) -> Result<Vmid> {
    let id = vm.vm_id.ok_or_else(|| {
        Error::Conflict(format!(
            "service {} has no VM id yet - reset it to set_ip",
            vm.service_id
        ))
    })?;
    Ok(Vmid::new(u64::from(id))?)
}

/// Polls the task in `vm.task_upid`: `None` while it runs, `Some(())` once it succeeded.
async fn poll(api: &dyn ProxmoxApi, vm: &mut Vm) -> Result<Option<()>> {
    let upid = Upid::parse(&vm.task_upid)?;
    match api.task_result(&upid).await {
        Ok(None) => Ok(None),
        Ok(Some(_)) => {
            vm.task_upid.clear();
            Ok(Some(()))
        }
        Err(e) => {
            // A failed task is not waited for again: the retry starts over from the state.
            vm.task_upid.clear();
            Err(e.into())
        }
    }
}

/// [`poll`] as a step's result: done once the task succeeded, else waiting with `what`
/// (`"clone task running"`).
async fn poll_step(api: &dyn ProxmoxApi, vm: &mut Vm, what: &str) -> Result<StepResult> {
    Ok(match poll(api, vm).await? {
        Some(()) => StepResult::Done,
        None => StepResult::Waiting(what.into()),
    })
}

/// The DNS servers of a VM's pools, in order, each once (two pools often share one); what
/// is not an address is left out.
fn unique_nameservers<'a>(servers: impl Iterator<Item = &'a str>) -> Vec<IpAddr> {
    let mut unique: Vec<IpAddr> = Vec::new();
    for server in servers.filter_map(|d| d.parse().ok()) {
        if !unique.contains(&server) {
            unique.push(server);
        }
    }
    unique
}

/// The key of the system disk: the first disk in the boot order, else `bootdisk`, else the
/// first data disk.
pub fn system_disk(config: &VmConfig) -> Option<String> {
    let is_data = |key: &str| {
        config
            .drive(key)
            .is_some_and(|d| !d.is_cdrom() && !d.volume.contains("cloudinit"))
    };
    if let Some(order) = config.get("boot").and_then(|b| b.strip_prefix("order=")) {
        if let Some(key) = order.split(';').find(|k| is_data(k)) {
            return Some(key.to_string());
        }
    }
    if let Some(key) = config.get("bootdisk").filter(|k| is_data(k)) {
        return Some(key.to_string());
    }
    disk_keys(config).into_iter().find(|k| is_data(k))
}

fn disk_keys(config: &VmConfig) -> Vec<String> {
    let mut keys: Vec<String> = config
        .values
        .keys()
        .filter(|k| {
            ["scsi", "virtio", "sata", "ide"].iter().any(|bus| {
                k.strip_prefix(bus)
                    .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            })
        })
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// The additional disk: the first data disk that is not the system disk.
fn additional_disk(config: &VmConfig, system: &str) -> Option<String> {
    disk_keys(config).into_iter().find(|k| {
        k != system
            && config
                .drive(k)
                .is_some_and(|d| !d.is_cdrom() && !d.volume.contains("cloudinit"))
    })
}

fn limits(config: &ServiceConfig, prefix: &str) -> DiskLimits {
    DiskLimits {
        mbps_rd: config.number(&format!("{prefix}_mbps_rd")),
        mbps_wr: config.number(&format!("{prefix}_mbps_wr")),
        iops_rd: config.int(&format!("{prefix}_iops_rd")),
        iops_wr: config.int(&format!("{prefix}_iops_wr")),
    }
}

impl Platform for LivePlatform {
    type Service = ResolvedService;

    async fn service(&self, vm: &Vm) -> Result<ResolvedService> {
        self.resolve(vm.service_id).await
    }

    async fn run_step(
        &self,
        step: Step,
        vm: &mut Vm,
        service: &ResolvedService,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        match step {
            Step::AllocateAddresses => {
                let assigned = alloc::allocate(self.kvm.db(), vm.service_id as u32).await?;
                let shown: Vec<&str> = assigned.iter().map(|a| a.address.as_str()).collect();
                ctx.events.info(
                    Some(vm.service_id),
                    format!(
                        "    addresses: {}",
                        if shown.is_empty() {
                            "none (DHCP)".to_string()
                        } else {
                            shown.join(", ")
                        }
                    ),
                );
                Ok(StepResult::Done)
            }
            Step::Clone => self.clone_vm(service, vm, ctx).await,
            Step::CreateDnsRecords => self.sync_dns(vm, Operation::Create, ctx).await,
            Step::ResyncDns => self.sync_dns(vm, Operation::Replace, ctx).await,
            Step::Migrate => self.migrate(service, vm, ctx).await,
            Step::SetCpuRam | Step::ChangeCpuRam => {
                let api = self.api(service.server_id).await?;
                let config = api.vm_config(&vm.vm_node, vmid_of(vm)?).await?;
                let cores = service.config.int("cpu_cores").max(1) as u32;
                let memory = service.config.ram_mib();
                if config.get("cores") == Some(&cores.to_string())
                    && config.get("memory") == Some(&memory.to_string())
                {
                    return Ok(StepResult::Skipped);
                }
                api.update_config_sync(
                    &vm.vm_node,
                    vmid_of(vm)?,
                    &ConfigUpdate::new().cores(cores).memory_mib(memory),
                )
                .await?;
                Ok(StepResult::Done)
            }
            Step::ResizeSystemDisk | Step::ChangeSystemDiskSize => {
                self.resize(service, vm, "system", ctx).await
            }
            Step::LimitSystemDisk | Step::ChangeSystemDiskLimits => {
                self.limit(service, vm, "system").await
            }
            Step::CreateAdditionalDisk | Step::ChangeAdditionalDisk => {
                self.create_additional_disk(service, vm).await
            }
            Step::ResizeAdditionalDisk | Step::ChangeAdditionalDiskSize => {
                self.resize(service, vm, "additional", ctx).await
            }
            Step::LimitAdditionalDisk | Step::ChangeAdditionalDiskLimits => {
                self.limit(service, vm, "additional").await
            }
            Step::ConfigureNetwork | Step::ChangeNetwork => self.network(service, vm).await,
            Step::ConfigureFirewall | Step::ChangeFirewall => self.firewall(service, vm).await,
            Step::UpdateAddresses => {
                // Grow or shrink to the new counts, keeping the addresses the VM has where it
                // can; DNS then matches exactly (the IP set follows in the firewall step).
                let assigned = alloc::resize(self.kvm.db(), vm.service_id as u32).await?;
                let shown: Vec<&str> = assigned.iter().map(|a| a.address.as_str()).collect();
                ctx.events.info(
                    Some(vm.service_id),
                    format!("    addresses: {}", shown.join(", ")),
                );
                self.sync_dns(vm, Operation::Replace, ctx).await
            }
            Step::Stop => {
                let api = self.api(service.server_id).await?;
                if !vm.task_upid.is_empty() && poll(api.as_ref(), vm).await?.is_none() {
                    return Ok(StepResult::Waiting("stop task running".into()));
                }
                if !api.vm_status(&vm.vm_node, vmid_of(vm)?).await?.running {
                    return Ok(StepResult::Done);
                }
                vm.task_upid = api.stop(&vm.vm_node, vmid_of(vm)?).await?.to_string();
                ctx.checkpoint(vm).await?;
                Ok(StepResult::Waiting("stop task running".into()))
            }
            Step::ConfigureCloudInit => self.cloud_init(service, vm).await,
            Step::Start | Step::StartAfterChange => {
                let api = self.api(service.server_id).await?;
                if !vm.task_upid.is_empty() {
                    return poll_step(api.as_ref(), vm, "start task running").await;
                }
                if api.vm_status(&vm.vm_node, vmid_of(vm)?).await?.running {
                    return Ok(StepResult::Done);
                }
                vm.task_upid = api.start(&vm.vm_node, vmid_of(vm)?).await?.to_string();
                ctx.checkpoint(vm).await?;
                poll_step(api.as_ref(), vm, "start task running").await
            }
            Step::VerifyRunning => {
                let api = self.api(service.server_id).await?;
                if !api.vm_status(&vm.vm_node, vmid_of(vm)?).await?.running {
                    return Ok(StepResult::Waiting(
                        "the VM does not report running yet".into(),
                    ));
                }
                let template = if vm.status.starts_with("cp_") {
                    "puqProxmoxKVM Upgrade Email"
                } else {
                    "puqProxmoxKVM VM is ready"
                };
                // Queued, not sent: the PHP side sends it after the run, and a cron killed
                // in between sends it on its next run (see `outbox`).
                if crate::outbox::queue(&ctx.db, vm.service_id, template).await? {
                    ctx.events
                        .info(Some(vm.service_id), format!("    email queued: {template}"));
                }
                Ok(StepResult::Done)
            }
            Step::TerminateVm => self.terminate(service, vm, ctx).await,
            Step::RemoveOldVm => self.remove_old_vm(service, vm, ctx).await,
        }
    }
}

impl LivePlatform {
    async fn clone_vm(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        let api = self.api(service.server_id).await?;
        if !vm.task_upid.is_empty() {
            return poll_step(api.as_ref(), vm, "clone task running").await;
        }
        let template = service.config.template_vmid().ok_or_else(|| {
            Error::validation(
                "template_vmid",
                "the product has no OS template - set one in its Module Settings",
            )
        })?;
        let vms = api.cluster_vms().await?;
        // Re-attach: a clone of ours for this service already exists (a crash after the clone
        // call but before the checkpoint, or a retried step).
        if let Some(id) = vm.vm_id {
            if let Some(existing) = vms.iter().find(|v| v.vmid == id) {
                let node = existing.node.clone().unwrap_or_default();
                let config = api.vm_config(&node, Vmid::new(u64::from(id))?).await?;
                if self.stamped(&config, vm.service_id) {
                    vm.vm_node = node;
                    if config.get("lock") == Some("clone") {
                        return Ok(StepResult::Waiting("clone still running".into()));
                    }
                    return Ok(StepResult::Done);
                }
            }
        }
        let template_node = vms
            .iter()
            .find(|v| v.vmid == template)
            .and_then(|v| v.node.clone())
            .ok_or_else(|| Error::Proxmox(format!("template {template} does not exist on the cluster - check the product's OS template")))?;
        // The VMID: at or above the product's first VMID, free on the cluster, retried on a clash.
        let first = service.config.int("first_vmid").max(100);
        // A reinstall keeps its VMID when it is still free.
        let kept = match vm.vm_id {
            Some(id) if api.vmid_is_free(Vmid::new(u64::from(id))?).await? => Some(id),
            _ => None,
        };
        let mut candidate = match kept {
            Some(id) => id,
            None => api.next_vmid().await?.get().max(first as u32),
        };
        while vms.iter().any(|v| v.vmid == candidate)
            || !api.vmid_is_free(Vmid::new(u64::from(candidate))?).await?
        {
            candidate += 1;
        }
        if vm.vm_name.is_empty() {
            vm.vm_name = vm_name(
                service.config.text("vm_name_rule"),
                service.client_id,
                vm.service_id,
            );
        }
        vm.vm_node = template_node.clone();
        let storage = Some(service.config.text("system_disk_storage").to_string())
            .filter(|s| s != "auto" && service.config.full_clone());
        let mut clashes = 0;
        let upid = loop {
            // Checkpointed before the call: if the process dies after Proxmox accepted the
            // clone, the next pass finds the stamped VM at this id and re-attaches to it.
            vm.vm_id = Some(candidate);
            ctx.checkpoint(vm).await?;
            let request = CloneRequest {
                newid: Vmid::new(u64::from(candidate))?,
                name: Some(vm.vm_name.clone()),
                full: service.config.full_clone(),
                target: None,
                storage: storage.clone(),
                description: Some(self.stamp(vm.service_id)),
            };
            let err = match api
                .clone_vm(&template_node, Vmid::new(u64::from(template))?, &request)
                .await
            {
                Ok(upid) => break upid,
                Err(err) => err,
            };
            // The id is taken now: either our own clone went through although the answer was
            // lost (a timeout), or another runner cloned to the same free id first.
            if clashes >= 32 || api.vmid_is_free(Vmid::new(u64::from(candidate))?).await? {
                return Err(err.into());
            }
            if self.owns(api.as_ref(), vm, candidate).await? {
                return Ok(StepResult::Waiting(
                    "clone accepted, its answer was lost - re-attached".into(),
                ));
            }
            clashes += 1;
            // Runners deploying at once all see the same next free id: step past the ones just
            // taken and spread by service, so the next try does not meet the same runners.
            let spread = (vm.service_id.unsigned_abs() as u32).wrapping_add(clashes) % 8;
            candidate = api
                .next_vmid()
                .await?
                .get()
                .max(candidate + 1)
                .saturating_add(spread);
            while !api.vmid_is_free(Vmid::new(u64::from(candidate))?).await? {
                candidate += 1;
            }
            ctx.events.info(
                Some(vm.service_id),
                format!("    VMID clash, trying {candidate}"),
            );
        };
        vm.task_upid = upid.to_string();
        ctx.checkpoint(vm).await?;
        ctx.events.info(
            Some(vm.service_id),
            format!("    clone {template} -> {candidate} on {template_node}"),
        );
        poll_step(api.as_ref(), vm, "clone task running").await
    }

    /// Whether VM `vmid` carries this service's ownership stamp (`vm.vm_node` follows it).
    async fn owns(&self, api: &dyn ProxmoxApi, vm: &mut Vm, vmid: u32) -> Result<bool> {
        let Some(node) = api.find_vm(vmid).await?.and_then(|v| v.node) else {
            return Ok(false);
        };
        let config = api.vm_config(&node, Vmid::new(u64::from(vmid))?).await?;
        let ours = self.stamped(&config, vm.service_id);
        if ours {
            vm.vm_node = node;
        }
        Ok(ours)
    }

    async fn sync_dns(&self, vm: &mut Vm, op: Operation, ctx: &StepContext) -> Result<StepResult> {
        // A provider's passing failure (a 5xx, a busy backend) is tried again a few times here:
        // the deploy does not wait for DNS, so a record that fails now would stay missing until
        // an admin resyncs. Every operation is idempotent (create is a union with what exists).
        let mut attempt = 0u64;
        let report = loop {
            attempt += 1;
            let report = crate::dns::sync::sync_service(
                &self.kvm,
                vm.service_id as u64,
                op,
                ApplyMode::Batched,
                None,
            )
            .await;
            let failed = match &report {
                Ok(r) => r.events.iter().filter(|e| !e.ok).count(),
                Err(_) => 0,
            };
            if failed == 0 || attempt >= DNS_ATTEMPTS {
                break report;
            }
            ctx.events.info(
                Some(vm.service_id),
                format!("    DNS: {failed} record change(s) failed, trying again (attempt {attempt} of {DNS_ATTEMPTS})"),
            );
            tokio::time::sleep(Duration::from_millis(500 * attempt)).await;
        };
        match report {
            Ok(report) => {
                for event in &report.events {
                    let line = format!("    · {}", event.line());
                    if event.ok {
                        ctx.events.info(Some(vm.service_id), line);
                    } else {
                        ctx.events
                            .error(Some(vm.service_id), "dns", event.record.clone(), line);
                    }
                }
                Ok(StepResult::Done)
            }
            // DNS never blocks a deploy: logged, and Set DNS records can run later.
            Err(err) => {
                ctx.events.error(
                    Some(vm.service_id),
                    "dns",
                    format!("service {}", vm.service_id),
                    format!("    DNS skipped: {err}"),
                );
                Ok(StepResult::Done)
            }
        }
    }

    async fn migrate(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        let api = self.api(service.server_id).await?;
        if !vm.task_upid.is_empty() {
            return match poll(api.as_ref(), vm).await? {
                Some(()) => {
                    if let Some(target) = vm.data.get("target_node").and_then(Value::as_str) {
                        vm.vm_node = target.to_string();
                    }
                    Ok(StepResult::Done)
                }
                None => Ok(StepResult::Waiting("migration running".into())),
            };
        }
        if !ctx.settings.migration_enabled {
            return Ok(StepResult::Skipped);
        }
        // Where the VM really is: a migration finished while its runner was gone leaves the
        // row naming the old node.
        let id = vm.vm_id.unwrap_or_default();
        if let Some(node) = api.find_vm(id).await?.and_then(|v| v.node) {
            vm.vm_node = node;
        }
        let storage =
            Some(service.config.text("system_disk_storage").to_string()).filter(|s| s != "auto");
        let target = match service.config.target_node() {
            Some(node) => node.to_string(),
            None => {
                // "Automatically": the online node with the most free memory among those that
                // have the product's storage.
                let mut best: Option<(u64, String)> = None;
                for node in api.nodes().await?.into_iter().filter(|n| n.online) {
                    if let Some(storage) = &storage {
                        let storages = api.storages(&node.node, Some("images")).await?;
                        if !storages.iter().any(|s| &s.storage == storage && s.active) {
                            continue;
                        }
                    }
                    if best
                        .as_ref()
                        .is_none_or(|(free, _)| node.free_memory() > *free)
                    {
                        best = Some((node.free_memory(), node.node.clone()));
                    }
                }
                match best {
                    Some((_, node)) => node,
                    None => {
                        ctx.events.info(
                            Some(vm.service_id),
                            "    no node has the product's storage: the VM stays on the template's node",
                        );
                        return Ok(StepResult::Skipped);
                    }
                }
            }
        };
        if target == vm.vm_node {
            return Ok(StepResult::Skipped);
        }
        vm.data.insert("target_node".into(), target.clone().into());
        let upid = api
            .migrate(
                &vm.vm_node,
                vmid_of(vm)?,
                &MigrateRequest {
                    target: target.clone(),
                    online: false,
                    target_storage: storage,
                    with_local_disks: true,
                },
            )
            .await?;
        vm.task_upid = upid.to_string();
        ctx.checkpoint(vm).await?;
        ctx.events.info(
            Some(vm.service_id),
            format!("    migrate {} -> {target}", vm.vm_node),
        );
        match poll(api.as_ref(), vm).await? {
            Some(()) => {
                vm.vm_node = target;
                Ok(StepResult::Done)
            }
            None => Ok(StepResult::Waiting("migration running".into())),
        }
    }

    /// The VM's config and the key of its `system` or `additional` disk (`None`: no such disk).
    ///
    /// # Errors
    /// [`Error::Proxmox`] when the VM has no system disk at all.
    async fn disk(
        &self,
        api: &dyn ProxmoxApi,
        vm: &Vm,
        which: &str,
    ) -> Result<(VmConfig, Option<String>)> {
        let config = api.vm_config(&vm.vm_node, vmid_of(vm)?).await?;
        let system = system_disk(&config).ok_or_else(|| {
            Error::Proxmox(format!(
                "VM {} has no system disk in its boot order",
                vm.vm_id.unwrap_or_default()
            ))
        })?;
        let key = if which == "system" {
            Some(system)
        } else {
            additional_disk(&config, &system)
        };
        Ok((config, key))
    }

    async fn resize(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        which: &str,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        let wanted_gb = service.config.int(&format!("{which}_disk_gb"));
        if wanted_gb == 0 {
            return Ok(StepResult::Skipped);
        }
        let api = self.api(service.server_id).await?;
        let (config, Some(key)) = self.disk(api.as_ref(), vm, which).await? else {
            return Ok(StepResult::Skipped);
        };
        let current = config.drive(&key).and_then(|d| d.size_bytes()).unwrap_or(0);
        if current > wanted_gb << 30 {
            // Disks never shrink: a smaller package size is refused and logged, not retried.
            ctx.events.error(
                Some(vm.service_id),
                "resize",
                format!("{key} to {wanted_gb} GB"),
                format!(
                    "    the {which} disk stays at {} GB: disks never shrink (the package asks for {wanted_gb} GB)",
                    current >> 30
                ),
            );
            return Ok(StepResult::Skipped);
        }
        if current == wanted_gb << 30 {
            return Ok(StepResult::Skipped);
        }
        api.resize_disk(&vm.vm_node, vmid_of(vm)?, &key, &format!("{wanted_gb}G"))
            .await?;
        Ok(StepResult::Done)
    }

    async fn limit(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        which: &str,
    ) -> Result<StepResult> {
        let wanted = limits(&service.config, &format!("{which}_disk"));
        let api = self.api(service.server_id).await?;
        let (config, Some(key)) = self.disk(api.as_ref(), vm, which).await? else {
            return Ok(StepResult::Skipped);
        };
        let Some(drive) = config.drive(&key) else {
            return Ok(StepResult::Skipped);
        };
        let limited = drive.with_limits(&wanted);
        if limited.encode() == drive.encode() {
            return Ok(StepResult::Skipped);
        }
        api.update_config_sync(
            &vm.vm_node,
            vmid_of(vm)?,
            &ConfigUpdate::new().drive(&key, &limited)?,
        )
        .await?;
        Ok(StepResult::Done)
    }

    async fn create_additional_disk(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
    ) -> Result<StepResult> {
        let size = service.config.int("additional_disk_gb");
        if size == 0 {
            return Ok(StepResult::Skipped);
        }
        let api = self.api(service.server_id).await?;
        let config = api.vm_config(&vm.vm_node, vmid_of(vm)?).await?;
        let system = system_disk(&config).unwrap_or_else(|| "scsi0".into());
        if additional_disk(&config, &system).is_some() {
            return Ok(StepResult::Skipped);
        }
        let storage = match service.config.text("additional_disk_storage") {
            "same" | "" => config
                .drive(&system)
                .and_then(|d| d.volume.split(':').next().map(str::to_string))
                .unwrap_or_else(|| "local-lvm".into()),
            other => other.to_string(),
        };
        let bus: String = system
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let key = (1..16)
            .map(|n| format!("{bus}{n}"))
            .find(|k| config.get(k).is_none())
            .unwrap_or_else(|| format!("{bus}1"));
        let drive = Drive::new_volume(&storage, u32::try_from(size).unwrap_or(u32::MAX))?;
        api.update_config_sync(
            &vm.vm_node,
            vmid_of(vm)?,
            &ConfigUpdate::new().drive(&key, &drive)?,
        )
        .await?;
        Ok(StepResult::Done)
    }

    async fn network(&self, service: &ResolvedService, vm: &mut Vm) -> Result<StepResult> {
        let api = self.api(service.server_id).await?;
        let config = api.vm_config(&vm.vm_node, vmid_of(vm)?).await?;
        let assigned = alloc::addresses(self.kvm.db(), vm.service_id as u32).await?;
        let current = config.net(0).transpose()?;
        let mut device = match &current {
            Some(device) => device.clone(),
            None => NetDevice::parse("virtio")?,
        };
        let (bridge, vlan) = match assigned.first() {
            Some(a) if service.config.on("auto_bridge_vlan") => (a.bridge.clone(), a.vlan),
            _ => (
                service.config.text("bridge").to_string(),
                service.config.int("vlan") as u16,
            ),
        };
        if !service.config.text("nic_model").is_empty() {
            device.model = service.config.text("nic_model").to_string();
        }
        device.bridge = Some(bridge);
        device.tag = (vlan > 0).then_some(vlan);
        let rate = service.config.number("bandwidth_mbps");
        device.rate = (rate > 0.0).then_some(rate);
        device.firewall = Some(true);
        // The MAC the VM had before a reinstall; otherwise the clone's is recorded.
        let mut conn = self.kvm.db().stateless_conn().await?;
        let kept: Option<String> = first(
            &mut conn,
            "SELECT vm_net0_mac FROM puqProxmoxKVM_vm_info WHERE service_id = ?",
            (vm.service_id,),
        )
        .await?;
        drop(conn);
        match kept.filter(|m| !m.is_empty()) {
            Some(mac) => device.macaddr = Some(mac),
            None => {
                if let Some(mac) = &device.macaddr {
                    self.keep_mac(vm.service_id, mac).await?;
                }
            }
        }
        if current.as_ref() == Some(&device) {
            return Ok(StepResult::Skipped);
        }
        api.update_config_sync(
            &vm.vm_node,
            vmid_of(vm)?,
            &ConfigUpdate::new().net(0, &device)?,
        )
        .await?;
        Ok(StepResult::Done)
    }

    async fn firewall(&self, service: &ResolvedService, vm: &mut Vm) -> Result<StepResult> {
        let api = self.api(service.server_id).await?;
        let (node, vmid) = (vm.vm_node.clone(), vmid_of(vm)?);
        let on = |key: &str| service.config.on(key);
        api.set_firewall_options(
            &node,
            vmid,
            &FirewallOptions {
                enable: Some(on("firewall_enable")),
                dhcp: Some(on("firewall_dhcp")),
                ndp: Some(on("firewall_ndp")),
                radv: Some(on("firewall_radv")),
                macfilter: Some(on("firewall_macfilter")),
                ipfilter: Some(on("firewall_ipfilter")),
                policy_in: Some(service.config.text("firewall_policy_in").to_string()),
                policy_out: Some(service.config.text("firewall_policy_out").to_string()),
                log_level_in: Some(service.config.text("firewall_log_in").to_string()),
                log_level_out: Some(service.config.text("firewall_log_out").to_string()),
            },
        )
        .await?;
        // The anti-spoofing IP set holds exactly the VM's addresses.
        let assigned = alloc::addresses(self.kvm.db(), vm.service_id as u32).await?;
        let wanted: Vec<String> = assigned.iter().map(|a| a.address.clone()).collect();
        if !api.ip_sets(&node, vmid).await?.iter().any(|s| s == IP_SET) {
            api.create_ip_set(
                &node,
                vmid,
                IP_SET,
                "addresses of this VM (PUQ Proxmox KVM)",
            )
            .await?;
        }
        let present = api.ip_set_entries(&node, vmid, IP_SET).await?;
        let bare = |cidr: &str| cidr.split('/').next().unwrap_or_default().to_string();
        for entry in &present {
            if !wanted.contains(&bare(entry)) {
                api.delete_ip_set_entry(&node, vmid, IP_SET, entry).await?;
            }
        }
        for address in &wanted {
            if !present.iter().any(|p| bare(p) == *address) {
                api.add_ip_set_entry(&node, vmid, IP_SET, address).await?;
            }
        }
        Ok(StepResult::Done)
    }

    async fn cloud_init(&self, service: &ResolvedService, vm: &mut Vm) -> Result<StepResult> {
        let api = self.api(service.server_id).await?;
        let (node, vmid) = (vm.vm_node.clone(), vmid_of(vm)?);
        let assigned = alloc::addresses(self.kvm.db(), vm.service_id as u32).await?;
        let v4 = assigned
            .iter()
            .find(|a| a.address.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv4()));
        let v6 = assigned
            .iter()
            .find(|a| a.address.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()));
        let ipconfig = IpConfig {
            v4: match v4 {
                Some(a) => Some(Ip4Config::Static {
                    address: parse(&a.address)?,
                    prefix: a.prefix,
                    gateway: a.gateway.parse().ok(),
                }),
                None if service.config.on("dhcp_ipv4") => Some(Ip4Config::Dhcp),
                None => None,
            },
            v6: match v6 {
                Some(a) => Some(Ip6Config::Static {
                    address: parse(&a.address)?,
                    prefix: a.prefix,
                    gateway: a.gateway.parse().ok(),
                }),
                None if service.config.on("dhcp_ipv6") => Some(Ip6Config::Dhcp),
                None => None,
            },
        };
        let nameservers = unique_nameservers(
            assigned
                .iter()
                .flat_map(|a: &Assigned| a.dns.iter().map(String::as_str)),
        );
        let mut update = ConfigUpdate::new().ipconfig(0, &ipconfig)?;
        let user = service.config.text("os_username");
        if !user.is_empty() {
            update = update.ciuser(user);
        }
        if let Some(password) = self.password(vm.service_id).await? {
            update = update.cipassword(&password);
        }
        if !nameservers.is_empty() {
            update = update.nameservers(&nameservers);
        }
        let domain = service
            .config
            .text("main_domain")
            .trim_matches('.')
            .to_string();
        if !domain.is_empty() {
            update = update.searchdomain(&domain);
        }
        api.update_config_sync(&node, vmid, &update).await?;
        api.regenerate_cloudinit(&node, vmid).await?;
        Ok(StepResult::Done)
    }

    /// Terminate: stop the VM (gracefully, then forced after 2 minutes), delete its backups and
    /// DNS records (best effort), delete it with purge after the ownership check, release its
    /// addresses. The VM is not destroyed when its stamp does not name this service and
    /// installation, and a refused delete goes to `error_terminate` with the reason (addresses
    /// kept, no automatic retry).
    async fn terminate(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        let flag = |vm: &Vm, key: &str| vm.data.get(key).and_then(Value::as_bool).unwrap_or(false);
        let Some(id) = vm.vm_id else {
            // Never cloned: nothing on Proxmox.
            return self.release(vm, ctx).await;
        };
        let api = self.api(service.server_id).await?;
        let vmid = Vmid::new(u64::from(id))?;
        if flag(vm, "deleting") && !vm.task_upid.is_empty() {
            return match poll(api.as_ref(), vm).await {
                Ok(None) => Ok(StepResult::Waiting("delete task running".into())),
                Ok(Some(())) => self.release(vm, ctx).await,
                Err(err) => Ok(StepResult::Halt {
                    status: "error_terminate",
                    reason: format!("Proxmox could not delete VM {id} - {err}"),
                }),
            };
        }
        let Some(found) = api.find_vm(id).await? else {
            ctx.events.info(
                Some(vm.service_id),
                format!("    VM {id} is no longer on Proxmox"),
            );
            return self.release(vm, ctx).await;
        };
        vm.vm_node = found.node.clone().unwrap_or_else(|| vm.vm_node.clone());
        let config = api.vm_config(&vm.vm_node, vmid).await?;
        if !self.stamped(&config, vm.service_id) {
            return Ok(StepResult::Halt {
                status: "error_terminate",
                reason: format!(
                    "VM {id} on {} does not carry this service's ownership stamp ({}) - nothing was destroyed; check the VM, then reset to terminate or remove",
                    vm.vm_node,
                    self.stamp(vm.service_id)
                ),
            });
        }
        if !vm.task_upid.is_empty() && poll(api.as_ref(), vm).await?.is_none() {
            return Ok(StepResult::Waiting("stop task running".into()));
        }
        if api.vm_status(&vm.vm_node, vmid).await?.running {
            let now = chrono::Utc::now().timestamp();
            let since = vm.data.get("shutdown_at").and_then(Value::as_i64);
            let upid = match since {
                None => {
                    vm.data.insert("shutdown_at".into(), now.into());
                    Some(
                        api.shutdown(&vm.vm_node, vmid, Some(Duration::from_secs(120)))
                            .await?,
                    )
                }
                Some(at) if now - at >= 120 && !flag(vm, "forced") => {
                    vm.data.insert("forced".into(), true.into());
                    Some(api.stop(&vm.vm_node, vmid).await?)
                }
                Some(at) if now - at >= 180 => {
                    return Err(Error::Proxmox(format!(
                        "VM {id} did not stop within 3 minutes - check it on Proxmox"
                    )));
                }
                Some(_) => None,
            };
            if let Some(upid) = upid {
                vm.task_upid = upid.to_string();
            }
            ctx.checkpoint(vm).await?;
            return Ok(StepResult::Waiting("waiting for the VM to stop".into()));
        }
        if !flag(vm, "backups_done") {
            self.delete_backups(api.as_ref(), vm, vmid, ctx).await;
            vm.data.insert("backups_done".into(), true.into());
            ctx.checkpoint(vm).await?;
        }
        if !flag(vm, "dns_done") {
            self.sync_dns(vm, Operation::Delete, ctx).await?;
            vm.data.insert("dns_done".into(), true.into());
            ctx.checkpoint(vm).await?;
        }
        match api.delete_vm(&vm.vm_node, vmid, true).await {
            Ok(upid) => {
                vm.task_upid = upid.to_string();
                vm.data.insert("deleting".into(), true.into());
                ctx.checkpoint(vm).await?;
                match poll(api.as_ref(), vm).await {
                    Ok(None) => Ok(StepResult::Waiting("delete task running".into())),
                    Ok(Some(())) => self.release(vm, ctx).await,
                    Err(err) => Ok(StepResult::Halt {
                        status: "error_terminate",
                        reason: format!("Proxmox could not delete VM {id} - {err}"),
                    }),
                }
            }
            Err(err) => Ok(StepResult::Halt {
                status: "error_terminate",
                reason: format!("Proxmox refused to delete VM {id} - {err}"),
            }),
        }
    }

    /// Reinstall: the old VM goes (after the ownership check); its addresses, VMID and MAC stay
    /// for the new clone.
    async fn remove_old_vm(
        &self,
        service: &ResolvedService,
        vm: &mut Vm,
        ctx: &StepContext,
    ) -> Result<StepResult> {
        let Some(id) = vm.vm_id else {
            return Ok(StepResult::Done);
        };
        let api = self.api(service.server_id).await?;
        let vmid = Vmid::new(u64::from(id))?;
        if !vm.task_upid.is_empty() && poll(api.as_ref(), vm).await?.is_none() {
            return Ok(StepResult::Waiting("waiting for the old VM".into()));
        }
        let Some(found) = api.find_vm(id).await? else {
            return Ok(StepResult::Done);
        };
        vm.vm_node = found.node.clone().unwrap_or_else(|| vm.vm_node.clone());
        let config = api.vm_config(&vm.vm_node, vmid).await?;
        if !self.stamped(&config, vm.service_id) {
            return Err(Error::Conflict(format!(
                "VM {id} on {} does not carry this service's ownership stamp - it was not removed; check it on Proxmox",
                vm.vm_node
            )));
        }
        if let Some(mac) = config.net(0).transpose()?.and_then(|n| n.macaddr) {
            // Kept for the new clone's NIC (the network step reads it back).
            self.keep_mac(vm.service_id, &mac).await?;
        }
        let upid = if api.vm_status(&vm.vm_node, vmid).await?.running {
            api.stop(&vm.vm_node, vmid).await?
        } else {
            api.delete_vm(&vm.vm_node, vmid, true).await?
        };
        vm.task_upid = upid.to_string();
        ctx.checkpoint(vm).await?;
        Ok(StepResult::Waiting("removing the old VM".into()))
    }

    /// Deletes the VM's backups on every backup storage of its node; failures are logged.
    async fn delete_backups(&self, api: &dyn ProxmoxApi, vm: &Vm, vmid: Vmid, ctx: &StepContext) {
        let storages = match api.storages(&vm.vm_node, Some("backup")).await {
            Ok(storages) => storages,
            Err(err) => {
                ctx.events.error(
                    Some(vm.service_id),
                    "terminate",
                    "backups",
                    format!("    backups not listed: {err}"),
                );
                return;
            }
        };
        for storage in storages {
            let volumes = api
                .storage_content(&vm.vm_node, &storage.storage, Some("backup"), Some(vmid))
                .await
                .unwrap_or_default();
            for volume in volumes.iter().filter(|v| v.vmid == Some(vmid.get())) {
                match api
                    .delete_volume(&vm.vm_node, &storage.storage, &volume.volid)
                    .await
                {
                    Ok(_) => ctx.events.info(
                        Some(vm.service_id),
                        format!("    backup deleted: {}", volume.volid),
                    ),
                    Err(err) => ctx.events.error(
                        Some(vm.service_id),
                        "terminate",
                        volume.volid.clone(),
                        format!("    backup {} not deleted: {err}", volume.volid),
                    ),
                }
            }
        }
    }

    /// The last act of terminate: the addresses go back to their pools.
    async fn release(&self, vm: &mut Vm, ctx: &StepContext) -> Result<StepResult> {
        let released = alloc::release(self.kvm.db(), vm.service_id as u32).await?;
        ctx.events.info(
            Some(vm.service_id),
            format!("    {released} addresses released"),
        );
        vm.task_upid.clear();
        Ok(StepResult::Done)
    }

    /// Redeploy (VM Management, only when the VM is not ready): destroys the VM on Proxmox
    /// after the ownership check, removes its DNS records, releases its addresses, clears its
    /// run log and sets `creation`, so the next cron run deploys it from scratch.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the VM is ready, or its stamp does not name this service
    /// (nothing is destroyed then); [`Error::Proxmox`] when Proxmox refuses the stop or delete.
    pub async fn redeploy(&self, service_id: i64, timeout: Duration) -> Result<()> {
        let service = self.resolve(service_id).await?;
        let mut conn = self.kvm.db().conn().await?;
        let row: Option<(String, Option<u32>)> = first(
            &mut conn,
            "SELECT vm_status, vm_id FROM puqProxmoxKVM_vm_info WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        drop(conn);
        let (status, vm_id) = row.ok_or_else(|| super::no_vm_record(service_id))?;
        if status == "ready" {
            return Err(Error::Conflict(
                "the VM is ready: Redeploy is offered only for a VM that is not".into(),
            ));
        }
        if let Some(id) = vm_id {
            let api = self.api(service.server_id).await?;
            if let Some(found) = api.find_vm(id).await? {
                let node = found.node.clone().unwrap_or_default();
                let vmid = Vmid::new(u64::from(id))?;
                let config = api.vm_config(&node, vmid).await?;
                if !self.stamped(&config, service_id) {
                    return Err(Error::Conflict(format!(
                        "VM {id} on {node} does not carry this service's ownership stamp - nothing was destroyed; check the VM on Proxmox"
                    )));
                }
                let poll = Duration::from_millis(250);
                if api.vm_status(&node, vmid).await?.running {
                    let upid = api.stop(&node, vmid).await?;
                    api.wait_for_task(&upid, poll, timeout).await?;
                }
                let upid = api.delete_vm(&node, vmid, true).await?;
                api.wait_for_task(&upid, poll, timeout).await?;
            }
        }
        let _ = crate::dns::sync::sync_service(
            &self.kvm,
            service_id as u64,
            Operation::Delete,
            ApplyMode::Batched,
            None,
        )
        .await;
        alloc::release(self.kvm.db(), service_id as u32).await?;
        let mut conn = self.kvm.db().conn().await?;
        conn.exec_drop(
            "DELETE FROM puq_proxmox_kvm_vm_runs WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        conn.exec_drop(
            "UPDATE puqProxmoxKVM_vm_info SET vm_status = 'creation', vm_id = NULL, vm_name = '', vm_node = '', vm_net0_mac = '', \
             vm_task_upid = '', vm_pipeline_data = NULL, vm_attempts = 0, vm_last_error = NULL, vm_next_attempt_at = NULL, \
             vm_run_id = NULL, vm_dns_managed = NULL WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        drop(conn);
        super::list_index::sync(self.kvm.db(), Some(service_id))
            .await
            .map(|_| ())
    }

    /// Suspend (`running = false`: stop) or unsuspend (`true`: start) the VM, waiting up to
    /// `timeout` for the task; recorded in the VM's run log either way.
    pub async fn set_power(&self, service_id: i64, running: bool, timeout: Duration) -> Result<()> {
        let started = std::time::Instant::now();
        let (kind, label) = if running {
            ("unsuspend", "Start the VM")
        } else {
            ("suspend", "Stop the VM")
        };
        let result = async {
            let service = self.resolve(service_id).await?;
            let Some((id, node)) = self.placement(service_id).await? else {
                return Ok("skip (no VM)".to_string());
            };
            let api = self.api(service.server_id).await?;
            let vmid = Vmid::new(u64::from(id))?;
            if api.vm_status(&node, vmid).await?.running == running {
                return Ok("skip (no change)".to_string());
            }
            let upid = if running {
                api.start(&node, vmid).await?
            } else {
                api.stop(&node, vmid).await?
            };
            api.wait_for_task(&upid, Duration::from_millis(250), timeout)
                .await?;
            Ok::<_, Error>("success".to_string())
        }
        .await;
        let shown = match &result {
            Ok(text) => text.clone(),
            Err(err) => format!("error: {err}"),
        };
        let mut conn = self.kvm.db().conn().await?;
        super::runlog::record_action(
            &mut conn,
            service_id,
            kind,
            label,
            &shown,
            started.elapsed(),
        )
        .await?;
        result.map(|_| ())
    }

    /// Asks Proxmox to stop the VM now (TerminateAccount), best effort: cron's terminate step
    /// checks and finishes the stop either way.
    pub async fn stop_now(&self, service_id: i64) -> Result<()> {
        let service = self.resolve(service_id).await?;
        let Some((id, node)) = self
            .placement(service_id)
            .await?
            .filter(|(_, node)| !node.is_empty())
        else {
            return Ok(());
        };
        let api = self.api(service.server_id).await?;
        let vmid = Vmid::new(u64::from(id))?;
        if api.vm_status(&node, vmid).await?.running {
            api.stop(&node, vmid).await?;
        }
        Ok(())
    }

    /// Where the service's VM is: its VMID and node, once it has been cloned.
    async fn placement(&self, service_id: i64) -> Result<Option<(u32, String)>> {
        let mut conn = self.kvm.db().stateless_conn().await?;
        let row: Option<(Option<u32>, String)> = first(
            &mut conn,
            "SELECT vm_id, vm_node FROM puqProxmoxKVM_vm_info WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        Ok(row.and_then(|(id, node)| Some((id?, node))))
    }

    /// Records the MAC address the VM's first NIC keeps across a reinstall.
    async fn keep_mac(&self, service_id: i64, mac: &str) -> Result<()> {
        let mut conn = self.kvm.db().stateless_conn().await?;
        conn.exec_drop(
            "UPDATE puqProxmoxKVM_vm_info SET vm_net0_mac = ? WHERE service_id = ?",
            (mac, service_id),
        )
        .await?;
        Ok(())
    }

    /// The service's password as CreateAccount handed it over (sealed in the VM row).
    async fn password(&self, service_id: i64) -> Result<Option<String>> {
        let mut conn = self.kvm.db().stateless_conn().await?;
        let sealed: Option<Option<String>> = first(
            &mut conn,
            "SELECT vm_password_sealed FROM puqProxmoxKVM_vm_info WHERE service_id = ?",
            (service_id,),
        )
        .await?;
        match sealed.flatten().filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(sealed) => Ok(Some(
                SecretBox::new(self.kvm.encryption_key())?.open(&sealed)?,
            )),
        }
    }
}

fn parse<T: std::str::FromStr>(text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::Database(format!("'{text}' is not an address")))
}

/// The VM name from the product's rule (`{client_id}-{service_id}`, `{unixtime}`, ...).
pub fn vm_name(rule: &str, client_id: i64, service_id: i64) -> String {
    let now = chrono::Utc::now();
    let mut name = rule
        .replace("{client_id}", &client_id.to_string())
        .replace("{service_id}", &service_id.to_string())
        .replace("{unixtime}", &now.timestamp().to_string())
        .replace("{year}", &now.format("%Y").to_string())
        .replace("{month}", &now.format("%m").to_string())
        .replace("{day}", &now.format("%d").to_string())
        .replace("{hour}", &now.format("%H").to_string())
        .replace("{minute}", &now.format("%M").to_string())
        .replace("{second}", &now.format("%S").to_string());
    let seed = now.timestamp_subsec_nanos() as u64
        ^ (service_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut state = seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for (macro_name, alphabet) in [
        ("random_digit_", "0123456789"),
        ("random_letter_", "abcdefghijklmnopqrstuvwxyz"),
    ] {
        while let Some(start) = name.find(&format!("{{{macro_name}")) {
            let rest = &name[start + macro_name.len() + 1..];
            let Some(end) = rest.find('}') else { break };
            let count: usize = rest[..end].parse().unwrap_or(1).min(32);
            let random: String = (0..count)
                .map(|_| alphabet.as_bytes()[(next() % alphabet.len() as u64) as usize] as char)
                .collect();
            name.replace_range(start..start + macro_name.len() + 2 + end, &random);
        }
    }
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .trim_matches('-')
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dns_server_is_passed_once_in_pool_order() {
        let servers = [
            "192.0.2.53",
            "2001:db8::53",
            "not an address",
            "192.0.2.53",
            "1.1.1.1",
        ];
        let unique: Vec<String> = unique_nameservers(servers.into_iter())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(unique, ["192.0.2.53", "2001:db8::53", "1.1.1.1"]);
    }

    #[test]
    fn vm_names_follow_the_rule() {
        assert_eq!(vm_name("{client_id}-{service_id}", 7, 5546), "7-5546");
        let n = vm_name("vps-{random_digit_4}-{random_letter_3}", 1, 2);
        assert_eq!(n.len(), "vps-1234-abc".len(), "{n}");
        assert!(
            n[4..8].chars().all(|c| c.is_ascii_digit())
                && n[9..].chars().all(|c| c.is_ascii_lowercase()),
            "{n}"
        );
        assert!(vm_name("{service_id}-{unixtime}", 1, 5546).starts_with("5546-17"));
    }
}
