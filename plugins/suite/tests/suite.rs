//! Properties of generated suites that need no Python: determinism, splits,
//! coverage, issue texts and well-formed patches.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use entropo_core::types::Task;
use entropo_suite::{BugFamily, Split, SuiteConfig, SuiteError, catalogue, generate};
use proptest::prelude::*;

/// Every file under `root`, relative path → bytes.
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

const CONFIG: SuiteConfig = SuiteConfig {
    seed: 5,
    train: 12,
    test: 6,
};

#[test]
fn same_seed_gives_byte_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let first_suite = generate(&CONFIG, dir.path()).unwrap();
    let first = snapshot(dir.path());
    assert!(first.len() > 18 * 8, "only {} files", first.len());
    assert!(first.contains_key("train.jsonl") && first.contains_key("test.jsonl"));

    // Again into the same folder (over the first output): identical bytes.
    std::fs::remove_dir_all(dir.path().join("repos")).unwrap();
    let again_suite = generate(&CONFIG, dir.path()).unwrap();
    assert_eq!(first, snapshot(dir.path()));
    assert_eq!(first_suite, again_suite);

    // Into another folder: identical except that task workspaces name it.
    let other = tempfile::tempdir().unwrap();
    generate(&CONFIG, other.path()).unwrap();
    let second = snapshot(other.path());
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        second.keys().collect::<Vec<_>>()
    );
    let (a, b) = (dir.path().to_str().unwrap(), other.path().to_str().unwrap());
    for (name, bytes) in &first {
        let mine = String::from_utf8(bytes.clone()).unwrap();
        let theirs = String::from_utf8(second[name].clone()).unwrap();
        if name.ends_with(".jsonl") {
            assert_eq!(mine.replace(a, b), theirs, "{name}");
        } else {
            assert_eq!(mine, theirs, "{name}");
        }
    }
}

#[test]
fn regenerating_replaces_an_earlier_repository() {
    let dir = tempfile::tempdir().unwrap();
    let suite = generate(&CONFIG, dir.path()).unwrap();
    let ws = suite.train[0].task.workspace.clone().unwrap();
    std::fs::write(ws.join("stray.py"), "x = 1\n").unwrap();
    let before = snapshot(&ws);
    generate(&CONFIG, dir.path()).unwrap();
    let after = snapshot(&ws);
    assert!(!after.contains_key("stray.py"));
    assert_eq!(after.len() + 1, before.len());
    // No staging folders are left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("repos"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| n.to_string_lossy().starts_with("suite__")),
        "{names:?}"
    );
}

#[test]
fn different_seeds_give_different_suites() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = generate(&SuiteConfig { seed: 1, ..CONFIG }, a.path()).unwrap();
    let y = generate(&SuiteConfig { seed: 2, ..CONFIG }, b.path()).unwrap();
    let key = |s: &entropo_suite::Suite| {
        s.tasks()
            .map(|t| (t.task.instance_id.clone(), t.task.problem_statement.clone()))
            .collect::<Vec<_>>()
    };
    assert_ne!(key(&x), key(&y));
    let (sa, sb) = (
        snapshot(&a.path().join("repos")),
        snapshot(&b.path().join("repos")),
    );
    assert_ne!(
        sa.values().collect::<Vec<_>>(),
        sb.values().collect::<Vec<_>>()
    );
}

