//! The report as tables of text: Table 1 shaped like the paper's, Best@N,
//! the selector ablation, and pool sizes with diversity; and those tables
//! as Markdown. Other renderings (the HTML page) start from the same
//! [`Table`]s.

use std::collections::BTreeSet;

use super::best_at_n::Point;
use super::report::Report;

/// One table of a report, its cells already formatted (rates as
/// percentages with one decimal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// A short heading.
    pub title: String,
    /// Column heads.
    pub head: Vec<String>,
    /// Rows of cells, as many as `head`.
    pub rows: Vec<Vec<String>>,
    /// How many leading columns hold text (left-aligned); the rest hold
    /// numbers (right-aligned).
    pub text_columns: usize,
    /// Lines to print under the table: what a column means, what failed.
    pub notes: Vec<String>,
}

/// A rate (0..1) as a percentage with one decimal.
fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

impl Report {
    /// The report's tables, in reading order:
    ///
    /// 1. **Table 1**: method | resolved at N = 1 (mean ± std over seeds) |
    ///    resolved with test-time scaling (Best@N_max of the designated
    ///    selector);
    /// 2. **Best@N**: per method, pass@k (the ceiling) and every selector,
    ///    one column per N;
    /// 3. **selector ablation**: Best@N at each method's largest N;
    /// 4. **pools and diversity**: the index each pool was read from, sizes,
    ///    distinct patches, action distance and token entropy.
    ///
    /// ```
    /// use entropo_core::eval::{Report, ReportOptions};
    /// let tables = Report::build(&[], &[], &ReportOptions::default()).tables();
    /// assert_eq!(tables[0].head, ["Method", "Resolved (N=1)", "Resolved with TTS (Best@N, hybrid)"]);
    /// assert_eq!(tables.len(), 4);
    /// ```
    pub fn tables(&self) -> Vec<Table> {
        vec![
            self.table1(),
            self.best_at_n_table(),
            self.ablation_table(),
            self.diversity_table(),
        ]
    }

    /// The report as Markdown: a line saying how Best@N was sampled, then
    /// every table of [`tables`](Report::tables) with its notes.
    ///
    /// ```
    /// use entropo_core::eval::{Report, ReportOptions};
    /// let md = Report::build(&[], &[], &ReportOptions::default()).markdown();
    /// assert!(md.contains("| Method | Resolved (N=1) | Resolved with TTS (Best@N, hybrid) |"));
    /// ```
    pub fn markdown(&self) -> String {
        let mut out = format!("# Evaluation report\n\n{}\n", self.sampling_summary());
        for t in self.tables() {
            out.push_str(&format!("\n## {}\n\n", t.title));
            out.push_str(&md_line(t.head.iter().map(|h| md_cell(h))));
            let rule = (0..t.head.len()).map(|i| if i < t.text_columns { "---" } else { "---:" });
            out.push_str(&md_line(rule.map(String::from)));
            for row in &t.rows {
                out.push_str(&md_line(row.iter().map(|c| md_cell(c))));
            }
            if !t.notes.is_empty() {
                out.push('\n');
                t.notes.iter().for_each(|n| out.push_str(&format!("{n}\n")));
            }
        }
        out
    }

    /// One sentence: subsamples, seed and N list of Best@N.
    ///
    /// ```
    /// use entropo_core::eval::{Report, ReportOptions};
    /// let s = Report::build(&[], &[], &ReportOptions::default()).sampling_summary();
    /// assert!(s.contains("20 seeded subsamples") && s.contains("seed 0") && s.contains("{1, 2, 4, 8, 16}"));
    /// ```
    pub fn sampling_summary(&self) -> String {
        let s = &self.options.sampling;
        let ns: Vec<String> = s.ns.iter().map(ToString::to_string).collect();
        format!(
            "Best@N is averaged over {} seeded subsamples of N rollouts per task (seed {}), \
             or over every subset where there are no more, N in {{{}}} capped at each pool's size; \
             rates are in %.",
            s.samples,
            s.seed,
            ns.join(", ")
        )
    }

    fn table1(&self) -> Table {
        let n_max: BTreeSet<usize> = self.table1.iter().map(|r| r.tts_n).collect();
        let n = match n_max.iter().collect::<Vec<_>>()[..] {
            [one] => one.to_string(),
            _ => "N".into(),
        };
        let rows = self
            .table1
            .iter()
            .map(|r| {
                let at_one = if r.seeds >= 2 {
                    format!("{} ± {}", pct(r.resolved), pct(r.resolved_std))
                } else {
                    pct(r.resolved)
                };
                let tts = match r.resolved_tts {
                    Some(v) if n_max.len() > 1 => format!("{} (N={})", pct(v), r.tts_n),
                    Some(v) => pct(v),
                    None => "n/a".into(),
                };
                vec![r.method.clone(), at_one, tts]
            })
            .collect();
        Table {
            title: "Table 1: resolved rate".into(),
            head: vec![
                "Method".into(),
                "Resolved (N=1)".into(),
                format!("Resolved with TTS (Best@{n}, {})", self.options.tts_selector),
            ],
            rows,
            text_columns: 1,
            notes: vec![
                "Resolved (N=1): mean ± sample std over seeds, seed r being every task's r-th rollout.".into(),
            ],
        }
    }

