//! Building a [`LossOutput`]: named metrics and a final finiteness check.

use std::collections::BTreeMap;

use entropo_core::loss::{LossError, LossGrads, LossOutput};

use crate::math::mean;

/// Named metrics under construction.
#[derive(Debug, Default)]
pub(crate) struct Metrics(BTreeMap<String, f64>);

impl Metrics {
    /// Records `value` under `name`.
    pub(crate) fn set(&mut self, name: &str, value: f64) {
        self.0.insert(name.to_string(), value);
    }

    /// Records the mean of `values` under `name`, or nothing when there are
    /// no values (a metric without samples is omitted rather than NaN).
    pub(crate) fn set_mean(
        &mut self,
        name: &str,
        values: impl IntoIterator<Item = f64>,
    ) -> Option<f64> {
        let m = mean(values);
        if let Some(m) = m {
            self.set(name, m);
        }
        m
    }
}

/// Assembles the output, failing with [`LossError::NotFinite`] (naming the
/// output field) if finite but extreme inputs overflowed anywhere.
pub(crate) fn finish(
    loss: f64,
    grads: LossGrads,
    metrics: Metrics,
) -> Result<LossOutput, LossError> {
    let bad = |entry: String, value: f64| Err(LossError::NotFinite { entry, value });
    if !loss.is_finite() {
        return bad("loss".into(), loss);
    }
    for (i, g) in grads.pairs.iter().enumerate() {
        if !g.chosen.is_finite() {
            return bad(format!("grads.pairs[{i}].chosen"), g.chosen);
        }
        if !g.rejected.is_finite() {
            return bad(format!("grads.pairs[{i}].rejected"), g.rejected);
        }
    }
    for (i, g) in grads.samples.iter().enumerate() {
        if !g.is_finite() {
            return bad(format!("grads.samples[{i}]"), *g);
        }
    }
    for (name, v) in &metrics.0 {
        if !v.is_finite() {
            return bad(format!("metrics.{name}"), *v);
        }
    }
    Ok(LossOutput {
        loss,
        grads,
        metrics: metrics.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use entropo_core::loss::PairGrad;

    #[test]
    fn omits_empty_means() {
        let mut m = Metrics::default();
        assert_eq!(m.set_mean("a", []), None);
        assert_eq!(m.set_mean("b", [1.0, 3.0]), Some(2.0));
        let out = finish(0.5, LossGrads::default(), m).unwrap();
        assert_eq!(out.metrics.len(), 1);
        assert_eq!(out.metrics["b"], 2.0);
    }

    #[test]
    fn names_the_overflowed_field() {
        let grads = LossGrads {
            pairs: vec![PairGrad {
                chosen: 1.0,
                rejected: f64::INFINITY,
            }],
            samples: vec![],
        };
        let err = finish(1.0, grads, Metrics::default()).unwrap_err();
        assert!(
            matches!(&err, LossError::NotFinite { entry, .. } if entry == "grads.pairs[0].rejected")
        );
        let mut m = Metrics::default();
        m.set("rewards/margins", f64::NEG_INFINITY);
        let err = finish(1.0, LossGrads::default(), m).unwrap_err();
        assert!(
            matches!(&err, LossError::NotFinite { entry, .. } if entry == "metrics.rewards/margins")
        );
        assert!(finish(f64::NAN, LossGrads::default(), Metrics::default()).is_err());
    }
}
