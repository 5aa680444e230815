//! Drives a core future while handing its live events to a PHP callable, on the PHP thread.
//!
//! The future runs inside `block_on`; whenever events are queued, `block_on` returns, the
//! events are passed to the callable (outside the runtime, so the callable may even call the
//! extension again), and the same future is polled on. Nothing PHP runs inside the runtime.

use std::future::Future;
use std::pin::pin;

use ext_php_rs::types::{ZendCallable, Zval};
use tokio::sync::mpsc::UnboundedReceiver;

use super::convert::value_to_zval;
use crate::events::Event;
use crate::runtime::runtime;

enum Poll<T, E> {
    Done(T),
    Events(Vec<E>),
}

/// A cron event as the callable gets it: an array with `level`, `service_id`, `message`,
/// `module_log`.
pub fn event_arg(event: &Event) -> Option<Zval> {
    serde_json::to_value(event).ok().map(|v| value_to_zval(&v))
}

/// Runs `future` to completion, calling `on_event` with each event as `to_arg` makes it (an
/// event it cannot convert is skipped). If the callable throws, no further events are passed
/// and the exception reaches PHP when the binding returns.
pub fn drive<T, E>(
    future: impl Future<Output = T>,
    mut events: UnboundedReceiver<E>,
    on_event: Option<&ZendCallable<'_>>,
    to_arg: impl Fn(&E) -> Option<Zval>,
) -> T {
    let mut future = pin!(future);
    let mut listening = on_event.is_some();
    loop {
        let poll = runtime().block_on(async {
            tokio::select! {
                biased;
                Some(first) = events.recv(), if listening => {
                    let mut batch = vec![first];
                    while let Ok(more) = events.try_recv() {
                        batch.push(more);
                    }
                    Poll::Events(batch)
                }
                out = &mut future => Poll::Done(out),
            }
        });
        match poll {
            Poll::Done(out) => {
                if listening {
                    let mut rest = Vec::new();
                    while let Ok(event) = events.try_recv() {
                        rest.push(event);
                    }
                    deliver(rest, on_event, &to_arg);
                }
                return out;
            }
            Poll::Events(batch) => listening = deliver(batch, on_event, &to_arg),
        }
    }
}

/// Calls the callable per event; false once it failed.
fn deliver<E>(
    batch: Vec<E>,
    on_event: Option<&ZendCallable<'_>>,
    to_arg: &impl Fn(&E) -> Option<Zval>,
) -> bool {
    let Some(callable) = on_event else {
        return false;
    };
    for event in batch {
        let Some(arg) = to_arg(&event) else {
            continue;
        };
        if callable.try_call(vec![&arg]).is_err() {
            return false;
        }
    }
    true
}
