//! The file of `lightrag export` and `lightrag import`: a knowledge base as JSON Lines, gzip
//! when the name ends in `.gz`. The format is specified in docs/operations.md ("Backup and
//! restore"): a header line, then one line per record, part by part in the walk order of
//! [`lightrag_storage::copy`] and by key within a part, then an end line with the counts.
//!
//! [`Reader`] checks every line as it goes (the format, the version, the order of parts and
//! keys, the counts against the end line) and names the line of the first problem;
//! [`FileSink`] writes lines batch by batch, flushed, so an interrupted export leaves a file
//! whose complete lines [`Reader`] can tell from the cut one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use async_trait::async_trait;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use lightrag_core::error::{Error, StorageError, StorageErrorKind};
use lightrag_core::types::{DocStatusRecord, Entity, Relation, VectorRecord};
use lightrag_storage::copy::{Batch, CopyReport, Key, Part, Sink};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `format` of every header.
pub const FORMAT: &str = "lightrag-rs-export";
/// The version this build writes and reads.
pub const VERSION: u64 = 1;

/// The embedding model the vectors were made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Embedding {
    pub binding: String,
    pub model: String,
    pub dim: usize,
}

/// The first line of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u64,
    /// When the export started (ISO-8601, UTC).
    pub created_at: String,
    pub workspace: String,
    pub embedding: Embedding,
    /// The parts the file holds, in order.
    pub parts: Vec<String>,
    /// The lightrag-rs version that wrote it.
    #[serde(default)]
    pub lightrag_version: String,
    /// LightRAG's storage name of each role of the source.
    #[serde(default)]
    pub source: BTreeMap<String, String>,
}

impl Header {
    /// Whether `other` describes the same export (everything but when and by which build).
    pub fn same_export(&self, other: &Header) -> bool {
        self.format == other.format
            && self.version == other.version
            && self.workspace == other.workspace
            && self.embedding == other.embedding
            && self.parts == other.parts
            && self.source == other.source
    }
}

/// One record of a part.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Kv(String, Value),
    Node(Entity),
    Edge(Relation),
    Vector(VectorRecord),
    Status(String, DocStatusRecord),
}

impl Record {
    /// The record's key within its part (see [`Key`]).
    pub fn key(&self) -> Key {
        match self {
            Record::Kv(id, _) | Record::Status(id, _) => (id.clone(), String::new()),
            Record::Node(e) => (e.entity_id.clone(), String::new()),
            Record::Edge(r) => r.pair(),
            Record::Vector(v) => (v.id.clone(), String::new()),
        }
    }
}

/// A line after the header.
#[derive(Debug)]
pub enum Line {
    Record(Part, Box<Record>),
    /// The end marker and its counts per part.
    End(BTreeMap<String, usize>),
}

/// Any line but the header, as it is read; which fields a line has depends on its part.
#[derive(Deserialize)]
struct RawLine {
    part: Option<String>,
    end: Option<bool>,
    counts: Option<BTreeMap<String, usize>>,
    id: Option<String>,
    value: Option<Value>,
    node: Option<Entity>,
    edge: Option<Relation>,
    vector: Option<Vec<f32>>,
    meta: Option<Value>,
    status: Option<DocStatusRecord>,
}

fn parse_line(bytes: &[u8]) -> std::result::Result<Line, String> {
    let raw: RawLine = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if raw.end == Some(true) {
        return Ok(Line::End(raw.counts.ok_or("the end line has no counts")?));
    }
    let name = raw
        .part
        .ok_or("neither a record (no `part`) nor the end line")?;
    let part = Part::parse(&name).ok_or_else(|| format!("unknown part '{name}'"))?;
    let missing = |field: &str| format!("a {name} record without `{field}`");
    let record = match part {
        Part::Kv(_) => Record::Kv(
            raw.id.ok_or_else(|| missing("id"))?,
            raw.value.ok_or_else(|| missing("value"))?,
        ),
        Part::Nodes => Record::Node(raw.node.ok_or_else(|| missing("node"))?),
        Part::Edges => Record::Edge(raw.edge.ok_or_else(|| missing("edge"))?),
        Part::Vectors(_) => Record::Vector(VectorRecord {
            id: raw.id.ok_or_else(|| missing("id"))?,
            vector: raw.vector.ok_or_else(|| missing("vector"))?,
            meta: raw.meta.ok_or_else(|| missing("meta"))?,
        }),
        Part::Statuses => Record::Status(
            raw.id.ok_or_else(|| missing("id"))?,
            raw.status.ok_or_else(|| missing("status"))?,
        ),
    };
    Ok(Line::Record(part, Box::new(record)))
}

