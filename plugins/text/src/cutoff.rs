//! Keeping encoded conversations within a context length.

use serde::Serialize;

use crate::mask::EncodedChat;

pub use entropo_core::training::{Cutoff, Overflow};

/// How many conversations a [`Cutoff`] kept whole, truncated and dropped,
/// for logging.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CutoffCounts {
    /// Kept unchanged.
    pub kept: usize,
    /// Kept, shortened to `max_tokens`.
    pub truncated: usize,
    /// Left out: too long with [`Overflow::Drop`], or truncated to no
    /// trained token at all.
    pub dropped: usize,
}

/// One line for logs: how many of the sequences were over the cutoff.
///
/// ```
/// use entropo_text::CutoffCounts;
/// let counts = CutoffCounts { kept: 7, truncated: 2, dropped: 1 };
/// assert_eq!(counts.to_string(), "3 of 10 sequences over the cutoff (2 truncated, 1 dropped)");
/// ```
impl std::fmt::Display for CutoffCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let over = self.truncated + self.dropped;
        write!(
            f,
            "{over} of {} sequences over the cutoff ({} truncated, {} dropped)",
            self.kept + over,
            self.truncated,
            self.dropped
        )
    }
}

/// Applying a [`Cutoff`] (a config type of entropo-core) to encoded
/// conversations.
///
/// ```
/// use entropo_text::{ApplyCutoff, Cutoff, CutoffCounts, EncodedChat, Overflow};
/// let cutoff = Cutoff { max_tokens: 3, on_overflow: Overflow::Truncate };
/// let mut counts = CutoffCounts::default();
/// let chat = EncodedChat { ids: vec![1, 2, 3, 4], mask: vec![false, true, true, true] };
/// let kept = cutoff.apply(chat, &mut counts).unwrap();
/// assert_eq!(kept.ids, [1, 2, 3]);
/// assert_eq!(counts, CutoffCounts { kept: 0, truncated: 1, dropped: 0 });
/// assert_eq!(Cutoff::default(), Cutoff { max_tokens: 18_000, on_overflow: Overflow::Truncate });
/// ```
pub trait ApplyCutoff {
    /// Keeps, truncates or drops `chat`, counting the outcome in `counts`.
    fn apply(&self, chat: EncodedChat, counts: &mut CutoffCounts) -> Option<EncodedChat>;
}

impl ApplyCutoff for Cutoff {
    /// Applies the cutoff to `chat`, counting the outcome in `counts`.
    /// Conversations within `max_tokens` are kept as they are. Longer ones
    /// are truncated or dropped per `on_overflow`; a truncation that keeps no
    /// trained token is dropped, as it could teach nothing.
    fn apply(&self, mut chat: EncodedChat, counts: &mut CutoffCounts) -> Option<EncodedChat> {
        if chat.len() <= self.max_tokens {
            counts.kept += 1;
            return Some(chat);
        }
        match self.on_overflow {
            Overflow::Drop => {
                counts.dropped += 1;
                None
            }
            Overflow::Truncate => {
                chat.ids.truncate(self.max_tokens);
                chat.mask.truncate(self.max_tokens);
                if chat.trained_tokens() == 0 {
                    counts.dropped += 1;
                    None
                } else {
                    counts.truncated += 1;
                    Some(chat)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(mask: &[bool]) -> EncodedChat {
        EncodedChat {
            ids: (0..mask.len() as u32).collect(),
            mask: mask.to_vec(),
        }
    }

    #[test]
    fn within_the_limit_is_kept_whole() {
        let cutoff = Cutoff {
            max_tokens: 3,
            on_overflow: Overflow::Drop,
        };
        let mut counts = CutoffCounts::default();
        let c = chat(&[false, true, true]);
        assert_eq!(cutoff.apply(c.clone(), &mut counts), Some(c));
        assert_eq!(
            counts,
            CutoffCounts {
                kept: 1,
                truncated: 0,
                dropped: 0
            }
        );
    }

    #[test]
    fn drop_leaves_long_chats_out() {
        let cutoff = Cutoff {
            max_tokens: 2,
            on_overflow: Overflow::Drop,
        };
        let mut counts = CutoffCounts::default();
        assert_eq!(cutoff.apply(chat(&[false, true, true]), &mut counts), None);
        assert_eq!(
            counts,
            CutoffCounts {
                kept: 0,
                truncated: 0,
                dropped: 1
            }
        );
    }

    #[test]
    fn truncate_keeps_the_head_of_ids_and_mask() {
        let cutoff = Cutoff {
            max_tokens: 2,
            on_overflow: Overflow::Truncate,
        };
        let mut counts = CutoffCounts::default();
        let kept = cutoff
            .apply(chat(&[false, true, false, true]), &mut counts)
            .unwrap();
        assert_eq!(
            kept,
            EncodedChat {
                ids: vec![0, 1],
                mask: vec![false, true]
            }
        );
        // Truncated to prompt tokens only: nothing to learn, so dropped.
        assert_eq!(cutoff.apply(chat(&[false, false, true]), &mut counts), None);
        assert_eq!(
            counts,
            CutoffCounts {
                kept: 0,
                truncated: 1,
                dropped: 1
            }
        );
    }

    #[test]
    fn config_form_is_lowercase_with_defaults() {
        let c: Cutoff = serde_json::from_str(r#"{"on_overflow": "drop"}"#).unwrap();
        assert_eq!(
            c,
            Cutoff {
                max_tokens: 18_000,
                on_overflow: Overflow::Drop
            }
        );
        assert_eq!(
            serde_json::to_string(&Cutoff::default()).unwrap(),
            r#"{"max_tokens":18000,"on_overflow":"truncate"}"#
        );
        let err = serde_json::from_str::<Cutoff>(r#"{"max_token": 5}"#).unwrap_err();
        assert!(err.to_string().contains("max_token"), "{err}");
        assert!(serde_json::from_str::<Cutoff>(r#"{"on_overflow": "Drop"}"#).is_err());
    }
}
