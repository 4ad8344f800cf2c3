//! Against the real SmolLM2-135M-Instruct GGUF (Q4_1 weights, Q8_0
//! embeddings), made by scripts/fixtures/smollm2.py.

use std::path::PathBuf;

use entropo_gguf::{GgmlType, GgufFile, MetadataValue};
use serde_json::Value;

fn fixture() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/fixtures/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "{} missing: run scripts/setup.sh (or python3 scripts/fixtures/smollm2.py)",
        path.display()
    );
    path
}

fn uint(gguf: &GgufFile, key: &str) -> u64 {
    gguf.get(key)
        .and_then(MetadataValue::as_u64)
        .unwrap_or_else(|| panic!("{key}"))
}

fn read_json(path: PathBuf) -> Value {
    serde_json::from_slice(&std::fs::read(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn metadata_describes_smollm2_135m() {
    let gguf = GgufFile::open(fixture()).unwrap();
    assert_eq!(gguf.version(), 3);
    assert_eq!(gguf.architecture(), Some("llama"));
    assert_eq!(uint(&gguf, "llama.block_count"), 30);
    assert_eq!(uint(&gguf, "llama.embedding_length"), 576);
    assert_eq!(uint(&gguf, "llama.attention.head_count"), 9);
    assert_eq!(uint(&gguf, "llama.attention.head_count_kv"), 3);
    assert_eq!(uint(&gguf, "llama.vocab_size"), 49_152);
    assert_eq!(
        gguf.get("tokenizer.ggml.tokens")
            .and_then(MetadataValue::as_array)
            .map(<[_]>::len),
        Some(49_152)
    );
    assert_eq!(
        gguf.get("tokenizer.ggml.pre")
            .and_then(MetadataValue::as_str),
        Some("smollm")
    );
    assert_eq!(gguf.alignment(), 32);
    assert_eq!(gguf.tensors().len(), 30 * 9 + 2);
    let embd = gguf.tensor("token_embd.weight").unwrap();
    assert_eq!(
        (embd.dtype(), embd.dims()),
        (GgmlType::Q8_0, &[576u64, 49_152][..])
    );
    let q = gguf.tensor("blk.0.attn_q.weight").unwrap();
    assert_eq!((q.dtype(), q.shape()), (GgmlType::Q4_1, vec![576, 576]));
    for t in gguf.tensors() {
        assert!(t.dtype().can_dequantize(), "{} is {}", t.name(), t.dtype());
        assert_eq!(t.offset() % 32, 0);
    }
    // Dequantised weights look like trained weights: finite and small.
    for name in [
        "token_embd.weight",
        "blk.0.attn_q.weight",
        "blk.29.ffn_down.weight",
        "output_norm.weight",
    ] {
        let values = gguf.tensor_f32(gguf.tensor(name).unwrap()).unwrap();
        let mean_abs = values.iter().map(|v| v.abs() as f64).sum::<f64>() / values.len() as f64;
        assert!(
            values.iter().all(|v| v.is_finite() && v.abs() < 100.0),
            "{name}"
        );
        assert!(
            mean_abs > 1e-3 && mean_abs < 10.0,
            "{name}: mean |x| = {mean_abs}"
        );
    }
}

#[test]
fn import_writes_a_folder_transformers_can_load() {
    let gguf = GgufFile::open(fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("smollm2");
    let summary = entropo_gguf::import_llama(fixture(), &out).unwrap();
    assert_eq!(summary.tensors, 272);
    assert_eq!(summary.vocab_size, 49_152);
    assert_eq!(summary.layers, 30);
    assert!(summary.tied_embeddings);
    assert_eq!(
        summary.quantizations.keys().copied().collect::<Vec<_>>(),
        [GgmlType::F32, GgmlType::Q4_1, GgmlType::Q8_0]
    );
    assert!(
        (134_000_000..135_000_000).contains(&summary.parameters),
        "{}",
        summary.parameters
    );

    // config.json
    let config = read_json(out.join("config.json"));
    assert_eq!(config["architectures"][0], "LlamaForCausalLM");
    assert_eq!(config["model_type"], "llama");
    for (key, value) in [
        ("num_hidden_layers", 30),
        ("hidden_size", 576),
        ("intermediate_size", 1536),
        ("num_attention_heads", 9),
        ("num_key_value_heads", 3),
        ("head_dim", 64),
        ("vocab_size", 49_152),
        ("max_position_embeddings", 8192),
        ("bos_token_id", 1),
        ("eos_token_id", 2),
    ] {
        assert_eq!(config[key], value, "config.json {key}");
    }
    assert_eq!(config["rms_norm_eps"], 1e-5);
    assert_eq!(config["rope_theta"], 100_000.0);
    assert_eq!(config["tie_word_embeddings"], true);
    assert_eq!(config["torch_dtype"], "float32");
    assert_eq!(
        read_json(out.join("generation_config.json"))["eos_token_id"],
        2
    );

    // model.safetensors: HF names and shapes, tied embeddings.
    let bytes = std::fs::read(out.join("model.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(st.len(), 30 * 9 + 2);
    assert!(st.tensor("lm_head.weight").is_err());
    let shape = |name: &str| {
        st.tensor(name)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .shape()
            .to_vec()
    };
    assert_eq!(shape("model.embed_tokens.weight"), [49_152, 576]);
    assert_eq!(shape("model.norm.weight"), [576]);
    for i in 0..30 {
        let p = format!("model.layers.{i}");
        assert_eq!(shape(&format!("{p}.self_attn.q_proj.weight")), [576, 576]);
        assert_eq!(shape(&format!("{p}.self_attn.k_proj.weight")), [192, 576]);
        assert_eq!(shape(&format!("{p}.self_attn.v_proj.weight")), [192, 576]);
        assert_eq!(shape(&format!("{p}.self_attn.o_proj.weight")), [576, 576]);
        assert_eq!(shape(&format!("{p}.mlp.gate_proj.weight")), [1536, 576]);
        assert_eq!(shape(&format!("{p}.mlp.up_proj.weight")), [1536, 576]);
        assert_eq!(shape(&format!("{p}.mlp.down_proj.weight")), [576, 1536]);
        assert_eq!(shape(&format!("{p}.input_layernorm.weight")), [576]);
        assert_eq!(
            shape(&format!("{p}.post_attention_layernorm.weight")),
            [576]
        );
    }
    let values = |name: &str| -> Vec<f32> {
        st.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    // Embeddings and V are the GGUF's values unchanged; Q and K rows are
    // back in HF order: HF row h·64 + i·32 + j is GGUF row h·64 + 2j + i.
    let gguf_values = |name: &str| gguf.tensor_f32(gguf.tensor(name).unwrap()).unwrap();
    assert_eq!(
        values("model.embed_tokens.weight"),
        gguf_values("token_embd.weight")
    );
    assert_eq!(
        values("model.layers.7.self_attn.v_proj.weight"),
        gguf_values("blk.7.attn_v.weight")
    );
    for (hf_name, gguf_name, heads) in [
        (
            "model.layers.3.self_attn.q_proj.weight",
            "blk.3.attn_q.weight",
            9,
        ),
        (
            "model.layers.3.self_attn.k_proj.weight",
            "blk.3.attn_k.weight",
            3,
        ),
    ] {
        let (hf, gg) = (values(hf_name), gguf_values(gguf_name));
        for h in 0..heads {
            for i in 0..2 {
                for j in 0..32 {
                    let (r_hf, r_gg) = (h * 64 + i * 32 + j, h * 64 + 2 * j + i);
                    assert_eq!(
                        hf[r_hf * 576..(r_hf + 1) * 576],
                        gg[r_gg * 576..(r_gg + 1) * 576],
                        "{hf_name} row {r_hf}"
                    );
                }
            }
        }
    }

    // tokenizer.json
    let tokens = gguf
        .get("tokenizer.ggml.tokens")
        .and_then(MetadataValue::as_array)
        .unwrap();
    let gguf_id = |text: &str| {
        tokens
            .iter()
            .position(|t| t.as_str() == Some(text))
            .unwrap() as u32
    };
    let tok = tokenizers::Tokenizer::from_file(out.join("tokenizer.json")).unwrap();
    assert_eq!(tok.get_vocab_size(true), 49_152);
    let text = "What is the capital of France?";
    let ids = tok.encode(text, true).unwrap().get_ids().to_vec();
    assert!(ids.len() > 3 && ids.len() < 12, "{ids:?}");
    assert_eq!(tok.decode(&ids, false).unwrap(), text);
    // Ids the HF SmolLM2 tokenizer gives (the digits split one by one).
    assert_eq!(
        tok.encode("The capital of France is", false)
            .unwrap()
            .get_ids(),
        [504, 3575, 282, 4649, 314]
    );
    assert_eq!(
        tok.encode("Hello world! 123", false).unwrap().get_ids(),
        [19556, 905, 17, 216, 33, 34, 35]
    );
    let chat = format!("<|im_start|>user\n{text}<|im_end|>\n");
    let ids = tok.encode(chat.as_str(), true).unwrap().get_ids().to_vec();
    let (start, end) = (gguf_id("<|im_start|>"), gguf_id("<|im_end|>"));
    assert_eq!((start, end), (1, 2));
    assert_eq!(ids[0], start);
    assert_eq!(ids.iter().filter(|&&i| i == start).count(), 1);
    assert_eq!(ids.iter().filter(|&&i| i == end).count(), 1);
    assert_eq!(tok.token_to_id("<|im_start|>"), Some(start));
    assert_eq!(tok.decode(&ids, false).unwrap(), chat);
    assert_eq!(tok.decode(&ids, true).unwrap(), format!("user\n{text}\n"));

    // tokenizer_config.json
    let tc = read_json(out.join("tokenizer_config.json"));
    let template = gguf
        .get("tokenizer.chat_template")
        .and_then(MetadataValue::as_str)
        .unwrap();
    assert!(template.contains("<|im_start|>"));
    assert_eq!(tc["chat_template"], template);
    assert_eq!(tc["bos_token"], "<|im_start|>");
    assert_eq!(tc["eos_token"], "<|im_end|>");
    assert_eq!(tc["add_bos_token"], false);
}
