//! End-to-end tests: the built `lightrag` binary on the sample documents, with the real local
//! embedding model (installed by scripts/fetch-model.sh), as a user runs it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::ok;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_lightrag")
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// Runs `lightrag --working-dir DIR ARGS...` from a neutral directory.
fn run(dir: &Path, args: &[&str]) -> Output {
    run_env(dir, args, &[])
}

fn run_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(bin());
    c.arg("--working-dir")
        .arg(dir)
        .args(args)
        .current_dir(std::env::temp_dir());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run lightrag")
}

fn fail(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected a failure, got success: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn status_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(&run(dir, &["status", "--json"]))).expect("status json")
}

/// The graph as JSON, without the merge timestamps.
fn graph(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&ok(&run(dir, &["graph", "export", "--format", "json"])))
            .expect("graph json");
    for k in ["nodes", "edges"] {
        for x in v[k].as_array_mut().expect("array") {
            x.as_object_mut().expect("object").remove("created_at");
        }
    }
    v
}

#[test]
fn sample_corpus_insert_query_delete() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let out = ok(&run(w, &["insert", examples().to_str().unwrap()]));
    assert!(out.contains("enqueued: 6 new"), "{out}");
    assert_eq!(status_json(w)["status_counts"]["processed"], 6);

    // Re-inserting is a no-op.
    let out = ok(&run(w, &["insert", examples().to_str().unwrap()]));
    assert!(
        out.contains("6 unchanged") && out.contains("processed 0 documents"),
        "{out}"
    );

    // Every mode answers with references to the sample files.
    for mode in ["naive", "local", "global", "hybrid", "mix"] {
        let out = ok(&run(
            w,
            &[
                "query",
                "Who led the Upper Vell Expedition in 1958?",
                "--mode",
                mode,
            ],
        ));
        assert!(out.contains("### References"), "{mode}: {out}");
        assert!(out.contains(".md") || out.contains(".txt"), "{mode}: {out}");
    }
    let out = ok(&run(
        w,
        &["query", "Who led the Upper Vell Expedition in 1958?"],
    ));
    assert!(out.contains("Lindqvist"), "{out}");
    let ctx = ok(&run(
        w,
        &[
            "query",
            "What did the Ostra Accord decide?",
            "--context-only",
        ],
    ));
    assert!(
        ctx.contains("Knowledge Graph Data (Entity):") && ctx.contains("Reference Document List"),
        "{ctx}"
    );
    let data: serde_json::Value = serde_json::from_str(&ok(&run(
        w,
        &["query", "What did the Ostra Accord decide?", "--json"],
    )))
    .unwrap();
    assert_eq!(data["status"], "success");
    assert!(!data["data"]["entities"].as_array().unwrap().is_empty());
    assert!(!data["data"]["chunks"].as_array().unwrap().is_empty());
    assert!(!data["data"]["references"].as_array().unwrap().is_empty());
    let bypass = fail(&run(
        w,
        &["query", "Who founded the institute?", "--mode", "bypass"],
    ));
    assert!(bypass.contains("no LLM is configured"), "{bypass}");

    let graphml = ok(&run(w, &["graph", "export", "--format", "graphml"]));
    assert!(
        graphml.starts_with("<?xml") && graphml.contains("<graphml") && graphml.contains("<edge ")
    );
    ok(&run(w, &["check"]));

    // Delete one document by its key: the rest stays, vectors stay consistent.
    let out = ok(&run(w, &["delete", "ostra_accord_1984.txt"]));
    assert!(out.contains("deleted doc-"), "{out}");
    assert_eq!(status_json(w)["status_counts"]["processed"], 5);
    ok(&run(w, &["check"]));
    let g = graph(w);
    let paths: String = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["file_path"].as_str().unwrap_or(""))
        .collect();
    assert!(
        !paths.contains("ostra_accord_1984.txt"),
        "a deleted file is still a source"
    );
    let err = fail(&run(w, &["delete", "ostra_accord_1984.txt"]));
    assert!(err.contains("no document"), "{err}");
}

/// A corpus big enough to interrupt: the samples plus variants of them.
fn corpus(dir: &Path, copies: usize) {
    for entry in std::fs::read_dir(examples()).unwrap() {
        let p = entry.unwrap().path();
        let text = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(dir.join(&name), &text).unwrap();
        for i in 1..copies {
            std::fs::write(
                dir.join(format!("v{i}_{name}")),
                format!(
                    "{text}\n\nRevision note {i}: reviewed by the Vell River Institute archive.\n"
                ),
            )
            .unwrap();
        }
    }
}

