//! Selection (`-t`, `-d`, `-k`) and ordering (by id, honouring `after`).
use std::collections::{BTreeMap, BTreeSet};

use gflab_tests::{Registered, VolumeType};

/// One run of a case: the case, and the volume type of its variant when it runs over the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// The case.
    pub reg: &'a Registered,
    /// The variant's volume type (`None`: a case without `runs_on`).
    pub volume_type: Option<VolumeType>,
}

impl Item<'_> {
    /// `301` or `301[disperse]`: how the run is named in `-t`, progress, reports and JUnit.
    pub fn key(&self) -> String {
        variant_key(self.reg.case.id, self.volume_type)
    }
}

/// `301` or `301[disperse]`.
pub fn variant_key(id: u32, volume_type: Option<VolumeType>) -> String {
    match volume_type {
        None => id.to_string(),
        Some(t) => format!("{id}[{t}]"),
    }
}

/// A `-t` entry: an id, and optionally one of its variants (`301[disperse]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdSel {
    /// The case id.
    pub id: u32,
    /// Only this variant.
    pub volume_type: Option<VolumeType>,
}

/// What the user asked to run; empty fields select everything.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `-t`: exact ids, or ids with a variant.
    pub ids: Vec<IdSel>,
    /// `-d`: component folder names.
    pub components: Vec<String>,
    /// `-k`: substring of the case name.
    pub name: Option<String>,
    /// `--deselect`: runs left out of what the other filters pick (a whole case, or one variant).
    pub deselect: Vec<IdSel>,
}

/// Why a selection cannot be run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectError {
    /// `-t` named ids no case has.
    #[error("no test case has id {}\nhint: gflab test --list shows every id", join(.0))]
    UnknownIds(Vec<u32>),
    /// `-d` named components that do not exist.
    #[error("no component named {}; components: {}", .unknown.join(", "), .known.join(", "))]
    UnknownComponents {
        /// What was asked for.
        unknown: Vec<String>,
        /// What exists.
        known: Vec<String>,
    },
    /// The filters together match nothing.
    #[error("no test case matches the selection ({0})")]
    Empty(String),
    /// `after` relations form a cycle among the selected cases.
    #[error("test ordering has a cycle among ids {}", join(.0))]
    Cycle(Vec<u32>),
    /// `-t ID[TYPE]` named a type the case does not run on.
    #[error("test {id} does not run on {asked}; {}", runs_on(.types))]
    UnknownVariant {
        /// The case.
        id: u32,
        /// The type asked for.
        asked: VolumeType,
        /// The types it runs on.
        types: Vec<VolumeType>,
    },
}

fn runs_on(types: &[VolumeType]) -> String {
    if types.is_empty() {
        "it has no volume-type variants (run it as -t ID)".to_string()
    } else {
        let names: Vec<&str> = types.iter().map(|t| t.name()).collect();
        format!("its variants: {}", names.join(", "))
    }
}

