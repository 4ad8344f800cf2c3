//! `entropo run`: the whole EntroPO experiment as stages, each leaving its
//! files under the run folder so that a rerun skips what is done:
//!
//! ```text
//! tasks/                 the task suite (train.jsonl, test.jsonl, repos/)
//! rollouts/teacher/      teacher trajectories on the train split
//! model/init/            BPE tokenizer trained on the tasks + random weights ([init])
//! data/sft/              SFT rows from the teacher's resolved runs
//! train/sft/ → model/sft the SFT adapter, merged into a model folder
//! rollouts/student/      the SFT model on the train split
//! data/preference/       pairs and KTO samples (teacher + student pools), TRL / LLaMA-Factory copies
//! train/<method>/        one LoRA adapter per preference loss
//! data/verifier/, train/verifier/   the lm-judge verifier's rows and adapter
//! eval/<method>/         N rollouts per held-out task, scored by the verifier
//! report/                report.json, report.md, report.html, PNG plots
//! ```

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use burn::backend::NdArray;
use entropo_burn::burn;
use entropo_burn::config::ModelConfig;
use entropo_burn::engine::{Engine, EngineOptions, EngineStats};
use entropo_burn::judge::{JudgeSettings, LmJudge, judge_sample};
use entropo_burn::logprob::{Sequence, score};
use entropo_burn::lora::LoraWeights;
use entropo_burn::model::Decoder;
use entropo_burn::policy::ChatPolicy;
use entropo_burn::sample::SamplingParams;
use entropo_burn::train::StepMetrics;
use entropo_burn::train::data::load_examples;
use entropo_core::agent::{Policy, PromptTemplate, conversation};
use entropo_core::config::{ExperimentConfig, PluginRef};
use entropo_core::datasets::{self, BuildOptions};
use entropo_core::eval::{Method, Pool, Report, ReportOptions, Sampling};
use entropo_core::pipeline::{EvalSection, InitSection, RolloutSection, TeacherSection};
use entropo_core::rollout::{RolloutEvent, RolloutFactory, Rollouts, load_trajectory, read_index, score_index};
use entropo_core::training::{Finetuning, ModelSection, TrainSection};
use entropo_core::types::Task;
use entropo_core::{Environment, Loss, Registry, Selector};
use entropo_openai::{OpenAiPolicy, OpenAiSettings};
use entropo_suite::teacher::{Teacher, TeacherConfig};
use entropo_suite::{Suite, SuiteConfig, SuiteTask};
use entropo_core::training::Cutoff;
use entropo_text::{ApplyCutoff, RenderOptions, Tokenizer, encode_chat};
use indicatif::{ProgressBar, ProgressStyle};

type Cpu = NdArray<f32>;

/// One experiment run: its config, where it came from, and the plugins.
pub struct Run<'a> {
    /// The experiment.
    pub cfg: &'a ExperimentConfig,
    /// The config file (relative paths in it are relative to its folder).
    pub file: &'a Path,
    /// Every plugin the config may name.
    pub registry: &'a Registry,
}

/// What `entropo run` leaves: the report's folder and Table 1.
pub struct Finished {
    /// `report/` under the run folder.
    pub report_dir: PathBuf,
    /// The report.
    pub report: Report,
    /// Wall time of the whole run, in seconds.
    pub seconds: f64,
}

