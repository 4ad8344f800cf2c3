//! The functions HuggingFace adds to a chat template's globals.

use minijinja::{Error, ErrorKind};

/// The payload of an error raised by `raise_exception`, so that rendering
/// can tell the template's own exceptions from engine errors.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Raised(String);

/// `raise_exception(message)`: stops rendering with the template's message.
pub(super) fn raise_exception(message: String) -> Result<String, Error> {
    Err(Error::new(ErrorKind::InvalidOperation, message.clone()).with_source(Raised(message)))
}

/// The message of a `raise_exception` call somewhere in `err`'s chain.
pub(super) fn raised_message(err: &Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(Raised(message)) = e.downcast_ref::<Raised>() {
            return Some(message.clone());
        }
        source = e.source();
    }
    None
}

/// `strftime_now(format)`: the local time formatted with C `strftime`
/// directives (`%d %b %Y` → `26 Jul 2024`), as Llama 3.x templates use it.
pub(super) fn strftime_now(format: String) -> Result<String, Error> {
    jiff::fmt::strtime::format(&format, &jiff::ZonedDateTime::now()).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("strftime_now({format:?}): {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_now_formats_the_current_date() {
        let year = strftime_now("%Y".into()).unwrap();
        let today = jiff::ZonedDateTime::now();
        // The year may tick over between the two calls; both are accepted.
        let years = [today.year().to_string(), (today.year() - 1).to_string()];
        assert!(years.contains(&year), "{year}");
        let date = strftime_now("%d %b %Y".into()).unwrap();
        assert_eq!(date.len(), 11, "{date}");
        assert!(
            strftime_now("%Y%".into())
                .unwrap_err()
                .to_string()
                .contains("%Y%")
        );
    }

    #[test]
    fn raised_messages_are_found_and_others_are_not() {
        let err = raise_exception("only user/assistant roles".into()).unwrap_err();
        assert_eq!(
            raised_message(&err).as_deref(),
            Some("only user/assistant roles")
        );
        assert_eq!(
            raised_message(&Error::new(ErrorKind::InvalidOperation, "x")),
            None
        );
    }
}
