//! quick-xml helpers shared by the zip-based formats: tolerant reader, attributes, text, rels.

use std::borrow::Cow;
use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use crate::ParseError;

/// A reader that does not insist on matching end tags (real files are sometimes sloppy).
pub(crate) fn reader(source: &str) -> Reader<&[u8]> {
    let mut reader = Reader::from_str(source);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.allow_unmatched_ends = true;
    reader
}

/// Reads the next event, turning XML syntax errors into `Corrupt`.
pub(crate) fn next<'a>(
    reader: &mut Reader<&'a [u8]>,
    format: &'static str,
    part: &str,
) -> Result<Event<'a>, ParseError> {
    reader
        .read_event()
        .map_err(|e| ParseError::corrupt(format, format!("invalid XML in {part}: {e}")))
}

/// The local name (without prefix) of an element.
pub(crate) fn local(e: &BytesStart<'_>) -> String {
    let name = e.name();
    let local = name.local_name();
    let s: &str = local.as_ref();
    s.to_string()
}

/// The local name of an end tag.
pub(crate) fn local_end(e: &quick_xml::events::BytesEnd<'_>) -> String {
    let name = e.name();
    let local = name.local_name();
    let s: &str = local.as_ref();
    s.to_string()
}

/// An attribute by its full name (`r:id`), unescaped.
pub(crate) fn attr(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| AsRef::<str>::as_ref(&a.key) == key)
        .map(|a| value(&a))
}

/// An attribute by its local name, whatever its prefix (`val` matches `w:val`).
pub(crate) fn attr_local(e: &BytesStart<'_>, key: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| AsRef::<str>::as_ref(&a.key.local_name()) == key)
        .map(|a| value(&a))
}

fn value(a: &quick_xml::events::attributes::Attribute<'_>) -> String {
    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .map(Cow::into_owned)
        .unwrap_or_else(|_| a.value.to_string())
}

/// The text an event carries: character data, CDATA or a resolved entity reference.
pub(crate) fn text_of(event: &Event<'_>) -> Option<String> {
    match event {
        Event::Text(t) => Some(t.xml10_content().into_owned()),
        Event::CData(c) => Some(c.xml10_content().into_owned()),
        Event::GeneralRef(r) => {
            if let Ok(Some(c)) = r.resolve_char_ref() {
                return Some(c.to_string());
            }
            let name = r.borrow().into_inner();
            Some(match quick_xml::escape::resolve_predefined_entity(&name) {
                Some(s) => s.to_string(),
                None => crate::html::decode_entities(&format!("&{name};")),
            })
        }
        _ => None,
    }
}

/// One relationship of an OPC `.rels` part.
pub(crate) struct Rel {
    pub(crate) target: String,
    pub(crate) kind: String,
    pub(crate) external: bool,
}

/// Parses a `.rels` part into Id → relationship.
pub(crate) fn parse_rels(
    source: &str,
    format: &'static str,
) -> Result<HashMap<String, Rel>, ParseError> {
    let mut rels = HashMap::new();
    let mut reader = reader(source);
    loop {
        match next(&mut reader, format, "relationships")? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "Relationship" => {
                if let (Some(id), Some(target)) = (attr(&e, "Id"), attr(&e, "Target")) {
                    let kind = attr(&e, "Type").unwrap_or_default();
                    let external =
                        attr(&e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("External"));
                    rels.insert(
                        id,
                        Rel {
                            target,
                            kind,
                            external,
                        },
                    );
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(rels)
}

/// The `.rels` part that belongs to a part: `a/b.xml` → `a/_rels/b.xml.rels`.
pub(crate) fn rels_path(part: &str) -> String {
    match part.rsplit_once('/') {
        Some((dir, file)) => format!("{dir}/_rels/{file}.rels"),
        None => format!("_rels/{part}.rels"),
    }
}

/// Resolves a relationship target against the folder of the part that refers to it.
pub(crate) fn resolve(base_part: &str, target: &str) -> String {
    let target = percent_decode(target);
    let target = target.split('#').next().unwrap_or("");
    let mut parts: Vec<&str> = if let Some(absolute) = target.strip_prefix('/') {
        return normalize(absolute.split('/').collect());
    } else {
        base_part
            .rsplit_once('/')
            .map(|(dir, _)| dir.split('/').collect())
            .unwrap_or_default()
    };
    parts.extend(target.split('/'));
    normalize(parts)
}

fn normalize(parts: Vec<&str>) -> String {
    let mut out: Vec<&str> = Vec::new();
    for p in parts {
        match p {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            _ => out.push(p),
        }
    }
    out.join("/")
}

fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_targets() {
        assert_eq!(
            resolve("ppt/presentation.xml", "slides/slide1.xml"),
            "ppt/slides/slide1.xml"
        );
        assert_eq!(
            resolve("ppt/slides/slide1.xml", "../notesSlides/n1.xml"),
            "ppt/notesSlides/n1.xml"
        );
        assert_eq!(
            resolve("xl/workbook.xml", "/xl/worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(
            resolve("OEBPS/content.opf", "text/ch%201.xhtml#x"),
            "OEBPS/text/ch 1.xhtml"
        );
        assert_eq!(
            rels_path("word/document.xml"),
            "word/_rels/document.xml.rels"
        );
    }
}