impl Run<'_> {
    fn out(&self, rel: &str) -> PathBuf {
        self.cfg.output_dir.join(rel)
    }

    fn relative(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.file.parent().unwrap_or(Path::new(".")).join(p) }
    }

    /// Runs every stage that has not run yet.
    pub fn run(&self) -> anyhow::Result<Finished> {
        let started = Instant::now();
        let cfg = self.cfg;
        let rollout = cfg.rollout.clone().unwrap_or_default();
        let prompt = PromptTemplate::load(&self.relative(&rollout.prompt))?;
        let Tasks { train: train_tasks, test: test_tasks, suite } = self.tasks()?;
        let suite = suite.with_context(|| {
            format!(
                "{}: tasks: `entropo run` needs the bundled suite (tasks.suite), whose scripted teacher makes the SFT data; \
                 with task files run the stages one by one (entropo rollout, data build, train, eval)",
                self.file.display()
            )
        })?;

        // Teacher trajectories on the train split.
        let teacher = cfg.teacher.clone().unwrap_or_default();
        let teacher_dir = self.out("rollouts/teacher");
        stage("teacher", "scripted teacher on the train split");
        let factory = TeacherFactory { run: self, suite: &suite, settings: &teacher };
        let mut teacher_rollout = rollout.clone();
        teacher_rollout.limits.max_steps = teacher.max_steps;
        self.rollouts(&train_tasks, teacher.rollouts_per_task, &teacher_rollout, &prompt, &teacher_dir, &factory, "teacher")?;

        // The model to start from.
        let base = match (&cfg.init, &cfg.model) {
            (Some(init), _) => self.init_model(init, &teacher_dir, &suite)?,
            (None, Some(m)) => m.path.clone(),
            (None, None) => bail!("{}: needs [init] (a model trained from scratch) or [model] (a model folder)", self.file.display()),
        };
        let backend = cfg.model.as_ref().map(|m| m.backend).unwrap_or_default();

        // SFT on the teacher's resolved runs, merged into a model folder.
        stage("sft", "supervised fine-tuning on the teacher's resolved trajectories");
        let (sets, _) = datasets::load_judged(&[teacher_dir.clone()])?;
        let sft_rows = datasets::build(&sets, &BuildOptions::default());
        let [sft_data, _, _] = datasets::write(&sft_rows, &self.out("data/sft"))?;
        anyhow::ensure!(!sft_rows.sft.is_empty(), "the teacher resolved no task; nothing to fine-tune on");
        let sft_settings = cfg.sft.clone().unwrap_or_default();
        let sft_model = self.out("model/sft");
        if !sft_model.join("config.json").exists() {
            let trained = self.train("sft", &PluginRef { name: "sft".into(), params: Default::default() }, &base, backend, &sft_settings, &sft_data)?;
            match sft_settings.finetuning {
                Finetuning::Lora => entropo_burn::jobs::merge_adapter(&base, &trained, &sft_model)?,
                Finetuning::Full => copy_folder(&trained, &sft_model)?,
            }
        }
        let model = ModelSection { path: sft_model.clone(), backend, merge_adapters: vec![] };

        // The student's rollouts on the train split, pooled with the teacher's.
        let pref = cfg.preference.clone().unwrap_or_default();
        let student_dir = self.out("rollouts/student");
        stage("student", "the SFT model on the train split (preference data)");
        let policy = self.policy_factory(&model.path, None, &rollout)?;
        self.rollouts(&train_tasks, pref.rollouts_per_task, &rollout, &prompt, &student_dir, policy.as_ref(), "student")?;
        let (judged, skipped) = datasets::load_judged(&[teacher_dir.clone(), student_dir.clone()])?;
        let sets = datasets::build(&judged, &pref.data);
        let [_, pairs, kto] = datasets::write(&sets, &self.out("data/preference"))?;
        eprintln!(
            "preference data: {} pairs, {} KTO samples ({} desirable){}",
            sets.pairs.len(),
            sets.kto.len(),
            sets.kto.iter().filter(|k| k.label).count(),
            if skipped > 0 { format!(", {skipped} unjudged rollouts left out") } else { String::new() }
        );

        // One adapter per preference method, from the same SFT model and data.
        let mut methods: Vec<(String, Option<PathBuf>)> = vec![("sft".into(), None)];
        for (m, label) in pref.methods.iter().zip(method_labels(&pref.methods)) {
            stage(&label, "preference optimisation");
            let data = if m.name.contains("kto") { &kto } else { &pairs };
            if std::fs::metadata(data).map(|d| d.len() == 0).unwrap_or(true) {
                eprintln!("{label}: no training rows (every rollout of a task resolved, or none); skipped");
                continue;
            }
            let adapter = self.train(&label, m, &sft_model, backend, &pref.train, data)?;
            methods.push((label, Some(adapter)));
        }

        // The verifier: the SFT model taught to answer YES/NO on trajectories.
        stage("verifier", "lm-judge training on labelled trajectories");
        let verifier_adapter = self.train_verifier(&sft_model, &[teacher_dir, student_dir])?;
        let tokenizer = Tokenizer::from_dir(&sft_model)?;
        let judge = self.judge_settings();
        let device = Default::default();
        let decoder = Decoder::<Cpu>::load(&sft_model, &device)?;
        let verifier_lora = LoraWeights::load_peft(&verifier_adapter, &decoder.config)?;
        let verifier = LmJudge::new(decoder, Some(&verifier_lora), tokenizer.clone(), judge)?;

        // N rollouts per held-out task per method, scored by the verifier.
        let mut pools = Vec::new();
        for (name, adapter) in &methods {
            stage(name, "rollouts on the held-out tasks");
            let dir = self.out(&format!("eval/{name}"));
            let factory = self.policy_factory(&sft_model, adapter.as_deref(), &rollout)?;
            self.rollouts(&test_tasks, rollout.n, &rollout, &prompt, &dir, factory.as_ref(), name)?;
            let bar = bar(0, "verifier");
            score_index(&dir, &test_tasks, &verifier, |_| bar.inc(1))?;
            bar.finish_and_clear();
            let entropy = ModelFactory::new(self, &sft_model, adapter.as_deref(), &rollout)?.mean_entropy(&dir)?;
            pools.push(Method { name: name.clone(), pool: Pool::load(&dir.join("index.jsonl"))?, entropy });
        }

        // Every selector on the same pools.
        stage("report", "selectors, Best@N, diversity");
        let eval = cfg.eval.clone().unwrap_or_default();
        let selectors = self.selectors(&eval)?;
        let refs: Vec<(&str, &dyn Selector)> = selectors.iter().map(|(n, s)| (n.as_str(), s.as_ref())).collect();
        let options = ReportOptions {
            sampling: Sampling { ns: eval.ns.clone(), samples: eval.subsamples, seed: cfg.seed },
            tts_selector: eval.tts_selector.clone(),
        };
        let report = Report::build(&pools, &refs, &options);
        let report_dir = self.out("report");
        entropo_report::write_report(&report, &report_dir)?;
        Ok(Finished { report_dir, report, seconds: started.elapsed().as_secs_f64() })
    }

    /// The tasks: the bundled suite (written to `tasks/`, the same for the
    /// same seed) or SWE-bench-style task files.
    fn tasks(&self) -> anyhow::Result<Tasks> {
        let section = self.cfg.tasks.clone().unwrap_or_default();
        if let (None, Some(train), Some(test)) = (&section.suite, &section.train_file, &section.test_file) {
            let read = |p: &Path| entropo_core::formats::swebench::read_tasks(p);
            return Ok(Tasks { train: read(train)?, test: read(test)?, suite: None });
        }
        let s = section.suite.unwrap_or_default();
        stage("tasks", &format!("suite: {} train, {} held-out tasks (seed {})", s.train, s.test, s.seed));
        let suite = entropo_suite::generate(&SuiteConfig { seed: s.seed, train: s.train, test: s.test }, &self.out("tasks"))?;
        let tasks = |v: &[SuiteTask]| v.iter().map(|t| t.task.clone()).collect();
        Ok(Tasks { train: tasks(&suite.train), test: tasks(&suite.test), suite: Some(suite) })
    }

    /// A BPE tokenizer trained on the tasks and teacher runs, and random
    /// weights of the `[init]` shape, in `model/init/`.
    fn init_model(&self, init: &InitSection, teacher: &Path, suite: &Suite) -> anyhow::Result<PathBuf> {
        let dir = self.out("model/init");
        if dir.join("config.json").exists() {
            return Ok(dir);
        }
        stage("init", "BPE tokenizer and random weights");
        let mut corpus: Vec<String> = suite.tasks().map(|t| t.task.problem_statement.clone()).collect();
        for row in read_index(&teacher.join("index.jsonl"))? {
            let traj = load_trajectory(teacher, &row)?;
            corpus.extend(conversation(&traj).unwrap_or_default().into_iter().map(|m| m.content));
        }
        let tokenizer = entropo_text::train_bpe(&corpus, init.vocab_size, &[])?;
        let config = ModelConfig::from_json(
            &serde_json::json!({
                "model_type": "llama",
                "hidden_size": init.hidden_size,
                "intermediate_size": init.intermediate_size,
                "num_hidden_layers": init.layers,
                "num_attention_heads": init.heads,
                "num_key_value_heads": init.kv_heads,
                "vocab_size": tokenizer.vocab_size(),
                "max_position_embeddings": 32768,
                "tie_word_embeddings": true
            }),
            Path::new("[init]"),
        )?;
        let tmp = self.out("model/.init-tmp");
        let _ = std::fs::remove_dir_all(&tmp);
        tokenizer.save(&tmp)?;
        Decoder::<Cpu>::random(config, self.cfg.seed, &Default::default()).save(&tmp)?;
        std::fs::rename(&tmp, &dir).with_context(|| format!("{}", dir.display()))?;
        eprintln!("model/init: {} tokens of vocabulary, random weights", tokenizer.vocab_size());
        Ok(dir)
    }

    /// Trains one adapter, or a whole model with `finetuning = "full"`
    /// (resumable), and returns its folder.
    fn train(
        &self,
        name: &str,
        loss: &PluginRef,
        model: &Path,
        backend: entropo_core::training::Backend,
        settings: &TrainSection,
        data: &Path,
    ) -> anyhow::Result<PathBuf> {
        let out = self.out(&format!("train/{name}"));
        let done = match settings.finetuning {
            Finetuning::Lora => out.join("adapter/adapter_config.json"),
            Finetuning::Full => out.join("model/config.json"),
        };
        if let Some(folder) = done.parent().filter(|_| done.exists()) {
            return Ok(folder.to_path_buf());
        }
        let tokenizer = Tokenizer::from_dir(model)?;
        let (_, examples, report) = load_examples(data, &tokenizer, settings.cutoff)?;
        let c = &report.cutoff;
        if c.truncated + c.dropped > 0 {
            eprintln!("{name}: cutoff {} tokens: {c}", settings.cutoff.max_tokens);
        }
        let plugin: Box<dyn Loss> = self.registry.create::<dyn Loss>(&loss.name, &loss.params)?;
        let bar = bar(0, name);
        let mut observer = |m: &StepMetrics| {
            bar.set_length(m.total_steps as u64);
            bar.set_position(m.step as u64);
            bar.set_message(format!("loss {:.4} entropy {:.3}", m.loss, m.entropy));
            ControlFlow::Continue(())
        };
        let section = ModelSection { path: model.to_path_buf(), backend, merge_adapters: vec![] };
        let summary = entropo_burn::jobs::train(entropo_burn::jobs::TrainJob {
            model: &section,
            settings,
            examples: &examples,
            loss: plugin.as_ref(),
            seed: self.cfg.seed,
            out: &out,
            observer: &mut observer,
        })?;
        bar.finish_and_clear();
        eprintln!("{name}: {} steps on {} examples, final loss {:.4}", summary.steps, examples.len(), summary.final_loss.unwrap_or(f64::NAN));
        Ok(summary.output)
    }

    /// N rollouts per task into `dir`, with a progress bar.
    #[allow(clippy::too_many_arguments)]
    fn rollouts(
        &self,
        tasks: &[Task],
        n: u32,
        settings: &RolloutSection,
        prompt: &PromptTemplate,
        dir: &Path,
        factory: &dyn RolloutFactory,
        label: &str,
    ) -> anyhow::Result<()> {
        let progress = ProgressBar::new((tasks.len() * n as usize) as u64).with_style(
            ProgressStyle::with_template(&format!(
                "{{spinner}} {label:<12} {} tasks × {n}: {{pos}}/{{len}} rollouts, {{msg}} [{{elapsed_precise}}<{{eta}}, {{per_sec}}]",
                tasks.len()
            ))
            .expect("valid template"),
        );
        let resolved = std::sync::atomic::AtomicUsize::new(0);
        let started = Instant::now();
        let message = || {
            let r = resolved.load(std::sync::atomic::Ordering::Relaxed);
            match factory.generated_tokens() {
                Some(tokens) => format!("{r} resolved, {:.0} tokens/s", tokens as f64 / started.elapsed().as_secs_f64().max(1e-3)),
                None => format!("{r} resolved"),
            }
        };
        progress.set_message(message());
        let run = Rollouts { tasks, n, concurrency: settings.concurrency, prompt, limits: &settings.limits, out: dir };
        let done = std::sync::atomic::AtomicBool::new(false);
        let summary = std::thread::scope(|scope| {
            // Tokens/s moves between rollouts too.
            scope.spawn(|| {
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(250));
                    progress.set_message(message());
                }
            });
            let summary = run.run(factory, |event| match event {
                RolloutEvent::Started { done, .. } => progress.set_position(done as u64),
                RolloutEvent::Finished(row) => {
                    resolved.fetch_add(usize::from(row.resolved()), std::sync::atomic::Ordering::Relaxed);
                    progress.inc(1);
                    progress.set_message(message());
                }
                RolloutEvent::Failed { task_id, rollout_id, error } => {
                    progress.inc(1);
                    progress.println(format!("{task_id} #{rollout_id}: {error}"));
                }
            });
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            summary
        })?;
        progress.finish_and_clear();
        eprintln!(
            "{label}: {} rollouts ({} resolved, {} failed) in {}",
            summary.recorded,
            summary.resolved,
            summary.failed,
            dir.display()
        );
        Ok(())
    }

    /// `entropo train verifier`: LoRA SFT of `model` as an lm-judge on the
    /// judged trajectories of the rollout folders `dirs` (answer YES iff
    /// resolved). Returns the adapter folder.
    pub fn train_verifier(&self, model: &Path, dirs: &[PathBuf]) -> anyhow::Result<PathBuf> {
        let tokenizer = Tokenizer::from_dir(model)?;
        let rows = judged_rows(dirs, &tokenizer, &self.judge_settings())?;
        anyhow::ensure!(!rows.is_empty(), "no judged trajectories in {}", dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "));
        let data = self.out("data/verifier/sft.jsonl");
        entropo_core::io::write_jsonl(&data, &rows)?;
        let settings = self.cfg.verifier_training.clone().unwrap_or_default();
        let backend = self.cfg.model.as_ref().map(|m| m.backend).unwrap_or_default();
        let sft = PluginRef { name: "sft".into(), params: Default::default() };
        self.train("verifier", &sft, model, backend, &settings, &data)
    }

    /// The judge's prompts are condensed to fit the verifier's training
    /// cutoff (less a margin for the answer), so no row loses its answer.
    fn judge_settings(&self) -> JudgeSettings {
        let cutoff = self.cfg.verifier_training.clone().unwrap_or_default().cutoff.max_tokens;
        JudgeSettings { max_prompt_tokens: cutoff.saturating_sub(16).max(64), min_observation_chars: 64 }
    }

    /// `entropo rollout`: N rollouts per task of a split into `out`, with
    /// the model in `model` (+ `adapter`) or the configured endpoints.
    pub fn rollout(&self, test_split: bool, model: Option<&Path>, adapter: Option<&Path>, out: &Path) -> anyhow::Result<()> {
        let rollout = self.cfg.rollout.clone().unwrap_or_default();
        let prompt = PromptTemplate::load(&self.relative(&rollout.prompt))?;
        let all = self.tasks()?;
        let tasks = if test_split { all.test } else { all.train };
        let model = match (model, &self.cfg.model) {
            (Some(m), _) => m.to_path_buf(),
            (None, Some(m)) => m.path.clone(),
            (None, None) if !rollout.endpoints.is_empty() => PathBuf::new(),
            (None, None) => bail!("{}: no model: give --model, [model] path or [rollout] endpoints", self.file.display()),
        };
        let factory = self.policy_factory(&model, adapter, &rollout)?;
        self.rollouts(&tasks, rollout.n, &rollout, &prompt, out, factory.as_ref(), "rollouts")
    }

    /// `entropo bench rollout`: `n` rollouts per held-out task with the
    /// model in `model`, `concurrency` at once, into a fresh `out`; then what
    /// the trajectories say about where the time went.
    pub fn bench_rollout(&self, model: &Path, n: u32, concurrency: usize, out: &Path) -> anyhow::Result<RolloutBench> {
        let mut rollout = self.cfg.rollout.clone().unwrap_or_default();
        rollout.n = n;
        rollout.concurrency = concurrency;
        let prompt = PromptTemplate::load(&self.relative(&rollout.prompt))?;
        let tasks = self.tasks()?.test;
        if out.exists() {
            std::fs::remove_dir_all(out).with_context(|| format!("{}", out.display()))?;
        }
        let started = Instant::now();
        if !rollout.endpoints.is_empty() {
            let factory = self.policy_factory(model, None, &rollout)?;
            self.rollouts(&tasks, n, &rollout, &prompt, out, factory.as_ref(), "bench")?;
            return RolloutBench::measure(out, started.elapsed().as_secs_f64(), concurrency);
        }
        let factory = ModelFactory::new(self, model, None, &rollout)?;
        self.rollouts(&tasks, n, &rollout, &prompt, out, &factory, "bench")?;
        let mut bench = RolloutBench::measure(out, started.elapsed().as_secs_f64(), concurrency)?;
        bench.engine = factory.engine.get().map(Engine::stats);
        Ok(bench)
    }

    /// The configured endpoints when there are any, else the in-process model.
    fn policy_factory<'s>(&'s self, model: &Path, adapter: Option<&Path>, rollout: &RolloutSection) -> anyhow::Result<Box<dyn RolloutFactory + 's>> {
        if rollout.endpoints.is_empty() {
            return Ok(Box::new(ModelFactory::new(self, model, adapter, rollout)?));
        }
        let settings = OpenAiSettings {
            endpoints: rollout.endpoints.clone(),
            model: rollout.endpoint_model.clone(),
            timeout_secs: rollout.endpoint_timeout_secs,
            temperature: rollout.temperature as f32,
            top_p: rollout.top_p as f32,
            top_k: rollout.top_k as u32,
            max_tokens: Some(rollout.max_new_tokens as u32),
            ..Default::default()
        };
        Ok(Box::new(EndpointFactory { run: self, base: OpenAiPolicy::new(settings)? }))
    }

    fn selectors(&self, eval: &EvalSection) -> anyhow::Result<Vec<(String, Box<dyn Selector>)>> {
        eval.selectors
            .iter()
            .map(|spec| {
                let (name, params) = crate::plugin_spec(spec)?;
                let selector = self.registry.create::<dyn Selector>(&name, &params).with_context(|| format!("eval.selectors: {spec}"))?;
                Ok((spec.clone(), selector))
            })
            .collect()
    }

    fn environment(&self) -> anyhow::Result<Box<dyn Environment>> {
        let env = self.cfg.environment.clone().unwrap_or(PluginRef { name: "local".into(), params: Default::default() });
        Ok(self.registry.create::<dyn Environment>(&env.name, &env.params)?)
    }
}

