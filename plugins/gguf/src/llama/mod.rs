//! Converting a `llama` GGUF into a HuggingFace `LlamaForCausalLM` folder.

mod config;
mod hparams;
mod permute;
mod weights;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use crate::output::Staging;
use crate::{GgmlType, GgufError, GgufFile, MetadataValue, tokenizer};

use hparams::Hparams;

/// What [`import_llama`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    /// Tensors written to `model.safetensors`.
    pub tensors: usize,
    /// Their total number of elements.
    pub parameters: u64,
    /// The GGUF's tensor types, each with its number of tensors.
    pub quantizations: BTreeMap<GgmlType, usize>,
    /// Tokens in the tokenizer's vocabulary.
    pub vocab_size: usize,
    /// Transformer layers.
    pub layers: usize,
    /// Whether the LM head shares the embedding matrix (no `output.weight`).
    pub tied_embeddings: bool,
}

impl fmt::Display for ImportSummary {
    /// `272 tensors, 134515008 parameters (Q4_1 ×210, F32 ×61, Q8_0 ×1), 30 layers, vocabulary 49152, tied embeddings`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut counts: Vec<(&GgmlType, &usize)> = self.quantizations.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let types: Vec<String> = counts.iter().map(|(t, n)| format!("{t} ×{n}")).collect();
        write!(
            f,
            "{} tensors, {} parameters ({}), {} layers, vocabulary {}{}",
            self.tensors,
            self.parameters,
            types.join(", "),
            self.layers,
            self.vocab_size,
            if self.tied_embeddings {
                ", tied embeddings"
            } else {
                ""
            }
        )
    }
}

/// Converts a `general.architecture = llama` GGUF file into a HuggingFace
/// model folder that transformers loads as `LlamaForCausalLM`:
///
/// - `config.json` (shape, RoPE, special ids, `torch_dtype` float32);
/// - `model.safetensors`: every tensor dequantised to f32 under its HF name
///   and shape, Q and K rows put back in HF order (see the crate docs);
///   `lm_head.weight` only when the file has its own `output.weight`;
/// - `tokenizer.json` and `tokenizer_config.json` (with the chat template)
///   from the `tokenizer.ggml.*` metadata;
/// - `generation_config.json` with the ids that end generation.
///
/// `out_dir` must be absent or empty. The folder is built beside it and
/// renamed into place at the end, so on error nothing is left at `out_dir`.
///
/// ```no_run
/// let summary = entropo_gguf::import_llama("SmolLM2-135M-Instruct.Q4_1.gguf", "models/smollm2")?;
/// println!("{summary}");
/// # Ok::<(), entropo_gguf::GgufError>(())
/// ```
pub fn import_llama(
    gguf_path: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
) -> Result<ImportSummary, GgufError> {
    import_llama_with_progress(gguf_path, out_dir, |_, _| {})
}

