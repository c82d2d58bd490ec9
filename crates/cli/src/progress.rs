//! The progress of processing documents: an indicatif bar on a terminal, and plain lines on
//! standard error otherwise (a run in the background or under CI still says how far it got).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use lightrag_core::pipeline::{Progress, ProgressEvent};
use lightrag_storage::copy::CopyProgress;

/// Without a terminal, a line at most this often (seconds)…
const LINE_EVERY_S: u64 = 30;

/// Documents, chunks and rate of a `process_pending` run.
pub struct DocProgress {
    bar: ProgressBar,
    plain: bool,
    total: AtomicUsize,
    finished: AtomicUsize,
    chunks: AtomicUsize,
    extracted: AtomicUsize,
    started: Instant,
    last_line_s: AtomicU64,
    finished_at: Mutex<Vec<f64>>,
}

impl DocProgress {
    /// A bar on standard error; `eta` adds the estimated time left.
    pub fn new(eta: bool) -> DocProgress {
        let plain = !std::io::stderr().is_terminal();
        let bar = if plain {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(0)
        };
        let template = if eta {
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} docs · {msg} · eta {eta}"
        } else {
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} docs · {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        DocProgress {
            bar,
            plain,
            total: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            chunks: AtomicUsize::new(0),
            extracted: AtomicUsize::new(0),
            started: Instant::now(),
            last_line_s: AtomicU64::new(0),
            finished_at: Mutex::new(Vec::new()),
        }
    }

    /// Seconds since the start at which each document finished, in finish order.
    pub fn finish_times(&self) -> Vec<f64> {
        self.finished_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Removes the bar (the caller prints its own summary).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn status(&self) -> String {
        let done = self.extracted.load(Ordering::Relaxed);
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "chunks {done}/{} · {:.2} chunks/s",
            self.chunks.load(Ordering::Relaxed),
            done as f64 / secs
        )
    }

    /// Without a terminal: a line every `LINE_EVERY_S` seconds, and one at the end.
    fn maybe_line(&self) {
        let elapsed = self.started.elapsed().as_secs();
        let finished = self.finished.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed);
        let last = self.last_line_s.load(Ordering::Relaxed);
        let due = elapsed >= last + LINE_EVERY_S || (total > 0 && finished == total);
        if due
            && self
                .last_line_s
                .compare_exchange(
                    last,
                    elapsed.max(last + 1),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_ok()
        {
            eprintln!("[{elapsed}s] {finished}/{total} docs · {}", self.status());
        }
    }
}

impl Progress for DocProgress {
    fn event(&self, ev: ProgressEvent) {
        match ev {
            ProgressEvent::Started { documents } => {
                self.total.store(documents, Ordering::Relaxed);
                self.bar.set_length(documents as u64);
            }
            ProgressEvent::Chunked { chunks, .. } => {
                self.chunks.fetch_add(chunks, Ordering::Relaxed);
            }
            ProgressEvent::ChunkExtracted { .. } => {
                self.extracted.fetch_add(1, Ordering::Relaxed);
            }
            ProgressEvent::Claimed { .. } => {}
            // Another process finishes it: it leaves this run's count.
            ProgressEvent::LeaseLost { .. } => {
                self.bar.inc(1);
            }
            ProgressEvent::Finished { .. } => {
                self.finished_at
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(self.started.elapsed().as_secs_f64());
                self.finished.fetch_add(1, Ordering::Relaxed);
                self.bar.inc(1);
            }
        }
        if self.plain {
            self.maybe_line();
        } else {
            self.bar.set_message(self.status());
        }
    }
}

/// The progress of a copy (migrate, export, import): one bar per part, on standard error.
pub struct Bars {
    current: Mutex<Option<ProgressBar>>,
}

impl Bars {
    pub fn new() -> Bars {
        Bars {
            current: Mutex::new(None),
        }
    }

    /// Finishes the last bar.
    pub fn finish(&self) {
        if let Some(bar) = self
            .current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            bar.finish();
        }
    }
}

impl CopyProgress for Bars {
    fn part(&self, name: &str, total: usize) {
        let bar = ProgressBar::new(total as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg:24} [{elapsed_precise}] {bar:30} {pos}/{len}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(name.to_string());
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(done) = current.replace(bar) {
            done.finish();
        }
    }

    fn advance(&self, done: usize) {
        if let Some(bar) = &*self.current.lock().unwrap_or_else(|p| p.into_inner()) {
            bar.inc(done as u64);
        }
    }
}
