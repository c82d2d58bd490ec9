//! The offline (no LLM) extractor: names, types, relations, Markdown, robustness, speed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lightrag_core::ports::Extractor;
use lightrag_core::tokenizer::{TiktokenTokenizer, Tokenizer};
use lightrag_core::types::{Chunk, ChunkExtraction, ExtractedEntity, ExtractedRelation};
use lightrag_providers::offline::{OfflineExtractor, OFFLINE_EXTRACTOR_VERSION};
use proptest::prelude::*;

fn extract(text: &str) -> ChunkExtraction {
    OfflineExtractor::new().extract_text(text, "chunk-1", "doc.txt")
}

fn names(x: &ChunkExtraction) -> Vec<&str> {
    x.entities.iter().map(|e| e.name.as_str()).collect()
}

fn entity<'a>(x: &'a ChunkExtraction, name: &str) -> &'a ExtractedEntity {
    x.entities
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("no entity {name:?} in {:?}", names(x)))
}

fn relation<'a>(x: &'a ChunkExtraction, a: &str, b: &str) -> Option<&'a ExtractedRelation> {
    x.relations
        .iter()
        .find(|r| (r.src == a && r.tgt == b) || (r.src == b && r.tgt == a))
}

fn examples_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

fn example(name: &str) -> String {
    std::fs::read_to_string(examples_dir().join(name)).expect("example document")
}

/// Every record is complete and no relation links an entity to itself.
fn assert_well_formed(x: &ChunkExtraction, source_id: &str, file_path: &str) {
    let mut seen = HashSet::new();
    for e in &x.entities {
        assert!(!e.name.trim().is_empty(), "{e:?}");
        assert_eq!(e.name, e.name.trim(), "{e:?}");
        assert!(!e.entity_type.is_empty(), "{e:?}");
        assert!(!e.description.trim().is_empty(), "{e:?}");
        assert!(!e.description.contains("<SEP>"), "{e:?}");
        assert_eq!(e.source_id, source_id);
        assert_eq!(e.file_path, file_path);
        assert!(seen.insert(e.name.clone()), "duplicate entity {}", e.name);
    }
    let mut pairs = HashSet::new();
    for r in &x.relations {
        assert!(!r.src.is_empty() && !r.tgt.is_empty(), "{r:?}");
        assert_ne!(r.src, r.tgt, "self-relation {r:?}");
        assert!(
            seen.contains(&r.src) && seen.contains(&r.tgt),
            "dangling {r:?}"
        );
        assert!(!r.keywords.trim().is_empty(), "{r:?}");
        assert!(!r.description.trim().is_empty(), "{r:?}");
        assert!(!r.description.contains("<SEP>"), "{r:?}");
        assert!(r.weight >= 1.0, "{r:?}");
        assert_eq!(r.source_id, source_id);
        assert_eq!(r.file_path, file_path);
        let key = if r.src < r.tgt {
            (r.src.clone(), r.tgt.clone())
        } else {
            (r.tgt.clone(), r.src.clone())
        };
        assert!(pairs.insert(key), "duplicate relation {r:?}");
    }
}

#[test]
fn empty_and_blank_text_give_nothing() {
    for text in [
        "",
        "   \n\n\t ",
        "the end.",
        "# \n- \n* * *\n```\nNASA\n```",
        "1962. 2003!",
    ] {
        assert_eq!(extract(text), ChunkExtraction::default(), "{text:?}");
    }
}

#[test]
fn names_with_connectors() {
    let x = extract(
        "She studied at the University of Oslo before joining the Bank of England. \
         Later she moved to the Institute for Advanced Study and listened to Ludwig van \
         Beethoven. Her brother worked for Johnson & Johnson and the Ministry of Fisheries and \
         Oceans.",
    );
    let n = names(&x);
    for want in [
        "University of Oslo",
        "Bank of England",
        "Institute for Advanced Study",
        "Ludwig van Beethoven",
        "Johnson & Johnson",
        "Ministry of Fisheries and Oceans",
    ] {
        assert!(n.contains(&want), "{want:?} not in {n:?}");
    }
    assert_well_formed(&x, "chunk-1", "doc.txt");
}

