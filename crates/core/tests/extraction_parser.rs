//! The tolerant parsers of LLM replies (`lightrag_core::llm::parse`): LightRAG's golden outputs
//! for normalisation and delimiter repair, a corpus of malformed extraction replies generated
//! from base replies and mutations, property tests on arbitrary input, and keyword replies.

use std::collections::BTreeSet;

use lightrag_core::llm::parse::{
    fix_tuple_delimiter_corruption, normalize_entity_type, normalize_name, normalize_text,
    parse_extraction_json, parse_extraction_text, parse_keywords, ParsedExtraction,
    COMPLETION_DELIMITER, TUPLE_DELIMITER,
};
use lightrag_core::query::Keywords;
use proptest::prelude::*;
use serde_json::{json, Value};

const CHUNK: &str = "doc-1-chunk-000";
const FILE: &str = "notes/acme.txt";

// ---------------------------------------------------------------------------------------------
// Invariants every parse result must hold.

fn check_invariants(p: &ParsedExtraction, chunk: &str, file: &str) {
    for e in &p.extraction.entities {
        assert!(!e.name.trim().is_empty(), "empty entity name: {e:?}");
        assert!(
            !e.description.trim().is_empty(),
            "empty entity description: {e:?}"
        );
        assert!(
            !e.entity_type.is_empty() && e.entity_type == e.entity_type.to_lowercase(),
            "bad type: {e:?}"
        );
        assert!(!e.entity_type.contains(' '), "type with a space: {e:?}");
        assert!(
            e.name.chars().count() <= 256 && e.name.len() <= 512,
            "name too long"
        );
        assert_eq!((e.source_id.as_str(), e.file_path.as_str()), (chunk, file));
    }
    for r in &p.extraction.relations {
        assert!(
            !r.src.trim().is_empty() && !r.tgt.trim().is_empty(),
            "empty endpoint: {r:?}"
        );
        assert_ne!(r.src, r.tgt, "self relation: {r:?}");
        assert!(
            !r.description.trim().is_empty(),
            "empty relation description: {r:?}"
        );
        assert!(r.weight.is_finite() && r.weight > 0.0, "bad weight: {r:?}");
        assert!(
            r.src.chars().count() <= 256 && r.tgt.len() <= 512,
            "name too long"
        );
        assert_eq!((r.source_id.as_str(), r.file_path.as_str()), (chunk, file));
    }
}

// ---------------------------------------------------------------------------------------------
// The reference example.

#[test]
fn reference_example_parses() {
    let reply = "entity<|#|>Acme Corp<|#|>Organization<|#|>Acme Corp is a rocket maker based in Ohio.\n\
                 entity<|#|>Jane Roe<|#|>Person<|#|>Jane Roe is the chief executive of Acme Corp.\n\
                 relation<|#|>Jane Roe<|#|>Acme Corp<|#|>leadership, employment<|#|>Jane Roe leads Acme Corp as CEO.\n\
                 <|COMPLETE|>";
    let p = parse_extraction_text(reply, CHUNK, FILE);
    check_invariants(&p, CHUNK, FILE);
    assert!(p.completed);
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    assert_eq!(p.records_seen, 3);
    let types: Vec<(&str, &str)> = p
        .extraction
        .entities
        .iter()
        .map(|e| (e.name.as_str(), e.entity_type.as_str()))
        .collect();
    assert_eq!(
        types,
        vec![("Acme Corp", "organization"), ("Jane Roe", "person")]
    );
    assert_eq!(p.extraction.relations.len(), 1);
    let r = &p.extraction.relations[0];
    assert_eq!((r.src.as_str(), r.tgt.as_str()), ("Jane Roe", "Acme Corp"));
    assert_eq!(r.keywords, "leadership, employment");
    assert_eq!(r.description, "Jane Roe leads Acme Corp as CEO.");
    assert_eq!(r.weight, 1.0);
    assert_eq!(TUPLE_DELIMITER, "<|#|>");
    assert_eq!(COMPLETION_DELIMITER, "<|COMPLETE|>");
}

// ---------------------------------------------------------------------------------------------
// Golden outputs of LightRAG 1.5.7's own functions (generated with the Python package).

#[test]
fn normalisation_and_delimiter_repair_match_lightrag() {
    let golden: Value = serde_json::from_str(include_str!("data/extraction/lightrag_golden.json"))
        .expect("golden file");
    let mut checked = 0;
    for case in golden["normalize"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        let name = case["name"].as_str().unwrap();
        let expected_name = if name.trim().is_empty() {
            None
        } else {
            Some(name.to_string())
        };
        assert_eq!(normalize_name(input), expected_name, "name of {input:?}");
        assert_eq!(
            normalize_text(input, false),
            case["description"].as_str().unwrap(),
            "description of {input:?}"
        );
        assert_eq!(
            normalize_entity_type(input).as_deref(),
            case["type"].as_str(),
            "type of {input:?}"
        );
        checked += 1;
    }
    for case in golden["delimiter"].as_array().unwrap() {
        let input = case["input"].as_str().unwrap();
        assert_eq!(
            fix_tuple_delimiter_corruption(input, "#", TUPLE_DELIMITER),
            case["output"].as_str().unwrap(),
            "repair of {input:?}"
        );
        checked += 1;
    }
    assert!(checked >= 800, "{checked}");
}

