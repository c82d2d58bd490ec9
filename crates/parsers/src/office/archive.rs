//! Bounded reading of zip-based documents: every entry is read through a cap and counted against
//! one unpacked-bytes budget, so a small file that inflates to gigabytes fails fast.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use zip::result::ZipError;
use zip::ZipArchive;

use crate::{Deadline, Limits, ParseError};

/// A zip archive opened for bounded reads. Nested archives are never opened.
pub(crate) struct Archive<'a> {
    zip: ZipArchive<Cursor<&'a [u8]>>,
    exact: HashMap<String, usize>,
    folded: HashMap<String, usize>,
    remaining: u64,
    limit: u64,
    format: &'static str,
}

impl<'a> Archive<'a> {
    pub(crate) fn open(
        bytes: &'a [u8],
        limits: &Limits,
        format: &'static str,
    ) -> Result<Self, ParseError> {
        let zip = ZipArchive::new(Cursor::new(bytes)).map_err(|e| zip_error(format, e))?;
        if zip.len() > limits.max_archive_entries {
            return Err(ParseError::TooManyEntries {
                count: zip.len(),
                limit: limits.max_archive_entries,
            });
        }
        let mut exact = HashMap::new();
        let mut folded = HashMap::new();
        for (i, raw) in zip.file_names_raw().enumerate() {
            let name = String::from_utf8_lossy(raw).replace('\\', "/");
            folded.entry(name.to_lowercase()).or_insert(i);
            exact.entry(name).or_insert(i);
        }
        Ok(Archive {
            zip,
            exact,
            folded,
            remaining: limits.max_unpacked_bytes,
            limit: limits.max_unpacked_bytes,
            format,
        })
    }

    /// Whether an entry exists (names compared exactly, then case-insensitively).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.index_of(name).is_some()
    }

    fn index_of(&self, name: &str) -> Option<usize> {
        let name = name.trim_start_matches('/');
        self.exact
            .get(name)
            .or_else(|| self.folded.get(&name.to_lowercase()))
            .copied()
    }

    /// The bytes of an entry, or `None` if it does not exist.
    pub(crate) fn read(
        &mut self,
        name: &str,
        deadline: &Deadline,
    ) -> Result<Option<Vec<u8>>, ParseError> {
        let Some(index) = self.index_of(name) else {
            return Ok(None);
        };
        let (format, limit, remaining) = (self.format, self.limit, self.remaining);
        let file = self.zip.by_index(index).map_err(|e| zip_error(format, e))?;
        // Declared sizes can lie, but an honest large one lets us refuse before inflating.
        if file.size() > remaining {
            return Err(ParseError::ArchiveBomb { limit });
        }
        let mut capped = file.take(remaining + 1);
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            let n = capped
                .read(&mut chunk)
                .map_err(|e| ParseError::corrupt(format, format!("cannot unpack {name}: {e}")))?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&chunk[..n]);
            if out.len() as u64 > remaining {
                return Err(ParseError::ArchiveBomb { limit });
            }
            deadline.check()?;
        }
        self.remaining -= out.len() as u64;
        Ok(Some(out))
    }

    /// An entry as text (UTF-8, BOM stripped, invalid bytes replaced), or `None` if missing.
    pub(crate) fn read_text(
        &mut self,
        name: &str,
        deadline: &Deadline,
    ) -> Result<Option<String>, ParseError> {
        Ok(self
            .read(name, deadline)?
            .map(|bytes| crate::text::decode_lenient(&bytes)))
    }

    /// An entry that must exist.
    pub(crate) fn require_text(
        &mut self,
        name: &str,
        deadline: &Deadline,
    ) -> Result<String, ParseError> {
        let format = self.format;
        self.read_text(name, deadline)?
            .ok_or_else(|| ParseError::corrupt(format, format!("the part {name} is missing")))
    }
}

fn zip_error(format: &'static str, e: ZipError) -> ParseError {
    match e {
        ZipError::UnsupportedArchive(msg) if msg.to_ascii_lowercase().contains("password") => {
            ParseError::Encrypted { format }
        }
        other => ParseError::corrupt(format, format!("not a readable ZIP archive ({other})")),
    }
}
