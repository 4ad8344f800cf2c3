//! Third-party plugins loaded at run time through the CLI.

mod common;

use common::{entropo, simpo_lib, stderr_of, stdout_of};

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[test]
fn plugins_list_shows_a_plugin_from_a_folder_as_dynamic() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join(simpo_lib().file_name().unwrap());
    std::fs::copy(simpo_lib(), &lib).unwrap();
    let a = entropo().args(["plugins", "list", "--plugin-dir"]).arg(dir.path()).assert().success();
    let out = stdout_of(&a);
    let line = out.lines().find(|l| l.split_whitespace().nth(1) == Some("simpo")).expect(&out);
    assert!(line.starts_with("loss"), "{line}");
    assert!(line.contains("dynamic ("), "{line}");
    assert!(line.contains(&lib.file_name().unwrap().to_string_lossy().to_string()), "{line}");
    // The built-ins are still there.
    assert!(out.lines().any(|l| l.split_whitespace().nth(1) == Some("entropo-dpo")), "{out}");
}

#[test]
fn loss_eval_runs_a_plugin_library() {
    let a = entropo()
        .args(["loss", "eval", "--plugin", "simpo", "--param", "beta=2.0", "--param", "gamma=0.5"])
        .arg("--plugin-lib")
        .arg(simpo_lib())
        .args(["--input", "-"])
        .write_stdin(r#"{"pairs":[{"chosen":{"logp":-20.0,"tokens":10},"rejected":{"logp":-30.0,"tokens":12}}]}"#)
        .assert()
        .success();
    let out: serde_json::Value = serde_json::from_str(stdout_of(&a).trim()).unwrap();
    let margin = 2.0 * (-20.0 / 10.0 - -30.0 / 12.0) - 0.5;
    assert!((out["loss"].as_f64().unwrap() - softplus(-margin)).abs() < 1e-12, "{out}");
}

#[test]
fn example_plugin_config_checks_with_the_library() {
    let plugins = format!("plugins=[{:?}]", simpo_lib().display().to_string());
    let a = entropo()
        .args(["config", "check", "configs/example-plugin.toml", "--set", &plugins])
        .assert()
        .success();
    assert!(stdout_of(&a).contains("loss=simpo"), "{}", stdout_of(&a));
    // Without the library the name is unknown, and the message says which are known.
    let a = entropo()
        .args(["config", "check", "configs/example-plugin.toml", "--set", "plugins=[]"])
        .assert()
        .failure();
    assert!(stderr_of(&a).contains("unknown loss plugin `simpo`"), "{}", stderr_of(&a));
}

#[test]
fn a_file_that_is_not_a_plugin_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libfake.so");
    std::fs::write(&fake, "not a library").unwrap();
    let a = entropo().args(["plugins", "list", "--plugin-lib"]).arg(&fake).assert().failure();
    assert!(stderr_of(&a).contains(&fake.display().to_string()), "{}", stderr_of(&a));
}