fn join(ids: &[u32]) -> String {
    ids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses `-t` values: each may hold several ids separated by spaces or commas, each id
/// optionally with a variant (`301[disperse]`).
pub fn parse_ids(values: &[String]) -> Result<Vec<IdSel>, String> {
    let mut ids = Vec::new();
    for v in values {
        for word in v
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
        {
            let (num, variant) = match word.split_once('[') {
                None => (word, None),
                Some((num, rest)) => {
                    let name = rest.strip_suffix(']').ok_or_else(|| {
                        format!("invalid test id {word:?} in -t {v:?}: a variant is ID[TYPE]")
                    })?;
                    let t = VolumeType::parse(name).ok_or_else(|| {
                        let names: Vec<&str> = VolumeType::ALL.iter().map(|t| t.name()).collect();
                        format!(
                            "unknown volume type {name:?} in -t {v:?}; types: {}",
                            names.join(", ")
                        )
                    })?;
                    (num, Some(t))
                }
            };
            let id = num
                .parse::<u32>()
                .map_err(|_| format!("invalid test id {word:?} in -t {v:?}: ids are numbers"))?;
            ids.push(IdSel {
                id,
                volume_type: variant,
            });
        }
    }
    Ok(ids)
}

/// Splits `-d` values on spaces and commas.
pub fn parse_words(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Filters `cases` by the selection and returns the runs in order: cases by id and `after`, each
/// case's variants in its `runs_on` order.
pub fn select<'a>(cases: &'a [Registered], sel: &Selection) -> Result<Vec<Item<'a>>, SelectError> {
    let picked = select_cases(cases, sel)?;
    let mut items = Vec::new();
    for reg in picked {
        let asked: Vec<VolumeType> = sel
            .ids
            .iter()
            .filter(|s| s.id == reg.case.id)
            .filter_map(|s| s.volume_type)
            .collect();
        // `-t 301` (or no -t) runs every variant; `-t 301[disperse]` only that one.
        let whole = sel.ids.is_empty()
            || sel
                .ids
                .iter()
                .any(|s| s.id == reg.case.id && s.volume_type.is_none());
        for &t in &asked {
            if !reg.case.runs_on.contains(&t) {
                return Err(SelectError::UnknownVariant {
                    id: reg.case.id,
                    asked: t,
                    types: reg.case.runs_on.to_vec(),
                });
            }
        }
        if reg.case.runs_on.is_empty() {
            items.push(Item {
                reg,
                volume_type: None,
            });
        } else {
            items.extend(
                reg.case
                    .runs_on
                    .iter()
                    .filter(|t| whole || asked.contains(t))
                    .map(|&t| Item {
                        reg,
                        volume_type: Some(t),
                    }),
            );
        }
    }
    items.retain(|item| {
        !sel.deselect.iter().any(|d| {
            d.id == item.reg.case.id && d.volume_type.is_none_or(|t| item.volume_type == Some(t))
        })
    });
    if items.is_empty() {
        return Err(SelectError::Empty(describe(sel)));
    }
    Ok(items)
}

/// Filters `cases` by the selection and returns them in run order (one entry per case).
pub fn select_cases<'a>(
    cases: &'a [Registered],
    sel: &Selection,
) -> Result<Vec<&'a Registered>, SelectError> {
    let unknown: Vec<u32> = sel
        .ids
        .iter()
        .chain(&sel.deselect)
        .map(|s| s.id)
        .filter(|id| !cases.iter().any(|c| c.case.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(SelectError::UnknownIds(unknown));
    }
    let known: BTreeSet<&str> = cases.iter().map(|c| c.component).collect();
    let unknown: Vec<String> = sel
        .components
        .iter()
        .filter(|c| !known.contains(c.as_str()))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(SelectError::UnknownComponents {
            unknown,
            known: known.into_iter().map(str::to_string).collect(),
        });
    }
    let picked: Vec<&Registered> = cases
        .iter()
        .filter(|c| sel.ids.is_empty() || sel.ids.iter().any(|s| s.id == c.case.id))
        .filter(|c| sel.components.is_empty() || sel.components.iter().any(|d| d == c.component))
        .filter(|c| sel.name.as_deref().is_none_or(|k| c.case.name.contains(k)))
        .collect();
    if picked.is_empty() {
        return Err(SelectError::Empty(describe(sel)));
    }
    order(picked)
}

fn describe(sel: &Selection) -> String {
    let mut parts = Vec::new();
    if !sel.ids.is_empty() {
        let ids: Vec<String> = sel
            .ids
            .iter()
            .map(|s| variant_key(s.id, s.volume_type))
            .collect();
        parts.push(format!("-t {}", ids.join(" ")));
    }
    if !sel.components.is_empty() {
        parts.push(format!("-d {}", sel.components.join(" ")));
    }
    if let Some(k) = &sel.name {
        parts.push(format!("-k {k}"));
    }
    if !sel.deselect.is_empty() {
        let ids: Vec<String> = sel
            .deselect
            .iter()
            .map(|s| variant_key(s.id, s.volume_type))
            .collect();
        parts.push(format!("--deselect {}", ids.join(" ")));
    }
    if parts.is_empty() {
        "no test cases registered".to_string()
    } else {
        parts.join(" ")
    }
}

