//! Test Connection: reach the server, authenticate, read the version, and check the token or
//! user holds every privilege the pipelines use, naming exactly what is missing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{ApiResult, Client, Endpoint, ProxmoxApi, Purpose};
use crate::error::{Error, Result};
use crate::settings::Settings;

/// ACL path => the privileges the pipelines need there (clone, configure, power, migrate,
/// snapshot, back up and restore VMs; allocate disks; list nodes; attach NICs to bridges).
pub const REQUIRED_PRIVILEGES: &[(&str, &[&str])] = &[
    ("/nodes", &["Sys.Audit"]),
    (
        "/vms",
        &[
            "VM.Audit",
            "VM.Allocate",
            "VM.Clone",
            "VM.Config.CPU",
            "VM.Config.Memory",
            "VM.Config.Disk",
            "VM.Config.Network",
            "VM.Config.Cloudinit",
            "VM.Config.Options",
            "VM.Config.HWType",
            "VM.PowerMgmt",
            "VM.Migrate",
            "VM.Snapshot",
            "VM.Snapshot.Rollback",
            "VM.Backup",
        ],
    ),
    ("/storage", &["Datastore.Audit", "Datastore.AllocateSpace"]),
    ("/sdn/zones", &["SDN.Use"]),
];

/// What Test Connection found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConnectionReport {
    pub success: bool,
    /// Empty on success; else which privileges are missing where, and how to grant them.
    pub error: String,
    /// The Proxmox VE version (`9.1.3`).
    pub version: String,
    /// `path privilege` pairs that are missing.
    pub missing: Vec<String>,
}

/// Whether `privilege` is granted on `path`: on the path itself or on a parent (ACLs on `/`
/// propagate to the whole tree).
fn granted(perms: &BTreeMap<String, BTreeMap<String, bool>>, path: &str, privilege: &str) -> bool {
    perms.iter().any(|(acl, privs)| {
        let acl = acl.trim_end_matches('/');
        let covers = acl.is_empty() || path == acl || path.starts_with(&format!("{acl}/"));
        covers && privs.get(privilege).copied().unwrap_or(false)
    })
}

/// The privileges of [`REQUIRED_PRIVILEGES`] that `perms` lacks, by path.
pub fn missing_privileges(
    perms: &BTreeMap<String, BTreeMap<String, bool>>,
) -> Vec<(String, Vec<String>)> {
    REQUIRED_PRIVILEGES
        .iter()
        .filter_map(|(path, privs)| {
            let lacking: Vec<String> = privs
                .iter()
                .filter(|p| !granted(perms, path, p))
                .map(|p| p.to_string())
                .collect();
            (!lacking.is_empty()).then(|| (path.to_string(), lacking))
        })
        .collect()
}

/// Runs the checks with `api`.
pub async fn check_access(api: &dyn ProxmoxApi, principal: &str) -> ApiResult<ConnectionReport> {
    let version = api.version().await?.version;
    let perms = api.permissions(None).await?;
    let missing = missing_privileges(&perms);
    let error = if missing.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = missing
            .iter()
            .map(|(path, privs)| format!("{} on {path}", privs.join(", ")))
            .collect();
        format!(
            "connected to Proxmox VE {version}, but '{principal}' lacks {} - grant them under Datacenter > Permissions (for an API token with Privilege Separation, to the token itself)",
            list.join("; ")
        )
    };
    Ok(ConnectionReport {
        success: missing.is_empty(),
        error,
        version,
        missing: missing
            .iter()
            .flat_map(|(path, privs)| privs.iter().map(move |p| format!("{path} {p}")))
            .collect(),
    })
}

fn param(params: &Map<String, Value>, key: &str) -> String {
    match params.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

impl Endpoint {
    /// From the `$params` WHMCS passes to the server module: `serverhostname`, `serverip`,
    /// `serverport`, `serverusername`, `serverpassword` (decrypted), `serveraccesshash`.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the server field that is wrong.
    pub fn from_params(params: &Map<String, Value>) -> Result<Endpoint> {
        let port_text = param(params, "serverport");
        let port = if port_text.trim().is_empty() {
            0
        } else {
            port_text.trim().parse::<u16>().map_err(|_| {
                Error::validation(
                    "serverport",
                    format!("'{port_text}' is not a port number (1-65535)"),
                )
            })?
        };
        Endpoint::from_server(
            &param(params, "serverhostname"),
            &param(params, "serverip"),
            port,
            &param(params, "serverusername"),
            &param(params, "serverpassword"),
            &param(params, "serveraccesshash"),
        )
        .map_err(|e| match e {
            super::ApiError::Invalid { field, message } => {
                Error::validation(format!("server{field}"), message)
            }
            other => Error::from(other),
        })
    }
}

/// Test Connection for a WHMCS server entry, with the page timeout from `settings`.
///
/// # Errors
/// [`Error::Validation`] for a malformed server entry; [`Error::Proxmox`] when the server
/// cannot be reached or refuses the credentials.
pub async fn test_connection(
    params: &Map<String, Value>,
    settings: &Settings,
) -> Result<ConnectionReport> {
    let endpoint = Endpoint::from_params(params)?;
    let principal = endpoint.auth.principal().to_string();
    let host = endpoint.base_url.clone();
    let client = Client::for_purpose(endpoint, settings, Purpose::Page)?;
    check_access(&client, &principal)
        .await
        .map_err(|e| e.context(format!("unable to connect to {host}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(entries: &[(&str, &[&str])]) -> BTreeMap<String, BTreeMap<String, bool>> {
        entries
            .iter()
            .map(|(path, privs)| {
                (
                    path.to_string(),
                    privs.iter().map(|p| (p.to_string(), true)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn privileges_propagate_from_parents() {
        let all: Vec<&str> = REQUIRED_PRIVILEGES
            .iter()
            .flat_map(|(_, p)| p.iter().copied())
            .collect();
        assert!(missing_privileges(&perms(&[("/", &all)])).is_empty());
        let split = perms(&[
            ("/nodes", &["Sys.Audit"]),
            ("/vms", REQUIRED_PRIVILEGES[1].1),
            (
                "/storage/local-lvm",
                &["Datastore.Audit", "Datastore.AllocateSpace"],
            ),
            ("/sdn", &["SDN.Use"]),
        ]);
        assert_eq!(
            missing_privileges(&split),
            vec![(
                "/storage".to_string(),
                vec![
                    "Datastore.Audit".to_string(),
                    "Datastore.AllocateSpace".to_string()
                ]
            )],
            "a grant on one storage does not cover /storage"
        );
        let vmsx = perms(&[("/vmsx", &["VM.Audit"])]);
        assert!(
            missing_privileges(&vmsx)
                .iter()
                .any(|(p, v)| p == "/vms" && v.contains(&"VM.Audit".to_string())),
            "not a label-aligned parent"
        );
    }
}