#[test]
fn connectors_do_not_glue_separate_names() {
    let x = extract(
        "The survey was run by Mara Lindqvist and Tomas Berg. Dr. Ilse Morgan of the Vell River \
         Institute joined them in Harrowmere, Oslo and Bergen.",
    );
    let n = names(&x);
    for want in [
        "Mara Lindqvist",
        "Tomas Berg",
        "Ilse Morgan",
        "Vell River Institute",
        "Harrowmere",
        "Oslo",
        "Bergen",
    ] {
        assert!(n.contains(&want), "{want:?} not in {n:?}");
    }
    assert!(
        n.iter()
            .all(|name| !name.contains(" and ") && !name.contains(" of ")),
        "{n:?}"
    );
}

#[test]
fn acronyms_and_names_with_digits() {
    let x = extract(
        "Engineers at NASA tested the Model X2 in the U.S. last year. The crew of Apollo 11 \
         wrote about World War II. It was OK.",
    );
    let n = names(&x);
    for want in ["NASA", "Model X2", "U.S.", "Apollo 11", "World War II"] {
        assert!(n.contains(&want), "{want:?} not in {n:?}");
    }
    assert!(!n.contains(&"OK") && !n.contains(&"It"), "{n:?}");
    assert_eq!(entity(&x, "Model X2").entity_type, "artifact");
    assert_eq!(entity(&x, "World War II").entity_type, "event");
}

#[test]
fn acronym_defined_in_parentheses_takes_the_type_of_its_expansion() {
    let x = extract("The Marren Water Authority (MWA) sent pumps. The MWA later sent engineers.");
    assert_eq!(entity(&x, "MWA").entity_type, "organization");
}

#[test]
fn sentence_start_stopwords_and_common_words_are_ignored() {
    let x = extract(
        "The institute opened in 1962. However, Lindqvist stayed in Harrowmere. In 1967 the \
         river flooded. After the flood, Lindqvist wrote a report. Researchers praised her. \
         This was new. Several researchers agreed.",
    );
    let n = names(&x);
    for bad in [
        "The",
        "However",
        "In",
        "After",
        "Researchers",
        "This",
        "Several",
    ] {
        assert!(
            !n.iter().any(|name| name.split(' ').any(|w| w == bad)),
            "{bad:?} in {n:?}"
        );
    }
    assert!(
        n.contains(&"Lindqvist") && n.contains(&"Harrowmere"),
        "{n:?}"
    );
}

#[test]
fn leading_determiner_is_dropped() {
    let x = extract("The Acme Corporation bought a mill. Later the Acme Corporation sold it.");
    assert_eq!(names(&x), vec!["Acme Corporation"]);
    assert_eq!(entity(&x, "Acme Corporation").entity_type, "organization");
}

#[test]
fn possessives_are_removed() {
    let x = extract(
        "Acme's new plant opened in March. The town welcomed Acme’s workers. NASA's probe \
         landed and Lindqvist's notebooks were published.",
    );
    let n = names(&x);
    assert!(
        n.contains(&"Acme") && n.contains(&"NASA") && n.contains(&"Lindqvist"),
        "{n:?}"
    );
    assert!(
        n.iter()
            .all(|name| !name.contains('\'') && !name.contains('’')),
        "{n:?}"
    );
    assert_eq!(n.iter().filter(|name| **name == "Acme").count(), 1);
    assert!(!n.contains(&"March"), "{n:?}");
}

#[test]
fn markdown_syntax_does_not_leak() {
    let md = "# The Vell River Institute\n\n\
              ## History of the *Vell River*\n\n\
              The **Vell River Institute** was founded by [Mara Lindqvist](https://example.org/mara) \
              in Harrowmere.\n\n\
              - **Tomas Berg**, geologist\n\
              * _Anna Kovac_, photographer\n\
              1. `Nils Aronsen` guided the party\n\n\
              > Quoted by the Valdren Geographical Society.\n\n\
              | Station | River |\n|---|---|\n| Kestrel Falls | Vell River |\n\n\
              ```rust\nlet Secret Code = 1;\n```\n\
              See ![Map of Lake Isolde](map.png) and <b>Port Ostra</b>.";
    let x = extract(md);
    let n = names(&x);
    for want in [
        "Vell River Institute",
        "Mara Lindqvist",
        "Harrowmere",
        "Tomas Berg",
        "Anna Kovac",
        "Nils Aronsen",
        "Valdren Geographical Society",
        "Kestrel Falls",
        "Vell River",
        "Lake Isolde",
        "Port Ostra",
    ] {
        assert!(n.contains(&want), "{want:?} not in {n:?}");
    }
    for name in &n {
        assert!(
            !name.contains(['#', '*', '_', '`', '[', ']', '(', ')', '<', '>', '|', '!']),
            "markdown in {name:?}"
        );
        assert!(
            !name.contains("Secret") && !name.contains("https"),
            "{name:?}"
        );
        assert!(!name.contains("History"), "heading words leaked: {name:?}");
    }
    for e in &x.entities {
        assert!(!e.description.contains(['#', '*', '`', '|']), "{e:?}");
        assert!(!e.description.contains("https://"), "{e:?}");
    }
    assert!(entity(&x, "Mara Lindqvist")
        .description
        .contains("founded by Mara Lindqvist in"));
    assert_well_formed(&x, "chunk-1", "doc.txt");
}