/// Names of the methods in reports and folders: the loss plugin's name, with
/// its parameters added when two methods share it (`entropo-kto[alpha=0.12]`).
///
/// ```
/// use entropo_core::config::PluginRef;
/// let m = |name: &str, p: serde_json::Value| PluginRef { name: name.into(), params: p.as_object().unwrap().clone() };
/// let labels = entropo::pipeline::method_labels(&[
///     m("dpo", serde_json::json!({})),
///     m("entropo-kto", serde_json::json!({"alpha": 0.11})),
///     m("entropo-kto", serde_json::json!({"alpha": 0.12, "beta": 0.1})),
/// ]);
/// assert_eq!(labels, ["dpo", "entropo-kto[alpha=0.11]", "entropo-kto[alpha=0.12,beta=0.1]"]);
/// ```
pub fn method_labels(methods: &[PluginRef]) -> Vec<String> {
    methods
        .iter()
        .map(|m| {
            if methods.iter().filter(|o| o.name == m.name).count() < 2 {
                return m.name.clone();
            }
            let params: Vec<String> = m.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}[{}]", m.name, params.join(","))
        })
        .collect()
}

/// Throughput of a rollout pool and where its time went (summed over
/// rollouts, so with concurrency the parts add up to more than the wall time).
#[derive(Debug, Clone, serde::Serialize)]
pub struct RolloutBench {
    /// Rollouts recorded.
    pub rollouts: usize,
    /// Rollouts running at once.
    pub concurrency: usize,
    /// Wall time of the whole pool.
    pub wall_secs: f64,
    /// Environment steps taken.
    pub steps: u64,
    /// Steps per wall-clock second.
    pub steps_per_sec: f64,
    /// Tokens the policy generated.
    pub completion_tokens: u64,
    /// Generated tokens per wall-clock second.
    pub tokens_per_sec: f64,
    /// Time in the policy (sampling), summed over rollouts.
    pub policy_secs: f64,
    /// Time in tool calls, summed over rollouts.
    pub tool_secs: f64,
    /// Time running the tests at the end, summed over rollouts.
    pub test_secs: f64,
    /// What the in-process model's engine did: prompt tokens, those taken
    /// from its prefix cache, the mean batch.
    pub engine: Option<EngineStats>,
}

