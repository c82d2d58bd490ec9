//! The container image, built and run the way an operator would: `scripts/container.sh bases
//! build smoke size` builds ./Dockerfile with podman on locally made base images, starts it,
//! indexes a document, queries it, checks the non-root user, the HEALTHCHECK and a clean stop.
//!
//! `lightrag healthcheck`, the image's HEALTHCHECK, is also tested on its own against the
//! built binary (no container needed).
//!
//! The image test runs when the CI's services are up (`LIGHTRAG_TEST_SERVICES=1`, set by scripts/test.sh)
//! or when asked (`LIGHTRAG_TEST_CONTAINER=1`); then any failure to install podman, build the
//! image or run it fails the test. Otherwise it is skipped with a message: a cold image build
//! takes many minutes.

use std::fs::File;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

mod common;

fn enabled(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| v == "1")
}

#[test]
fn the_image_builds_serves_indexes_and_answers() {
    if !enabled("LIGHTRAG_TEST_SERVICES") && !enabled("LIGHTRAG_TEST_CONTAINER") {
        eprintln!(
            "skipped: the container image test runs with LIGHTRAG_TEST_SERVICES=1 (scripts/test.sh) \
             or LIGHTRAG_TEST_CONTAINER=1; by hand: scripts/container.sh bases build smoke size"
        );
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let log_path =
        std::env::temp_dir().join(format!("lightrag-container-{}.log", std::process::id()));
    let log = File::create(&log_path).expect("create the log file");
    let started = Instant::now();
    let status = Command::new("bash")
        .arg(root.join("scripts/container.sh"))
        .args(["bases", "build", "smoke", "size"])
        .current_dir(&root)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .status();
    let output = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    // The script's own lines: step times, the image size, each smoke check.
    let summary: Vec<&str> = output
        .lines()
        .filter(|l| l.starts_with("container: "))
        .collect();
    eprintln!("{}", summary.join("\n"));
    let tail: Vec<&str> = output.lines().rev().take(120).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    match status {
        Ok(s) if s.success() => {
            eprintln!("container image test passed in {:?}", started.elapsed());
        }
        Ok(s) => panic!(
            "scripts/container.sh bases build smoke size failed ({s}) after {:?}; its last lines:\n{}",
            started.elapsed(),
            tail.join("\n")
        ),
        Err(e) => panic!("cannot run scripts/container.sh: {e}"),
    }
}

/// `lightrag healthcheck --addr` against a running `lightrag serve`: 0 while it answers, 1 with
/// a message once it is gone.
#[test]
fn healthcheck_exits_0_while_the_server_answers_and_1_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = common::serve_command(dir.path(), None)
        .env("EMBEDDING_BINDING", "hashing")
        .env("EMBEDDING_DIM", "64")
        .current_dir(dir.path())
        .spawn()
        .expect("start lightrag serve");
    let url = common::listening_url(&mut child).unwrap_or_else(|line| {
        let _ = child.kill();
        panic!("unexpected first line: {line}")
    });
    let addr = url.trim_start_matches("http://").to_string();
    let check = || {
        Command::new(env!("CARGO_BIN_EXE_lightrag"))
            .args(["healthcheck", "--addr", &addr, "--timeout", "10"])
            .current_dir(dir.path())
            .output()
            .expect("run lightrag healthcheck")
    };
    let up = check();
    let _ = child.kill();
    let _ = child.wait();
    assert!(up.status.success(), "{up:?}");
    assert!(
        String::from_utf8_lossy(&up.stdout).contains("200"),
        "{up:?}"
    );
    let down = check();
    assert_eq!(down.status.code(), Some(1), "{down:?}");
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("cannot connect"),
        "{down:?}"
    );
}
