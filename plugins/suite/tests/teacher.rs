//! The scripted teacher end to end: episodes on the `local` environment
//! (bubblewrap and the WASM tools), determinism per seed, the share of
//! imperfect runs, and every planned edit checked with Python on every bug
//! site of the catalogue.
//!
//! Needs `python3` and bubblewrap, as set up by `scripts/setup.sh`.

mod common;

use common::copy_dir;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};

use entropo_core::agent::{Limits, PromptTemplate, parse_reply, run_episode};
use entropo_core::environment::Environment;
use entropo_core::types::{ExitReason, Trajectory};
use entropo_envs::{LocalEnv, LocalParams};
use entropo_suite::teacher::{Edit, Flaw, Teacher, TeacherConfig};
use entropo_suite::{Split, SuiteConfig, SuiteTask, catalogue, generate};

fn prompt() -> PromptTemplate {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../configs/prompts/r2e.toml");
    PromptTemplate::load(&path).unwrap()
}

/// One episode of `teacher` on `task` in a fresh `local` environment.
fn episode(task: &SuiteTask, teacher: &mut Teacher, dir: &Path) -> Trajectory {
    let mut env = LocalEnv::new(LocalParams::default()).unwrap();
    let path = dir.join(format!("{}.json", task.task.instance_id));
    run_episode(
        &task.task,
        &mut env,
        teacher,
        &prompt(),
        &Limits::default(),
        &path,
    )
    .unwrap()
}

/// Every step holds exactly one well-formed call, as the parser reads it.
fn assert_one_call_per_step(traj: &Trajectory) {
    let tools = LocalEnv::new(LocalParams::default()).unwrap().tools();
    for step in &traj.trajectory_steps {
        let reply = format!("{}\n\n{}", step.thought, step.action);
        let parsed = parse_reply(&reply, &tools);
        assert!(
            parsed.call.is_ok() && parsed.ignored_calls == 0 && !step.thought.is_empty(),
            "step {} of {:?}: {parsed:?}",
            step.step_idx,
            traj.instance_id
        );
        let sentences = step.thought.matches(". ").count() + 1;
        assert!(sentences <= 4, "long thought: {}", step.thought);
    }
}

#[test]
fn perfect_runs_resolve_and_imperfect_runs_do_not() {
    let out = tempfile::tempdir().unwrap();
    let trajs = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 0,
            train: 12,
            test: 4,
        },
        out.path(),
    )
    .unwrap();
    let share = |imperfect_share| TeacherConfig {
        imperfect_share,
        ..TeacherConfig::default()
    };
    let (never, default, always) = (share(0.0), TeacherConfig::default(), share(1.0));
    let mut flaws = BTreeSet::new();
    // Runs, steps, characters (thoughts, calls, observations) and the
    // teacher's own characters (thoughts and calls) of perfect and
    // imperfect runs.
    let mut sizes = [[0usize; 4]; 2];
    for (i, task) in suite.tasks().enumerate() {
        // Per task a perfect run, one with the default share and an
        // imperfect one.
        for (pass, config) in [&never, &default, &always].into_iter().enumerate() {
            let mut teacher = Teacher::new(task, (3 * i + pass) as u64, config).unwrap();
            let plan = teacher.plan().clone();
            let traj = episode(task, &mut teacher, trajs.path());
            let id = &task.task.instance_id;
            assert_eq!(traj.exit_reason, Some(ExitReason::Agent), "{id}: {plan}");
            assert_one_call_per_step(&traj);
            assert!(
                traj.trajectory_steps
                    .last()
                    .unwrap()
                    .action
                    .starts_with("<function=finish>")
            );
            // Retried edits and zooms add steps; nothing else does.
            let extra = traj.steps() - plan.outline.len();
            assert!(extra <= 2, "{id}: {} steps for {plan}", traj.steps());
            match plan.flaw {
                None => {
                    assert_eq!(traj.reward, Some(1.0), "{id}: {plan}\n{}", traj.test_output);
                }
                Some(flaw) => {
                    assert_eq!(traj.reward, Some(0.0), "{id}: {plan}");
                    flaws.insert(flaw);
                    if matches!(flaw, Flaw::NoEdit | Flaw::Wander) {
                        assert_eq!(traj.output_patch, "", "{id}: {plan}");
                    }
                }
            }
            if plan.edit.is_some() {
                let edited = traj
                    .trajectory_steps
                    .iter()
                    .any(|s| s.observation.contains("has been edited"));
                assert!(edited, "{id}: {plan}");
            }
            let size = &mut sizes[usize::from(plan.is_imperfect())];
            size[0] += 1;
            size[1] += traj.steps();
            for s in &traj.trajectory_steps {
                size[2] += s.thought.len() + s.action.len() + s.observation.len();
                size[3] += s.thought.len() + s.action.len();
            }
        }
    }
    for (kind, [runs, steps, chars, own]) in ["perfect (resolved)", "imperfect (unresolved)"]
        .iter()
        .zip(sizes)
    {
        eprintln!(
            "{runs} {kind} runs: {:.1} steps, {} characters ({} written by the teacher) on average",
            steps as f64 / runs as f64,
            chars / runs,
            own / runs
        );
    }
    assert!(sizes[0][0] >= 16 && sizes[1][0] >= 16, "{sizes:?}");
    assert_eq!(flaws.len(), 4, "{flaws:?}");
}

