//! A bundled task suite, generated from a seed: no download.
//!
//! Each task is a tiny Python 3.11 package (stdlib only) of two to four
//! modules drawn from a library of utility-code templates (statistics, text,
//! dates, a shopping cart, a grid, a tokenizer; names and constants vary),
//! with `unittest` tests and exactly one injected bug of a known
//! [`BugFamily`]. The task carries a user-style issue text, the
//! `FAIL_TO_PASS` and `PASS_TO_PASS` test ids exactly as
//! `python3 -m unittest -v` prints them, and the gold fix as a git-style
//! unified diff.
//!
//! # Splits
//!
//! Bug sites, not just tasks, are split: within each family, every third
//! site of the catalogue (in its fixed order) is held out, so a `test` task's
//! buggy line is never the buggy line of any `train` task, for any seed.
//! Module templates are shared (every template has sites on both sides), so
//! the held-out split measures fixing an unseen bug in familiar-looking code.
//! See [`catalogue`].
//!
//! # Output
//!
//! [`generate`] writes `out/repos/<instance_id>/` (the buggy repository),
//! `out/train.jsonl` and `out/test.jsonl` (one [`Task`] per line) and
//! `out/manifest.jsonl` (one [`TaskMeta`] per line: split, family, site and
//! the issue's reproduction, never shown to an agent). The same seed and
//! output folder give byte-identical files.
//!
//! ```
//! let dir = tempfile::tempdir().unwrap();
//! let config = entropo_suite::SuiteConfig { seed: 3, train: 6, test: 2 };
//! let suite = entropo_suite::generate(&config, dir.path()).unwrap();
//! assert_eq!((suite.train.len(), suite.test.len()), (6, 2));
//! let task = &suite.train[0].task;
//! assert!(task.instance_id.starts_with("suite__"));
//! assert!(task.workspace.as_ref().unwrap().join("tests/__init__.py").is_file());
//! assert!(task.patch.as_ref().unwrap().starts_with("diff --git a/"));
//! ```

#![warn(missing_docs)]

mod catalogue;
mod issue;
mod render;
mod rng;
pub mod teacher;
mod templates;

use std::path::{Path, PathBuf};

use entropo_core::types::Task;
use serde::{Deserialize, Serialize};

pub use catalogue::BugFamily;
pub use rng::SplitMix64;
pub use teacher::{Teacher, TeacherConfig};

use catalogue::{Outcome, Site, Template};
use render::Params;
use templates::TEMPLATES;

/// The command that runs a task's tests, from the repository root.
pub const TEST_COMMAND: &str = "python3 -m unittest -v";

/// Test-split tasks are numbered from here, so ids never depend on the size
/// of the train split.
pub const HELD_OUT_BASE: usize = 10_001;

/// Package names a task's repository may take.
const PACKAGES: &[&str] = &[
    "tallykit",
    "quillkit",
    "pebblekit",
    "hazelkit",
    "maplekit",
    "saffronkit",
    "umberkit",
    "juniperlib",
    "cobaltlib",
    "orbitlib",
    "rivetlib",
    "tundralib",
    "willowlib",
    "fernutils",
    "lumenutils",
    "tidyutils",
    "quartzutils",
    "brightbox",
    "ledgerly",
    "nimbus_tools",
];

/// What to generate.
///
/// ```
/// let c: entropo_suite::SuiteConfig = serde_json::from_str(r#"{"seed": 9}"#).unwrap();
/// assert_eq!((c.seed, c.train, c.test), (9, 64, 24));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuiteConfig {
    /// Fixes every random choice.
    pub seed: u64,
    /// Number of training tasks (at most `HELD_OUT_BASE - 1`).
    pub train: usize,
    /// Number of held-out test tasks.
    pub test: usize,
}

impl Default for SuiteConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            train: 64,
            test: 24,
        }
    }
}

/// Which side of the split a task or bug site is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training tasks.
    Train,
    /// Held-out tasks (their bug sites never occur in training).
    Test,
}

/// One bug site of the template library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SiteInfo {
    /// The module template, e.g. `stats`.
    pub template: &'static str,
    /// The site, unique within its template, e.g. `median-even`.
    pub site: &'static str,
    /// The family of the injected bug.
    pub family: BugFamily,
    /// The mistake in a few words.
    pub kind: &'static str,
    /// The split whose tasks use this site.
    pub split: Split,
}

