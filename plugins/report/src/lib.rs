//! # entropo-report
//!
//! Writes an evaluation report folder from an
//! [`entropo_core::eval::Report`]:
//!
//! | file | holds |
//! | --- | --- |
//! | `report.json` | the report, pretty-printed; reads back to the same `Report` |
//! | `report.md` | its tables as Markdown ([`Report::markdown`]) |
//! | `report.html` | one self-contained page: inline CSS, the plots as inline SVG, the tables and what the numbers mean; it loads nothing |
//! | `best_at_n_<method>.png` | Best@N against N (log2 axis), one line per selector, pass@k dashed as the ceiling |
//! | `entropy.png` | mean token entropy, one bar per method that has one (those without are named under the bars) |
//!
//! PNGs are [`PLOT_SIZE`] pixels. Their text uses a font compiled into the
//! crate, so no font needs to be installed. Every file is written
//! atomically.

mod html;
mod plots;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use entropo_core::eval::Report;
use entropo_core::io::{IoError, write_atomic};

pub use plots::PLOT_SIZE;

use html::Figure;
use plots::Plot;

/// Why a report folder could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A file could not be written, or the report serialised.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A plot could not be drawn or encoded.
    #[error("{}: cannot draw the plot: {message}", file.display())]
    Plot {
        /// The plot's file.
        file: PathBuf,
        /// What plotters or the PNG encoder said.
        message: String,
    },
}

/// Writes `report.json`, `report.md`, one `best_at_n_<method>.png` per
/// method, `entropy.png` and `report.html` into `dir` (created if needed),
/// and returns their paths in that order. `<method>` is the method's name
/// with every character other than ASCII letters, digits, `-`, `_` and `.`
/// replaced by `_` (and `-2`, `-3`, … added should two names meet).
///
/// ```
/// use entropo_core::eval::{Method, Pool, Report, ReportOptions};
/// use entropo_core::selector::{Selection, Selector, SelectorError};
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// struct First;
/// impl Selector for First {
///     fn name(&self) -> &str { "first" }
///     fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
///         Ok(Selection { rollout_id: pool.iter().map(|r| r.rollout_id).min(), reason: String::new(), stages: vec![] })
///     }
/// }
/// let row = |task: &str, id, ok: bool| RolloutRecord { task_id: task.into(), rollout_id: id,
///     exit_reason: ExitReason::Agent, steps: 1, tokens: 0, reward: Some(if ok { 1.0 } else { 0.0 }),
///     regression_passed: None, patch_hash: None, verifier_prob: None,
///     trajectory: "t.json".into() };
/// let rows = vec![row("a", 0, true), row("a", 1, false), row("b", 0, false), row("b", 1, true)];
/// let methods = [Method { name: "entropo-kto".into(), pool: Pool::from_rows(rows).unwrap(), entropy: Some(0.9) }];
/// let report = Report::build(&methods, &[("first", &First)], &ReportOptions::default());
///
/// let dir = tempfile::tempdir().unwrap();
/// let files = entropo_report::write_report(&report, dir.path()).unwrap();
/// let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap().to_str().unwrap()).collect();
/// assert_eq!(names, ["report.json", "report.md", "best_at_n_entropo-kto.png", "entropy.png", "report.html"]);
/// ```
pub fn write_report(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: &[u8]| -> Result<(), IoError> {
        let path = dir.join(name);
        write_atomic(&path, bytes)?;
        written.push(path);
        Ok(())
    };

    let json_file = dir.join("report.json");
    let json = serde_json::to_string_pretty(report).map_err(|e| IoError::Serialise {
        file: json_file,
        message: e.to_string(),
    })?;
    write("report.json", format!("{json}\n").as_bytes())?;
    write("report.md", report.markdown().as_bytes())?;

    let mut curves = Vec::new();
    for (method, name) in report.methods.iter().zip(plot_names(report)) {
        let svg = draw(&Plot::BestAtN(method), dir, &name, &mut write)?;
        curves.push(Figure {
            caption: format!("Best@N of {} ({name})", method.name),
            svg,
        });
    }
    let svg = draw(&Plot::Entropy(report), dir, "entropy.png", &mut write)?;
    let entropy = Figure {
        caption: "Mean token entropy per method (entropy.png)".into(),
        svg,
    };

    write(
        "report.html",
        html::page(report, &curves, &entropy).as_bytes(),
    )?;
    Ok(written)
}

/// Writes `plot` as the PNG `name` and returns it as SVG.
fn draw(
    plot: &Plot<'_>,
    dir: &Path,
    name: &str,
    write: &mut impl FnMut(&str, &[u8]) -> Result<(), IoError>,
) -> Result<String, ReportError> {
    let failed = |message| ReportError::Plot {
        file: dir.join(name),
        message,
    };
    write(name, &plot.png().map_err(failed)?)?;
    plot.svg().map_err(failed)
}

/// `best_at_n_<method>.png` for each method, distinct even when two method
/// names reduce to the same file name.
fn plot_names(report: &Report) -> Vec<String> {
    let mut taken = BTreeSet::new();
    report
        .methods
        .iter()
        .map(|m| {
            let stem: String = m
                .name
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                        c
                    } else {
                        '_'
                    }
                })
                .collect();
            let mut name = format!("best_at_n_{stem}.png");
            for k in 2.. {
                if taken.insert(name.clone()) {
                    break;
                }
                name = format!("best_at_n_{stem}-{k}.png");
            }
            name
        })
        .collect()
}