/// The trajectory as JSON with its timings (step times, unittest's "Ran N
/// tests in 0.002s") blanked.
fn without_timings(traj: &Trajectory) -> String {
    let mut t = traj.clone();
    for s in &mut t.trajectory_steps {
        s.llm_exec_time = 0.0;
        s.env_exec_time = 0.0;
        s.total_step_time = 0.0;
        s.total_time_traj = 0.0;
    }
    t.extra.remove("test_exec_time");
    let text = serde_json::to_string_pretty(&t).unwrap();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" tests in ") {
        let (head, tail) = rest.split_at(i + " tests in ".len());
        out.push_str(head);
        let end = tail.find('s').unwrap_or(0);
        out.push_str("TIME");
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn same_seed_same_trajectory_other_seed_another() {
    let out = tempfile::tempdir().unwrap();
    let trajs = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 3,
            train: 2,
            test: 0,
        },
        out.path(),
    )
    .unwrap();
    let config = TeacherConfig::default();
    for task in &suite.train {
        let run = |seed| {
            let mut teacher = Teacher::new(task, seed, &config).unwrap();
            without_timings(&episode(task, &mut teacher, trajs.path()))
        };
        let a = run(1);
        assert_eq!(a, run(1), "{}", task.task.instance_id);
        assert_ne!(a, run(2), "{}", task.task.instance_id);
    }
}

#[test]
fn imperfect_share_is_kept_over_seeds() {
    let out = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 1,
            train: 3,
            test: 1,
        },
        out.path(),
    )
    .unwrap();
    for (share, low, high) in [
        (0.25, 35, 65),
        (0.0, 0, 0),
        (0.6, 100, 140),
        (1.0, 200, 200),
    ] {
        let config = TeacherConfig {
            imperfect_share: share,
            ..TeacherConfig::default()
        };
        for task in suite.tasks() {
            let n = (0..200)
                .filter(|&seed| {
                    Teacher::new(task, seed, &config)
                        .unwrap()
                        .plan()
                        .is_imperfect()
                })
                .count();
            assert!(
                (low..=high).contains(&n),
                "share {share}: {n} of 200 imperfect"
            );
        }
    }
    // Plans are a function of the seed alone.
    let task = &suite.train[0];
    let config = TeacherConfig::default();
    let plans: BTreeSet<String> = (0..50)
        .map(|seed| {
            Teacher::new(task, seed, &config)
                .unwrap()
                .plan()
                .to_string()
        })
        .collect();
    assert!(plans.len() > 10, "{plans:#?}");
    let bad = TeacherConfig {
        repro_share: -0.1,
        ..TeacherConfig::default()
    };
    assert!(Teacher::new(task, 0, &bad).is_err());
}

