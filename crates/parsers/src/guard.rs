//! Deadlines checked inside parser loops, and the thread + catch_unwind wrapper around a parse.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{ParseError, Parsed};

/// A point in time after which parsing stops with [`ParseError::Timeout`].
pub(crate) struct Deadline {
    at: Option<Instant>,
    budget: Duration,
    ticks: Cell<u32>,
}

impl Deadline {
    pub(crate) fn after(budget: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(budget),
            budget,
            ticks: Cell::new(0),
        }
    }

    /// Fails once the deadline has passed; cheap enough to call per element.
    pub(crate) fn check(&self) -> Result<(), ParseError> {
        match self.at {
            Some(at) if Instant::now() >= at => Err(self.timeout()),
            _ => Ok(()),
        }
    }

    /// For tight loops: checks the clock on every 1024th call only.
    pub(crate) fn tick(&self) -> Result<(), ParseError> {
        let n = self.ticks.get().wrapping_add(1);
        self.ticks.set(n);
        if n & 1023 == 0 {
            self.check()
        } else {
            Ok(())
        }
    }

    pub(crate) fn timeout(&self) -> ParseError {
        ParseError::Timeout {
            seconds: self.budget.as_secs_f64(),
        }
    }
}

/// Runs `f` on a new thread, turning a panic into `Panicked` and an overrun into `Timeout`.
pub(crate) fn run_guarded<F>(timeout: Duration, f: F) -> Result<Parsed, ParseError>
where
    F: FnOnce(&Deadline) -> Result<Parsed, ParseError> + Send + 'static,
{
    let deadline = Deadline::after(timeout);
    let seconds = timeout.as_secs_f64();
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("lightrag-parse".into())
        .stack_size(16 * 1024 * 1024)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| f(&deadline)));
            let _ = tx.send(result);
        });
    if let Err(e) = spawned {
        return Err(ParseError::Panicked {
            reason: format!("could not start the parser thread: {e}"),
        });
    }
    match rx.recv_timeout(timeout) {
        Ok(Ok(result)) => result,
        Ok(Err(payload)) => Err(ParseError::Panicked {
            reason: panic_reason(payload.as_ref()),
        }),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ParseError::Timeout { seconds }),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ParseError::Panicked {
            reason: "the parser thread ended without a result".into(),
        }),
    }
}

fn panic_reason(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
