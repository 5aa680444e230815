//! The core's one error type. `src/php/` maps each variant to one PHP exception class.

use std::fmt;

/// Everything the core can fail with. Messages are lower case, name what failed and say what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A value supplied by an admin, a product or a caller is not acceptable. Never retried:
    /// the same input fails the same way.
    Validation { field: String, message: String },
    /// The thing asked for does not exist (a pool id, a service, a VM row).
    NotFound(String),
    /// The request clashes with the current state (a duplicate, a pool still in use, a VM in
    /// the wrong state). Retrying after the state changes may succeed.
    Conflict(String),
    /// A DNS provider refused or could not be reached.
    Provider(String),
    /// Proxmox VE refused or could not be reached.
    Proxmox(String),
    /// The WHMCS database refused, could not be reached, or holds something unexpected.
    Database(String),
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A validation failure for `field`.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field a validation failure is about, if any.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Validation { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Adds context in front of the message: `unable to activate - {err}`.
    pub fn context(self, what: impl fmt::Display) -> Self {
        match self {
            Error::Validation { field, message } => Error::Validation {
                field,
                message: format!("{what} - {message}"),
            },
            Error::NotFound(m) => Error::NotFound(format!("{what} - {m}")),
            Error::Conflict(m) => Error::Conflict(format!("{what} - {m}")),
            Error::Provider(m) => Error::Provider(format!("{what} - {m}")),
            Error::Proxmox(m) => Error::Proxmox(format!("{what} - {m}")),
            Error::Database(m) => Error::Database(format!("{what} - {m}")),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Validation { field, message } => write!(f, "{field}: {message}"),
            Error::NotFound(m)
            | Error::Conflict(m)
            | Error::Provider(m)
            | Error::Proxmox(m)
            | Error::Database(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<mysql_async::Error> for Error {
    fn from(err: mysql_async::Error) -> Self {
        Error::Database(crate::db::describe_error(&err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_message_names_the_field() {
        let err = Error::validation(
            "default_timeout",
            "must be between 1 and 300 seconds, got 0",
        );
        assert_eq!(err.field(), Some("default_timeout"));
        assert_eq!(
            err.to_string(),
            "default_timeout: must be between 1 and 300 seconds, got 0"
        );
    }

    #[test]
    fn context_goes_in_front() {
        let err = Error::Database("connection refused".into()).context("unable to activate");
        assert_eq!(err.to_string(), "unable to activate - connection refused");
        assert!(err.field().is_none());
    }
}