/// [`import_llama`], calling `progress(done, total)` after each tensor is
/// written (tensors are the slow part).
pub fn import_llama_with_progress(
    gguf_path: impl AsRef<Path>,
    out_dir: impl AsRef<Path>,
    mut progress: impl FnMut(usize, usize),
) -> Result<ImportSummary, GgufError> {
    let gguf = GgufFile::open(gguf_path)?;
    let out_dir = out_dir.as_ref();
    let architecture = gguf.req("general.architecture", "a string", MetadataValue::as_str)?;
    if architecture != "llama" {
        return Err(GgufError::UnsupportedArchitecture {
            path: gguf.path().to_path_buf(),
            architecture: architecture.to_string(),
        });
    }
    let hp = Hparams::read(&gguf)?;
    let plan = weights::plan(&gguf, &hp)?;
    let tok = tokenizer::convert(&gguf, hp.context)?;
    if tok.n_tokens > plan.vocab {
        return Err(gguf.bad_value(
            "tokenizer.ggml.tokens",
            &format!(
                "at most {} tokens (the rows of token_embd.weight)",
                plan.vocab
            ),
            format!("{} tokens", tok.n_tokens),
        ));
    }

    let staging = Staging::new(out_dir)?;
    staging.write_json(
        "config.json",
        &config::model_config(&hp, plan.vocab, plan.tied, &tok.special),
    )?;
    staging.write_json(
        "generation_config.json",
        &config::generation_config(&tok.special),
    )?;
    staging.write_json("tokenizer.json", &tok.tokenizer_json)?;
    staging.write_json("tokenizer_config.json", &tok.tokenizer_config)?;
    weights::write_safetensors(
        &gguf,
        &plan,
        &staging.path("model.safetensors"),
        &mut progress,
    )?;
    // safetensors writes through a private (0600) temporary file.
    staging.copy_permissions("config.json", "model.safetensors")?;
    staging.commit()?;

    let mut quantizations = BTreeMap::new();
    for t in gguf.tensors() {
        *quantizations.entry(t.dtype()).or_insert(0) += 1;
    }
    Ok(ImportSummary {
        tensors: plan.tensors.len(),
        parameters: plan.tensors.iter().map(|p| p.info.n_elements()).sum(),
        quantizations,
        vocab_size: tok.n_tokens,
        layers: hp.layers,
        tied_embeddings: plan.tied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_gguf::{GgufBuilder, s, tokenizer_gguf, vocab};
    use permute::permute_rows;
    use serde_json::Value;

    const HIDDEN: usize = 32;
    const HEADS: usize = 4;
    const KV_HEADS: usize = 2;
    const HEAD_DIM: usize = 8;
    const FFN: usize = 256;
    const LAYERS: usize = 2;

    fn h16(x: f32) -> [u8; 2] {
        half::f16::from_f32(x).to_le_bytes()
    }

    /// Distinct, exactly representable values for an `rows × cols` weight.
    fn weight(rows: usize, cols: usize, seed: usize) -> Vec<f32> {
        (0..rows * cols)
            .map(|i| ((i * 7 + seed * 13) % 97) as f32 / 32.0 - 1.5)
            .collect()
    }

    /// Q8_0 rows of `cols` elements: d = 0.25, q = (r + c) % 200 − 100.
    fn q8_0(rows: usize, cols: usize) -> (Vec<u8>, Vec<f32>) {
        let (mut bytes, mut values) = (Vec::new(), Vec::new());
        for r in 0..rows {
            for block in 0..cols / 32 {
                bytes.extend(h16(0.25));
                for c in block * 32..block * 32 + 32 {
                    let q = ((r + c) % 200) as i32 - 100;
                    bytes.push(q as i8 as u8);
                    values.push(0.25 * q as f32);
                }
            }
        }
        (bytes, values)
    }

    /// Q4_0 blocks: d = 0.5, nibble k of block b is (b + k) % 16.
    fn q4_0(n: usize) -> (Vec<u8>, Vec<f32>) {
        let (mut bytes, mut values) = (Vec::new(), vec![0.0; n]);
        for b in 0..n / 32 {
            bytes.extend(h16(0.5));
            for j in 0..16 {
                let (lo, hi) = ((b + j) % 16, (b + j + 16) % 16);
                bytes.push((lo | (hi << 4)) as u8);
                values[b * 32 + j] = 0.5 * (lo as f32 - 8.0);
                values[b * 32 + 16 + j] = 0.5 * (hi as f32 - 8.0);
            }
        }
        (bytes, values)
    }

    /// Q4_1 blocks: d = 0.25, m = −1, nibble as for [`q4_0`].
    fn q4_1(n: usize) -> (Vec<u8>, Vec<f32>) {
        let (mut bytes, mut values) = (Vec::new(), vec![0.0; n]);
        for b in 0..n / 32 {
            bytes.extend(h16(0.25));
            bytes.extend(h16(-1.0));
            for j in 0..16 {
                let (lo, hi) = ((b + j) % 16, (b + j + 16) % 16);
                bytes.push((lo | (hi << 4)) as u8);
                values[b * 32 + j] = 0.25 * lo as f32 - 1.0;
                values[b * 32 + 16 + j] = 0.25 * hi as f32 - 1.0;
            }
        }
        (bytes, values)
    }

    /// An HF tensor the import must write: name, shape, values.
    type Expected = (String, Vec<usize>, Vec<f32>);

    /// A two-layer llama with every supported tensor type, and the HF
    /// tensors the import must produce.
    fn tiny_llama() -> (GgufBuilder, Vec<Expected>) {
        let n_vocab = vocab().len();
        let (q, kv) = (HEADS * HEAD_DIM, KV_HEADS * HEAD_DIM);
        let mut b = tokenizer_gguf("smollm")
            .kv("general.architecture", s("llama"))
            .kv("llama.block_count", MetadataValue::U32(LAYERS as u32))
            .kv("llama.context_length", MetadataValue::U32(2048))
            .kv("llama.embedding_length", MetadataValue::U32(HIDDEN as u32))
            .kv("llama.feed_forward_length", MetadataValue::U32(FFN as u32))
            .kv(
                "llama.attention.head_count",
                MetadataValue::U32(HEADS as u32),
            )
            .kv(
                "llama.attention.head_count_kv",
                MetadataValue::U32(KV_HEADS as u32),
            )
            .kv("llama.rope.freq_base", MetadataValue::F32(100_000.0))
            .kv(
                "llama.attention.layer_norm_rms_epsilon",
                MetadataValue::F32(1e-5),
            )
            .kv("llama.vocab_size", MetadataValue::U32(n_vocab as u32))
            .kv(
                "llama.rope.dimension_count",
                MetadataValue::U32(HEAD_DIM as u32),
            );
        let mut expected = Vec::new();
        let mut add =
            |hf: String, shape: Vec<usize>, values: Vec<f32>| expected.push((hf, shape, values));

        let (bytes, values) = q8_0(n_vocab, HIDDEN);
        b = b.tensor(
            "token_embd.weight",
            &[HIDDEN as u64, n_vocab as u64],
            GgmlType::Q8_0,
            bytes,
        );
        add(
            "model.embed_tokens.weight".into(),
            vec![n_vocab, HIDDEN],
            values,
        );
        let norm = weight(1, HIDDEN, 99);
        b = b.f32_tensor("output_norm.weight", &[HIDDEN as u64], &norm);
        add("model.norm.weight".into(), vec![HIDDEN], norm);

        for i in 0..LAYERS {
            let gg = |s: &str| format!("blk.{i}.{s}.weight");
            let hf = |s: &str| format!("model.layers.{i}.{s}.weight");
            let (h, f) = (HIDDEN as u64, FFN as u64);
            // Norms as F16 and BF16 (values exact in both).
            let attn_norm: Vec<f32> = (0..HIDDEN).map(|c| (c + i) as f32 / 4.0).collect();
            b = b.tensor(
                &gg("attn_norm"),
                &[h],
                GgmlType::F16,
                attn_norm.iter().flat_map(|v| h16(*v)).collect(),
            );
            add(hf("input_layernorm"), vec![HIDDEN], attn_norm);
            let ffn_norm: Vec<f32> = (0..HIDDEN).map(|c| 1.0 + (c % 4) as f32 * 0.5).collect();
            let bf: Vec<u8> = ffn_norm
                .iter()
                .flat_map(|v| half::bf16::from_f32(*v).to_le_bytes())
                .collect();
            b = b.tensor(&gg("ffn_norm"), &[h], GgmlType::BF16, bf);
            add(hf("post_attention_layernorm"), vec![HIDDEN], ffn_norm);
            // Q and K stored in llama.cpp's row order.
            let wq = weight(q, HIDDEN, 10 + i);
            b = b.f32_tensor(
                &gg("attn_q"),
                &[h, q as u64],
                &permute_rows(&wq, HEADS, HIDDEN),
            );
            add(hf("self_attn.q_proj"), vec![q, HIDDEN], wq);
            let wk = weight(kv, HIDDEN, 20 + i);
            b = b.f32_tensor(
                &gg("attn_k"),
                &[h, kv as u64],
                &permute_rows(&wk, KV_HEADS, HIDDEN),
            );
            add(hf("self_attn.k_proj"), vec![kv, HIDDEN], wk);
            let wv = weight(kv, HIDDEN, 30 + i);
            b = b.f32_tensor(&gg("attn_v"), &[h, kv as u64], &wv);
            add(hf("self_attn.v_proj"), vec![kv, HIDDEN], wv);
            let (bytes, wo) = q4_0(HIDDEN * q);
            b = b.tensor(&gg("attn_output"), &[q as u64, h], GgmlType::Q4_0, bytes);
            add(hf("self_attn.o_proj"), vec![HIDDEN, q], wo);
            let (bytes, gate) = q4_1(FFN * HIDDEN);
            b = b.tensor(&gg("ffn_gate"), &[h, f], GgmlType::Q4_1, bytes);
            add(hf("mlp.gate_proj"), vec![FFN, HIDDEN], gate);
            let up = weight(FFN, HIDDEN, 40 + i);
            b = b.f32_tensor(&gg("ffn_up"), &[h, f], &up);
            add(hf("mlp.up_proj"), vec![FFN, HIDDEN], up);
            let down = weight(HIDDEN, FFN, 50 + i);
            b = b.f32_tensor(&gg("ffn_down"), &[f, h], &down);
            add(hf("mlp.down_proj"), vec![HIDDEN, FFN], down);
        }
        (b, expected)
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn a_tiny_llama_imports_with_hf_names_shapes_values_and_row_order() {
        let dir = tempfile::tempdir().unwrap();
        let (builder, expected) = tiny_llama();
        let path = builder.write(dir.path(), "tiny.gguf");
        let out = dir.path().join("models/tiny");
        let mut calls = Vec::new();
        let summary =
            import_llama_with_progress(&path, &out, |done, total| calls.push((done, total)))
                .unwrap();

        let n = 2 + 9 * LAYERS;
        assert_eq!(calls, (1..=n).map(|d| (d, n)).collect::<Vec<_>>());
        assert_eq!(summary.tensors, n);
        assert_eq!(
            summary.parameters,
            expected.iter().map(|(_, _, v)| v.len() as u64).sum::<u64>()
        );
        assert_eq!(summary.vocab_size, 266);
        assert_eq!((summary.layers, summary.tied_embeddings), (LAYERS, true));
        let types = BTreeMap::from([
            (GgmlType::F32, 1 + 5 * LAYERS),
            (GgmlType::F16, LAYERS),
            (GgmlType::BF16, LAYERS),
            (GgmlType::Q8_0, 1),
            (GgmlType::Q4_0, LAYERS),
            (GgmlType::Q4_1, LAYERS),
        ]);
        assert_eq!(summary.quantizations, types);
        assert!(summary.to_string().starts_with(&format!(
            "{n} tensors, {} parameters (F32 ×11",
            summary.parameters
        )));

        let permissions = |name: &str| std::fs::metadata(out.join(name)).unwrap().permissions();
        assert_eq!(permissions("model.safetensors"), permissions("config.json"));
        let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), n);
        assert!(st.tensor("lm_head.weight").is_err(), "tied: no lm_head");
        for (name, shape, values) in &expected {
            let t = st.tensor(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(t.dtype(), safetensors::Dtype::F32, "{name}");
            assert_eq!(t.shape(), shape.as_slice(), "{name}");
            let got: Vec<f32> = t
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                .collect();
            assert_eq!(&got, values, "{name}");
        }
        let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        assert_eq!(
            metadata
                .metadata()
                .as_ref()
                .and_then(|m| m.get("format"))
                .map(String::as_str),
            Some("pt")
        );

        let config = read_json(&out.join("config.json"));
        for (key, value) in [
            ("architectures", serde_json::json!(["LlamaForCausalLM"])),
            ("model_type", "llama".into()),
            ("hidden_size", HIDDEN.into()),
            ("intermediate_size", FFN.into()),
            ("num_hidden_layers", LAYERS.into()),
            ("num_attention_heads", HEADS.into()),
            ("num_key_value_heads", KV_HEADS.into()),
            ("head_dim", HEAD_DIM.into()),
            ("rms_norm_eps", 1e-5.into()),
            ("rope_theta", 100_000.0.into()),
            ("max_position_embeddings", 2048.into()),
            ("vocab_size", 266.into()),
            ("tie_word_embeddings", true.into()),
            ("bos_token_id", 1.into()),
            ("eos_token_id", 2.into()),
            ("torch_dtype", "float32".into()),
            ("hidden_act", "silu".into()),
            ("rope_scaling", Value::Null),
        ] {
            assert_eq!(config[key], value, "config.json {key}");
        }
        assert_eq!(
            read_json(&out.join("generation_config.json"))["eos_token_id"],
            2
        );
        assert_eq!(
            read_json(&out.join("tokenizer_config.json"))["chat_template"],
            "{{ messages }}"
        );
        let tok = tokenizers::Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
        assert_eq!(tok.get_vocab_size(true), 266);
        // Nothing else next to the model folder: the staging folder is gone.
        let siblings: Vec<_> = std::fs::read_dir(dir.path().join("models"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(siblings, ["tiny"]);
    }

    #[test]
    fn an_output_weight_becomes_an_untied_lm_head() {
        let dir = tempfile::tempdir().unwrap();
        let (builder, _) = tiny_llama();
        let head = weight(266, HIDDEN, 7);
        let builder = builder.f32_tensor("output.weight", &[HIDDEN as u64, 266], &head);
        let out = dir.path().join("untied");
        let summary = import_llama(builder.write(dir.path(), "t.gguf"), &out).unwrap();
        assert_eq!(
            (summary.tensors, summary.tied_embeddings),
            (3 + 9 * LAYERS, false)
        );
        let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let t = st.tensor("lm_head.weight").unwrap();
        assert_eq!(t.shape(), [266, HIDDEN]);
        let got: Vec<f32> = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(got, head);
        assert_eq!(
            read_json(&out.join("config.json"))["tie_word_embeddings"],
            false
        );
    }

    #[test]
    fn rope_scaling_is_carried_over() {
        let dir = tempfile::tempdir().unwrap();
        let (builder, _) = tiny_llama();
        let builder = builder
            .kv("llama.rope.scaling.type", s("yarn"))
            .kv("llama.rope.scaling.factor", MetadataValue::F32(4.0))
            .kv(
                "llama.rope.scaling.original_context_length",
                MetadataValue::U32(512),
            );
        let out = dir.path().join("yarn");
        import_llama(builder.write(dir.path(), "t.gguf"), &out).unwrap();
        assert_eq!(
            read_json(&out.join("config.json"))["rope_scaling"],
            serde_json::json!({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 512})
        );
    }

    /// The import's error for `builder`, after checking that nothing was
    /// written at the output path.
    fn import_error(builder: &GgufBuilder) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = builder.write(dir.path(), "bad.gguf");
        let out = dir.path().join("out");
        let err = import_llama(&path, &out).unwrap_err().to_string();
        assert!(!out.exists(), "{err}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "only the input is left: {err}"
        );
        assert!(err.contains("bad.gguf"), "{err}");
        err
    }

    fn replace_tensor(
        mut b: GgufBuilder,
        name: &str,
        dims: &[u64],
        dtype: GgmlType,
        data: Vec<u8>,
    ) -> GgufBuilder {
        let t = b.tensors.iter_mut().find(|t| t.0 == name).unwrap();
        *t = (name.to_string(), dims.to_vec(), dtype, data);
        b
    }

    #[test]
    fn files_the_conversion_cannot_handle_are_errors_naming_the_key_or_tensor() {
        let (base, _) = tiny_llama();
        let mut b = tiny_llama().0;
        b.metadata.retain(|(k, _)| k != "general.architecture");
        let err = import_error(&b.kv("general.architecture", s("gemma")));
        assert!(err.contains("`general.architecture` is `gemma`"), "{err}");

        let mut b = tiny_llama().0;
        b.tensors.retain(|t| t.0 != "blk.1.ffn_up.weight");
        assert!(import_error(&b).contains("tensor `blk.1.ffn_up.weight` is missing"));

        let b = replace_tensor(
            tiny_llama().0,
            "blk.0.attn_k.weight",
            &[32, 8],
            GgmlType::F32,
            vec![0; 32 * 8 * 4],
        );
        let err = import_error(&b);
        assert!(
            err.contains("`blk.0.attn_k.weight` has GGUF dimensions [32, 8], expected [32, 16]"),
            "{err}"
        );

        let b = replace_tensor(
            tiny_llama().0,
            "blk.1.ffn_down.weight",
            &[256, 32],
            GgmlType::Q4_K,
            vec![0; 32 * 144],
        );
        let err = import_error(&b);
        assert!(
            err.contains("`blk.1.ffn_down.weight` has type Q4_K"),
            "{err}"
        );

        let err = import_error(
            &tiny_llama()
                .0
                .f32_tensor("rope_freqs.weight", &[4], &[1.0; 4]),
        );
        assert!(
            err.contains("`rope_freqs.weight` is not supported") && err.contains("RoPE frequency"),
            "{err}"
        );
        let err = import_error(
            &tiny_llama()
                .0
                .f32_tensor("blk.0.attn_q.bias", &[32], &[0.0; 32]),
        );
        assert!(
            err.contains("`blk.0.attn_q.bias`") && err.contains("no counterpart"),
            "{err}"
        );

        let mut b = tiny_llama().0;
        b.metadata
            .retain(|(k, _)| k != "llama.attention.head_count");
        let err = import_error(&b.kv("llama.attention.head_count", MetadataValue::U32(0)));
        assert!(
            err.contains("`llama.attention.head_count`: expected a positive integer, found 0"),
            "{err}"
        );
        let mut b = tiny_llama().0;
        b.metadata.retain(|(k, _)| k != "llama.block_count");
        let err = import_error(&b.kv("llama.block_count", MetadataValue::U64(u64::MAX)));
        assert!(
            err.contains("`llama.block_count`: expected at most 2 layers"),
            "{err}"
        );
        let err = import_error(&base.kv("llama.rope.scaling.type", s("longrope")));
        assert!(
            err.contains(
                "`llama.rope.scaling.type`: expected none, linear or yarn, found longrope"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_non_empty_output_folder_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = tiny_llama().0.write(dir.path(), "t.gguf");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("keep.txt"), "mine").unwrap();
        let err = import_llama(&path, &out).unwrap_err();
        assert!(matches!(err, GgufError::OutputExists { .. }), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("keep.txt")).unwrap(),
            "mine"
        );
        // An empty folder is fine.
        std::fs::remove_file(out.join("keep.txt")).unwrap();
        import_llama(&path, &out).unwrap();
        assert!(out.join("model.safetensors").is_file());
    }

    #[test]
    fn a_tensor_that_fails_to_load_mid_write_fails_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = tiny_llama().0.write(dir.path(), "t.gguf");
        let gguf = GgufFile::open(&path).unwrap();
        let hp = Hparams::read(&gguf).unwrap();
        let plan = weights::plan(&gguf, &hp).unwrap();
        // Cut the file after opening it: the last tensors can no longer be read.
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 100)
            .unwrap();
        let target = dir.path().join("model.safetensors");
        let mut done = 0;
        let err =
            weights::write_safetensors(&gguf, &plan, &target, &mut |d, _| done = d).unwrap_err();
        assert!(matches!(err, GgufError::Io { .. }), "{err}");
        assert!(
            err.to_string().contains("t.gguf: reading tensor `"),
            "{err}"
        );
        assert!(done < plan.tensors.len());
        assert!(!target.exists());
    }
}
