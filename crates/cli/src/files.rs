//! Finding and reading the files `insert` was given: folders are walked, each file is checked
//! (size, binary content, UTF-8, emptiness) so that bad input gets a clear message and the
//! other files go on.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

/// File extensions `insert` reads as text.
pub const TEXT_EXTENSIONS: &[&str] = &["txt", "md", "markdown", "mdx", "text", "rst", "log", "csv"];

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
        } else if is_text_file(&path) {
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

fn is_text_file(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| TEXT_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Reads a file as text, or says why it cannot be indexed.
pub fn read_text(path: &Path, max_bytes: u64) -> std::result::Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > max_bytes {
        return Err(format!(
            "the file is {} bytes, over the limit of {max_bytes} (MAX_FILE_BYTES)",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.iter().take(8192).any(|b| *b == 0) {
        return Err("the file is binary (it contains NUL bytes), not text".into());
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not valid UTF-8 (first bad byte at offset {}); convert it to UTF-8",
            e.utf8_error().valid_up_to()
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
    if text.trim().is_empty() {
        return Err("the file is empty".into());
    }
    Ok(text)
}
