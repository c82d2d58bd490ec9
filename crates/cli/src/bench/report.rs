//! What every benchmark reports besides its numbers: the machine, the date, the build, the
//! embedder, memory; and small helpers for latency statistics and tables.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The machine and build a benchmark ran on.
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub mem_total_gib: f64,
    pub kernel: String,
    pub date_utc: String,
    pub build: &'static str,
}

impl Machine {
    pub fn probe() -> Machine {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_string(), |(_, v)| v.trim().to_string());
        let mem_total_gib =
            proc_kib("/proc/meminfo", "MemTotal:").map_or(0.0, |k| k as f64 / (1024.0 * 1024.0));
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or_else(|_| "unknown".to_string(), |s| s.trim().to_string());
        Machine {
            cpus,
            cpu_model,
            mem_total_gib,
            kernel,
            date_utc: utc_now(),
            build: if cfg!(debug_assertions) {
                "debug (timings are not representative: use a release build)"
            } else {
                "release"
            },
        }
    }

    pub fn text(&self) -> String {
        format!(
            "machine: {} CPUs ({}), {:.1} GiB RAM, Linux {}\ndate: {}\nbuild: {}\n",
            self.cpus, self.cpu_model, self.mem_total_gib, self.kernel, self.date_utc, self.build
        )
    }

    pub fn json(&self) -> Value {
        json!({"cpus": self.cpus, "cpu_model": self.cpu_model,
               "mem_total_gib": round(self.mem_total_gib, 1), "kernel": self.kernel,
               "date_utc": self.date_utc, "build": self.build})
    }
}

/// A `KEY: N kB` line of a /proc file, in KiB.
fn proc_kib(path: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].split_whitespace().next()?.parse().ok()
}

/// Peak resident set size of this process so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    proc_kib("/proc/self/status", "VmHWM:").map(|k| k as f64 / 1024.0)
}

/// Current resident set size (VmRSS), in MiB.
pub fn rss_mib() -> Option<f64> {
    proc_kib("/proc/self/status", "VmRSS:").map(|k| k as f64 / 1024.0)
}

/// Resets the peak RSS to the current RSS (Linux ≥ 4.0), so a later phase can be measured
/// alone. Returns whether it worked.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// `YYYY-MM-DD HH:MM:SS UTC` from the system clock (no date crate needed).
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Latency statistics in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Latency {
    pub n: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub mean: f64,
    pub max: f64,
}

impl Latency {
    /// From samples in milliseconds (nearest-rank percentiles).
    pub fn of(samples: &[f64]) -> Latency {
        if samples.is_empty() {
            return Latency::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let rank = |p: f64| s[((p * s.len() as f64).ceil() as usize).clamp(1, s.len()) - 1];
        Latency {
            n: s.len(),
            p50: rank(0.50),
            p90: rank(0.90),
            p99: rank(0.99),
            mean: s.iter().sum::<f64>() / s.len() as f64,
            max: s[s.len() - 1],
        }
    }

    pub fn json(&self) -> Value {
        json!({"n": self.n, "p50_ms": round(self.p50, 3), "p90_ms": round(self.p90, 3),
               "p99_ms": round(self.p99, 3), "mean_ms": round(self.mean, 3),
               "max_ms": round(self.max, 3)})
    }
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A plain-text table with right-aligned columns after the first.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let cols = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<&str>, out: &mut String| {
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(c.chars().count());
            if i == 0 {
                let _ = write!(out, "  {c}{}", " ".repeat(pad));
            } else {
                let _ = write!(out, "  {}{c}", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(header.to_vec(), &mut out);
    let rule: Vec<String> = width.iter().map(|w| "-".repeat(*w)).collect();
    line(rule.iter().map(String::as_str).collect(), &mut out);
    for r in rows {
        line(r.iter().map(String::as_str).collect(), &mut out);
    }
    out
}

/// Prints the human report: on stdout, or on stderr when the JSON goes to stdout.
pub fn emit(text: &str, json_out: Option<&Value>) -> anyhow::Result<()> {
    match json_out {
        Some(v) => {
            eprint!("{text}");
            println!("{}", serde_json::to_string_pretty(v)?);
        }
        None => print!("{text}"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_dates() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let l = Latency::of(&v);
        assert_eq!((l.p50, l.p90, l.p99, l.max), (50.0, 90.0, 99.0, 100.0));
        assert!((l.mean - 50.5).abs() < 1e-9);
        let d = utc_now();
        assert!(d.starts_with("20") && d.ends_with("UTC"), "{d}");
        assert!(table(&["a", "b"], &[vec!["x".into(), "10".into()]]).contains("10"));
    }
}
