//! The offline extractor: entities and relations from the text itself, with no language model.
//!
//! This is a **heuristic**. It is what lightrag-rs uses when no LLM is configured, so that a
//! knowledge graph can still be built with zero services; it is fast (well under a millisecond
//! or two for a 1,200-token chunk), deterministic and explainable, but it is much cruder than
//! LLM extraction.
//!
//! What it does, per chunk:
//! - **Cleans** Markdown (headings, lists, tables, links, emphasis, code, HTML) and splits the
//!   text into sentences (on `.`, `!`, `?`, line breaks and paragraphs, but not after "Dr.",
//!   "e.g.", "U.S.", initials or inside decimals).
//! - **Entities are proper names**: runs of capitalised words, including connectors inside a
//!   name ("University of Oslo", "Bank of England", "Ludwig van Beethoven", "Johnson &
//!   Johnson"), acronyms ("NASA") and capitalised words with digits ("Model X2"). A capitalised
//!   word that opens a sentence counts only if it is not a stopword or common sentence starter
//!   and is not written in lowercase elsewhere in the chunk; headings count only for words the
//!   body also capitalises. Leading determiners and honorifics are dropped ("The Acme
//!   Corporation" → "Acme Corporation", "Dr. Mara Lindqvist" → "Mara Lindqvist"), possessives
//!   are removed ("Acme's" → "Acme"), and names keep their original case. Within a chunk a lone
//!   surname or first name that matches exactly one longer person name ("Lindqvist", "Mara" →
//!   "Mara Lindqvist") is merged into it.
//! - **Entity types** come from small word lists, in LightRAG's lowercase vocabulary: `person`
//!   (an honorific, or a two-word name starting with a common first name), `organization`
//!   ("Inc", "University", "Institute", "Bank", "Council", ...), `location` ("River", "Lake",
//!   "Street", a short list of countries and cities, or "in X" / "near X" / "at X"), `event`
//!   ("War", "Summit", "Conference", "Expedition", "Treaty", ...), `content`, `artifact`,
//!   `data`, `method` and `concept` from similar cue words (a name with digits is an `artifact`),
//!   and `other` when nothing matches. The head word of a name decides first ("Oslo City
//!   Council" is an organization, "Vell River Expedition" an event).
//! - **Entity descriptions** are the first sentence of the chunk that mentions the entity, plus
//!   the second when there is one (each cut to about 300 characters).
//! - **Relations are co-occurrences**: every pair of distinct entities named in the same
//!   sentence (the first six entities of a sentence), described by that sentence, with up to
//!   three lowercase content words between the two names as keywords (or the sentence's first
//!   content words). A pair that co-occurs in several sentences of the chunk is one relation
//!   whose weight is the number of sentences and whose description joins the first two.
//!
//! What it misses:
//! - **Pronouns and coreference**: "she", "the institute", "the company" are not linked to the
//!   names they stand for, and name variants are only merged inside one chunk in the narrow
//!   cases above ("Dr. Lindqvist" in a chunk without "Mara Lindqvist" stays "Lindqvist").
//! - **Lowercase entities**: concepts, substances, species, technologies and other common-noun
//!   entities ("sediment transport", "salmon", "graph databases") are not extracted at all.
//! - **Unreliable capitalisation**: names that only ever open a sentence or appear in headings
//!   can be missed; title-case phrases, capitalised non-names ("Researchers", nationalities)
//!   and all-caps text can produce spurious or merged names ("Mara Lindqvist and Tomas Berg"
//!   is split correctly, "Bank of England and Wales" is one name).
//! - **Relations across sentences**: two entities related over a sentence boundary or across
//!   chunks get no edge; two entities merely listed in the same sentence get one.
//! - **Relation semantics and direction**: a relation says only "these co-occur"; the keywords
//!   are nearby words, not a predicate, and source/target order is the order of first mention.
//! - **Types** are guesses from cue words; an unknown name is `other`, an acronym is typed only
//!   when it is defined in parentheses right after its full name.
//! - **Non-English text**: the word lists are English; other Latin-script languages get
//!   capitalisation-based names of lower quality (German capitalises every noun), and scripts
//!   without case (Chinese, Japanese, Arabic, ...) yield no entities — the text is still handled
//!   safely and chunks are still retrievable by vector search.
//! - **Dates, numbers and quantities** are never entities.

