//! Loads the example SimPO plugin as a shared library, and broken libraries
//! built from `tests/fixtures/handmade_plugin.rs`, through the loader.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use entropo_sdk::abi::ABI_VERSION;
use entropo_sdk::conformance;
use entropo_sdk::serde_json::{self, json};
use entropo_sdk::{
    LoadError, Loss, LossBatch, LossError, Origin, PairStats, Params, PluginError, PluginKind, Registry,
    RegistryError, SeqStats, load_dir, load_library,
};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Builds `entropo-example-simpo` once (the outer cargo has released its lock
/// by now) and returns the path of its shared library.
fn simpo_lib() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| entropo_sdk::build::cdylib("entropo-example-simpo", &workspace_root(), &[]).unwrap())
}

/// Compiles the hand-made fixture with plain `rustc` into a shared library.
fn fixture(dir: &Path, name: &str, abi: u32, cfg: Option<&str>) -> PathBuf {
    let cargo = Path::new(env!("CARGO"));
    let sibling = cargo.with_file_name(format!("rustc{}", std::env::consts::EXE_SUFFIX));
    let rustc = if sibling.exists() { sibling } else { PathBuf::from("rustc") };
    let out = dir.join(format!("{}{name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX));
    let mut cmd = Command::new(rustc);
    cmd.args(["--edition", "2024", "--crate-type", "cdylib", "--crate-name", name, "-C", "debuginfo=0"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/handmade_plugin.rs"))
        .arg("-o")
        .arg(&out)
        .env("FIXTURE_ABI", abi.to_string());
    if let Some(cfg) = cfg {
        cmd.args(["--cfg", cfg]);
    }
    let output = cmd.output().expect("run rustc");
    assert!(output.status.success(), "rustc failed:\n{}", String::from_utf8_lossy(&output.stderr));
    out
}

fn params(value: serde_json::Value) -> Params {
    serde_json::from_value(value).unwrap()
}

fn seq(logp: f64, tokens: u64) -> SeqStats {
    SeqStats { logp, ref_logp: Some(logp + 1.0), tokens: Some(tokens) }
}

fn loaded() -> Registry {
    let mut registry = Registry::new();
    load_library(simpo_lib(), &mut registry).unwrap();
    registry
}

#[test]
fn loads_simpo_and_matches_closed_form() {
    let mut registry = Registry::new();
    let infos = load_library(simpo_lib(), &mut registry).unwrap();
    assert_eq!(infos.len(), 1);
    let info = &infos[0];
    assert_eq!((info.kind, info.name.as_str()), (PluginKind::Loss, "simpo"));
    assert!(info.description.starts_with("SimPO"), "{}", info.description);
    assert!(matches!(&info.origin, Origin::Dynamic { path } if path.is_absolute() && path.exists()));
    let props = &info.params_schema["properties"];
    assert_eq!(props["beta"]["default"], json!(2.0));
    assert_eq!(props["gamma"]["default"], json!(0.5));
    assert_eq!(registry.info(PluginKind::Loss, "simpo"), Some(info));

    let loss = registry.create::<dyn Loss>("simpo", &params(json!({"beta": 2.5, "gamma": 0.25}))).unwrap();
    assert_eq!(loss.name(), "simpo");
    let batch = LossBatch {
        pairs: vec![
            PairStats { chosen: seq(-10.0, 10), rejected: seq(-30.0, 20) },
            PairStats { chosen: seq(-50.0, 25), rejected: seq(-12.0, 12) },
        ],
        ..Default::default()
    };
    let out = loss.compute(&batch).unwrap();
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let (beta, gamma) = (2.5, 0.25);
    let z0 = beta * (-1.0 + 1.5) - gamma;
    let z1 = beta * (-2.0 + 1.0) - gamma;
    let expected = (-sigmoid(z0).ln() - sigmoid(z1).ln()) / 2.0;
    assert!((out.loss - expected).abs() < 1e-12, "{} vs {expected}", out.loss);
    assert!((out.grads.pairs[0].chosen + sigmoid(-z0) / 2.0 * beta / 10.0).abs() < 1e-12);
    assert!((out.grads.pairs[1].rejected - sigmoid(-z1) / 2.0 * beta / 12.0).abs() < 1e-12);
    assert_eq!(out.metrics["rewards/accuracies"], 0.5);
}

#[test]
fn loaded_plugin_passes_conformance() {
    let registry = loaded();
    for p in [json!({}), json!({"beta": 0.3, "gamma": 2.0})] {
        let loss = registry.create::<dyn Loss>("simpo", &params(p)).unwrap();
        assert_eq!(
            conformance::check_accepts_some_shape(&*loss).unwrap(),
            vec![conformance::BatchShape::Pairs]
        );
        conformance::check_all(&*loss).unwrap();
    }
}

#[test]
fn plugin_errors_keep_their_type() {
    let registry = loaded();
    let loss = registry.create::<dyn Loss>("simpo", &Params::new()).unwrap();
    assert!(matches!(loss.compute(&LossBatch::default()), Err(LossError::Empty(_))));
    let samples: LossBatch =
        serde_json::from_str(r#"{"samples": [{"label": true, "logp": -1.0, "tokens": 2}]}"#).unwrap();
    assert!(
        matches!(loss.compute(&samples), Err(LossError::Unsupported { entry, .. }) if entry == "samples")
    );
    let no_tokens = LossBatch {
        pairs: vec![PairStats {
            chosen: seq(-1.0, 1),
            rejected: SeqStats { logp: -2.0, ref_logp: None, tokens: None },
        }],
        ..Default::default()
    };
    assert_eq!(
        loss.compute(&no_tokens).unwrap_err(),
        LossError::MissingField { entry: "pairs[0].rejected.tokens".into() }
    );
    let mut nan = no_tokens.clone();
    nan.pairs[0].rejected = seq(f64::NAN, 3);
    assert!(
        matches!(loss.compute(&nan), Err(LossError::NotFinite { entry, .. }) if entry == "pairs[0].rejected.logp")
    );
}

#[test]
fn bad_params_are_reported_by_name() {
    let registry = loaded();
    let err = registry.create::<dyn Loss>("simpo", &params(json!({"beta": -1.0}))).err().unwrap();
    assert!(
        matches!(&err, RegistryError::Plugin { source: PluginError::InvalidParam { param, .. }, .. } if param == "beta"),
        "{err}"
    );
    let err = registry.create::<dyn Loss>("simpo", &params(json!({"betta": 1.0}))).err().unwrap();
    assert!(err.to_string().contains("params.betta"), "{err}");
    let err = registry.create::<dyn Loss>("simpo", &params(json!({"beta": "big"}))).err().unwrap();
    assert!(err.to_string().contains("params.beta: invalid type"), "{err}");
}

#[test]
fn panicking_plugin_is_an_error_not_an_abort() {
    let registry = loaded();
    let loss = registry.create::<dyn Loss>("simpo", &params(json!({"debug_panic": true}))).unwrap();
    let batch = LossBatch {
        pairs: vec![PairStats { chosen: seq(-1.0, 1), rejected: seq(-2.0, 1) }],
        ..Default::default()
    };
    let err = loss.compute(&batch).unwrap_err();
    let LossError::Plugin(message) = &err else { panic!("expected LossError::Plugin, got {err:?}") };
    assert!(message.contains("panicked") && message.contains("simpo: debug_panic is set"), "{message}");
    assert!(message.contains("libentropo_example_simpo"), "{message}");
    // The library is still usable.
    let fine = registry.create::<dyn Loss>("simpo", &Params::new()).unwrap();
    assert!(fine.compute(&batch).is_ok());
    assert!(loss.compute(&batch).is_err());
}

#[test]
fn instances_outlive_the_registry_and_run_on_many_threads() {
    let loss = loaded().create::<dyn Loss>("simpo", &Params::new()).unwrap();
    let batch = conformance::random_batch(conformance::BatchShape::Pairs, 8, 3);
    let first = loss.compute(&batch).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4).map(|_| s.spawn(|| loss.compute(&batch).unwrap())).collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), first);
        }
    });
}

