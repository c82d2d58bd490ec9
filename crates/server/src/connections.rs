//! Accepting connections so that idle or slow sockets cannot starve the server.
//!
//! Every connection speaks HTTP/1.1 (as LightRAG's uvicorn does) and must send a complete
//! request head within [`ConnectionLimits::idle_timeout`]: on a fresh connection and between
//! keep-alive requests alike, so a socket that says nothing, or trickles a header, is closed.
//! At most [`ConnectionLimits::cap`] connections are open at once, a number lowered to fit the
//! process's descriptor limit. A newcomer at the cap does not wait behind idle sockets: the
//! connection idle for longest (no request in flight) is closed to make room, so `/health`
//! and real work get through while a client holds hundreds of idle sockets. Only when every
//! open connection is busy is the newcomer refused.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Connection settings (MAX_CONNECTIONS, CONNECTION_IDLE_TIMEOUT).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The configured cap on open connections.
    pub max_connections: usize,
    /// Time a connection has to send a complete request head, after opening or after its
    /// previous answer.
    pub idle_timeout: Duration,
}

/// Descriptors kept free for what the process opens itself (stores, models, outbound calls):
/// a quarter of the limit, at least this many.
const RESERVED_DESCRIPTORS: usize = 64;

impl ConnectionLimits {
    /// The cap applied: the configured one, lowered so that connections leave room in the
    /// process's descriptor limit (a server that runs out of descriptors cannot even accept
    /// the connection that would let it close an idle one).
    pub fn cap(&self) -> usize {
        let configured = self.max_connections.max(1);
        match descriptor_limit() {
            Some(limit) => {
                let reserve = (limit / 4).max(RESERVED_DESCRIPTORS);
                configured.min(limit.saturating_sub(reserve).max(1))
            }
            None => configured,
        }
    }
}

/// The process's soft limit of open descriptors.
#[cfg(unix)]
fn descriptor_limit() -> Option<usize> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as usize)
}

#[cfg(not(unix))]
fn descriptor_limit() -> Option<usize> {
    None
}

/// Raises the soft descriptor limit to the hard one (as Go's runtime does), so that the
/// connection cap, not an accidental default of 1,024, is what bounds a busy server.
pub fn raise_descriptor_limit() {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit and setrlimit read and write only the struct we pass.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
                lim.rlim_cur = lim.rlim_max;
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    tracing::debug!("cannot raise the descriptor limit");
                }
            }
        }
    }
}

/// One open connection, as the acceptor sees it.
struct Conn {
    /// Requests whose answer is not yet fully written.
    in_flight: AtomicUsize,
    /// When the last request finished (or the connection opened), in ms since `Registry::epoch`.
    idle_since_ms: AtomicU64,
    /// Set once the acceptor chose this connection to make room.
    evicted: AtomicBool,
    evict: Notify,
}

/// The open connections.
struct Registry {
    epoch: Instant,
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn len(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn add(&self, id: u64) -> Arc<Conn> {
        let conn = Arc::new(Conn {
            in_flight: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(self.now_ms()),
            evicted: AtomicBool::new(false),
            evict: Notify::new(),
        });
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, conn.clone());
        conn
    }

    fn remove(&self, id: u64) {
        self.conns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
    }

    /// Closes the connection idle for longest; false when every connection is busy.
    fn evict_longest_idle(&self) -> bool {
        let mut conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let victim = conns
            .iter()
            .filter(|(_, c)| c.in_flight.load(Ordering::SeqCst) == 0)
            .min_by_key(|(_, c)| c.idle_since_ms.load(Ordering::SeqCst))
            .map(|(id, _)| *id);
        let Some(id) = victim else {
            return false;
        };
        if let Some(c) = conns.remove(&id) {
            c.evicted.store(true, Ordering::SeqCst);
            c.evict.notify_one();
        }
        true
    }
}

/// Counts a request as in flight until its answer has been written (or dropped).
struct InFlight {
    conn: Arc<Conn>,
    registry: Arc<Registry>,
}

