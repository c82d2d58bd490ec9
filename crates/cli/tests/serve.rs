//! `lightrag serve` as a process, the way a user runs it: the real local embedding model over
//! HTTP, SIGTERM while documents are processed (they resume on restart), and SIGTERM during a
//! request (it finishes first).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use lightrag_testserver::{serve, Script, ServerConfig};
use serde_json::{json, Value};

struct Server {
    child: Child,
    url: String,
}

fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut cmd = common::serve_command(dir, None);
    cmd.current_dir(std::env::temp_dir())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start lightrag serve");
    let url = common::listening_url(&mut child)
        .unwrap_or_else(|line| panic!("unexpected first line: {line}"));
    Server { child, url }
}

impl Server {
    fn terminate(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill")
            .success();
        assert!(ok);
    }

    fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let t = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s;
            }
            assert!(
                t.elapsed() < limit,
                "the server did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn counts(c: &reqwest::Client, url: &str) -> Value {
    c.get(format!("{url}/documents/status_counts"))
        .send()
        .await
        .expect("status counts")
        .json::<Value>()
        .await
        .expect("json")["status_counts"]
        .clone()
}

/// A request's JSON reply.
async fn json_of(r: reqwest::RequestBuilder) -> Value {
    r.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON reply")
}

/// Waits until `n` documents are processed.
async fn wait_processed(c: &reqwest::Client, url: &str, n: u64, limit: Duration) {
    let t = Instant::now();
    while counts(c, url).await["processed"] != n {
        assert!(t.elapsed() < limit, "not processed within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Paragraphs about made-up harbours, long enough that processing takes a while.
fn harbour(i: usize) -> String {
    (0..12)
        .map(|j| format!("Harbour {i} of the Orin coast keeps crane {j} named Crane{i}x{j}, run by the Orin Port Board since year {}.", 1900 + j))
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_model_end_to_end_and_sigterm_leaves_the_pipeline_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    let mut s = start(dir.path(), &[]);
    let health: Value = json_of(c.get(format!("{}/health", s.url))).await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["configuration"]["embedding_binding"], "local");

    let r: Value = json_of(c.post(format!("{}/documents/text", s.url)).json(&json!({"text": "The Orin ferry is run by Orin Lines and crosses Lake Orin twice a day.", "file_source": "ferry.txt"}))).await;
    assert_eq!(r["status"], "success", "{r}");
    wait_processed(&c, &s.url, 1, Duration::from_secs(120)).await;
    let a: Value = json_of(
        c.post(format!("{}/query", s.url))
            .json(&json!({"query": "Who runs the ferry across Lake Orin?", "mode": "mix"})),
    )
    .await;
    assert!(
        a["response"].as_str().unwrap().contains("Orin Lines"),
        "{a}"
    );
    assert_eq!(a["references"][0]["file_path"], "ferry.txt");

    // Many documents, then SIGTERM while they are processed.
    let texts: Vec<String> = (0..12).map(harbour).collect();
    let sources: Vec<String> = (0..12).map(|i| format!("harbour{i}.txt")).collect();
    let r = c
        .post(format!("{}/documents/texts", s.url))
        .json(&json!({"texts": texts, "file_sources": sources}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = counts(&c, &s.url).await;
    s.terminate();
    let status = s.wait_exit(Duration::from_secs(60));
    assert!(status.success(), "exit status {status:?}");
    eprintln!("at SIGTERM: {before}");

    // Restarted on the same directory, the rest is picked up and nothing is lost.
    let s = start(dir.path(), &[]);
    let t = Instant::now();
    loop {
        let c2 = counts(&c, &s.url).await;
        if c2["processed"] == 13 {
            assert_eq!(c2["failed"], 0);
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(300), "not resumed: {c2}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_in_flight_request_finish() {
    let script = Script::from_json(r#"{"rules": [], "default_reply": "slow hello"}"#).unwrap();
    let (addr, _llm) = serve(ServerConfig {
        script,
        latency: Duration::from_millis(1500),
        ..Default::default()
    })
    .await
    .expect("test LLM");
    let host = format!("http://{addr}/v1");
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(
        dir.path(),
        &[
            ("EMBEDDING_BINDING", "hashing"),
            ("LLM_BINDING", "openai"),
            ("LLM_MODEL", "test-llm"),
            ("LLM_BINDING_HOST", host.as_str()),
        ],
    );
    let c = client();
    let url = s.url.clone();
    let pending = tokio::spawn(async move {
        c.post(format!("{url}/api/generate"))
            .json(&json!({"prompt": "hello", "stream": false}))
            .send()
            .await
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    s.terminate();
    let resp = pending
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["response"], "slow hello");
    let status = s.wait_exit(Duration::from_secs(30));
    assert!(status.success());
    // New connections are refused once it has stopped.
    assert!(client()
        .get(format!("{}/health", s.url))
        .send()
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orchestrator_health_and_metrics_show_through_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(
        dir.path(),
        &[
            ("EMBEDDING_BINDING", "hashing"),
            ("EMBEDDING_BATCHING", "true"),
        ],
    );
    let c = client();
    let r = c
        .post(format!("{}/documents/text", s.url))
        .json(&json!({"text": "The Orin ferry is run by Orin Lines.", "file_source": "f.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    wait_processed(&c, &s.url, 1, Duration::from_secs(60)).await;
    let health: Value = json_of(c.get(format!("{}/health", s.url))).await;
    let orch = &health["embedding_orchestrator"];
    assert_eq!(orch["health"]["integration_status"], "healthy", "{health}");
    assert!(
        orch["metrics"]["total_requests"].as_u64().unwrap() > 0,
        "{orch}"
    );
    let text = c
        .get(format!("{}/metrics", s.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("lightrag_embedding_"), "{text}");
    assert!(text.contains("lightrag_active_requests"));
    // Every family has a HELP line, so Prometheus tooling accepts the page.
    let families = text.lines().filter(|l| l.starts_with("# TYPE ")).count();
    let helps = text.lines().filter(|l| l.starts_with("# HELP ")).count();
    assert_eq!(families, helps, "{text}");
    if let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    s.terminate();
    assert!(s.wait_exit(Duration::from_secs(30)).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_e2e_loads_a_running_server_without_failures() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = start(dir.path(), &[("EMBEDDING_BINDING", "hashing")]);
    let url = s.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_lightrag"))
            .args(["bench", "--component", "e2e", "--url", &url])
            .args([
                "--docs",
                "5",
                "--doc-tokens",
                "200",
                "--queries",
                "40",
                "--concurrency",
                "4",
                "--json",
            ])
            .current_dir(std::env::temp_dir())
            .output()
            .expect("run bench")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(&stdout).expect("JSON report");
    assert_eq!(v["failed"], 0);
    let phases = v["phases"].as_array().unwrap();
    assert_eq!(phases.len(), 4);
    assert!(
        phases
            .iter()
            .all(|p| p["per_second"].as_f64().unwrap() > 0.0),
        "{v}"
    );
    s.terminate();
    assert!(s.wait_exit(Duration::from_secs(30)).success());
}
