//! The `lightrag-test-llm` binary: it announces its port on the first stdout line, serves the
//! script given with `--script`, and counts calls at `/test/stats`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request with `Connection: close`; returns the whole response as text.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

/// Starts the binary with `args`; returns it (killed on drop) and the address it announced.
fn start(args: &[&str]) -> (Kill, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_lightrag-test-llm"))
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = Kill(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let addr = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_string();
    (child, addr)
}

#[test]
fn binary_announces_port_and_serves_script() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("script.json");
    std::fs::write(
        &script,
        r#"{"rules": [{"match": "boom", "status": 503, "fail_times": 1, "reply": "recovered"}],
            "default_reply": "scripted default"}"#,
    )
    .expect("write script");
    let script = script.to_string_lossy();
    let (_server, addr) = start(&["--port", "0", "--embed-dim", "16", "--script", &script]);
    assert!(addr.starts_with("127.0.0.1:"));

    let chat =
        r#"{"model": "m", "stream": false, "messages": [{"role": "user", "content": "hi"}]}"#;
    assert!(http(&addr, "POST", "/api/chat", chat).contains("scripted default"));
    let boom = r#"{"model": "m", "messages": [{"role": "user", "content": "boom"}]}"#;
    let failed = http(&addr, "POST", "/v1/chat/completions", boom);
    assert!(failed.starts_with("HTTP/1.1 503"), "{failed}");
    assert!(http(&addr, "POST", "/v1/chat/completions", boom).contains("recovered"));
    let embed = http(
        &addr,
        "POST",
        "/api/embed",
        r#"{"model": "e", "input": ["a", "b"]}"#,
    );
    assert!(embed.contains("\"embeddings\""), "{embed}");
    let stats = http(&addr, "GET", "/test/stats", "");
    assert!(
        stats.contains("\"chat_calls\":3") && stats.contains("\"embed_calls\":1"),
        "{stats}"
    );
    assert!(http(&addr, "GET", "/api/version", "").contains("version"));
    assert!(http(&addr, "GET", "/v1/models", "").contains("test-llm:latest"));
}

/// `--embedder local` serves real all-MiniLM-L6-v2 vectors through Ollama's `/api/embed` (the
/// embedding orchestrator's benchmark runs against it), and counts the model's compute time.
#[test]
fn binary_serves_real_embeddings_with_the_local_model() {
    let dir = lightrag_providers::local_model::LocalEmbedder::default_model_dir();
    if !dir.join("model.safetensors").is_file() {
        assert!(
            std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() != Ok("1"),
            "the local model is missing from {} (scripts/fetch-model.sh)",
            dir.display()
        );
        eprintln!("SKIPPED: no local model in {}", dir.display());
        return;
    }
    let (_server, addr) = start(&[
        "--port",
        "0",
        "--embedder",
        "local",
        "--embed-parallel",
        "1",
    ]);
    let embed = http(
        &addr,
        "POST",
        "/api/embed",
        r#"{"model": "all-minilm", "input": ["This is an example sentence", "another"]}"#,
    );
    let body = &embed[embed.find("\r\n\r\n").expect("a body") + 4..];
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
    let first_vec = v["embeddings"][0].as_array().expect("vectors");
    assert_eq!(first_vec.len(), 384);
    let x0 = first_vec[0].as_f64().unwrap();
    assert!(
        (x0 - 0.0677).abs() < 1e-3,
        "sentence-transformers' value, got {x0}"
    );
    let stats: serde_json::Value = {
        let s = http(&addr, "GET", "/test/stats", "");
        serde_json::from_str(&s[s.find("\r\n\r\n").unwrap() + 4..]).unwrap()
    };
    assert_eq!(stats["embed_texts"], 2);
    assert!(stats["embed_compute_seconds"].as_f64().unwrap() > 0.0);
}
