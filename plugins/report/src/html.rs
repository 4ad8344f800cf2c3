//! The report as one self-contained HTML page: inline CSS, plots inlined as
//! SVG, the report's tables, and what the numbers mean. It loads nothing.

use entropo_core::eval::{Report, Table};

const STYLE: &str = "\
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
h1, h2, h3 { font-weight: 600; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
p.note { color: #555; font-size: 0.9rem; margin: 0.2rem 0; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9rem; }
";

/// What the numbers mean, for a reader who has not read the paper.
const EXPLANATION: &str = "\
Each method (a policy trained with one loss) ran N rollouts on every test task; a rollout is \
<em>resolved</em> when the task's tests pass on its patch. \
<strong>Resolved (N=1)</strong> is the share of tasks solved by a single rollout: every task's \
r-th rollout counts as one run (seed r), and the table gives the mean and sample standard \
deviation over seeds. \
<strong>Best@N</strong> is the share of tasks solved when N rollouts are sampled and a \
<em>selector</em> picks one without seeing the tests; it is averaged over random subsets of each \
task's rollouts (every subset, when there are few), the same subsets for every selector. \
<strong>pass@k</strong> is the chance that k rollouts hold at least one resolved one: what a \
perfect selector would reach, so the gap between a selector's curve and pass@k is what \
selection leaves on the table. \
<strong>Diversity</strong> counts distinct patches per task and measures how far apart two \
rollouts' sequences of tool calls are (normalised edit distance, 0 = identical); \
<strong>token entropy</strong> is the policy's mean per-token entropy, which entropy-regularised \
training (EntroPO) keeps from collapsing.";

/// A plot to inline: its caption and SVG.
pub(crate) struct Figure {
    /// One line under the plot (names the PNG written beside the page).
    pub caption: String,
    /// The `<svg>` element.
    pub svg: String,
}

/// Text made safe inside HTML elements and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(t: &Table) -> String {
    let mut out = format!("<h2>{}</h2>\n<table>\n<thead><tr>", esc(&t.title));
    for h in &t.head {
        out.push_str(&format!("<th>{}</th>", esc(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if i < t.text_columns {
                ""
            } else {
                " class=\"num\""
            };
            out.push_str(&format!("<td{class}>{}</td>", esc(c)));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    for n in &t.notes {
        out.push_str(&format!("<p class=\"note\">{}</p>\n", esc(n)));
    }
    out
}

fn figure(f: &Figure) -> String {
    format!(
        "<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n",
        f.svg,
        esc(&f.caption)
    )
}

/// The page: summary and explanation, Table 1, the Best@N plots and
/// table, the ablation, diversity and the entropy plot.
pub(crate) fn page(report: &Report, best_at_n: &[Figure], entropy: &Figure) -> String {
    let tables = report.tables();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>entropo evaluation report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n\
         <h1>Evaluation report</h1>\n<p>{}</p>\n<h2>What the numbers mean</h2>\n<p>{EXPLANATION}</p>\n",
        esc(&report.sampling_summary())
    );
    let mut tables = tables.iter();
    // Table 1 first, then the curves before their table.
    if let Some(t) = tables.next() {
        out.push_str(&table(t));
    }
    out.push_str("<h2>Best@N curves</h2>\n");
    best_at_n.iter().for_each(|f| out.push_str(&figure(f)));
    tables.for_each(|t| out.push_str(&table(t)));
    out.push_str("<h2>Token entropy</h2>\n");
    out.push_str(&figure(entropy));
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn numbers_are_right_aligned_text_is_not() {
        let t = Table {
            title: "T".into(),
            head: vec!["m".into(), "v".into()],
            rows: vec![vec!["sft".into(), "1.0".into()]],
            text_columns: 1,
            notes: vec!["a < b".into()],
        };
        let html = table(&t);
        assert!(
            html.contains("<td>sft</td><td class=\"num\">1.0</td>"),
            "{html}"
        );
        assert!(html.contains("<p class=\"note\">a &lt; b</p>"), "{html}");
    }
}
