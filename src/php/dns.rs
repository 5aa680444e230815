//! `PuqProxmoxKvm\Dns` (zone matching) and `PuqProxmoxKvm\DnsZones` (the zones admins
//! configure, their test, and the sync of a service's records).

use ext_php_rs::boxed::ZBox;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use serde_json::{json, Map, Value};

use super::convert::{array_to_map, positive_id, to_array, value_to_zval};
use super::events::drive;
use crate::dns::plan::Operation;
use crate::dns::providers::{ApplyMode, DnsProvider, Provider};
use crate::dns::sync::{self, Event};
use crate::dns::zones::ProviderKind;
use crate::dns::{self as core_dns};
use crate::error::{Error, Result};
use crate::module::Kvm;
use crate::runtime::block_on;

/// DNS name helpers.
#[php_class]
#[php(name = "PuqProxmoxKvm\\Dns")]
pub struct PhpDns;

#[php_impl]
impl PhpDns {
    /// Whether the record `$name` belongs in `$zone`: the zone is a label-aligned suffix of
    /// the name (`a-foo.example.com` is not in `foo.example.com`), compared case-insensitively
    /// with trailing dots ignored; a name equal to the zone matches.
    pub fn zone_matches(zone: String, name: String) -> bool {
        core_dns::zone_matches(&zone, &name)
    }
}

/// The DNS zones (Cloudflare, HestiaCP, PowerDNS) and the sync of a service's records. Get it
/// with `$module->dnsZones()`. Secrets (API token, admin password, API key) never come back:
/// they read `KEEP`; saving `KEEP` or an empty secret keeps the stored one.
#[php_class]
#[php(name = "PuqProxmoxKvm\\DnsZones")]
pub struct PhpDnsZones {
    kvm: Kvm,
}

impl PhpDnsZones {
    pub fn new(kvm: Kvm) -> Self {
        PhpDnsZones { kvm }
    }
}

fn id_of(id: i64) -> Result<u64> {
    positive_id(id, "id", "zone ")
}

fn list(values: Vec<Value>) -> Zval {
    value_to_zval(&Value::Array(values))
}

/// A DNS event as the callable gets it: an array with `line`, `kind`, `ok`, `action`,
/// `record`, `zone`, `provider`, `error`.
fn event_arg(e: &Event) -> Option<Zval> {
    Some(value_to_zval(
        &json!({"line": e.line(), "kind": e.kind, "ok": e.ok, "action": e.action,
        "record": e.record, "zone": e.zone, "provider": e.provider, "error": e.error}),
    ))
}

#[php_impl]
impl PhpDnsZones {
    /// The providers and their form fields: a list of `type`, `label` and `fields` (each
    /// `name`, `label`, `secret`, `required`, `hint`).
    pub fn providers() -> Zval {
        list(
            ProviderKind::ALL
                .iter()
                .map(|k| json!({"type": k.as_str(), "label": k.label(), "fields": k.fields()}))
                .collect(),
        )
    }

    /// Every zone, by id: `id`, `zone`, `type`, `type_label` and the provider's fields, with
    /// `KEEP` in place of each secret.
    ///
    /// @throws Exception\DatabaseException when a zone's credentials cannot be decrypted
    pub fn list(&self) -> PhpResult<Zval> {
        let zones = block_on(self.kvm.dns_zones().all())?;
        Ok(list(
            zones.iter().map(|z| Value::Object(z.to_public())).collect(),
        ))
    }

    /// One zone, as `list()` shows it.
    ///
    /// @throws Exception\NotFoundException when there is no such zone
    pub fn get(&self, id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let zone = block_on(self.kvm.dns_zones().get(id_of(id)?))?;
        Ok(to_array(&zone.to_public())?)
    }

    /// Adds a zone from `zone`, `type` (`cloudflare`, `hestiacp`, `powerdns`) and the
    /// provider's fields; returns it as `get()` shows it.
    ///
    /// @throws Exception\ValidationException naming the field and the fix
    /// @throws Exception\ConflictException when the zone is already configured at that provider
    pub fn create(&self, zone: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let input = array_to_map(zone, "zone")?;
        let zone = block_on(self.kvm.dns_zones().create(&input))?;
        Ok(to_array(&zone.to_public())?)
    }

    /// Saves changes to zone `$id`; fields not given keep their value, a secret given as
    /// `KEEP` or empty keeps the stored one.
    ///
    /// @throws Exception\ValidationException naming the field and the fix
    /// @throws Exception\NotFoundException when there is no such zone
    pub fn update(&self, id: i64, zone: &ZendHashTable) -> PhpResult<ZBox<ZendHashTable>> {
        let input = array_to_map(zone, "zone")?;
        let zone = block_on(self.kvm.dns_zones().update(id_of(id)?, &input))?;
        Ok(to_array(&zone.to_public())?)
    }

