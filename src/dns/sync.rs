//! The DNS records of a service, written to every zone that matches them.
//!
//! For a service, the desired records are `A`/`AAAA` at `<vm_name>.<main domain>` for every
//! assigned address (`tblhosting.dedicatedip` and `assignedips`), and a `PTR` at each
//! address's reverse name pointing at that name, or at the custom reverse name the VM row
//! keeps (`vm_rev_dns`). Each record goes to every configured zone that matches it; zones
//! matching nothing are skipped. Per zone: read, plan, apply ([`super::plan`]).
//!
//! Errors never stop a sync: each zone runs on its own, each change has its own result, and
//! every record ends in an [`Event`] (`fwd OK`, `rev ERR`, ...). The caller gets the whole
//! [`SyncReport`]; the PHP side writes its errors and summary to the WHMCS module log.
//!
//! The VM row's `vm_dns_managed` keeps `address => PTR target` of what the module wrote, so a
//! later run removes the PTRs of addresses the VM no longer has, and only those.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

use super::plan::{names_in, plan_zone, Operation, Owned};
use super::providers::{ApplyMode, DnsProvider, Provider, RecordType};
use super::zones::{DnsZone, ZoneStore};
use super::{reverse_name, Fqdn};
use crate::db::first;
use crate::error::{Error, Result};
use crate::module::Kvm;

/// One record's outcome, as the live output shows it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Event {
    /// `fwd` (A/AAAA) or `rev` (PTR).
    pub kind: &'static str,
    pub ok: bool,
    /// `create` or `delete`.
    pub action: &'static str,
    /// `vm.example.com A 192.0.2.10`.
    pub record: String,
    pub zone: String,
    pub provider: &'static str,
    /// The provider's message, secrets masked.
    pub error: Option<String>,
}

impl Event {
    /// `fwd OK create vm.example.com A 192.0.2.10 (zone example.com, PowerDNS)`, with
    /// `: <error>` on failure.
    pub fn line(&self) -> String {
        format!(
            "{} {} {} {} (zone {}, {}){}",
            self.kind,
            if self.ok { "OK" } else { "ERR" },
            self.action,
            self.record,
            self.zone,
            self.provider,
            self.error
                .as_ref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )
    }
}

/// What happened in one zone.
#[derive(Clone, Debug, Serialize)]
pub struct ZoneReport {
    pub id: u64,
    pub zone: String,
    pub provider: &'static str,
    /// Names and types changed (or attempted).
    pub changes: usize,
    /// HTTP requests sent.
    pub requests: u64,
    pub millis: u64,
    /// Set when the zone could not be read; its records are reported failed.
    pub error: Option<String>,
}

/// The outcome of a sync.
#[derive(Clone, Debug, Serialize)]
pub struct SyncReport {
    pub service_id: u64,
    pub operation: Operation,
    pub fqdn: String,
    /// Zones that matched at least one record.
    pub zones: Vec<ZoneReport>,
    pub events: Vec<Event>,
    pub ok: usize,
    pub errors: usize,
    /// Assigned addresses that are not addresses, skipped.
    pub skipped: Vec<String>,
    /// One line for the module log: `dns replace for service 12 (vm.example.com): 70 records
    /// written, 0 errors, 2 zones`.
    pub summary: String,
}

/// The records a service should have.
#[derive(Clone, Debug, Default)]
pub struct Desired {
    pub fqdn: Option<Fqdn>,
    /// Address => PTR target.
    pub ptr: BTreeMap<IpAddr, Fqdn>,
    pub skipped: Vec<String>,
}

