#![allow(dead_code)]

use std::path::{Path, PathBuf};

use lightrag_parsers::{parse_guarded, Limits, ParseError, Parsed};

pub struct Dir(tempfile::TempDir);

impl Dir {
    pub fn new() -> Self {
        Dir(tempfile::tempdir().expect("temp dir"))
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

/// Parses a file the way a server would (guarded), under the file's own name.
pub fn parse_path(path: &Path) -> Result<Parsed, ParseError> {
    parse_as(
        path,
        path.file_name().unwrap().to_str().unwrap(),
        &Limits::default(),
    )
}

/// Parses the bytes of `path` as if the file were called `name`.
pub fn parse_as(path: &Path, name: &str, limits: &Limits) -> Result<Parsed, ParseError> {
    let bytes = std::fs::read(path).expect("read sample");
    parse_guarded(name, bytes, limits)
}