#[test]
fn load_dir_loads_libraries_and_ignores_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let name = simpo_lib().file_name().unwrap();
    std::fs::copy(simpo_lib(), dir.path().join(name)).unwrap();
    std::fs::write(dir.path().join("README.txt"), "not a plugin").unwrap();
    let mut registry = Registry::new();
    let infos = load_dir(dir.path(), &mut registry).unwrap();
    assert_eq!(infos.len(), 1);
    let Origin::Dynamic { path } = &infos[0].origin else { panic!("not dynamic") };
    assert_eq!(path, &dir.path().join(name).canonicalize().unwrap());
    assert!(registry.create::<dyn Loss>("simpo", &Params::new()).is_ok());

    let err = load_dir(dir.path().join("missing"), &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn duplicate_names_are_refused() {
    let mut registry = loaded();
    let err = load_library(simpo_lib(), &mut registry).unwrap_err();
    assert!(matches!(err, LoadError::Duplicate { .. }), "{err}");
    let text = err.to_string();
    assert!(text.contains("loss plugin `simpo` is already registered"), "{text}");
    assert!(text.starts_with(&simpo_lib().display().to_string()), "{text}");
}

#[test]
fn files_that_are_not_libraries() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join(format!("notes{}", std::env::consts::DLL_SUFFIX));
    std::fs::write(&text, "hello").unwrap();
    let err = load_library(&text, &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::NotALibrary { .. }), "{err}");
    assert!(err.to_string().starts_with(&text.display().to_string()), "{err}");
    assert_eq!(err.path(), text);

    let missing = dir.path().join("nope.so");
    let err = load_library(&missing, &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err}");
    assert!(err.to_string().contains("nope.so"), "{err}");

    let err = load_library(dir.path(), &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::NotALibrary { .. }), "{err}");
}