impl Desired {
    /// From the service's addresses, the VM's name and main domain, and the custom reverse
    /// names (`vm_rev_dns` JSON). An address without a reverse target (no FQDN, no custom
    /// name) gets no PTR.
    pub fn build(
        addresses: &[String],
        vm_name: &str,
        domain: &str,
        rev_dns: &str,
    ) -> Result<Desired> {
        let domain = domain.trim().trim_start_matches('.');
        let fqdn = if vm_name.trim().is_empty() || domain.is_empty() {
            None
        } else {
            Some(Fqdn::parse(
                "vm_name",
                &format!("{}.{domain}", vm_name.trim()),
            )?)
        };
        let custom: BTreeMap<IpAddr, Fqdn> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(rev_dns)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(ip, name)| {
                    Some((
                        ip.trim().parse().ok()?,
                        Fqdn::parse("vm_rev_dns", name.as_str()?).ok()?,
                    ))
                })
                .collect();
        let mut d = Desired {
            fqdn,
            ..Default::default()
        };
        for a in addresses.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
            match a.parse::<IpAddr>() {
                Ok(ip) => {
                    if let Some(target) = custom.get(&ip).or(d.fqdn.as_ref()) {
                        d.ptr.insert(ip, target.clone());
                    }
                }
                Err(_) => d.skipped.push(a.to_string()),
            }
        }
        Ok(d)
    }

    /// The names and types the VM owns with their contents.
    pub fn owned(&self, addresses: &BTreeSet<IpAddr>) -> Owned {
        let mut owned = Owned::new();
        if let Some(fqdn) = &self.fqdn {
            owned.insert((fqdn.clone(), RecordType::A), BTreeSet::new());
            owned.insert((fqdn.clone(), RecordType::Aaaa), BTreeSet::new());
            for ip in addresses {
                let t = if ip.is_ipv4() {
                    RecordType::A
                } else {
                    RecordType::Aaaa
                };
                if let Some(set) = owned.get_mut(&(fqdn.clone(), t)) {
                    set.insert(ip.to_string());
                }
            }
        }
        for (ip, target) in &self.ptr {
            owned.insert(
                (reverse_name(*ip), RecordType::Ptr),
                [target.to_string()].into(),
            );
        }
        owned
    }
}

