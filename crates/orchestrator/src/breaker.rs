//! A circuit breaker: after repeated failures a dependency is not called at all for a while,
//! so callers fail fast instead of queueing behind timeouts, and the dependency can recover.
//!
//! Closed (calls pass, failures counted) → Open after `threshold` consecutive failures (calls
//! rejected) → HalfOpen once `cooldown` has passed (one trial call) → Closed on its success,
//! Open again on its failure. `reset` closes it by hand.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The breaker's state, as reported in health and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half-open",
        }
    }

    /// 0 closed, 1 half-open, 2 open: a gauge value.
    pub fn level(self) -> f64 {
        match self {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        }
    }
}

#[derive(Debug)]
enum Inner {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen { trial_running: bool },
}

/// A thread-safe circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cooldown: Duration) -> CircuitBreaker {
        CircuitBreaker {
            threshold: threshold.max(1),
            cooldown,
            inner: Mutex::new(Inner::Closed { failures: 0 }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may go ahead now. In half-open, only one trial at a time is allowed.
    pub fn allow(&self) -> bool {
        let mut inner = self.lock();
        match *inner {
            Inner::Closed { .. } => true,
            Inner::Open { until } => {
                if Instant::now() >= until {
                    *inner = Inner::HalfOpen {
                        trial_running: true,
                    };
                    true
                } else {
                    false
                }
            }
            Inner::HalfOpen { trial_running } => {
                if trial_running {
                    false
                } else {
                    *inner = Inner::HalfOpen {
                        trial_running: true,
                    };
                    true
                }
            }
        }
    }

    /// Whether a call would be allowed now, without taking the half-open trial slot.
    pub fn allow_peek(&self) -> bool {
        match *self.lock() {
            Inner::Closed { .. } => true,
            Inner::Open { until } => Instant::now() >= until,
            Inner::HalfOpen { trial_running } => !trial_running,
        }
    }

    /// Records a successful call: the breaker closes.
    pub fn success(&self) {
        *self.lock() = Inner::Closed { failures: 0 };
    }

    /// Records a failed call.
    pub fn failure(&self) {
        let mut inner = self.lock();
        let open = Inner::Open {
            until: Instant::now() + self.cooldown,
        };
        *inner = match *inner {
            Inner::Closed { failures } if failures + 1 < self.threshold => Inner::Closed {
                failures: failures + 1,
            },
            Inner::Open { until } => Inner::Open { until },
            _ => open,
        };
    }

    /// The current state (an open breaker whose cooldown passed reports half-open).
    pub fn state(&self) -> BreakerState {
        match *self.lock() {
            Inner::Closed { .. } => BreakerState::Closed,
            Inner::Open { until } if Instant::now() >= until => BreakerState::HalfOpen,
            Inner::Open { .. } => BreakerState::Open,
            Inner::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// How long until an open breaker lets a trial through.
    pub fn retry_in(&self) -> Duration {
        match *self.lock() {
            Inner::Open { until } => until.saturating_duration_since(Instant::now()),
            _ => Duration::ZERO,
        }
    }

    /// Closes the breaker by hand (an operator knows the dependency is back).
    pub fn reset(&self) {
        self.success();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_half_opens_and_closes() {
        let b = CircuitBreaker::new(3, Duration::from_millis(50));
        b.failure();
        b.failure();
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure();
        assert_eq!(b.state(), BreakerState::Open);
        assert!(!b.allow());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.allow(), "one trial");
        assert!(!b.allow(), "only one trial at a time");
        b.failure();
        assert_eq!(b.state(), BreakerState::Open, "a failed trial reopens");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.allow());
        b.success();
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure();
        b.failure();
        b.failure();
        b.reset();
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(b.allow());
    }
}
