//! Range checks for plugin parameters.

use entropo_core::registry::PluginError;

/// `value` must be finite and strictly positive (e.g. `beta`, `alpha`).
pub(crate) fn positive(param: &str, value: f64) -> Result<(), PluginError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(invalid(
            param,
            format!("must be a finite number > 0, got {value}"),
        ))
    }
}

/// `value` must be finite and not negative (e.g. `lambda_desirable`).
pub(crate) fn non_negative(param: &str, value: f64) -> Result<(), PluginError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            param,
            format!("must be a finite number >= 0, got {value}"),
        ))
    }
}

fn invalid(param: &str, message: String) -> PluginError {
    PluginError::InvalidParam {
        param: param.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(positive("beta", 0.1).is_ok());
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let err = positive("beta", bad).unwrap_err();
            assert!(matches!(&err, PluginError::InvalidParam { param, .. } if param == "beta"));
        }
        assert!(non_negative("lambda_desirable", 0.0).is_ok());
        assert!(non_negative("lambda_desirable", -0.5).is_err());
        assert!(non_negative("lambda_desirable", f64::NAN).is_err());
    }
}