mod lexicon;
mod markdown;
mod names;
mod sentences;
mod tokens;

use std::collections::HashMap;

use async_trait::async_trait;
use lightrag_core::ports::Extractor;
use lightrag_core::types::{Chunk, ChunkExtraction, ExtractedEntity, ExtractedRelation};
use lightrag_core::Result;

use lexicon::{
    ARTIFACT, CONCEPT, CONTENT, DATA, DATE, EVENT, FIRST_NAME, LOC, METHOD, ORG, PLACE, STOP,
};
use markdown::BlockKind;
use names::{Mention, Sent};
use tokens::Tok;

/// The algorithm version: the start of [`OfflineExtractor::identity`]. Bump it whenever the
/// output for some text changes, so cached extractions are redone.
pub const OFFLINE_EXTRACTOR_VERSION: &str = "offline-heuristic-v1";

/// Relations are formed among the first this many distinct entities of a sentence.
const DEFAULT_PAIR_ENTITIES: usize = 6;
/// Sentences quoted in descriptions are cut to about this many characters.
const DEFAULT_SENTENCE_CHARS: usize = 300;
/// Descriptions quote at most this many sentences.
const DESCRIPTION_SENTENCES: usize = 2;
/// Keywords per relation.
const MAX_KEYWORDS: usize = 3;
/// The keywords of a relation whose sentence has no content word.
const FALLBACK_KEYWORDS: &str = "co-occurrence";

/// The heuristic, LLM-free entity and relation extractor (see the module documentation for
/// what it does and what it misses).
#[derive(Debug, Clone)]
pub struct OfflineExtractor {
    pair_entities: usize,
    sentence_chars: usize,
}

impl Default for OfflineExtractor {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Extractor for OfflineExtractor {
    fn identity(&self) -> String {
        format!(
            "{OFFLINE_EXTRACTOR_VERSION}(pair_entities={},sentence_chars={})",
            self.pair_entities, self.sentence_chars
        )
    }

    async fn extract(&self, chunk: &Chunk) -> Result<ChunkExtraction> {
        Ok(self.extract_text(&chunk.content, &chunk.id, &chunk.file_path))
    }
}

/// An entity being assembled from its mentions.
struct Acc {
    name: String,
    /// Sentence indexes, ascending, distinct.
    sents: Vec<usize>,
    person_cue: bool,
    person_hint: bool,
    place_cue: bool,
    acronym: bool,
    /// The entity this acronym abbreviates ("National Weather Service (NWS)").
    expansion: Option<usize>,
}

/// A relation being assembled from co-occurrences.
struct RelAcc {
    src: usize,
    tgt: usize,
    sents: Vec<usize>,
    keywords: Vec<String>,
}

impl OfflineExtractor {
    /// The extractor with its default settings.
    pub fn new() -> Self {
        Self {
            pair_entities: DEFAULT_PAIR_ENTITIES,
            sentence_chars: DEFAULT_SENTENCE_CHARS,
        }
    }