fn mask(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

/// Writes `owned` (and removes `stale`) in every matching zone of `zones`; events go to `tx`
/// as they happen. Returns the zone reports and the events, and the names whose change failed.
pub async fn sync_records(
    zones: Vec<DnsZone>,
    owned: Owned,
    stale: Vec<(Fqdn, String)>,
    op: Operation,
    mode: ApplyMode,
    timeout: Duration,
    tx: Option<UnboundedSender<Event>>,
) -> (Vec<ZoneReport>, Vec<Event>, BTreeSet<Fqdn>) {
    let (owned, stale) = (Arc::new(owned), Arc::new(stale));
    // Zones on one server are written one after another (a PowerDNS on SQLite serialises
    // writes anyway, and no server gets a burst); different servers in parallel.
    let mut groups: BTreeMap<String, Vec<(usize, DnsZone)>> = BTreeMap::new();
    for (order, zone) in zones.into_iter().enumerate() {
        if names_in(&zone.zone, &owned, &stale).is_empty() {
            continue;
        }
        let server = format!(
            "{}|{}{}",
            zone.kind.as_str(),
            zone.value("server_url"),
            zone.value("api_url")
        );
        groups.entry(server).or_default().push((order, zone));
    }
    let mut set = JoinSet::new();
    for (_, group) in groups {
        let (owned, stale, tx) = (owned.clone(), stale.clone(), tx.clone());
        set.spawn(async move {
            let mut out = Vec::new();
            for (order, zone) in group {
                let (report, events, failed) =
                    sync_zone(&zone, &owned, &stale, op, mode, timeout, tx.as_ref()).await;
                out.push((order, report, events, failed));
            }
            out
        });
    }
    let mut done = Vec::new();
    while let Some(joined) = set.join_next().await {
        if let Ok(r) = joined {
            done.extend(r);
        }
    }
    done.sort_by_key(|(order, ..)| *order);
    let mut reports = Vec::new();
    let mut events = Vec::new();
    let mut failed = BTreeSet::new();
    for (_, r, e, f) in done {
        reports.push(r);
        events.extend(e);
        failed.extend(f);
    }
    (reports, events, failed)
}

/// Reads, plans and applies one zone.
async fn sync_zone(
    zone: &DnsZone,
    owned: &Owned,
    stale: &[(Fqdn, String)],
    op: Operation,
    mode: ApplyMode,
    timeout: Duration,
    tx: Option<&UnboundedSender<Event>>,
) -> (ZoneReport, Vec<Event>, BTreeSet<Fqdn>) {
    let names = names_in(&zone.zone, owned, stale);
    let started = Instant::now();
    let secrets = zone.secret_values();
    let provider_label = zone.kind.label();
    let mut events = Vec::new();
    let mut failed = BTreeSet::new();
    let emit = |events: &mut Vec<Event>, e: Event| {
        if let Some(tx) = tx {
            let _ = tx.send(e.clone());
        }
        events.push(e);
    };
    let kind_of = |t: RecordType| if t == RecordType::Ptr { "rev" } else { "fwd" };
    let mut report = ZoneReport {
        id: zone.id,
        zone: zone.zone.to_string(),
        provider: provider_label,
        changes: 0,
        requests: 0,
        millis: 0,
        error: None,
    };
    let outcome = async {
        let provider = Provider::for_zone(zone, timeout)?;
        let existing = provider.records(&names).await;
        Ok::<_, Error>((existing, provider))
    }
    .await;
    match outcome {
        Ok((Ok(existing), provider)) => {
            let changes = plan_zone(op, &zone.zone, owned, stale, &existing);
            report.changes = changes.len();
            let results = provider.apply(&changes, mode).await;
            for (change, result) in changes.iter().zip(results) {
                let error = result.err().map(|e| mask(&e, &secrets));
                if error.is_some() {
                    failed.insert(change.name.clone());
                }
                let records = change
                    .create
                    .iter()
                    .map(|c| ("create", c.as_str()))
                    .chain(change.delete.iter().map(|r| ("delete", r.content.as_str())));
                for (action, content) in records {
                    emit(
                        &mut events,
                        Event {
                            kind: kind_of(change.rtype),
                            ok: error.is_none(),
                            action,
                            record: format!("{} {} {content}", change.name, change.rtype),
                            zone: zone.zone.to_string(),
                            provider: provider_label,
                            error: error.clone(),
                        },
                    );
                }
            }
            report.requests = provider.requests();
        }
        Ok((Err(e), _)) | Err(e) => {
            let error = mask(&e.to_string(), &secrets);
            report.error = Some(error.clone());
            let action = if op == Operation::Delete {
                "delete"
            } else {
                "create"
            };
            for ((name, rtype), contents) in
                owned.iter().filter(|((n, _), _)| zone.zone.contains(n))
            {
                failed.insert(name.clone());
                let contents: Vec<&str> = if op == Operation::Delete {
                    vec!["*"]
                } else {
                    contents.iter().map(String::as_str).collect()
                };
                for c in contents {
                    emit(
                        &mut events,
                        Event {
                            kind: kind_of(*rtype),
                            ok: false,
                            action,
                            record: format!("{name} {rtype} {c}"),
                            zone: zone.zone.to_string(),
                            provider: provider_label,
                            error: Some(error.clone()),
                        },
                    );
                }
            }
            for (name, _) in stale.iter().filter(|(n, _)| zone.zone.contains(n)) {
                failed.insert(name.clone());
            }
        }
    }
    report.millis = started.elapsed().as_millis() as u64;
    (report, events, failed)
}

/// The addresses of a service as WHMCS records them.
pub fn service_addresses(dedicated: &str, assigned: &str) -> Vec<String> {
    std::iter::once(dedicated)
        .chain(assigned.lines())
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .collect()
}

/// Syncs the DNS records of service `service_id` (see the module docs).
///
/// # Errors
/// Only for what stops a sync before any provider is called: [`Error::NotFound`] when the
/// service or its VM row does not exist, [`Error::Validation`] for a VM name that is not a DNS
/// name, [`Error::Database`]. Provider failures are in the report.
pub async fn sync_service(
    kvm: &Kvm,
    service_id: u64,
    op: Operation,
    mode: ApplyMode,
    tx: Option<UnboundedSender<Event>>,
) -> Result<SyncReport> {
    let mut conn = kvm.db().conn().await?;
    let service: Option<(String, String, String)> = first(
        &mut conn,
        "SELECT h.dedicatedip, h.assignedips, COALESCE(p.configoption21, '') FROM tblhosting h LEFT JOIN tblproducts p ON p.id = h.packageid WHERE h.id = ?",
        (service_id,),
    )
    .await?;
    let (dedicated, assigned, domain) =
        service.ok_or_else(|| Error::NotFound(format!("service {service_id} does not exist")))?;
    let vm: Option<(String, Option<String>, Option<String>)> = first(
        &mut conn,
        "SELECT vm_name, vm_rev_dns, vm_dns_managed FROM puqProxmoxKVM_vm_info WHERE service_id = ?",
        (service_id,),
    )
    .await?;
    let (vm_name, rev_dns, managed) = vm.ok_or_else(|| {
        Error::NotFound(format!(
            "service {service_id} has no VM yet - deploy it first"
        ))
    })?;
    let addresses = service_addresses(&dedicated, &assigned);
    let desired = Desired::build(
        &addresses,
        &vm_name,
        &domain,
        rev_dns.as_deref().unwrap_or(""),
    )?;
    let current: BTreeSet<IpAddr> = addresses.iter().filter_map(|a| a.parse().ok()).collect();
    let previous: BTreeMap<IpAddr, String> = serde_json::from_str::<
        serde_json::Map<String, serde_json::Value>,
    >(managed.as_deref().unwrap_or(""))
    .unwrap_or_default()
    .into_iter()
    .filter_map(|(ip, t)| Some((ip.parse().ok()?, t.as_str()?.to_string())))
    .collect();
    // PTRs written earlier for addresses the VM no longer has (or, on delete, any address).
    let stale: Vec<(Fqdn, String)> = previous
        .iter()
        .filter(|(ip, _)| op == Operation::Delete || !current.contains(ip))
        .map(|(ip, t)| (reverse_name(*ip), t.clone()))
        .collect();
    let owned = desired.owned(&current);
    let settings = kvm.settings().await?;
    let zones = ZoneStore::new(kvm.db(), kvm.encryption_key()).all().await?;
    let timeout = Duration::from_secs(u64::from(settings.default_timeout));
    let (reports, events, failed) = sync_records(zones, owned, stale, op, mode, timeout, tx).await;

    // What the VM manages from now on: its current PTRs (unless deleted), plus any old or
    // deleted one whose removal failed, so the next run retries it.
    let mut keep: BTreeMap<String, String> = BTreeMap::new();
    if op != Operation::Delete {
        for (ip, target) in &desired.ptr {
            keep.insert(ip.to_string(), target.to_string());
        }
    }
    for (ip, target) in &previous {
        if failed.contains(&reverse_name(*ip)) && (op == Operation::Delete || !current.contains(ip))
        {
            keep.insert(ip.to_string(), target.clone());
        }
    }
    if op == Operation::Delete {
        for (ip, target) in &desired.ptr {
            if failed.contains(&reverse_name(*ip)) {
                keep.insert(ip.to_string(), target.to_string());
            }
        }
    }
    let keep = serde_json::to_string(&keep).unwrap_or_else(|_| "{}".into());
    conn.exec_drop(
        "UPDATE puqProxmoxKVM_vm_info SET vm_dns_managed = ? WHERE service_id = ?",
        (keep, service_id),
    )
    .await?;

    let ok = events.iter().filter(|e| e.ok).count();
    let errors = events.len() - ok;
    let fqdn = desired
        .fqdn
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    let zones_failed = reports
        .iter()
        .filter(|r| r.error.is_some() || events.iter().any(|e| !e.ok && e.zone == r.zone))
        .count();
    let summary = format!(
        "dns {} for service {service_id} ({}): {ok} records ok, {errors} errors, {} zones matched{}{}",
        op.as_str(),
        if fqdn.is_empty() { "no main domain" } else { &fqdn },
        reports.len(),
        if zones_failed > 0 { format!(", {zones_failed} with errors") } else { String::new() },
        if desired.skipped.is_empty() { String::new() } else { format!(", skipped addresses that are not IPs: {}", desired.skipped.join(", ")) },
    );
    Ok(SyncReport {
        service_id,
        operation: op,
        fqdn,
        zones: reports,
        events,
        ok,
        errors,
        skipped: desired.skipped,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desired_records_follow_addresses_and_custom_reverse_names() {
        let addrs = service_addresses("192.0.2.10", "192.0.2.11\n\n 2001:db8::3 \nnot-an-ip\n");
        let d = Desired::build(&addrs, "vm-1", ".Example.com", r#"{"192.0.2.11":"mail.example.org","2001:0db8:0000:0000:0000:0000:0000:0003":"v6.example.org"}"#).unwrap();
        assert_eq!(d.fqdn.as_ref().unwrap().as_str(), "vm-1.example.com");
        assert_eq!(d.skipped, vec!["not-an-ip"]);
        let ptr: Vec<(String, String)> = d
            .ptr
            .iter()
            .map(|(i, t)| (i.to_string(), t.to_string()))
            .collect();
        assert_eq!(
            ptr,
            vec![
                ("192.0.2.10".into(), "vm-1.example.com".into()),
                ("192.0.2.11".into(), "mail.example.org".into()),
                ("2001:db8::3".into(), "v6.example.org".into()),
            ]
        );
        let current: BTreeSet<IpAddr> = addrs.iter().filter_map(|a| a.parse().ok()).collect();
        let owned = d.owned(&current);
        assert_eq!(
            owned[&(Fqdn::parse("n", "vm-1.example.com").unwrap(), RecordType::A)].len(),
            2
        );
        assert_eq!(
            owned[&(
                Fqdn::parse("n", "vm-1.example.com").unwrap(),
                RecordType::Aaaa
            )]
                .len(),
            1
        );
        assert_eq!(owned.len(), 5);
        // No main domain: no forward records, PTRs only where a custom name is set.
        let d = Desired::build(&addrs, "vm-1", "", r#"{"192.0.2.11":"mail.example.org"}"#).unwrap();
        assert!(d.fqdn.is_none());
        assert_eq!(d.ptr.len(), 1);
        assert_eq!(
            Desired::build(&addrs, "vm 1", "example.com", "")
                .unwrap_err()
                .field(),
            Some("vm_name")
        );
    }
}

/// One row of the legacy `dns.php` answer.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LegacyRecord {
    pub forward: String,
    pub ip: String,
    pub reverse: String,
}

/// Every assigned address of the active services of this module, with the VM's FQDN and the
/// reverse name (the custom one where set), for the legacy `dns.php` endpoint.
pub async fn legacy_records(kvm: &Kvm) -> Result<Vec<LegacyRecord>> {
    let mut conn = kvm.db().conn().await?;
    let rows: Vec<(String, String, String, String, Option<String>)> = crate::db::all(
        &mut conn,
        "SELECT h.dedicatedip, h.assignedips, COALESCE(p.configoption21, ''), v.vm_name, v.vm_rev_dns \
         FROM tblhosting h JOIN tblproducts p ON p.id = h.packageid JOIN puqProxmoxKVM_vm_info v ON v.service_id = h.id \
         WHERE p.servertype = 'puqProxmoxKVM' AND h.domainstatus = 'Active' ORDER BY h.id",
        (),
    )
    .await?;
    let mut out = Vec::new();
    for (dedicated, assigned, domain, vm_name, rev_dns) in rows {
        let addresses = service_addresses(&dedicated, &assigned);
        // A VM whose name is not a DNS name is left out rather than failing the whole list.
        let Ok(desired) = Desired::build(
            &addresses,
            &vm_name,
            &domain,
            rev_dns.as_deref().unwrap_or(""),
        ) else {
            continue;
        };
        let forward = desired
            .fqdn
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        for a in &addresses {
            let Ok(ip) = a.parse::<IpAddr>() else {
                continue;
            };
            let reverse = desired
                .ptr
                .get(&ip)
                .map(ToString::to_string)
                .unwrap_or_default();
            out.push(LegacyRecord {
                forward: forward.clone(),
                ip: ip.to_string(),
                reverse,
            });
        }
    }
    Ok(out)
}
