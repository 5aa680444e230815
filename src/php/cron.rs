//! `PuqProxmoxKvm\Cron`: runs the module's scheduled tasks and reports their state.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable};
use serde_json::{Map, Value};

use super::convert::{array_to_map, map_to_array, positive_id, server_passwords, to_array};
use super::events::{drive, event_arg};
use crate::cron::runner::{self, RunOptions, Trigger};
use crate::cron::Task;
use crate::error::{Error, Result};
use crate::events::Events;
use crate::module::Kvm;
use crate::outbox;
use crate::runtime::block_on;

/// The module's cron: `$kvm->cron()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Cron")]
pub struct PhpCron {
    pub(super) kvm: Kvm,
}

fn options(map: &Map<String, Value>) -> Result<RunOptions> {
    let flag = |key: &str| {
        map.get(key)
            .is_some_and(|v| matches!(v, Value::Bool(true)) || v == 1 || v == "1")
    };
    let trigger = match map.get("trigger").and_then(Value::as_str).unwrap_or("cli") {
        "hook" => Trigger::Hook,
        "cli" => Trigger::Cli,
        other => {
            return Err(Error::validation(
                "trigger",
                format!("must be 'hook' or 'cli', got '{other}'"),
            ))
        }
    };
    let task = match map
        .get("task")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        None => None,
        Some(name) => Some(
            Task::from_name(name)
                .filter(|t| Task::available().contains(t))
                .ok_or_else(|| {
                    let names: Vec<&str> = Task::available().iter().map(|t| t.name()).collect();
                    Error::validation(
                        "task",
                        format!(
                            "'{name}' is not a task of this version; available: {}",
                            names.join(", ")
                        ),
                    )
                })?,
        ),
    };
    let server_passwords = match map.get("server_passwords") {
        None | Some(Value::Null) => Default::default(),
        Some(Value::Object(m)) => server_passwords(m)?,
        Some(Value::Array(a)) if a.is_empty() => Default::default(),
        Some(_) => {
            return Err(Error::validation(
                "server_passwords",
                "must map server ids to passwords",
            ))
        }
    };
    Ok(RunOptions {
        trigger,
        task,
        force: flag("force"),
        no_lock: flag("no_lock"),
        server_passwords,
    })
}

#[php_impl]
impl PhpCron {
    /// The tasks this version runs: `name`, `label`, `description`, `default_interval` (minutes).
    pub fn available_tasks() -> PhpResult<Vec<ZBox<ZendHashTable>>> {
        Task::available()
            .iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("name".into(), t.name().into());
                m.insert("label".into(), t.label().into());
                m.insert("description".into(), t.description().into());
                m.insert("default_interval".into(), t.default_interval().into());
                Ok(map_to_array(&m))
            })
            .collect()
    }

    /// Runs the due tasks (or `task`, or all with `force`) and returns the report:
    /// `skipped` and `tasks` (task, status, duration_ms, processed, errors, details, message).
    ///
    /// `$options`: `trigger` (`hook` from WHMCS's AfterCronJob: runs only in hook mode; `cli`),
    /// `task`, `force`, `no_lock`, `server_passwords` (server id => the decrypted password of
    /// each Proxmox server entry). `$onEvent` receives each line of live output as it happens:
    /// an array with `level`, `service_id`, `message` and `module_log` (an entry to write to
    /// WHMCS's module log, or null). Emails the run earned wait in `claimEmails()`.
    ///
    /// @throws Exception\ValidationException for an unknown task or trigger
    pub fn run(
        &self,
        options: &ZendHashTable,
        on_event: Option<ZendCallable>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        let options = self::options(&array_to_map(options, "options")?)?;
        let (events, receiver) = Events::channel();
        let report = drive(
            runner::run(&self.kvm, &options, &events),
            receiver,
            on_event.as_ref(),
            event_arg,
        )?;
        Ok(to_array(&report)?)
    }

    /// The module's Proxmox server entries: server id => the password as WHMCS stores it
    /// (encrypted; decrypt each with WHMCS's `decrypt()` and pass them to `run()` as
    /// `server_passwords`).
    pub fn encrypted_server_passwords(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let rows = block_on(runner::encrypted_server_passwords(&self.kvm))?;
        let map: Map<String, Value> = rows
            .into_iter()
            .map(|(id, pw)| (id.to_string(), Value::String(pw)))
            .collect();
        Ok(map_to_array(&map))
    }

    /// Claims the emails waiting to be sent ("VM is ready", "Upgrade Email"), oldest first, at
    /// most `$limit` (default 100), for this process for 2 minutes, so a second cron process
    /// does not send them too: each an array with `id`, `service_id`, `template` (the WHMCS
    /// email template's name) and `attempts`. Send each with `localAPI('SendEmail')` and report
    /// the result with `emailSent()`.
    ///
    /// @throws Exception\ValidationException for a limit outside 1-1000
    pub fn claim_emails(&self, limit: Option<i64>) -> PhpResult<Vec<ZBox<ZendHashTable>>> {
        let limit = match limit {
            None => 100,
            Some(n) if (1..=1000).contains(&n) => n as u32,
            Some(n) => {
                return Err(Error::validation(
                    "limit",
                    format!("must be between 1 and 1000, got {n}"),
                )
                .into())
            }
        };
        let owner = crate::cron::lock::owner_id();
        let emails = block_on(outbox::claim(self.kvm.db(), &owner, limit))?;
        Ok(emails.iter().map(to_array).collect::<Result<Vec<_>>>()?)
    }

    /// Records the result of sending email `$id`: sent when `$error` is null, else one failed
    /// attempt with its reason. Returns true when the email is given up (it failed
    /// `MAX_ATTEMPTS` = 5 times: the VM's log records it; write the reason to the module log).
    ///
    /// @throws Exception\ValidationException for an id that is not positive
    pub fn email_sent(&self, id: i64, error: Option<String>) -> PhpResult<bool> {
        let id: u64 = positive_id(id, "id", "email ")?;
        Ok(block_on(outbox::report(
            self.kvm.db(),
            id,
            error.as_deref(),
        ))?)
    }

    /// Every available task with its interval, last run, status, duration and lock holder.
    pub fn tasks(&self) -> PhpResult<Vec<ZBox<ZendHashTable>>> {
        let states = block_on(runner::states(&self.kvm))?;
        Ok(states.iter().map(to_array).collect::<Result<Vec<_>>>()?)
    }
}
