//! The change plan of one zone: from the records a VM owns, the PTRs it wrote for addresses it
//! no longer has, and what the zone holds now, the [`RrsetChange`]s that make the zone right.
//!
//! Only the VM's own names are touched: its FQDN (types A and AAAA) and the reverse names of
//! its addresses (type PTR). At a reverse name of an address the VM gave up, only the PTR it
//! wrote (the target recorded in the VM row) is removed; whatever else is there stays.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::providers::{Record, RecordType, RrsetChange};
use super::{Fqdn, ZoneName};

/// What a sync does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Deploy: add the records that are missing, remove nothing at the VM's names.
    Create,
    /// Change package, Set DNS records: the VM's names end up holding exactly its records.
    Replace,
    /// Terminate: remove the VM's records.
    Delete,
}

impl Operation {
    /// `create`, `replace` or `delete`.
    pub fn parse(text: &str) -> Option<Operation> {
        match text.trim().to_ascii_lowercase().as_str() {
            "create" => Some(Operation::Create),
            "replace" | "recreate" => Some(Operation::Replace),
            "delete" => Some(Operation::Delete),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Replace => "replace",
            Operation::Delete => "delete",
        }
    }
}

/// A name and type the VM owns, and the contents it should hold.
pub type Owned = BTreeMap<(Fqdn, RecordType), BTreeSet<String>>;

/// The names a plan for `zone` reads: owned names and stale reverse names inside the zone.
pub fn names_in(zone: &ZoneName, owned: &Owned, stale: &[(Fqdn, String)]) -> BTreeSet<Fqdn> {
    owned
        .keys()
        .map(|(n, _)| n)
        .chain(stale.iter().map(|(n, _)| n))
        .filter(|n| zone.contains(n))
        .cloned()
        .collect()
}

