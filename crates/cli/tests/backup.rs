//! `lightrag export` and `lightrag import` as a user runs them: the sample corpus indexed in a
//! working directory, exported, imported into PostgreSQL, exported from there (gzip) and
//! imported into a new working directory that has the same graph, statuses and query contexts
//! and checks clean; a cut, damaged or unknown file is refused with its line; an interrupted
//! export continues its .partial and an interrupted import resumes. The PostgreSQL leg needs
//! LIGHTRAG_TEST_PG_URL (scripts/postgres.sh url); with LIGHTRAG_TEST_SERVICES=1 it must run.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;
use common::ok;

const ENV: [(&str, &str); 2] = [("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "64")];

const QUESTIONS: [&str; 3] = [
    "Who founded the Vell River Institute?",
    "What happened in the Great Harrowmere flood of 1967?",
    "What did the Ostra Accord decide about the dam?",
];

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// `lightrag --working-dir DIR ARGS` on the embedded stores (plus `extra` settings).
fn run(dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
    c.arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir());
    for (k, v) in ENV.iter().chain(extra) {
        c.env(k, v);
    }
    c.output().expect("run lightrag")
}

/// The same with every role on the PostgreSQL at `url`, workspace `ws`.
fn run_pg(dir: &Path, url: &str, ws: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lightrag"));
    c.arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir())
        .envs(ENV);
    common::on_postgres(&mut c, url, ws);
    c.output().expect("run lightrag")
}

/// The standard error of a command that must have failed.
fn fail(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure, got success: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn pg_url() -> Option<String> {
    let url = std::env::var("LIGHTRAG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() != Ok("1"),
            "LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_PG_URL is not set"
        );
        eprintln!("PostgreSQL leg skipped: set LIGHTRAG_TEST_PG_URL (scripts/postgres.sh url)");
    }
    url
}

/// `value` without its `created_at` fields, at any depth.
fn without_created_at(value: &mut Value) {
    match value {
        Value::Object(m) => {
            m.remove("created_at");
            m.values_mut().for_each(without_created_at);
        }
        Value::Array(a) => a.iter_mut().for_each(without_created_at),
        _ => {}
    }
}

/// What must survive a round trip: the graph (without merge times), the statuses and the
/// context of every retrieval mode for a few questions.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut graph: Value = serde_json::from_str(&ok(&run(
        dir,
        &["graph", "export", "--format", "json"],
        &[],
    )))
    .expect("graph json");
    without_created_at(&mut graph);
    assert!(graph.to_string().contains("Vell River Institute"));
    let mut out = vec![
        ("graph".to_string(), graph.to_string()),
        (
            "status".to_string(),
            ok(&run(dir, &["status", "--json", "--all"], &[])),
        ),
    ];
    for q in QUESTIONS {
        for mode in ["naive", "local", "global", "hybrid", "mix"] {
            let context = ok(&run(
                dir,
                &["query", q, "--mode", mode, "--context-only"],
                &[],
            ));
            out.push((format!("{mode}: {q}"), context));
        }
    }
    out
}

fn assert_same(a: &[(String, String)], b: &[(String, String)]) {
    assert_eq!(a.len(), b.len());
    for ((what, x), (_, y)) in a.iter().zip(b) {
        assert_eq!(x, y, "{what} differs");
    }
}

/// A working directory with the sample corpus.
fn indexed(root: &Path) -> PathBuf {
    let dir = root.join("first");
    let out = ok(&run(&dir, &["insert", examples().to_str().unwrap()], &[]));
    assert!(out.contains("processed"), "{out}");
    dir
}

fn export(dir: &Path, file: &Path, extra: &[&str]) -> String {
    let mut args = vec!["export", file.to_str().unwrap()];
    args.extend(extra);
    ok(&run(dir, &args, &[]))
}

