//! Cron: the scheduled tasks of the module.
//!
//! Tasks and their default intervals (minutes; 0 disables a task):
//! `processVirtualMachines` 1, `removeOldSnapshots` 5, `restoreBackupStatus` 1,
//! `nowBackupStatus` 1, `scheduleBackup` 5, `collectingStatistics` 60.

pub mod lock;
pub mod runner;

/// A scheduled task of the module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Task {
    ProcessVirtualMachines,
    RemoveOldSnapshots,
    RestoreBackupStatus,
    NowBackupStatus,
    ScheduleBackup,
    CollectingStatistics,
}

impl Task {
    /// Every task, in the order the Settings page lists them.
    pub const ALL: [Task; 6] = [
        Task::ProcessVirtualMachines,
        Task::RemoveOldSnapshots,
        Task::RestoreBackupStatus,
        Task::NowBackupStatus,
        Task::ScheduleBackup,
        Task::CollectingStatistics,
    ];

    /// The name used on the command line and in settings (`processVirtualMachines`).
    pub fn name(self) -> &'static str {
        match self {
            Task::ProcessVirtualMachines => "processVirtualMachines",
            Task::RemoveOldSnapshots => "removeOldSnapshots",
            Task::RestoreBackupStatus => "restoreBackupStatus",
            Task::NowBackupStatus => "nowBackupStatus",
            Task::ScheduleBackup => "scheduleBackup",
            Task::CollectingStatistics => "collectingStatistics",
        }
    }

    /// The label shown to admins.
    pub fn label(self) -> &'static str {
        match self {
            Task::ProcessVirtualMachines => "Process Virtual Machines",
            Task::RemoveOldSnapshots => "Remove Old Snapshots",
            Task::RestoreBackupStatus => "Restore Backup Status",
            Task::NowBackupStatus => "Now Backup Status",
            Task::ScheduleBackup => "Schedule Backup",
            Task::CollectingStatistics => "Collecting Statistics",
        }
    }

    /// What the task does, for the Settings page and `--help`.
    pub fn description(self) -> &'static str {
        match self {
            Task::ProcessVirtualMachines => "Advances every VM that is not ready through its pipeline: deploy, change package, DNS resync, reinstall, terminate.",
            Task::RemoveOldSnapshots => "Removes snapshots that have exceeded their configured lifetime.",
            Task::RestoreBackupStatus => "Watches backup restores and sends the confirmation email when one completes.",
            Task::NowBackupStatus => "Watches on-demand backups and records how they ended.",
            Task::ScheduleBackup => "Takes scheduled backups and rotates the oldest when the limit is reached.",
            Task::CollectingStatistics => "Collects network traffic statistics from Proxmox RRD data for usage billing.",
        }
    }

    /// The tasks this version runs; the others are not offered anywhere until they exist.
    pub fn available() -> &'static [Task] {
        &[Task::ProcessVirtualMachines]
    }

    /// The default interval in minutes.
    pub fn default_interval(self) -> u32 {
        match self {
            Task::ProcessVirtualMachines | Task::RestoreBackupStatus | Task::NowBackupStatus => 1,
            Task::RemoveOldSnapshots | Task::ScheduleBackup => 5,
            Task::CollectingStatistics => 60,
        }
    }

    /// The task named `name` (as on the command line).
    pub fn from_name(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Task::ALL {
            assert_eq!(Task::from_name(t.name()), Some(t));
        }
        assert_eq!(Task::from_name("process_vms"), None);
    }
}
