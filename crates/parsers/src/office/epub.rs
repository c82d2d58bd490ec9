//! EPUB: `META-INF/container.xml` → the OPF package → spine order → each XHTML document through
//! the HTML converter, all into one text.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{self, attr, local, resolve};
use crate::blocks::Blocks;
use crate::{html, Deadline, ParseError, Parsed};

pub(crate) fn parse(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<Parsed, ParseError> {
    let container = archive.require_text("META-INF/container.xml", deadline)?;
    let opf_path = rootfile(&container)?;
    let opf = archive.require_text(&opf_path, deadline)?;
    let chapters = spine(&opf, &opf_path)?;
    let mut blocks = Blocks::new();
    for chapter in &chapters {
        deadline.check()?;
        if let Some(source) = archive.read_text(chapter, deadline)? {
            html::html_into_blocks(&source, &mut blocks, deadline)?;
            blocks.break_run();
        }
    }
    Ok(Parsed {
        text: blocks.finish(),
        format: "epub",
        units: 0,
    })
}

fn rootfile(container: &str) -> Result<String, ParseError> {
    let mut reader = xml::reader(container);
    loop {
        match xml::next(&mut reader, "epub", "META-INF/container.xml")? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "rootfile" => {
                if let Some(path) = attr(&e, "full-path") {
                    return Ok(path.trim_start_matches('/').to_string());
                }
            }
            Event::Eof => {
                return Err(ParseError::corrupt(
                    "epub",
                    "container.xml names no package (OPF) file",
                ))
            }
            _ => {}
        }
    }
}

/// The content documents in reading order.
fn spine(opf: &str, opf_path: &str) -> Result<Vec<String>, ParseError> {
    let mut manifest: HashMap<String, (String, String)> = HashMap::new();
    let mut order = Vec::new();
    let mut reader = xml::reader(opf);
    loop {
        match xml::next(&mut reader, "epub", opf_path)? {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "item" => {
                    if let (Some(id), Some(href)) = (attr(&e, "id"), attr(&e, "href")) {
                        manifest.insert(id, (href, attr(&e, "media-type").unwrap_or_default()));
                    }
                }
                "itemref" => {
                    if let Some(idref) = attr(&e, "idref") {
                        order.push(idref);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(order
        .iter()
        .filter_map(|id| manifest.get(id))
        .filter(|(_, media)| media.is_empty() || media.contains("html") || media.contains("xml"))
        .map(|(href, _)| resolve(opf_path, href))
        .collect())
}
