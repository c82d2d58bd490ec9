//! `lightrag healthcheck`: asks a running server's `/health` and exits 0 when it answers 200.
//! The container image's HEALTHCHECK runs it, since the runtime image has no curl; plain
//! HTTP/1.1 over a TCP socket, no async runtime, no TLS (the server speaks plain HTTP).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use lightrag_core::config::Settings;

use crate::args::HealthcheckArgs;

/// GET /health on `--addr` (default: the HOST and PORT `lightrag serve` would use); an error
/// (exit 1) unless the status is 200.
pub fn run(args: &HealthcheckArgs) -> Result<()> {
    let addr = match &args.addr {
        Some(a) => a.clone(),
        None => default_addr()?,
    };
    let timeout = Duration::from_secs(args.timeout.max(1));
    let socket = addr
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve {addr}"))?
        .next()
        .with_context(|| format!("{addr} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&socket, timeout)
        .with_context(|| format!("cannot connect to {addr}"))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .with_context(|| format!("cannot send to {addr}"))?;
    let status_line =
        read_status_line(&mut stream).with_context(|| format!("no answer from {addr}"))?;
    match status_line.split_whitespace().nth(1) {
        Some("200") => {
            println!("healthy: http://{addr}/health answered {status_line}");
            Ok(())
        }
        _ => bail!("http://{addr}/health answered '{status_line}'"),
    }
}

/// Where `lightrag serve` listens with the same settings: a wildcard HOST means loopback.
fn default_addr() -> Result<String> {
    let s = Settings::load()?;
    let host = match s.get(&["HOST"]).map(str::trim).unwrap_or("") {
        "" | "0.0.0.0" => "127.0.0.1".to_string(),
        "::" | "[::]" => "[::1]".to_string(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.to_string(),
    };
    let port = s.get(&["PORT"]).map(str::trim).unwrap_or("9621");
    if port == "0" {
        bail!("PORT is 0 (any free port): pass --addr HOST:PORT");
    }
    Ok(format!("{host}:{port}"))
}

/// The first line of the reply (e.g. `HTTP/1.1 200 OK`), read up to 8 KiB.
fn read_status_line(stream: &mut TcpStream) -> Result<String> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while !reply.windows(2).any(|w| w == b"\r\n") && reply.len() < 8192 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&reply);
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        bail!("the connection closed without a reply");
    }
    Ok(line)
}
