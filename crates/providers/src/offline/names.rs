//! Finds proper-name mentions in tokenized sentences.
//!
//! A mention is a maximal run of name words: capitalised words, acronyms ("NASA", "U.S."),
//! capitalised words with digits ("X2") and camel-case words ("iPhone"). A run may continue
//! through a short number after a capitalised word ("Apollo 11"), a Roman numeral ("World War
//! II"), `&`, lowercase name particles ("van", "de", "von"), "of" / "of the" after a word that
//! heads such names ("University of Oslo", "Bank of England", "Gulf of Mexico", "Statue of
//! Liberty"; never after a person), "for" / "on" after an organization or event word ("Institute
//! for Advanced Study", "Council on Foreign Relations"), and "and" once the run already used one
//! of those ("Ministry of Fisheries and Oceans"). A possessive, a cut hyphen compound or a
//! sentence-ending abbreviation ends the run.
//!
//! Capitalisation is weak evidence at the start of a sentence and in headings, so:
//! - a sentence-initial word is skipped when it is a stopword or sentence starter ("However",
//!   "The") or appears in lowercase elsewhere in the chunk; a sentence-initial name of one word
//!   is kept only when the chunk also uses the word as a name of its own mid-sentence, or as a
//!   surname after a first name or honorific ("Mara Lindqvist", "Dr. Lindqvist"), or when it
//!   is an acronym, has digits, is possessive, or is a known first name or place;
//! - in headings, all-caps lines and title-case one-line paragraphs, only words the body text
//!   also capitalises mid-sentence count (plus honorifics).
//!
//! Leading honorifics ("Dr.", "Prof.", "President") are removed from the name and mark a person.

use std::collections::HashSet;

use super::lexicon::{
    ABBREV, ABBREV_END, ARTIFACT, CONCEPT, CONTENT, DATA, DATE, EVENT, FIRST_NAME, HONORIFIC, LOC,
    METHOD, NOT_ACRONYM, OF_HEAD, ORG, PARTICLE, PERSON_VERB, PLACE, PLACE_PREP, ROLE, STOP,
};
use super::tokens::Tok;

/// A tokenized sentence.
pub struct Sent<'a> {
    /// The clean sentence text (the description material).
    pub text: &'a str,
    pub toks: Vec<Tok<'a>>,
    /// A heading or title-like line: only confirmed words count as names.
    pub title: bool,
    /// The index of the first word token.
    pub first_word: Option<usize>,
}

/// One occurrence of a name.
#[derive(Debug, Clone)]
pub struct Mention {
    pub name: String,
    pub sent: usize,
    /// Token range of the name (without honorifics).
    pub start: usize,
    pub end: usize,
    /// An honorific or title stood in front ("Dr. Lindqvist", "Foreign Minister Sofia Renn").
    pub person_cue: bool,
    /// A weaker person cue: a role noun in front ("the geologist Tomas Berg", "the mayor,
    /// Edvin Harlow") or a reporting verb after ("Berg said").
    pub person_hint: bool,
    /// "in", "near", "at" ... stood in front.
    pub place_cue: bool,
    /// A single all-caps word.
    pub acronym: bool,
}

/// Longest name kept, in words.
const MAX_NAME_WORDS: usize = 8;

/// Cue words that are generic nouns on their own ("River", "University", "Flood").
const GENERIC: u32 = ORG | LOC | EVENT | METHOD | CONCEPT | CONTENT | ARTIFACT | DATA;

struct Ctx<'s> {
    /// Words capitalised mid-sentence in body text.
    confirmed: HashSet<&'s str>,
    /// Words capitalised mid-sentence in body text with no name word on either side.
    alone: HashSet<&'s str>,
    /// Words that follow a first name or an honorific mid-sentence ("Mara Lindqvist").
    surnames: HashSet<&'s str>,
    /// Words written in lowercase somewhere in the chunk.
    lower_seen: HashSet<&'s str>,
}