    /// Extracts entities and relations from `text`; every record carries `source_id` (the chunk
    /// id) and `file_path`. Pure, synchronous and deterministic.
    pub fn extract_text(&self, text: &str, source_id: &str, file_path: &str) -> ChunkExtraction {
        let blocks = markdown::blocks(text);
        let mut sents: Vec<Sent> = Vec::new();
        for block in &blocks {
            let parts = sentences::split(&block.text);
            let whole = parts.len() == 1;
            for part in parts {
                let toks = tokens::tokenize(part);
                let title = is_title(block.kind, block.single_line && whole, part, &toks);
                let first_word = toks.iter().position(|t| t.is_word);
                sents.push(Sent {
                    text: part,
                    toks,
                    title,
                    first_word,
                });
            }
        }
        let mentions = names::find(&sents);
        if mentions.is_empty() {
            return ChunkExtraction::default();
        }

        // Entities by name, in order of first mention.
        let mut accs: Vec<Acc> = Vec::new();
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        let mut mention_ent: Vec<usize> = Vec::with_capacity(mentions.len());
        for m in &mentions {
            let e = *by_name.entry(m.name.as_str()).or_insert_with(|| {
                accs.push(Acc {
                    name: m.name.clone(),
                    sents: Vec::new(),
                    person_cue: false,
                    person_hint: false,
                    place_cue: false,
                    acronym: m.acronym,
                    expansion: None,
                });
                accs.len() - 1
            });
            let acc = &mut accs[e];
            if acc.sents.last() != Some(&m.sent) {
                acc.sents.push(m.sent);
            }
            acc.person_cue |= m.person_cue;
            acc.person_hint |= m.person_hint;
            acc.place_cue |= m.place_cue;
            mention_ent.push(e);
        }
        find_expansions(&sents, &mentions, &mention_ent, &mut accs);

        let canon = merge_aliases(&mut accs);
        let types: Vec<&'static str> = (0..accs.len()).map(|e| entity_type(&accs, e)).collect();

        let entities = (0..accs.len())
            .filter(|&e| canon[e] == e)
            .filter_map(|e| {
                let description = self.describe(&sents, &accs[e].sents);
                (!description.is_empty()).then(|| ExtractedEntity {
                    name: accs[e].name.clone(),
                    entity_type: types[e].to_string(),
                    description,
                    source_id: source_id.to_string(),
                    file_path: file_path.to_string(),
                })
            })
            .collect();

        let relations = self
            .co_occurrences(&sents, &mentions, &mention_ent, &canon)
            .into_iter()
            .filter_map(|r| {
                let description = self.describe(&sents, &r.sents);
                (!description.is_empty()).then(|| ExtractedRelation {
                    src: accs[r.src].name.clone(),
                    tgt: accs[r.tgt].name.clone(),
                    keywords: if r.keywords.is_empty() {
                        FALLBACK_KEYWORDS.to_string()
                    } else {
                        r.keywords.join(", ")
                    },
                    description,
                    weight: r.sents.len() as f64,
                    source_id: source_id.to_string(),
                    file_path: file_path.to_string(),
                })
            })
            .collect();

        ChunkExtraction {
            entities,
            relations,
        }
    }

    /// The first [`DESCRIPTION_SENTENCES`] distinct sentences (body text before headings), cut
    /// and joined.
    fn describe(&self, sents: &[Sent], which: &[usize]) -> String {
        let mut parts: Vec<&str> = Vec::new();
        let body = which.iter().filter(|&&si| !sents[si].title);
        let titles = which.iter().filter(|&&si| sents[si].title);
        for &si in body.chain(titles) {
            let text = sents[si].text;
            if !parts.contains(&text) {
                parts.push(text);
                if parts.len() == DESCRIPTION_SENTENCES {
                    break;
                }
            }
        }
        let mut out = String::new();
        for part in parts {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&cut(part, self.sentence_chars));
        }
        // The engine joins descriptions with LightRAG's `<SEP>`.
        if out.contains("<SEP>") {
            out = out.replace("<SEP>", " ");
        }
        out.trim().to_string()
    }

    /// Co-occurring pairs of canonical entities, aggregated over the chunk, in order of first
    /// co-occurrence.
    fn co_occurrences(
        &self,
        sents: &[Sent],
        mentions: &[Mention],
        mention_ent: &[usize],
        canon: &[usize],
    ) -> Vec<RelAcc> {
        let mut rels: Vec<RelAcc> = Vec::new();
        let mut by_pair: HashMap<(usize, usize), usize> = HashMap::new();
        let mut i = 0;
        while i < mentions.len() {
            let si = mentions[i].sent;
            // The distinct entities of this sentence with their first token span.
            let mut seen: Vec<(usize, usize, usize)> = Vec::new();
            while i < mentions.len() && mentions[i].sent == si {
                let e = canon[mention_ent[i]];
                if !seen.iter().any(|&(x, _, _)| x == e) && seen.len() < self.pair_entities {
                    seen.push((e, mentions[i].start, mentions[i].end));
                }
                i += 1;
            }
            let toks = &sents[si].toks;
            for (a, &(ea, _, a_end)) in seen.iter().enumerate() {
                for &(eb, b_start, _) in &seen[a + 1..] {
                    if ea == eb {
                        continue;
                    }
                    let key = (ea.min(eb), ea.max(eb));
                    let r = *by_pair.entry(key).or_insert_with(|| {
                        rels.push(RelAcc {
                            src: ea,
                            tgt: eb,
                            sents: Vec::new(),
                            keywords: Vec::new(),
                        });
                        rels.len() - 1
                    });
                    let rel = &mut rels[r];
                    if rel.sents.last() == Some(&si) {
                        continue;
                    }
                    rel.sents.push(si);
                    if rel.keywords.len() < MAX_KEYWORDS {
                        let between = toks.get(a_end..b_start).unwrap_or(&[]);
                        let mut words: Vec<&str> = content_words(between).collect();
                        if words.is_empty() {
                            words = content_words(toks).collect();
                        }
                        for w in words {
                            if rel.keywords.len() == MAX_KEYWORDS {
                                break;
                            }
                            if !rel.keywords.iter().any(|k| k == w) {
                                rel.keywords.push(w.to_string());
                            }
                        }
                    }
                }
            }
        }
        rels
    }
}

