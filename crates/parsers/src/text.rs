//! Plain-text types: BOM handling, UTF-16, and the checks that keep binary files out.

use crate::{Deadline, ParseError, Parsed};

/// Decodes a text file strictly: UTF-8 (BOM stripped) or UTF-16 with a BOM; NUL bytes mean binary.
pub(crate) fn parse_text(
    extension: &str,
    bytes: &[u8],
    deadline: &Deadline,
) -> Result<Parsed, ParseError> {
    deadline.check()?;
    let text = match utf16_with_bom(bytes) {
        Some(decoded) => decoded,
        None => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            if body.contains(&0) {
                return Err(ParseError::Binary {
                    extension: extension.to_string(),
                });
            }
            match std::str::from_utf8(body) {
                Ok(s) => s.to_string(),
                Err(e) => {
                    let offset = e.valid_up_to() + (bytes.len() - body.len());
                    return Err(ParseError::NotUtf8 { offset });
                }
            }
        }
    };
    if text.contains('\0') {
        return Err(ParseError::Binary {
            extension: extension.to_string(),
        });
    }
    let text = normalize_newlines(&text);
    if text.trim().is_empty() {
        return Err(ParseError::Empty {
            format: Some("text"),
        });
    }
    Ok(Parsed {
        text,
        format: "text",
        units: 0,
    })
}

/// Decodes markup leniently: a BOM wins, then UTF-8, then the `charset` the document declares,
/// then windows-1252.
pub(crate) fn decode_lenient(bytes: &[u8]) -> String {
    if let Some(decoded) = utf16_with_bom(bytes) {
        return decoded;
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(s) = std::str::from_utf8(body) {
        return s.to_string();
    }
    let encoding = declared_charset(body).unwrap_or(encoding_rs::WINDOWS_1252);
    encoding.decode_without_bom_handling(body).0.into_owned()
}

fn utf16_with_bom(bytes: &[u8]) -> Option<String> {
    let (big_endian, body) = if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        (false, rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        (true, rest)
    } else {
        return None;
    };
    let units = body.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    Some(
        char::decode_utf16(units)
            .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
            .collect(),
    )
}

/// Finds `charset=NAME` in the first KiB (HTML meta or XML declaration `encoding=`).
fn declared_charset(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    let start = head
        .find("charset=")
        .map(|i| i + 8)
        .or_else(|| head.find("encoding=").map(|i| i + 9))?;
    let label: String = head[start..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        .collect();
    encoding_rs::Encoding::for_label(label.as_bytes())
}

/// `\r\n` and lone `\r` become `\n`.
pub(crate) fn normalize_newlines(text: &str) -> String {
    if text.contains('\r') {
        text.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn run(bytes: &[u8]) -> Result<Parsed, ParseError> {
        parse_text("txt", bytes, &Deadline::after(Duration::from_secs(10)))
    }

    #[test]
    fn decodes_boms_and_rejects_bad_bytes() {
        assert_eq!(run(b"\xEF\xBB\xBFhi\r\nthere").unwrap().text, "hi\nthere");
        assert_eq!(run(b"\xFF\xFEh\0i\0").unwrap().text, "hi");
        assert_eq!(run(b"\xFE\xFF\0h\0i").unwrap().text, "hi");
        assert!(matches!(run(b"ab\0cd"), Err(ParseError::Binary { .. })));
        assert_eq!(run(b"abc\xFFdef"), Err(ParseError::NotUtf8 { offset: 3 }));
        assert_eq!(
            run(b"  \n\t "),
            Err(ParseError::Empty {
                format: Some("text")
            })
        );
    }

    #[test]
    fn lenient_decoding_falls_back_to_cp1252_or_declared_charset() {
        assert_eq!(decode_lenient(b"caf\xE9"), "café");
        assert_eq!(
            decode_lenient(b"<meta charset=\"windows-1251\">\xCF"),
            "<meta charset=\"windows-1251\">П"
        );
    }
}
