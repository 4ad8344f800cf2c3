//! Parameters shared by the selectors that take none, and range checks.

use entropo_core::registry::PluginError;
use schemars::JsonSchema;
use serde::Deserialize;

/// Parameters of the selectors that take none (`first`, `most-steps`,
/// `fewest-steps`, `verifier-max`, `patch-consensus`): an empty table; any
/// key is an error naming it.
///
/// ```
/// use entropo_core::registry::{Params, parse_params};
/// use entropo_selectors::NoParams;
/// assert!(parse_params::<NoParams>(&Params::new()).is_ok());
/// let bad: Params = serde_json::from_str(r#"{"seed": 1}"#).unwrap();
/// assert!(parse_params::<NoParams>(&bad).unwrap_err().to_string().starts_with("params.seed"));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NoParams {}

/// `value` must be a probability: finite and within `[0, 1]`.
pub(crate) fn probability(param: &str, value: f64) -> Result<(), PluginError> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(PluginError::InvalidParam {
            param: param.to_string(),
            message: format!("must be within [0, 1], got {value}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_range() {
        for ok in [0.0, 0.01, 1.0] {
            assert!(probability("threshold", ok).is_ok());
        }
        for bad in [-0.1, 1.5, f64::NAN, f64::INFINITY] {
            let err = probability("threshold", bad).unwrap_err();
            assert!(
                matches!(&err, PluginError::InvalidParam { param, .. } if param == "threshold")
            );
        }
    }
}