/// Lowercase words that carry meaning (no stopwords, dates or numbers).
fn content_words<'t>(toks: &'t [Tok<'_>]) -> impl Iterator<Item = &'t str> {
    toks.iter()
        .filter(|t| {
            t.is_word
                && t.lower_initial
                && !t.has_digit
                && t.lower.chars().count() >= 3
                && t.flags & (STOP | DATE) == 0
        })
        .map(|t| t.lower.as_str())
}

/// A heading, an all-caps line, or a one-line paragraph in title case without final
/// punctuation: capitalisation there says little.
fn is_title(kind: BlockKind, single_line: bool, text: &str, toks: &[Tok]) -> bool {
    if kind == BlockKind::Heading {
        return true;
    }
    let words = toks.iter().filter(|t| t.is_word && t.has_alpha);
    let (count, shouting) = words.fold((0usize, 0usize), |(n, c), t| {
        (n + 1, c + usize::from(t.all_caps))
    });
    if count >= 3 && shouting * 10 >= count * 6 {
        return true;
    }
    if kind != BlockKind::Paragraph
        || !single_line
        || text.ends_with(['.', '!', '?', ':', ';', ','])
    {
        return false;
    }
    let mut content = toks
        .iter()
        .filter(|t| t.is_word && t.has_alpha && t.flags & STOP == 0)
        .peekable();
    let mut n = 0;
    let all_capitalised = content.all(|t| {
        n += 1;
        t.cap || t.all_caps
    });
    all_capitalised && n >= 2
}

/// Links "Full Name (FN)" acronyms to their expansion.
fn find_expansions(sents: &[Sent], mentions: &[Mention], mention_ent: &[usize], accs: &mut [Acc]) {
    for i in 1..mentions.len() {
        let (m, prev) = (&mentions[i], &mentions[i - 1]);
        if !m.acronym || prev.sent != m.sent || m.start < 1 || prev.end + 1 != m.start {
            continue;
        }
        let toks = &sents[m.sent].toks;
        if toks[m.start - 1].text != "(" {
            continue;
        }
        let letters: String = m.name.chars().filter(|c| c.is_alphabetic()).collect();
        let initials: String = toks[prev.start..prev.end]
            .iter()
            .filter(|t| t.is_word && !t.lower_initial)
            .filter_map(|t| t.text.chars().next())
            .collect();
        if !letters.is_empty() && letters == initials.to_uppercase() {
            let (e, full) = (mention_ent[i], mention_ent[i - 1]);
            if e != full && accs[e].expansion.is_none() {
                accs[e].expansion = Some(full);
            }
        }
    }
}

/// Merges a lone surname or first name into the one longer name it matches (a person, or a
/// plain two-word name for a surname); returns each entity's canonical entity.
fn merge_aliases(accs: &mut [Acc]) -> Vec<usize> {
    let n = accs.len();
    let mut canon: Vec<usize> = (0..n).collect();
    let types: Vec<&'static str> = (0..n).map(|e| entity_type(accs, e)).collect();
    let multi: Vec<usize> = (0..n).filter(|&e| accs[e].name.contains(' ')).collect();
    for e in 0..n {
        let name = &accs[e].name;
        if name.contains(' ') || accs[e].acronym || !matches!(types[e], "person" | "other") {
            continue;
        }
        let with_last: Vec<usize> = multi
            .iter()
            .copied()
            .filter(|&c| accs[c].name.rsplit(' ').next() == Some(name.as_str()))
            .collect();
        let with_first: Vec<usize> = multi
            .iter()
            .copied()
            .filter(|&c| accs[c].name.split(' ').next() == Some(name.as_str()))
            .collect();
        if let [c] = with_last[..] {
            // A surname alone: the longer name is a person, or a plain two-word name.
            let plain_pair = types[c] == "other" && accs[c].name.split(' ').count() == 2;
            if types[c] == "person" || accs[e].person_cue || accs[e].person_hint || plain_pair {
                canon[e] = c;
                continue;
            }
        }
        if let [c] = with_first[..] {
            if types[c] == "person" {
                canon[e] = c;
            }
        }
    }
    for e in 0..n {
        let c = canon[e];
        if c != e {
            let sents = std::mem::take(&mut accs[e].sents);
            let (cue, hint) = (accs[e].person_cue, accs[e].person_hint);
            let surname = accs[c].name.ends_with(accs[e].name.as_str());
            let target = &mut accs[c];
            target.sents.extend(sents);
            target.sents.sort_unstable();
            target.sents.dedup();
            target.person_cue |= cue;
            // Only people are referred to by their last name alone.
            target.person_hint |= hint || surname;
        }
    }
    canon
}

/// The type cue words by priority, with the type they give.
const TYPE_ORDER: [(u32, &str); 8] = [
    (EVENT, "event"),
    (ORG, "organization"),
    (LOC, "location"),
    (CONTENT, "content"),
    (ARTIFACT, "artifact"),
    (DATA, "data"),
    (METHOD, "method"),
    (CONCEPT, "concept"),
];

/// The LightRAG entity type of an entity, from its cues and name.
fn entity_type(accs: &[Acc], e: usize) -> &'static str {
    let acc = &accs[e];
    if acc.person_cue {
        return "person";
    }
    let words: Vec<&str> = acc.name.split(' ').collect();
    let flags: Vec<u32> = words
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            lexicon::flags(lower.strip_suffix('.').unwrap_or(&lower))
        })
        .collect();
    // The head word: the last word before "of" / "for" / "on" / "and" / "&", else the last.
    let head = words
        .iter()
        .position(|w| {
            matches!(
                *w,
                "of" | "for" | "on" | "and" | "&" | "Of" | "For" | "On" | "And"
            )
        })
        .map_or(words.len() - 1, |p| p.saturating_sub(1));
    for (cue, ty) in TYPE_ORDER {
        if flags[head] & cue != 0 {
            return ty;
        }
    }
    for (cue, ty) in TYPE_ORDER {
        if flags
            .iter()
            .zip(&words)
            .any(|(f, w)| f & cue != 0 && !w.starts_with(char::is_lowercase))
        {
            return ty;
        }
    }
    if (words.len() >= 2 && flags[0] & FIRST_NAME != 0) || acc.person_hint {
        return "person";
    }
    if words.len() == 1 && flags[0] & PLACE != 0 {
        return "location";
    }
    if acc.name.chars().any(|c| c.is_numeric()) {
        return "artifact";
    }
    if acc.place_cue {
        return "location";
    }
    if let Some(full) = acc.expansion {
        if accs[full].expansion.is_none() {
            return entity_type(accs, full);
        }
    }
    "other"
}

/// `s` cut to about `max` characters at a word boundary, with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    let Some((byte, _)) = s.char_indices().nth(max) else {
        return s.to_string();
    };
    let head = &s[..byte];
    let head = match head.rfind(' ') {
        Some(p) if p > byte / 2 => &head[..p],
        _ => head,
    };
    format!("{}…", head.trim_end_matches([',', ';', ':', ' ', '(']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_at_word_boundary() {
        assert_eq!(cut("short", 10), "short");
        assert_eq!(cut("one two three four", 10), "one two…");
        assert_eq!(cut("ééééééééééé", 4), "éééé…");
    }
}