#[test]
fn entity_types_from_cues() {
    let x = extract(
        "Dr. Ilse Morgan met Prof. Henrik Dahl and the geologist Ivo Strand near the Tessel \
         Gorge. Mara Lindqvist visited Acme Corp. and the University of Port Ostra. The floods \
         reached Quay Street and Lake Isolde in Norway. The Great Harrowmere Flood and the Vell \
         Summit followed the Ostra Accord. The team camped at Saltbridge.",
    );
    let types = [
        ("Ilse Morgan", "person"),
        ("Henrik Dahl", "person"),
        ("Ivo Strand", "person"),
        ("Mara Lindqvist", "person"),
        ("Acme Corp", "organization"),
        ("University of Port Ostra", "organization"),
        ("Tessel Gorge", "location"),
        ("Quay Street", "location"),
        ("Lake Isolde", "location"),
        ("Norway", "location"),
        ("Saltbridge", "location"),
        ("Great Harrowmere Flood", "event"),
        ("Vell Summit", "event"),
        ("Ostra Accord", "event"),
    ];
    for (name, ty) in types {
        assert_eq!(entity(&x, name).entity_type, ty, "{name}");
    }
    // Honorifics are not part of names.
    assert!(names(&x)
        .iter()
        .all(|n| !n.starts_with("Dr") && !n.starts_with("Prof")));
}

#[test]
fn surname_is_merged_into_the_full_name() {
    let x = extract(
        "Dr. Mara Lindqvist founded the institute. Lindqvist later moved to Harrowmere. \
         Mara wrote a book there.",
    );
    assert_eq!(names(&x), vec!["Mara Lindqvist", "Harrowmere"]);
    let mara = entity(&x, "Mara Lindqvist");
    assert_eq!(mara.entity_type, "person");
    assert!(
        mara.description.contains("Lindqvist later moved"),
        "{mara:?}"
    );
    let r = relation(&x, "Mara Lindqvist", "Harrowmere").expect("relation");
    assert_eq!(r.weight, 1.0);
}

#[test]
fn ambiguous_surname_is_not_merged() {
    let x = extract("Mara Lindqvist and Erik Lindqvist met in Oslo. Lindqvist spoke first.");
    let n = names(&x);
    assert!(
        n.contains(&"Lindqvist") && n.contains(&"Mara Lindqvist"),
        "{n:?}"
    );
}

#[test]
fn relations_aggregate_per_pair_with_weight() {
    let x = extract(
        "Mara Lindqvist founded the Vell River Institute in 1962. The Vell River Institute \
         honoured Mara Lindqvist in 2003. Mara Lindqvist visited the Vell River Institute again. \
         Tomas Berg stayed home.",
    );
    let r = relation(&x, "Mara Lindqvist", "Vell River Institute").expect("relation");
    assert_eq!(r.weight, 3.0);
    assert_eq!(r.src, "Mara Lindqvist");
    assert_eq!(r.tgt, "Vell River Institute");
    assert_eq!(
        r.description,
        "Mara Lindqvist founded the Vell River Institute in 1962. The Vell River Institute \
         honoured Mara Lindqvist in 2003."
    );
    assert_eq!(r.keywords, "founded, honoured, visited");
    assert_eq!(x.relations.len(), 1, "{:?}", x.relations);
    // An entity described in several sentences quotes the first two.
    let e = entity(&x, "Vell River Institute");
    assert!(e.description.starts_with("Mara Lindqvist founded") && e.description.contains("2003."));
    assert!(!e.description.contains("again"));
}

