//! `PuqProxmoxKvm\Products`: the product configuration (module settings, product settings,
//! a service's effective values).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;
use serde_json::{Map, Value};

use super::convert::{array_to_map, map_to_array, positive_id, to_array};
use crate::error::Error;
use crate::module::Kvm;
use crate::product;
use crate::runtime::block_on;

/// Product configuration. Get one with `$module->products()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Products")]
pub struct PhpProducts {
    pub(super) kvm: Kvm,
}

fn id(value: i64, field: &str) -> Result<u64, Error> {
    positive_id(value, field, "")
}

#[php_impl]
impl PhpProducts {
    /// The 24 module settings as WHMCS's `_ConfigOptions` array: label => `Type`, `Default`,
    /// `Size` or `Options`, `Description`.
    pub fn config_options() -> ZBox<ZendHashTable> {
        map_to_array(&product::config_options())
    }

    /// The product settings kept beyond the 24 slots, for a form, in order: key => `key`,
    /// `label`, `default`, `help`, `type` (`yesno`, `dropdown` with `options`, `text`).
    pub fn settings_fields() -> ZBox<ZendHashTable> {
        map_to_array(&product::settings_fields())
    }

    /// The product's settings beyond the 24 slots (key => value), defaults filled in.
    ///
    /// @throws Exception\ValidationException when the product id is not positive
    pub fn settings(&self, product_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let pid = id(product_id, "product_id")?;
        let settings = block_on(async {
            let mut conn = self.kvm.db().conn().await?;
            product::load_settings(&mut conn, pid).await
        })?;
        Ok(to_array(&settings)?)
    }

    /// Validates and saves product settings (key => value); returns all of them. Nothing is
    /// saved when a value is invalid.
    ///
    /// @throws Exception\ValidationException naming the setting and the fix
    pub fn save_settings(
        &self,
        product_id: i64,
        values: &ZendHashTable,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        let pid = id(product_id, "product_id")?;
        let values: Map<String, Value> = array_to_map(values, "settings")?;
        let settings = block_on(async {
            let mut conn = self.kvm.db().conn().await?;
            product::save_settings(&mut conn, pid, &values).await
        })?;
        Ok(to_array(&settings)?)
    }

    /// The effective configuration of a service: `service_id`, `product_id`, `values` (key =>
    /// value, configurable options applied) and `overridden` (key => option name).
    ///
    /// @throws Exception\NotFoundException when the service does not exist
    /// @throws Exception\ValidationException naming the slot, setting or option that is invalid
    pub fn resolve(&self, service_id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let sid = id(service_id, "service_id")?;
        let config = block_on(async {
            let mut conn = self.kvm.db().conn().await?;
            product::resolve(&mut conn, sid).await
        })?;
        Ok(to_array(&config)?)
    }
}

/// Registers `PuqProxmoxKvm\Products`.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.class::<PhpProducts>()
}