    fn best_at_n_table(&self) -> Table {
        let ns: BTreeSet<usize> = self
            .methods
            .iter()
            .flat_map(|m| m.pass_at_k.iter().map(|p| p.n))
            .collect();
        let values = |points: &[Point]| -> Vec<String> {
            ns.iter()
                .map(|&n| {
                    points
                        .iter()
                        .find(|p| p.n == n)
                        .map_or("–".into(), |p| pct(p.value))
                })
                .collect()
        };
        let mut rows = Vec::new();
        let mut notes =
            vec!["pass@k: the chance that k rollouts hold a resolved one, what a perfect selector reaches.".to_string()];
        for m in &self.methods {
            rows.push(
                [
                    vec![m.name.clone(), "pass@k (ceiling)".into()],
                    values(&m.pass_at_k),
                ]
                .concat(),
            );
            for c in &m.best_at_n {
                let cells = match &c.error {
                    Some(e) => {
                        notes.push(format!(
                            "{} could not choose on {}: {e}",
                            c.selector, m.name
                        ));
                        vec!["n/a".to_string(); ns.len()]
                    }
                    None => values(&c.points),
                };
                rows.push([vec![m.name.clone(), c.selector.clone()], cells].concat());
            }
        }
        let mut head = vec!["Method".to_string(), "Selector".into()];
        head.extend(ns.iter().map(|n| format!("N={n}")));
        Table {
            title: "Best@N".into(),
            head,
            rows,
            text_columns: 2,
            notes,
        }
    }

    fn ablation_table(&self) -> Table {
        let mut head = vec!["Selector".to_string()];
        head.extend(
            self.methods
                .iter()
                .map(|m| format!("{} (N={})", m.name, m.n_max())),
        );
        let rows = self
            .ablation
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![r.selector.clone()];
                row.extend(
                    r.values
                        .iter()
                        .map(|v| v.map_or("n/a".into(), |p| pct(p.value))),
                );
                row
            })
            .collect();
        Table {
            title: "Selector ablation (Best@N at each method's largest N)".into(),
            head,
            rows,
            text_columns: 1,
            notes: vec![],
        }
    }

    fn diversity_table(&self) -> Table {
        let rows = self
            .methods
            .iter()
            .map(|m| {
                let per_task = if m.min_rollouts_per_task == m.max_rollouts_per_task {
                    m.max_rollouts_per_task.to_string()
                } else {
                    format!("{}–{}", m.min_rollouts_per_task, m.max_rollouts_per_task)
                };
                let d = &m.diversity;
                vec![
                    m.name.clone(),
                    m.index
                        .as_ref()
                        .map_or("–".into(), |p| p.display().to_string()),
                    m.tasks.to_string(),
                    per_task,
                    format!("{:.2}", d.distinct_patches),
                    d.action_distance
                        .map_or("n/a".into(), |x| format!("{x:.3}")),
                    d.token_entropy.map_or("n/a".into(), |x| format!("{x:.3}")),
                ]
            })
            .collect();
        Table {
            title: "Pools and diversity".into(),
            head: ["Method", "Index", "Tasks", "Rollouts/task", "Distinct patches/task", "Action distance", "Token entropy"]
                .map(String::from)
                .to_vec(),
            rows,
            text_columns: 2,
            notes: vec![
                "Action distance: mean normalised edit distance between two rollouts' sequences of tool calls \
                 (0 = identical, 1 = nothing shared); n/a without trajectories."
                    .into(),
            ],
        }
    }
}

/// Text made safe for a Markdown table cell.
fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// `| a | b |` and a newline.
fn md_line(cells: impl Iterator<Item = String>) -> String {
    format!("| {} |\n", cells.collect::<Vec<_>>().join(" | "))
}

#[cfg(test)]
mod tests {
    use crate::eval::testutil::sample_report;

    #[test]
    fn markdown_holds_the_numbers() {
        let md = sample_report().markdown();
        assert!(
            md.contains("| Method | Resolved (N=1) | Resolved with TTS (Best@N, lowest) |"),
            "{md}"
        );
        assert!(md.contains("| --- | ---: | ---: |"), "{md}");
        assert!(md.contains("| sft | 12.5 ± 25.0 | 50.0 (N=4) |"), "{md}");
        assert!(
            md.contains("| entropo-kto | 25.0 ± 0.0 | 25.0 (N=2) |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| Method | Selector | N=1 | N=2 | N=4 |\n| --- | --- | ---: | ---: | ---: |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| entropo-kto | pass@k (ceiling) | 25.0 | 25.0 | – |"),
            "{md}"
        );
        assert!(
            md.contains("| sft | needs-scores | n/a | n/a | n/a |"),
            "{md}"
        );
        assert!(
            md.contains("needs-scores could not choose on sft: task `t0`:"),
            "{md}"
        );
        assert!(
            md.contains("| Selector | sft (N=4) | entropo-kto (N=2) |"),
            "{md}"
        );
        assert!(md.contains("| lowest | 50.0 | 25.0 |"), "{md}");
        assert!(
            md.contains("| sft | – | 4 | 4 | 0.00 | n/a | 0.800 |"),
            "{md}"
        );
    }

    #[test]
    fn every_row_is_as_wide_as_its_head() {
        for t in sample_report().tables() {
            assert!(
                t.rows.iter().all(|r| r.len() == t.head.len()),
                "{}",
                t.title
            );
        }
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(super::md_cell("a|b\nc"), "a\\|b c");
    }
}
