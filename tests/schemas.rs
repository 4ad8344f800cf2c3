//! The JSON Schemas shipped in the repository match the types they describe.

mod common;

use common::{entropo, repo_root, stdout_of};

#[test]
fn shipped_loss_batch_schema_is_current() {
    let a = entropo().args(["loss", "schema"]).assert().success();
    let generated: serde_json::Value = serde_json::from_str(&stdout_of(&a)).unwrap();
    let path = repo_root().join("sdk/schema/loss-batch.schema.json");
    let shipped: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(generated, shipped, "regenerate with: entropo loss schema > {}", path.display());
}
