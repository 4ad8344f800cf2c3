//! The report folder: files, PNG dimensions, a page that loads nothing,
//! and JSON that reads back.

use std::path::{Path, PathBuf};

use entropo_core::eval::{Method, Pool, Report, ReportOptions, Sampling};
use entropo_core::selector::{Selection, Selector, SelectorError};
use entropo_core::types::{ExitReason, RolloutRecord};
use entropo_report::{PLOT_SIZE, write_report};

/// Picks the lowest rollout id.
struct First;

impl Selector for First {
    fn name(&self) -> &str {
        "first"
    }
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        Ok(Selection {
            rollout_id: pool.iter().map(|r| r.rollout_id).min(),
            reason: String::new(),
            stages: vec![],
        })
    }
}

/// Picks a resolved rollout when there is one.
struct Oracle;

impl Selector for Oracle {
    fn name(&self) -> &str {
        "oracle"
    }
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        let pick = pool.iter().find(|r| r.resolved()).or(pool.first());
        Ok(Selection {
            rollout_id: pick.map(|r| r.rollout_id),
            reason: String::new(),
            stages: vec![],
        })
    }
}

/// Needs verifier scores the pools lack.
struct NeedsScores;

impl Selector for NeedsScores {
    fn name(&self) -> &str {
        "verifier-max"
    }
    fn select(&self, pool: &[RolloutRecord]) -> Result<Selection, SelectorError> {
        Err(SelectorError::MissingField {
            task_id: pool[0].task_id.clone(),
            rollout_id: pool[0].rollout_id,
            reason: "verifier_prob is missing".into(),
        })
    }
}

/// `tasks` tasks of `n` rollouts; rollout r of task t is resolved when
/// `(t + r) % every == 0`.
fn pool(tasks: u32, n: u32, every: u32) -> Pool {
    let rows = (0..tasks)
        .flat_map(|t| {
            (0..n).map(move |r| RolloutRecord {
                task_id: format!("task-{t}"),
                rollout_id: r,
                exit_reason: ExitReason::Agent,
                steps: 10 + r,
                tokens: 1000,
                reward: Some(if (t + r) % every == 0 { 1.0 } else { 0.0 }),
                regression_passed: None,
                patch_hash: Some(format!("{:032x}", (t + r) % 3)),
                verifier_prob: None,
                trajectory: format!("{t}/{r}.json").into(),
            })
        })
        .collect();
    Pool::from_rows(rows).unwrap()
}

fn report() -> Report {
    let methods = [
        Method {
            name: "sft".into(),
            pool: pool(10, 16, 5),
            entropy: Some(0.41),
        },
        Method {
            name: "entropo-kto".into(),
            pool: pool(10, 16, 3),
            entropy: Some(0.77),
        },
        Method {
            name: "dpo <beta=0.1>".into(),
            pool: pool(10, 8, 4),
            entropy: None,
        },
    ];
    let options = ReportOptions {
        sampling: Sampling {
            samples: 5,
            ..Sampling::default()
        },
        tts_selector: "oracle".into(),
    };
    Report::build(
        &methods,
        &[
            ("first", &First),
            ("oracle", &Oracle),
            ("verifier-max", &NeedsScores),
        ],
        &options,
    )
}

fn names(files: &[PathBuf]) -> Vec<&str> {
    files
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap())
        .collect()
}

/// Width and height of a PNG, decoded.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is not a PNG",
        path.display()
    );
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    (info.width, info.height)
}

#[test]
fn writes_every_file_and_pngs_decode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("eval");
    let files = write_report(&report(), &out).unwrap();
    assert_eq!(
        names(&files),
        [
            "report.json",
            "report.md",
            "best_at_n_sft.png",
            "best_at_n_entropo-kto.png",
            "best_at_n_dpo__beta_0.1_.png",
            "entropy.png",
            "report.html"
        ]
    );
    for f in &files {
        assert!(f.starts_with(&out) && f.is_file(), "{}", f.display());
        if f.extension().is_some_and(|e| e == "png") {
            assert_eq!(png_size(f), PLOT_SIZE, "{}", f.display());
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn html_is_self_contained_and_names_every_method() {
    let dir = tempfile::tempdir().unwrap();
    let r = report();
    write_report(&r, dir.path()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for m in &r.methods {
        let escaped = m.name.replace('<', "&lt;").replace('>', "&gt;");
        assert!(html.contains(&escaped), "{} missing", m.name);
    }
    assert!(!html.contains("dpo <beta"), "method names are escaped");
    for outside in [
        "http:", "https:", "<script", "<link", "src=", "url(", "@import",
    ] {
        assert!(
            !html.to_lowercase().contains(outside),
            "the page refers outside: {outside}"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        r.methods.len() + 1,
        "one plot per method and the entropy plot"
    );
    assert!(html.contains("What the numbers mean"));
    assert!(html.contains("Resolved with TTS (Best@N, oracle)"));
    assert!(html.contains("verifier-max could not choose on sft"));
}

#[test]
fn json_reads_back_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let r = report();
    write_report(&r, dir.path()).unwrap();
    let back: Report =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(back, r);
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    assert_eq!(md, r.markdown());
}

#[test]
fn entropy_plot_names_methods_without_entropy() {
    let dir = tempfile::tempdir().unwrap();
    write_report(&report(), dir.path()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains("no entropy given for: dpo &lt;beta=0.1&gt;"),
        "the SVG says which bars are missing"
    );
}

#[test]
fn empty_report_and_clashing_names_still_write() {
    let dir = tempfile::tempdir().unwrap();
    let empty = Report::build(&[], &[], &ReportOptions::default());
    assert_eq!(
        names(&write_report(&empty, dir.path()).unwrap()),
        ["report.json", "report.md", "entropy.png", "report.html"]
    );
    let methods = [
        Method {
            name: "a/b".into(),
            pool: Pool::from_rows(vec![]).unwrap(),
            entropy: None,
        },
        Method {
            name: "a:b".into(),
            pool: Pool::from_rows(vec![]).unwrap(),
            entropy: None,
        },
    ];
    let clash = Report::build(&methods, &[("first", &First)], &ReportOptions::default());
    let files = write_report(&clash, dir.path()).unwrap();
    assert_eq!(
        names(&files)[2..4],
        ["best_at_n_a_b.png", "best_at_n_a_b-2.png"]
    );
}

#[test]
fn unwritable_folder_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let err = write_report(&report(), &blocker.join("out"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("file/out"), "{err}");
}