impl RolloutBench {
    /// Reads the pool in `dir`.
    pub fn measure(dir: &Path, wall_secs: f64, concurrency: usize) -> anyhow::Result<RolloutBench> {
        let rows = read_index(&dir.join("index.jsonl"))?;
        let mut b = RolloutBench {
            rollouts: rows.len(),
            concurrency,
            wall_secs,
            steps: 0,
            steps_per_sec: 0.0,
            completion_tokens: 0,
            tokens_per_sec: 0.0,
            policy_secs: 0.0,
            tool_secs: 0.0,
            test_secs: 0.0,
            engine: None,
        };
        for row in &rows {
            let traj = load_trajectory(dir, row)?;
            for step in &traj.trajectory_steps {
                b.steps += 1;
                b.completion_tokens += step.token_usage_completion;
                b.policy_secs += step.llm_exec_time;
                b.tool_secs += step.env_exec_time;
            }
            b.test_secs += traj.extra.get("test_exec_time").and_then(|v| v.as_f64()).unwrap_or(0.0);
        }
        b.steps_per_sec = b.steps as f64 / wall_secs.max(1e-9);
        b.tokens_per_sec = b.completion_tokens as f64 / wall_secs.max(1e-9);
        Ok(b)
    }

    /// A Markdown table of the figures (and the engine's, when it ran).
    pub fn markdown(&self) -> String {
        let total = (self.policy_secs + self.tool_secs + self.test_secs).max(1e-9);
        let share = |x: f64| 100.0 * x / total;
        let engine = self.engine.map_or(String::new(), |e| {
            format!(
                "\n| prompt tokens | from the prefix cache | computed | generated | steps | mean batch |\n\
                 | --- | --- | --- | --- | --- | --- |\n\
                 | {} | {} ({:.1} %) | {} | {} | {} | {:.1} |\n",
                e.prompt_tokens,
                e.reused_tokens,
                100.0 * e.reuse_share(),
                e.prompt_tokens - e.reused_tokens,
                e.generated_tokens,
                e.steps,
                e.batched as f64 / e.steps.max(1) as f64
            )
        });
        format!(
            "| rollouts | concurrency | wall s | env steps/s | policy tokens/s | policy | tools | tests |\n\
             | --- | --- | --- | --- | --- | --- | --- | --- |\n\
             | {} | {} | {:.1} | {:.2} | {:.1} | {:.0} s ({:.0} %) | {:.1} s ({:.0} %) | {:.1} s ({:.0} %) |\n",
            self.rollouts,
            self.concurrency,
            self.wall_secs,
            self.steps_per_sec,
            self.tokens_per_sec,
            self.policy_secs,
            share(self.policy_secs),
            self.tool_secs,
            share(self.tool_secs),
            self.test_secs,
            share(self.test_secs)
        ) + &engine
    }
}

