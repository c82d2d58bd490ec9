//! Bounds what a PDF's compressed streams unpack to, before lopdf inflates them whole in memory.
//!
//! lopdf decodes a stream in one go (`Stream::decompressed_content`, no size cap): object streams
//! (`/Type /ObjStm`) and cross-reference streams already inside `Document::load_mem`; page
//! contents, forms, fonts, CMaps, colour profiles and even images (pdf-extract runs `Do` on any
//! XObject) during extraction. A file within `Limits::max_bytes` can hold a FlateDecode stream
//! that inflates to gigabytes, so two passes measure first, each decoding into a counting sink
//! (one buffer, never the stream) and failing with [`ParseError::PdfBomb`] once the running
//! total passes `Limits::max_unpacked_bytes`:
//!
//! - [`scan_raw`], on the raw bytes before `load_mem`: the data after every `stream` keyword that
//!   is a zlib stream (nested zlib included), plus LZW and lopdf's raw-deflate fallback where the
//!   dictionary just before names `/LZWDecode` or `/FlateDecode`. This is what bounds load-time
//!   inflation, which no pass over a loaded document can. It cannot see streams whose first
//!   filter is another one (`/ASCII85Decode` then Flate) nor encrypted data (lopdf decrypts, then
//!   inflates object streams at load time).
//! - [`check_loaded`], on the loaded document: every stream whose filter chain contains
//!   FlateDecode or LZWDecode, decoded along its chain as lopdf will decode it (names resolved,
//!   decrypted). Object streams lopdf already inflated no longer carry a filter.
//!
//! Each pass compares its own total with the limit; both measure the same thing (what the
//! compressed streams unpack to), the first approximately and cheaply, the second exactly.

use std::borrow::Cow;
use std::io::{self, Read, Write};

// The `bufread` decoders read a slice in place; `read::ZlibDecoder` only wraps another decoder.
use flate2::bufread::{DeflateDecoder, ZlibDecoder};
use pdf_extract::{Dictionary, Document, Object, Stream};

use crate::{Deadline, ParseError};

/// Deepest zlib-inside-zlib nesting the raw scan follows.
const MAX_NESTING: usize = 4;
/// How far before a `stream` keyword the raw scan looks for its dictionary's filter names.
const DICT_LOOKBACK: usize = 4096;

/// Fails if the data after the `stream` keywords of `bytes` unpacks to more than the limit.
pub(super) fn scan_raw(bytes: &[u8], limit: u64, deadline: &Deadline) -> Result<(), ParseError> {
    let mut budget = Budget::new(limit, deadline);
    let mut dict_from = 0;
    let mut at = 0;
    while let Some(found) = find(&bytes[at..], b"stream") {
        let keyword = at + found;
        at = keyword + b"stream".len();
        if bytes[..keyword].ends_with(b"end") {
            dict_from = at;
            continue;
        }
        let Some(start) = data_start(bytes, at) else {
            continue;
        };
        deadline.check()?;
        // The lookback never reaches behind the previous keyword, so the scan stays linear.
        let dict = decode_name_escapes(
            &bytes[dict_from.max(keyword.saturating_sub(DICT_LOOKBACK))..keyword],
        );
        dict_from = start;
        let data = &bytes[start..];
        let mut read = 0;
        let zlib = data.len() >= 2 && is_zlib_header(data[0], data[1]);
        for depth in (1..=MAX_NESTING).take_while(|_| zlib) {
            let (n, _) = budget.drain(nested_zlib(data, depth))?;
            read += n;
            if n < 2 || !budget.last_starts_zlib {
                break;
            }
        }
        let flate = find(&dict, b"/FlateDecode").is_some();
        if read == 0 && flate && data.len() > 2 {
            budget.drain(DeflateDecoder::new(&data[2..]))?;
        }
        if find(&dict, b"/LZWDecode").is_some() {
            let early_change = find(&dict, b"/EarlyChange 0").is_none();
            budget.drain_lzw(data, early_change)?;
        }
    }
    Ok(())
}

