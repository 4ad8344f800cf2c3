//! The built-in verifiers through the registry, as entropo uses them.

use entropo_core::registry::{Params, PluginError, RegistryError};
use entropo_core::types::{Task, Trajectory};
use entropo_core::verifier::VerifierError;
use entropo_core::{Registry, Verifier};

fn registry() -> Registry {
    let mut r = Registry::new();
    entropo_verifiers::register(&mut r).unwrap();
    r
}

fn params(json: &str) -> Params {
    serde_json::from_str(json).unwrap()
}

fn task() -> Task {
    serde_json::from_str(r#"{"instance_id":"t","repo":"r","problem_statement":"p","fail_to_pass":[],"pass_to_pass":[]}"#)
        .unwrap()
}

fn with_reward(reward: Option<f64>) -> Trajectory {
    Trajectory {
        reward,
        ..Default::default()
    }
}

/// The offending parameter's key.
fn invalid_param(err: RegistryError) -> String {
    match err {
        RegistryError::Plugin {
            source: PluginError::InvalidParam { param, .. },
            ..
        } => param,
        other => panic!("expected an invalid parameter, got {other}"),
    }
}

#[test]
fn oracle_scores_the_reward_clamped() {
    let v = registry()
        .create::<dyn Verifier>("oracle", &Params::new())
        .unwrap();
    assert_eq!(v.name(), "oracle");
    assert_eq!(v.score(&task(), &with_reward(Some(1.0))).unwrap(), 1.0);
    assert_eq!(v.score(&task(), &with_reward(Some(0.0))).unwrap(), 0.0);
    assert_eq!(v.score(&task(), &with_reward(Some(3.0))).unwrap(), 1.0);
    assert_eq!(v.score(&task(), &with_reward(Some(-2.0))).unwrap(), 0.0);
}

#[test]
fn oracle_refuses_unjudged_trajectories() {
    let v = registry()
        .create::<dyn Verifier>("oracle", &Params::new())
        .unwrap();
    assert!(matches!(
        v.score(&task(), &with_reward(None)),
        Err(VerifierError::Unscorable(_))
    ));
    assert!(matches!(
        v.score(&task(), &with_reward(Some(f64::NAN))),
        Err(VerifierError::Unscorable(_))
    ));
}

#[test]
fn oracle_takes_no_params() {
    let err = registry()
        .create::<dyn Verifier>("oracle", &params(r#"{"p": 1}"#))
        .err()
        .unwrap();
    assert_eq!(invalid_param(err), "p");
}

#[test]
fn constant_defaults_to_one_half_and_ignores_the_trajectory() {
    let v = registry()
        .create::<dyn Verifier>("constant", &Params::new())
        .unwrap();
    assert_eq!(v.name(), "constant");
    for t in [with_reward(None), with_reward(Some(1.0))] {
        assert_eq!(v.score(&task(), &t).unwrap(), 0.5);
    }
    for p in [0.0, 1.0] {
        let v = registry()
            .create::<dyn Verifier>("constant", &params(&format!(r#"{{"p": {p}}}"#)))
            .unwrap();
        assert_eq!(v.score(&task(), &Trajectory::default()).unwrap(), p);
    }
}

#[test]
fn constant_rejects_p_out_of_range() {
    for bad in ["-0.1", "1.01", "1e300"] {
        let err = registry()
            .create::<dyn Verifier>("constant", &params(&format!(r#"{{"p": {bad}}}"#)))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("params.p: must be within [0, 1]"),
            "{err}"
        );
        assert_eq!(invalid_param(err), "p");
    }
    let err = registry()
        .create::<dyn Verifier>("constant", &params(r#"{"p": "high"}"#))
        .err()
        .unwrap();
    assert_eq!(invalid_param(err), "p");
    let err = registry()
        .create::<dyn Verifier>("constant", &params(r#"{"q": 0.5}"#))
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown field `q`"), "{err}");
    assert_eq!(invalid_param(err), "q");
}

#[test]
fn registering_twice_is_refused() {
    let mut r = registry();
    assert!(matches!(
        entropo_verifiers::register(&mut r),
        Err(RegistryError::Duplicate { .. })
    ));
    let schema = &r
        .info(entropo_core::registry::PluginKind::Verifier, "constant")
        .unwrap()
        .params_schema;
    assert!(schema["properties"]["p"].is_object(), "{schema}");
}
