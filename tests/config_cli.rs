//! `entropo config …`: schema, checks of every shipped config, and the
//! errors a user sees for bad configs.

mod common;

use common::{entropo, repo_root, simpo_lib, stderr_of, stdout_of};

fn write_config(dir: &tempfile::TempDir, body: &str) -> std::path::PathBuf {
    let path = dir.path().join("exp.toml");
    std::fs::write(&path, body).unwrap();
    path
}

#[test]
fn every_shipped_config_passes_check() {
    let mut configs = Vec::new();
    let mut stack = vec![repo_root().join("configs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            // configs/prompts holds agent prompt templates, not experiments
            // (core/tests/agent_prompt.rs checks them).
            if path.is_dir() && !path.ends_with("configs/prompts") {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                configs.push(path);
            }
        }
    }
    assert!(configs.iter().any(|p| p.ends_with("configs/example.toml")), "example.toml is shipped");
    // Configs that load the example plugin get the library wherever cargo put it.
    let plugins = format!("plugins=[{:?}]", simpo_lib().display().to_string());
    for path in configs {
        let mut cmd = entropo();
        cmd.arg("config").arg("check").arg(&path);
        if std::fs::read_to_string(&path).unwrap().contains("libentropo_example_simpo") {
            cmd.args(["--set", &plugins]);
        }
        let a = cmd.assert();
        let out = a.get_output();
        assert!(out.status.success(), "{}: {}", path.display(), stderr_of(&a));
        assert!(stdout_of(&a).contains(": ok"), "{}", stdout_of(&a));
    }
}

#[test]
fn example_config_names_a_plugin_of_every_kind() {
    let a = entropo().args(["config", "check", "configs/example.toml"]).assert().success();
    let out = stdout_of(&a);
    for key in ["loss=", "selector=", "verifier=", "environment="] {
        assert!(out.contains(key), "{key} missing from {out}");
    }
}

#[test]
fn misspelled_plugin_name_names_the_key_and_the_known_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\n[loss]\nname = \"entropo-dop\"\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    let err = stderr_of(&a);
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("loss.name"), "{err}");
    assert!(err.contains("unknown loss plugin `entropo-dop`"), "{err}");
    for known in ["dpo", "entropo-dpo", "entropo-kto", "kto", "sft"] {
        assert!(err.contains(known), "{known} not listed: {err}");
    }
}

#[test]
fn unknown_key_is_named_with_the_allowed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\nsede = 3\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    let err = stderr_of(&a);
    assert!(err.contains("exp.toml: sede: unknown field `sede`"), "{err}");
    assert!(err.contains("`seed`"), "allowed keys listed: {err}");
}

#[test]
fn unknown_nested_key_is_named_by_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\n[selector]\nname = \"first\"\nparms = {}\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    assert!(stderr_of(&a).contains("selector.parms"), "{}", stderr_of(&a));
}

#[test]
fn wrong_type_is_named_by_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\nseed = \"three\"\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    let err = stderr_of(&a);
    assert!(err.contains("exp.toml: seed:"), "{err}");
}

#[test]
fn unknown_plugin_param_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\n[loss]\nname = \"dpo\"\nparams = { bta = 0.1 }\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    let err = stderr_of(&a);
    assert!(err.contains("loss plugin `dpo`: params.bta"), "{err}");
}

#[test]
fn pipeline_sections_out_of_range_are_named() {
    let dir = tempfile::tempdir().unwrap();
    for (body, key) in [
        ("[teacher]\nexploration = 2.0\n", "teacher.exploration"),
        ("[preference.train]\nfinetuning = \"full\"\n", "preference.train.finetuning"),
        ("[sft]\nfinetuning = \"partial\"\n", "sft.finetuning"),
    ] {
        let path = write_config(&dir, &format!("name = \"x\"\n{body}"));
        let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
        let err = stderr_of(&a);
        assert!(err.contains(key), "{key}: {err}");
    }
}

#[test]
fn toml_syntax_error_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\n");
    let a = entropo().arg("config").arg("check").arg(&path).assert().failure();
    assert!(stderr_of(&a).contains("exp.toml"), "{}", stderr_of(&a));
}

#[test]
fn missing_file_is_an_error_naming_it() {
    let a = entropo().args(["config", "check", "no/such/config.toml"]).assert().failure();
    assert!(stderr_of(&a).contains("no/such/config.toml"), "{}", stderr_of(&a));
}

#[test]
fn set_and_environment_overrides_apply_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(&dir, "name = \"x\"\n[loss]\nname = \"dpo\"\n");
    // --set wins over the file: the bad name must be reported.
    let a = entropo()
        .arg("config").arg("check").arg(&path)
        .args(["--set", "loss.name=nope"])
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("unknown loss plugin `nope`"), "{}", stderr_of(&a));
    // The environment overrides the file too.
    let a = entropo()
        .arg("config").arg("check").arg(&path)
        .env("ENTROPO_LOSS__NAME", "kto")
        .assert()
        .success();
    assert!(stdout_of(&a).contains("loss=kto"), "{}", stdout_of(&a));
    // --set beats the environment.
    let a = entropo()
        .arg("config").arg("check").arg(&path)
        .env("ENTROPO_LOSS__NAME", "kto")
        .args(["--set", "loss.name=sft"])
        .assert()
        .success();
    assert!(stdout_of(&a).contains("loss=sft"), "{}", stdout_of(&a));
    // Typed values: a float param through --set reaches the plugin.
    let a = entropo()
        .arg("config").arg("check").arg(&path)
        .args(["--set", "loss.params.beta=-1.0"])
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("params.beta"), "{}", stderr_of(&a));
}

#[test]
fn malformed_set_is_rejected() {
    let a = entropo()
        .args(["config", "check", "configs/example.toml", "--set", "seed"])
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("`seed`: expected key=value"), "{}", stderr_of(&a));
}

#[test]
fn schema_is_json_schema_of_the_config() {
    let a = entropo().args(["config", "schema"]).assert().success();
    let schema: serde_json::Value = serde_json::from_str(&stdout_of(&a)).unwrap();
    assert_eq!(schema["title"], "ExperimentConfig");
    let props = schema["properties"].as_object().unwrap();
    for key in ["name", "output_dir", "seed", "plugins", "loss", "selector", "verifier", "environment"] {
        assert!(props.contains_key(key), "{key} not in schema");
    }
    assert_eq!(schema["additionalProperties"], false);
}
