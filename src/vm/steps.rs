//! The VM states and the pipelines that connect them.
//!
//! `vm_status` names the **last completed step**. Each pipeline is a chain of transitions
//! `from -> to`; the step that makes the transition is named by [`Step`].
//!
//! - deploy: `creation -> set_ip -> clone -> set_dns -> migrated -> set_cpu_ram ->
//!   set_system_disk_size -> set_system_disk_bandwidth -> set_created_additional_disk ->
//!   set_additional_disk_size -> set_additional_disk_bandwidth -> set_network -> set_firewall ->
//!   set_cloudinit -> starting -> ready`
//! - change package: `change_package -> cp_update_ip -> cp_stop -> cp_cpu_ram ->
//!   cp_system_disk_size -> cp_system_disk_bandwidth -> cp_additional_disk ->
//!   cp_additional_disk_size -> cp_additional_disk_bandwidth -> cp_network -> cp_firewall ->
//!   cp_start -> ready`
//! - reinstall: `reinstall -> set_ip` (the old VM removed), then the deploy chain
//! - DNS resync: `set_dns_records -> ready`
//! - terminate: `terminate -> remove`, or `error_terminate` (admin action needed)

use serde::Serialize;

/// What a pipeline run is, for the run log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    Deploy,
    ChangePackage,
    Reinstall,
    SetDnsRecords,
    Terminate,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Deploy => "deploy",
            RunKind::ChangePackage => "change_package",
            RunKind::Reinstall => "reinstall",
            RunKind::SetDnsRecords => "set_dns_records",
            RunKind::Terminate => "terminate",
        }
    }
}

/// A step of a pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    AllocateAddresses,
    Clone,
    CreateDnsRecords,
    Migrate,
    SetCpuRam,
    ResizeSystemDisk,
    LimitSystemDisk,
    CreateAdditionalDisk,
    ResizeAdditionalDisk,
    LimitAdditionalDisk,
    ConfigureNetwork,
    ConfigureFirewall,
    ConfigureCloudInit,
    Start,
    VerifyRunning,
    UpdateAddresses,
    Stop,
    ChangeCpuRam,
    ChangeSystemDiskSize,
    ChangeSystemDiskLimits,
    ChangeAdditionalDisk,
    ChangeAdditionalDiskSize,
    ChangeAdditionalDiskLimits,
    ChangeNetwork,
    ChangeFirewall,
    StartAfterChange,
    RemoveOldVm,
    ResyncDns,
    TerminateVm,
}

/// One transition: in state `from`, `step` runs and leads to `to`.
#[derive(Clone, Copy, Debug)]
pub struct Transition {
    pub from: &'static str,
    pub to: &'static str,
    pub step: Step,
    pub label: &'static str,
    pub kind: RunKind,
}

const fn t(
    from: &'static str,
    to: &'static str,
    step: Step,
    label: &'static str,
    kind: RunKind,
) -> Transition {
    Transition {
        from,
        to,
        step,
        label,
        kind,
    }
}

use RunKind::*;
use Step::*;