// ---------------------------------------------------------------------------------------------
// Base replies.

#[derive(Clone)]
struct Ent {
    name: String,
    ty: String,
    desc: String,
}

#[derive(Clone)]
struct Rel {
    src: String,
    tgt: String,
    kw: String,
    desc: String,
    weight: f64,
}

#[derive(Clone)]
struct Base {
    ents: Vec<Ent>,
    rels: Vec<Rel>,
}

const ORGS: [&str; 10] = [
    "Acme Corp",
    "Globex",
    "Initech",
    "Umbrella Labs",
    "Stark Industries",
    "Wayne Enterprises",
    "Cyberdyne Systems",
    "Tyrell Corporation",
    "Soylent Co",
    "Nakatomi Trading",
];
const PERSONS: [&str; 10] = [
    "Jane Roe",
    "John Doe",
    "Ada Lovelace",
    "Alan Turing",
    "Grace Hopper",
    "Marie Curie",
    "Nikola Tesla",
    "Hedy Lamarr",
    "Rosalind Franklin",
    "Katherine Johnson",
];
const PLACES: [&str; 5] = [
    "Ohio",
    "Lake Varna",
    "Port Elise",
    "New Amsterdam",
    "Mount Kessel",
];
const EVENTS: [&str; 3] = ["Summit 2024", "Great Flood of 1921", "Expo 67"];
const CJK_ORGS: [&str; 4] = ["中国人民银行", "北京大学", "华为技术有限公司", "清华大学"];
const CJK_PERSONS: [&str; 4] = ["李明", "王芳", "张伟", "刘洋"];
const CJK_PLACES: [&str; 4] = ["上海", "深圳", "杭州", "成都"];

fn ent(name: &str, ty: &str, desc: String) -> Ent {
    Ent {
        name: name.into(),
        ty: ty.into(),
        desc,
    }
}

fn rel(src: &str, tgt: &str, kw: &str, desc: String, weight: f64) -> Rel {
    Rel {
        src: src.into(),
        tgt: tgt.into(),
        kw: kw.into(),
        desc,
        weight,
    }
}

/// Twenty base replies: sixteen in English, four in Chinese.
fn bases() -> Vec<Base> {
    let mut out = Vec::new();
    for i in 0..16 {
        let org = ORGS[i % 10];
        let person = PERSONS[(i * 3 + 1) % 10];
        let place = PLACES[i % 5];
        let mut ents = vec![
            ent(
                org,
                "Organization",
                format!(
                    "{org} is a company that builds things, founded in {}.",
                    1900 + i * 7
                ),
            ),
            ent(
                person,
                "Person",
                format!("{person} works at {org}; colleagues call her \"the engine\"."),
            ),
            ent(
                place,
                "Location",
                format!(
                    "{place} is where {org} has its head office (since {}).",
                    1950 + i
                ),
            ),
        ];
        let mut rels = vec![
            rel(
                person,
                org,
                "employment, leadership",
                format!("{person} leads {org} as chief executive."),
                1.0 + i as f64,
            ),
            rel(
                org,
                place,
                "location",
                format!("{org} is based in {place}."),
                2.0,
            ),
        ];
        if i % 2 == 0 {
            rels.push(rel(
                person,
                place,
                "residence",
                format!("{person} lives in {place}."),
                0.5,
            ));
        }
        if i % 3 == 0 {
            let ev = EVENTS[i % 3];
            ents.push(ent(
                ev,
                "Event",
                format!("{ev} was held by {org}: a gathering of 3,000 people."),
            ));
            rels.push(rel(
                org,
                ev,
                "organisation, hosting",
                format!("{org} organised {ev}."),
                3.0,
            ));
        }
        out.push(Base { ents, rels });
    }
    for i in 0..4 {
        let org = CJK_ORGS[i];
        let person = CJK_PERSONS[i];
        let place = CJK_PLACES[i];
        out.push(Base {
            ents: vec![
                ent(
                    org,
                    "Organization",
                    format!("{org}是一家位于{place}的机构。"),
                ),
                ent(person, "Person", format!("{person}在{org}工作。")),
                ent(place, "Location", format!("{place}是一座城市。")),
            ],
            rels: vec![
                rel(
                    person,
                    org,
                    "雇佣，领导",
                    format!("{person}领导{org}。"),
                    1.0,
                ),
                rel(org, place, "位置", format!("{org}位于{place}。"), 1.0),
            ],
        });
    }
    out
}

fn norm(name: &str) -> String {
    normalize_name(name).expect("base names normalise")
}

fn entity_line(kw: &str, d: &str, fields: &[&str]) -> String {
    let mut parts = vec![kw];
    parts.extend_from_slice(fields);
    parts.join(d)
}

fn entity_fields(e: &Ent) -> Vec<&str> {
    vec![e.name.as_str(), e.ty.as_str(), e.desc.as_str()]
}

fn relation_fields(r: &Rel) -> Vec<&str> {
    vec![
        r.src.as_str(),
        r.tgt.as_str(),
        r.kw.as_str(),
        r.desc.as_str(),
    ]
}