#[test]
fn kill_9_mid_insert_resumes_to_the_same_state() {
    let docs = tempfile::tempdir().unwrap();
    corpus(docs.path(), 3);
    let env = [
        ("MAX_PARALLEL_INSERT", "1"),
        ("CHUNK_SIZE", "300"),
        ("CHUNK_OVERLAP_SIZE", "30"),
    ];
    let docs_arg = docs.path().to_str().unwrap();

    let straight = tempfile::tempdir().unwrap();
    ok(&run_env(straight.path(), &["insert", docs_arg], &env));

    let killed = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .arg("--working-dir")
        .arg(killed.path())
        .args(["-v", "insert", docs_arg])
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut seen = 0;
    for line in BufReader::new(stderr).lines() {
        if line.unwrap().contains("document processed") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
    }
    assert_eq!(seen, 3, "the insert ended before it could be interrupted");
    // SIGKILL: no destructor, no flush.
    child.kill().unwrap();
    child.wait().unwrap();

    let st = status_json(killed.path());
    assert!(st["status_counts"]["processed"].as_u64().unwrap() >= 3);
    assert!(
        st["status_counts"]["processed"].as_u64().unwrap() < 18,
        "nothing was left to resume"
    );
    let out = ok(&run_env(killed.path(), &["insert", docs_arg], &env));
    assert!(out.contains("cached extractions"), "{out}");
    assert_eq!(status_json(killed.path())["status_counts"]["processed"], 18);
    ok(&run(killed.path(), &["check"]));
    assert_eq!(graph(straight.path()), graph(killed.path()));
}

#[test]
fn bad_input_gets_clear_messages_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path();
    let docs = tempfile::tempdir().unwrap();
    let d = docs.path();
    std::fs::write(
        d.join("good.md"),
        "The Harrowmere ferry crosses the Vell River twice a day in summer.",
    )
    .unwrap();
    std::fs::write(d.join("empty.txt"), "  \n").unwrap();
    std::fs::write(d.join("binary.txt"), [0u8, 159, 146, 150, 0, 1, 2]).unwrap();
    std::fs::write(d.join("latin1.txt"), b"caf\xe9 au lait on the Vell").unwrap();
    std::fs::write(d.join("image.png"), [137u8, 80, 78, 71]).unwrap();
    let out = ok(&run(w, &["insert", d.to_str().unwrap()]));
    assert!(out.contains("1 new"), "{out}");
    assert!(
        out.contains("empty.txt: the file contains only whitespace"),
        "{out}"
    );
    assert!(
        out.contains("binary.txt: the file is named .txt but holds binary data"),
        "{out}"
    );
    assert!(
        out.contains("latin1.txt: the text is not valid UTF-8"),
        "{out}"
    );
    assert!(
        out.contains("skipped (not a supported type)") && out.contains("image.png"),
        "{out}"
    );
    // Each unreadable file is a failed document with its reason.
    let st = status_json(w);
    assert_eq!(st["status_counts"]["failed"], 3, "{st}");

    // A missing path fails the whole command before anything happens.
    let err = fail(&run(w, &["insert", "/nonexistent/nowhere.md"]));
    assert!(err.contains("no such file or directory"), "{err}");
    // A file over the size limit.
    let big = d.join("big.txt");
    std::fs::write(&big, "word ".repeat(300_000)).unwrap();
    let err = fail(&run(
        w,
        &[
            "--set",
            "MAX_FILE_BYTES=1000000",
            "insert",
            big.to_str().unwrap(),
        ],
    ));
    assert!(err.contains("nothing was indexed"), "{err}");
    assert_eq!(
        status_json(w)["status_counts"]["processed"],
        1,
        "what was indexed is intact"
    );

    // Another embedding model is refused, with the way out in the message.
    let err = fail(&run_env(
        w,
        &["status"],
        &[("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "64")],
    ));
    assert!(
        err.contains("all-MiniLM-L6-v2") && err.contains("rebuild-vectors"),
        "{err}"
    );
    assert_eq!(status_json(w)["status_counts"]["processed"], 1);

    // A foreign (LightRAG Python) working directory and a damaged one.
    let foreign = tempfile::tempdir().unwrap();
    std::fs::write(foreign.path().join("kv_store_full_docs.json"), "{}").unwrap();
    let err = fail(&run(foreign.path(), &["status"]));
    assert!(err.contains("LightRAG (Python) working directory"), "{err}");
    let damaged = tempfile::tempdir().unwrap();
    std::fs::write(
        damaged.path().join("lightrag-rs.json"),
        r#"{"format_version":1}"#,
    )
    .unwrap();
    std::fs::write(
        damaged.path().join("lightrag.redb"),
        b"not a database at all, just text",
    )
    .unwrap();
    let err = fail(&run(damaged.path(), &["status"]));
    assert!(err.contains("lightrag.redb"), "{err}");
    assert_eq!(
        std::fs::read(damaged.path().join("lightrag.redb")).unwrap(),
        b"not a database at all, just text"
    );
}

#[test]
fn a_missing_model_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = fail(&run_env(
        dir.path(),
        &["status"],
        &[("LIGHTRAG_MODEL_DIR", "/nonexistent/model")],
    ));
    assert!(err.contains("fetch-model.sh"), "{err}");
}