#[test]
fn relation_keywords_fall_back_to_the_sentence() {
    let x = extract("Oslo, Bergen. Visitors from Oslo admired Bergen harbour.");
    let r = relation(&x, "Oslo", "Bergen").expect("relation");
    assert_eq!(r.weight, 2.0);
    assert!(!r.keywords.is_empty());
    let x = extract("Oslo and Bergen.");
    assert_eq!(
        relation(&x, "Oslo", "Bergen").expect("relation").keywords,
        "co-occurrence"
    );
}

#[test]
fn no_self_relations_and_capped_pairs() {
    let x = extract(
        "Oslo met Oslo. Acme and Acme's rival Acme argued. Alpha Corp, Beta Corp, Gamma Corp, \
         Delta Corp, Epsilon Corp, Zeta Corp, Eta Corp and Theta Corp signed the deal.",
    );
    assert_well_formed(&x, "chunk-1", "doc.txt");
    // The first six entities of a sentence form 15 pairs; the later ones form none.
    assert_eq!(x.relations.len(), 15, "{:?}", x.relations);
    assert!(relation(&x, "Alpha Corp", "Eta Corp").is_none());
}

#[test]
fn abbreviations_do_not_split_sentences() {
    let x =
        extract("Dr. Mara Lindqvist met Mr. Tomas Berg, e.g. in Harrowmere, at 3.5 km from Oslo.");
    for (a, b) in [
        ("Mara Lindqvist", "Tomas Berg"),
        ("Tomas Berg", "Oslo"),
        ("Mara Lindqvist", "Oslo"),
    ] {
        assert!(
            relation(&x, a, b).is_some(),
            "{a} -- {b}: {:?}",
            x.relations
        );
    }
}

#[test]
fn output_is_deterministic() {
    let text = example("vell_river_institute.md");
    let first = extract(&text);
    for _ in 0..5 {
        assert_eq!(extract(&text), first);
    }
    assert!(first.entities.len() > 10 && first.relations.len() > 10);
}

#[test]
fn unicode_text_does_not_panic() {
    let x = extract(
        "Zoë Ångström visited São Paulo and the Škoda Works in Plzeň. Émile Durand wrote to \
         Ólafur Jónsson from Reykjavík. 東京大学の研究者が大阪で会議を開いた。北京！ \
         Москва — столица. Ελλάδα… مرحبا بالعالم. 😀 Emoji Corp 🚀 launched.",
    );
    let n = names(&x);
    for want in [
        "Zoë Ångström",
        "São Paulo",
        "Škoda Works",
        "Plzeň",
        "Émile Durand",
        "Reykjavík",
    ] {
        assert!(n.contains(&want), "{want:?} not in {n:?}");
    }
    assert_well_formed(&x, "chunk-1", "doc.txt");
    // Scripts without case yield no names, but must not break anything.
    let cjk = extract("東京大学の研究者が大阪で会議を開いた。北京大学も参加した。");
    assert_well_formed(&cjk, "chunk-1", "doc.txt");
}

#[test]
fn long_descriptions_are_cut() {
    let long = format!(
        "Mara Lindqvist {} ended here.",
        "walked far and ".repeat(60)
    );
    let x = extract(&long);
    let d = &entity(&x, "Mara Lindqvist").description;
    assert!(d.chars().count() <= 301, "{}", d.chars().count());
    assert!(d.ends_with('…'));
}

#[test]
fn sep_marker_never_reaches_descriptions() {
    let x = extract("Oslo &lt;SEP&gt; Bergen met <SEP> in Harrowmere.");
    assert_well_formed(&x, "chunk-1", "doc.txt");
}

#[test]
fn example_documents_share_entities() {
    let ex = OfflineExtractor::new();
    let mut files: Vec<_> = std::fs::read_dir(examples_dir())
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    let mut lindqvist_docs = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let x = ex.extract_text(&text, "chunk-x", &file);
        assert_well_formed(&x, "chunk-x", &file);
        let n = names(&x);
        assert!(n.contains(&"Vell River"), "{file}: {n:?}");
        if let Some(e) = x.entities.iter().find(|e| e.name == "Mara Lindqvist") {
            assert_eq!(e.entity_type, "person", "{file}");
            lindqvist_docs += 1;
        }
    }
    assert!(
        lindqvist_docs >= 5,
        "Mara Lindqvist found in {lindqvist_docs} documents"
    );
}