/// Every bug site, in catalogue order, with the split it belongs to.
///
/// ```
/// use entropo_suite::{catalogue, BugFamily, Split};
/// let sites = catalogue();
/// for family in BugFamily::ALL {
///     for split in [Split::Train, Split::Test] {
///         assert!(sites.iter().any(|s| s.family == family && s.split == split));
///     }
/// }
/// ```
pub fn catalogue() -> Vec<SiteInfo> {
    site_refs()
        .into_iter()
        .map(|r| SiteInfo {
            template: r.template.key,
            site: r.site.id,
            family: r.site.family,
            kind: r.site.kind,
            split: r.split,
        })
        .collect()
}

#[derive(Clone, Copy)]
struct SiteRef {
    template_index: usize,
    template: &'static Template,
    site: &'static Site,
    split: Split,
}

fn site_refs() -> Vec<SiteRef> {
    let mut seen = [0usize; BugFamily::ALL.len()];
    let mut out = Vec::new();
    for (template_index, template) in TEMPLATES.iter().enumerate() {
        for site in template.sites {
            let n = &mut seen[site.family as usize];
            let split = if *n % 3 == 2 {
                Split::Test
            } else {
                Split::Train
            };
            *n += 1;
            out.push(SiteRef {
                template_index,
                template,
                site,
                split,
            });
        }
    }
    out
}

/// What a reproduction gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReproOutcome {
    /// Prints this `repr()`.
    Value(String),
    /// Raises this exception class.
    Raises(String),
}

/// The issue's reproduction, checkable against the repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Repro {
    /// The script shown in the issue (run from the repository root).
    pub script: String,
    /// The same script printing `repr()` of the result, for checking.
    pub check_script: String,
    /// What `check_script` gives once the bug is fixed.
    pub expected: ReproOutcome,
    /// What it gives on the buggy repository.
    pub actual: ReproOutcome,
}

/// What a task is, beyond the [`Task`] an agent sees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMeta {
    /// The task's id.
    pub instance_id: String,
    /// Its split.
    pub split: Split,
    /// The module template holding the bug.
    pub template: String,
    /// The bug site within it.
    pub site: String,
    /// The bug's family.
    pub family: BugFamily,
    /// The mistake in a few words.
    pub kind: String,
    /// The buggy file, relative to the repository root.
    pub file: String,
    /// The issue's reproduction.
    pub repro: Repro,
}

/// One generated task and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteTask {
    /// The task, as written to `train.jsonl` / `test.jsonl`.
    pub task: Task,
    /// Its metadata, as written to `manifest.jsonl`.
    pub meta: TaskMeta,
}

/// A generated suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suite {
    /// The configuration it was generated from.
    pub config: SuiteConfig,
    /// Training tasks.
    pub train: Vec<SuiteTask>,
    /// Held-out tasks.
    pub test: Vec<SuiteTask>,
}

impl Suite {
    /// Every task, train first.
    pub fn tasks(&self) -> impl Iterator<Item = &SuiteTask> {
        self.train.iter().chain(&self.test)
    }
}

