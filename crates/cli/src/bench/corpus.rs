//! The generated corpus: English prose about an invented world (people, organisations, places,
//! events) written from sentence templates. Names are drawn with a Zipf-like skew, so a few of
//! them recur in many documents and become hubs of the knowledge graph; every document has its
//! own seed, cast and sentences, so no two are alike. Deterministic for a given seed.

use std::collections::HashSet;

use lightrag_core::tokenizer::Tokenizer;

use super::rng::{Rng, Zipf};
use super::words::*;

/// The named things of the world, most frequent first within each pool.
pub struct World {
    pub people: Vec<String>,
    pub orgs: Vec<String>,
    pub places: Vec<String>,
    pub events: Vec<String>,
    zipf: [Zipf; 4],
}

/// Which pool a name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Person,
    Org,
    Place,
    Event,
}

impl Kind {
    /// The entity type the offline extractor is expected to give it (used for generated graphs).
    pub fn entity_type(self) -> &'static str {
        match self {
            Kind::Person => "person",
            Kind::Org => "organization",
            Kind::Place => "location",
            Kind::Event => "event",
        }
    }
}

/// The names a document (or a chunk) is mostly about.
#[derive(Debug, Clone, Default)]
pub struct Cast {
    pub people: Vec<String>,
    pub orgs: Vec<String>,
    pub places: Vec<String>,
    pub events: Vec<String>,
}

/// One generated document.
#[derive(Debug, Clone)]
pub struct Doc {
    pub key: String,
    pub text: String,
    pub tokens: usize,
}

/// An invented word of two or three syllables, capitalised.
fn invented_word(rng: &mut Rng) -> String {
    loop {
        let mut w = String::new();
        let syllables = if rng.chance(0.1) { 3 } else { 2 };
        for _ in 0..syllables {
            for part in [ONSETS, VOWELS, CODAS] {
                let piece: &&str = rng.pick(part);
                w.push_str(piece);
            }
        }
        if (4..=8).contains(&w.chars().count()) {
            let mut c = w.chars();
            if let Some(f) = c.next() {
                return f.to_uppercase().chain(c).collect();
            }
        }
    }
}

/// The kind of a name slot of a template.
fn slot_kind(slot: &str) -> Option<Kind> {
    match slot {
        "P" | "P2" => Some(Kind::Person),
        "O" | "O2" => Some(Kind::Org),
        "L" | "L2" => Some(Kind::Place),
        "E" => Some(Kind::Event),
        _ => None,
    }
}

fn fill(form: &str, word: &str) -> String {
    form.replace("{}", word)
}

impl World {
    /// The world of the insert benchmark: a few hundred names per pool.
    pub fn standard(seed: u64) -> World {
        World::new(seed, 400, 200, 200, 120)
    }

    /// A world with the given pool sizes; all names are distinct.
    pub fn new(seed: u64, people: usize, orgs: usize, places: usize, events: usize) -> World {
        let mut rng = Rng::new(seed ^ 0x005E_ED0F_0001);
        let mut seen: HashSet<String> = HashSet::new();
        let mut unique = |rng: &mut Rng, make: &dyn Fn(&mut Rng) -> String| loop {
            let n = make(rng);
            if seen.insert(n.clone()) {
                return n;
            }
        };
        let person = |r: &mut Rng| {
            let first = *r.pick(FIRST_NAMES);
            let end = if r.chance(0.4) {
                *r.pick(SURNAME_ENDS)
            } else {
                ""
            };
            format!("{first} {}{end}", invented_word(r))
        };
        let org = |r: &mut Rng| {
            let form = *r.pick(ORG_FORMS);
            fill(form, &invented_word(r))
        };
        let place = |r: &mut Rng| {
            let form = *r.pick(PLACE_FORMS);
            let end = if r.chance(0.4) {
                *r.pick(PLACE_ENDS)
            } else {
                ""
            };
            fill(form, &format!("{}{end}", invented_word(r)))
        };
        let event = |r: &mut Rng| {
            let form = *r.pick(EVENT_FORMS);
            fill(form, &invented_word(r))
        };
        let people: Vec<String> = (0..people).map(|_| unique(&mut rng, &person)).collect();
        let orgs: Vec<String> = (0..orgs).map(|_| unique(&mut rng, &org)).collect();
        let places: Vec<String> = (0..places).map(|_| unique(&mut rng, &place)).collect();
        let events: Vec<String> = (0..events).map(|_| unique(&mut rng, &event)).collect();
        let zipf = [
            Zipf::new(people.len(), 1.0),
            Zipf::new(orgs.len(), 1.0),
            Zipf::new(places.len(), 1.0),
            Zipf::new(events.len(), 1.0),
        ];
        World {
            people,
            orgs,
            places,
            events,
            zipf,
        }
    }

