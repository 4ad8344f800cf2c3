//! Paths as R2E's Python sees them (`pathlib.Path` spelling, relative to the
//! mount), confined to the workspace.

use std::io;

/// `str(pathlib.PurePosixPath(p))`: repeated slashes and `.` parts dropped,
/// no trailing slash, `..` kept.
///
/// ```
/// use entropo_tools_wasm::paths::py_path_str;
/// assert_eq!(py_path_str("/testbed//a/./b/"), "/testbed/a/b");
/// assert_eq!(py_path_str("./x.py"), "x.py");
/// assert_eq!(py_path_str(""), ".");
/// assert_eq!(py_path_str("a/../b"), "a/../b");
/// ```
pub fn py_path_str(p: &str) -> String {
    let absolute = p.starts_with('/');
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A path named by a call: how R2E prints it, and where it really is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolPath {
    /// `str(Path(arg))`, used in every message.
    pub display: String,
    /// Absolute, lexically normalised path inside the guest.
    pub abs: String,
}

impl ToolPath {
    /// The last component (`Path.name`).
    pub fn name(&self) -> &str {
        self.display.rsplit('/').next().unwrap_or("")
    }

    /// Whether the name ends in `.py` (`Path.suffix == ".py"`).
    pub fn is_py(&self) -> bool {
        let name = self.name();
        matches!(name.rfind('.'), Some(i) if i > 0 && &name[i..] == ".py")
    }
}

/// Why a path was refused before touching the file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outside {
    /// The path as given.
    pub display: String,
    /// The workspace mount.
    pub mount: String,
}

impl Outside {
    /// The message shown to the model.
    pub fn message(&self) -> String {
        format!(
            "Access denied: the path '{}' is outside the workspace {}. Only files under {} can be used.",
            self.display, self.mount, self.mount
        )
    }
}

/// Resolves `arg` against `mount` (the tools' working directory) and checks
/// that it stays inside the workspace (lexically; symlinks pointing out are
/// refused later by WASI itself).
///
/// ```
/// use entropo_tools_wasm::paths::resolve;
/// assert_eq!(resolve("src/a.py", "/testbed").unwrap().abs, "/testbed/src/a.py");
/// assert!(resolve("/etc/passwd", "/testbed").is_err());
/// assert!(resolve("../etc", "/testbed").is_err());
/// assert!(resolve("/testbed2/x", "/testbed").is_err());
/// ```
pub fn resolve(arg: &str, mount: &str) -> Result<ToolPath, Outside> {
    let display = py_path_str(arg);
    let joined = if display.starts_with('/') { display.clone() } else { format!("{mount}/{display}") };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let abs = format!("/{}", parts.join("/"));
    let inside = abs == mount || abs.starts_with(&format!("{}/", mount.trim_end_matches('/')));
    if inside {
        Ok(ToolPath { display, abs })
    } else {
        Err(Outside { display, mount: mount.to_string() })
    }
}

/// Python's spelling of an OS error on `path` (`[Errno 2] No such file or
/// directory: 'x'`); capability errors from WASI (a symlink pointing out of
/// the workspace) are named as such.
pub fn os_error(e: &io::Error, path: &str) -> String {
    let (errno, text) = match e.raw_os_error() {
        // WASI errno values.
        Some(44) => (2, "No such file or directory"),
        Some(2) if cfg!(not(target_os = "wasi")) => (2, "No such file or directory"),
        Some(63) | Some(76) => {
            return format!("Access denied: '{path}' leads outside the workspace (operation not permitted)");
        }
        _ => match e.kind() {
            io::ErrorKind::NotFound => (2, "No such file or directory"),
            io::ErrorKind::PermissionDenied => (13, "Permission denied"),
            io::ErrorKind::IsADirectory => (21, "Is a directory"),
            io::ErrorKind::NotADirectory => (20, "Not a directory"),
            io::ErrorKind::AlreadyExists => (17, "File exists"),
            _ => return format!("{e}: '{path}'"),
        },
    };
    format!("[Errno {errno}] {text}: '{path}'")
}

/// Whether an error means "this escapes the sandbox" (WASI `EPERM`/`ENOTCAPABLE`).
pub fn is_capability_error(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(63) | Some(76)) && cfg!(target_os = "wasi")
}

/// A folder's entries; a folder that cannot be listed (WASI refuses a
/// whole listing holding a file name that is not valid UTF-8) is recorded in
/// `unreadable` as `"<dir> (<error>)"`.
pub fn entries(rd: std::fs::ReadDir, dir: &str, unreadable: &mut Vec<String>) -> Vec<std::fs::DirEntry> {
    let mut out = Vec::new();
    for entry in rd {
        match entry {
            Ok(e) => out.push(e),
            Err(e) => {
                unreadable.push(format!("{dir} ({e})"));
                break;
            }
        }
    }
    out
}

/// The note appended to a listing or search when folders could not be
/// read; empty when all could.
pub fn unreadable_note(unreadable: &[String]) -> String {
    if unreadable.is_empty() {
        return String::new();
    }
    format!(
        "Note: these folders could not be fully listed (file names must be valid UTF-8; rename such files with execute_bash): {}\n",
        unreadable.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix() {
        let p = |s: &str| ToolPath { display: s.into(), abs: s.into() };
        assert!(p("/testbed/a.py").is_py());
        assert!(!p("/testbed/.py").is_py());
        assert!(!p("/testbed/a.txt").is_py());
        assert!(p("/testbed/.a.py").is_py());
    }

    #[test]
    fn resolve_root() {
        assert_eq!(resolve(".", "/testbed").unwrap().abs, "/testbed");
        assert_eq!(resolve("/testbed/", "/testbed").unwrap().display, "/testbed");
        assert_eq!(resolve("/testbed/../testbed/x", "/testbed").unwrap().abs, "/testbed/x");
    }
}