/// Why a suite could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    /// A file or folder could not be written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON Lines file could not be written (the error names the file).
    #[error(transparent)]
    Jsonl(#[from] entropo_core::io::IoError),
    /// The configuration asks for something impossible.
    #[error("invalid suite config: {0}")]
    Config(String),
    /// A template of the library is inconsistent (a bug in this crate).
    #[error("template {template}, site {site}: {message}")]
    Template {
        /// The template.
        template: String,
        /// The site.
        site: String,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SuiteError + '_ {
    move |source| SuiteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A repository in memory: relative path → contents.
struct Built {
    files: Vec<(String, String)>,
    task: Task,
    meta: TaskMeta,
}

/// The order in which a split uses its sites: rounds over the families (in
/// a shuffled order), each round taking the next site of every family from a
/// shuffled queue; queues refill once all are empty. So the first five tasks
/// cover every family and the first `n` tasks every one of the split's `n`
/// sites.
fn schedule(seed: u64, split: Split, count: usize) -> Vec<SiteRef> {
    let mut rng = SplitMix64::derive(seed, split as u64, u64::MAX);
    let sites: Vec<SiteRef> = site_refs()
        .into_iter()
        .filter(|s| s.split == split)
        .collect();
    let mut out = Vec::with_capacity(count);
    'outer: while out.len() < count {
        let mut queues: Vec<Vec<SiteRef>> = BugFamily::ALL
            .iter()
            .map(|f| {
                let mut q: Vec<SiteRef> = sites
                    .iter()
                    .copied()
                    .filter(|s| s.site.family == *f)
                    .collect();
                rng.shuffle(&mut q);
                q
            })
            .collect();
        while queues.iter().any(|q| !q.is_empty()) {
            let mut order: Vec<usize> = (0..queues.len()).collect();
            rng.shuffle(&mut order);
            for f in order {
                if let Some(site) = queues[f].pop() {
                    out.push(site);
                    if out.len() == count {
                        break 'outer;
                    }
                }
            }
        }
    }
    out
}

fn outcome(
    o: Outcome,
    params: &Params,
    err: &dyn Fn(String) -> SuiteError,
) -> Result<ReproOutcome, SuiteError> {
    Ok(match o {
        Outcome::Value(v) => ReproOutcome::Value(render::fill(v, params).map_err(err)?),
        Outcome::Raises(e) => ReproOutcome::Raises(e.to_string()),
    })
}

/// Builds task `index` of `split` in memory.
fn build(
    seed: u64,
    split: Split,
    index: usize,
    site: SiteRef,
    out_dir: &Path,
) -> Result<Built, SuiteError> {
    let template_err = |message: String| SuiteError::Template {
        template: site.template.key.to_string(),
        site: site.site.id.to_string(),
        message,
    };
    let mut rng = SplitMix64::derive(seed, split as u64, index as u64);
    let pkg = *rng.pick(PACKAGES);
    let number = match split {
        Split::Train => index + 1,
        Split::Test => HELD_OUT_BASE + index,
    };
    let instance_id = format!("suite__{pkg}-{number}");

    // The buggy template plus one to three others, in catalogue order.
    let mut others: Vec<usize> = (0..TEMPLATES.len())
        .filter(|&i| i != site.template_index)
        .collect();
    rng.shuffle(&mut others);
    let extra = 1 + rng.below(3);
    let mut chosen: Vec<usize> = others[..extra].to_vec();
    chosen.push(site.template_index);
    chosen.sort_unstable();

    let mut files = Vec::new();
    let mut ids = Vec::new();
    let mut buggy_params = None;
    let mut modules = Vec::new();
    for &t in &chosen {
        let template = &TEMPLATES[t];
        let module = *rng.pick(template.modules);
        let mut params = Params::new();
        params.insert("pkg", pkg.to_string());
        params.insert("module", module.to_string());
        for axis in template.axes {
            for (k, v) in *rng.pick(axis) {
                params.insert(k, (*v).to_string());
            }
        }
        let fill = |text: &str| {
            render::fill(text, &params).map_err(|message| SuiteError::Template {
                template: template.key.to_string(),
                site: String::new(),
                message,
            })
        };
        let mut source = fill(template.source)?;
        let tests = fill(template.tests)?;
        let methods = render::test_methods(&tests);
        if t == site.template_index {
            let fixed = render::fill(site.site.fixed, &params).map_err(template_err)?;
            let buggy = render::fill(site.site.buggy, &params).map_err(template_err)?;
            let broken = render::replace_block(&source, &fixed, &buggy).map_err(template_err)?;
            let path = format!("{pkg}/{module}.py");
            let patch = render::unified_diff(&path, &broken, &source);
            source = broken;
            for b in site.site.breaks {
                if !methods.iter().any(|m| m == b) {
                    return Err(template_err(format!("breaks unknown test {b}")));
                }
            }
            buggy_params = Some((params.clone(), module, path, patch));
        }
        ids.extend(
            methods
                .iter()
                .map(|m| (format!("tests.test_{module}.{m}"), t == site.template_index)),
        );
        files.push((format!("{pkg}/{module}.py"), source));
        files.push((format!("tests/test_{module}.py"), tests));
        modules.push((module, template.blurb));
    }
    let (params, module, file, patch) =
        buggy_params.ok_or_else(|| template_err("buggy template not chosen".into()))?;

    let mut fail_to_pass = Vec::new();
    let mut pass_to_pass = Vec::new();
    for (id, in_buggy_module) in ids {
        let method = id.splitn(3, '.').nth(2).unwrap_or_default();
        if in_buggy_module && site.site.breaks.contains(&method) {
            fail_to_pass.push(id);
        } else {
            pass_to_pass.push(id);
        }
    }
    fail_to_pass.sort();
    pass_to_pass.sort();

    // Package scaffolding.
    let names: Vec<String> = modules.iter().map(|(m, _)| format!("\"{m}\"")).collect();
    let blurbs: Vec<String> = modules
        .iter()
        .map(|(m, b)| format!("- `{pkg}.{m}`: {b}"))
        .collect();
    let version = format!("0.{}.{}", 1 + rng.below(9), rng.below(10));
    files.push((
        format!("{pkg}/__init__.py"),
        format!("\"\"\"{pkg}: small, dependency-free utilities.\"\"\"\n\n__version__ = \"{version}\"\n\n__all__ = [{}]\n", names.join(", ")),
    ));
    files.push(("tests/__init__.py".into(), String::new()));
    files.push((
        "README.md".into(),
        format!(
            "# {pkg}\n\nSmall, dependency-free Python utilities.\n\n{}\n\nRun the tests from this folder with\n\n    {TEST_COMMAND}\n",
            blurbs.join("\n")
        ),
    ));
    files.push((
        "pyproject.toml".into(),
        format!(
            "[project]\nname = \"{pkg}\"\nversion = \"{version}\"\ndescription = \"Small, dependency-free Python utilities.\"\nrequires-python = \">=3.11\"\n"
        ),
    ));
    files.sort();

    // The issue and its reproduction.
    let s = site.site;
    let fill = |text: &str| render::fill(text, &params).map_err(template_err);
    let setup = fill(s.setup)?;
    let expr = fill(s.expr)?;
    // Imports first (stdlib, then the package), a blank line, the set-up.
    let (std_imports, rest): (Vec<&str>, Vec<&str>) =
        setup.lines().partition(|l| l.starts_with("import "));
    let mut head = String::new();
    for l in &std_imports {
        head.push_str(l);
        head.push('\n');
    }
    head.push_str(&format!("from {pkg} import {module}\n\n"));
    for l in &rest {
        head.push_str(l);
        head.push('\n');
    }
    let script = format!("{head}print({expr})\n");
    let check_script = format!("{head}print(repr({expr}))\n");
    let expected = outcome(s.expected, &params, &template_err)?;
    let actual = outcome(s.actual, &params, &template_err)?;
    let summary = fill(s.summary)?;
    let context = fill(s.context)?;
    let problem_statement = issue::write(
        &issue::IssueParts {
            pkg,
            module,
            summary: &summary,
            context: &context,
            code: &script,
            expected: &expected,
            actual: &actual,
        },
        &mut rng,
    );

    let workspace = out_dir.join("repos").join(&instance_id);
    let task = Task {
        instance_id: instance_id.clone(),
        repo: format!("entropo-suite/{pkg}"),
        base_commit: None,
        problem_statement,
        workspace: Some(workspace),
        image: None,
        mount_at: "/testbed".into(),
        fail_to_pass,
        pass_to_pass,
        patch: Some(patch),
        test_patch: None,
        test_command: Some(TEST_COMMAND.into()),
    };
    let meta = TaskMeta {
        instance_id,
        split,
        template: site.template.key.into(),
        site: s.id.into(),
        family: s.family,
        kind: s.kind.into(),
        file,
        repro: Repro {
            script,
            check_script,
            expected,
            actual,
        },
    };
    Ok(Built { files, task, meta })
}

/// Writes one repository: into a staging folder first, which then replaces
/// any earlier copy, so a reader never sees half a repository.
fn write_repo(dir: &Path, files: &[(String, String)]) -> Result<(), SuiteError> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    for (rel, text) in files {
        let path = staging.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io_err(p))?;
        }
        std::fs::write(&path, text).map_err(io_err(&path))?;
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(io_err(dir))?;
    }
    std::fs::rename(&staging, dir).map_err(io_err(dir))
}

