//! VMs: the persisted state machine that cron advances (see [`steps`] for the states and
//! pipelines, [`engine`] for how a tick runs them, [`runlog`] for the history kept per VM).

pub mod admin;
pub mod engine;
pub mod list_index;
pub mod platform;
pub mod runlog;
pub mod steps;

use std::sync::Arc;

use crate::cron::runner::TaskOutcome;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::module::Kvm;
use crate::settings::Settings;

/// The error for a service that has no VM row.
pub(crate) fn no_vm_record(service_id: i64) -> Error {
    Error::NotFound(format!("service {service_id} has no VM record"))
}

/// The `processVirtualMachines` task: brings the VM list's index up to date, then advances
/// every VM that has work through its pipeline.
pub async fn process_virtual_machines(
    kvm: &Kvm,
    settings: &Settings,
    events: &Events,
    clients: platform::Clients,
) -> Result<TaskOutcome> {
    if let Err(err) = list_index::sync(kvm.db(), None).await {
        events.error(
            None,
            "vm list index",
            "",
            format!("the VM list index was not refreshed: {err}"),
        );
    }
    let platform = Arc::new(platform::LivePlatform::new(kvm.clone(), clients).await?);
    engine::tick(
        kvm.db(),
        platform,
        settings,
        &engine::Limits::from_settings(settings),
        events,
    )
    .await
}
