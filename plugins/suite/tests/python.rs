//! Runs the generated repositories' tests with Python: every FAIL_TO_PASS
//! id fails on the buggy code, every PASS_TO_PASS id passes, the ids are
//! exactly those unittest prints, and after `git apply` of the gold patch
//! all pass. The issue's reproduction is checked on both sides too.
//!
//! Needs `python3` (3.11 or later) and `git` on PATH, as set up by
//! `scripts/setup.sh`; without them these tests fail rather than skip.

mod common;

use common::copy_dir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use entropo_suite::{ReproOutcome, Split, SuiteConfig, SuiteTask, catalogue, generate};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Ok,
    Fail,
    Error,
    Other(String),
}


fn python(dir: &Path) -> Command {
    let mut c = Command::new("python3");
    c.current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH");
    c
}

/// Parses `name (id) ... status` lines of `python3 -m unittest -v`.
fn parse_verbose(stderr: &str) -> BTreeMap<String, Status> {
    let mut out = BTreeMap::new();
    for line in stderr.lines() {
        let Some((head, status)) = line.split_once(") ... ") else {
            continue;
        };
        let Some((name, id)) = head.split_once(" (") else {
            continue;
        };
        if name.contains(' ') {
            continue;
        }
        assert!(
            id.ends_with(&format!(".{name}")),
            "odd unittest line: {line}"
        );
        let status = match status {
            "ok" => Status::Ok,
            "FAIL" => Status::Fail,
            "ERROR" => Status::Error,
            s => Status::Other(s.to_string()),
        };
        assert!(
            out.insert(id.to_string(), status).is_none(),
            "id printed twice: {id}"
        );
    }
    let ran = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("Ran ")
                .and_then(|r| r.split_whitespace().next()?.parse::<usize>().ok())
        })
        .unwrap_or_else(|| panic!("no `Ran N tests` line in:\n{stderr}"));
    assert_eq!(
        ran,
        out.len(),
        "parsed {} result lines, unittest ran {ran}:\n{stderr}",
        out.len()
    );
    out
}

/// Runs the task's test command in `dir`.
fn run_unittest(dir: &Path) -> BTreeMap<String, Status> {
    let words: Vec<&str> = entropo_suite::TEST_COMMAND.split_whitespace().collect();
    assert_eq!(words[0], "python3");
    let out = python(dir)
        .args(&words[1..])
        .output()
        .expect("python3 must be installed");
    parse_verbose(&String::from_utf8_lossy(&out.stderr))
}

/// Runs every `(dir, script)` reproduction in one Python process (one
/// start-up instead of one per script): each script runs as `python3 -c`
/// would run it from `dir`, with the modules it imported forgotten after.
fn run_repros(jobs: &[(PathBuf, String)]) -> Vec<ReproOutcome> {
    use std::io::Write;
    const DRIVER: &str = r#"
import contextlib, io, json, sys
results = []
for job in json.load(sys.stdin):
    before = set(sys.modules)
    sys.path.insert(0, job["dir"])
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(job["script"], "<string>", "exec"), {"__name__": "__main__"})
        results.append({"value": out.getvalue().rstrip()})
    except Exception as e:
        results.append({"raises": type(e).__name__})
    finally:
        sys.path.pop(0)
        for name in set(sys.modules) - before:
            del sys.modules[name]
print(json.dumps(results))
"#;
    let input: Vec<serde_json::Value> = jobs
        .iter()
        .map(|(d, s)| serde_json::json!({"dir": d.to_str().unwrap(), "script": s}))
        .collect();
    let mut child = python(Path::new("/"))
        .args(["-S", "-c", DRIVER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be installed");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|r| match (r.get("value"), r.get("raises")) {
            (Some(v), _) => ReproOutcome::Value(v.as_str().unwrap().to_string()),
            (_, Some(e)) => ReproOutcome::Raises(e.as_str().unwrap().to_string()),
            _ => unreachable!(),
        })
        .collect()
}

