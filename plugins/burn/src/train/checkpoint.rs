//! Resumable training state, written atomically.

use std::path::Path;

use crate::config::ModelConfig;
use crate::error::ModelError;
use crate::train::optim::{AdamW, AdamWConfig};
use crate::train::params::Trainable;
use crate::weights::{self, TensorStore};

/// Everything needed to continue a run: the trained values (adapters or
/// weights), optimizer moments, the step reached and a fingerprint of the
/// settings and data it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Optimizer steps completed.
    pub step: usize,
    /// The trained values after that step.
    pub params: Trainable,
    /// The optimizer state after that step.
    pub optim: AdamW,
    /// Identifies the settings and data (a run with other ones must not resume from it).
    pub fingerprint: String,
}

impl Checkpoint {
    /// Writes the checkpoint to `dir`, replacing any older one only once the
    /// new one is complete.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| ModelError::io(parent, e))?;
        let tmp = tempfile::Builder::new().prefix(".checkpoint-").tempdir_in(parent).map_err(|e| ModelError::io(parent, e))?;
        self.params.save(&tmp.path().join(self.params.folder()))?;
        weights::save(&tmp.path().join("optimizer.safetensors"), &self.optim.to_tensors(), &Default::default())?;
        let state = serde_json::json!({
            "step": self.step,
            "optimizer_step": self.optim.step,
            "fingerprint": self.fingerprint,
        });
        entropo_core::io::write_atomic(&tmp.path().join("state.json"), state.to_string().as_bytes())?;
        let tmp = tmp.keep();
        let old = parent.join(".checkpoint-old");
        let _ = std::fs::remove_dir_all(&old);
        if dir.exists() {
            std::fs::rename(dir, &old).map_err(|e| ModelError::io(dir, e))?;
        }
        std::fs::rename(&tmp, dir).map_err(|e| ModelError::io(dir, e))?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }

    /// Reads the checkpoint in `dir`, if there is one, for a run on a
    /// `model`-shaped decoder that started from `like`. A checkpoint whose
    /// fingerprint is not `fingerprint` belongs to other settings or data:
    /// that is an error, found before any tensor is read.
    pub fn load(
        dir: &Path,
        fingerprint: &str,
        model: &ModelConfig,
        like: &Trainable,
        optim: AdamWConfig,
    ) -> Result<Option<Checkpoint>, ModelError> {
        let state_path = dir.join("state.json");
        if !state_path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&state_path).map_err(|e| ModelError::io(&state_path, e))?;
        let state: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| ModelError::Json { path: state_path.clone(), reason: e.to_string() })?;
        let field = |name: &str| ModelError::Config {
            path: state_path.clone(),
            field: name.into(),
            reason: "missing or of the wrong type".into(),
        };
        let step = state.get("step").and_then(|v| v.as_u64()).ok_or_else(|| field("step"))? as usize;
        let optimizer_step = state.get("optimizer_step").and_then(|v| v.as_u64()).ok_or_else(|| field("optimizer_step"))?;
        let found = state.get("fingerprint").and_then(|v| v.as_str()).ok_or_else(|| field("fingerprint"))?;
        if found != fingerprint {
            return Err(ModelError::Invalid(format!(
                "{}: made with other settings or data; remove it or choose another output folder",
                dir.display()
            )));
        }
        let params = Trainable::load(&dir.join(like.folder()), model, like)?;
        let sizes = params.sizes();
        let mut optim = AdamW::new(optim, &sizes);
        optim.step = optimizer_step;
        let mut store = TensorStore::open_file(&dir.join("optimizer.safetensors"))?;
        for (i, n) in sizes.iter().enumerate() {
            optim.m[i] = store.take(&format!("m.{i:05}"), &[*n])?.data;
            optim.v[i] = store.take(&format!("v.{i:05}"), &[*n])?.data;
        }
        Ok(Some(Checkpoint { step, params, optim, fingerprint: fingerprint.to_string() }))
    }
}