#[tokio::test]
async fn extractor_port_uses_chunk_id_and_path() {
    let chunk = Chunk {
        id: "doc-abc-chunk-000".into(),
        content: "Mara Lindqvist founded the Vell River Institute in Harrowmere.".into(),
        tokens: 12,
        chunk_order_index: 0,
        full_doc_id: "doc-abc".into(),
        file_path: "examples/institute.md".into(),
        llm_cache_list: vec![],
    };
    let ex = OfflineExtractor::default();
    assert!(ex.identity().starts_with(OFFLINE_EXTRACTOR_VERSION));
    assert_eq!(ex.identity(), OfflineExtractor::new().identity());
    let x = ex.extract(&chunk).await.expect("extract");
    assert_eq!(x.entities.len(), 3);
    assert_eq!(x.relations.len(), 3);
    assert_well_formed(&x, "doc-abc-chunk-000", "examples/institute.md");
    assert_eq!(
        x,
        ex.extract_text(&chunk.content, &chunk.id, &chunk.file_path)
    );
}

/// 1,200 tokens of prose (the default chunk size), cut as the chunker cuts.
fn chunk_of_1200_tokens() -> String {
    let mut text = example("great_harrowmere_flood_1967.txt");
    text.push_str("\n\n");
    text.push_str(&example("ostra_accord_1984.txt"));
    let tokenizer = TiktokenTokenizer::o200k();
    let tokens = tokenizer.encode(&text);
    assert!(tokens.len() > 1200);
    tokenizer.decode(&tokens[..1200])
}

#[test]
fn a_1200_token_chunk_is_fast() {
    let text = chunk_of_1200_tokens();
    let ex = OfflineExtractor::new();
    let x = ex.extract_text(&text, "c", "f");
    assert!(x.entities.len() > 20, "{}", x.entities.len());
    let runs = 50;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(ex.extract_text(std::hint::black_box(&text), "c", "f"));
    }
    let per_chunk = start.elapsed() / runs;
    println!(
        "extract_text: {per_chunk:?} per 1,200-token chunk ({} chars, {} words; {} entities, {} \
         relations)",
        text.len(),
        text.split_whitespace().count(),
        x.entities.len(),
        x.relations.len()
    );
    // Generous: unoptimised test builds on a busy machine are far slower than release builds.
    assert!(per_chunk < Duration::from_millis(50), "{per_chunk:?}");
}

#[test]
#[ignore = "prints the extraction of every example document"]
fn dump_examples() {
    let ex = OfflineExtractor::new();
    let mut paths: Vec<_> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let x = ex.extract_text(&text, "c", "f");
        println!(
            "=== {}: {} entities, {} relations",
            p.display(),
            x.entities.len(),
            x.relations.len()
        );
        for e in &x.entities {
            println!("  [{}] {} :: {}", e.entity_type, e.name, e.description);
        }
        for r in &x.relations {
            println!(
                "  {} -- {} (w={}, kw={})",
                r.src, r.tgt, r.weight, r.keywords
            );
        }
    }
}

/// Text built from name-like words, connectors, punctuation and Markdown.
fn texty() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "Mara",
        "Lindqvist",
        "the",
        "The",
        "of",
        "and",
        "&",
        "van",
        "Dr.",
        "U.S.",
        "NASA",
        "X2",
        "Acme's",
        "Oslo-based",
        "Inc.",
        ".",
        ",",
        "!",
        "?",
        "...",
        "\n",
        "\n\n",
        "# ",
        "- ",
        "* ",
        "|",
        "```",
        "[link](http://x)",
        "<b>",
        "'",
        "\"",
        "(",
        ")",
        "3.14",
        "1962",
        "University",
        "River",
        "in",
        "Zoë",
        "東京",
        "。",
        "…",
        "e.g.",
        "<SEP>",
        "&amp;",
        "_",
        "`",
    ]);
    prop::collection::vec(pieces, 0..80).prop_map(|v| v.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_strings_never_break_it(text in "\\PC{0,400}") {
        let x = extract(&text);
        assert_well_formed(&x, "chunk-1", "doc.txt");
    }

    #[test]
    fn arbitrary_bytes_as_text_never_break_it(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        let x = extract(&text);
        assert_well_formed(&x, "chunk-1", "doc.txt");
    }

    #[test]
    fn name_like_text_gives_well_formed_records(text in texty()) {
        let x = extract(&text);
        assert_well_formed(&x, "chunk-1", "doc.txt");
        prop_assert_eq!(&x, &extract(&text));
    }
}