fn git_apply(dir: &Path, patch: &str) {
    use std::io::Write;
    let parent = dir.parent().unwrap();
    for (program, args) in [
        ("patch", &["-p1", "--dry-run", "--quiet"][..]),
        ("git", &["apply", "-v"][..]),
    ] {
        let mut child = Command::new(program)
            .args(args)
            .current_dir(dir)
            // Never let git find an enclosing repository.
            .env("GIT_CEILING_DIRECTORIES", parent)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{program} must be installed: {e}"));
        child
            .stdin
            .take()
            .unwrap()
            .write_all(patch.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?} failed in {}: {}{}\n{patch}",
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Checks one task's tests in a buggy and a patched copy under `scratch`;
/// returns a description of each problem found.
fn check_task(t: &SuiteTask, scratch: &Path) -> Vec<String> {
    let task = &t.task;
    let name = format!("{} ({}/{})", task.instance_id, t.meta.template, t.meta.site);
    let mut problems = Vec::new();
    let (buggy, fixed) = dirs(t, scratch);
    copy_dir(task.workspace.as_ref().unwrap(), &buggy);
    copy_dir(task.workspace.as_ref().unwrap(), &fixed);

    let mut listed: Vec<String> = task
        .fail_to_pass
        .iter()
        .chain(&task.pass_to_pass)
        .cloned()
        .collect();
    listed.sort();

    let before = run_unittest(&buggy);
    let printed: Vec<String> = before.keys().cloned().collect();
    if printed != listed {
        problems.push(format!(
            "{name}: ids differ from unittest's: printed {printed:?}, listed {listed:?}"
        ));
    }
    for id in &task.fail_to_pass {
        match before.get(id) {
            Some(Status::Fail | Status::Error) => {}
            other => problems.push(format!(
                "{name}: FAIL_TO_PASS {id} is {other:?} before the fix"
            )),
        }
    }
    for id in &task.pass_to_pass {
        if before.get(id) != Some(&Status::Ok) {
            problems.push(format!(
                "{name}: PASS_TO_PASS {id} is {:?} before the fix",
                before.get(id)
            ));
        }
    }

    git_apply(&fixed, task.patch.as_deref().unwrap());
    let after = run_unittest(&fixed);
    for id in &listed {
        if after.get(id) != Some(&Status::Ok) {
            problems.push(format!(
                "{name}: {id} is {:?} after the gold patch",
                after.get(id)
            ));
        }
    }
    if after.len() != listed.len() {
        problems.push(format!(
            "{name}: {} tests after the patch, {} listed",
            after.len(),
            listed.len()
        ));
    }
    if !task.problem_statement.contains(&t.meta.repro.script) {
        problems.push(format!(
            "{name}: the issue does not show the checked reproduction"
        ));
    }
    problems
}

fn dirs(t: &SuiteTask, scratch: &Path) -> (PathBuf, PathBuf) {
    let base = scratch.join(&t.task.instance_id);
    (base.join("buggy"), base.join("fixed"))
}

fn check_suite(config: SuiteConfig) -> Vec<SuiteTask> {
    let out = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let suite = generate(&config, out.path()).unwrap();
    let tasks: Vec<SuiteTask> = suite.tasks().cloned().collect();
    // Four workers: each check is a handful of short Python processes.
    let problems: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<_> = tasks.chunks(tasks.len().div_ceil(4).max(1)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let scratch = scratch.path();
                s.spawn(move || {
                    chunk
                        .iter()
                        .flat_map(|t| check_task(t, scratch))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut problems = problems;
    // The issue's reproduction gives what the issue says, on both sides.
    let jobs: Vec<(PathBuf, String)> = tasks
        .iter()
        .flat_map(|t| {
            let (buggy, fixed) = dirs(t, scratch.path());
            [
                (buggy, t.meta.repro.check_script.clone()),
                (fixed, t.meta.repro.check_script.clone()),
            ]
        })
        .collect();
    let outcomes = run_repros(&jobs);
    for (t, got) in tasks.iter().zip(outcomes.chunks(2)) {
        let r = &t.meta.repro;
        if got[0] != r.actual {
            problems.push(format!(
                "{}: reproduction gives {:?} on the buggy code, the issue says {:?}",
                t.task.instance_id, got[0], r.actual
            ));
        }
        if got[1] != r.expected {
            problems.push(format!(
                "{}: reproduction gives {:?} after the fix, the issue expects {:?}",
                t.task.instance_id, got[1], r.expected
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    tasks
}

#[test]
fn a_twelve_task_suite_behaves_as_labelled() {
    let tasks = check_suite(SuiteConfig {
        seed: 2024,
        train: 7,
        test: 5,
    });
    let mut families: Vec<_> = tasks.iter().map(|t| t.meta.family).collect();
    families.sort();
    families.dedup();
    assert_eq!(families, entropo_suite::BugFamily::ALL.to_vec());
}

#[test]
fn every_bug_site_behaves_as_labelled() {
    // With as many tasks as sites, each split uses every one of its sites
    // once, so this covers the whole catalogue (under one seed's names and
    // constants).
    let sites = catalogue();
    let train = sites.iter().filter(|s| s.split == Split::Train).count();
    let test = sites.len() - train;
    let tasks = check_suite(SuiteConfig {
        seed: 11,
        train,
        test,
    });
    let mut used: Vec<_> = tasks
        .iter()
        .map(|t| (t.meta.template.clone(), t.meta.site.clone()))
        .collect();
    used.sort();
    used.dedup();
    assert_eq!(used.len(), sites.len());
}