/// The tasks of a run.
struct Tasks {
    train: Vec<Task>,
    test: Vec<Task>,
    /// The generated suite, when the tasks come from it.
    suite: Option<Suite>,
}

/// The judge's training rows from judged rollout folders.
fn judged_rows(dirs: &[PathBuf], tokenizer: &Tokenizer, settings: &JudgeSettings) -> anyhow::Result<Vec<entropo_core::types::SftSample>> {
    let mut rows = Vec::new();
    for dir in dirs {
        for row in read_index(&dir.join("index.jsonl"))? {
            let traj = load_trajectory(dir, &row)?;
            if traj.reward.is_some() {
                rows.push(judge_sample(&row.task_id, &traj, tokenizer, settings)?);
            }
        }
    }
    Ok(rows)
}

/// Copies the files of model folder `from` into a new folder `to`, which
/// appears complete or not at all.
fn copy_folder(from: &Path, to: &Path) -> anyhow::Result<()> {
    let tmp = to.with_extension("tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).with_context(|| format!("{}", tmp.display()))?;
    for entry in std::fs::read_dir(from).with_context(|| format!("{}", from.display()))? {
        let path = entry?.path();
        if path.is_file() {
            std::fs::copy(&path, tmp.join(path.file_name().expect("a file has a name")))
                .with_context(|| format!("{}", path.display()))?;
        }
    }
    std::fs::rename(&tmp, to).with_context(|| format!("{}", to.display()))
}

/// Prints a stage heading.
/// Prints a stage heading with the time since the first heading, so that a
/// run's log says how long each stage took.
fn stage(name: &str, what: &str) {
    static FIRST: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let t = FIRST.get_or_init(Instant::now).elapsed().as_secs();
    eprintln!("==> [{}:{:02}] {name}: {what}", t / 60, t % 60);
}

fn bar(len: u64, label: &str) -> ProgressBar {
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&format!("{{spinner}} {label:<12} {{pos}}/{{len}} [{{elapsed_precise}}<{{eta}}] {{msg}}"))
            .expect("valid template"),
    )
}