/// Fails if the streams of `doc` that lopdf would inflate unpack to more than the limit.
pub(super) fn check_loaded(
    doc: &Document,
    limit: u64,
    deadline: &Deadline,
) -> Result<(), ParseError> {
    let mut budget = Budget::new(limit, deadline);
    for object in doc.objects.values() {
        let Object::Stream(stream) = object else {
            continue;
        };
        let Ok(filters) = stream.filters() else {
            continue;
        };
        // lopdf decodes the chain in order and stops at the first filter it lacks.
        let supported = filters
            .iter()
            .take_while(|f| matches!(**f, b"FlateDecode" | b"LZWDecode" | b"ASCII85Decode"))
            .count();
        let Some(last) = filters[..supported]
            .iter()
            .rposition(|f| matches!(*f, b"FlateDecode" | b"LZWDecode"))
        else {
            continue;
        };
        deadline.check()?;
        let params = stream
            .dict
            .get(b"DecodeParms")
            .and_then(Object::as_dict)
            .ok();
        let mut input = Cow::Borrowed(stream.content.as_slice());
        for filter in &filters[..last] {
            let output = budget.decode_stage(filter, &input, params)?;
            input = Cow::Owned(output);
        }
        budget.drain_stage(filters[last], &input, params)?;
    }
    Ok(())
}

/// A running total of unpacked bytes against the limit, with the deadline checked as it grows.
struct Budget<'d> {
    limit: u64,
    used: u64,
    deadline: &'d Deadline,
    /// Whether the output of the last [`Budget::drain`] began with a zlib header.
    last_starts_zlib: bool,
    /// Where [`Budget::drain`] reads to; kept, as a file may hold many small streams.
    buf: Vec<u8>,
}

impl<'d> Budget<'d> {
    fn new(limit: u64, deadline: &'d Deadline) -> Self {
        Budget {
            limit,
            used: 0,
            deadline,
            last_starts_zlib: false,
            buf: vec![0; 64 * 1024],
        }
    }

    fn bomb(&self) -> ParseError {
        ParseError::PdfBomb { limit: self.limit }
    }