/// Reads the header line: refuses what is not an export and a version this build does not
/// read, before anything else.
fn parse_header(bytes: &[u8]) -> std::result::Result<Header, String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("not JSON ({e})"))?;
    if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(format!(
            "not a {FORMAT} file (no \"format\":\"{FORMAT}\" header)"
        ));
    }
    match v.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        other => {
            let shown = other.map_or_else(|| v["version"].to_string(), |n| n.to_string());
            return Err(format!(
                "format version {shown} is not one this lightrag reads (it reads version \
                 {VERSION}): import it with the lightrag-rs release that wrote it or a later one"
            ));
        }
    }
    serde_json::from_value(v).map_err(|e| format!("a damaged header ({e})"))
}

/// The lines of a file, gzip or not (told by its first bytes).
fn open_lines(path: &Path) -> Result<Box<dyn BufRead + Send>> {
    let mut file = BufReader::new(
        File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
    );
    let gz = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gz {
        Box::new(BufReader::new(MultiGzDecoder::new(file)))
    } else {
        Box::new(file)
    })
}

/// Reads a file line by line, checking each (see the module docs).
pub struct Reader {
    name: String,
    lines: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    /// Lines read so far (the number of the last one).
    pub line: usize,
    pub header: Header,
    parts: Vec<Part>,
    /// The index in `parts` of the part being read, and the last key read in it.
    at: Option<(usize, Key)>,
    /// Records per part so far.
    pub counts: BTreeMap<String, usize>,
    /// Bytes (uncompressed) of the lines read and checked so far.
    pub good_bytes: u64,
    ended: bool,
}

impl Reader {
    /// Opens `path` and reads its header.
    pub fn open(path: &Path) -> Result<Reader> {
        let name = path.display().to_string();
        let mut lines = open_lines(path)?;
        let mut buf = Vec::new();
        let n = read_line(&mut lines, &mut buf).with_context(|| format!("{name} line 1"))?;
        if n == 0 || buf.last() != Some(&b'\n') {
            bail!("{name} line 1: no complete header line: the file is empty or cut short");
        }
        let header = parse_header(&buf).map_err(|e| anyhow!("{name} line 1: {e}"))?;
        let parts = header
            .parts
            .iter()
            .map(|p| Part::parse(p).ok_or_else(|| anyhow!("{name} line 1: unknown part '{p}'")))
            .collect::<Result<Vec<_>>>()?;
        Ok(Reader {
            name,
            lines,
            buf,
            line: 1,
            header,
            parts,
            at: None,
            counts: BTreeMap::new(),
            good_bytes: n as u64,
            ended: false,
        })
    }

    /// The next line, checked; `None` after the end line, at the end of the file.
    pub fn next_line(&mut self) -> Result<Option<Line>> {
        let lineno = self.line + 1;
        let n = read_line(&mut self.lines, &mut self.buf)
            .with_context(|| format!("{} line {lineno}: cannot read", self.name))?;
        if n == 0 {
            if self.ended {
                return Ok(None);
            }
            bail!(
                "{}: ends after line {} without the end marker: the file is incomplete (an \
                 interrupted export? run it again)",
                self.name,
                self.line
            );
        }
        let here = |e: String| anyhow!("{} line {lineno}: {e}", self.name);
        if self.ended {
            return Err(here("data after the end marker".into()));
        }
        if self.buf.last() != Some(&b'\n') {
            return Err(here(
                "cut short (no line end): the file is incomplete".into(),
            ));
        }
        let line = parse_line(&self.buf).map_err(here)?;
        match &line {
            Line::End(counts) => {
                let parts = self.header.parts.iter();
                if let Some(p) = parts.clone().find(|p| {
                    counts.get(*p).copied().unwrap_or(0)
                        != self.counts.get(*p).copied().unwrap_or(0)
                }) {
                    return Err(here(format!(
                        "the end marker counts {} records of {p} but the file holds {}",
                        counts.get(p).copied().unwrap_or(0),
                        self.counts.get(p).copied().unwrap_or(0)
                    )));
                }
                self.ended = true;
            }
            Line::Record(part, record) => {
                let Some(i) = self.parts.iter().position(|p| p == part) else {
                    return Err(here(format!(
                        "part {} is not among the header's parts",
                        part.name()
                    )));
                };
                let key = record.key();
                match &self.at {
                    Some((j, _)) if i < *j => {
                        return Err(here(format!(
                            "part {} after {}: parts out of order",
                            part.name(),
                            self.parts[*j].name()
                        )))
                    }
                    Some((j, last)) if i == *j && key <= *last => {
                        return Err(here(format!(
                            "key {key:?} of {} out of order or repeated",
                            part.name()
                        )))
                    }
                    _ => {}
                }
                self.at = Some((i, key));
                *self.counts.entry(part.name()).or_default() += 1;
            }
        }
        self.line = lineno;
        self.good_bytes += n as u64;
        Ok(Some(line))
    }