/// The record lines of a base in the current format.
fn record_lines(b: &Base) -> Vec<String> {
    let mut lines: Vec<String> = b
        .ents
        .iter()
        .map(|e| entity_line("entity", TUPLE_DELIMITER, &entity_fields(e)))
        .collect();
    lines.extend(
        b.rels
            .iter()
            .map(|r| entity_line("relation", TUPLE_DELIMITER, &relation_fields(r))),
    );
    lines
}

fn with_completion(lines: &[String]) -> String {
    format!("{}\n{COMPLETION_DELIMITER}", lines.join("\n"))
}

// ---------------------------------------------------------------------------------------------
// Expectations.

#[derive(Default, Clone)]
struct Expect {
    entities: Vec<String>,
    relations: Vec<(String, String)>,
    /// Records were dropped or the reply is incomplete: a warning must say so.
    warnings: bool,
    /// Nothing was dropped: no warning may mention a drop.
    no_drops: bool,
    /// Only names of the base may appear.
    only_base_names: bool,
    completed: Option<bool>,
    /// Names that must not appear.
    absent: Vec<String>,
}

fn all_of(b: &Base) -> Expect {
    Expect {
        entities: b.ents.iter().map(|e| norm(&e.name)).collect(),
        relations: b
            .rels
            .iter()
            .map(|r| (norm(&r.src), norm(&r.tgt)))
            .collect(),
        no_drops: true,
        only_base_names: true,
        completed: Some(true),
        ..Default::default()
    }
}

struct Case {
    label: String,
    base: usize,
    reply: String,
    json: bool,
    expect: Expect,
}

