//! Exports of real-looking native rows (an R2E-style multi-turn episode on
//! psf__requests-863) to every training format: snapshots of the exported
//! JSON, round trips back to native rows, and error messages.

use std::path::{Path, PathBuf};

use entropo_core::formats::{ExportFormat, InputKind, export_file, import_file};
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn input_for(format: ExportFormat) -> PathBuf {
    fixture(match format.input_kind() {
        InputKind::Sft => "sft.jsonl",
        InputKind::Preference => "pairs.jsonl",
        InputKind::Kto => "kto.jsonl",
    })
}

fn read_values(path: &Path) -> Vec<Value> {
    entropo_core::io::read_jsonl(path).unwrap()
}

/// Exports `format` and returns the rows written.
fn export(format: ExportFormat) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let n = export_file(format, &input_for(format), &out).unwrap();
    let rows = read_values(&out);
    assert_eq!(rows.len(), n);
    rows
}

#[test]
fn sharegpt_snapshot() {
    insta::assert_json_snapshot!(export(ExportFormat::ShareGpt));
}

#[test]
fn llamafactory_dpo_snapshot() {
    let rows = export(ExportFormat::LlamaFactoryDpo);
    // Multi-turn: the continuations are lists of turns; the rejected run's
    // final observation is dropped (nothing answers it).
    assert_eq!(rows[0]["chosen"].as_array().unwrap().len(), 9);
    assert_eq!(rows[0]["rejected"].as_array().unwrap().len(), 3);
    insta::assert_json_snapshot!(rows);
}

#[test]
fn llamafactory_kto_snapshot() {
    insta::assert_json_snapshot!(export(ExportFormat::LlamaFactoryKto));
}

#[test]
fn trl_dpo_snapshot() {
    let rows = export(ExportFormat::TrlDpo);
    assert_eq!(rows[0]["rejected"].as_array().unwrap().len(), 4);
    insta::assert_json_snapshot!(rows);
}

#[test]
fn trl_kto_snapshot() {
    insta::assert_json_snapshot!(export(ExportFormat::TrlKto));
}

#[test]
fn every_format_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    for format in ExportFormat::ALL {
        let input = input_for(format);
        let exported = dir.path().join(format!("{format}.jsonl"));
        let back = dir.path().join(format!("{format}-back.jsonl"));
        let n = export_file(format, &input, &exported).unwrap();
        assert_eq!(import_file(format, &exported, &back).unwrap(), n);
        let mut expected = read_values(&input);
        for (i, row) in expected.iter_mut().enumerate() {
            // Documented losses: task_id becomes <file stem>:<line>, and
            // LLaMA-Factory drops messages after a continuation's last
            // assistant turn.
            row["task_id"] = Value::from(format!("{format}:{}", i + 1));
            let lf = matches!(format, ExportFormat::LlamaFactoryDpo | ExportFormat::LlamaFactoryKto);
            for key in ["rejected", "completion"] {
                if let (true, Some(turns)) = (lf, row.get_mut(key).and_then(Value::as_array_mut)) {
                    while turns.last().is_some_and(|m| m["role"] != "assistant") {
                        turns.pop();
                    }
                }
            }
        }
        assert_eq!(read_values(&back), expected, "{format}");
    }
}

#[test]
fn imports_keep_a_task_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("trl.jsonl");
    let mut row = export(ExportFormat::TrlKto).remove(0);
    row["task_id"] = Value::from("psf__requests-863");
    std::fs::write(&input, format!("{row}\n")).unwrap();
    let out = dir.path().join("kto.jsonl");
    import_file(ExportFormat::TrlKto, &input, &out).unwrap();
    assert_eq!(read_values(&out)[0]["task_id"], "psf__requests-863");
}

#[test]
fn bad_native_rows_name_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("pairs.jsonl");
    let good = std::fs::read_to_string(fixture("pairs.jsonl")).unwrap();
    let mut bad: Value = serde_json::from_str(good.trim()).unwrap();
    bad["chosen"][2]["role"] = Value::from("robot");
    std::fs::write(&input, format!("{}\n{bad}\n", good.trim())).unwrap();
    let err = export_file(ExportFormat::TrlDpo, &input, &dir.path().join("o.jsonl")).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:2: chosen[2].role: unknown variant `robot`", input.display())), "{err}");

    // A pair LLaMA-Factory cannot take (two assistant turns in a row).
    let mut bad: Value = serde_json::from_str(good.trim()).unwrap();
    bad["chosen"][1]["role"] = Value::from("assistant");
    std::fs::write(&input, format!("\n{bad}\n")).unwrap();
    let err = export_file(ExportFormat::LlamaFactoryDpo, &input, &dir.path().join("o.jsonl")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2 (psf__requests-863): chosen[1].role: expected a user or tool message", input.display())),
        "{err}"
    );

    // Wrong native type for the format.
    let err = export_file(ExportFormat::ShareGpt, &input, &dir.path().join("o.jsonl")).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:2: chosen", input.display())), "{err}");
    assert!(err.contains("unknown field `chosen`"), "{err}");
}

#[test]
fn bad_imported_rows_name_file_row_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("lf.json");
    let mut row = export(ExportFormat::LlamaFactoryDpo).remove(0);
    row["conversations"][0]["from"] = Value::from("gpt");
    std::fs::write(&input, Value::Array(vec![export(ExportFormat::LlamaFactoryDpo).remove(0), row]).to_string()).unwrap();
    let err = import_file(ExportFormat::LlamaFactoryDpo, &input, &dir.path().join("o.jsonl")).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}[1]: conversations[0].from: expected a user or tool message", input.display())),
        "{err}"
    );
    let input = dir.path().join("lf.jsonl");
    std::fs::write(&input, "{\"conversations\": [{\"from\": \"human\", \"value\": \"x\"}]}\n").unwrap();
    let err = import_file(ExportFormat::LlamaFactoryKto, &input, &dir.path().join("o.jsonl")).unwrap_err().to_string();
    assert_eq!(err, format!("{}:1: kto_tag: missing field `kto_tag`", input.display()));
}
