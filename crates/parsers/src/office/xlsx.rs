//! XLSX: each non-empty sheet under `[sheet NAME!A1:D9]`, then `row N: a | b | c` lines.
//! Shared strings, inline strings, booleans, errors and cached formula values are read; numbers
//! print without a spurious `.0`; cells with a date number format print as ISO dates.

use std::collections::{BTreeMap, HashMap};

use quick_xml::events::Event;

use super::archive::Archive;
use super::xml::{
    self, attr, attr_local, local, local_end, parse_rels, rels_path, resolve, text_of,
};
use crate::{markers, Deadline, ParseError, Parsed};

const WORKBOOK: &str = "xl/workbook.xml";

struct Sheet {
    name: String,
    part: String,
}

pub(crate) fn parse(archive: &mut Archive<'_>, deadline: &Deadline) -> Result<Parsed, ParseError> {
    let workbook = archive.require_text(WORKBOOK, deadline)?;
    let rels_source = archive.require_text(&rels_path(WORKBOOK), deadline)?;
    let rels = parse_rels(&rels_source, "xlsx")?;
    let (sheets, date1904) = read_workbook(&workbook, &rels)?;
    let shared = match archive.read_text("xl/sharedStrings.xml", deadline)? {
        Some(source) => shared_strings(&source, deadline)?,
        None => Vec::new(),
    };
    let date_styles = match archive.read_text("xl/styles.xml", deadline)? {
        Some(source) => date_styles(&source)?,
        None => Vec::new(),
    };
    let ctx = Context {
        shared,
        date_styles,
        date1904,
    };
    let mut text = String::new();
    for sheet in &sheets {
        deadline.check()?;
        let Some(source) = archive.read_text(&sheet.part, deadline)? else {
            continue;
        };
        let rows = read_sheet(&source, &sheet.part, &ctx, deadline)?;
        let Some(range) = used_range(&rows) else {
            continue;
        };
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&markers::sheet(&sheet.name, &range.label()));
        for (row_number, cells) in &rows {
            let mut values = vec![String::new(); (range.max_col - range.min_col + 1) as usize];
            for (col, value) in cells {
                values[(col - range.min_col) as usize] = value.replace(['\n', '\r'], " ");
            }
            while values.last().is_some_and(|v| v.is_empty()) {
                values.pop();
            }
            text.push_str(&format!("\nrow {row_number}: {}", values.join(" | ")));
        }
    }
    Ok(Parsed {
        text,
        format: "xlsx",
        units: sheets.len(),
    })
}

