//! Tolerant parsers for what a chat model replies: extraction records (LightRAG's delimiter
//! format, its older tuple form, or JSON) and query keywords, with LightRAG 1.5.7's clean-up of
//! names, types, keywords and descriptions. None of them panics on any input.
//!
//! Delimiter format (`_process_extraction_result`):
//! 1. A missing `<|COMPLETE|>` is only a warning.
//! 2. The reply (without `<think>` blocks) is split on new lines and on `<|COMPLETE|>` (any
//!    case); code-fence lines, list bullets and prose lines are ignored.
//! 3. Corrupted delimiters are repaired ([`fix_tuple_delimiter_corruption`]), the line is split on
//!    `<|#|>` (empty fields dropped, `**bold**` markers removed) and a field that is a record type
//!    (`entity`, `relation`, `relationship`, any case) starts a new record, so several records on
//!    one line are recovered (in the type slot of an entity row only when a whole record follows:
//!    an entity may be of type `Entity`).
//! 4. A row is an entity iff it has 4 fields and its first names `entity`, a relation iff it has
//!    5 fields and its first names `relation` (a 5-field row with the `entity` prefix is a
//!    relation). Older tuple rows `("entity"<|>N<|>T<|>D)##` / `("relationship"<|>S<|>T<|>D<|>K<|>W)`
//!    are read with their field order and weight. Any other row is dropped with a warning.
//! 5. Names, types, keywords and descriptions are normalised ([`normalize_name`],
//!    [`normalize_entity_type`], [`normalize_keywords`], [`normalize_description`]); an entity
//!    with an empty name, an invalid type or an empty description, and a relation with an empty
//!    endpoint, equal endpoints or an empty description are dropped with a warning.
//!
//! A reply that looks like JSON is read as JSON by the text parser, and a reply in the delimiter
//! format is read as such by the JSON parser, as LightRAG's cache rebuild does.

mod clean;
mod delimiter;
mod json;
mod json_mode;
mod keywords;
mod normalize;
mod text;

pub use clean::{strip_code_fence, strip_think_tags};
pub use delimiter::fix_tuple_delimiter_corruption;
pub use normalize::{
    normalize_description, normalize_entity_type, normalize_extracted_info, normalize_keywords,
    normalize_name, normalize_text, sanitize_text, truncate_name, ENTITY_NAME_MAX_BYTES,
    ENTITY_NAME_MAX_CHARS,
};

use crate::query::Keywords;
use crate::types::ChunkExtraction;

/// The field delimiter of extraction records.
pub const TUPLE_DELIMITER: &str = "<|#|>";
/// The line that ends an extraction reply.
pub const COMPLETION_DELIMITER: &str = "<|COMPLETE|>";

/// What was recovered from one LLM reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedExtraction {
    /// The records that survived validation, in reply order (duplicates kept: the merge
    /// de-duplicates), each with `source_id` = the chunk id and the file path.
    pub extraction: ChunkExtraction,
    /// What was repaired or dropped, one line each (for the log).
    pub warnings: Vec<String>,
    /// Text mode: the completion marker was seen. JSON mode: a whole JSON object was read (not
    /// one cut off at the end).
    pub completed: bool,
    /// Rows that had the shape of a record (a record type and the right number of fields, or a
    /// JSON object item), whether or not validation kept them. Zero with `completed` false means
    /// the reply held nothing in the expected format.
    pub records_seen: usize,
}

/// Parses a reply in the delimiter format (the default), or in the older tuple form; a reply
/// that is JSON is parsed as JSON.
pub fn parse_extraction_text(reply: &str, chunk_id: &str, file_path: &str) -> ParsedExtraction {
    text::parse(reply, chunk_id, file_path, true)
}

/// Parses a JSON reply (`{"entities":[{"name","type","description"}],
/// "relationships":[{"source","target","keywords","description"}]}`), tolerating code fences,
/// `<think>` blocks, prose around the object, single quotes, trailing commas, a cut-off end,
/// missing fields and non-string values (numbers and booleans written out, lists joined with
/// `, `, `null` empty). A reply with no JSON object but delimiter records is parsed as such.
pub fn parse_extraction_json(reply: &str, chunk_id: &str, file_path: &str) -> ParsedExtraction {
    json_mode::parse(reply, chunk_id, file_path, true)
}

/// Parses a keyword reply `{"high_level_keywords": [...], "low_level_keywords": [...]}`:
/// `<think>` blocks and a code fence are dropped, then strict JSON, then a lenient repair (the
/// first `{...}` with single quotes, trailing commas, unquoted keys, a cut-off end), then the two
/// lists looked up by key anywhere in the text. A string field is split on `[\n,;]+`, non-string
/// items are dropped, items are trimmed and empty ones dropped; a missing key is an empty list.
///
/// `None` when no object holds either key (the caller falls back to other keywords). Both lists
/// empty (`Some`) means the model found no keywords; LightRAG's rule for that case is the
/// caller's.
pub fn parse_keywords(reply: &str) -> Option<Keywords> {
    keywords::parse(reply)
}