#[test]
fn shared_libraries_that_are_not_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let lib = fixture(dir.path(), "no_entry_points", ABI_VERSION, Some("mode_no_entry_points"));
    let err = load_library(&lib, &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err}");
    assert!(err.to_string().contains("not an entropo plugin"), "{err}");
    assert!(err.to_string().contains("entropo_plugin_abi_version"), "{err}");

    // A system library, where one is found.
    let system = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
        "/usr/lib/libSystem.B.dylib",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.exists());
    if let Some(system) = system {
        let err = load_library(system, &mut Registry::new()).unwrap_err();
        assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err}");
    }
}

#[test]
fn wrong_abi_version_is_refused_before_any_other_call() {
    let dir = tempfile::tempdir().unwrap();
    // Its other entry points abort the process if called.
    let lib = fixture(dir.path(), "abi_999", 999, None);
    let err = load_library(&lib, &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::AbiMismatch { found: 999, expected: ABI_VERSION, .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("ABI version 999") && text.contains(&format!("expects ABI version {ABI_VERSION}")),
        "{text}"
    );
    assert!(text.starts_with(&lib.display().to_string()), "{text}");
}

#[test]
fn broken_describe_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let lib = fixture(dir.path(), "bad_json", ABI_VERSION, Some("mode_bad_json"));
    let err = load_library(&lib, &mut Registry::new()).unwrap_err();
    assert!(matches!(err, LoadError::InvalidJson { .. }), "{err}");
    assert!(err.to_string().contains("invalid JSON"), "{err}");

    let lib = fixture(dir.path(), "describe_panics", ABI_VERSION, Some("mode_describe_panics"));
    let err = load_library(&lib, &mut Registry::new()).unwrap_err();
    assert!(
        matches!(&err, LoadError::Panicked { message, .. } if message == "handmade: boom in describe"),
        "{err}"
    );

    // A valid plugin library that exports nothing loads and registers nothing.
    let lib = fixture(dir.path(), "empty", ABI_VERSION, None);
    assert!(load_library(&lib, &mut Registry::new()).unwrap().is_empty());
}
