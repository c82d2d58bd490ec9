//! `lightrag serve` as a process under hostile conditions: a small descriptor limit with
//! hundreds of idle sockets, silent and slow connections, and settings that would weaken it
//! (a whitelist that opens data routes, a short token secret, credentials in a model URL).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

mod common;

struct Server {
    child: Child,
    url: String,
    addr: String,
    stderr: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `lightrag serve` with the hashing embedder, its log in a file, under `ulimit -n nofile`
/// when given.
fn start(dir: &Path, nofile: Option<u32>, env: &[(&str, &str)]) -> Server {
    let stderr = dir.join("stderr.log");
    let mut cmd = common::serve_command(dir, nofile);
    cmd.current_dir(dir)
        .env("EMBEDDING_BINDING", "hashing")
        .env("RUST_LOG", "info")
        .stderr(std::fs::File::create(&stderr).expect("stderr file"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start lightrag serve");
    let url = match common::listening_url(&mut child) {
        Ok(url) => url,
        Err(line) => {
            let _ = child.kill();
            let log = std::fs::read_to_string(&stderr).unwrap_or_default();
            panic!("the server did not start: {line}\n{log}");
        }
    };
    let addr = url.trim_start_matches("http://").to_string();
    Server {
        child,
        url,
        addr,
        stderr,
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// Whether the server closed `sock` (a read returns end of file) within `limit`.
fn closed_within(sock: &mut TcpStream, limit: Duration) -> bool {
    sock.set_read_timeout(Some(limit)).expect("timeout");
    let mut buf = [0u8; 256];
    loop {
        match sock.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or similar before closing is fine; keep reading to the close.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_cannot_starve_health_or_inserts() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), Some(128), &[]);
    // Far more idle sockets than the process has descriptors.
    let addr: std::net::SocketAddr = s.addr.parse().expect("address");
    let idle: Vec<TcpStream> = (0..300)
        .map(|i| {
            TcpStream::connect_timeout(&addr, Duration::from_secs(3))
                .unwrap_or_else(|e| panic!("idle socket {i} not even accepted by the kernel: {e}"))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let c = client();
    let t = Instant::now();
    let health = c
        .get(format!("{}/health", s.url))
        .send()
        .await
        .expect("/health answers while 300 sockets sit idle");
    assert_eq!(health.status(), 200);
    let r: Value = c
        .post(format!("{}/documents/text", s.url))
        .json(&json!({"text": "The Orin ferry is run by Orin Lines.", "file_source": "ferry.txt"}))
        .send()
        .await
        .expect("insert answers")
        .json()
        .await
        .expect("json");
    assert_eq!(r["status"], "success", "{r}");
    // Well before the idle timeout (15 s): room was made, not waited for.
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_slow_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let s = start(dir.path(), None, &[("CONNECTION_IDLE_TIMEOUT", "1")]);
    // Says nothing.
    let mut silent = TcpStream::connect(&s.addr).unwrap();
    // Trickles a header that never ends.
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Keeps the connection after one answer.
    let mut kept = TcpStream::connect(&s.addr).unwrap();
    kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let t = Instant::now();
    let h = std::thread::spawn(move || {
        (0..5)
            .try_for_each(|_| {
                std::thread::sleep(Duration::from_millis(150));
                slow.write_all(b"X-Drip: 1\r\n")
            })
            .ok();
        closed_within(&mut slow, Duration::from_secs(5))
    });
    assert!(closed_within(&mut silent, Duration::from_secs(5)), "silent");
    assert!(
        closed_within(&mut kept, Duration::from_secs(5)),
        "keep-alive"
    );
    assert!(h.join().unwrap(), "slow header");
    assert!(t.elapsed() < Duration::from_secs(5));
    // The server itself is fine.
    let health = client()
        .get(format!("{}/health", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn risky_settings_are_refused_or_reported_at_start() {
    // A whitelist that opens data routes while a key is set: served, with a warning.
    let dir = tempfile::tempdir().unwrap();
    let s = start(
        dir.path(),
        None,
        &[
            ("LIGHTRAG_API_KEY", "k3y"),
            ("WHITELIST_PATHS", "/health,/api/*"),
            // Credentials in a model server's URL never reach /health.
            ("LLM_BINDING", "openai"),
            ("LLM_MODEL", "m"),
            (
                "LLM_BINDING_HOST",
                "http://user:pa55word@127.0.0.1:9/v1?key=abc",
            ),
            ("LLM_BINDING_API_KEY", "sk-test"),
        ],
    );
    let health: Value = client()
        .get(format!("{}/health", s.url))
        .header("X-API-Key", "k3y")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let host = &health["configuration"]["llm_binding_host"];
    assert_eq!(host, "http://127.0.0.1:9/v1", "{health}");
    let text = health.to_string();
    assert!(
        !text.contains("pa55word") && !text.contains("abc"),
        "{text}"
    );
    let log = std::fs::read_to_string(&s.stderr).unwrap();
    for route in ["/api/chat", "/api/generate"] {
        assert!(
            log.contains(&format!("WHITELIST_PATHS opens {route}")),
            "no warning for {route}: {log}"
        );
    }
    drop(s);

    // Accounts with a one-character token secret: refused with a reason.
    let other = dir.path().join("second");
    let out = common::serve_command(&other, None)
        .env("EMBEDDING_BINDING", "hashing")
        .env("AUTH_ACCOUNTS", "admin:pw")
        .env("TOKEN_SECRET", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOKEN_SECRET") && err.contains("32"), "{err}");
}