fn run_case(c: &Case, bases: &[Base]) -> ParsedExtraction {
    let p = if c.json {
        parse_extraction_json(&c.reply, CHUNK, FILE)
    } else {
        parse_extraction_text(&c.reply, CHUNK, FILE)
    };
    check_invariants(&p, CHUNK, FILE);
    let names: BTreeSet<String> = p
        .extraction
        .entities
        .iter()
        .map(|e| e.name.clone())
        .collect();
    let pairs: BTreeSet<(String, String)> = p
        .extraction
        .relations
        .iter()
        .map(|r| (r.src.clone(), r.tgt.clone()))
        .collect();
    let ctx = || {
        format!(
            "case {} (base {})\nreply: {:?}\nwarnings: {:?}",
            c.label, c.base, c.reply, p.warnings
        )
    };
    for e in &c.expect.entities {
        assert!(
            names.contains(e),
            "entity {e:?} not found; got {names:?}\n{}",
            ctx()
        );
    }
    for r in &c.expect.relations {
        assert!(
            pairs.contains(r),
            "relation {r:?} not found; got {pairs:?}\n{}",
            ctx()
        );
    }
    for a in &c.expect.absent {
        assert!(
            !names.contains(a) && !pairs.iter().any(|(s, t)| s == a || t == a),
            "{a:?} must not appear\n{}",
            ctx()
        );
    }
    if c.expect.warnings {
        assert!(!p.warnings.is_empty(), "a warning was expected\n{}", ctx());
    }
    if c.expect.no_drops {
        assert!(
            !p.warnings.iter().any(|w| w.contains("dropped")),
            "unexpected drop\n{}",
            ctx()
        );
    }
    if let Some(done) = c.expect.completed {
        assert_eq!(p.completed, done, "completed\n{}", ctx());
    }
    if c.expect.only_base_names {
        let b = &bases[c.base];
        let known: BTreeSet<String> = b.ents.iter().map(|e| norm(&e.name)).collect();
        for n in names.iter().chain(pairs.iter().flat_map(|(s, t)| [s, t])) {
            assert!(known.contains(n), "unexpected name {n:?}\n{}", ctx());
        }
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Mutations.

const CORRUPTIONS: [&str; 16] = [
    "<|##|>", "<|\\#|>", "<|>", "<||>", "<X|#|>", "<#>", "<|#>", "<#|>", "<|#|", "<|#:", "<||#>",
    "<||", "|#|>", "<|#|>|", "||#||", "<|#||",
];

fn fullwidth(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xFEE0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

fn spaced_cjk(s: &str) -> String {
    let cs: Vec<String> = s.chars().map(String::from).collect();
    if s.chars().all(|c| ('\u{4e00}'..='\u{9fa5}').contains(&c)) {
        cs.join(" ")
    } else {
        s.to_string()
    }
}

fn quote(s: &str, k: usize) -> String {
    let (o, c) = [
        ("\"", "\""),
        ("'", "'"),
        ("“", "”"),
        ("‘", "’"),
        ("《", "》"),
    ][k % 5];
    format!("{o}{s}{c}")
}

fn text_cases(bases: &[Base]) -> Vec<Case> {
    let mut cases = Vec::new();
    let d = TUPLE_DELIMITER;
    for (bi, b) in bases.iter().enumerate() {
        let lines = record_lines(b);
        let clean = with_completion(&lines);
        let all = all_of(b);
        let mut push = |label: &str, reply: String, expect: Expect| {
            cases.push(Case {
                label: label.to_string(),
                base: bi,
                reply,
                json: false,
                expect,
            });
        };
        push("clean", clean.clone(), all.clone());

        // Delimiter corruption: four variants per base, every record rewritten.
        for k in 0..4 {
            let v = CORRUPTIONS[(bi * 4 + k) % CORRUPTIONS.len()];
            let reply = with_completion(&lines.iter().map(|l| l.replace(d, v)).collect::<Vec<_>>());
            push(&format!("corruption {v}"), reply, all.clone());
        }
        // One corrupted record among clean ones, with spaces before the glued-only forms.
        {
            let mut ls = lines.clone();
            ls[0] = ls[0].replacen(d, "<|##|>", 1);
            push("one corrupted record", with_completion(&ls), all.clone());
        }

        // A missing field (one record per kind).
        {
            let e = &b.ents[bi % b.ents.len()];
            let mut ls = lines.clone();
            ls[bi % b.ents.len()] = entity_line("entity", d, &[&e.name, &e.desc]);
            let mut ex = all.clone();
            ex.entities.retain(|n| *n != norm(&e.name));
            ex.warnings = true;
            ex.no_drops = false;
            push("entity without type", with_completion(&ls), ex);

            let r = &b.rels[bi % b.rels.len()];
            let mut ls = lines.clone();
            ls[b.ents.len() + bi % b.rels.len()] =
                entity_line("relation", d, &[&r.src, &r.tgt, &r.desc]);
            let mut ex = all.clone();
            ex.relations.retain(|p| *p != (norm(&r.src), norm(&r.tgt)));
            ex.warnings = true;
            ex.no_drops = false;
            push("relation without keywords", with_completion(&ls), ex);
        }

        // An extra field: a 5-field entity row is read as a relation (name ~ type), a 6-field
        // relation row is dropped.
        {
            let e = &b.ents[0];
            let mut ls = lines.clone();
            ls[0] = format!("{}{d}extra", ls[0]);
            let mut ex = all.clone();
            ex.entities.retain(|n| *n != norm(&e.name));
            ex.warnings = true;
            ex.only_base_names = false;
            push("entity with an extra field", with_completion(&ls), ex);

            let r = &b.rels[0];
            let mut ls = lines.clone();
            ls[b.ents.len()] = format!("{}{d}0.9", ls[b.ents.len()]);
            let mut ex = all.clone();
            ex.relations.retain(|p| *p != (norm(&r.src), norm(&r.tgt)));
            ex.warnings = true;
            ex.no_drops = false;
            push("relation with an extra field", with_completion(&ls), ex);
        }

        // Fences, prose, think blocks, bullets, CRLF.
        push("fenced", format!("```\n{clean}\n```"), all.clone());
        push(
            "fenced text",
            format!("```text\n{clean}\n```\n"),
            all.clone(),
        );
        push(
            "prose around",
            format!("Here are the entities and relations I found:\n\n{clean}\n\nLet me know if you need anything else."),
            all.clone(),
        );
        {
            let mut ex = all.clone();
            ex.absent = vec!["Fake Thing".into()];
            push(
                "think block",
                format!("<think>Maybe entity{d}Fake Thing{d}Concept{d}Not real.\nthen more</think>\n{clean}"),
                ex,
            );
        }
        push(
            "bullets",
            with_completion(
                &lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if i % 2 == 0 {
                            format!("- {l}")
                        } else {
                            format!("{}. {l}", i + 1)
                        }
                    })
                    .collect::<Vec<_>>(),
            ),
            all.clone(),
        );
        push("crlf", clean.replace('\n', "\r\n"), all.clone());

        // Wrong case of the record type.
        {
            let kinds_e = ["Entity", "ENTITY", "eNtItY"];
            let kinds_r = ["Relation", "RELATION", "Relationship", "RELATIONSHIP"];
            let mut ls: Vec<String> = b
                .ents
                .iter()
                .enumerate()
                .map(|(i, e)| entity_line(kinds_e[(bi + i) % 3], d, &entity_fields(e)))
                .collect();
            ls.extend(
                b.rels
                    .iter()
                    .enumerate()
                    .map(|(i, r)| entity_line(kinds_r[(bi + i) % 4], d, &relation_fields(r))),
            );
            push("wrong case", with_completion(&ls), all.clone());
        }

        // Quoted names, bold markers, full-width letters, spaced CJK.
        {
            let quoted: Vec<Ent> = b
                .ents
                .iter()
                .enumerate()
                .map(|(i, e)| Ent {
                    name: quote(&e.name, bi + i),
                    ..e.clone()
                })
                .collect();
            let qrels: Vec<Rel> = b
                .rels
                .iter()
                .enumerate()
                .map(|(i, r)| Rel {
                    src: quote(&r.src, bi + i),
                    tgt: quote(&r.tgt, bi + i + 1),
                    ..r.clone()
                })
                .collect();
            push(
                "quoted names",
                with_completion(&record_lines(&Base {
                    ents: quoted,
                    rels: qrels,
                })),
                all.clone(),
            );

            let bold: Vec<String> = record_lines(b)
                .iter()
                .map(|l| {
                    l.split(d)
                        .map(|f| format!("**{f}**"))
                        .collect::<Vec<_>>()
                        .join(d)
                })
                .collect();
            push("bold", with_completion(&bold), all.clone());

            let fw = Base {
                ents: b
                    .ents
                    .iter()
                    .map(|e| Ent {
                        name: fullwidth(&e.name),
                        ty: fullwidth(&e.ty),
                        ..e.clone()
                    })
                    .collect(),
                rels: b
                    .rels
                    .iter()
                    .map(|r| Rel {
                        src: fullwidth(&r.src),
                        tgt: fullwidth(&r.tgt),
                        ..r.clone()
                    })
                    .collect(),
            };
            push(
                "full-width",
                with_completion(&record_lines(&fw)),
                all.clone(),
            );

            let sp = Base {
                ents: b
                    .ents
                    .iter()
                    .map(|e| Ent {
                        name: spaced_cjk(&e.name),
                        ..e.clone()
                    })
                    .collect(),
                rels: b
                    .rels
                    .iter()
                    .map(|r| Rel {
                        src: spaced_cjk(&r.src),
                        tgt: spaced_cjk(&r.tgt),
                        ..r.clone()
                    })
                    .collect(),
            };
            push(
                "spaced CJK",
                with_completion(&record_lines(&sp)),
                all.clone(),
            );
        }

        // Duplicated lines (kept: the merge de-duplicates), several records on one line,
        // mis-prefixed relations, the older delimiter with spaces.
        {
            let dup: Vec<String> = lines.iter().flat_map(|l| [l.clone(), l.clone()]).collect();
            push("duplicated lines", with_completion(&dup), all.clone());
            push(
                "one line",
                format!("{}{d}{COMPLETION_DELIMITER}", lines.join(d)),
                all.clone(),
            );
            let mis: Vec<String> = lines
                .iter()
                .map(|l| l.replacen("relation", "entity", 1))
                .collect();
            push(
                "relations with the entity prefix",
                with_completion(&mis),
                all.clone(),
            );
            let spaced: Vec<String> = lines.iter().map(|l| l.replace(d, " <|> ")).collect();
            push(
                "spaced old delimiter",
                with_completion(&spaced),
                all.clone(),
            );
        }

        // The older tuple form, with weights.
        {
            let mut recs: Vec<String> = b
                .ents
                .iter()
                .map(|e| {
                    format!(
                        "(\"entity\"<|>\"{}\"<|>\"{}\"<|>\"{}\")",
                        e.name, e.ty, e.desc
                    )
                })
                .collect();
            recs.extend(b.rels.iter().map(|r| {
                format!(
                    "(\"relationship\"<|>\"{}\"<|>\"{}\"<|>\"{}\"<|>\"{}\"<|>{})",
                    r.src, r.tgt, r.desc, r.kw, r.weight
                )
            }));
            recs.push("(\"content_keywords\"<|>\"business, places\")".into());
            let one_per_line = format!("{}\n{COMPLETION_DELIMITER}", recs.join("##\n"));
            push("old tuple form", one_per_line, all.clone());
            let one_line = format!("{}##{COMPLETION_DELIMITER}", recs.join("##"));
            push("old tuple form on one line", one_line, all.clone());
        }

        // Truncation: inside every line, and after the last record (no completion line).
        for k in 0..lines.len() {
            let cut: String = lines[k]
                .chars()
                .take(lines[k].chars().count() / 2)
                .collect();
            let mut reply = lines[..k].join("\n");
            reply.push('\n');
            reply.push_str(&cut);
            let mut ex = Expect {
                warnings: true,
                only_base_names: true,
                completed: Some(false),
                ..Default::default()
            };
            for l in &lines[..k] {
                if let Some(e) = b
                    .ents
                    .iter()
                    .find(|e| *l == entity_line("entity", d, &entity_fields(e)))
                {
                    ex.entities.push(norm(&e.name));
                }
                if let Some(r) = b
                    .rels
                    .iter()
                    .find(|r| *l == entity_line("relation", d, &relation_fields(r)))
                {
                    ex.relations.push((norm(&r.src), norm(&r.tgt)));
                }
            }
            push(&format!("cut inside line {k}"), reply, ex);
        }
        {
            let mut ex = all.clone();
            ex.warnings = true;
            ex.completed = Some(false);
            push("no completion line", lines.join("\n"), ex);
        }
    }

    // Replies with nothing to find.
    let nothing = Expect {
        warnings: true,
        only_base_names: true,
        completed: Some(false),
        ..Default::default()
    };
    for (label, reply) in [
        ("empty", String::new()),
        ("blank", " \n\t\n ".to_string()),
        (
            "garbage",
            "I'm sorry, but I cannot help with that request.".to_string(),
        ),
        ("binary-ish", "\u{0}\u{1}\u{7f}<<<>>>|||###".to_string()),
        (
            "delimiters only",
            "<|#|><|#|><|#|>\n<|><|>\n||#||".to_string(),
        ),
        (
            "unknown record types",
            "person<|#|>Bob<|#|>Bob is a person.\nfoo<|#|>bar<|#|>baz<|#|>qux<|#|>quux".to_string(),
        ),
        ("lone types", "entity\nrelation\nentity<|#|>\n".to_string()),
        (
            "think only",
            "<think>entity<|#|>Fake<|#|>Concept<|#|>Hidden.</think>".to_string(),
        ),
        ("unclosed brace", "{{{{[[[[".to_string()),
    ] {
        cases.push(Case {
            label: label.into(),
            base: 0,
            reply,
            json: false,
            expect: nothing.clone(),
        });
    }
    // A whole JSON object of the wrong shape: complete, but nothing in it.
    cases.push(Case {
        label: "json of the wrong shape".into(),
        base: 0,
        reply: "{\"entities\": \"none\"}".into(),
        json: false,
        expect: Expect {
            warnings: true,
            only_base_names: true,
            completed: Some(true),
            ..Default::default()
        },
    });
    // Just the completion line: a valid "nothing found".
    cases.push(Case {
        label: "completion only".into(),
        base: 0,
        reply: COMPLETION_DELIMITER.into(),
        json: false,
        expect: Expect {
            only_base_names: true,
            no_drops: true,
            completed: Some(true),
            ..Default::default()
        },
    });
    cases.push(Case {
        label: "lowercase completion".into(),
        base: 0,
        reply: with_completion(&record_lines(&bases[0]))
            .replace(COMPLETION_DELIMITER, "<|complete|>"),
        json: false,
        expect: all_of(&bases[0]),
    });
    cases
}

fn json_of(b: &Base) -> Value {
    json!({
        "entities": b.ents.iter().map(|e| json!({"name": e.name, "type": e.ty, "description": e.desc})).collect::<Vec<_>>(),
        "relationships": b.rels.iter().map(|r| json!({"source": r.src, "target": r.tgt, "keywords": r.kw, "description": r.desc})).collect::<Vec<_>>(),
    })
}

fn json_cases(bases: &[Base]) -> Vec<Case> {
    let mut cases = Vec::new();
    for (bi, b) in bases.iter().enumerate() {
        let v = json_of(b);
        let compact = v.to_string();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        let all = all_of(b);
        let mut push = |label: &str, reply: String, json: bool, expect: Expect| {
            cases.push(Case {
                label: label.to_string(),
                base: bi,
                reply,
                json,
                expect,
            });
        };
        push("json clean", compact.clone(), true, all.clone());
        push(
            "json fenced",
            format!("```json\n{pretty}\n```"),
            true,
            all.clone(),
        );
        push("json think and prose", format!("<think>\nplan {{\"entities\": []}}\n</think>\nSure! Here it is:\n{pretty}\nDone {{ok}}."), true, all.clone());
        push(
            "json single quotes",
            compact.replace('"', "'"),
            true,
            all.clone(),
        );
        push(
            "json trailing commas",
            pretty
                .replace("\n  ]", ",\n  ]")
                .replace("\n}", ",\n}")
                .replace("\"\n    }", "\",\n    }"),
            true,
            all.clone(),
        );
        push(
            "json unquoted keys",
            pretty
                .replace("\"name\":", "name:")
                .replace("\"type\":", "type:")
                .replace("\"source\":", "source:"),
            true,
            all.clone(),
        );
        push("json in text mode", pretty.clone(), false, all.clone());
        push(
            "text in json mode",
            with_completion(&record_lines(b)),
            true,
            all.clone(),
        );
        {
            let mut w = v.clone();
            w["entities"][0]["description"] = Value::Null;
            w["relationships"][0]["keywords"] = json!(["a", "b", 3]);
            w["entities"][1]["description"] = json!(20245);
            w["entities"][2]["type"] = json!(["Location", "Place"]);
            let mut ex = all.clone();
            ex.entities.retain(|n| *n != norm(&b.ents[0].name));
            ex.warnings = true;
            ex.no_drops = false;
            push("json odd values", w.to_string(), true, ex);
        }
        {
            let mut w = v.clone();
            w["relationships"][0]["target"] = w["relationships"][0]["source"].clone();
            w["entities"][1].as_object_mut().unwrap().remove("name");
            let mut ex = all.clone();
            ex.entities.retain(|n| *n != norm(&b.ents[1].name));
            ex.relations.remove(0);
            ex.warnings = true;
            ex.no_drops = false;
            push(
                "json self relation and missing name",
                w.to_string(),
                true,
                ex,
            );
        }
        for frac in [3, 6, 9] {
            let n = pretty.chars().count() * frac / 10;
            let cut: String = pretty.chars().take(n).collect();
            let ex = Expect {
                warnings: true,
                only_base_names: true,
                completed: Some(false),
                ..Default::default()
            };
            push(&format!("json cut at {frac}0%"), cut, true, ex);
        }
    }
    cases
}

#[test]
fn malformed_corpus() {
    let bases = bases();
    assert_eq!(bases.len(), 20);
    let mut cases = text_cases(&bases);
    cases.extend(json_cases(&bases));
    assert!(cases.len() >= 200, "{} cases", cases.len());
    let mut dump = Vec::new();
    for c in &cases {
        let p = run_case(c, &bases);
        dump.push(json!({
            "label": c.label, "base": c.base, "json": c.json, "reply": c.reply,
            "entities": p.extraction.entities.iter().map(|e| json!([e.name, e.entity_type, e.description])).collect::<Vec<_>>(),
            "relations": p.extraction.relations.iter().map(|r| json!([r.src, r.tgt, r.keywords, r.description, r.weight])).collect::<Vec<_>>(),
        }));
    }
    // For a side-by-side check against LightRAG's own parser.
    if let Ok(path) = std::env::var("EXTRACTION_CORPUS_DUMP") {
        std::fs::write(path, serde_json::to_string_pretty(&dump).unwrap()).unwrap();
    }
    eprintln!("malformed corpus: {} cases", cases.len());
}

/// Replies of the corpus on which LightRAG 1.5.7's own parser (run on them in Python) and this
/// one agree record for record: names, types, descriptions, keywords, weights, duplicates.
#[test]
fn corpus_matches_lightrag_records() {
    let golden: Value =
        serde_json::from_str(include_str!("data/extraction/lightrag_corpus_golden.json"))
            .expect("golden file");
    let cases = golden["cases"].as_array().unwrap();
    assert!(cases.len() >= 80);
    for c in cases {
        let reply = c["reply"].as_str().unwrap();
        let p = if c["json"].as_bool().unwrap() {
            parse_extraction_json(reply, CHUNK, FILE)
        } else {
            parse_extraction_text(reply, CHUNK, FILE)
        };
        let mut ents: Vec<Value> = p
            .extraction
            .entities
            .iter()
            .map(|e| json!([e.name, e.entity_type, e.description]))
            .collect();
        let mut rels: Vec<Value> = p
            .extraction
            .relations
            .iter()
            .map(|r| json!([r.src, r.tgt, r.keywords, r.description, r.weight]))
            .collect();
        let key = |v: &Value| v.to_string();
        ents.sort_by_key(key);
        rels.sort_by_key(key);
        let mut want_e = c["entities"].as_array().unwrap().clone();
        let mut want_r = c["relations"].as_array().unwrap().clone();
        want_e.sort_by_key(key);
        want_r.sort_by_key(key);
        assert_eq!(ents, want_e, "entities of {}: {reply:?}", c["label"]);
        assert_eq!(rels, want_r, "relations of {}: {reply:?}", c["label"]);
    }
}

/// Parses the replies of the JSON list in `EXTRACTION_PARSE_INPUT` and writes the records to
/// `EXTRACTION_PARSE_OUTPUT` (for side-by-side runs against LightRAG's parser).
#[test]
#[ignore]
fn parse_external_replies() {
    let (Ok(input), Ok(output)) = (
        std::env::var("EXTRACTION_PARSE_INPUT"),
        std::env::var("EXTRACTION_PARSE_OUTPUT"),
    ) else {
        return;
    };
    let replies: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(input).unwrap()).unwrap();
    let out: Vec<Value> = replies
        .iter()
        .map(|r| {
            let reply = r["reply"].as_str().unwrap_or_default();
            let p = if r["json"].as_bool().unwrap_or(false) {
                parse_extraction_json(reply, CHUNK, FILE)
            } else {
                parse_extraction_text(reply, CHUNK, FILE)
            };
            json!({
                "entities": p.extraction.entities.iter().map(|e| json!([e.name, e.entity_type, e.description])).collect::<Vec<_>>(),
                "relations": p.extraction.relations.iter().map(|r| json!([r.src, r.tgt, r.keywords, r.description, r.weight])).collect::<Vec<_>>(),
                "warnings": p.warnings,
            })
        })
        .collect();
    std::fs::write(output, serde_json::to_string(&out).unwrap()).unwrap();
}