/// Whether the word looks like part of a name, position aside.
pub fn is_name_word(t: &Tok) -> bool {
    if !t.is_word || !t.has_alpha {
        return false;
    }
    if t.all_caps {
        return t.flags & NOT_ACRONYM == 0;
    }
    if t.flags & (STOP | DATE) != 0 {
        return false;
    }
    t.cap || t.inner_upper || (t.has_digit && t.has_upper)
}

/// All mentions, sentence by sentence, in text order.
pub fn find(sents: &[Sent]) -> Vec<Mention> {
    let mut ctx = Ctx {
        confirmed: HashSet::new(),
        alone: HashSet::new(),
        surnames: HashSet::new(),
        lower_seen: HashSet::new(),
    };
    for s in sents {
        for (i, t) in s.toks.iter().enumerate() {
            if t.lower_initial {
                ctx.lower_seen.insert(t.lower.as_str());
            }
            if !s.title && Some(i) != s.first_word && is_name_word(t) {
                ctx.confirmed.insert(t.text);
                let prev = i.checked_sub(1).map(|p| &s.toks[p]);
                let before = prev.is_some_and(is_name_word);
                let after = !t.ends_name && s.toks.get(i + 1).is_some_and(is_name_word);
                if !before && !after {
                    ctx.alone.insert(t.text);
                }
                if prev.is_some_and(|p| before && p.flags & (FIRST_NAME | HONORIFIC) != 0) {
                    ctx.surnames.insert(t.text);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (si, s) in sents.iter().enumerate() {
        let toks = &s.toks;
        let n = toks.len();
        let mut i = 0;
        while i < n {
            if !eligible(s, i, &ctx) {
                i += 1;
                continue;
            }
            let start = i;
            let mut end = i + 1;
            let mut joined = false;
            while end < n && !toks[end - 1].ends_name {
                let t = &toks[end];
                let prev = &toks[end - 1];
                // "Apollo 11", "World War II".
                let suffix = t.is_word
                    && ((t.number && t.text.len() <= 3 && prev.cap && !prev.has_digit)
                        || (t.all_caps && t.flags & NOT_ACRONYM != 0 && prev.cap));
                if suffix || eligible(s, end, &ctx) {
                    end += 1;
                } else if let Some(len) = connector(s, start, end, joined, &ctx) {
                    joined |= matches!(t.lower.as_str(), "of" | "for" | "on");
                    end += len + 1;
                } else {
                    break;
                }
            }
            if let Some(m) = mention(s, si, start, end, &ctx) {
                out.push(m);
            }
            i = end;
        }
    }
    out
}

/// Whether token `i` can be part of a name here.
fn eligible(s: &Sent, i: usize, ctx: &Ctx) -> bool {
    let t = &s.toks[i];
    if !is_name_word(t) {
        return false;
    }
    if t.flags & HONORIFIC != 0 {
        return true;
    }
    if s.title {
        return ctx.confirmed.contains(t.text);
    }
    if Some(i) == s.first_word {
        return ctx.confirmed.contains(t.text)
            || t.all_caps
            || !ctx.lower_seen.contains(t.lower.as_str());
    }
    true
}

/// The number of connector tokens at `end` that join the run `start..end` to a following
/// name word.
fn connector(s: &Sent, start: usize, end: usize, joined: bool, ctx: &Ctx) -> Option<usize> {
    let toks = &s.toks;
    let t = &toks[end];
    let last = &toks[end - 1];
    let word_at = |k: usize| k < toks.len() && eligible(s, k, ctx);
    if !t.is_word {
        return (t.text == "&" && word_at(end + 1)).then_some(1);
    }
    let the_then_word = |k: usize| {
        if word_at(k) {
            Some(1)
        } else if k < toks.len() && toks[k].lower == "the" && word_at(k + 1) {
            Some(2)
        } else {
            None
        }
    };
    match t.lower.as_str() {
        "of" => {
            let person = toks[start].flags & (HONORIFIC | FIRST_NAME) != 0;
            if !person && last.flags & OF_HEAD != 0 {
                the_then_word(end + 1)
            } else {
                None
            }
        }
        "for" | "on" if last.flags & (ORG | EVENT) != 0 => the_then_word(end + 1),
        "and" if joined && word_at(end + 1) => Some(1),
        _ if t.lower_initial && t.flags & PARTICLE != 0 => {
            if word_at(end + 1) {
                Some(1)
            } else if end + 1 < toks.len()
                && toks[end + 1].lower_initial
                && toks[end + 1].flags & PARTICLE != 0
                && word_at(end + 2)
            {
                Some(2)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Turns the run `start..end` into a mention, or drops it.
fn mention(s: &Sent, si: usize, start: usize, end: usize, ctx: &Ctx) -> Option<Mention> {
    let toks = &s.toks;
    let (mut a, b) = (start, end);
    // Drop everything up to the last title that is followed by a name word.
    let mut person_cue = false;
    for k in start..b - 1 {
        let next = &toks[k + 1];
        if toks[k].flags & HONORIFIC != 0 && is_name_word(next) && next.flags & HONORIFIC == 0 {
            person_cue = true;
            a = k + 1;
        }
    }
    if toks[a].flags & HONORIFIC != 0 && b - a == 1 {
        return None;
    }
    let confirmed = |t: &Tok| ctx.confirmed.contains(t.text);
    if !s.title && Some(start) == s.first_word && a == start {
        // "Biologist Mara Lindqvist", "Researchers Vell Institute": drop a generic opener.
        if b - a >= 2 {
            let (t0, t1) = (&toks[a], &toks[a + 1]);
            let opener = !confirmed(t0) && !t0.all_caps && t0.flags & (FIRST_NAME | HONORIFIC) == 0;
            let plural = t0.lower.len() > 3 && t0.lower.ends_with('s');
            if opener && (t1.flags & FIRST_NAME != 0 || (plural && confirmed(t1))) {
                a += 1;
            }
        }
        if b - a == 1 {
            let t = &toks[a];
            let keep = ctx.alone.contains(t.text)
                || ctx.surnames.contains(t.text)
                || t.all_caps
                || t.has_digit
                || t.possessive
                || t.flags & (FIRST_NAME | PLACE) != 0;
            if !keep {
                return None;
            }
        }
    }
    if b - a > MAX_NAME_WORDS {
        return None;
    }
    // A cue word alone ("River", "University", "Flood") is a common noun, not a name.
    if b - a == 1 && !toks[a].all_caps && toks[a].flags & GENERIC != 0 {
        return None;
    }
    let mut name = String::new();
    let mut alnum = 0usize;
    for t in &toks[a..b] {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(name_piece(t));
        alnum += t.text.chars().filter(|c| c.is_alphanumeric()).count();
    }
    if alnum < 2 {
        return None;
    }
    // "in X", "near the X" (not "in X's lab").
    let mut p = start;
    if p >= 1 && toks[p - 1].lower == "the" {
        p -= 1;
    }
    let place_cue = p >= 1
        && toks[p - 1].lower_initial
        && toks[p - 1].flags & PLACE_PREP != 0
        && !toks[b - 1].possessive;
    let role_before =
        |k: usize| k < toks.len() && toks[k].lower_initial && toks[k].flags & ROLE != 0;
    let person_hint = (start >= 1 && role_before(start - 1))
        || (start >= 2 && toks[start - 1].text == "," && role_before(start - 2))
        || toks
            .get(b)
            .is_some_and(|t| t.lower_initial && t.flags & PERSON_VERB != 0);
    Some(Mention {
        name,
        sent: si,
        start: a,
        end: b,
        person_cue,
        person_hint,
        place_cue,
        acronym: b - a == 1 && toks[a].all_caps,
    })
}

/// The word as it appears in a name: "Inc." → "Inc", "St." → "St"; initials ("F.") and dotted
/// acronyms ("U.S.") keep their period.
fn name_piece<'a>(t: &Tok<'a>) -> &'a str {
    let text = t.text;
    if let Some(stem) = text.strip_suffix('.') {
        let initial = stem.chars().count() == 1;
        if !initial && !stem.contains('.') && t.flags & (ABBREV | ABBREV_END) != 0 {
            return stem;
        }
    }
    text
}
