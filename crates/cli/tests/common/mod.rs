//! Starting `lightrag serve` as a user does, for the tests that drive the built binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};

/// `lightrag --working-dir DIR/rag serve` on 127.0.0.1 and a free port, uploads in DIR/inputs,
/// stdout piped (for [`listening_url`]). With `nofile`, it runs under `ulimit -n nofile` (soft
/// and hard, so the server cannot raise it).
pub fn serve_command(dir: &Path, nofile: Option<u32>) -> Command {
    let bin = env!("CARGO_BIN_EXE_lightrag");
    let mut cmd = match nofile {
        None => Command::new(bin),
        Some(n) => {
            let mut c = Command::new("bash");
            c.arg("-c")
                .arg(format!("ulimit -n {n} && exec \"$0\" \"$@\""))
                .arg(bin);
            c
        }
    };
    cmd.arg("--working-dir")
        .arg(dir.join("rag"))
        .arg("serve")
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("INPUT_DIR", dir.join("inputs"))
        .stdout(Stdio::piped());
    cmd
}

/// The URL from the server's first line (`listening on URL`), or what it printed instead.
pub fn listening_url(child: &mut Child) -> Result<String, String> {
    let stdout = child.stdout.take().ok_or("stdout is not piped")?;
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    line.trim()
        .strip_prefix("listening on ")
        .map(str::to_string)
        .ok_or(line)
}

/// Puts every storage role of `c` on the PostgreSQL at `url`, in workspace `ws`.
pub fn on_postgres<'a>(c: &'a mut Command, url: &str, ws: &str) -> &'a mut Command {
    c.env("DATABASE_URL", url)
        .env("POSTGRES_SSL_MODE", "disable")
        .env("POSTGRES_WORKSPACE", ws)
        .env("LIGHTRAG_KV_STORAGE", "PGKVStorage")
        .env("LIGHTRAG_DOC_STATUS_STORAGE", "PGDocStatusStorage")
        .env("LIGHTRAG_GRAPH_STORAGE", "PGGraphStorage")
        .env("LIGHTRAG_VECTOR_STORAGE", "PGVectorStorage")
}

/// The standard output of a command that must have succeeded; otherwise the test fails with
/// its exit status and both outputs.
pub fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{out}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// `GET url` as JSON (the test fails on a transport or JSON error).
pub async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// `POST url` with a JSON body: the status (0 when the request failed) and the JSON reply.
pub async fn post_json(client: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    match client.post(url).json(&body).send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            (status, r.json().await.unwrap_or(Value::Null))
        }
        Err(e) => (0, json!(e.to_string())),
    }
}