#[test]
fn older_tuple_form_keeps_field_order_and_weight() {
    let b = &bases()[0];
    let r = &b.rels[0];
    let reply = format!(
        "(\"relationship\"<|>\"{}\"<|>\"{}\"<|>\"{}\"<|>\"{}\"<|>{})##\n<|COMPLETE|>",
        r.src, r.tgt, r.desc, r.kw, r.weight
    );
    let p = parse_extraction_text(&reply, CHUNK, FILE);
    let got = &p.extraction.relations[0];
    assert_eq!(
        (got.description.as_str(), got.keywords.as_str(), got.weight),
        (r.desc.as_str(), r.kw.as_str(), r.weight)
    );
    // A weight that is not a positive number falls back to 1.0.
    let p = parse_extraction_text(
        "(\"relationship\"<|>A Co<|>B Co<|>They trade.<|>trade<|>-3)",
        CHUNK,
        FILE,
    );
    assert_eq!(p.extraction.relations[0].weight, 1.0);
}

#[test]
fn cjk_normalisation_in_records() {
    let reply = "entity<|#|>中国 人民 银行<|#|>Organization<|#|>中国 人民 银行 是 中央银行。\n\
                 entity<|#|>“李明”<|#|>Person<|#|>李明 在 ABC 工作。\n\
                 relation<|#|>李明<|#|>中国人民银行<|#|>雇佣，领导<|#|>李明 领导 中国人民银行。\n<|COMPLETE|>";
    let p = parse_extraction_text(reply, CHUNK, FILE);
    let names: Vec<&str> = p
        .extraction
        .entities
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["中国人民银行", "李明"]);
    assert_eq!(
        p.extraction.entities[0].description,
        "中国人民银行是中央银行。"
    );
    assert_eq!(p.extraction.entities[1].description, "李明在ABC工作。");
    assert_eq!(p.extraction.relations[0].keywords, "雇佣,领导");
}

