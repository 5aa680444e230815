//! VMs: the persisted state machine that cron advances (see [`steps`] for the states and
//! pipelines, [`engine`] for how a tick runs them, [`runlog`] for the history kept per VM).

pub mod admin;
pub mod engine;
pub mod list_index;
pub mod runlog;
pub mod steps;

use crate::cron::runner::TaskOutcome;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::module::Kvm;
use crate::settings::Settings;

/// The `processVirtualMachines` task.
pub async fn process_virtual_machines(
    _kvm: &Kvm,
    _settings: &Settings,
    _events: &Events,
) -> Result<TaskOutcome> {
    Err(Error::Proxmox(
        "VM pipelines need the Proxmox platform, which this build does not include yet".into(),
    ))
}