#[test]
fn a_folder_with_a_thousand_files() {
    let docs = tempfile::tempdir().unwrap();
    std::fs::create_dir(docs.path().join("sub")).unwrap();
    for i in 0..1000 {
        let dir = if i % 2 == 0 {
            docs.path().to_path_buf()
        } else {
            docs.path().join("sub")
        };
        std::fs::write(
            dir.join(format!("note_{i:04}.txt")),
            format!("Field note {i}. Ranger Alma Vesk counted {i} herons near Lake Orin. The Orin Bird Trust kept the count."),
        )
        .unwrap();
    }
    let w = tempfile::tempdir().unwrap();
    // The pipeline, not the model, is under test here: the hashing embedder keeps it quick.
    let env = [("EMBEDDING_BINDING", "hashing")];
    let out = ok(&run_env(
        w.path(),
        &["insert", docs.path().to_str().unwrap()],
        &env,
    ));
    assert!(out.contains("enqueued: 1000 new"), "{out}");
    assert!(out.contains("processed 1000 documents"), "{out}");
    let st: serde_json::Value =
        serde_json::from_str(&ok(&run_env(w.path(), &["status", "--json"], &env))).unwrap();
    assert_eq!(st["status_counts"]["processed"], 1000);
    // Keys keep the folder structure, so equal names in two folders do not collide.
    let out = ok(&run_env(
        w.path(),
        &["insert", docs.path().to_str().unwrap()],
        &env,
    ));
    assert!(out.contains("1000 unchanged"), "{out}");
    ok(&run_env(w.path(), &["check"], &env));
}

#[test]
fn check_finds_drift_and_rebuild_vectors_repairs_it_and_moves_models() {
    let w = tempfile::tempdir().unwrap();
    let hashing64 = [("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "64")];
    ok(&run_env(
        w.path(),
        &["insert", examples().to_str().unwrap()],
        &hashing64,
    ));
    ok(&run_env(w.path(), &["check"], &hashing64));
    // Lose the entity vectors: check reports it and fails.
    for ext in ["redb", "usearch"] {
        std::fs::remove_file(w.path().join(format!("vdb_entities.{ext}"))).unwrap();
    }
    let o = run_env(w.path(), &["check"], &hashing64);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        !o.status.success() && out.contains("entities") && out.contains("missing"),
        "{out}"
    );
    ok(&run_env(w.path(), &["rebuild-vectors"], &hashing64));
    ok(&run_env(w.path(), &["check"], &hashing64));
    // Another dimension is refused until the vectors are rebuilt with it.
    let hashing32 = [("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "32")];
    fail(&run_env(
        w.path(),
        &["query", "Who founded the Vell River Institute?"],
        &hashing32,
    ));
    let out = ok(&run_env(w.path(), &["rebuild-vectors"], &hashing32));
    assert!(out.contains("rebuilt"), "{out}");
    ok(&run_env(w.path(), &["check"], &hashing32));
    let out = ok(&run_env(
        w.path(),
        &["query", "Who founded the Vell River Institute?"],
        &hashing32,
    ));
    assert!(out.contains("### References"), "{out}");
}

#[test]
fn migrate_copies_a_working_directory_that_answers_the_same_and_resumes() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let env = [("EMBEDDING_BINDING", "hashing"), ("EMBEDDING_DIM", "64")];
    ok(&run_env(
        a.path(),
        &["insert", examples().to_str().unwrap()],
        &env,
    ));
    let to = b.path().join("copy");
    let args = [
        "migrate",
        "--to",
        "embedded",
        "--to-dir",
        to.to_str().unwrap(),
    ];
    let out = ok(&run_env(a.path(), &args, &env));
    assert!(out.contains("ok: the target checks clean"), "{out}");
    // The same graph and statuses, exactly. Query contexts are compared by content, not byte
    // for byte: the copy's ANN index is built in another insertion order, and approximate
    // search may swap a neighbour at the margin of top_k (seen once in CI-like runs).
    for q in [
        vec!["graph", "export", "--format", "json"],
        vec!["status", "--json"],
    ] {
        assert_eq!(
            ok(&run_env(a.path(), &q, &env)),
            ok(&run_env(&to, &q, &env)),
            "{q:?}"
        );
    }
    let q = [
        "query",
        "Who founded the Vell River Institute?",
        "--context-only",
    ];
    for out in [
        ok(&run_env(a.path(), &q, &env)),
        ok(&run_env(&to, &q, &env)),
    ] {
        assert!(
            out.contains("Vell River Institute") && out.contains("Lindqvist"),
            "{out}"
        );
    }
    // A second run finds everything in place.
    let out = ok(&run_env(a.path(), &args, &env));
    assert!(out.contains("copied 0 records"), "{out}");
    // The source as target is refused.
    let err = fail(&run_env(a.path(), &["migrate", "--to", "custom"], &env));
    assert!(err.contains("the target is the source"), "{err}");
}