    fn pool(&self, kind: Kind) -> (&[String], &Zipf) {
        match kind {
            Kind::Person => (&self.people, &self.zipf[0]),
            Kind::Org => (&self.orgs, &self.zipf[1]),
            Kind::Place => (&self.places, &self.zipf[2]),
            Kind::Event => (&self.events, &self.zipf[3]),
        }
    }

    /// A name of `kind`, frequent names far more often than rare ones.
    pub fn skewed(&self, kind: Kind, rng: &mut Rng) -> &str {
        let (pool, zipf) = self.pool(kind);
        &pool[zipf.sample(rng)]
    }

    /// A cast for one document: a few names of each kind, drawn with the skew.
    pub fn cast(&self, rng: &mut Rng) -> Cast {
        let mut draw = |kind: Kind, lo: usize, hi: usize| {
            let mut v: Vec<String> = Vec::new();
            for _ in 0..rng.range(lo, hi) {
                let n = self.skewed(kind, rng).to_string();
                if !v.contains(&n) {
                    v.push(n);
                }
            }
            v
        };
        Cast {
            people: draw(Kind::Person, 2, 5),
            orgs: draw(Kind::Org, 1, 3),
            places: draw(Kind::Place, 1, 3),
            events: draw(Kind::Event, 1, 2),
        }
    }

    /// A name of `kind` for one slot: mostly from the cast, sometimes from the whole world.
    fn slot(&self, kind: Kind, cast: &Cast, rng: &mut Rng) -> String {
        let own = match kind {
            Kind::Person => &cast.people,
            Kind::Org => &cast.orgs,
            Kind::Place => &cast.places,
            Kind::Event => &cast.events,
        };
        if !own.is_empty() && rng.chance(0.75) {
            rng.pick(own).clone()
        } else {
            self.skewed(kind, rng).to_string()
        }
    }

    /// One sentence from a template (or a filler) with its slots filled; the names of one
    /// sentence are distinct.
    pub fn sentence(&self, cast: &Cast, rng: &mut Rng) -> String {
        let template = if rng.chance(0.15) {
            *rng.pick(FILLERS)
        } else {
            *rng.pick(TEMPLATES)
        };
        let mut out = String::with_capacity(template.len() + 64);
        let mut used: Vec<String> = Vec::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let slot = &rest[start + 1..start + len];
            let mut value = self.fill_slot(slot, cast, rng);
            if let Some(kind) = slot_kind(slot) {
                for _ in 0..8 {
                    if !used.contains(&value) {
                        break;
                    }
                    value = self.slot(kind, cast, rng);
                }
                used.push(value.clone());
            }
            if out.ends_with(" a ") && value.starts_with(['a', 'e', 'i', 'o', 'u']) {
                out.insert(out.len() - 1, 'n');
            }
            out.push_str(&value);
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }

    fn fill_slot(&self, slot: &str, cast: &Cast, rng: &mut Rng) -> String {
        if let Some(kind) = slot_kind(slot) {
            return self.slot(kind, cast, rng);
        }
        match slot {
            "Y" | "Y2" => (1780 + rng.below(140)).to_string(),
            "N" => rng.range(3, 400).to_string(),
            "R" => rng.pick(ROLES).to_string(),
            "T" | "T2" => rng.pick(TOPICS).to_string(),
            "A" | "A2" => rng.pick(ADJECTIVES).to_string(),
            "X" | "X2" => rng.pick(NOUNS).to_string(),
            "H" => rng.pick(HAPPENINGS).to_string(),
            "V" => rng.pick(VERBS_PAST).to_string(),
            other => other.to_string(),
        }
    }

    /// Prose of about `target` tokens about `cast`: a title, then paragraphs of 3 to 6
    /// sentences. Returns the text and its exact token count.
    pub fn prose(
        &self,
        title: &str,
        cast: &Cast,
        target: usize,
        rng: &mut Rng,
        tok: &dyn Tokenizer,
    ) -> (String, usize) {
        let mut text = format!("# {title}\n\n");
        let mut tokens = tok.count(&text);
        let mut in_para = 0;
        let mut para_len = rng.range(3, 6);
        while tokens < target {
            let s = self.sentence(cast, rng);
            let piece = if in_para == 0 { s } else { format!(" {s}") };
            tokens += tok.count(&piece);
            text.push_str(&piece);
            in_para += 1;
            if in_para == para_len {
                text.push_str("\n\n");
                tokens += 1;
                in_para = 0;
                para_len = rng.range(3, 6);
            }
        }
        let text = text.trim_end().to_string();
        let tokens = tok.count(&text);
        (text, tokens)
    }
}

/// `n` documents of about `tokens` tokens each, for the insert benchmark.
pub fn documents(seed: u64, n: usize, tokens: usize, tok: &dyn Tokenizer) -> Vec<Doc> {
    let world = World::standard(seed);
    (0..n)
        .map(|i| {
            let mut rng = Rng::new(seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let cast = world.cast(&mut rng);
            let about = cast.people.first().map_or("the coast", String::as_str);
            let title = format!("Chronicle {} — notes on {about}", i + 1);
            let (text, count) = world.prose(&title, &cast, tokens, &mut rng, tok);
            Doc {
                key: format!("bench/chronicle-{:05}.md", i + 1),
                text,
                tokens: count,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lightrag_core::tokenizer::TiktokenTokenizer;
    use lightrag_providers::offline::OfflineExtractor;

    #[test]
    fn deterministic_distinct_and_about_the_requested_size() {
        let tok = TiktokenTokenizer::o200k();
        let a = documents(42, 20, 500, &tok);
        let b = documents(42, 20, 500, &tok);
        assert_eq!(a.len(), 20);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.text, y.text);
            assert_eq!(x.key, y.key);
        }
        let distinct: HashSet<&str> = a.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(distinct.len(), 20);
        let keys: HashSet<&str> = a.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys.len(), 20);
        for d in &a {
            assert_eq!(d.tokens, tok.count(&d.text));
            assert!((480..=560).contains(&d.tokens), "{} tokens", d.tokens);
        }
        let other = documents(43, 1, 500, &tok);
        assert_ne!(other[0].text, a[0].text);
    }

    #[test]
    fn names_recur_and_are_extracted() {
        let tok = TiktokenTokenizer::o200k();
        let docs = documents(7, 30, 400, &tok);
        let world = World::standard(7);
        // The most frequent person is in many documents, a rare one in few.
        let hub = &world.people[0];
        let with_hub = docs
            .iter()
            .filter(|d| d.text.contains(hub.as_str()))
            .count();
        assert!(with_hub >= 8, "hub in {with_hub} of 30 documents");
        let ex = OfflineExtractor::new();
        let found = ex.extract_text(&docs[0].text, "c", "f");
        let names: HashSet<&str> = found.entities.iter().map(|e| e.name.as_str()).collect();
        assert!(found.entities.len() >= 5, "{names:?}");
        assert!(!found.relations.is_empty());
        let cast = docs[0].text.lines().next().unwrap_or_default();
        assert!(cast.starts_with("# Chronicle 1"));
    }
}