/// Every transition cron makes.
pub const TRANSITIONS: &[Transition] = &[
    t(
        "creation",
        "set_ip",
        AllocateAddresses,
        "Allocate IP addresses",
        Deploy,
    ),
    t("set_ip", "clone", Clone, "Clone the template", Deploy),
    t(
        "clone",
        "set_dns",
        CreateDnsRecords,
        "Create DNS records",
        Deploy,
    ),
    t(
        "set_dns",
        "migrated",
        Migrate,
        "Migrate to the target node",
        Deploy,
    ),
    t(
        "migrated",
        "set_cpu_ram",
        SetCpuRam,
        "Set CPU and RAM",
        Deploy,
    ),
    t(
        "set_cpu_ram",
        "set_system_disk_size",
        ResizeSystemDisk,
        "Resize the system disk",
        Deploy,
    ),
    t(
        "set_system_disk_size",
        "set_system_disk_bandwidth",
        LimitSystemDisk,
        "System disk I/O limits",
        Deploy,
    ),
    t(
        "set_system_disk_bandwidth",
        "set_created_additional_disk",
        CreateAdditionalDisk,
        "Create the additional disk",
        Deploy,
    ),
    t(
        "set_created_additional_disk",
        "set_additional_disk_size",
        ResizeAdditionalDisk,
        "Resize the additional disk",
        Deploy,
    ),
    t(
        "set_additional_disk_size",
        "set_additional_disk_bandwidth",
        LimitAdditionalDisk,
        "Additional disk I/O limits",
        Deploy,
    ),
    t(
        "set_additional_disk_bandwidth",
        "set_network",
        ConfigureNetwork,
        "Configure the network",
        Deploy,
    ),
    t(
        "set_network",
        "set_firewall",
        ConfigureFirewall,
        "Configure the firewall",
        Deploy,
    ),
    t(
        "set_firewall",
        "set_cloudinit",
        ConfigureCloudInit,
        "Configure cloud-init",
        Deploy,
    ),
    t("set_cloudinit", "starting", Start, "Start the VM", Deploy),
    t(
        "starting",
        "ready",
        VerifyRunning,
        "Verify running and send the email",
        Deploy,
    ),
    t(
        "change_package",
        "cp_update_ip",
        UpdateAddresses,
        "Update IP addresses and DNS",
        ChangePackage,
    ),
    t(
        "cp_update_ip",
        "cp_stop",
        Stop,
        "Stop the VM",
        ChangePackage,
    ),
    t(
        "cp_stop",
        "cp_cpu_ram",
        ChangeCpuRam,
        "Set CPU and RAM",
        ChangePackage,
    ),
    t(
        "cp_cpu_ram",
        "cp_system_disk_size",
        ChangeSystemDiskSize,
        "Resize the system disk",
        ChangePackage,
    ),
    t(
        "cp_system_disk_size",
        "cp_system_disk_bandwidth",
        ChangeSystemDiskLimits,
        "System disk I/O limits",
        ChangePackage,
    ),
    t(
        "cp_system_disk_bandwidth",
        "cp_additional_disk",
        ChangeAdditionalDisk,
        "Additional disk",
        ChangePackage,
    ),
    t(
        "cp_additional_disk",
        "cp_additional_disk_size",
        ChangeAdditionalDiskSize,
        "Resize the additional disk",
        ChangePackage,
    ),
    t(
        "cp_additional_disk_size",
        "cp_additional_disk_bandwidth",
        ChangeAdditionalDiskLimits,
        "Additional disk I/O limits",
        ChangePackage,
    ),
    t(
        "cp_additional_disk_bandwidth",
        "cp_network",
        ChangeNetwork,
        "Configure the network",
        ChangePackage,
    ),
    t(
        "cp_network",
        "cp_firewall",
        ChangeFirewall,
        "Configure the firewall",
        ChangePackage,
    ),
    t(
        "cp_firewall",
        "cp_start",
        StartAfterChange,
        "Start the VM",
        ChangePackage,
    ),
    t(
        "cp_start",
        "ready",
        VerifyRunning,
        "Verify running and send the email",
        ChangePackage,
    ),
    t(
        "reinstall",
        "set_ip",
        RemoveOldVm,
        "Remove the old VM",
        Reinstall,
    ),
    t(
        "set_dns_records",
        "ready",
        ResyncDns,
        "Delete and recreate DNS records",
        SetDnsRecords,
    ),
    t(
        "terminate",
        "remove",
        TerminateVm,
        "Stop, remove backups, DNS and the VM, release addresses",
        RunKind::Terminate,
    ),
];

/// States in which cron leaves a VM alone.
pub const RESTING: &[&str] = &["ready", "remove", "error_terminate"];

/// The transition out of `status`, if cron works on VMs in that state.
pub fn next(status: &str) -> Option<&'static Transition> {
    TRANSITIONS.iter().find(|t| t.from == status)
}

/// Every state a VM row may hold.
pub fn all_states() -> Vec<&'static str> {
    let mut states: Vec<&'static str> = TRANSITIONS.iter().flat_map(|t| [t.from, t.to]).collect();
    states.push("error_terminate");
    states.sort_unstable();
    states.dedup();
    states
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deploy_reaches_ready_in_fifteen_steps() {
        let mut status = "creation";
        let mut steps = 0;
        while let Some(t) = next(status) {
            assert_eq!(t.kind, RunKind::Deploy);
            status = t.to;
            steps += 1;
        }
        assert_eq!((status, steps), ("ready", 15));
    }

    #[test]
    fn change_package_reaches_ready() {
        let mut status = "change_package";
        let mut seen = vec![];
        while let Some(t) = next(status) {
            seen.push(t.to);
            status = t.to;
        }
        assert_eq!(seen.len(), 12);
        assert_eq!(status, "ready");
    }

    #[test]
    fn every_state_has_at_most_one_way_out() {
        for t in TRANSITIONS {
            assert_eq!(
                TRANSITIONS.iter().filter(|o| o.from == t.from).count(),
                1,
                "{}",
                t.from
            );
        }
        for resting in RESTING {
            assert!(next(resting).is_none());
        }
    }
}
