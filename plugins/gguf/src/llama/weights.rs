//! Which GGUF tensor becomes which HF tensor, and writing them as f32
//! safetensors one at a time.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::{Dtype, View};

use super::hparams::Hparams;
use super::permute::unpermute_rows;
use crate::{GgufError, GgufFile, MetadataValue, TensorInfo};

/// One tensor to write.
pub(crate) struct Planned<'a> {
    pub info: &'a TensorInfo,
    pub hf_name: String,
    /// HF shape, outermost first.
    pub shape: Vec<usize>,
    /// For Q and K: the head count to undo llama.cpp's row permutation with.
    pub unpermute_heads: Option<usize>,
}

/// Every tensor of the file, mapped and checked.
pub(crate) struct Plan<'a> {
    pub tensors: Vec<Planned<'a>>,
    /// Rows of the embedding matrix.
    pub vocab: usize,
    /// No `output.weight`: the LM head is the embedding matrix.
    pub tied: bool,
}

/// Maps every tensor of `gguf` to its HF name and shape, checking that each
/// one the model needs is present with the shape the metadata implies, can be
/// dequantised, and that no tensor is left without a counterpart.
pub(crate) fn plan<'a>(gguf: &'a GgufFile, hp: &Hparams) -> Result<Plan<'a>, GgufError> {
    let need = |name: &str| {
        gguf.tensor(name).ok_or_else(|| GgufError::MissingTensor {
            path: gguf.path().to_path_buf(),
            tensor: name.into(),
        })
    };
    let embd = need("token_embd.weight")?;
    let (h, ffn, q_rows, kv_rows) = (
        hp.hidden as u64,
        hp.ffn as u64,
        (hp.heads * hp.head_dim) as u64,
        (hp.kv_heads * hp.head_dim) as u64,
    );
    let vocab = match embd.dims() {
        [inner, vocab] if *inner == h => *vocab,
        dims => {
            return Err(GgufError::BadShape {
                path: gguf.path().to_path_buf(),
                tensor: embd.name().into(),
                expected: vec![h, dims.get(1).copied().unwrap_or(0)],
                found: dims.to_vec(),
            });
        }
    };
    if let Some(v) = gguf.opt(
        "llama.vocab_size",
        "an unsigned integer",
        MetadataValue::as_u64,
    )? && v != vocab
    {
        return Err(gguf.bad_value(
            "llama.vocab_size",
            &format!("the {vocab} rows of token_embd.weight"),
            v.to_string(),
        ));
    }
    let tied = gguf.tensor("output.weight").is_none();

    let mut wanted: Vec<(String, String, Vec<u64>, Option<usize>)> = vec![
        (
            "token_embd.weight".into(),
            "model.embed_tokens.weight".into(),
            vec![h, vocab],
            None,
        ),
        (
            "output_norm.weight".into(),
            "model.norm.weight".into(),
            vec![h],
            None,
        ),
    ];
    if !tied {
        wanted.push((
            "output.weight".into(),
            "lm_head.weight".into(),
            vec![h, vocab],
            None,
        ));
    }
    for i in 0..hp.layers {
        let hf = |s: &str| format!("model.layers.{i}.{s}.weight");
        let gg = |s: &str| format!("blk.{i}.{s}.weight");
        wanted.extend([
            (gg("attn_norm"), hf("input_layernorm"), vec![h], None),
            (
                gg("ffn_norm"),
                hf("post_attention_layernorm"),
                vec![h],
                None,
            ),
            (
                gg("attn_q"),
                hf("self_attn.q_proj"),
                vec![h, q_rows],
                Some(hp.heads),
            ),
            (
                gg("attn_k"),
                hf("self_attn.k_proj"),
                vec![h, kv_rows],
                Some(hp.kv_heads),
            ),
            (gg("attn_v"), hf("self_attn.v_proj"), vec![h, kv_rows], None),
            (
                gg("attn_output"),
                hf("self_attn.o_proj"),
                vec![q_rows, h],
                None,
            ),
            (gg("ffn_gate"), hf("mlp.gate_proj"), vec![h, ffn], None),
            (gg("ffn_up"), hf("mlp.up_proj"), vec![h, ffn], None),
            (gg("ffn_down"), hf("mlp.down_proj"), vec![ffn, h], None),
        ]);
    }

    let mut tensors = Vec::with_capacity(wanted.len());
    for (gguf_name, hf_name, expected, unpermute_heads) in wanted {
        let info = need(&gguf_name)?;
        if info.dims() != expected.as_slice() {
            return Err(GgufError::BadShape {
                path: gguf.path().to_path_buf(),
                tensor: gguf_name,
                expected,
                found: info.dims().to_vec(),
            });
        }
        if !info.dtype().can_dequantize() {
            return Err(GgufError::UnsupportedType {
                path: gguf.path().to_path_buf(),
                tensor: gguf_name,
                dtype: info.dtype(),
            });
        }
        let shape = info
            .shape()
            .into_iter()
            .map(usize::try_from)
            .collect::<Result<_, _>>()
            .map_err(|_| gguf.bad_tensor(&gguf_name, "too large for memory"))?;
        tensors.push(Planned {
            info,
            hf_name,
            shape,
            unpermute_heads,
        });
    }

    let mapped: HashSet<&str> = tensors.iter().map(|p| p.info.name()).collect();
    if let Some(extra) = gguf.tensors().iter().find(|t| !mapped.contains(t.name())) {
        let reason = if extra.name() == "rope_freqs.weight" {
            "Llama-3-style RoPE frequency factors have no equivalent in the converted config"
                .to_string()
        } else {
            "it has no counterpart in HF LlamaForCausalLM".to_string()
        };
        return Err(GgufError::UnsupportedTensor {
            path: gguf.path().to_path_buf(),
            tensor: extra.name().into(),
            reason,
        });
    }
    let vocab =
        usize::try_from(vocab).map_err(|_| gguf.bad_tensor(embd.name(), "too large for memory"))?;
    Ok(Plan {
        tensors,
        vocab,
        tied,
    })
}

