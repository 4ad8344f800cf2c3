//! Writing a model folder atomically: everything goes into a hidden staging
//! folder next to the destination, which is renamed into place at the end,
//! so the destination never holds a half-written model.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::GgufError;

/// A staging folder for `dest`, removed on drop unless committed.
pub(crate) struct Staging {
    dir: tempfile::TempDir,
    dest: PathBuf,
}

impl Staging {
    /// Checks that `dest` is absent or an empty folder, and creates the
    /// staging folder beside it (creating `dest`'s parent if needed).
    pub fn new(dest: &Path) -> Result<Staging, GgufError> {
        let io = |what: &str| {
            let what = what.to_string();
            move |source| GgufError::Io {
                path: dest.to_path_buf(),
                what,
                source,
            }
        };
        match fs::read_dir(dest) {
            Ok(mut entries) => {
                if entries.next().is_some() {
                    return Err(GgufError::OutputExists {
                        path: dest.to_path_buf(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("checking the output folder")(e)),
        }
        let parent = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(io("creating the parent folder"))?;
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = tempfile::Builder::new()
            .prefix(&format!(".{name}.tmp"))
            .tempdir_in(&parent)
            .map_err(io("creating a staging folder"))?;
        Ok(Staging {
            dir,
            dest: dest.to_path_buf(),
        })
    }

    /// The path of `name` inside the staging folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `value` as pretty JSON to `name`.
    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<(), GgufError> {
        let path = self.path(name);
        let io = |source| GgufError::Io {
            path: path.clone(),
            what: "writing".into(),
            source,
        };
        let file = fs::File::create(&path).map_err(io)?;
        let mut out = BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, value).map_err(|e| io(e.into()))?;
        out.write_all(b"\n").map_err(io)?;
        out.flush().map_err(io)
    }

    /// Gives `name` the permissions of `like` (both in the staging folder).
    pub fn copy_permissions(&self, like: &str, name: &str) -> Result<(), GgufError> {
        let path = self.path(name);
        let io = |source| GgufError::Io {
            path: path.clone(),
            what: "setting permissions".into(),
            source,
        };
        let permissions = fs::metadata(self.path(like)).map_err(io)?.permissions();
        fs::set_permissions(&path, permissions).map_err(io)
    }

    /// Moves the staging folder to the destination (replacing it if it is an
    /// empty folder).
    pub fn commit(self) -> Result<(), GgufError> {
        let io = |what: &str| {
            let what = what.to_string();
            let dest = self.dest.clone();
            move |source| GgufError::Io {
                path: dest,
                what,
                source,
            }
        };
        if self.dest.is_dir() {
            fs::remove_dir(&self.dest).map_err(io("replacing the empty output folder"))?;
        }
        let staged = self.dir.keep();
        fs::rename(&staged, &self.dest).map_err(|e| {
            let _ = fs::remove_dir_all(&staged);
            io("moving the staged model into place")(e)
        })
    }
}
