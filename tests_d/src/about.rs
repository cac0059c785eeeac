//! What each component covers: the table at the top of `tests_d/README.md`, read at build time, so
//! `gflab test --list` can say it beside the live counts. The table's counts are checked against the
//! registry by a unit test, so the README cannot drift from the suites.
use std::collections::BTreeMap;

use crate::Registered;

/// The suites' README, whose first table describes the components.
const README: &str = include_str!("../README.md");

/// One row of the README's component table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentRow {
    /// The component (its folder name).
    pub name: String,
    /// Scenarios, as the table states them.
    pub scenarios: usize,
    /// Runs with the volume-type matrix, as the table states them.
    pub runs: usize,
    /// What it covers.
    pub covers: String,
}

/// The rows of the first table of `text` whose first cell is a component in backquotes
/// (`` | `dht` | 30 | 30 | add/remove-brick, … | ``).
pub fn parse_table(text: &str) -> Vec<ComponentRow> {
    text.lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            let [name, scenarios, runs, covers] = cells[..] else {
                return None;
            };
            Some(ComponentRow {
                name: name.strip_prefix('`')?.strip_suffix('`')?.to_string(),
                scenarios: scenarios.parse().ok()?,
                runs: runs.parse().ok()?,
                covers: covers.to_string(),
            })
        })
        .collect()
}

/// The README's component table.
pub fn table() -> Vec<ComponentRow> {
    parse_table(README)
}

/// What `component` covers, as the README says.
pub fn covers(component: &str) -> Option<String> {
    table()
        .into_iter()
        .find(|r| r.name == component)
        .map(|r| r.covers)
}

/// Scenarios and runs (a scenario runs once per volume type it declares, else once) per
/// component of `cases`.
pub fn counts(cases: &[Registered]) -> BTreeMap<&'static str, (usize, usize)> {
    let mut out: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in cases {
        let e = out.entry(r.component).or_default();
        e.0 += 1;
        e.1 += r.case.runs_on.len().max(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_component_rows_only() {
        let text = "# T\n\n| component | scenarios | runs | what it covers |\n|---|---|---|---|\n\
                    | `dht` | 30 | 31 | add-brick, rebalance |\n| not | a | row |\nprose\n";
        assert_eq!(
            parse_table(text),
            vec![ComponentRow {
                name: "dht".into(),
                scenarios: 30,
                runs: 31,
                covers: "add-brick, rebalance".into()
            }]
        );
    }

    /// The README's table and its opening line state what the registry holds.
    #[test]
    fn the_readme_states_the_registry() {
        let live = counts(crate::CASES);
        let rows = table();
        let mut wrong = Vec::new();
        for (comp, (scenarios, runs)) in &live {
            match rows.iter().find(|r| r.name == *comp) {
                None => wrong.push(format!("no row for component {comp}")),
                Some(r) if (r.scenarios, r.runs) != (*scenarios, *runs) => wrong.push(format!(
                    "{comp}: the row says {} scenarios and {} runs, the registry has {scenarios} and {runs}",
                    r.scenarios, r.runs
                )),
                Some(_) => {}
            }
        }
        for r in &rows {
            if !live.contains_key(r.name.as_str()) {
                wrong.push(format!("a row for {}, which has no test file", r.name));
            }
        }
        let (s, n): (usize, usize) = live.values().fold((0, 0), |(a, b), (s, n)| (a + s, b + n));
        let opening = format!("{s} scenarios, {n} runs");
        if !README.contains(&opening) {
            wrong.push(format!("the opening line should say \"{opening}\""));
        }
        assert!(wrong.is_empty(), "tests_d/README.md:\n{}", wrong.join("\n"));
    }
}