/// The engine settings of a `[rollout]` section.
pub fn engine_options(settings: &RolloutSection) -> EngineOptions {
    EngineOptions { max_batch: settings.batch_size, prefill_chunk: settings.prefill_chunk, cache_bytes: settings.cache_mib.saturating_mul(1 << 20) }
}

/// A seed for rollout `r` of `task` under the run's seed.
fn rollout_seed(base: u64, task: &str, r: u32) -> u64 {
    let h = task.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    h ^ base.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(r).wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

struct TeacherFactory<'a> {
    run: &'a Run<'a>,
    suite: &'a Suite,
    settings: &'a TeacherSection,
}

impl RolloutFactory for TeacherFactory<'_> {
    fn environment(&self, _: &Task, _: u32) -> Result<Box<dyn Environment>, String> {
        self.run.environment().map_err(|e| e.to_string())
    }

    fn policy(&self, task: &Task, r: u32) -> Result<Box<dyn Policy>, String> {
        let t: &SuiteTask = self.suite.tasks().find(|t| t.task.instance_id == task.instance_id).ok_or("not a suite task")?;
        let s = self.settings;
        let config = TeacherConfig { imperfect_share: s.imperfect_share, repro_share: s.repro_share, exploration: s.exploration };
        Ok(Box::new(Teacher::new(t, rollout_seed(self.run.cfg.seed, &task.instance_id, r), &config).map_err(|e| e.to_string())?))
    }
}

