//! The adaptive batch size: grows while batches leave full and work keeps waiting, shrinks when
//! a batch takes longer than the latency target, always within 1..=the model's maximum.
//!
//! Growing under backlog trades a little latency for fewer, fuller calls exactly when the model
//! is the bottleneck; shrinking on slow batches keeps one call from holding many callers (and
//! from nearing OLLAMA_BATCH_TIMEOUT).

use std::time::Duration;

/// Decides how many texts the next batch may take.
#[derive(Debug, Clone)]
pub struct AdaptiveSizer {
    target: usize,
    max: usize,
    latency_target: Duration,
    enabled: bool,
}

impl AdaptiveSizer {
    pub fn new(start: usize, max: usize, latency_target: Duration, enabled: bool) -> Self {
        let max = max.max(1);
        AdaptiveSizer {
            target: start.clamp(1, max),
            max,
            latency_target,
            enabled,
        }
    }

    /// Texts the next batch may take.
    pub fn target(&self) -> usize {
        self.target
    }

    /// Learns from a finished batch of `size` texts that took `latency`, with `backlog` texts
    /// still queued when it finished.
    pub fn observe(&mut self, size: usize, latency: Duration, backlog: usize) {
        if !self.enabled || size == 0 {
            return;
        }
        if latency > self.latency_target && size > 1 {
            self.target = (size * 3 / 4).clamp(1, self.max);
        } else if size >= self.target && backlog >= self.target {
            let step = (self.target / 4).max(1);
            self.target = (self.target + step).min(self.max);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_under_backlog_and_shrinks_when_slow() {
        let fast = Duration::from_millis(10);
        let mut s = AdaptiveSizer::new(32, 64, Duration::from_millis(100), true);
        s.observe(32, fast, 500);
        assert_eq!(s.target(), 40);
        for _ in 0..10 {
            let t = s.target();
            s.observe(t, fast, 500);
        }
        assert_eq!(s.target(), 64, "never above the model's maximum");
        s.observe(64, Duration::from_millis(300), 500);
        assert_eq!(s.target(), 48);
        s.observe(5, fast, 0);
        assert_eq!(s.target(), 48, "light load leaves it alone");
        let mut off = AdaptiveSizer::new(32, 64, Duration::from_millis(100), false);
        off.observe(32, fast, 500);
        assert_eq!(off.target(), 32);
    }
}