#[test]
fn long_names_are_truncated() {
    let long = "N".repeat(300);
    let cjk = "名".repeat(200);
    let reply = format!("entity<|#|>{long}<|#|>Concept<|#|>A long name.\nentity<|#|>{cjk}<|#|>Concept<|#|>A long CJK name.\n<|COMPLETE|>");
    let p = parse_extraction_text(&reply, CHUNK, FILE);
    assert_eq!(p.extraction.entities[0].name.len(), 256);
    assert_eq!(p.extraction.entities[1].name.len(), 510);
    check_invariants(&p, CHUNK, FILE);
}

// ---------------------------------------------------------------------------------------------
// Property tests.

const SPLICE: [&str; 28] = [
    "<|#|>",
    "<|COMPLETE|>",
    "entity",
    "relation",
    "relationship",
    "\n",
    "<|>",
    "##",
    "(",
    ")",
    "\"",
    "'",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "**",
    "```",
    "<think>",
    "</think>",
    "中文",
    " ",
    "12",
    "《",
    "》",
    "\\",
];

fn spliced() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(SPLICE.to_vec()).prop_map(String::from),
            ".{0,6}"
        ],
        0..40,
    )
    .prop_map(|v| v.concat())
}

fn check_all(s: &str) {
    check_invariants(&parse_extraction_text(s, CHUNK, FILE), CHUNK, FILE);
    check_invariants(&parse_extraction_json(s, CHUNK, FILE), CHUNK, FILE);
    if let Some(k) = parse_keywords(s) {
        assert!(k
            .high_level
            .iter()
            .chain(&k.low_level)
            .all(|w| !w.is_empty() && w.trim() == w));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_strings_never_panic(s in ".*") {
        check_all(&s);
    }

    #[test]
    fn spliced_delimiters_never_panic(s in spliced()) {
        check_all(&s);
    }

    #[test]
    fn json_like_input_never_panics(s in r#"[\[\]{}",:'a-c0-9 \n\\]{0,80}"#) {
        check_all(&s);
        check_all(&format!("{{\"entities\": [{s}], \"relationships\": [{s}"));
    }

    #[test]
    fn names_normalise_idempotently(s in ".{0,40}") {
        if let Some(n) = normalize_name(&s) {
            prop_assert!(!n.trim().is_empty());
            prop_assert!(n.chars().count() <= 256 && n.len() <= 512);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Keyword replies.

fn kw(high: &[&str], low: &[&str]) -> Option<Keywords> {
    Some(Keywords {
        high_level: high.iter().map(|s| s.to_string()).collect(),
        low_level: low.iter().map(|s| s.to_string()).collect(),
    })
}

#[test]
fn keyword_replies() {
    let clean = r#"{"high_level_keywords": ["International trade", "Economic growth"], "low_level_keywords": ["Tariffs", "Ohio"]}"#;
    let want = kw(
        &["International trade", "Economic growth"],
        &["Tariffs", "Ohio"],
    );
    assert_eq!(parse_keywords(clean), want);
    assert_eq!(parse_keywords(&format!("```json\n{clean}\n```")), want);
    assert_eq!(parse_keywords(&format!("```\n{clean}\n```")), want);
    assert_eq!(
        parse_keywords(&format!(
            "<think>The user asks about trade.</think>\n{clean}"
        )),
        want
    );
    assert_eq!(
        parse_keywords(&format!(
            "<think>{{\"high_level_keywords\": [\"x\"]}}</think>{clean}"
        )),
        want
    );
    assert_eq!(parse_keywords(&clean.replace('"', "'")), want);
    assert_eq!(
        parse_keywords(&clean.replace("]}", "],}").replace("\"]", "\",]")),
        want
    );
    assert_eq!(
        parse_keywords(&format!(
            "Sure, here are the keywords:\n{clean}\nHope that helps."
        )),
        want
    );
    assert_eq!(
        parse_keywords(
            r#"{"high_level_keywords": "International trade, Economic growth", "low_level_keywords": "Tariffs;Ohio\n"}"#
        ),
        want
    );
    assert_eq!(
        parse_keywords(
            r#"{"high_level_keywords": ["  International trade ", "", 42, null, "Economic growth"], "low_level_keywords": ["Tariffs", "Ohio"]}"#
        ),
        want
    );
    // A missing key is an empty list; a missing object is nothing usable.
    assert_eq!(
        parse_keywords(r#"{"low_level_keywords": ["Tariffs"]}"#),
        kw(&[], &["Tariffs"])
    );
    assert_eq!(
        parse_keywords(r#"{"high_level_keywords": [], "low_level_keywords": []}"#),
        kw(&[], &[])
    );
    assert_eq!(
        parse_keywords(r#"{"high_level_keywords": 5, "low_level_keywords": {"a": 1}}"#),
        kw(&[], &[])
    );
    // Cut off, or with broken structure: the lists are found by key.
    assert_eq!(
        parse_keywords(
            r#"{"high_level_keywords": ["International trade", "Economic growth"], "low_level_keywords": ["Tariffs", "Ohio", "Clev"#
        ),
        want
    );
    assert_eq!(
        parse_keywords(
            r#"high_level_keywords: ["International trade", "Economic growth"]; low_level_keywords: ["Tariffs", "Ohio"]"#
        ),
        want
    );
    for garbage in [
        "",
        "   ",
        "I cannot help with that.",
        "[\"a\", \"b\"]",
        "\"just a string\"",
        "{\"answer\": \"none\"}",
        "{}",
        "null",
        "{{{",
        "<think>only thinking</think>",
    ] {
        assert_eq!(parse_keywords(garbage), None, "{garbage:?}");
    }
}