#[test]
fn without_exploration_runs_go_straight_to_the_function() {
    let out = tempfile::tempdir().unwrap();
    let suite = generate(&SuiteConfig { seed: 2, train: 2, test: 1 }, out.path()).unwrap();
    let detours = ["view-root", "search-tests", "view-tests", "view"];
    let mean_steps = |exploration: f64| -> (f64, usize) {
        let config = TeacherConfig { exploration, ..TeacherConfig::default() };
        let (mut steps, mut detoured, mut runs) = (0, 0, 0);
        for task in suite.tasks() {
            for seed in 0..100 {
                let teacher = Teacher::new(task, seed, &config).unwrap();
                let plan = teacher.plan();
                steps += plan.outline.len();
                // A wandering run (a planned flaw) looks around whatever the setting.
                if plan.flaw != Some(Flaw::Wander) {
                    detoured += usize::from(plan.outline.iter().any(|s| detours.contains(s)));
                }
                runs += 1;
            }
        }
        (steps as f64 / runs as f64, detoured)
    };
    let (careful, careful_detours) = mean_steps(1.0);
    let (straight, straight_detours) = mean_steps(0.0);
    assert_eq!(straight_detours, 0, "no run looks around without exploration (wandering aside)");
    assert!(careful_detours > 100, "{careful_detours} careful runs looked around");
    // Editing runs (three in four) skip on average 0.3 + 0.2 + 0.25 optional
    // looks (root, test search, tests), plus the zoom after a condensed
    // whole-file view: at least 0.55 steps fewer per run in expectation.
    assert!(straight < careful - 0.4, "mean steps {straight} vs {careful}");
    let bad = TeacherConfig { exploration: 1.5, ..TeacherConfig::default() };
    assert!(bad.validate().unwrap_err().to_string().contains("exploration"));
}

/// Whether the task's tests pass in a copy of its repository with `edit`
/// made.
fn passes_after(task: &SuiteTask, edit: &Edit, scratch: &Path) -> bool {
    let dir = scratch.join(format!("{}-{}", task.task.instance_id, unique()));
    copy_dir(task.task.workspace.as_ref().unwrap(), &dir);
    let file = dir.join(&edit.file);
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = edit
        .apply(&text)
        .unwrap_or_else(|| panic!("{edit:?} does not apply"));
    std::fs::write(&file, edited).unwrap();
    Command::new("python3")
        .current_dir(&dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONPATH")
        .args(["-m", "unittest"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("python3 must be installed")
        .success()
}

fn unique() -> usize {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[test]
fn every_site_gold_edit_fixes_and_flawed_edits_do_not() {
    // As many tasks as sites: every site of the catalogue once (under one
    // seed's names and constants).
    let sites = catalogue();
    let train = sites.iter().filter(|s| s.split == Split::Train).count();
    let out = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 11,
            train,
            test: sites.len() - train,
        },
        out.path(),
    )
    .unwrap();
    let perfect = TeacherConfig {
        imperfect_share: 0.0,
        ..TeacherConfig::default()
    };
    let flawed = TeacherConfig {
        imperfect_share: 1.0,
        ..TeacherConfig::default()
    };
    // Per task: the gold edit, which must make every test pass, and every
    // distinct flawed edit 60 seeds plan, which must leave a test failing
    // (a FAIL_TO_PASS test, or a PASS_TO_PASS test it breaks).
    let mut jobs: Vec<(&SuiteTask, Edit, bool)> = Vec::new();
    let mut kinds = BTreeSet::new();
    let mut with_edit = 0;
    for task in suite.tasks() {
        let gold = Teacher::new(task, 0, &perfect)
            .unwrap()
            .plan()
            .edit
            .clone()
            .unwrap();
        jobs.push((task, gold, true));
        let mut seen = BTreeSet::new();
        for seed in 0..60 {
            let plan = Teacher::new(task, seed, &flawed).unwrap().plan().clone();
            let flaw = plan.flaw.unwrap();
            kinds.insert(flaw);
            match &plan.edit {
                Some(edit) => {
                    assert!(matches!(flaw, Flaw::WrongFix | Flaw::WrongLine), "{plan}");
                    if seen.insert((edit.old_str.clone(), edit.new_str.clone())) {
                        jobs.push((task, edit.clone(), false));
                    }
                }
                None => assert!(matches!(flaw, Flaw::NoEdit | Flaw::Wander), "{plan}"),
            }
        }
        // Sites where no operator or constant near the bug can go wrong
        // (a swapped argument pair, a string default) get no edit.
        with_edit += usize::from(!seen.is_empty());
    }
    eprintln!("{with_edit} of {} sites have flawed edits", sites.len());
    assert!(
        with_edit * 4 >= sites.len() * 3,
        "{with_edit} of {}",
        sites.len()
    );
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    let problems: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = jobs
            .chunks(jobs.len().div_ceil(4))
            .map(|chunk| {
                let scratch = scratch.path();
                s.spawn(move || {
                    let mut problems = Vec::new();
                    for (task, edit, gold) in chunk {
                        if passes_after(task, edit, scratch) != *gold {
                            problems.push(format!(
                                "{} ({}/{}), gold {gold}: {edit:?}",
                                task.task.instance_id, task.meta.template, task.meta.site
                            ));
                        }
                    }
                    problems
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    eprintln!("{} edits checked", jobs.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
