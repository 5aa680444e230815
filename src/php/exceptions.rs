//! The exception classes of `PuqProxmoxKvm\Exception\` and the one mapping from core errors.

use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpException;
use ext_php_rs::prelude::*;
use ext_php_rs::types::ZendClassObject;
use ext_php_rs::zend::{ce, ExecutorGlobals};

use crate::error::Error;

/// Base class of every exception the module throws. Catch this to handle them all.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\ModuleException")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ModuleException;

/// A value is not acceptable. `getField()` names the field; the message says the fix.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\ValidationException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct ValidationException {
    field: String,
}

#[php_impl]
impl ValidationException {
    /// The name of the field that failed validation (`gateway`, `default_timeout`, ...).
    pub fn get_field(&self) -> String {
        self.field.clone()
    }
}

/// The record asked for does not exist.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\NotFoundException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct NotFoundException;

/// The request clashes with the current state (duplicate, still in use, wrong VM state).
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\ConflictException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct ConflictException;

/// A DNS provider (Cloudflare, PowerDNS, HestiaCP) refused or could not be reached.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\ProviderException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct ProviderException;

/// Proxmox VE refused or could not be reached.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\ProxmoxException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct ProxmoxException;

/// The WHMCS database refused, could not be reached, or holds something unexpected.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Exception\\DatabaseException")]
#[php(extends(ModuleException))]
#[derive(Default)]
pub struct DatabaseException;

/// A `ValidationException` whose `getField()` answers `field`.
///
/// The engine builds the object (it sets message, file and line from inside `Exception`'s
/// scope); the field is then written into the Rust side of that same object.
fn validation(field: String, message: String) -> PhpException {
    if ExecutorGlobals::has_exception() {
        return PhpException::from_class::<ValidationException>(message);
    }
    PhpException::from_class::<ValidationException>(message.clone()).throw();
    if let Some(mut object) = ExecutorGlobals::take_exception() {
        if let Some(exception) =
            ZendClassObject::<ValidationException>::from_zend_obj_mut(&mut object)
        {
            exception.field = field;
        }
        if let Ok(zval) = object.into_zval(false) {
            return PhpException::from_class::<ValidationException>(message).with_object(zval);
        }
    }
    PhpException::from_class::<ValidationException>(message)
}

impl From<Error> for PhpException {
    fn from(err: Error) -> Self {
        let message = err.to_string();
        match err {
            Error::Validation { field, .. } => validation(field, message),
            Error::NotFound(_) => PhpException::from_class::<NotFoundException>(message),
            Error::Conflict(_) => PhpException::from_class::<ConflictException>(message),
            Error::Provider(_) => PhpException::from_class::<ProviderException>(message),
            Error::Proxmox(_) => PhpException::from_class::<ProxmoxException>(message),
            Error::Database(_) => PhpException::from_class::<DatabaseException>(message),
        }
    }
}

/// Registers the exception classes, parents first.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .class::<ModuleException>()
        .class::<ValidationException>()
        .class::<NotFoundException>()
        .class::<ConflictException>()
        .class::<ProviderException>()
        .class::<ProxmoxException>()
        .class::<DatabaseException>()
}