fn read_workbook(
    source: &str,
    rels: &HashMap<String, xml::Rel>,
) -> Result<(Vec<Sheet>, bool), ParseError> {
    let mut sheets = Vec::new();
    let mut date1904 = false;
    let mut reader = xml::reader(source);
    loop {
        match xml::next(&mut reader, "xlsx", WORKBOOK)? {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "workbookPr" => {
                    date1904 = matches!(attr(&e, "date1904").as_deref(), Some("1" | "true"));
                }
                "sheet" => {
                    let name = attr(&e, "name").unwrap_or_default();
                    let rel = attr(&e, "r:id")
                        .or_else(|| attr_local(&e, "id"))
                        .and_then(|id| rels.get(&id));
                    if let Some(rel) = rel.filter(|r| r.kind.ends_with("/worksheet")) {
                        sheets.push(Sheet {
                            name,
                            part: resolve(WORKBOOK, &rel.target),
                        });
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((sheets, date1904))
}

fn shared_strings(source: &str, deadline: &Deadline) -> Result<Vec<String>, ParseError> {
    let mut strings = Vec::new();
    let mut reader = xml::reader(source);
    let mut current: Option<String> = None;
    let (mut in_text, mut in_phonetic) = (false, false);
    loop {
        deadline.tick()?;
        let event = xml::next(&mut reader, "xlsx", "xl/sharedStrings.xml")?;
        match &event {
            Event::Start(e) => match local(e).as_str() {
                "si" => current = Some(String::new()),
                "t" => in_text = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(e) if local(e) == "si" => strings.push(String::new()),
            Event::End(e) => match local_end(e).as_str() {
                "si" => strings.push(current.take().unwrap_or_default()),
                "t" => in_text = false,
                "rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Eof => break,
            other if in_text && !in_phonetic => {
                if let (Some(t), Some(s)) = (text_of(other), current.as_mut()) {
                    s.push_str(&t);
                }
            }
            _ => {}
        }
    }
    Ok(strings)
}

/// For each cell style index (`cellXfs` order): whether its number format shows a date/time.
fn date_styles(source: &str) -> Result<Vec<bool>, ParseError> {
    let mut custom: HashMap<u32, String> = HashMap::new();
    let mut styles = Vec::new();
    let mut in_cell_xfs = false;
    let mut reader = xml::reader(source);
    loop {
        match xml::next(&mut reader, "xlsx", "xl/styles.xml")? {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_str() {
                "numFmt" => {
                    if let (Some(id), Some(code)) = (attr(&e, "numFmtId"), attr(&e, "formatCode")) {
                        if let Ok(id) = id.parse() {
                            custom.insert(id, code);
                        }
                    }
                }
                "cellXfs" => in_cell_xfs = true,
                "xf" if in_cell_xfs => {
                    let id: u32 = attr(&e, "numFmtId")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let is_date = match custom.get(&id) {
                        Some(code) => is_date_format(code),
                        None => matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58),
                    };
                    styles.push(is_date);
                }
                _ => {}
            },
            Event::End(e) if local_end(&e) == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(styles)
}

/// A format code shows a date or time if it has y/m/d/h/s outside quotes, brackets and escapes.
fn is_date_format(code: &str) -> bool {
    let mut in_quote = false;
    let mut in_bracket = false;
    let mut escaped = false;
    for c in code.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' | '_' | '*' => escaped = true,
            '"' => in_quote = !in_quote,
            '[' if !in_quote => in_bracket = true,
            ']' if !in_quote => in_bracket = false,
            'y' | 'Y' | 'm' | 'M' | 'd' | 'D' | 'h' | 'H' | 's' | 'S'
                if !in_quote && !in_bracket =>
            {
                return true
            }
            _ => {}
        }
    }
    false
}

struct Context {
    shared: Vec<String>,
    date_styles: Vec<bool>,
    date1904: bool,
}

type Rows = BTreeMap<u32, Vec<(u32, String)>>;

#[derive(Default)]
struct Cell {
    col: u32,
    kind: String,
    style: usize,
    value: String,
    inline: String,
}

fn read_sheet(
    source: &str,
    part: &str,
    ctx: &Context,
    deadline: &Deadline,
) -> Result<Rows, ParseError> {
    let mut rows: Rows = BTreeMap::new();
    let mut reader = xml::reader(source);
    let (mut row_number, mut next_col) = (0u32, 1u32);
    let mut cell: Option<Cell> = None;
    let (mut in_value, mut in_inline) = (false, false);
    loop {
        deadline.tick()?;
        let event = xml::next(&mut reader, "xlsx", part)?;
        match &event {
            Event::Start(e) | Event::Empty(e) => {
                let empty = matches!(event, Event::Empty(_));
                match local(e).as_str() {
                    "row" => {
                        row_number = attr(e, "r")
                            .and_then(|r| r.parse().ok())
                            .unwrap_or(row_number + 1);
                        next_col = 1;
                    }
                    "c" => {
                        let col = attr(e, "r").and_then(|r| column_of(&r)).unwrap_or(next_col);
                        next_col = col + 1;
                        if !empty {
                            cell = Some(Cell {
                                col,
                                kind: attr(e, "t").unwrap_or_default(),
                                style: attr(e, "s").and_then(|s| s.parse().ok()).unwrap_or(0),
                                ..Cell::default()
                            });
                        }
                    }
                    "v" if !empty => in_value = true,
                    "t" if !empty && cell.is_some() => in_inline = true,
                    _ => {}
                }
            }
            Event::End(e) => match local_end(e).as_str() {
                "v" => in_value = false,
                "t" => in_inline = false,
                "c" => {
                    if let Some(c) = cell.take() {
                        let value = cell_value(&c, ctx);
                        if !value.trim().is_empty() {
                            rows.entry(row_number).or_default().push((c.col, value));
                        }
                    }
                }
                _ => {}
            },
            Event::Eof => break,
            other if in_value || in_inline => {
                if let (Some(t), Some(c)) = (text_of(other), cell.as_mut()) {
                    if in_value {
                        c.value.push_str(&t);
                    } else {
                        c.inline.push_str(&t);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(rows)
}

fn cell_value(c: &Cell, ctx: &Context) -> String {
    match c.kind.as_str() {
        "s" => c
            .value
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|i| ctx.shared.get(i).cloned())
            .unwrap_or_default(),
        "inlineStr" => c.inline.clone(),
        "b" => if c.value.trim() == "1" {
            "TRUE"
        } else {
            "FALSE"
        }
        .to_string(),
        "str" | "e" | "d" => c.value.clone(),
        _ => {
            let Ok(number) = c.value.trim().parse::<f64>() else {
                return c.value.clone();
            };
            if ctx.date_styles.get(c.style).copied().unwrap_or(false) {
                if let Some(date) = serial_to_iso(number, ctx.date1904) {
                    return date;
                }
            }
            format_number(number)
        }
    }
}

/// `3.0` → `3`, `2.5` → `2.5`, big or tiny values keep Rust's shortest form.
fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// An Excel serial date as `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or (below 1) `HH:MM:SS`.
fn serial_to_iso(serial: f64, date1904: bool) -> Option<String> {
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let mut days = serial.floor() as i64;
    let seconds = ((serial - serial.floor()) * 86_400.0).round() as i64;
    let (days_carry, seconds) = (seconds / 86_400, seconds % 86_400);
    days += days_carry;
    let time = format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    );
    if serial < 1.0 && !date1904 {
        return Some(time);
    }
    // Days since 1970-01-01; Excel's 1900 system counts a fictitious 1900-02-29 (serial 60).
    let unix_days = if date1904 {
        days - 24_107
    } else if days < 61 {
        days - 25_568
    } else {
        days - 25_569
    };
    let (y, m, d) = civil_from_days(unix_days);
    let date = format!("{y:04}-{m:02}-{d:02}");
    Some(if seconds == 0 {
        date
    } else {
        format!("{date} {time}")
    })
}

/// Howard Hinnant's days-to-civil algorithm (days since 1970-01-01).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `BC12` → column 55 (1-based).
fn column_of(reference: &str) -> Option<u32> {
    let letters: String = reference
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    Some(letters.bytes().fold(0u32, |acc, b| {
        acc * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    }))
}

fn column_name(mut col: u32) -> String {
    let mut name = Vec::new();
    while col > 0 {
        let rem = (col - 1) % 26;
        name.push(b'A' + rem as u8);
        col = (col - 1) / 26;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

struct Range {
    min_row: u32,
    max_row: u32,
    min_col: u32,
    max_col: u32,
}

impl Range {
    fn label(&self) -> String {
        format!(
            "{}{}:{}{}",
            column_name(self.min_col),
            self.min_row,
            column_name(self.max_col),
            self.max_row
        )
    }
}

fn used_range(rows: &Rows) -> Option<Range> {
    let min_row = *rows.keys().next()?;
    let max_row = *rows.keys().next_back()?;
    let cols = rows
        .values()
        .flat_map(|cells| cells.iter().map(|(c, _)| *c));
    let (min_col, max_col) = cols.fold((u32::MAX, 0), |(lo, hi), c| (lo.min(c), hi.max(c)));
    Some(Range {
        min_row,
        max_row,
        min_col,
        max_col,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_dates_and_columns() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(
            serial_to_iso(45_292.0, false).as_deref(),
            Some("2024-01-01")
        );
        assert_eq!(
            serial_to_iso(45_292.5, false).as_deref(),
            Some("2024-01-01 12:00:00")
        );
        assert_eq!(serial_to_iso(0.25, false).as_deref(), Some("06:00:00"));
        assert_eq!(serial_to_iso(1.0, false).as_deref(), Some("1900-01-01"));
        assert_eq!(serial_to_iso(61.0, false).as_deref(), Some("1900-03-01"));
        assert_eq!(serial_to_iso(0.0, true).as_deref(), Some("1904-01-01"));
        assert!(is_date_format("yyyy-mm-dd"));
        assert!(!is_date_format("0.00\"days\""));
        assert!(!is_date_format("[Red]0.00"));
        assert_eq!(column_of("BC12"), Some(55));
        assert_eq!(column_name(55), "BC");
        assert_eq!(column_name(1), "A");
    }
}