/// Rollouts sampled from OpenAI-compatible endpoints, spread over them.
struct EndpointFactory<'a> {
    run: &'a Run<'a>,
    base: OpenAiPolicy,
}

impl RolloutFactory for EndpointFactory<'_> {
    fn environment(&self, _: &Task, _: u32) -> Result<Box<dyn Environment>, String> {
        self.run.environment().map_err(|e| e.to_string())
    }

    fn policy(&self, task: &Task, r: u32) -> Result<Box<dyn Policy>, String> {
        Ok(Box::new(self.base.fork().with_seed(Some(rollout_seed(self.run.cfg.seed, &task.instance_id, r)))))
    }
}

/// Rollouts of the in-process model (with an optional adapter), every
/// rollout's replies sampled by one shared engine, started by the first
/// rollout (the entropy pass needs none).
struct ModelFactory<'a> {
    run: &'a Run<'a>,
    model: Decoder<Cpu>,
    adapter: Option<LoraWeights>,
    engine: std::sync::OnceLock<Engine>,
    engine_options: EngineOptions,
    tokenizer: Tokenizer,
    params: SamplingParams,
    cutoff: Cutoff,
}

impl<'a> ModelFactory<'a> {
    fn new(run: &'a Run<'a>, model: &Path, adapter: Option<&Path>, settings: &RolloutSection) -> anyhow::Result<Self> {
        let decoder = Decoder::<Cpu>::load(model, &Default::default())?;
        let adapter = adapter.map(|a| LoraWeights::load_peft(a, &decoder.config)).transpose()?;
        let params = SamplingParams {
            temperature: settings.temperature,
            top_k: settings.top_k,
            top_p: settings.top_p,
            max_tokens: settings.max_new_tokens,
            seed: run.cfg.seed,
        };
        let cutoff = run.cfg.preference.clone().unwrap_or_default().train.cutoff;
        Ok(ModelFactory {
            run,
            model: decoder,
            adapter,
            engine: std::sync::OnceLock::new(),
            engine_options: engine_options(settings),
            tokenizer: Tokenizer::from_dir(model)?,
            params,
            cutoff,
        })
    }