/// The uncompressed text of a file, gzip or not.
fn text(file: &Path) -> String {
    let bytes = std::fs::read(file).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

#[test]
fn a_knowledge_base_survives_embedded_to_postgres_to_embedded() {
    let root = tempfile::tempdir().unwrap();
    let first = indexed(root.path());
    let file = root.path().join("kb.jsonl");
    let out = export(&first, &file, &[]);
    assert!(
        out.contains("exported") && out.contains("13 parts"),
        "{out}"
    );
    assert!(!root.path().join("kb.jsonl.partial").exists());

    let last = root.path().join("last");
    let back = match pg_url() {
        Some(url) => {
            let ws = format!(
                "backup_{}_{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_millis()
            );
            let pg = |args: &[&str]| run_pg(root.path(), &url, &ws, args);
            let out = ok(&pg(&["import", file.to_str().unwrap()]));
            assert!(out.contains("ok: the target checks clean"), "{out}");
            ok(&pg(&["check"]));
            let from_pg = root.path().join("from-pg.jsonl.gz");
            let out = ok(&pg(&["export", from_pg.to_str().unwrap()]));
            assert!(out.contains("exported"), "{out}");
            // The same records, whatever the store (headers differ in time and source).
            let records = |f: &Path| {
                text(f)
                    .lines()
                    .skip(1)
                    .map(String::from)
                    .collect::<Vec<_>>()
            };
            assert_eq!(records(&file), records(&from_pg));
            from_pg
        }
        None => file.clone(),
    };
    let out = ok(&run(&last, &["import", back.to_str().unwrap()], &[]));
    assert!(out.contains("(0 already in place)"), "{out}");
    assert!(out.contains("ok: the target checks clean"), "{out}");
    let out = ok(&run(&last, &["check"], &[]));
    assert!(out.contains("ok:"), "{out}");
    assert_same(&snapshot(&first), &snapshot(&last));

    // Imported again, everything is in place and nothing is written.
    let out = ok(&run(&last, &["import", back.to_str().unwrap()], &[]));
    let total = out
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap();
    assert!(
        out.contains(&format!("({total} already in place)")),
        "{out}"
    );
}

#[test]
fn damaged_files_are_refused_and_interrupted_runs_resume() {
    let root = tempfile::tempdir().unwrap();
    let first = indexed(root.path());
    let p = |name: &str| root.path().join(name);
    let file = p("kb.jsonl");
    export(&first, &file, &[]);
    let whole = text(&file);
    let lines: Vec<&str> = whole.lines().collect();
    assert!(lines.len() > 100);
    let header: Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(header["format"], "lightrag-rs-export");
    assert_eq!(header["version"], 1);
    assert_eq!(header["embedding"]["dim"], 64);
    assert_eq!(header["parts"].as_array().unwrap().len(), 13);
    assert_eq!(lines.last().unwrap().get(..11), Some("{\"end\":true"));
    // An export never overwrites a file.
    let err = fail(&run(&first, &["export", file.to_str().unwrap()], &[]));
    assert!(err.contains("exists"), "{err}");

    let import_err = |name: &str, content: &str| {
        std::fs::write(p(name), content).unwrap();
        let target = p(&format!("{name}.target"));
        let err = fail(&run(&target, &["import", p(name).to_str().unwrap()], &[]));
        assert!(!target.exists(), "{name}: nothing may be written");
        err
    };
    // Cut in the middle of line 41.
    let cut_at = lines[..40].iter().map(|l| l.len() + 1).sum::<usize>() + 10;
    let err = import_err("cut.jsonl", &whole[..cut_at]);
    assert!(err.contains("line 41: cut short"), "{err}");
    // Cut after a complete line: no end marker.
    let no_end = lines[..lines.len() - 1].join("\n") + "\n";
    let err = import_err("no-end.jsonl", &no_end);
    assert!(err.contains("without the end marker"), "{err}");
    // A damaged line.
    let mut damaged: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    damaged[99] = "{\"part\":\"graph:nodes\",\"node\":".into();
    let err = import_err("damaged.jsonl", &(damaged.join("\n") + "\n"));
    assert!(err.contains("line 100:"), "{err}");
    // An unknown version, and something that is not an export.
    let v2 = whole.replacen("\"version\":1", "\"version\":2", 1);
    let err = import_err("v2.jsonl", &v2);
    assert!(err.contains("line 1: format version 2 is not one"), "{err}");
    let err = import_err("other.jsonl", "{\"hello\":1}\n");
    assert!(err.contains("not a lightrag-rs-export file"), "{err}");
    // Another embedding model is refused, unless the vectors are rebuilt.
    let other = p("other-model");
    let dim32 = [("EMBEDDING_DIM", "32")];
    let err = fail(&run(&other, &["import", file.to_str().unwrap()], &dim32));
    assert!(
        err.contains("dimension 64") && err.contains("--rebuild-vectors"),
        "{err}"
    );
    let args = ["import", file.to_str().unwrap(), "--rebuild-vectors"];
    let out = ok(&run(&other, &args, &dim32));
    assert!(
        out.contains("rebuilt") && out.contains("checks clean"),
        "{out}"
    );

    // An export that stopped mid-line continues its .partial into the same file.
    std::fs::write(p("again.jsonl.partial"), &whole[..whole.len() / 2]).unwrap();
    let o = run(&first, &["export", p("again.jsonl").to_str().unwrap()], &[]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stderr).contains("continuing"));
    assert_eq!(text(&p("again.jsonl")), whole);
    assert!(!p("again.jsonl.partial").exists());
    // The same with gzip, and without the LLM cache.
    export(&first, &p("small.jsonl.gz"), &["--no-cache"]);
    let gz = std::fs::read(p("small.jsonl.gz")).unwrap();
    std::fs::write(p("resumed.jsonl.gz.partial"), &gz[..gz.len() / 2]).unwrap();
    let out = export(&first, &p("resumed.jsonl.gz"), &["--no-cache"]);
    assert!(out.contains("of them from the earlier run"), "{out}");
    let (small, resumed) = (text(&p("small.jsonl.gz")), text(&p("resumed.jsonl.gz")));
    assert_eq!(
        small.lines().skip(1).collect::<Vec<_>>(),
        resumed.lines().skip(1).collect::<Vec<_>>()
    );
    assert!(!small.contains("kv:llm_response_cache\""), "no cache part");
    // A .partial of other settings is not continued.
    std::fs::write(p("mixed.jsonl.partial"), &whole[..whole.len() / 2]).unwrap();
    let err = fail(&run(
        &first,
        &["export", p("mixed.jsonl").to_str().unwrap(), "--no-cache"],
        &[],
    ));
    assert!(err.contains("other settings"), "{err}");

    // An import that stopped (here: after the first 300 records, statuses not reached) is run
    // again and writes only the rest.
    let mut counts = serde_json::Map::new();
    for l in &lines[1..301] {
        let part = serde_json::from_str::<Value>(l).unwrap()["part"].clone();
        let n = counts.entry(part.as_str().unwrap()).or_insert(0.into());
        *n = (n.as_u64().unwrap() + 1).into();
    }
    let end = serde_json::json!({"end": true, "counts": counts});
    let head = lines[..301].join("\n") + "\n" + &end.to_string() + "\n";
    std::fs::write(p("head.jsonl"), head).unwrap();
    let target = p("resumed-import");
    // (It does not check clean yet: the chunks have no vectors.)
    let o = run(&target, &["import", p("head.jsonl").to_str().unwrap()], &[]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("imported 300 records"));
    let status: Value =
        serde_json::from_str(&ok(&run(&target, &["status", "--json"], &[]))).unwrap();
    assert_eq!(status["status_counts"]["processed"], 0, "{status}");
    let out = ok(&run(&target, &["import", file.to_str().unwrap()], &[]));
    assert!(out.contains("(300 already in place)"), "{out}");
    assert_same(&snapshot(&first), &snapshot(&target));
}