    /// Where the records read so far end: the part and key of the last one.
    pub fn last(&self) -> Option<(Part, Key)> {
        self.at.as_ref().map(|(i, k)| (self.parts[*i], k.clone()))
    }

    /// Whether the end line has been read.
    pub fn ended(&self) -> bool {
        self.ended
    }
}

/// Reads one line, its `\n` included (none at the end of a cut file); 0 at the end.
fn read_line(r: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.clear();
    r.read_until(b'\n', buf)
}

/// Copies the first `bytes` (uncompressed) of `from` into `to`.
pub fn copy_prefix(from: &Path, bytes: u64, to: &mut dyn Write) -> Result<()> {
    let mut lines = open_lines(from)?.take(bytes);
    let copied = std::io::copy(&mut lines, to)?;
    if copied != bytes {
        bail!("{} changed while it was read", from.display());
    }
    Ok(())
}

/// Where the lines go: a file, gzip or not.
pub enum Out {
    Plain(BufWriter<File>),
    Gz(Box<GzEncoder<BufWriter<File>>>),
}

impl Out {
    /// Writes to `file`, compressed when `gzip`.
    pub fn new(file: File, gzip: bool) -> Out {
        let w = BufWriter::new(file);
        if gzip {
            Out::Gz(Box::new(GzEncoder::new(w, flate2::Compression::default())))
        } else {
            Out::Plain(w)
        }
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Out::Plain(w) => w,
            Out::Gz(w) => w.as_mut(),
        }
    }

    /// Ends the stream (the gzip trailer) and syncs the file to disk.
    pub fn finish(self) -> Result<()> {
        let w = match self {
            Out::Plain(w) => w,
            Out::Gz(w) => w.finish()?,
        };
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.writer().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.writer().flush()
    }
}

/// Writes the header line.
pub fn write_header(out: &mut dyn Write, header: &Header) -> Result<()> {
    serde_json::to_writer(&mut *out, header)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(())
}

#[derive(Serialize)]
struct KvLine<'a> {
    part: &'a str,
    id: &'a str,
    value: &'a Value,
}
#[derive(Serialize)]
struct NodeLine<'a> {
    part: &'a str,
    node: &'a Entity,
}
#[derive(Serialize)]
struct EdgeLine<'a> {
    part: &'a str,
    edge: &'a Relation,
}
#[derive(Serialize)]
struct VectorLine<'a> {
    part: &'a str,
    id: &'a str,
    vector: &'a [f32],
    meta: &'a Value,
}
#[derive(Serialize)]
struct StatusLine<'a> {
    part: &'a str,
    id: &'a str,
    status: &'a DocStatusRecord,
}
#[derive(Serialize)]
struct EndLine<'a> {
    end: bool,
    counts: &'a BTreeMap<String, usize>,
}

/// A sink that writes each batch as lines, flushed when the batch is complete.
pub struct FileSink {
    out: Out,
    /// Records per part, those of the resumed file included.
    pub counts: BTreeMap<String, usize>,
}

fn io_err(e: impl std::fmt::Display) -> Error {
    Error::Storage(StorageError::new("export file", StorageErrorKind::Other, e))
}

impl FileSink {
    /// Appends to `out`, with the counts of the lines already there.
    pub fn new(out: Out, counts: BTreeMap<String, usize>) -> FileSink {
        FileSink { out, counts }
    }