    /// The engine sampling every rollout's replies.
    fn engine(&self) -> &Engine {
        self.engine.get_or_init(|| {
            let adapters = self.adapter.as_ref().map(|a| a.to_device(self.model.device(), false));
            Engine::start(self.model.clone(), adapters, self.engine_options)
        })
    }

    /// Mean token entropy of this policy over the assistant tokens of the
    /// rollouts in `dir` (rollouts 0..4 of each task, each cut to the
    /// preference training's cutoff, as the trainer would see it).
    fn mean_entropy(&self, dir: &Path) -> anyhow::Result<Option<f64>> {
        let adapters = self.adapter.as_ref().map(|a| a.to_device(self.model.device(), false));
        let (mut sum, mut tokens) = (0.0, 0u64);
        for row in read_index(&dir.join("index.jsonl"))?.iter().filter(|r| r.rollout_id < 4) {
            let traj = load_trajectory(dir, row)?;
            let Some(chat) = conversation(&traj) else { continue };
            let enc = encode_chat(&self.tokenizer, &chat, &RenderOptions::default())?;
            let Some(enc) = self.cutoff.apply(enc, &mut Default::default()) else { continue };
            let seq = Sequence { ids: enc.ids, mask: enc.mask.into_iter().map(u8::from).collect() };
            if seq.masked_tokens() == 0 {
                continue;
            }
            let scored = score(&self.model, adapters.as_ref(), &[&seq], true)?;
            sum += scored.entropy.map_or(0.0, |e| e[0]);
            tokens += scored.tokens[0];
        }
        Ok((tokens > 0).then(|| sum / tokens as f64))
    }
}

impl RolloutFactory for ModelFactory<'_> {
    fn environment(&self, _: &Task, _: u32) -> Result<Box<dyn Environment>, String> {
        self.run.environment().map_err(|e| e.to_string())
    }

    fn policy(&self, task: &Task, r: u32) -> Result<Box<dyn Policy>, String> {
        let params = SamplingParams { seed: rollout_seed(self.params.seed, &task.instance_id, r), ..self.params.clone() };
        Ok(Box::new(ChatPolicy::new(self.engine().clone(), self.tokenizer.clone(), params)))
    }

    fn generated_tokens(&self) -> Option<u64> {
        Some(self.engine.get().map_or(0, |e| e.stats().generated_tokens))
    }
}
