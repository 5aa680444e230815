//! `PuqProxmoxKvm\Proxmox`: the server module's Proxmox operations (Test Connection).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendHashTable;

use super::convert::{array_to_map, to_array};
use crate::module::Kvm;
use crate::proxmox::access;
use crate::runtime::block_on;

/// Proxmox VE operations for a WHMCS server entry. Get one with `$module->proxmox()`.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Proxmox")]
pub struct PhpProxmox {
    pub(super) kvm: Kvm,
}

#[php_impl]
impl PhpProxmox {
    /// Test Connection for the server in `$params` (the server module's `$params`:
    /// `serverhostname`, `serverip`, `serverport`, `serverusername` (a token id
    /// `user@realm!tokenid` or a user `user@realm`), `serverpassword` (decrypted),
    /// `serveraccesshash` (`fingerprint=AB:CD:...` to pin a self-signed certificate)).
    ///
    /// Returns `success`, `error` (empty, or which privileges are missing on which path),
    /// `version` (Proxmox VE) and `missing` (`path privilege` strings).
    ///
    /// @throws Exception\ValidationException naming the server field that is malformed
    /// @throws Exception\ProxmoxException when the server cannot be reached or refuses the credentials
    pub fn test_connection(&self, params: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let params = array_to_map(params, "params")?;
        let report = block_on(async {
            let settings = self.kvm.settings().await?;
            access::test_connection(&params, &settings).await
        })?;
        Ok(to_array(&report)?)
    }
}

/// Registers `PuqProxmoxKvm\Proxmox`.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.class::<PhpProxmox>()
}
