//! PDF writers: Helvetica with WinAnsi encoding, one text object per line, exact xref offsets.

use std::fs;
use std::io;
use std::path::Path;

use flate2::{Compress, Compression, FlushCompress};

/// A PDF with one page per entry of `pages`, each line of a page as its own text object.
pub fn write_pdf(path: impl AsRef<Path>, pages: &[&[&str]]) -> io::Result<()> {
    let contents: Vec<Vec<u8>> = pages.iter().map(|lines| text_content(lines)).collect();
    fs::write(path, pdf_document(&contents, PageKind::Text, false))
}

/// A one-page PDF whose FlateDecode content stream inflates to `unpacked_bytes` of NUL bytes
/// (whitespace in a content stream): a decompression bomb of about 1/1000 of that size.
pub fn write_flate_bomb_pdf(path: impl AsRef<Path>, unpacked_bytes: u64) -> io::Result<()> {
    let bomb = zlib_of_zeros(unpacked_bytes)?;
    fs::write(path, pdf_document(&[bomb], PageKind::FlateText, false))
}

/// A zlib stream of `len` zeros, built from one compressed 1 MiB block repeated: each block is
/// sync-flushed by a fresh compressor, so it refers to nothing before it and ends byte-aligned.
fn zlib_of_zeros(len: u64) -> io::Result<Vec<u8>> {
    const BLOCK: u64 = 1 << 20;
    let block = |n: u64| -> io::Result<Vec<u8>> {
        let zeros = vec![0u8; n as usize];
        // Deflate gains at most about 1032:1, so this capacity holds the whole block.
        let mut out = Vec::with_capacity(n as usize / 512 + 64);
        let mut compress = Compress::new(Compression::best(), false);
        compress
            .compress_vec(&zeros, &mut out, FlushCompress::Sync)
            .map_err(io::Error::other)?;
        if compress.total_in() != n {
            return Err(io::Error::other("the deflate block did not fit its buffer"));
        }
        Ok(out)
    };
    let mut out = vec![0x78, 0xda];
    let full = block(BLOCK)?;
    for _ in 0..len / BLOCK {
        out.extend_from_slice(&full);
    }
    if !len.is_multiple_of(BLOCK) {
        out.extend_from_slice(&block(len % BLOCK)?);
    }
    // An empty final block, then Adler-32 of the zeros: A stays 1, B adds 1 per byte.
    out.extend_from_slice(&[0x03, 0x00]);
    let adler = ((len % 65_521) as u32) << 16 | 1;
    out.extend_from_slice(&adler.to_be_bytes());
    Ok(out)
}

/// A PDF whose pages only paint an image: no text layer, as a scan has.
pub fn write_scanned_pdf(path: impl AsRef<Path>, pages: usize) -> io::Result<()> {
    let contents: Vec<Vec<u8>> = (0..pages.max(1))
        .map(|_| b"q 200 0 0 200 72 500 cm /Im1 Do Q\n".to_vec())
        .collect();
    fs::write(path, pdf_document(&contents, PageKind::Image, false))
}

/// A one-page PDF with an `/Encrypt` dictionary in its trailer (standard handler, unknown password).
pub fn write_encrypted_pdf(path: impl AsRef<Path>) -> io::Result<()> {
    let contents = vec![text_content(&["Secret text"])];
    fs::write(path, pdf_document(&contents, PageKind::Text, true))
}

#[derive(Clone, Copy, PartialEq)]
enum PageKind {
    Text,
    /// Text whose content streams are already zlib data.
    FlateText,
    Image,
}

fn text_content(lines: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let y = 720 - 18 * i as i64;
        out.extend_from_slice(format!("BT /F1 12 Tf 72 {y} Td (").as_bytes());
        let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(line);
        for &b in encoded.iter() {
            match b {
                b'(' | b')' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                0x20..=0x7e => out.push(b),
                _ => out.extend_from_slice(format!("\\{b:03o}").as_bytes()),
            }
        }
        out.extend_from_slice(b") Tj ET\n");
    }
    out
}

/// Objects: 1 catalog, 2 page tree, 3 font, 4 image, then a page and its content per page.
fn pdf_document(contents: &[Vec<u8>], kind: PageKind, encrypted: bool) -> Vec<u8> {
    let n = contents.len();
    let page_id = |i: usize| 5 + 2 * i;
    let mut objects: Vec<Vec<u8>> = Vec::new();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", page_id(i))).collect();
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    objects.push(stream(
        b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8",
        &[0x20, 0xe0, 0xe0, 0x20],
    ));
    for (i, content) in contents.iter().enumerate() {
        let resources = match kind {
            PageKind::Text | PageKind::FlateText => "<< /Font << /F1 3 0 R >> >>",
            PageKind::Image => "<< /XObject << /Im1 4 0 R >> >>",
        };
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources {resources} /Contents {} 0 R >>",
                page_id(i) + 1
            )
            .into_bytes(),
        );
        let dict: &[u8] = match kind {
            PageKind::FlateText => b"/Filter /FlateDecode",
            PageKind::Text | PageKind::Image => b"",
        };
        objects.push(stream(dict, content));
    }
    let mut trailer_extra = String::new();
    if encrypted {
        let o = "7a".repeat(32);
        let u = "c3".repeat(32);
        objects.push(
            format!("<< /Filter /Standard /V 1 /R 2 /O <{o}> /U <{u}> /P -44 >>").into_bytes(),
        );
        trailer_extra = format!(
            " /Encrypt {} 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]",
            objects.len()
        );
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn stream(dict: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = b"<< ".to_vec();
    out.extend_from_slice(dict);
    out.extend_from_slice(format!(" /Length {} >>\nstream\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}
