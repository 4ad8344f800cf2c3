//! Experiment configs: one TOML file, overridable by `ENTROPO_…` environment
//! variables and `--set key=value`, with a JSON Schema generated from the types.
//!
//! ```
//! use entropo_core::config::ExperimentConfig;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("exp.toml");
//! std::fs::write(&path, "name = \"demo\"\n[loss]\nname = \"dpo\"\nparams = { beta = 0.1 }\n").unwrap();
//! let cfg = ExperimentConfig::load(&path, &[("seed".into(), toml::Value::Integer(7))]).unwrap();
//! assert_eq!(cfg.seed, 7);
//! assert_eq!(cfg.loss.unwrap().params["beta"], 0.1);
//! ```

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::registry::{Params, PluginKind, Registry, RegistryError, error_key};

/// A plugin picked by name, with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginRef {
    /// The registered name (`entropo-kto`, `hybrid`…); `entropo plugins list` shows them.
    pub name: String,
    /// The plugin's parameters; each plugin documents its own.
    #[serde(default)]
    pub params: Params,
}

/// One experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// A short name for the experiment.
    pub name: String,
    /// Where every artefact of the run goes.
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// Seed for every random choice of the run.
    #[serde(default)]
    pub seed: u64,
    /// Plugin libraries (or folders of them) to load before resolving names;
    /// relative paths are taken from the config file's folder.
    #[serde(default)]
    pub plugins: Vec<PathBuf>,
    /// The training objective.
    #[serde(default)]
    pub loss: Option<PluginRef>,
    /// How one rollout is picked among N.
    #[serde(default)]
    pub selector: Option<PluginRef>,
    /// How trajectories are scored.
    #[serde(default)]
    pub verifier: Option<PluginRef>,
    /// Where the agent acts.
    #[serde(default)]
    pub environment: Option<PluginRef>,
    /// The model: its folder and the tensor backend.
    #[serde(default)]
    pub model: Option<crate::training::ModelSection>,
    /// Training settings (SFT and preference optimisation).
    #[serde(default)]
    pub train: Option<crate::training::TrainSection>,
    /// `entropo run`: where the tasks come from.
    #[serde(default)]
    pub tasks: Option<crate::pipeline::TasksSection>,
    /// `entropo run`: a tiny model trained from random weights instead of `[model]`.
    #[serde(default)]
    pub init: Option<crate::pipeline::InitSection>,
    /// `entropo run`: the scripted teacher.
    #[serde(default)]
    pub teacher: Option<crate::pipeline::TeacherSection>,
    /// `entropo run`: supervised fine-tuning on the teacher's resolved trajectories.
    #[serde(default)]
    pub sft: Option<crate::training::TrainSection>,
    /// `entropo run` and `entropo rollout`: sampling and budgets.
    #[serde(default)]
    pub rollout: Option<crate::pipeline::RolloutSection>,
    /// `entropo run`: the preference methods compared.
    #[serde(default)]
    pub preference: Option<crate::pipeline::PreferenceSection>,
    /// `entropo run` and `entropo train verifier`: training of the `lm-judge` verifier.
    #[serde(default)]
    pub verifier_training: Option<crate::training::TrainSection>,
    /// `entropo run` and `entropo eval`: the evaluation.
    #[serde(default)]
    pub eval: Option<crate::pipeline::EvalSection>,
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("runs/default")
}

