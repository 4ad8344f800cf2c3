//! Reading and writing named f32 tensors in safetensors files, including
//! sharded checkpoints (`model.safetensors.index.json`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use safetensors::{Dtype, SafeTensors};

use crate::error::ModelError;

/// A tensor on the host: its shape and values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct HostTensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, `shape.iter().product()` of them.
    pub data: Vec<f32>,
}

/// Named tensors loaded from one or more safetensors files, converted to f32.
///
/// ```
/// use entropo_burn::weights::{HostTensor, TensorStore};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("t.safetensors");
/// let mut tensors = std::collections::BTreeMap::new();
/// tensors.insert("w".to_string(), HostTensor { shape: vec![2], data: vec![1.0, 2.0] });
/// entropo_burn::weights::save(&path, &tensors, &Default::default()).unwrap();
/// let mut store = TensorStore::open_file(&path).unwrap();
/// assert_eq!(store.take("w", &[2]).unwrap().data, vec![1.0, 2.0]);
/// assert!(store.take("w", &[2]).is_err()); // taken once
/// ```
#[derive(Debug)]
pub struct TensorStore {
    origin: PathBuf,
    tensors: BTreeMap<String, (PathBuf, HostTensor)>,
}

impl TensorStore {
    /// Loads `dir/model.safetensors`, or every shard listed in
    /// `dir/model.safetensors.index.json`.
    pub fn open_dir(dir: &Path) -> Result<TensorStore, ModelError> {
        let index = dir.join("model.safetensors.index.json");
        let single = dir.join("model.safetensors");
        if index.exists() {
            let text = std::fs::read_to_string(&index).map_err(|e| ModelError::io(&index, e))?;
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| ModelError::Json { path: index.clone(), reason: e.to_string() })?;
            let map = json.get("weight_map").and_then(|m| m.as_object()).ok_or_else(|| ModelError::Json {
                path: index.clone(),
                reason: "weight_map: missing or not an object".into(),
            })?;
            let mut files: Vec<&str> = map.values().filter_map(|v| v.as_str()).collect();
            files.sort_unstable();
            files.dedup();
            let mut store = TensorStore { origin: dir.to_path_buf(), tensors: BTreeMap::new() };
            for file in files {
                store.read_file(&dir.join(file))?;
            }
            Ok(store)
        } else if single.exists() {
            let mut store = TensorStore::open_file(&single)?;
            store.origin = dir.to_path_buf();
            Ok(store)
        } else {
            Err(ModelError::io(
                single,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no model.safetensors or model.safetensors.index.json"),
            ))
        }
    }

    /// Loads one safetensors file.
    pub fn open_file(path: &Path) -> Result<TensorStore, ModelError> {
        let mut store = TensorStore { origin: path.to_path_buf(), tensors: BTreeMap::new() };
        store.read_file(path)?;
        Ok(store)
    }

    fn read_file(&mut self, path: &Path) -> Result<(), ModelError> {
        let bytes = std::fs::read(path).map_err(|e| ModelError::io(path, e))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| ModelError::Safetensors { path: path.to_path_buf(), reason: e.to_string() })?;
        for (name, view) in st.tensors() {
            let raw = view.data();
            let data: Vec<f32> = match view.dtype() {
                Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
                Dtype::F16 => raw.chunks_exact(2).map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                Dtype::BF16 => raw.chunks_exact(2).map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                Dtype::I64 => raw
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                    .collect(),
                other => {
                    return Err(ModelError::Dtype { path: path.to_path_buf(), name, dtype: format!("{other:?}") });
                }
            };
            let tensor = HostTensor { shape: view.shape().to_vec(), data };
            self.tensors.insert(name, (path.to_path_buf(), tensor));
        }
        Ok(())
    }

    /// A store holding nothing yet (see [`insert`](Self::insert)).
    pub fn empty() -> TensorStore {
        TensorStore { origin: PathBuf::from("<memory>"), tensors: BTreeMap::new() }
    }

    /// Adds (or replaces) a tensor.
    pub fn insert(&mut self, name: String, tensor: HostTensor) {
        self.tensors.insert(name, (self.origin.clone(), tensor));
    }

    /// Whether a tensor of this name is (still) present.
    pub fn contains(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// Removes and returns `name`, checking its shape.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> Result<HostTensor, ModelError> {
        let (path, tensor) = self
            .tensors
            .remove(name)
            .ok_or_else(|| ModelError::MissingTensor { path: self.origin.clone(), name: name.to_string() })?;
        if tensor.shape != shape {
            return Err(ModelError::Shape {
                path,
                name: name.to_string(),
                expected: shape.to_vec(),
                found: tensor.shape,
            });
        }
        Ok(tensor)
    }

    /// Names of the tensors not taken yet.
    pub fn remaining(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}

/// Writes f32 tensors to a safetensors file atomically.
pub fn save(
    path: &Path,
    tensors: &BTreeMap<String, HostTensor>,
    metadata: &BTreeMap<String, String>,
) -> Result<(), ModelError> {
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .iter()
        .map(|(name, t)| (name.clone(), t.data.iter().flat_map(|v| v.to_le_bytes()).collect(), t.shape.clone()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = bytes
        .iter()
        .map(|(name, data, shape)| {
            safetensors::tensor::TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|v| (name.clone(), v))
                .map_err(|e| ModelError::Safetensors { path: path.to_path_buf(), reason: format!("{name}: {e}") })
        })
        .collect::<Result<_, _>>()?;
    let meta: std::collections::HashMap<String, String> = metadata.clone().into_iter().collect();
    let out = safetensors::serialize(views, Some(meta))
        .map_err(|e| ModelError::Safetensors { path: path.to_path_buf(), reason: e.to_string() })?;
    Ok(entropo_core::io::write_atomic(path, &out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_mismatch_and_missing_tensors_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        let mut t = BTreeMap::new();
        t.insert("a.weight".to_string(), HostTensor { shape: vec![2, 3], data: vec![0.0; 6] });
        save(&path, &t, &BTreeMap::new()).unwrap();
        let mut store = TensorStore::open_dir(dir.path()).unwrap();
        let e = store.take("a.weight", &[3, 2]).unwrap_err().to_string();
        assert!(e.ends_with("tensor a.weight has shape [2, 3], expected [3, 2]"), "{e}");
        let e = store.take("b.weight", &[1]).unwrap_err().to_string();
        assert!(e.ends_with("missing tensor b.weight"), "{e}");
    }

    #[test]
    fn half_precision_is_widened() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.safetensors");
        let vals = [1.5f32, -2.25];
        let data: Vec<u8> = vals.iter().flat_map(|v| bf16::from_f32(*v).to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(Dtype::BF16, vec![2], &data).unwrap();
        std::fs::write(&path, safetensors::serialize(vec![("x", view)], None).unwrap()).unwrap();
        let mut store = TensorStore::open_file(&path).unwrap();
        assert_eq!(store.take("x", &[2]).unwrap().data, vals);
    }

    #[test]
    fn garbage_is_a_safetensors_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.safetensors");
        std::fs::write(&path, b"not a safetensors file").unwrap();
        let e = TensorStore::open_dir(dir.path()).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: not a readable safetensors file", path.display())), "{e}");
    }
}