    /// Removes zone `$id` from the module; records already written at the provider stay.
    ///
    /// @throws Exception\NotFoundException when there is no such zone
    pub fn delete(&self, id: i64) -> PhpResult<()> {
        block_on(self.kvm.dns_zones().delete(id_of(id)?))?;
        Ok(())
    }

    /// Checks the provider answers, accepts the credentials and has the zone under its name.
    /// Returns `ok` (bool) and `message` (the provider's own words on failure).
    ///
    /// @throws Exception\NotFoundException when there is no such zone
    pub fn test(&self, id: i64) -> PhpResult<ZBox<ZendHashTable>> {
        let id = id_of(id)?;
        let outcome = block_on(async {
            let zone = self.kvm.dns_zones().get(id).await?;
            let settings = self.kvm.settings().await?;
            let timeout = std::time::Duration::from_secs(u64::from(settings.default_timeout));
            let secrets = zone.secret_values();
            let result = Provider::for_zone(&zone, timeout)?.test().await;
            Ok::<_, Error>(result.map_err(|e| {
                secrets
                    .iter()
                    .fold(e.to_string(), |t, s| t.replace(s.as_str(), "***"))
            }))
        })?;
        let mut m = Map::new();
        match outcome {
            Ok(message) => {
                m.insert("ok".into(), true.into());
                m.insert("message".into(), message.into());
            }
            Err(message) => {
                m.insert("ok".into(), false.into());
                m.insert("message".into(), message.into());
            }
        }
        Ok(to_array(&m)?)
    }

    /// Writes the DNS records of service `$serviceId` to every matching zone.
    ///
    /// `$operation`: `create` (deploy: add what is missing), `replace` (change package, Set DNS
    /// records: the VM's names end up exactly matching its addresses) or `delete` (terminate).
    /// `$onEvent`, when given, is called with each record's outcome as it happens: an array
    /// with `line` (`fwd OK create vm.example.com A 192.0.2.10 (zone example.com, PowerDNS)`),
    /// `kind` (`fwd`/`rev`), `ok`, `action`, `record`, `zone`, `provider`, `error`.
    ///
    /// An exception thrown by `$onEvent` stops further calls to it and is rethrown once the
    /// sync has finished (the records are written either way).
    ///
    /// Provider failures never throw: the returned report lists `zones` (each with
    /// `requests`, `changes`, `error`), `events`, the `ok` and `errors` counts and a `summary`.
    ///
    /// @throws Exception\NotFoundException when the service or its VM row does not exist
    /// @throws Exception\ValidationException for an unknown operation or a VM name that is not a DNS name
    pub fn sync_service(
        &self,
        service_id: i64,
        operation: String,
        on_event: Option<ZendCallable>,
    ) -> PhpResult<ZBox<ZendHashTable>> {
        let op = Operation::parse(&operation).ok_or_else(|| {
            Error::validation(
                "operation",
                format!("'{operation}' is not an operation - use create, replace or delete"),
            )
        })?;
        let id = u64::try_from(service_id)
            .map_err(|_| Error::validation("service_id", "must be a service id"))?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let tx = on_event.is_some().then_some(tx);
        let report = drive(
            sync::sync_service(&self.kvm, id, op, ApplyMode::Batched, tx),
            rx,
            on_event.as_ref(),
            event_arg,
        )?;
        Ok(to_array(&report)?)
    }

    /// The forward and reverse name of every assigned address of the active services, as the
    /// legacy `dns.php` answers: a list of `forward`, `ip`, `reverse`.
    pub fn legacy_records(&self) -> PhpResult<Zval> {
        let rows = block_on(sync::legacy_records(&self.kvm))?;
        Ok(list(
            rows.into_iter()
                .map(|r| json!({"forward": r.forward, "ip": r.ip, "reverse": r.reverse}))
                .collect(),
        ))
    }

    /// Whether `$ip` is on the `dns_endpoint_allow` setting (empty: nobody is).
    pub fn endpoint_allows(&self, ip: String) -> PhpResult<bool> {
        let settings = block_on(self.kvm.settings())?;
        Ok(ip
            .trim()
            .parse()
            .is_ok_and(|ip| settings.dns_endpoint_allows(ip)))
    }
}

/// Registers the DNS classes.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module.class::<PhpDns>().class::<PhpDnsZones>()
}
