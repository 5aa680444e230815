//! Live progress from long work (cron runs, DNS syncs) to whoever watches: the cron's standard
//! output, the WHMCS module log.
//!
//! The core only sends [`Event`]s into an [`Events`] sink; it never calls PHP. The PHP binding
//! drains the channel between polls of the future and hands each event to the PHP callable on
//! the PHP thread (see `src/php/events.rs`).

use serde::Serialize;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// How an event reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Error,
}

/// One line of live output, optionally with an entry for the WHMCS module log.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub level: Level,
    /// The WHMCS service the line is about, if any.
    pub service_id: Option<i64>,
    /// The line as shown in the cron's output.
    pub message: String,
    /// When set, the PHP side writes this to the module log (`logModuleCall`).
    pub module_log: Option<ModuleLog>,
}

/// An entry for WHMCS's module log. Secrets never go in here.
#[derive(Clone, Debug, Serialize)]
pub struct ModuleLog {
    pub action: String,
    pub request: String,
    pub response: String,
}

/// Where events go. Cheap to clone; a sink nobody listens to drops events silently.
#[derive(Clone, Debug, Default)]
pub struct Events {
    sender: Option<UnboundedSender<Event>>,
}

impl Events {
    /// A sink and the receiver that drains it.
    pub fn channel() -> (Events, UnboundedReceiver<Event>) {
        let (sender, receiver) = unbounded_channel();
        (
            Events {
                sender: Some(sender),
            },
            receiver,
        )
    }

    /// A sink that drops everything.
    pub fn none() -> Events {
        Events { sender: None }
    }

    pub fn send(&self, event: Event) {
        if let Some(sender) = &self.sender {
            let _ = sender.send(event);
        }
    }

    /// An information line.
    pub fn info(&self, service_id: Option<i64>, message: impl Into<String>) {
        self.send(Event {
            level: Level::Info,
            service_id,
            message: message.into(),
            module_log: None,
        });
    }

    /// An error line, also written to the module log under `action`.
    pub fn error(
        &self,
        service_id: Option<i64>,
        action: &str,
        request: impl Into<String>,
        message: impl Into<String>,
    ) {
        let message = message.into();
        self.send(Event {
            level: Level::Error,
            service_id,
            message: message.clone(),
            module_log: Some(ModuleLog {
                action: action.to_string(),
                request: request.into(),
                response: message,
            }),
        });
    }
}
