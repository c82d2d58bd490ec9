use lightrag_providers::offline::OfflineExtractor;

#[test]
#[ignore]
fn dump_examples() {
    let ex = OfflineExtractor::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let out = ex.extract_text(&text, "c", "f");
        println!("=== {} : {} entities, {} relations", p.display(), out.entities.len(), out.relations.len());
        for e in &out.entities {
            println!("  [{}] {}", e.entity_type, e.name);
        }
        for r in out.relations.iter().take(15) {
            println!("  {} -- {} (w={}, kw={})", r.src, r.tgt, r.weight, r.keywords);
        }
    }
}
