//! A file's text, for every way a file gets in (`lightrag insert`, upload, scan): a bounded,
//! link-refusing read, then the document parsers under the configured limits, off the async
//! threads. A failure is a message for the person who gave the file.

use std::path::Path;

use lightrag_core::config::Config;
use lightrag_parsers::{Limits, ParseError};

/// The parsers' limits from the configuration (`MAX_FILE_BYTES`, `MAX_UNPACKED_BYTES`,
/// `PARSE_TIMEOUT`).
pub fn parse_limits(cfg: &Config) -> Limits {
    Limits {
        max_bytes: cfg.max_file_bytes,
        max_unpacked_bytes: cfg.max_unpacked_bytes,
        timeout: cfg.parse_timeout,
        ..Limits::default()
    }
}

/// Whether a file name has an extension this build can read.
pub fn is_supported(name: &str) -> bool {
    lightrag_parsers::is_supported(name)
}

/// The extensions this build reads, lowercase without dots.
pub fn supported_extensions() -> &'static [&'static str] {
    lightrag_parsers::supported_extensions()
}

/// The text of `bytes` named `name`, parsed on a blocking thread under the limits.
pub async fn text_of(name: &str, bytes: Vec<u8>, limits: &Limits) -> Result<String, String> {
    let (name, limits) = (name.to_string(), limits.clone());
    tokio::task::spawn_blocking(move || lightrag_parsers::parse_guarded(&name, bytes, &limits))
        .await
        .map_err(|e| format!("the parser stopped: {e}"))?
        .map(|p| p.text)
        .map_err(|e: ParseError| e.to_string())
}

/// Reads a regular file no larger than `max_bytes`, opened with `O_NOFOLLOW` and checked again
/// on the open descriptor, so a file swapped for a link or a device between listing and reading
/// is refused. Returns the bytes.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = opts.open(path).map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "the file is {} bytes, over the limit of {max_bytes} (MAX_FILE_BYTES)",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "the file grew past the limit of {max_bytes} bytes (MAX_FILE_BYTES) while it was read"
        ));
    }
    Ok(bytes)
}

/// A file's text: read (bounded, no links), then parsed. Also returns the file's size, for
/// the status row of a file that fails.
pub async fn read_file_text(path: &Path, limits: &Limits) -> (u64, Result<String, String>) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (p, max) = (path.to_path_buf(), limits.max_bytes);
    let bytes = match tokio::task::spawn_blocking(move || read_regular_file(&p, max)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return (0, Err(e)),
        Err(e) => return (0, Err(format!("cannot read: {e}"))),
    };
    let size = bytes.len() as u64;
    (size, text_of(&name, bytes, limits).await)
}