/// Writes every planned tensor to `path` as f32 safetensors (with
/// `{"format": "pt"}` metadata, as transformers expects), dequantising and
/// un-permuting one tensor at a time; `progress(done, total)` after each.
pub(crate) fn write_safetensors(
    gguf: &GgufFile,
    plan: &Plan<'_>,
    path: &Path,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(), GgufError> {
    let source = Source {
        gguf,
        error: RefCell::new(None),
        progress: RefCell::new(progress),
        done: Cell::new(0),
        total: plan.tensors.len(),
    };
    let views = plan.tensors.iter().map(|p| {
        (
            p.hf_name.as_str(),
            Lazy {
                source: &source,
                planned: p,
            },
        )
    });
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    let written = safetensors::serialize_to_file(views, Some(metadata), path);
    // A tensor that failed to load was written as zeros; its error wins.
    if let Some(error) = source.error.borrow_mut().take() {
        let _ = std::fs::remove_file(path);
        return Err(error);
    }
    written.map_err(|e| GgufError::Safetensors {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// What the lazy tensors share: the file, the first error, the progress.
struct Source<'a> {
    gguf: &'a GgufFile,
    error: RefCell<Option<GgufError>>,
    progress: RefCell<&'a mut dyn FnMut(usize, usize)>,
    done: Cell<usize>,
    total: usize,
}

/// A tensor that is read and converted only when safetensors writes it, so
/// at most one tensor is in memory. `View::data` cannot fail: an error is
/// kept in the [`Source`] and zeros are written in its place, and
/// [`write_safetensors`] then deletes the file and returns the error.
struct Lazy<'a> {
    source: &'a Source<'a>,
    planned: &'a Planned<'a>,
}

impl Lazy<'_> {
    fn load(&self) -> Result<Vec<u8>, GgufError> {
        let gguf = self.source.gguf;
        let info = self.planned.info;
        let mut values = gguf.tensor_f32(info)?;
        if let Some(heads) = self.planned.unpermute_heads {
            let cols = self.planned.shape.last().copied().unwrap_or(0);
            values = unpermute_rows(&values, heads, cols).ok_or_else(|| {
                gguf.bad_tensor(
                    info.name(),
                    format!("rows do not split into {heads} heads of row pairs"),
                )
            })?;
        }
        Ok(values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

impl View for Lazy<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }

    fn shape(&self) -> &[usize] {
        &self.planned.shape
    }

    fn data(&self) -> Cow<'_, [u8]> {
        let failed = self.source.error.borrow().is_some();
        let bytes = if failed {
            Err(())
        } else {
            self.load()
                .map_err(|e| *self.source.error.borrow_mut() = Some(e))
        };
        match bytes {
            Ok(bytes) => {
                let done = self.source.done.get() + 1;
                self.source.done.set(done);
                (self.source.progress.borrow_mut())(done, self.source.total);
                Cow::Owned(bytes)
            }
            Err(()) => Cow::Owned(vec![0; self.data_len()]),
        }
    }

    fn data_len(&self) -> usize {
        self.planned.shape.iter().product::<usize>() * 4
    }
}
