//! RTF and HTML writers (plain files, no zip).

use std::fs;
use std::io;
use std::path::Path;

use super::esc;

/// An RTF with a bold heading paragraph and body paragraphs; non-ASCII text as `\uN?`.
pub fn write_rtf(path: impl AsRef<Path>, heading: &str, paragraphs: &[&str]) -> io::Result<()> {
    let mut s = String::from(
        "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Helvetica;}}{\\colortbl;\\red0\\green0\\blue0;}\n\
{\\*\\generator lightrag-parsers samples;}{\\info{\\title Sample}}\\pard\\plain\\f0\\fs24\n",
    );
    s.push_str(&format!("{{\\b\\fs32 {}}}\\par\n", rtf_escape(heading)));
    for p in paragraphs {
        s.push_str(&format!("{}\\par\n", rtf_escape(p)));
    }
    s.push('}');
    fs::write(path, s)
}

fn rtf_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\t' => out.push_str("\\tab "),
            '\n' => out.push_str("\\line "),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{}?", *unit as i16));
                }
            }
        }
    }
    out
}

/// An HTML page: a title (in `head`), an `h1`, paragraphs and a table.
pub fn write_html(
    path: impl AsRef<Path>,
    title: &str,
    heading: &str,
    paragraphs: &[&str],
    table: &[&[&str]],
) -> io::Result<()> {
    let mut body = format!("<h1>{}</h1>\n", esc(heading));
    for p in paragraphs {
        body.push_str(&format!("<p>{}</p>\n", esc(p)));
    }
    if !table.is_empty() {
        body.push_str("<table>\n");
        for row in table {
            let cells: String = row.iter().map(|c| format!("<td>{}</td>", esc(c))).collect();
            body.push_str(&format!("<tr>{cells}</tr>\n"));
        }
        body.push_str("</table>\n");
    }
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<style>body {{ font-family: sans-serif; }}</style><script>document.title = 'x';</script></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    );
    fs::write(path, page)
}
