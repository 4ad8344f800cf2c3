//! `config.json` and `generation_config.json` for HF `LlamaForCausalLM`.

use serde_json::{Value, json};

use super::hparams::Hparams;
use crate::tokenizer::SpecialIds;

/// `config.json`: the architecture, shape, RoPE settings and special ids.
pub(crate) fn model_config(hp: &Hparams, vocab: usize, tied: bool, special: &SpecialIds) -> Value {
    let mut config = json!({
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hp.hidden,
        "intermediate_size": hp.ffn,
        "num_hidden_layers": hp.layers,
        "num_attention_heads": hp.heads,
        "num_key_value_heads": hp.kv_heads,
        "head_dim": hp.head_dim,
        "hidden_act": "silu",
        "rms_norm_eps": hp.rms_eps,
        "rope_theta": hp.rope_theta,
        "rope_scaling": hp.rope_scaling,
        "max_position_embeddings": hp.context,
        "vocab_size": vocab,
        "tie_word_embeddings": tied,
        "attention_bias": false,
        "mlp_bias": false,
        "bos_token_id": special.bos,
        "eos_token_id": special.eos,
        "torch_dtype": "float32",
        "use_cache": true,
    });
    if let Some(pad) = special.pad {
        config["pad_token_id"] = pad.into();
    }
    config
}

/// `generation_config.json`: BOS, and every id that ends generation (EOS,
/// end of turn, end of message) — one id as a number, several as a list.
pub(crate) fn generation_config(special: &SpecialIds) -> Value {
    let mut stop: Vec<u32> = Vec::new();
    for id in [special.eos, special.eot, special.eom]
        .into_iter()
        .flatten()
    {
        if !stop.contains(&id) {
            stop.push(id);
        }
    }
    let mut config = json!({"bos_token_id": special.bos});
    config["eos_token_id"] = match stop.as_slice() {
        [] => Value::Null,
        [one] => json!(one),
        many => json!(many),
    };
    if let Some(pad) = special.pad {
        config["pad_token_id"] = pad.into();
    }
    config
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_stop_ids_become_a_list_without_repeats() {
        let special = SpecialIds {
            bos: Some(1),
            eos: Some(2),
            eot: Some(7),
            eom: Some(2),
            ..Default::default()
        };
        let g = generation_config(&special);
        assert_eq!(g["eos_token_id"], json!([2, 7]));
        assert_eq!(g["bos_token_id"], json!(1));
        assert!(g.get("pad_token_id").is_none());
        let g = generation_config(&SpecialIds {
            eos: Some(5),
            pad: Some(0),
            ..Default::default()
        });
        assert_eq!(
            (g["eos_token_id"].clone(), g["pad_token_id"].clone()),
            (json!(5), json!(0))
        );
    }
}
