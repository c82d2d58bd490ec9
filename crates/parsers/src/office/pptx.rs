//! PPTX: slides in `sldIdLst` order, each under a `[slide N]` marker: the title first, then the
//! other shapes' text (tables as `cell | cell` rows), then the speaker notes as `Notes: ...`.

use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{
    self, attr, attr_local, local, local_end, parse_rels, rels_path, resolve, text_of,
};
use crate::{markers, Deadline, ParseError, Parsed};

const PRESENTATION: &str = "ppt/presentation.xml";

pub(crate) fn parse(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<Parsed, ParseError> {
    let presentation = archive.require_text(PRESENTATION, deadline)?;
    let rels_source = archive.require_text(&rels_path(PRESENTATION), deadline)?;
    let rels = parse_rels(&rels_source, "pptx")?;
    let mut slide_parts = Vec::new();
    let mut reader = xml::reader(&presentation);
    loop {
        match xml::next(&mut reader, "pptx", PRESENTATION)? {
            Event::Start(e) | Event::Empty(e) if local(&e) == "sldId" => {
                if let Some(rel) = attr(&e, "r:id")
                    .or_else(|| attr_local(&e, "id"))
                    .and_then(|id| rels.get(&id))
                {
                    slide_parts.push(resolve(PRESENTATION, &rel.target));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut text = String::new();
    for (i, part) in slide_parts.iter().enumerate() {
        deadline.check()?;
        let Some(source) = archive.read_text(part, deadline)? else {
            continue;
        };
        let mut body = slide_text(&source, part, false, deadline)?;
        if let Some(notes) = notes_text(archive, part, deadline)? {
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str("Notes: ");
            body.push_str(&notes);
        }
        if body.trim().is_empty() {
            continue;
        }
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&markers::slide(i + 1));
        text.push('\n');
        text.push_str(&body);
    }
    Ok(Parsed {
        text,
        format: "pptx",
        units: slide_parts.len(),
    })
}

/// The notes slide's body text, found through the slide's relationships.
fn notes_text(
    archive: &mut Archive<'_>,
    slide: &str,
    deadline: &Deadline,
) -> Result<Option<String>, ParseError> {
    let Some(rels_source) = archive.read_text(&rels_path(slide), deadline)? else {
        return Ok(None);
    };
    let rels = parse_rels(&rels_source, "pptx")?;
    let Some(rel) = rels
        .values()
        .find(|r| r.kind.ends_with("/notesSlide") && !r.external)
    else {
        return Ok(None);
    };
    let part = resolve(slide, &rel.target);
    let Some(source) = archive.read_text(&part, deadline)? else {
        return Ok(None);
    };
    let notes = slide_text(&source, &part, true, deadline)?;
    Ok((!notes.trim().is_empty()).then_some(notes))
}

#[derive(Default)]
struct Shape {
    title: bool,
    placeholder: Option<String>,
    lines: Vec<String>,
}

/// Text of a slide: title shapes first, then the others in document order. For notes, only
/// body placeholders count (not slide numbers, dates or the slide image).
fn slide_text(
    source: &str,
    part: &str,
    notes: bool,
    deadline: &Deadline,
) -> Result<String, ParseError> {
    let mut reader = xml::reader(source);
    let mut shapes: Vec<Shape> = Vec::new();
    let mut open: Vec<Shape> = Vec::new();
    let mut para: Option<String> = None;
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    let mut in_text = false;
    loop {
        deadline.tick()?;
        let event = xml::next(&mut reader, "pptx", part)?;
        match &event {
            Event::Start(e) => match local(e).as_str() {
                "sp" | "graphicFrame" | "cxnSp" => open.push(Shape::default()),
                "p" => para = Some(String::new()),
                "t" => in_text = true,
                "tr" => row = Some(Vec::new()),
                "tc" => cell = Some(String::new()),
                "ph" => mark_placeholder(&mut open, e),
                _ => {}
            },
            Event::Empty(e) => match local(e).as_str() {
                "ph" => mark_placeholder(&mut open, e),
                "br" => {
                    if let Some(p) = para.as_mut() {
                        p.push('\n');
                    }
                }
                _ => {}
            },
            Event::End(e) => match local_end(e).as_str() {
                "t" => in_text = false,
                "p" => {
                    let text = para.take().unwrap_or_default();
                    let text = text.trim();
                    if text.is_empty() {
                        continue;
                    }
                    if let Some(c) = cell.as_mut() {
                        if !c.is_empty() {
                            c.push(' ');
                        }
                        c.push_str(text);
                    } else if let Some(shape) = open.last_mut() {
                        shape.lines.push(text.to_string());
                    }
                }
                "tc" => {
                    if let (Some(c), Some(r)) = (cell.take(), row.as_mut()) {
                        r.push(crate::blocks::one_line(&c));
                    }
                }
                "tr" => {
                    if let (Some(mut r), Some(shape)) = (row.take(), open.last_mut()) {
                        while r.last().is_some_and(|c| c.is_empty()) {
                            r.pop();
                        }
                        if !r.is_empty() {
                            shape.lines.push(r.join(" | "));
                        }
                    }
                }
                "sp" | "graphicFrame" | "cxnSp" => {
                    if let Some(shape) = open.pop() {
                        shapes.push(shape);
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            other if in_text => {
                if let (Some(t), Some(p)) = (text_of(other), para.as_mut()) {
                    p.push_str(&t);
                }
            }
            _ => {}
        }
    }
    let keep = |s: &Shape| !notes || matches!(s.placeholder.as_deref(), None | Some("body"));
    let ordered = shapes
        .iter()
        .filter(|s| s.title)
        .chain(shapes.iter().filter(|s| !s.title));
    let lines: Vec<&str> = ordered
        .filter(|s| keep(s))
        .flat_map(|s| s.lines.iter().map(String::as_str))
        .collect();
    Ok(lines.join("\n"))
}

fn mark_placeholder(open: &mut [Shape], e: &quick_xml::events::BytesStart<'_>) {
    if let Some(shape) = open.last_mut() {
        let kind = attr(e, "type").unwrap_or_else(|| "body".to_string());
        shape.title = matches!(kind.as_str(), "title" | "ctrTitle");
        shape.placeholder = Some(kind);
    }
}
