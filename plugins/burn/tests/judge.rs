//! The `lm-judge` verifier: prompts fit their budget by condensing the
//! longest observations, labels follow the tests, and p(YES) is the softmax
//! of the two answer logits at the answer position.

use std::path::Path;

use burn::backend::NdArray;
use burn::tensor::TensorData;
use entropo_burn::config::ModelConfig;
use entropo_burn::judge::{JudgeSettings, LmJudge, judge_messages, judge_sample};
use entropo_burn::model::Decoder;
use entropo_core::Verifier;
use entropo_core::types::{Step, Task, Trajectory};
use entropo_text::{RenderOptions, Tokenizer};

fn tokenizer() -> Tokenizer {
    let corpus = ["YES NO <function=search>\n<parameter=search_term>median</parameter>\n</function>", "Ran 3 tests. OK"];
    entropo_text::train_bpe(&corpus, 320, &[]).unwrap()
}

fn trajectory(observation_len: usize, reward: f64) -> Trajectory {
    let step = |obs: String| Step {
        thought: "Look for the function.".into(),
        action: "<function=search>\n<parameter=search_term>median</parameter>\n</function>".into(),
        observation: obs,
        ..Default::default()
    };
    Trajectory {
        problem_statement: "median() is wrong for even lengths".into(),
        trajectory_steps: vec![step("x".repeat(observation_len)), step("short".into())],
        output_patch: "-    return a[m]\n+    return (a[m - 1] + a[m]) / 2\n".into(),
        reward: Some(reward),
        ..Default::default()
    }
}

fn tokens(tok: &Tokenizer, messages: &[entropo_core::types::Message]) -> usize {
    let text = tok.render_chat(messages, true, &RenderOptions::default()).unwrap();
    tok.encode(&text, false).unwrap().len()
}

#[test]
fn long_observations_are_condensed_to_the_budget_longest_first() {
    let tok = tokenizer();
    let settings = JudgeSettings { max_prompt_tokens: 700, min_observation_chars: 40 };
    let whole = judge_messages(&trajectory(4000, 1.0), &tok, &JudgeSettings { max_prompt_tokens: 100_000, ..settings.clone() }).unwrap();
    assert!(tokens(&tok, &whole) > 700);
    let fitted = judge_messages(&trajectory(4000, 1.0), &tok, &settings).unwrap();
    assert!(tokens(&tok, &fitted) <= 700, "{}", tokens(&tok, &fitted));
    let user = &fitted[1].content;
    assert!(user.contains("characters condensed"));
    assert!(user.contains("\nshort\n"), "the short observation is kept whole");
    assert!(user.contains("[PATCH]") && user.ends_with("Answer YES or NO."));

    assert_eq!(judge_sample("t", &trajectory(10, 1.0), &tok, &settings).unwrap().messages[2].content, "YES");
    assert_eq!(judge_sample("t", &trajectory(10, 0.0), &tok, &settings).unwrap().messages[2].content, "NO");
}

#[test]
fn p_yes_is_the_softmax_of_the_answer_logits() {
    let tok = tokenizer();
    let config = ModelConfig::from_json(
        &serde_json::json!({
            "model_type": "llama", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": tok.vocab_size()
        }),
        Path::new("tiny"),
    )
    .unwrap();
    let model = Decoder::<NdArray>::random(config, 3, &Default::default());
    let settings = JudgeSettings::default();
    let traj = trajectory(50, 1.0);

    // By hand: the logits at the last prompt position, YES vs NO.
    let messages = judge_messages(&traj, &tok, &settings).unwrap();
    let text = tok.render_chat(&messages, true, &RenderOptions::default()).unwrap();
    let ids = tok.encode(&text, false).unwrap();
    let logits = model.forward(model.ids(&[ids.clone()]).unwrap(), None, None);
    let data: TensorData = logits.into_data();
    let v = data.to_vec::<f32>().unwrap();
    let last = &v[(ids.len() - 1) * tok.vocab_size()..ids.len() * tok.vocab_size()];
    let (yes, no) = (tok.encode("YES", false).unwrap()[0], tok.encode("NO", false).unwrap()[0]);
    let expected = 1.0 / (1.0 + f64::from(last[no as usize] - last[yes as usize]).exp());

    let judge = LmJudge::new(model, None, tok, settings).unwrap();
    let task: Task = serde_json::from_str(
        r#"{"instance_id": "t", "repo": "r", "problem_statement": "p", "fail_to_pass": [], "pass_to_pass": []}"#,
    )
    .unwrap();
    let p = judge.score(&task, &traj).unwrap();
    assert!((p - expected).abs() < 1e-5, "{p} vs {expected}");
    assert!(p > 0.0 && p < 1.0);
    assert_eq!(judge.name(), "lm-judge");
}
