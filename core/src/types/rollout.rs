use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ExitReason;

/// One row of a rollout index (`index.jsonl`): everything a selector needs
/// about one rollout, without loading its trajectory.
///
/// ```
/// use entropo_core::types::{ExitReason, RolloutRecord};
/// let row: RolloutRecord = serde_json::from_str(r#"{"task_id":"t1","rollout_id":3,
///   "exit_reason":"agent","steps":12,"tokens":4096,"reward":1.0,
///   "regression_passed":true,"patch_hash":"ab12","verifier_prob":null,
///   "trajectory":"t1/3.json"}"#).unwrap();
/// assert_eq!(row.exit_reason, ExitReason::Agent);
/// assert!(row.resolved());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolloutRecord {
    /// The task's `instance_id`.
    pub task_id: String,
    /// Index of this rollout among the task's N.
    pub rollout_id: u32,
    /// Why the episode ended.
    pub exit_reason: ExitReason,
    /// Environment interactions taken.
    pub steps: u32,
    /// Tokens used.
    pub tokens: u64,
    /// 1.0 iff the task's tests pass; `None` when not judged.
    pub reward: Option<f64>,
    /// Whether PASS_TO_PASS kept passing; `None` when not run.
    pub regression_passed: Option<bool>,
    /// [`patch_hash`] of the output patch; `None` for an empty patch.
    pub patch_hash: Option<String>,
    /// The verifier's p(YES); `None` until scored.
    pub verifier_prob: Option<f64>,
    /// Path of the trajectory file, relative to the index's folder.
    pub trajectory: PathBuf,
}

impl RolloutRecord {
    /// Whether the tests judged this rollout a success.
    pub fn resolved(&self) -> bool {
        self.reward.is_some_and(|r| r >= 1.0)
    }
}

/// A patch with what does not change its meaning removed: `index` lines,
/// hunk positions (`@@ -1,3 +1,4 @@` becomes `@@`), trailing white space and
/// blank lines, so that the same edit made at different moments compares equal.
///
/// ```
/// use entropo_core::types::normalise_patch;
/// let a = "diff --git a/x.py b/x.py\nindex 111..222 100644\n--- a/x.py\n+++ b/x.py\n@@ -1,2 +1,2 @@\n-a = 1 \n+a = 2\n";
/// let b = "diff --git a/x.py b/x.py\nindex 333..444 100644\n--- a/x.py\n+++ b/x.py\n@@ -7,2 +7,2 @@ def f():\n-a = 1\n+a = 2\n\n";
/// assert_eq!(normalise_patch(a), normalise_patch(b));
/// ```
pub fn normalise_patch(patch: &str) -> String {
    let mut out = String::with_capacity(patch.len());
    for line in patch.lines() {
        if line.starts_with("index ") {
            continue;
        }
        let line = if line.starts_with("@@") { "@@" } else { line.trim_end() };
        if line.is_empty() {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// SHA-256 (hex, first 16 bytes) of the normalised patch; `None` when the
/// patch is empty after normalising.
///
/// ```
/// use entropo_core::types::patch_hash;
/// assert_eq!(patch_hash("  \n"), None);
/// assert_eq!(patch_hash("+x\n").unwrap().len(), 32);
/// ```
pub fn patch_hash(patch: &str) -> Option<String> {
    let norm = normalise_patch(patch);
    if norm.is_empty() {
        return None;
    }
    let digest = Sha256::digest(norm.as_bytes());
    Some(digest[..16].iter().map(|b| format!("{b:02x}")).collect())
}