/// Orders by id, moving a case after the selected cases it names in `after` (stable: among the cases
/// that may run next, the lowest id goes first).
pub fn order(mut cases: Vec<&Registered>) -> Result<Vec<&Registered>, SelectError> {
    cases.sort_by_key(|c| c.case.id);
    let selected: BTreeSet<u32> = cases.iter().map(|c| c.case.id).collect();
    let mut waiting: BTreeMap<u32, BTreeSet<u32>> = cases
        .iter()
        .map(|c| {
            let deps = c
                .case
                .after
                .iter()
                .copied()
                .filter(|a| selected.contains(a))
                .collect();
            (c.case.id, deps)
        })
        .collect();
    let mut out = Vec::with_capacity(cases.len());
    while !waiting.is_empty() {
        let next = waiting
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(id, _)| *id);
        let Some(id) = next else {
            return Err(SelectError::Cycle(waiting.keys().copied().collect()));
        };
        waiting.remove(&id);
        for deps in waiting.values_mut() {
            deps.remove(&id);
        }
        if let Some(c) = cases.iter().find(|c| c.case.id == id) {
            out.push(*c);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use gflab_tests::{Case, Ctx, TestError};

    fn noop(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async { Ok(()) })
    }
    static C101: Case = Case::new(101, "pool_formed", noop);
    static C102: Case = Case::new(102, "volume_types", noop).after(&[105]);
    static C105: Case = Case::new(105, "brick_kill", noop);
    static C201: Case = Case::new(201, "snap_create", noop);
    static CYC1: Case = Case::new(1, "a", noop).after(&[2]);
    static CYC2: Case = Case::new(2, "b", noop).after(&[1]);

    fn reg(component: &'static str, case: &'static Case) -> Registered {
        Registered {
            component,
            file: "tests_d/x/test_x.rs",
            case,
        }
    }

    fn all() -> Vec<Registered> {
        vec![
            reg("snapshot", &C201),
            reg("example", &C105),
            reg("example", &C102),
            reg("example", &C101),
        ]
    }

    fn ids(v: &[Item<'_>]) -> Vec<u32> {
        v.iter().map(|c| c.reg.case.id).collect()
    }
    fn sel_ids(ids: &[u32]) -> Vec<IdSel> {
        ids.iter()
            .map(|&id| IdSel {
                id,
                volume_type: None,
            })
            .collect()
    }

    #[test]
    fn orders_by_id_and_after() {
        let cases = all();
        let got = select(&cases, &Selection::default()).expect("select");
        assert_eq!(ids(&got), [101, 105, 102, 201]);
    }

    #[test]
    fn after_on_unselected_case_is_ignored() {
        let cases = all();
        let sel = Selection {
            ids: sel_ids(&[102]),
            ..Default::default()
        };
        assert_eq!(ids(&select(&cases, &sel).expect("select")), [102]);
    }

    #[test]
    fn filters_combine() {
        let cases = all();
        let sel = Selection {
            components: vec!["example".into()],
            name: Some("o".into()),
            ..Default::default()
        };
        assert_eq!(ids(&select(&cases, &sel).expect("select")), [101, 102]);
        let sel = Selection {
            name: Some("snap".into()),
            ..Default::default()
        };
        assert_eq!(ids(&select(&cases, &sel).expect("select")), [201]);
    }

    #[test]
    fn bad_selections_are_named() {
        let cases = all();
        let sel = Selection {
            ids: sel_ids(&[101, 999]),
            ..Default::default()
        };
        assert_eq!(
            select(&cases, &sel).expect_err("bad"),
            SelectError::UnknownIds(vec![999])
        );
        let sel = Selection {
            components: vec!["nope".into()],
            ..Default::default()
        };
        let e = select(&cases, &sel).expect_err("bad").to_string();
        assert!(
            e.contains("no component named nope; components: example, snapshot"),
            "{e}"
        );
        let sel = Selection {
            name: Some("zzz".into()),
            ..Default::default()
        };
        assert!(select(&cases, &sel)
            .expect_err("empty")
            .to_string()
            .contains("-k zzz"));
    }

    static M301: Case =
        Case::new(301, "matrix", noop).runs_on(&[VolumeType::Replicate, VolumeType::Disperse]);

    #[test]
    fn matrix_cases_expand_into_variants() {
        let cases = vec![reg("afr", &M301), reg("example", &C101)];
        let keys = |sel: &Selection| -> Vec<String> {
            select(&cases, sel)
                .expect("select")
                .iter()
                .map(Item::key)
                .collect()
        };
        assert_eq!(
            keys(&Selection::default()),
            ["101", "301[replicate]", "301[disperse]"]
        );
        let one = Selection {
            ids: parse_ids(&["301[disperse]".to_string()]).expect("ids"),
            ..Default::default()
        };
        assert_eq!(keys(&one), ["301[disperse]"]);
        let all = Selection {
            ids: parse_ids(&["301".to_string()]).expect("ids"),
            ..Default::default()
        };
        assert_eq!(keys(&all), ["301[replicate]", "301[disperse]"]);
        let bad = Selection {
            ids: parse_ids(&["301[distribute]".to_string()]).expect("ids"),
            ..Default::default()
        };
        assert_eq!(
            select(&cases, &bad).expect_err("bad").to_string(),
            "test 301 does not run on distribute; its variants: replicate, disperse"
        );
        let plain = Selection {
            ids: parse_ids(&["101[disperse]".to_string()]).expect("ids"),
            ..Default::default()
        };
        assert!(select(&cases, &plain)
            .expect_err("no variants")
            .to_string()
            .contains("no volume-type variants"));
    }

    #[test]
    fn deselected_runs_are_left_out() {
        let cases = vec![reg("afr", &M301), reg("example", &C101)];
        let keys = |deselect: &[&str]| -> Result<Vec<String>, SelectError> {
            let sel = Selection {
                deselect: parse_ids(&deselect.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                    .expect("ids"),
                ..Default::default()
            };
            Ok(select(&cases, &sel)?.iter().map(Item::key).collect())
        };
        assert_eq!(keys(&["301[disperse]"]).unwrap(), ["101", "301[replicate]"]);
        assert_eq!(keys(&["301"]).unwrap(), ["101"]);
        assert_eq!(
            keys(&["999"]).unwrap_err(),
            SelectError::UnknownIds(vec![999])
        );
        let e = keys(&["101", "301"]).unwrap_err().to_string();
        assert!(e.contains("--deselect 101 301"), "{e}");
    }

    #[test]
    fn cycles_are_reported() {
        let cases = vec![reg("x", &CYC1), reg("x", &CYC2)];
        assert_eq!(
            select(&cases, &Selection::default()).expect_err("cycle"),
            SelectError::Cycle(vec![1, 2])
        );
    }

    #[test]
    fn parses_id_lists() {
        let v = vec!["101 105".to_string(), "107,108[disperse]".to_string()];
        let got = parse_ids(&v).expect("ids");
        assert_eq!(
            got.iter().map(|s| s.id).collect::<Vec<_>>(),
            [101, 105, 107, 108]
        );
        assert_eq!(got[3].volume_type, Some(VolumeType::Disperse));
        assert!(parse_ids(&["1[ec]".to_string()])
            .expect_err("bad type")
            .contains("unknown volume type \"ec\""));
        assert!(parse_ids(&["1[disperse".to_string()])
            .expect_err("unclosed")
            .contains("ID[TYPE]"));
        assert!(parse_ids(&["10x".to_string()])
            .expect_err("bad")
            .contains("\"10x\""));
        assert_eq!(parse_words(&["a b,c".to_string()]), ["a", "b", "c"]);
    }
}