/// The changes for `zone`, given the records `existing` at the names it reads.
pub fn plan_zone(
    op: Operation,
    zone: &ZoneName,
    owned: &Owned,
    stale: &[(Fqdn, String)],
    existing: &[Record],
) -> Vec<RrsetChange> {
    let mut targets: BTreeMap<(Fqdn, RecordType), BTreeSet<String>> = BTreeMap::new();
    let at = |name: &Fqdn, rtype: RecordType| -> Vec<&Record> {
        existing
            .iter()
            .filter(|r| &r.name == name && r.rtype == rtype)
            .collect()
    };
    for ((name, rtype), wanted) in owned.iter().filter(|((n, _), _)| zone.contains(n)) {
        let now: BTreeSet<String> = at(name, *rtype).iter().map(|r| r.content.clone()).collect();
        let target = match op {
            Operation::Create => now.union(wanted).cloned().collect(),
            Operation::Replace => wanted.clone(),
            Operation::Delete => BTreeSet::new(),
        };
        targets.insert((name.clone(), *rtype), target);
    }
    for (name, content) in stale.iter().filter(|(n, _)| zone.contains(n)) {
        let key = (name.clone(), RecordType::Ptr);
        if owned.contains_key(&key) {
            continue;
        }
        let target = targets.entry(key).or_insert_with(|| {
            at(name, RecordType::Ptr)
                .iter()
                .map(|r| r.content.clone())
                .collect()
        });
        target.remove(content);
    }
    targets
        .into_iter()
        .filter_map(|((name, rtype), target)| {
            let now = at(&name, rtype);
            let present: BTreeSet<&str> = now.iter().map(|r| r.content.as_str()).collect();
            let delete: Vec<Record> = now
                .iter()
                .filter(|r| !target.contains(&r.content))
                .map(|r| (*r).clone())
                .collect();
            let create: Vec<String> = target
                .iter()
                .filter(|t| !present.contains(t.as_str()))
                .cloned()
                .collect();
            // A duplicate record (same content twice) is also cleaned up.
            let duplicates = present.len() < now.len();
            (!delete.is_empty() || !create.is_empty() || duplicates).then(|| {
                let mut delete = delete;
                if duplicates {
                    let mut seen = BTreeSet::new();
                    for r in &now {
                        if target.contains(&r.content) && !seen.insert(r.content.clone()) {
                            delete.push((*r).clone());
                        }
                    }
                }
                RrsetChange {
                    name,
                    rtype,
                    target: target.into_iter().collect(),
                    delete,
                    create,
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Fqdn {
        Fqdn::parse("n", s).unwrap()
    }
    fn rec(name: &str, t: RecordType, c: &str, id: &str) -> Record {
        Record {
            name: n(name),
            rtype: t,
            content: c.into(),
            id: Some(id.into()),
        }
    }

    #[test]
    fn plans_touch_only_the_vms_names_and_its_own_stale_ptrs() {
        use RecordType::*;
        let fwd = ZoneName::parse("z", "example.com").unwrap();
        let rev = ZoneName::parse("z", "2.0.192.in-addr.arpa").unwrap();
        let mut owned = Owned::new();
        owned.insert((n("vm.example.com"), A), ["192.0.2.10".to_string()].into());
        owned.insert(
            (n("10.2.0.192.in-addr.arpa"), Ptr),
            ["vm.example.com".to_string()].into(),
        );
        let stale = vec![(n("11.2.0.192.in-addr.arpa"), "vm.example.com".to_string())];
        let existing = vec![
            rec("vm.example.com", A, "192.0.2.9", "1"),
            rec("10.2.0.192.in-addr.arpa", Ptr, "vm.example.com", "2"),
            rec("11.2.0.192.in-addr.arpa", Ptr, "vm.example.com", "3"),
            rec("11.2.0.192.in-addr.arpa", Ptr, "other.example.com", "4"),
        ];
        struct Case {
            op: Operation,
            zone: ZoneName,
            expect: Vec<(&'static str, Vec<&'static str>, Vec<&'static str>)>,
        }
        let cases = vec![
            Case {
                op: Operation::Create,
                zone: fwd.clone(),
                expect: vec![("vm.example.com", vec![], vec!["192.0.2.10"])],
            },
            Case {
                op: Operation::Replace,
                zone: fwd.clone(),
                expect: vec![("vm.example.com", vec!["1"], vec!["192.0.2.10"])],
            },
            Case {
                op: Operation::Delete,
                zone: fwd.clone(),
                expect: vec![("vm.example.com", vec!["1"], vec![])],
            },
            Case {
                op: Operation::Replace,
                zone: rev.clone(),
                expect: vec![("11.2.0.192.in-addr.arpa", vec!["3"], vec![])],
            },
            Case {
                op: Operation::Create,
                zone: rev.clone(),
                expect: vec![("11.2.0.192.in-addr.arpa", vec!["3"], vec![])],
            },
            Case {
                op: Operation::Delete,
                zone: rev.clone(),
                expect: vec![
                    ("10.2.0.192.in-addr.arpa", vec!["2"], vec![]),
                    ("11.2.0.192.in-addr.arpa", vec!["3"], vec![]),
                ],
            },
        ];
        for case in cases {
            let plan = plan_zone(case.op, &case.zone, &owned, &stale, &existing);
            let got: Vec<(String, Vec<String>, Vec<String>)> = plan
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.delete.iter().filter_map(|r| r.id.clone()).collect(),
                        c.create.clone(),
                    )
                })
                .collect();
            let want: Vec<(String, Vec<String>, Vec<String>)> = case
                .expect
                .iter()
                .map(|(name, d, c)| {
                    (
                        name.to_string(),
                        d.iter().map(|s| s.to_string()).collect(),
                        c.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .collect();
            assert_eq!(got, want, "{:?} in {}", case.op, case.zone);
        }
        // A zone matching nothing plans nothing.
        let other = ZoneName::parse("z", "example.org").unwrap();
        assert!(plan_zone(Operation::Replace, &other, &owned, &stale, &existing).is_empty());
        assert!(names_in(&other, &owned, &stale).is_empty());
    }
}
