//! Finding the files `insert` was given: folders are walked for the file types the parsers
//! read (reading and parsing is `lightrag_server::file_text`, shared with the server).

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// A file found under an inserted path, with the key it is known by.
#[derive(Debug, Clone)]
pub struct Found {
    pub path: PathBuf,
    /// The path relative to the inserted folder (or the file name for a file argument).
    pub key: String,
}

/// Walks the given paths. A path that does not exist fails the whole command (before any work).
/// Returns the files and the skipped ones (unsupported extension).
pub fn collect(paths: &[PathBuf]) -> Result<(Vec<Found>, Vec<PathBuf>)> {
    for p in paths {
        if !p.exists() {
            bail!("{}: no such file or directory", p.display());
        }
    }
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, p, &mut found, &mut skipped)?;
        } else {
            let key = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| p.to_string_lossy().into_owned());
            found.push(Found {
                path: p.clone(),
                key,
            });
        }
    }
    found.sort_by(|a, b| a.key.cmp(&b.key));
    Ok((found, skipped))
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<Found>, skipped: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, found, skipped)?;
        } else if is_supported(&path) {
            let key = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            found.push(Found { path, key });
        } else {
            skipped.push(path);
        }
    }
    Ok(())
}

/// Whether `insert` reads this file (PDF, Office, HTML, RTF, text and source types).
fn is_supported(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(lightrag_server::file_text::is_supported)
}