    fn line(&mut self, value: &impl Serialize) -> lightrag_core::error::Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(io_err)?;
        self.out.write_all(b"\n").map_err(io_err)
    }

    /// Writes the end line and closes the file.
    pub fn finish(mut self) -> Result<BTreeMap<String, usize>> {
        let counts = std::mem::take(&mut self.counts);
        self.line(&EndLine {
            end: true,
            counts: &counts,
        })?;
        self.out.finish()?;
        Ok(counts)
    }
}

#[async_trait]
impl Sink for FileSink {
    async fn write(&mut self, batch: Batch<'_>) -> lightrag_core::error::Result<CopyReport> {
        let (part, n) = match batch {
            Batch::Kv(ns, items) => {
                let part = Part::Kv(ns).name();
                for (id, value) in &items {
                    self.line(&KvLine {
                        part: &part,
                        id,
                        value,
                    })?;
                }
                (part, items.len())
            }
            Batch::Nodes(nodes) => {
                let part = Part::Nodes.name();
                for node in &nodes {
                    self.line(&NodeLine { part: &part, node })?;
                }
                (part, nodes.len())
            }
            Batch::Edges(edges) => {
                let part = Part::Edges.name();
                for edge in &edges {
                    self.line(&EdgeLine { part: &part, edge })?;
                }
                (part, edges.len())
            }
            Batch::Vectors(set, mut batch) => {
                let part = Part::Vectors(set).name();
                let records = batch.records(&batch.ids()).await?;
                for r in &records {
                    self.line(&VectorLine {
                        part: &part,
                        id: &r.id,
                        vector: &r.vector,
                        meta: &r.meta,
                    })?;
                }
                (part, records.len())
            }
            Batch::Statuses(rows) => {
                let part = Part::Statuses.name();
                for (id, status) in &rows {
                    self.line(&StatusLine {
                        part: &part,
                        id,
                        status,
                    })?;
                }
                (part, rows.len())
            }
        };
        self.out.flush().map_err(io_err)?;
        *self.counts.entry(part).or_default() += n;
        Ok(CopyReport {
            written: n,
            already_there: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            version: VERSION,
            created_at: "2025-01-01T00:00:00Z".into(),
            workspace: String::new(),
            embedding: Embedding {
                binding: "hashing".into(),
                model: "hashing".into(),
                dim: 4,
            },
            parts: vec!["kv:full_docs".into(), "doc_status".into()],
            lightrag_version: String::new(),
            source: BTreeMap::new(),
        }
    }

    fn write_file(path: &Path, lines: &[String]) {
        let mut text = serde_json::to_string(&header()).unwrap() + "\n";
        for l in lines {
            text.push_str(l);
        }
        std::fs::write(path, text).unwrap();
    }

    fn read_all(path: &Path) -> Result<usize> {
        let mut r = Reader::open(path)?;
        let mut n = 0;
        while r.next_line()?.is_some() {
            n += 1;
        }
        Ok(n)
    }

    #[test]
    fn a_complete_file_reads_and_every_damage_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        let a = "{\"part\":\"kv:full_docs\",\"id\":\"a\",\"value\":{\"content\":\"x\"}}\n";
        let b = "{\"part\":\"kv:full_docs\",\"id\":\"b\",\"value\":{}}\n";
        let end = "{\"end\":true,\"counts\":{\"kv:full_docs\":2}}\n";
        write_file(&p, &[a.into(), b.into(), end.into()]);
        assert_eq!(read_all(&p).unwrap(), 3);

        let cases: [(&[&str], &str); 6] = [
            (&[a, b], "ends after line 3 without the end marker"),
            (&[a, &b[..20]], "line 3: cut short"),
            (&[a, "{not json\n", end], "line 3:"),
            (&[b, a, end], "line 3: key"),
            (
                &[a, end],
                "line 3: the end marker counts 2 records of kv:full_docs",
            ),
            (&[a, b, end, a], "line 5: data after the end marker"),
        ];
        for (lines, want) in cases {
            write_file(&p, &lines.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            let err = format!("{:#}", read_all(&p).unwrap_err());
            assert!(err.contains(want), "{want}: {err}");
        }

        let mut h = serde_json::to_value(header()).unwrap();
        h["version"] = 2.into();
        std::fs::write(&p, format!("{h}\n{end}")).unwrap();
        let err = format!("{:#}", Reader::open(&p).err().unwrap());
        assert!(err.contains("format version 2 is not one"), "{err}");
    }
}
