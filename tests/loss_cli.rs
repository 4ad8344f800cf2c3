//! `entropo loss eval` and `entropo plugins list`: what a plugin author sees.

mod common;

use common::{entropo, stderr_of, stdout_of};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn batch_file(dir: &tempfile::TempDir, json: &str) -> std::path::PathBuf {
    let path = dir.path().join("batch.json");
    std::fs::write(&path, json).unwrap();
    path
}

#[test]
fn dpo_eval_matches_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let (lc, rc, lr, rr) = (-12.0, -12.5, -15.0, -14.0);
    let path = batch_file(
        &dir,
        &format!(
            r#"{{"pairs":[{{"chosen":{{"logp":{lc},"ref_logp":{rc},"tokens":40}},
                 "rejected":{{"logp":{lr},"ref_logp":{rr},"tokens":38}}}}]}}"#
        ),
    );
    let a = entropo()
        .args(["loss", "eval", "--plugin", "dpo", "--param", "beta=0.2", "--input"])
        .arg(&path)
        .assert()
        .success();
    let out: serde_json::Value = serde_json::from_str(stdout_of(&a).trim()).unwrap();
    let beta = 0.2;
    let h = (lc - lr) - (rc - rr);
    let loss = -sigmoid(beta * h).ln();
    assert!((out["loss"].as_f64().unwrap() - loss).abs() < 1e-12, "{out}");
    let g = -beta * sigmoid(-beta * h);
    assert!((out["grads"]["pairs"][0]["chosen"].as_f64().unwrap() - g).abs() < 1e-12);
    assert!((out["grads"]["pairs"][0]["rejected"].as_f64().unwrap() + g).abs() < 1e-12);
    assert!(out["metrics"]["rewards/margins"].is_number(), "{out}");
}

#[test]
fn batch_from_stdin() {
    let a = entropo()
        .args(["loss", "eval", "--plugin", "sft", "--input", "-"])
        .write_stdin(r#"{"samples":[{"label":true,"logp":-6.0,"tokens":3}]}"#)
        .assert()
        .success();
    let out: serde_json::Value = serde_json::from_str(stdout_of(&a).trim()).unwrap();
    assert!((out["loss"].as_f64().unwrap() - 2.0).abs() < 1e-12, "{out}");
}

/// Standard error of a failing `loss eval` of `plugin` on the batch `json`
/// (written to a file named batch.json).
fn eval_error(plugin: &str, json: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = batch_file(&dir, json);
    let a = entropo().args(["loss", "eval", "--plugin", plugin, "--input"]).arg(&path).assert().failure();
    stderr_of(&a)
}

#[test]
fn missing_field_is_reported_with_its_entry() {
    let err = eval_error("dpo", r#"{"pairs":[{"chosen":{"ref_logp":-1.0},"rejected":{"logp":-2.0,"ref_logp":-2.0}}]}"#);
    assert!(err.contains("batch.json: pairs[0].chosen: missing field `logp`"), "{err}");
}

#[test]
fn a_batch_the_loss_cannot_use_is_an_error_naming_the_entry() {
    let err = eval_error("kto", r#"{"pairs":[{"chosen":{"logp":-1.0,"ref_logp":-1.0},"rejected":{"logp":-2.0,"ref_logp":-2.0}}]}"#);
    assert!(err.contains("batch.json: loss `kto`: pairs: "), "{err}");
}

#[test]
fn non_finite_number_is_an_error_naming_the_entry() {
    // JSON has no NaN or infinity; a number too large for f64 is its nearest
    // spelling, and must be refused with the entry named.
    let err = eval_error("dpo", r#"{"pairs":[{"chosen":{"logp":-1.0,"ref_logp":-1e999},"rejected":{"logp":-2.0,"ref_logp":-2.0}}]}"#);
    assert!(err.contains("batch.json: pairs[0].chosen.ref_logp: number out of range"), "{err}");
}

#[test]
fn unknown_plugin_lists_the_known_ones() {
    let a = entropo()
        .args(["loss", "eval", "--plugin", "ipo", "--input", "-"])
        .write_stdin("{}")
        .assert()
        .failure();
    let err = stderr_of(&a);
    assert!(err.contains("unknown loss plugin `ipo`") && err.contains("entropo-kto"), "{err}");
}

#[test]
fn loss_schema_describes_the_batch() {
    let a = entropo().args(["loss", "schema"]).assert().success();
    let schema: serde_json::Value = serde_json::from_str(&stdout_of(&a)).unwrap();
    let props = schema["properties"].as_object().unwrap();
    for key in ["pairs", "samples", "kl"] {
        assert!(props.contains_key(key), "{key}");
    }
}

#[test]
fn plugins_list_shows_every_builtin_kind() {
    let a = entropo().args(["plugins", "list"]).assert().success();
    let out = stdout_of(&a);
    assert!(out.lines().next().unwrap().starts_with("KIND"), "{out}");
    for (kind, name) in [
        ("loss", "entropo-kto"),
        ("loss", "sft"),
        ("selector", "hybrid"),
        ("selector", "patch-consensus"),
        ("verifier", "oracle"),
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(kind) && l.split_whitespace().nth(1) == Some(name) && l.trim_end().ends_with("builtin")),
            "{kind} {name} missing: {out}"
        );
    }
    let a = entropo().args(["plugins", "list", "--json"]).assert().success();
    let infos: Vec<serde_json::Value> = serde_json::from_str(&stdout_of(&a)).unwrap();
    let kto = infos.iter().find(|i| i["name"] == "entropo-kto").unwrap();
    assert!(kto["params_schema"]["properties"]["alpha"].is_object(), "{kto}");
}

#[test]
fn help_teaches_the_commands() {
    let a = entropo().arg("--help").assert().success();
    let out = stdout_of(&a);
    for cmd in ["config", "plugins", "data", "loss", "Examples:"] {
        assert!(out.contains(cmd), "{cmd} missing from --help");
    }
}

#[test]
fn shipped_sample_batches_evaluate_with_every_builtin_loss() {
    for (batch, losses) in [
        ("configs/batches/pairs.json", &["dpo", "entropo-dpo"][..]),
        ("configs/batches/kto.json", &["kto", "entropo-kto"][..]),
        ("configs/batches/sft.json", &["sft"][..]),
    ] {
        for loss in losses {
            let a = entropo().args(["loss", "eval", "--plugin", loss, "--input", batch]).assert().success();
            let out: serde_json::Value = serde_json::from_str(stdout_of(&a).trim()).unwrap();
            assert!(out["loss"].as_f64().unwrap().is_finite(), "{loss} on {batch}: {out}");
        }
    }
    // The authors' variant differs from the paper's on the same batch (z0 > 0 here).
    let eval = |variant: &str| {
        let a = entropo()
            .args(["loss", "eval", "--plugin", "entropo-kto", "--param"])
            .arg(format!("variant={variant}"))
            .args(["--input", "configs/batches/kto.json"])
            .assert()
            .success();
        serde_json::from_str::<serde_json::Value>(stdout_of(&a).trim()).unwrap()["loss"].as_f64().unwrap()
    };
    assert_ne!(eval("paper"), eval("authors-code"));
}
