//! `--shard I/N`: a deterministic share of the selection for one of N machines, balanced by the
//! durations of a previous JUnit report when one is given (`--durations FILE`).
//!
//! Cases tied by `after` stay in one shard (their order holds only within a run). Units are taken
//! longest first and each goes to the shard with the least total so far (lowest index on ties):
//! every shard computes the same assignment from the same selection, with nothing shared between
//! the machines but the command line.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use super::select::Item;

/// `I/N`, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which share (1..=count).
    pub index: usize,
    /// How many shares.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("invalid shard {s:?}: expected I/N with 1 <= I <= N, e.g. 2/3");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Durations by run key (`301[disperse]`) from a JUnit file gflab wrote (test case names are
/// `<key> <name>`).
pub fn durations(path: &Path) -> Result<BTreeMap<String, Duration>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("failed to read durations file {}: {e}", path.display()))?;
    let root = gflab_tests::xml::parse(&text)
        .map_err(|e| format!("invalid durations file {}: {e}", path.display()))?;
    let mut out = BTreeMap::new();
    let mut stack = vec![&root];
    while let Some(e) = stack.pop() {
        if e.name == "testcase" {
            let key = e.attr("name").and_then(|n| n.split_whitespace().next());
            let time = e.attr("time").and_then(|t| t.parse::<f64>().ok());
            if let (Some(k), Some(t)) = (key, time) {
                if t.is_finite() && t >= 0.0 {
                    out.insert(k.to_string(), Duration::from_secs_f64(t));
                }
            }
        }
        stack.extend(e.children.iter());
    }
    Ok(out)
}

/// The items of shard `shard`, in their original order.
pub fn pick<'a>(
    items: &[Item<'a>],
    shard: Shard,
    durations: &BTreeMap<String, Duration>,
) -> Vec<Item<'a>> {
    assign(items, shard.count, durations)
        .into_iter()
        .zip(items)
        .filter(|(s, _)| *s == shard.index - 1)
        .map(|(_, i)| *i)
        .collect()
}

/// The 0-based shard of each item.
pub fn assign(
    items: &[Item<'_>],
    count: usize,
    durations: &BTreeMap<String, Duration>,
) -> Vec<usize> {
    // Units: cases connected through `after` (union-find over case ids).
    let ids: BTreeSet<u32> = items.iter().map(|i| i.reg.case.id).collect();
    let mut parent: BTreeMap<u32, u32> = ids.iter().map(|&i| (i, i)).collect();
    fn root(p: &mut BTreeMap<u32, u32>, mut x: u32) -> u32 {
        while p[&x] != x {
            x = p[&x];
        }
        x
    }
    for i in items {
        for a in i.reg.case.after.iter().filter(|a| ids.contains(a)) {
            let (x, y) = (root(&mut parent, i.reg.case.id), root(&mut parent, *a));
            let (lo, hi) = (x.min(y), x.max(y));
            parent.insert(hi, lo);
        }
    }
    // A case with no recorded duration weighs the median of those known (1 s when none is).
    let mut known: Vec<Duration> = items
        .iter()
        .filter_map(|i| durations.get(&i.key()).copied())
        .collect();
    known.sort();
    let typical = known
        .get(known.len() / 2)
        .copied()
        .unwrap_or(Duration::from_secs(1));
    let mut units: BTreeMap<u32, Duration> = BTreeMap::new();
    for i in items {
        let r = root(&mut parent, i.reg.case.id);
        *units.entry(r).or_default() += durations.get(&i.key()).copied().unwrap_or(typical);
    }
    let mut order: Vec<(u32, Duration)> = units.into_iter().collect();
    order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut load = vec![Duration::ZERO; count.max(1)];
    let mut unit_shard: BTreeMap<u32, usize> = BTreeMap::new();
    for (unit, d) in order {
        let s = (0..load.len())
            .min_by_key(|&s| (load[s], s))
            .unwrap_or_default();
        load[s] += d;
        unit_shard.insert(unit, s);
    }
    items
        .iter()
        .map(|i| unit_shard[&root(&mut parent, i.reg.case.id)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::future::BoxFuture;
    use gflab_tests::{Case, Ctx, Registered, TestError, VolumeType};

    fn noop(_: Ctx) -> BoxFuture<'static, Result<(), TestError>> {
        Box::pin(async { Ok(()) })
    }
    static A: Case = Case::new(1, "a", noop);
    static B: Case = Case::new(2, "b", noop).after(&[1]);
    static C: Case = Case::new(3, "c", noop);
    static D: Case =
        Case::new(4, "d", noop).runs_on(&[VolumeType::Replicate, VolumeType::Disperse]);
    static E: Case = Case::new(5, "e", noop);

    fn regs() -> Vec<Registered> {
        [&A, &B, &C, &D, &E]
            .into_iter()
            .map(|case| Registered {
                component: "x",
                file: "tests_d/x/test_x.rs",
                case,
            })
            .collect()
    }

    fn items(regs: &[Registered]) -> Vec<Item<'_>> {
        let refs: Vec<&Registered> = regs.iter().collect();
        refs.iter()
            .flat_map(|r| {
                let types: Vec<Option<VolumeType>> = if r.case.runs_on.is_empty() {
                    vec![None]
                } else {
                    r.case.runs_on.iter().copied().map(Some).collect()
                };
                types.into_iter().map(|volume_type| Item {
                    reg: r,
                    volume_type,
                })
            })
            .collect()
    }

    #[test]
    fn shards_cover_the_selection_exactly_once_and_keep_after_chains_together() {
        let regs = regs();
        let all = items(&regs);
        for n in 1..=4 {
            let mut seen: Vec<String> = Vec::new();
            for i in 1..=n {
                let part = pick(&all, Shard { index: i, count: n }, &BTreeMap::new());
                let keys: Vec<String> = part.iter().map(Item::key).collect();
                assert_eq!(
                    keys.contains(&"1".to_string()),
                    keys.contains(&"2".to_string()),
                    "1 and 2 are tied by after: {keys:?}"
                );
                seen.extend(keys);
            }
            seen.sort();
            let mut want: Vec<String> = all.iter().map(Item::key).collect();
            want.sort();
            assert_eq!(seen, want, "{n} shards");
        }
    }

    #[test]
    fn durations_balance_the_shards() {
        let regs = regs();
        let all = items(&regs);
        let d: BTreeMap<String, Duration> = [
            ("1", 10),
            ("2", 10),
            ("3", 30),
            ("4[replicate]", 5),
            ("4[disperse]", 5),
            ("5", 10),
        ]
        .into_iter()
        .map(|(k, s)| (k.to_string(), Duration::from_secs(s)))
        .collect();
        // Units longest first: 3 (30) → 0, {1,2} (20) → 1, 4 (10) → 1, 5 (10) → 0 on the tie.
        let a = assign(&all, 2, &d);
        let load = |s: usize| -> u64 {
            all.iter()
                .zip(&a)
                .filter(|(_, x)| **x == s)
                .map(|(i, _)| d[&i.key()].as_secs())
                .sum()
        };
        assert_eq!((load(0), load(1)), (40, 30));
        assert_eq!(a, assign(&all, 2, &d), "deterministic");
    }

    #[test]
    fn parses_shards() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(
                bad.parse::<Shard>().expect_err(bad).contains("I/N"),
                "{bad}"
            );
        }
    }
}
