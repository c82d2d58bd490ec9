//! ODT: `content.xml` body: `text:h` headings by outline level, paragraphs, nested lists and
//! tables. Footnotes, annotations and tracked deletions are left out.

use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{self, attr_local, local, local_end, text_of};
use crate::blocks::{fold_nested_row, Blocks};
use crate::{Deadline, ParseError, Parsed};

const PART: &str = "content.xml";
const SKIPPED: &[&str] = &[
    "note",
    "annotation",
    "tracked-changes",
    "sequence-decls",
    "forms",
    "deletion",
];

struct Para {
    text: String,
    heading: Option<usize>,
}

#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: Option<(String, usize)>,
}

pub(crate) fn parse(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<Parsed, ParseError> {
    let source = archive.require_text(PART, deadline)?;
    let mut reader = xml::reader(&source);
    let mut blocks = Blocks::new();
    let mut paras: Vec<Para> = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let (mut in_body, mut skip, mut list_depth) = (false, 0usize, 0usize);
    loop {
        deadline.tick()?;
        let event = xml::next(&mut reader, "odt", PART)?;
        match &event {
            Event::Start(e) => {
                let name = local(e);
                if SKIPPED.contains(&name.as_str()) {
                    skip += 1;
                }
                if skip > 0 {
                    continue;
                }
                match name.as_str() {
                    "body" => in_body = true,
                    "p" => paras.push(Para {
                        text: String::new(),
                        heading: None,
                    }),
                    "h" => {
                        let level = attr_local(e, "outline-level")
                            .and_then(|l| l.parse().ok())
                            .unwrap_or(1);
                        paras.push(Para {
                            text: String::new(),
                            heading: Some(level),
                        });
                    }
                    "list" => list_depth += 1,
                    "table" => tables.push(Table::default()),
                    "table-row" => {
                        if let Some(t) = tables.last_mut() {
                            t.row.clear();
                        }
                    }
                    "table-cell" => {
                        let repeat = repeated(e);
                        if let Some(t) = tables.last_mut() {
                            t.cell = Some((String::new(), repeat));
                        }
                    }
                    _ => {}
                }
            }
            Event::Empty(e) if skip == 0 => {
                let name = local(e);
                if name == "table-cell" {
                    let repeat = repeated(e);
                    if let Some(t) = tables.last_mut() {
                        t.row.extend(std::iter::repeat_n(String::new(), repeat));
                    }
                    continue;
                }
                let Some(para) = paras.last_mut() else {
                    continue;
                };
                match name.as_str() {
                    "s" => {
                        let n = attr_local(e, "c")
                            .and_then(|c| c.parse::<usize>().ok())
                            .unwrap_or(1);
                        para.text.push_str(&" ".repeat(n.min(100)));
                    }
                    "tab" => para.text.push('\t'),
                    "line-break" => para.text.push('\n'),
                    _ => {}
                }
            }
            Event::End(e) => {
                let name = local_end(e);
                if SKIPPED.contains(&name.as_str()) {
                    skip = skip.saturating_sub(1);
                    continue;
                }
                if skip > 0 {
                    continue;
                }
                match name.as_str() {
                    "body" => in_body = false,
                    "p" | "h" => {
                        let Some(para) = paras.pop() else { continue };
                        if let Some(outer) = paras.last_mut() {
                            outer.text.push('\n');
                            outer.text.push_str(&para.text);
                        } else if in_body {
                            emit(para, list_depth, &mut tables, &mut blocks);
                        }
                    }
                    "list" => list_depth = list_depth.saturating_sub(1),
                    "table-cell" => {
                        if let Some(t) = tables.last_mut() {
                            if let Some((text, repeat)) = t.cell.take() {
                                let repeat = if text.trim().is_empty() {
                                    repeat
                                } else {
                                    repeat.min(16)
                                };
                                t.row.extend(std::iter::repeat_n(text, repeat));
                            }
                        }
                    }
                    "table-row" => end_row(&mut tables, &mut blocks),
                    "table" => {
                        tables.pop();
                        if tables.is_empty() {
                            blocks.break_run();
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            other if skip == 0 => {
                if let (Some(t), Some(para)) = (text_of(other), paras.last_mut()) {
                    para.text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    Ok(Parsed {
        text: blocks.finish(),
        format: "odt",
        units: 0,
    })
}

fn repeated(e: &quick_xml::events::BytesStart<'_>) -> usize {
    attr_local(e, "number-columns-repeated")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, 1024)
}

fn emit(para: Para, list_depth: usize, tables: &mut [Table], blocks: &mut Blocks) {
    if let Some((cell, _)) = tables.last_mut().and_then(|t| t.cell.as_mut()) {
        if !para.text.trim().is_empty() {
            if !cell.is_empty() {
                cell.push(' ');
            }
            cell.push_str(para.text.trim());
        }
        return;
    }
    match para.heading {
        Some(level) => blocks.heading(level, &para.text),
        None if list_depth > 0 => blocks.list_item(list_depth, &para.text),
        None => blocks.paragraph(&para.text),
    }
}

fn end_row(tables: &mut [Table], blocks: &mut Blocks) {
    let depth = tables.len();
    let Some(table) = tables.last_mut() else {
        return;
    };
    let row = std::mem::take(&mut table.row);
    if depth > 1 {
        if let Some((cell, _)) = tables[depth - 2].cell.as_mut() {
            fold_nested_row(cell, &row);
        }
    } else {
        blocks.table_row(&row);
    }
}