/// Why a config could not be used. Every message names the file and the key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file is missing, unreadable or not TOML.
    #[error("{file}: {message}")]
    Read {
        /// The config file.
        file: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A `--set` or `--param` argument is not `key=value`.
    #[error("`{0}`: expected key=value")]
    BadOverride(String),
    /// A key is unknown, missing or has the wrong type.
    #[error("{file}: {key}: {message}")]
    Invalid {
        /// The config file.
        file: PathBuf,
        /// Dotted key (`loss.params.beta`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A named plugin is unknown or rejects its parameters.
    #[error("{file}: {key}: {source}")]
    Plugin {
        /// The config file.
        file: PathBuf,
        /// Dotted key (`loss.name` or `loss.params`).
        key: String,
        /// What the registry said.
        #[source]
        source: Box<RegistryError>,
    },
}

impl ExperimentConfig {
    /// Reads `file`, then applies `ENTROPO_…` environment variables
    /// (`ENTROPO_SEED=3`, `ENTROPO_LOSS__PARAMS__BETA=0.2`: `__` separates
    /// keys) and then `overrides` (`("loss.params.beta", "0.2")`; values are
    /// parsed as TOML, falling back to a plain string).
    pub fn load(file: &Path, overrides: &[(String, toml::Value)]) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError::Read {
            file: file.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text, file, overrides)
    }

    /// Like [`load`](Self::load) for TOML text already in memory; `file` is
    /// used for messages and relative plugin paths.
    pub fn from_toml_str(
        text: &str,
        file: &Path,
        overrides: &[(String, toml::Value)],
    ) -> Result<Self, ConfigError> {
        let read_err = |message: String| ConfigError::Read { file: file.to_path_buf(), message };
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .add_source(
                config::Environment::with_prefix("ENTROPO")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true),
            );
        for (key, value) in overrides {
            builder = builder
                .set_override(key.as_str(), toml_to_config(value.clone()))
                .map_err(|e| read_err(format!("--set {key}: {e}")))?;
        }
        let merged = builder.build().map_err(|e| read_err(e.to_string()))?;
        let value: config::Value = merged.try_deserialize().map_err(|e| read_err(e.to_string()))?;
        let mut cfg: ExperimentConfig = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let message = e.into_inner().to_string();
            ConfigError::Invalid { file: file.to_path_buf(), key: error_key(&path, &message), message }
        })?;
        let base = file.parent().unwrap_or(Path::new("."));
        for p in &mut cfg.plugins {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(cfg)
    }

    /// The plugins this config names, as (key, kind, reference).
    pub fn plugin_refs(&self) -> Vec<(&'static str, PluginKind, &PluginRef)> {
        [
            ("loss", PluginKind::Loss, &self.loss),
            ("selector", PluginKind::Selector, &self.selector),
            ("verifier", PluginKind::Verifier, &self.verifier),
            ("environment", PluginKind::Environment, &self.environment),
        ]
        .into_iter()
        .filter_map(|(key, kind, r)| r.as_ref().map(|r| (key, kind, r)))
        .collect()
    }

    /// Checks that every named plugin exists in `registry` and accepts its
    /// parameters. `file` is named in the error.
    pub fn validate(&self, file: &Path, registry: &Registry) -> Result<(), ConfigError> {
        let sections = [
            ("train", self.train.as_ref()),
            ("sft", self.sft.as_ref()),
            ("preference.train", self.preference.as_ref().map(|p| &p.train)),
            ("verifier_training", self.verifier_training.as_ref()),
        ];
        for (section, train) in sections {
            let Some(train) = train else { continue };
            train.check().map_err(|text| {
                let (key, message) = text.split_once(": ").unwrap_or(("train", text.as_str()));
                let key = key.replacen("train", section, 1);
                ConfigError::Invalid { file: file.to_path_buf(), key, message: message.to_string() }
            })?;
        }
        if let Some(t) = &self.teacher {
            for (key, v) in [("imperfect_share", t.imperfect_share), ("repro_share", t.repro_share), ("exploration", t.exploration)] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(ConfigError::Invalid {
                        file: file.to_path_buf(),
                        key: format!("teacher.{key}"),
                        message: format!("must be in [0, 1], got {v}"),
                    });
                }
            }
        }
        // The pipeline evaluates preference methods and the verifier as
        // adapters on the SFT model.
        for (section, train) in [sections[2], sections[3]] {
            if train.is_some_and(|t| t.finetuning == crate::training::Finetuning::Full) {
                return Err(ConfigError::Invalid {
                    file: file.to_path_buf(),
                    key: format!("{section}.finetuning"),
                    message: "must be \"lora\": preference methods and the verifier are adapters on the SFT model".into(),
                });
            }
        }
        if let Some(p) = &self.preference {
            for (i, m) in p.methods.iter().enumerate() {
                registry.check(PluginKind::Loss, &m.name, &m.params).map_err(|source| ConfigError::Plugin {
                    file: file.to_path_buf(),
                    key: format!("preference.methods[{i}]"),
                    source: Box::new(source),
                })?;
            }
        }
        for (key, kind, r) in self.plugin_refs() {
            registry.check(kind, &r.name, &r.params).map_err(|source| {
                let key = match &source {
                    RegistryError::Unknown { .. } => format!("{key}.name"),
                    _ => key.to_string(),
                };
                ConfigError::Plugin { file: file.to_path_buf(), key, source: Box::new(source) }
            })?;
        }
        Ok(())
    }

    /// The JSON Schema of an experiment config.
    pub fn json_schema() -> serde_json::Value {
        schemars::schema_for!(ExperimentConfig).to_value()
    }
}

/// Parses the text of a `--set` or `--param` value as a TOML value
/// (`0.2`, `true`, `[1, 2]`, `"x"`), falling back to a plain string.
///
/// ```
/// use entropo_core::config::parse_value;
/// assert_eq!(parse_value("0.2"), toml::Value::Float(0.2));
/// assert_eq!(parse_value("paper"), toml::Value::String("paper".into()));
/// ```
pub fn parse_value(text: &str) -> toml::Value {
    let parsed: Result<toml::Table, _> = toml::from_str(&format!("v = {text}"));
    parsed
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_string()))
}

/// Splits `key=value` at the first `=`; the value is parsed by [`parse_value`].
///
/// ```
/// use entropo_core::config::parse_assignment;
/// let (k, v) = parse_assignment("loss.params.beta=0.2").unwrap();
/// assert_eq!((k.as_str(), v), ("loss.params.beta", toml::Value::Float(0.2)));
/// assert!(parse_assignment("beta").is_err());
/// ```
pub fn parse_assignment(text: &str) -> Result<(String, toml::Value), ConfigError> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), parse_value(v.trim()))),
        _ => Err(ConfigError::BadOverride(text.to_string())),
    }
}

fn toml_to_config(v: toml::Value) -> config::Value {
    match v {
        toml::Value::String(s) => s.into(),
        toml::Value::Integer(i) => i.into(),
        toml::Value::Float(f) => f.into(),
        toml::Value::Boolean(b) => b.into(),
        toml::Value::Datetime(d) => d.to_string().into(),
        toml::Value::Array(a) => a.into_iter().map(toml_to_config).collect::<Vec<_>>().into(),
        toml::Value::Table(t) => t
            .into_iter()
            .map(|(k, v)| (k, toml_to_config(v)))
            .collect::<std::collections::HashMap<_, _>>()
            .into(),
    }
}
