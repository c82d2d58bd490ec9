//! CPU accounting of a measured phase: the cores this process kept busy, and the cores the rest
//! of the machine used meanwhile (other processes contending for the CPUs make a run slower, and
//! the report must say so).

use std::time::Instant;

use serde_json::{json, Value};

use super::report::round;

/// Clock ticks per second of /proc accounting (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

/// CPU time (user + system) this process used so far, in seconds.
fn own_seconds() -> Option<f64> {
    process_seconds("self")
}

/// CPU time (user + system) process `pid` ("self" for this one) used so far, in seconds.
pub fn process_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name, which is in parentheses and may contain spaces:
    // `rest[0]` is field 3 (state), so utime (14) and stime (15) are `rest[11]` and `rest[12]`.
    let rest: Vec<&str> = stat[stat.rfind(')')? + 2..].split_whitespace().collect();
    let utime: f64 = rest.get(11)?.parse().ok()?;
    let stime: f64 = rest.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS)
}

/// Busy and stolen CPU seconds of the whole machine so far, from the first line of /proc/stat
/// (`cpu user nice system idle iowait irq softirq steal ...`).
fn machine_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let v: Vec<f64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let busy = v.first()? + v.get(1)? + v.get(2)? + v.get(5)? + v.get(6)?;
    Some((busy / TICKS, v.get(7).copied().unwrap_or(0.0) / TICKS))
}

/// Started at the beginning of a phase.
pub struct CpuMeter {
    started: Instant,
    own: Option<f64>,
    machine: Option<(f64, f64)>,
}

/// Average cores over a phase.
#[derive(Debug, Clone, Copy)]
pub struct CpuUse {
    pub seconds: f64,
    /// CPU seconds of this process.
    pub own_cpu_s: Option<f64>,
    /// Cores this process kept busy.
    pub own_cores: Option<f64>,
    /// Cores the other processes of the machine kept busy.
    pub other_cores: Option<f64>,
    /// Cores the hypervisor took away (steal time).
    pub steal_cores: Option<f64>,
}

impl CpuMeter {
    pub fn start() -> CpuMeter {
        CpuMeter {
            started: Instant::now(),
            own: own_seconds(),
            machine: machine_seconds(),
        }
    }

    pub fn finish(&self) -> CpuUse {
        let seconds = self.started.elapsed().as_secs_f64().max(1e-9);
        let own_cpu_s = own_seconds().zip(self.own).map(|(b, a)| b - a);
        let machine = machine_seconds()
            .zip(self.machine)
            .map(|(b, a)| (b.0 - a.0, b.1 - a.1));
        CpuUse {
            seconds,
            own_cpu_s,
            own_cores: own_cpu_s.map(|c| c / seconds),
            other_cores: machine
                .zip(own_cpu_s)
                .map(|((busy, _), own)| ((busy - own) / seconds).max(0.0)),
            steal_cores: machine.map(|(_, steal)| steal / seconds),
        }
    }
}

impl CpuUse {
    /// One line for the human report.
    pub fn text(&self, cpus: usize) -> String {
        let f = |x: Option<f64>| x.map_or("?".to_string(), |c| format!("{c:.2}"));
        let mut s = format!(
            "CPU: this process kept {} of {cpus} cores busy on average ({}s of CPU); other processes {}, steal {}\n",
            f(self.own_cores),
            self.own_cpu_s.map_or("?".to_string(), |c| format!("{c:.1}")),
            f(self.other_cores),
            f(self.steal_cores)
        );
        if self.other_cores.unwrap_or(0.0) > 0.2 || self.steal_cores.unwrap_or(0.0) > 0.2 {
            s.push_str("warning: the machine was not idle during this phase; the timings are pessimistic\n");
        }
        s
    }

    pub fn json(&self) -> Value {
        let r = |x: Option<f64>| x.map(|c| round(c, 3));
        json!({"seconds": round(self.seconds, 3), "own_cpu_s": r(self.own_cpu_s),
               "own_cores": r(self.own_cores), "other_cores": r(self.other_cores),
               "steal_cores": r(self.steal_cores)})
    }
}
