//! DOCX: `word/document.xml` in body order (paragraphs and tables interleaved), headings from
//! paragraph styles (resolved through `styles.xml` names and outline levels), lists from `numPr`.

use std::collections::HashMap;

use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{self, attr_local, local, local_end, text_of};
use crate::blocks::{fold_nested_row, Blocks};
use crate::{Deadline, ParseError, Parsed};

const PART: &str = "word/document.xml";

#[derive(Default)]
struct Para {
    text: String,
    level: Option<usize>,
    list_depth: Option<usize>,
}

#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: Option<String>,
}

pub(crate) fn parse(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<Parsed, ParseError> {
    let styles = match archive.read_text("word/styles.xml", deadline)? {
        Some(source) => heading_styles(&source, deadline)?,
        None => HashMap::new(),
    };
    let source = archive.require_text(PART, deadline)?;
    let mut reader = xml::reader(&source);
    let mut blocks = Blocks::new();
    let mut paras: Vec<Para> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let (mut in_text, mut in_ppr, mut skip) = (false, false, 0usize);
    loop {
        deadline.tick()?;
        let event = xml::next(&mut reader, "docx", PART)?;
        match &event {
            Event::Start(e) => match local(e).as_str() {
                "Fallback" => skip += 1,
                "p" => paras.push(Para::default()),
                "pPr" => in_ppr = true,
                "t" => in_text = true,
                "tbl" => tables.push(Table::default()),
                "tr" => {
                    if let Some(t) = tables.last_mut() {
                        t.row.clear();
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        t.cell = Some(String::new());
                    }
                }
                _ => {}
            },
            Event::Empty(e) if skip == 0 => {
                let name = local(e);
                let Some(para) = paras.last_mut() else {
                    continue;
                };
                match name.as_str() {
                    "pStyle" if in_ppr => {
                        para.level = attr_local(e, "val").and_then(|id| style_level(&styles, &id));
                    }
                    "outlineLvl" if in_ppr => {
                        let level = attr_local(e, "val").and_then(|v| v.parse::<usize>().ok());
                        if let Some(v) = level.filter(|v| *v < 9) {
                            para.level = Some(v + 1);
                        }
                    }
                    "ilvl" if in_ppr => {
                        let depth = attr_local(e, "val")
                            .and_then(|v| v.parse::<usize>().ok())
                            .unwrap_or(0);
                        para.list_depth = Some(depth.min(8) + 1);
                    }
                    // numId 0 means "no numbering".
                    "numId" if in_ppr && attr_local(e, "val").as_deref() != Some("0") => {
                        para.list_depth.get_or_insert(1);
                    }
                    "tab" if !in_ppr => para.text.push('\t'),
                    "br" | "cr" => para.text.push('\n'),
                    "noBreakHyphen" => para.text.push('-'),
                    _ => {}
                }
            }
            Event::End(e) => match local_end(e).as_str() {
                "Fallback" => skip = skip.saturating_sub(1),
                "pPr" => in_ppr = false,
                "t" => in_text = false,
                "p" => {
                    if let Some(para) = paras.pop() {
                        match paras.last_mut() {
                            // A paragraph inside a text box joins the paragraph holding the box.
                            Some(outer) => {
                                outer.text.push('\n');
                                outer.text.push_str(&para.text);
                            }
                            None => emit(para, &mut tables, &mut blocks),
                        }
                    }
                }
                "tc" => {
                    if let Some(t) = tables.last_mut() {
                        if let Some(cell) = t.cell.take() {
                            t.row.push(cell);
                        }
                    }
                }
                "tr" => end_row(&mut tables, &mut blocks),
                "tbl" => {
                    tables.pop();
                    if tables.is_empty() {
                        blocks.break_run();
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            other if in_text && skip == 0 => {
                if let (Some(text), Some(para)) = (text_of(other), paras.last_mut()) {
                    para.text.push_str(&text);
                }
            }
            _ => {}
        }
    }
    Ok(Parsed {
        text: blocks.finish(),
        format: "docx",
        units: 0,
    })
}

fn emit(para: Para, tables: &mut [Table], blocks: &mut Blocks) {
    if let Some(cell) = tables.last_mut().and_then(|t| t.cell.as_mut()) {
        if !para.text.trim().is_empty() {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(para.text.trim());
        }
        return;
    }
    match (para.level, para.list_depth) {
        (Some(level), _) => blocks.heading(level, &para.text),
        (None, Some(depth)) => blocks.list_item(depth, &para.text),
        (None, None) => blocks.paragraph(&para.text),
    }
}

fn end_row(tables: &mut [Table], blocks: &mut Blocks) {
    let depth = tables.len();
    let Some(table) = tables.last_mut() else {
        return;
    };
    let row = std::mem::take(&mut table.row);
    if depth > 1 {
        if let Some(cell) = tables[depth - 2].cell.as_mut() {
            fold_nested_row(cell, &row);
        }
    } else {
        blocks.table_row(&row);
    }
}

/// Heading level of a style id: from `styles.xml`, else from an English id like `Heading2`.
fn style_level(styles: &HashMap<String, usize>, id: &str) -> Option<usize> {
    styles.get(id).copied().or_else(|| level_from_name(id))
}

/// `Heading 3` / `heading3` → 3, `Title` → 1.
fn level_from_name(name: &str) -> Option<usize> {
    let lower: String = name
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if lower == "title" {
        return Some(1);
    }
    let n = lower.strip_prefix("heading")?.parse::<usize>().ok()?;
    (1..=9).contains(&n).then_some(n)
}

/// Style id → heading level, from style names (`heading 1`, `Title`) or outline levels.
fn heading_styles(source: &str, deadline: &Deadline) -> Result<HashMap<String, usize>, ParseError> {
    let mut map = HashMap::new();
    let mut reader = xml::reader(source);
    let mut current: Option<(String, Option<usize>)> = None;
    loop {
        deadline.tick()?;
        match xml::next(&mut reader, "docx", "word/styles.xml")? {
            Event::Start(e) if local(&e) == "style" => {
                current = attr_local(&e, "styleId").map(|id| (id, None));
            }
            Event::Empty(e) => {
                let Some((_, level)) = current.as_mut() else {
                    continue;
                };
                match local(&e).as_str() {
                    "name" => {
                        if let Some(l) = attr_local(&e, "val").and_then(|n| level_from_name(&n)) {
                            *level = Some(l);
                        }
                    }
                    "outlineLvl" if level.is_none() => {
                        *level = attr_local(&e, "val")
                            .and_then(|v| v.parse::<usize>().ok())
                            .filter(|v| *v < 9)
                            .map(|v| v + 1);
                    }
                    _ => {}
                }
            }
            Event::End(e) if local_end(&e) == "style" => {
                if let Some((id, Some(level))) = current.take() {
                    map.insert(id, level);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(map)
}
