//! The PHP extension: the only place that touches ext-php-rs. Each area registers its classes
//! through one small function; binding methods convert, `block_on` the core, map the error.

mod convert;
mod cron;
mod dns;
mod events;
pub mod exceptions;
mod ipam;
mod module;
mod products;
mod proxmox;
mod vms;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

use crate::build_info;

/// The `phpinfo()` section.
extern "C" fn module_info(_module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("puq_proxmox_kvm support", "enabled");
    info_table_row!("version", build_info::VERSION);
    info_table_row!("revision", build_info::REVISION);
    info_table_row!("built for PHP API", build_info::PHP_API);
    info_table_row!(
        "async runtime",
        if crate::runtime::is_built() {
            "started"
        } else {
            "not started (built on first use)"
        }
    );
    info_table_end!();
}

#[php_module]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    let module = exceptions::register(module);
    let module = ipam::register(module);
    let module = dns::register(module);
    let module = proxmox::register(module);
    let module = products::register(module);
    module
        .class::<module::PhpModule>()
        .class::<cron::PhpCron>()
        .class::<vms::PhpVms>()
        .info_function(module_info)
}
