//! Checks on the lists a loss receives.

use entropo_core::loss::LossError;

/// Rejects a non-empty list that the loss `loss` does not use; `uses` says
/// what it takes instead.
pub(crate) fn reject_list(loss: &str, list: &str, len: usize, uses: &str) -> Result<(), LossError> {
    if len == 0 {
        Ok(())
    } else {
        Err(LossError::Unsupported {
            entry: list.to_string(),
            reason: format!(
                "the `{loss}` loss does not use `{list}` ({len} given); it takes {uses}"
            ),
        })
    }
}

/// Fails with [`LossError::Empty`] when the list the loss needs is empty.
pub(crate) fn require_nonempty(loss: &str, list: &str, len: usize) -> Result<(), LossError> {
    if len == 0 {
        Err(LossError::Empty(format!(
            "the `{loss}` loss needs at least one entry in `{list}`"
        )))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_list() {
        assert!(reject_list("dpo", "samples", 0, "pairs").is_ok());
        let err = reject_list("dpo", "samples", 2, "pairs").unwrap_err();
        assert!(matches!(&err, LossError::Unsupported { entry, .. } if entry == "samples"));
        assert!(
            matches!(require_nonempty("dpo", "pairs", 0), Err(LossError::Empty(m)) if m.contains("pairs"))
        );
        assert!(require_nonempty("dpo", "pairs", 1).is_ok());
    }
}