impl InFlight {
    fn start(conn: Arc<Conn>, registry: Arc<Registry>) -> InFlight {
        conn.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlight { conn, registry }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.conn
            .idle_since_ms
            .store(self.registry.now_ms(), Ordering::SeqCst);
        self.conn.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its request counted as in flight while it streams.
struct Tracked {
    inner: Body,
    _in_flight: InFlight,
}

impl http_body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Whether an accept error means the process is out of descriptors.
fn out_of_descriptors(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        matches!(e.raw_os_error(), Some(libc::EMFILE) | Some(libc::ENFILE))
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, closes idle
/// connections, lets requests in flight finish, and returns once every connection closed.
pub async fn run(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send,
) {
    let cap = limits.cap();
    tracing::info!(
        max_connections = cap,
        idle_timeout = ?limits.idle_timeout,
        "accepting connections"
    );
    let registry = Arc::new(Registry {
        epoch: Instant::now(),
        conns: Mutex::new(HashMap::new()),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut next_id = 0u64;
    let mut last_refusal_log: Option<Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => continue,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) if out_of_descriptors(&e) => {
                // Make room by closing an idle connection, then try again.
                registry.evict_longest_idle();
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
            Err(e) => {
                // A connection that failed between SYN and accept: nothing to serve.
                tracing::debug!("accept failed: {e}");
                continue;
            }
        };
        if registry.len() >= cap && !registry.evict_longest_idle() {
            if last_refusal_log.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(
                    "all {cap} connections are busy (MAX_CONNECTIONS); refusing new ones"
                );
                last_refusal_log = Some(Instant::now());
            }
            drop(stream);
            continue;
        }
        next_id += 1;
        let conn = registry.add(next_id);
        tasks.spawn(serve_connection(
            stream,
            peer,
            app.clone(),
            (next_id, conn, registry.clone()),
            limits.idle_timeout,
            stop_rx.clone(),
        ));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Serves one connection until it closes, is evicted, or the server stops.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    (id, conn, registry): (u64, Arc<Conn>, Arc<Registry>),
    idle_timeout: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let svc_conn = conn.clone();
    let svc_registry = registry.clone();
    let svc = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::start(svc_conn.clone(), svc_registry.clone());
        let call = app.clone().oneshot(req.map(Body::new));
        async move {
            let resp = call.await.unwrap_or_else(|e: Infallible| match e {});
            Ok::<_, Infallible>(resp.map(|inner| {
                Body::new(Tracked {
                    inner,
                    _in_flight: in_flight,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(idle_timeout)
        .keep_alive(true);
    let connection = builder.serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            r = connection.as_mut() => {
                if let Err(e) = r {
                    tracing::debug!(%peer, "connection ended: {e}");
                }
                break;
            }
            _ = conn.evict.notified(), if !closing => {
                if conn.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = stop.changed(), if !closing => {
                if conn.in_flight.load(Ordering::SeqCst) == 0 {
                    break;
                }
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
    if !conn.evicted.load(Ordering::SeqCst) {
        registry.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_room_in_the_descriptor_limit() {
        let limits = ConnectionLimits {
            max_connections: usize::MAX,
            idle_timeout: Duration::from_secs(1),
        };
        if let Some(limit) = descriptor_limit() {
            assert!(limits.cap() <= limit.saturating_sub(RESERVED_DESCRIPTORS).max(1));
        }
        let small = ConnectionLimits {
            max_connections: 10,
            ..limits
        };
        assert_eq!(small.cap(), 10);
    }

    #[test]
    fn eviction_takes_the_longest_idle_and_spares_busy_connections() {
        let r = Registry {
            epoch: Instant::now(),
            conns: Mutex::new(HashMap::new()),
        };
        let a = r.add(1);
        let b = r.add(2);
        let c = r.add(3);
        a.idle_since_ms.store(5, Ordering::SeqCst);
        b.idle_since_ms.store(1, Ordering::SeqCst);
        c.idle_since_ms.store(9, Ordering::SeqCst);
        b.in_flight.store(1, Ordering::SeqCst);
        assert!(r.evict_longest_idle());
        assert!(a.evicted.load(Ordering::SeqCst), "oldest idle, not busy b");
        assert!(!b.evicted.load(Ordering::SeqCst));
        assert_eq!(r.len(), 2);
        c.in_flight.store(1, Ordering::SeqCst);
        assert!(!r.evict_longest_idle(), "every connection is busy");
    }
}