#[test]
fn splits_share_no_task_and_no_bug_site() {
    let dir = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 9,
            train: 60,
            test: 30,
        },
        dir.path(),
    )
    .unwrap();
    let ids: BTreeSet<_> = suite.tasks().map(|t| t.task.instance_id.clone()).collect();
    assert_eq!(ids.len(), 90, "instance ids are unique");
    let site = |t: &entropo_suite::SuiteTask| (t.meta.template.clone(), t.meta.site.clone());
    let train_sites: BTreeSet<_> = suite.train.iter().map(site).collect();
    let test_sites: BTreeSet<_> = suite.test.iter().map(site).collect();
    assert!(train_sites.is_disjoint(&test_sites));
    // The split of a site is fixed by the catalogue, whatever the seed.
    let catalogue: BTreeMap<_, _> = catalogue()
        .into_iter()
        .map(|s| ((s.template.to_string(), s.site.to_string()), s.split))
        .collect();
    assert!(
        suite
            .train
            .iter()
            .all(|t| catalogue[&site(t)] == Split::Train && t.meta.split == Split::Train)
    );
    assert!(
        suite
            .test
            .iter()
            .all(|t| catalogue[&site(t)] == Split::Test && t.meta.split == Split::Test)
    );
    // Test tasks are numbered apart from train tasks.
    let number = |t: &entropo_suite::SuiteTask| {
        t.task
            .instance_id
            .rsplit('-')
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    assert_eq!(
        suite.train.iter().map(number).collect::<Vec<_>>(),
        (1..=60).collect::<Vec<_>>()
    );
    let base = entropo_suite::HELD_OUT_BASE;
    assert_eq!(
        suite.test.iter().map(number).collect::<Vec<_>>(),
        (base..base + 30).collect::<Vec<_>>()
    );
    // The files hold the same split.
    let train: Vec<Task> = entropo_core::io::read_jsonl(&dir.path().join("train.jsonl")).unwrap();
    let test: Vec<Task> = entropo_core::io::read_jsonl(&dir.path().join("test.jsonl")).unwrap();
    assert_eq!(
        train,
        suite
            .train
            .iter()
            .map(|t| t.task.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        test,
        suite
            .test
            .iter()
            .map(|t| t.task.clone())
            .collect::<Vec<_>>()
    );
}

#[test]
fn five_tasks_per_split_cover_every_family() {
    for seed in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let suite = generate(
            &SuiteConfig {
                seed,
                train: 5,
                test: 5,
            },
            dir.path(),
        )
        .unwrap();
        for split in [&suite.train, &suite.test] {
            let families: BTreeSet<BugFamily> = split.iter().map(|t| t.meta.family).collect();
            assert_eq!(families.len(), BugFamily::ALL.len(), "seed {seed}");
        }
    }
}

#[test]
fn issues_never_quote_the_fix_and_vary_in_style() {
    let dir = tempfile::tempdir().unwrap();
    let suite = generate(
        &SuiteConfig {
            seed: 3,
            train: 60,
            test: 30,
        },
        dir.path(),
    )
    .unwrap();
    let mut openings = BTreeSet::new();
    for t in suite.tasks() {
        let issue = &t.task.problem_statement;
        let patch = t.task.patch.as_deref().unwrap();
        for line in patch
            .lines()
            .filter(|l| !l.starts_with("+++") && !l.starts_with("---"))
        {
            if let Some(changed) = line.strip_prefix('+').or_else(|| line.strip_prefix('-')) {
                let changed = changed.trim();
                assert!(
                    !changed.is_empty() && !issue.contains(changed),
                    "{}: issue quotes {changed:?}",
                    t.task.instance_id
                );
            }
        }
        assert!(!issue.contains(&t.meta.site) && !issue.contains(t.meta.family.as_str()));
        assert!(!issue.contains("diff --git") && !issue.contains(&t.meta.file));
        openings.insert(issue.split_whitespace().next().unwrap().to_string());
    }
    assert!(openings.len() >= 4, "{openings:?}");
}

