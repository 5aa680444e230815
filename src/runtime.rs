//! The process's async runtime: built on first use, rebuilt after `fork()`.
//!
//! WHMCS loads the extension into every PHP request, so nothing here runs at module startup.
//! A current-thread runtime keeps a PHP process free of extra threads; every binding method
//! drives its future to completion with [`block_on`].
//!
//! # Fork safety
//! PHP-FPM (and `pcntl_fork()`) fork a process that may already hold a runtime and open
//! database connections. The child must never drop what it inherited: dropping would close
//! sockets the parent still uses. So a runtime is leaked (`Box::leak`) and tagged with the pid
//! that built it; a process that finds another pid's runtime builds its own and leaves the old
//! one untouched. [`current_pid`] is the tag every other per-process cache uses.

use std::future::Future;
use std::sync::Mutex;

use tokio::runtime::{Builder, Runtime};

static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The id of the calling process.
pub fn current_pid() -> u32 {
    std::process::id()
}

/// The runtime of the calling process, built on first use.
///
/// # Panics
/// Only if the operating system refuses to create the runtime's I/O driver (no file
/// descriptors left), which ext-php-rs turns into a PHP `Error`.
pub fn runtime() -> &'static Runtime {
    let pid = current_pid();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    match *slot {
        Some((owner, rt)) if owner == pid => rt,
        _ => {
            // Another process's runtime (we are a forked child) is left as it is: leaked.
            let rt: &'static Runtime = Box::leak(Box::new(
                Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("unable to build the async runtime"),
            ));
            *slot = Some((pid, rt));
            rt
        }
    }
}

/// Runs `future` to completion on this process's runtime.
///
/// Must not be called from inside another `block_on` (a PHP callable invoked while a future
/// runs must not call back into the extension).
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime().block_on(future)
}

/// Whether a runtime exists for this process (used by the startup test: loading the
/// extension must not build one).
pub fn is_built() -> bool {
    let slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    matches!(*slot, Some((owner, _)) if owner == current_pid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_is_built_once_per_process() {
        let a = runtime() as *const Runtime;
        let b = runtime() as *const Runtime;
        assert_eq!(a, b);
        assert!(is_built());
        assert_eq!(block_on(async { 40 + 2 }), 42);
    }
}