    /// Reads `reader` to its end or first error, counting the bytes; returns them and whether it
    /// failed (a corrupt stream is not our concern here: lopdf keeps what decoded).
    fn drain(&mut self, reader: impl Read) -> Result<(u64, bool), ParseError> {
        let mut reader = reader.take((self.limit - self.used).saturating_add(1));
        let mut read = 0u64;
        self.last_starts_zlib = false;
        loop {
            let n = match reader.read(&mut self.buf) {
                Ok(0) => return Ok((read, false)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Ok((read, true)),
            };
            if read == 0 && n >= 2 {
                self.last_starts_zlib = is_zlib_header(self.buf[0], self.buf[1]);
            }
            read += n as u64;
            self.add(n as u64)?;
        }
    }

    fn add(&mut self, n: u64) -> Result<(), ParseError> {
        self.used += n;
        if self.used > self.limit {
            return Err(self.bomb());
        }
        self.deadline.check()
    }

    /// Counts what LZW decoding of `data` produces, as lopdf configures weezl.
    fn drain_lzw(&mut self, data: &[u8], early_change: bool) -> Result<u64, ParseError> {
        let mut decoder = lzw_decoder(early_change);
        let mut sink = CountingSink {
            budget: self,
            written: 0,
            stopped: None,
        };
        // An LZW error only ends the stream; lopdf keeps (and we count) what came before it.
        let _ = decoder.into_stream(&mut sink).decode_all(data);
        match sink.stopped.take() {
            Some(e) => Err(e),
            None => Ok(sink.written),
        }
    }

    /// Counts the output of the last stage lopdf runs on a stream.
    fn drain_stage(
        &mut self,
        filter: &[u8],
        input: &[u8],
        params: Option<&Dictionary>,
    ) -> Result<(), ParseError> {
        match filter {
            b"FlateDecode" => {
                let (n, failed) = self.drain(ZlibDecoder::new(input))?;
                // lopdf retries a failed zlib stream as raw deflate after its 2-byte header.
                if failed && n == 0 && input.len() > 2 {
                    self.drain(DeflateDecoder::new(&input[2..]))?;
                }
            }
            b"LZWDecode" => {
                self.drain_lzw(input, early_change(params))?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Decodes a stage before the last, held in memory as lopdf holds it, capped by the budget
    /// left (its output is not added: the last stage's output is what lopdf returns).
    fn decode_stage(
        &mut self,
        filter: &[u8],
        input: &[u8],
        params: Option<&Dictionary>,
    ) -> Result<Vec<u8>, ParseError> {
        let cap = self.limit - self.used;
        let mut output = Vec::new();
        match filter {
            b"FlateDecode" => {
                let failed = ZlibDecoder::new(input)
                    .take(cap.saturating_add(1))
                    .read_to_end(&mut output)
                    .is_err();
                if failed && output.is_empty() && input.len() > 2 {
                    let _ = DeflateDecoder::new(&input[2..])
                        .take(cap.saturating_add(1))
                        .read_to_end(&mut output);
                }
            }
            b"LZWDecode" => {
                let mut sink = CappedVec {
                    out: &mut output,
                    cap,
                };
                let _ = lzw_decoder(early_change(params))
                    .into_stream(&mut sink)
                    .decode_all(input);
            }
            _ => {
                // ASCII85 yields at most 4 bytes per input byte: decode it with lopdf itself.
                let mut dict = Dictionary::new();
                dict.set("Filter", Object::Name(filter.to_vec()));
                output = Stream::new(dict, input.to_vec())
                    .decompressed_content()
                    .unwrap_or_default();
            }
        }
        if output.len() as u64 > cap {
            return Err(self.bomb());
        }
        self.deadline.check()?;
        Ok(output)
    }
}

/// A `Write` that only counts, failing once the budget is spent (or the deadline passed).
struct CountingSink<'b, 'd> {
    budget: &'b mut Budget<'d>,
    written: u64,
    stopped: Option<ParseError>,
}

impl Write for CountingSink<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Err(e) = self.budget.add(buf.len() as u64) {
            self.stopped = Some(e);
            return Err(io::Error::other("unpacked-size limit reached"));
        }
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A `Write` into a vector that refuses to grow past `cap + 1` bytes.
struct CappedVec<'v> {
    out: &'v mut Vec<u8>,
    cap: u64,
}

impl Write for CappedVec<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.out.len() as u64 > self.cap {
            return Err(io::Error::other("unpacked-size limit reached"));
        }
        self.out.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// lopdf's LZW set-up: MSB-first, 8-bit literals, the TIFF-style early code-size switch unless
/// `/EarlyChange 0`.
fn lzw_decoder(early_change: bool) -> weezl::decode::Decoder {
    use weezl::{decode::Decoder, BitOrder};
    if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    }
}

fn early_change(params: Option<&Dictionary>) -> bool {
    params
        .and_then(|p| p.get(b"EarlyChange").ok())
        .and_then(|v| v.as_i64().ok())
        .is_none_or(|v| v != 0)
}

/// `data` inflated `depth` times over, as one reader.
fn nested_zlib(data: &[u8], depth: usize) -> Box<dyn Read + '_> {
    let mut reader: Box<dyn Read> = Box::new(ZlibDecoder::new(data));
    for _ in 1..depth {
        reader = Box::new(flate2::read::ZlibDecoder::new(reader));
    }
    reader
}

/// A zlib header: deflate method, a window of at most 32 KiB, and a valid check value.
fn is_zlib_header(cmf: u8, flg: u8) -> bool {
    cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(cmf) << 8 | u16::from(flg)) % 31 == 0
}

