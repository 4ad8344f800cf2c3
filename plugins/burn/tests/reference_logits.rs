//! Logits of tiny random-weight models of every supported architecture match
//! HuggingFace transformers (outputs made by scripts/fixtures/reference_models.py).

use std::path::{Path, PathBuf};

use burn::backend::NdArray;
use entropo_burn::lora::{LoraConfig, LoraWeights};
use entropo_burn::model::{AttentionBlocks, Decoder};
use entropo_burn::weights::{HostTensor, TensorStore};

type B = NdArray<f32>;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// The batch of token ids and the named reference logits of a fixture.
fn reference(name: &str, logits: &str) -> (Vec<Vec<u32>>, HostTensor) {
    let mut store = TensorStore::open_file(&fixture(name).join("reference.safetensors")).unwrap();
    let ids = store.take("input_ids", &[2, 12]).unwrap();
    let rows = ids.data.chunks(12).map(|r| r.iter().map(|v| *v as u32).collect()).collect();
    let vocab = 160;
    (rows, store.take(logits, &[2, 12, vocab]).unwrap())
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

fn logits_of(model: &Decoder<B>, adapters: Option<&entropo_burn::lora::Adapters<B>>, rows: &[Vec<u32>]) -> Vec<f32> {
    let out = model.forward(model.ids(rows).unwrap(), adapters, None);
    out.into_data().to_vec::<f32>().unwrap()
}

fn check(name: &str) {
    let model = Decoder::<B>::load(&fixture(name), &Default::default()).unwrap();
    let (rows, expected) = reference(name, "logits");
    // Attention over whole rows, and in blocks of 3 queries.
    for model in [model.clone(), model.with_attention_blocks(AttentionBlocks::Queries(3))] {
        let got = logits_of(&model, None, &rows);
        let diff = max_abs_diff(&got, &expected.data);
        assert!(diff < 1e-4, "{name}, attention {:?}: max |Δlogit| = {diff}", model.attention_blocks());
    }
}

#[test]
fn llama_with_llama3_rope_scaling_matches_transformers() {
    check("llama");
}

#[test]
fn smollm2_shape_with_tied_embeddings_matches_transformers() {
    check("smollm2");
}

#[test]
fn qwen2_with_qkv_bias_matches_transformers() {
    check("qwen2");
}

#[test]
fn qwen3_with_qk_norm_and_wide_heads_matches_transformers() {
    check("qwen3");
}

#[test]
fn peft_adapter_matches_and_merges() {
    let dir = fixture("llama");
    let mut model = Decoder::<B>::load(&dir, &Default::default()).unwrap();
    let lora = LoraWeights::load_peft(&dir.join("adapter"), &model.config).unwrap();
    assert_eq!((lora.config.r, lora.config.alpha), (4, 8.0));
    let (rows, expected) = reference("llama", "lora_logits");
    let adapters = lora.to_device::<B>(model.device(), false);
    let diff = max_abs_diff(&logits_of(&model, Some(&adapters), &rows), &expected.data);
    assert!(diff < 1e-4, "adapter on: max |Δlogit| = {diff}");

    // Disabled adapters give the base (reference) model's logits.
    let (_, base) = reference("llama", "logits");
    assert!(max_abs_diff(&expected.data, &base.data) > 1e-2, "the fixture's adapter changes the logits");
    assert!(max_abs_diff(&logits_of(&model, None, &rows), &base.data) < 1e-4);

    // Merged into the base weights, the adapter's effect stays, also after
    // exporting the merged model as a HuggingFace folder and loading it back.
    lora.merge_into(&mut model);
    let diff = max_abs_diff(&logits_of(&model, None, &rows), &expected.data);
    assert!(diff < 1e-4, "merged: max |Δlogit| = {diff}");
    let out = tempfile::tempdir().unwrap();
    model.save(out.path()).unwrap();
    let exported = Decoder::<B>::load(out.path(), &Default::default()).unwrap();
    let diff = max_abs_diff(&logits_of(&exported, None, &rows), &expected.data);
    assert!(diff < 1e-4, "exported: max |Δlogit| = {diff}");
}

#[test]
fn fresh_lora_leaves_logits_unchanged_and_round_trips_through_peft_files() {
    let dir = fixture("qwen3");
    let model = Decoder::<B>::load(&dir, &Default::default()).unwrap();
    let lora = LoraWeights::init(&model.config, LoraConfig::default(), 3).unwrap();
    assert!(lora.pairs.values().any(|p| p.a.data.iter().any(|v| *v != 0.0)), "A is random");
    let (rows, base) = reference("qwen3", "logits");
    let adapters = lora.to_device::<B>(model.device(), false);
    assert!(max_abs_diff(&logits_of(&model, Some(&adapters), &rows), &base.data) < 1e-4);

    let out = tempfile::tempdir().unwrap();
    lora.save_peft(out.path(), Some("qwen3-tiny")).unwrap();
    let again = LoraWeights::load_peft(out.path(), &model.config).unwrap();
    assert_eq!(again.pairs, lora.pairs);
    assert_eq!(again.config.r, 8);
}

#[test]
fn kv_cache_decoding_matches_the_full_forward_pass() {
    let dir = fixture("qwen2");
    let model = Decoder::<B>::load(&dir, &Default::default()).unwrap();
    let (rows, expected) = reference("qwen2", "logits");
    let row = &rows[0];
    // Whole prompts, and prompts split into attention blocks of 2 queries.
    for model in [model.clone(), model.with_attention_blocks(AttentionBlocks::Queries(2))] {
        let mut cache = entropo_burn::model::KvCache::new(model.config.num_hidden_layers);
        let first = logits_of_cached(&model, &row[..5], &mut cache);
        let mut got = first;
        for t in 5..12 {
            got.extend(logits_of_cached(&model, &row[t..t + 1], &mut cache));
        }
        assert_eq!(cache.len(), 12);
        let diff = max_abs_diff(&got, &expected.data[..12 * 160]);
        assert!(diff < 1e-4, "cached decoding, {:?}: max |Δlogit| = {diff}", model.attention_blocks());
    }
}

fn logits_of_cached(model: &Decoder<B>, ids: &[u32], cache: &mut entropo_burn::model::KvCache<B>) -> Vec<f32> {
    let out = model.forward(model.ids(&[ids.to_vec()]).unwrap(), None, Some(cache));
    out.into_data().to_vec::<f32>().unwrap()
}

#[test]
fn malformed_model_folders_name_the_file_and_tensor() {
    let src = fixture("smollm2");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(src.join("model.safetensors"), dir.path().join("model.safetensors")).unwrap();
    // no config.json
    let e = Decoder::<B>::load(dir.path(), &Default::default()).unwrap_err().to_string();
    assert!(e.contains("config.json") && e.contains("No such file"), "{e}");
    // a config whose width disagrees with the weights
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src.join("config.json")).unwrap()).unwrap();
    config["intermediate_size"] = 64.into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let e = Decoder::<B>::load(dir.path(), &Default::default()).unwrap_err().to_string();
    assert!(e.contains("tensor model.layers.0.mlp.gate_proj.weight has shape [128, 48], expected [64, 48]"), "{e}");
    // one more layer than the weights hold
    config["intermediate_size"] = 128.into();
    config["num_hidden_layers"] = 3.into();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    let e = Decoder::<B>::load(dir.path(), &Default::default()).unwrap_err().to_string();
    assert!(e.ends_with("missing tensor model.layers.2.self_attn.q_proj.weight"), "{e}");
}
