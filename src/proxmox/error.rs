//! The Proxmox client's error type. Each variant says whether repeating the request is safe;
//! the client itself retries only idempotent reads (see [`ApiError::retry_safe_for_reads`]).

use std::collections::BTreeMap;
use std::fmt;

/// Why a Proxmox call failed. Messages are lower case; Proxmox's own text is kept verbatim.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApiError {
    /// A value the caller supplied cannot be sent (a VMID out of range, a node name with
    /// spaces). Never retry: the same input fails the same way.
    Invalid { field: String, message: String },
    /// The server could not be reached or the connection broke. A read may be retried; a write
    /// may or may not have been applied, so check the state before repeating it.
    Transport(String),
    /// No answer before the timeout. Same as `Transport`: reads may be retried, writes must be
    /// checked first.
    Timeout(String),
    /// The TLS certificate was refused (not trusted, or not the pinned fingerprint). Never
    /// retry: fix the server entry's fingerprint or the certificate.
    Certificate(String),
    /// 401: the token or the user/password was refused. Never retry with the same credentials.
    Unauthorized(String),
    /// 403: authenticated, but the token or user lacks a privilege. Never retry before the
    /// permissions are changed.
    Forbidden(String),
    /// 400: Proxmox refused a parameter; `errors` maps each to its reason. Never retry.
    BadRequest {
        message: String,
        errors: BTreeMap<String, String>,
    },
    /// Any other error status (500 for a `die` such as "VM is locked", 501, 502, 503, 595).
    /// A 5xx on a read may be retried; a write must be checked first.
    Status { status: u16, message: String },
    /// The answer is not what the API documents. Never retry.
    Decode(String),
    /// A task stopped with an error exit status; `log` holds its last lines. Check the state
    /// (what the task did before it failed) before starting it again.
    TaskFailed {
        upid: String,
        exitstatus: String,
        log: Vec<String>,
    },
    /// A task was still running when the caller stopped waiting. Safe to poll again; never
    /// start the task a second time.
    TaskTimeout { upid: String },
}

impl ApiError {
    /// A request the module refuses before sending: `field` is wrong, `message` says how.
    pub fn invalid(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Whether an idempotent read that failed this way may simply be sent again.
    pub fn retry_safe_for_reads(&self) -> bool {
        match self {
            ApiError::Transport(_) | ApiError::Timeout(_) => true,
            ApiError::Status { status, .. } => matches!(status, 502..=504 | 595 | 596),
            _ => false,
        }
    }

    /// The error with `what` in front: `unable to clone VM 105 - {err}`.
    pub fn context(self, what: impl fmt::Display) -> crate::Error {
        crate::Error::from(self).context(what)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Invalid { field, message } => write!(f, "{field}: {message}"),
            ApiError::Transport(m) => write!(f, "unable to reach the Proxmox API - {m}"),
            ApiError::Timeout(m) => write!(f, "the Proxmox API did not answer in time - {m}"),
            ApiError::Certificate(m) => write!(
                f,
                "the Proxmox server's TLS certificate was refused - {m} (pin its SHA-256 fingerprint in the server's Access Hash as fingerprint=AB:CD:..., or install a trusted certificate)"
            ),
            ApiError::Unauthorized(m) => write!(f, "authentication failed - {m}"),
            ApiError::Forbidden(m) => write!(f, "permission denied - {m}"),
            ApiError::BadRequest { message, errors } => {
                write!(f, "{message}")?;
                for (param, reason) in errors {
                    write!(f, "; {param}: {}", reason.trim_end())?;
                }
                Ok(())
            }
            ApiError::Status { status, message } => write!(f, "{message} (HTTP {status})"),
            ApiError::Decode(m) => write!(f, "unexpected answer from the Proxmox API - {m}"),
            ApiError::TaskFailed {
                upid,
                exitstatus,
                log,
            } => {
                write!(f, "task {upid} failed: {exitstatus}")?;
                if !log.is_empty() {
                    write!(f, " (log: {})", log.join(" | "))?;
                }
                Ok(())
            }
            ApiError::TaskTimeout { upid } => {
                write!(f, "task {upid} is still running; it will be checked again")
            }
        }
    }
}

impl std::error::Error for ApiError {}

impl From<ApiError> for crate::Error {
    fn from(err: ApiError) -> Self {
        match err {
            ApiError::Invalid { field, message } => crate::Error::Validation { field, message },
            other => crate::Error::Proxmox(other.to_string()),
        }
    }
}

/// The Proxmox client's result type.
pub type ApiResult<T> = std::result::Result<T, ApiError>;