/// Where a stream's data starts after its `stream` keyword (which ends at `at`): lopdf allows
/// spaces and tabs, then one end of line.
fn data_start(bytes: &[u8], mut at: usize) -> Option<usize> {
    while matches!(bytes.get(at), Some(b' ' | b'\t')) {
        at += 1;
    }
    match bytes.get(at..at + 2) {
        Some(b"\r\n") => Some(at + 2),
        _ => matches!(bytes.get(at), Some(b'\n' | b'\r')).then_some(at + 1),
    }
}

/// Name escapes (`/Fl#61teDecode`) resolved, so a scan for filter names sees what lopdf sees.
fn decode_name_escapes(text: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'#' && i + 2 < text.len() {
            if let (Some(h), Some(l)) = (hex(text[i + 1]), hex(text[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn raw_pdf(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut out = format!(
            "%PDF-1.5\n1 0 obj\n<< {dict} /Length {} >>\nstream\n",
            data.len()
        )
        .into_bytes();
        out.extend_from_slice(data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        out
    }

    fn scan(bytes: &[u8], limit: u64) -> Result<(), ParseError> {
        scan_raw(bytes, limit, &Deadline::after(Duration::from_secs(30)))
    }

    #[test]
    fn raw_scan_counts_zlib_streams_against_the_limit() {
        let pdf = raw_pdf("/Filter /FlateDecode", &zlib(&[b' '; 100_000]));
        assert!(scan(&pdf, 100_000).is_ok());
        assert_eq!(
            scan(&pdf, 99_999),
            Err(ParseError::PdfBomb { limit: 99_999 })
        );
    }

    #[test]
    fn raw_scan_follows_nested_zlib_and_escaped_lzw_names() {
        let double = raw_pdf(
            "/Filter [/FlateDecode /FlateDecode]",
            &zlib(&zlib(&[0; 200_000])),
        );
        assert_eq!(
            scan(&double, 150_000),
            Err(ParseError::PdfBomb { limit: 150_000 })
        );
        let mut encoder = weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
        let lzw = encoder.encode(&[b'a'; 200_000]).unwrap();
        let pdf = raw_pdf("/Type /ObjStm /Filter /LZW#44ecode", &lzw);
        assert_eq!(
            scan(&pdf, 150_000),
            Err(ParseError::PdfBomb { limit: 150_000 })
        );
        assert!(scan(&pdf, 250_000).is_ok());
    }

    #[test]
    fn raw_scan_ignores_uncompressed_streams_and_endstream() {
        let pdf = raw_pdf("", &[b'x'; 10_000]);
        assert!(scan(&pdf, 10).is_ok());
    }

    #[test]
    fn loaded_check_decodes_ascii85_then_flate_chains() {
        let mut dict = Dictionary::new();
        dict.set(
            "Filter",
            Object::Array(vec![
                Object::Name(b"ASCII85Decode".to_vec()),
                Object::Name(b"FlateDecode".to_vec()),
            ]),
        );
        let inflated = zlib(&[0; 300_000]);
        let mut ascii85 = Vec::new();
        for chunk in inflated.chunks(4) {
            let mut word = [0u8; 4];
            word[..chunk.len()].copy_from_slice(chunk);
            let mut v = u32::from_be_bytes(word);
            let mut digits = [0u8; 5];
            for d in digits.iter_mut().rev() {
                *d = (v % 85) as u8 + b'!';
                v /= 85;
            }
            ascii85.extend_from_slice(&digits[..chunk.len() + 1]);
        }
        ascii85.extend_from_slice(b"~>");
        let mut doc = Document::with_version("1.5");
        doc.add_object(Stream::new(dict, ascii85));
        let deadline = Deadline::after(Duration::from_secs(30));
        assert!(check_loaded(&doc, 300_000, &deadline).is_ok());
        assert_eq!(
            check_loaded(&doc, 299_999, &deadline),
            Err(ParseError::PdfBomb { limit: 299_999 })
        );
    }
}
