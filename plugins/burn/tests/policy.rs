//! The in-process model drives the agent loop: an episode runs to its step
//! limit with every reply sampled, counted and recorded.

use std::path::Path;

use burn::backend::NdArray;
use entropo_burn::config::ModelConfig;
use entropo_burn::engine::{Engine, EngineOptions};
use entropo_burn::model::Decoder;
use entropo_burn::policy::ChatPolicy;
use entropo_burn::sample::SamplingParams;
use entropo_core::agent::{Limits, Policy, PromptTemplate, run_episode};
use entropo_core::environment::*;
use entropo_core::types::{ExitReason, Message, Role, Task};

/// Offers `finish` and an echo tool; never touches a file system.
struct Echo;
impl Environment for Echo {
    fn tools(&self) -> Vec<ToolSpec> {
        let p = ToolParam { name: "text".into(), kind: "string".into(), description: "what to echo".into(), required: true, allowed: vec![] };
        vec![
            ToolSpec { name: "echo".into(), description: "Echo text.".into(), params: vec![p] },
            ToolSpec { name: "finish".into(), description: "End.".into(), params: vec![] },
        ]
    }
    fn reset(&mut self, _: &Task) -> Result<(), EnvError> {
        Ok(())
    }
    fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
        let done = call.name == "finish";
        Ok(StepResult { observation: call.params.get("text").cloned().unwrap_or_default(), done })
    }
    fn patch(&mut self) -> Result<String, EnvError> {
        Ok(String::new())
    }
    fn run_tests(&mut self) -> Result<TestReport, EnvError> {
        Ok(TestReport { fail_to_pass: Default::default(), pass_to_pass: Default::default(), output: String::new() })
    }
}

fn policy(seed: u64) -> ChatPolicy {
    let corpus = ["<function=echo>\n<parameter=text>hello</parameter>\n</function>", "I will finish now."];
    let tokenizer = entropo_text::train_bpe(&corpus, 320, &[]).unwrap();
    let config = ModelConfig::from_json(
        &serde_json::json!({
            "model_type": "qwen3", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": tokenizer.vocab_size()
        }),
        Path::new("tiny"),
    )
    .unwrap();
    let model = Decoder::<NdArray>::random(config, 2, &Default::default());
    let params = SamplingParams { temperature: 1.0, top_k: 0, top_p: 1.0, max_tokens: 12, seed };
    ChatPolicy::new(Engine::start(model, None, EngineOptions::default()), tokenizer, params)
}

#[test]
fn replies_are_reproducible_per_seed_and_differ_between_calls() {
    let messages = [Message::new(Role::System, "Be brief."), Message::new(Role::User, "hello")];
    let (mut a, mut b) = (policy(5), policy(5));
    let (a1, a2) = (a.respond(&messages).unwrap(), a.respond(&messages).unwrap());
    assert_eq!(b.respond(&messages).unwrap(), a1);
    assert_ne!(a1.text, a2.text, "the second call draws with another seed");
    assert!(a1.prompt_tokens > 0 && a1.completion_tokens > 0 && a1.completion_tokens <= 12);
}

#[test]
fn an_episode_with_the_model_as_policy_runs_to_its_step_limit() {
    let dir = tempfile::tempdir().unwrap();
    let task = Task {
        instance_id: "echo-1".into(),
        repo: "local/echo".into(),
        base_commit: None,
        problem_statement: "Say hello.".into(),
        workspace: None,
        image: None,
        mount_at: "/testbed".into(),
        fail_to_pass: vec![],
        pass_to_pass: vec![],
        patch: None,
        test_patch: None,
        test_command: None,
    };
    // A short template keeps this debug-build test quick; the paper's is configs/prompts/r2e.toml.
    let template = "system = \"Call one function.\\n{tools}\"\nuser = \"Fix: {problem_statement}\"\n";
    let prompt = PromptTemplate::parse(template, Path::new("short.toml")).unwrap();
    let limits = Limits { max_steps: 2, ..Default::default() };
    let path = dir.path().join("traj.json");
    let traj = run_episode(&task, &mut Echo, &mut policy(0), &prompt, &limits, &path).unwrap();
    assert_eq!(traj.trajectory_steps.len(), 2);
    assert_eq!(traj.exit_reason, Some(ExitReason::MaxStepLimit));
    let on_disk: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(on_disk["trajectory_steps"].as_array().unwrap().len(), 2);
}
