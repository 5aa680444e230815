//! Proxmox KVM provisioning for WHMCS: the core, free of PHP, and (behind the `php` feature)
//! the PHP extension that exposes it as classes in the `PuqProxmoxKvm` namespace.
//!
//! Layout: `db` (pool, migrations), `settings`, `cron`, `addon` (activation, dashboard),
//! `proxmox` (the Proxmox VE API client),
//! `runtime` (the lazy, fork-safe async runtime), `php` (the bindings; the only module that
//! touches ext-php-rs).

pub mod addon;
pub mod build_info;
pub mod cron;
pub mod db;
pub mod dns;
pub mod error;
pub mod events;
pub mod http;
pub mod ipam;
pub mod module;
pub mod net;
pub mod outbox;
pub mod product;
pub mod proxmox;
pub mod runtime;
pub mod secret;
pub mod settings;
pub mod vm;

#[cfg(feature = "php")]
pub mod php;

pub use error::{Error, Result};