#[test]
fn bad_config_and_unwritable_output_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let too_many = SuiteConfig {
        train: entropo_suite::HELD_OUT_BASE,
        ..CONFIG
    };
    assert!(matches!(
        generate(&too_many, dir.path()),
        Err(SuiteError::Config(_))
    ));

    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "").unwrap();
    let err = generate(&CONFIG, &file).unwrap_err();
    assert!(matches!(err, SuiteError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("not-a-dir"), "{err}");

    let parsed: Result<SuiteConfig, _> = serde_json::from_str(r#"{"seed": 1, "trian": 3}"#);
    assert!(parsed.unwrap_err().to_string().contains("trian"));
}

/// Applies a one-file, one-hunk unified diff to `old`; panics on any
/// inconsistency between the hunk header, its body and `old`.
fn apply(patch: &str, old: &str) -> String {
    let lines: Vec<&str> = patch.lines().collect();
    let path = lines[0]
        .strip_prefix("diff --git a/")
        .unwrap()
        .split(" b/")
        .next()
        .unwrap();
    assert_eq!(lines[0], format!("diff --git a/{path} b/{path}"));
    assert_eq!(lines[1], format!("--- a/{path}"));
    assert_eq!(lines[2], format!("+++ b/{path}"));
    let header = lines[3]
        .strip_prefix("@@ -")
        .unwrap()
        .strip_suffix(" @@")
        .unwrap();
    let (o, n) = header.split_once(" +").unwrap();
    let parse = |r: &str| {
        let (s, l) = r.split_once(',').unwrap();
        (s.parse::<usize>().unwrap(), l.parse::<usize>().unwrap())
    };
    let ((os, ol), (ns, nl)) = (parse(o), parse(n));
    assert_eq!(os, ns);
    let body = &lines[4..];
    assert_eq!(body.iter().filter(|l| !l.starts_with('+')).count(), ol);
    assert_eq!(body.iter().filter(|l| !l.starts_with('-')).count(), nl);
    let old_lines: Vec<&str> = old.lines().collect();
    let mut new_lines: Vec<&str> = old_lines[..os - 1].to_vec();
    let mut at = os - 1;
    for l in body {
        let (tag, text) = l.split_at(1);
        match tag {
            " " | "-" => {
                assert_eq!(old_lines[at], text, "context or removed line {at} differs");
                at += 1;
                if tag == " " {
                    new_lines.push(text);
                }
            }
            "+" => new_lines.push(text),
            _ => panic!("bad hunk line {l:?}"),
        }
    }
    new_lines.extend(&old_lines[at..]);
    new_lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn tasks_are_well_formed(seed in any::<u64>(), train in 0usize..6, test in 0usize..4) {
        let dir = tempfile::tempdir().unwrap();
        let suite = generate(&SuiteConfig { seed, train, test }, dir.path()).unwrap();
        prop_assert_eq!(suite.train.len(), train);
        prop_assert_eq!(suite.test.len(), test);
        for t in suite.tasks() {
            let task = &t.task;
            let ws = task.workspace.as_ref().unwrap();
            prop_assert!(ws.is_absolute());
            prop_assert!(task.instance_id.starts_with("suite__"));
            let pkg = task.repo.strip_prefix("entropo-suite/").unwrap();
            let prefix = format!("suite__{pkg}-");
            prop_assert!(task.instance_id.starts_with(&prefix));
            prop_assert_eq!(task.mount_at.as_str(), "/testbed");
            prop_assert_eq!(task.test_command.as_deref(), Some("python3 -m unittest -v"));
            prop_assert!(!task.fail_to_pass.is_empty() && task.pass_to_pass.len() >= 5);
            let f2p: BTreeSet<_> = task.fail_to_pass.iter().collect();
            let p2p: BTreeSet<_> = task.pass_to_pass.iter().collect();
            prop_assert!(f2p.is_disjoint(&p2p));
            prop_assert_eq!(f2p.len() + p2p.len(), task.fail_to_pass.len() + task.pass_to_pass.len());
            for id in f2p.iter().chain(&p2p) {
                let parts: Vec<_> = id.split('.').collect();
                prop_assert!(parts.len() == 4 && parts[0] == "tests" && parts[1].starts_with("test_") && parts[3].starts_with("test_"), "{}", id);
                let file = ws.join("tests").join(format!("{}.py", parts[1]));
                prop_assert!(file.is_file());
            }
            // The gold patch applies to the buggy file and changes it.
            let patch = task.patch.as_deref().unwrap();
            let old = std::fs::read_to_string(ws.join(&t.meta.file)).unwrap();
            let new = apply(patch, &old);
            prop_assert_ne!(&new, &old);
            // 2 to 4 modules, each with its tests.
            let modules = std::fs::read_dir(ws.join(pkg)).unwrap().count() - 1;
            prop_assert!((2..=4).contains(&modules), "{} modules", modules);
            prop_assert_eq!(std::fs::read_dir(ws.join("tests")).unwrap().count() - 1, modules);
        }
    }
}