/// Generates the suite of `config` into `out_dir` (created if missing) and
/// returns its tasks.
///
/// Writes `out_dir/repos/<instance_id>/` for every task (replacing an
/// earlier copy of the same id; other folders there are left alone),
/// `train.jsonl`, `test.jsonl` and `manifest.jsonl`. Task workspaces are
/// absolute paths under `out_dir`. Needs no Python: the tests of this crate
/// check the generated tasks with it.
///
/// ```
/// use entropo_suite::{generate, SuiteConfig, Split};
/// let dir = tempfile::tempdir().unwrap();
/// let suite = generate(&SuiteConfig { seed: 1, train: 2, test: 1 }, dir.path()).unwrap();
/// let test_ids: Vec<_> = entropo_core::io::read_jsonl::<entropo_core::types::Task>(&dir.path().join("test.jsonl"))
///     .unwrap().into_iter().map(|t| t.instance_id).collect();
/// assert_eq!(test_ids, vec![suite.test[0].task.instance_id.clone()]);
/// assert_eq!(suite.test[0].meta.split, Split::Test);
/// ```
pub fn generate(config: &SuiteConfig, out_dir: &Path) -> Result<Suite, SuiteError> {
    if config.train >= HELD_OUT_BASE {
        return Err(SuiteError::Config(format!(
            "train = {} but at most {} training tasks can be numbered apart from the test split",
            config.train,
            HELD_OUT_BASE - 1
        )));
    }
    let out_dir = std::path::absolute(out_dir).map_err(io_err(out_dir))?;
    let repos = out_dir.join("repos");
    std::fs::create_dir_all(&repos).map_err(io_err(&repos))?;
    let mut train = Vec::with_capacity(config.train);
    let mut test = Vec::with_capacity(config.test);
    for (split, count, into) in [
        (Split::Train, config.train, &mut train),
        (Split::Test, config.test, &mut test),
    ] {
        for (index, site) in schedule(config.seed, split, count).into_iter().enumerate() {
            let built = build(config.seed, split, index, site, &out_dir)?;
            write_repo(&repos.join(&built.task.instance_id), &built.files)?;
            into.push(SuiteTask {
                task: built.task,
                meta: built.meta,
            });
        }
    }
    let tasks = |v: &[SuiteTask]| v.iter().map(|t| t.task.clone()).collect::<Vec<_>>();
    entropo_core::io::write_jsonl(&out_dir.join("train.jsonl"), &tasks(&train))?;
    entropo_core::io::write_jsonl(&out_dir.join("test.jsonl"), &tasks(&test))?;
    let metas: Vec<&TaskMeta> = train.iter().chain(&test).map(|t| &t.meta).collect();
    entropo_core::io::write_jsonl(&out_dir.join("manifest.jsonl"), &metas)?;
    Ok(Suite {
        config: config.clone(),
        train,
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_site_renders_under_every_axis_option() {
        // Each site's block must occur exactly once in its module, and every
        // placeholder must be bound, for every option of every axis.
        for r in site_refs() {
            let t = r.template;
            for (a, axis) in t.axes.iter().enumerate() {
                for option in axis.iter() {
                    let mut params = Params::new();
                    params.insert("pkg", "p".into());
                    params.insert("module", t.modules[0].into());
                    for (b, other) in t.axes.iter().enumerate() {
                        let pick = if a == b { option } else { &other[0] };
                        for (k, v) in *pick {
                            params.insert(k, (*v).to_string());
                        }
                    }
                    let src = render::fill(t.source, &params).unwrap();
                    let fixed = render::fill(r.site.fixed, &params).unwrap();
                    let buggy = render::fill(r.site.buggy, &params).unwrap();
                    assert_ne!(fixed, buggy, "{}/{}", t.key, r.site.id);
                    render::replace_block(&src, &fixed, &buggy)
                        .unwrap_or_else(|e| panic!("{}/{}: {e}", t.key, r.site.id));
                    render::fill(t.tests, &params).unwrap();
                    for text in [r.site.summary, r.site.context, r.site.setup, r.site.expr] {
                        render::fill(text, &params).unwrap();
                    }
                }
            }
        }
    }

    #[test]
    fn sites_are_unique_and_test_sites_are_a_third() {
        let refs = site_refs();
        let mut keys: Vec<_> = refs.iter().map(|r| (r.template.key, r.site.id)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), refs.len());
        let held = refs.iter().filter(|r| r.split == Split::Test).count();
        assert!(
            held * 4 >= refs.len() && held * 2 <= refs.len(),
            "{held} of {}",
            refs.len()
        );
    }

    #[test]
    fn schedule_covers_families_then_sites() {
        for split in [Split::Train, Split::Test] {
            let n = site_refs().iter().filter(|r| r.split == split).count();
            let s = schedule(5, split, n + 3);
            let mut families: Vec<_> = s[..5].iter().map(|r| r.site.family).collect();
            families.sort();
            assert_eq!(families, BugFamily::ALL.to_vec());
            let mut first: Vec<_> = s[..n].iter().map(|r| (r.template.key, r.site.id)).collect();
            first.sort();
            first.dedup();
            assert_eq!(first.len(), n);
        }
    }
}
