//! The monitoring kit in deploy/monitoring, checked the way an operator would rely on it:
//! the alert rules and the scrape configuration pass `promtool check` and the rules' unit tests
//! (`promtool test rules`), every alert has a test that fires it, every Grafana panel query is
//! PromQL that promtool accepts, every metric named in the dashboard and the rules is one the
//! code exports (or one of a short list of other exporters' metrics), and the Blackbox
//! exporter's /health patterns match what a real server says with Redis unreachable and with
//! its PostgreSQL cut off.
//!
//! promtool comes from the Debian package `prometheus` (scripts/promtool.sh installs it); the
//! PostgreSQL case needs LIGHTRAG_TEST_PG_URL and the healthy-Redis case LIGHTRAG_TEST_REDIS_URL.
//! With LIGHTRAG_TEST_SERVICES=1 a missing promtool or service fails the test instead of
//! skipping it. The Blackbox exporter itself (Debian `prometheus-blackbox-exporter`, installed
//! by scripts/promtool.sh) checks blackbox.yml and probes the real servers; with the services up
//! it must be installed.

mod common;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

fn monitoring() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/monitoring")
}

fn prometheus_dir() -> PathBuf {
    monitoring().join("prometheus")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn services() -> bool {
    std::env::var("LIGHTRAG_TEST_SERVICES").is_ok_and(|v| v == "1")
}

/// Whether promtool runs here; without it the test is skipped, unless the services are
/// required (then it fails).
fn have_promtool(what: &str) -> bool {
    match Command::new("promtool").arg("--version").output() {
        Ok(o) if o.status.success() => true,
        other => {
            assert!(
                !services(),
                "promtool is required with LIGHTRAG_TEST_SERVICES=1 (scripts/promtool.sh installs it): {other:?}"
            );
            eprintln!("SKIPPED {what}: promtool not installed; run scripts/promtool.sh");
            false
        }
    }
}

/// `promtool ARGS` in `dir`; its standard output, or the test fails with both outputs.
fn promtool(dir: &Path, args: &[&str]) -> String {
    let o = Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run promtool");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "promtool {args:?} failed:\n{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

// ------------------------------------------------------------------ reading the files

/// The `expr` of every rule of a Prometheus rules file as written here: either on the line
/// (`expr: up == 0`) or as a block (`expr: |` and the more indented lines after it).
fn rule_exprs(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let indent = line.len() - line.trim_start().len();
        if let Some(rest) = line.trim_start().strip_prefix("expr:") {
            let rest = rest.trim();
            if rest.starts_with('|') || rest.starts_with('>') {
                let mut block = Vec::new();
                while i + 1 < lines.len() {
                    let next = lines[i + 1];
                    let next_indent = next.len() - next.trim_start().len();
                    if !next.trim().is_empty() && next_indent <= indent {
                        break;
                    }
                    block.push(next.trim());
                    i += 1;
                }
                out.push(block.join("\n").trim().to_string());
            } else {
                out.push(rest.trim_matches(['\'', '"']).to_string());
            }
        }
        i += 1;
    }
    out
}

/// The names after `- alert:` in a rules file.
fn alert_names(yaml: &str) -> Vec<String> {
    yaml.lines()
        .filter_map(|l| l.trim_start().strip_prefix("- alert:"))
        .map(|n| n.trim().to_string())
        .collect()
}

/// The alerts that some `alert_rule_test` case of a promtool test file expects to fire.
fn alerts_tested_firing(yaml: &str) -> BTreeSet<String> {
    let mut fired = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in yaml.lines() {
        let t = line.trim_start();
        if t.starts_with("- eval_time:") {
            current = None;
        } else if let Some(name) = t.strip_prefix("alertname:") {
            current = Some(name.trim().to_string());
        } else if t.starts_with("exp_alerts:") {
            if let Some(name) = &current {
                fired.insert(name.clone());
            }
        }
    }
    fired
}

/// The dashboard's panels, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for p in dashboard["panels"].as_array().expect("panels") {
        out.push(p);
        if let Some(inner) = p["panels"].as_array() {
            out.extend(inner);
        }
    }
    out
}

/// Every PromQL expression of the dashboard: `(where, expr)` for each panel target and for the
/// selector inside each query variable's `label_values(SELECTOR, label)`.
fn dashboard_exprs(dashboard: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(dashboard) {
        for t in p["targets"].as_array().into_iter().flatten() {
            let expr = t["expr"]
                .as_str()
                .unwrap_or_else(|| panic!("a target without expr: {t}"));
            out.push((
                format!(
                    "panel {} \"{}\" {}",
                    p["id"],
                    p["title"].as_str().unwrap_or(""),
                    t["refId"]
                ),
                expr.to_string(),
            ));
        }
    }
    for v in dashboard["templating"]["list"]
        .as_array()
        .expect("templating")
    {
        if v["type"] != "query" {
            continue;
        }
        let q = v["definition"].as_str().expect("variable definition");
        let inner = q
            .strip_prefix("label_values(")
            .and_then(|r| r.rsplit_once(','))
            .map(|(sel, _)| sel.trim().to_string())
            .unwrap_or_else(|| {
                panic!(
                    "variable {}: expected label_values(SELECTOR, label): {q}",
                    v["name"]
                )
            });
        out.push((format!("variable {}", v["name"]), inner));
    }
    out
}

/// The expression with Grafana's variables replaced by values a Prometheus query could have.
fn without_grafana_variables(expr: &str) -> String {
    let out = expr
        .replace("$__rate_interval", "5m")
        .replace("$job", "lightrag")
        .replace("$instance", ".*")
        .replace("$container", "lightrag");
    assert!(!out.contains('$'), "an unknown Grafana variable in: {expr}");
    out
}

/// PromQL words that are not metric names.
const PROMQL_WORDS: &[&str] = &[
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "atan2",
    "inf",
    "nan",
];

/// Words followed by a list of label names in parentheses.
const LABEL_LISTS: &[&str] = &[
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
];

/// The metric names an expression selects (functions, keywords, label names, strings,
/// numbers and durations left out).
fn metric_names(expr: &str) -> BTreeSet<String> {
    let c: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    let skip_to = |mut i: usize, close: char| {
        while i < c.len() && c[i] != close {
            if c[i] == '"' {
                i += 1;
                while i < c.len() && c[i] != '"' {
                    i += if c[i] == '\\' { 2 } else { 1 };
                }
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        if ch == '{' {
            i = skip_to(i + 1, '}');
        } else if ch == '[' {
            i = skip_to(i + 1, ']');
        } else if ch == '"' {
            i = skip_to(i + 1, '"');
        } else if ch.is_ascii_digit() || ch == '.' {
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '.') {
                i += 1;
            }
        } else if ch.is_ascii_alphabetic() || ch == '_' || ch == ':' {
            let start = i;
            while i < c.len() && (c[i].is_ascii_alphanumeric() || c[i] == '_' || c[i] == ':') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let mut j = i;
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            let call = j < c.len() && c[j] == '(';
            if LABEL_LISTS.contains(&word.as_str()) && call {
                i = skip_to(j + 1, ')');
            } else if !call && !PROMQL_WORDS.contains(&word.to_ascii_lowercase().as_str()) {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// Metrics other programs export, with the program: Prometheus itself, the Blackbox
/// exporter's /health probes, and cAdvisor's per-container usage (the server exports no
/// process_* metrics).
const EXTERNAL: &[(&str, &str)] = &[
    ("up", "Prometheus"),
    ("probe_success", "Blackbox exporter"),
    ("probe_duration_seconds", "Blackbox exporter"),
    ("container_cpu_usage_seconds_total", "cAdvisor"),
    ("container_memory_working_set_bytes", "cAdvisor"),
];

/// The text of every Rust source file of the workspace's crates (tests excluded).
fn crate_sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push_str(&std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = String::new();
    for e in std::fs::read_dir(&crates).expect("crates").flatten() {
        let src = e.path().join("src");
        if src.is_dir() {
            walk(&src, &mut out);
        }
    }
    out
}

/// The family a sample name belongs to: the name itself when the code records it, else the
/// name without a histogram's or summary's `_bucket`, `_sum` or `_count`.
fn family<'a>(name: &'a str, sources: &str) -> Option<&'a str> {
    if sources.contains(&format!("\"{name}\"")) {
        return Some(name);
    }
    ["_bucket", "_sum", "_count"]
        .iter()
        .filter_map(|s| name.strip_suffix(s))
        .find(|base| sources.contains(&format!("\"{base}\"")))
}

fn all_exprs() -> Vec<(String, String)> {
    let dashboard: Value =
        serde_json::from_str(&read(&monitoring().join("grafana/lightrag.json"))).expect("JSON");
    let mut exprs: Vec<(String, String)> = dashboard_exprs(&dashboard)
        .into_iter()
        .map(|(w, e)| (format!("dashboard {w}"), without_grafana_variables(&e)))
        .collect();
    let rules = read(&prometheus_dir().join("alerts.yml"));
    exprs.extend(
        rule_exprs(&rules)
            .into_iter()
            .map(|e| ("alerts.yml".to_string(), e)),
    );
    exprs
}

// ------------------------------------------------------------------ the checks

#[test]
fn promql_metric_names_are_found() {
    let names = metric_names(
        "sum by (job, le) (rate(a_bucket{job=\"x\", le=~\"1|2\"}[5m])) / ignoring(level) group_left sum(b_total offset 15m) > 0.5 unless on () count(up{job=\"lightrag\"} offset 1h) and histogram_quantile(0.95, c) * 60",
    );
    let want: BTreeSet<String> = ["a_bucket", "b_total", "up", "c"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, want);
}

#[test]
fn alert_rules_and_scrape_config_pass_promtool() {
    if !have_promtool("alert rule checks") {
        return;
    }
    let dir = prometheus_dir();
    let rules = read(&dir.join("alerts.yml"));
    let alerts = alert_names(&rules);
    let out = promtool(&dir, &["check", "rules", "alerts.yml"]);
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", alerts.len())),
        "{out}"
    );
    let out = promtool(&dir, &["test", "rules", "alerts.test.yml"]);
    assert!(out.contains("SUCCESS"), "{out}");
    // The configuration names alerts.yml relative to itself; promtool checks it too.
    let out = promtool(&dir, &["check", "config", "prometheus.yml"]);
    assert!(out.contains("SUCCESS: 1 rule files found"), "{out}");
}

#[test]
fn every_alert_has_a_unit_test_that_fires_it() {
    let dir = prometheus_dir();
    let alerts = alert_names(&read(&dir.join("alerts.yml")));
    assert!(alerts.len() >= 10, "{alerts:?}");
    let unique: BTreeSet<_> = alerts.iter().collect();
    assert_eq!(unique.len(), alerts.len(), "an alert name is used twice");
    let fired = alerts_tested_firing(&read(&dir.join("alerts.test.yml")));
    let untested: Vec<_> = alerts.iter().filter(|a| !fired.contains(*a)).collect();
    assert!(
        untested.is_empty(),
        "alerts without a firing case in alerts.test.yml: {untested:?}"
    );
    let unknown: Vec<_> = fired.iter().filter(|a| !alerts.contains(a)).collect();
    assert!(
        unknown.is_empty(),
        "tests of alerts that do not exist: {unknown:?}"
    );
}

#[test]
fn dashboard_is_valid_and_its_queries_parse() {
    let text = read(&monitoring().join("grafana/lightrag.json"));
    let d: Value = serde_json::from_str(&text).expect("the dashboard is not valid JSON");
    assert!(
        d["schemaVersion"].as_u64().is_some_and(|v| v >= 36),
        "schemaVersion"
    );
    assert!(d["uid"].is_string() && d["title"].is_string());
    let vars = d["templating"]["list"].as_array().expect("templating");
    let var = |name: &str| vars.iter().find(|v| v["name"] == name);
    assert_eq!(
        var("DS_PROMETHEUS").map(|v| &v["type"]),
        Some(&json!("datasource")),
        "the datasource variable DS_PROMETHEUS"
    );
    assert!(var("instance").is_some(), "the replica variable");
    let mut ids = BTreeSet::new();
    for p in panels(&d) {
        let id = p["id"].as_u64().expect("panel id");
        assert!(ids.insert(id), "panel id {id} is used twice");
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_u64().unwrap(), g["w"].as_u64().unwrap());
        assert!(
            x + w <= 24 && g["h"].as_u64().unwrap() > 0,
            "panel {id}: gridPos {g}"
        );
        if p["type"] == "row" {
            continue;
        }
        assert!(
            p["title"].as_str().is_some_and(|t| !t.is_empty()),
            "panel {id}: a title"
        );
        assert!(
            p["description"].as_str().is_some_and(|t| !t.is_empty()),
            "panel {id}: a description"
        );
        assert_eq!(
            p["datasource"]["uid"], "${DS_PROMETHEUS}",
            "panel {id}: datasource"
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {id}: no query");
        for t in targets {
            assert_eq!(
                t["datasource"]["uid"], "${DS_PROMETHEUS}",
                "panel {id}: target datasource"
            );
        }
    }
    if !have_promtool("dashboard query checks") {
        return;
    }
    // promtool parses PromQL in rule files: each query becomes a recording rule.
    let exprs = dashboard_exprs(&d);
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (_, e)) in exprs.iter().enumerate() {
        let e = serde_json::to_string(&without_grafana_variables(e)).unwrap();
        rules.push_str(&format!(
            "      - record: dashboard:query_{i}\n        expr: {e}\n"
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dashboard.rules.yml"), &rules).unwrap();
    let o = Command::new("promtool")
        .args(["check", "rules", "dashboard.rules.yml"])
        .current_dir(dir.path())
        .output()
        .expect("promtool");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let listing: Vec<String> = exprs
        .iter()
        .enumerate()
        .map(|(i, (w, e))| format!("query_{i}: {w}: {e}"))
        .collect();
    assert!(o.status.success(), "{out}\n{}", listing.join("\n"));
    assert!(
        out.contains(&format!("SUCCESS: {} rules found", exprs.len())),
        "{out}"
    );
}

#[test]
fn dashboard_and_rules_use_only_exported_metrics() {
    let sources = crate_sources();
    let mut missing = Vec::new();
    let mut used = BTreeSet::new();
    for (place, expr) in all_exprs() {
        for name in metric_names(&expr) {
            if EXTERNAL.iter().any(|(n, _)| *n == name) {
                continue;
            }
            match family(&name, &sources) {
                Some(f) => {
                    used.insert(f.to_string());
                }
                None => missing.push(format!("{name} ({place}: {expr})")),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "metrics no crate records (nor in EXTERNAL):\n{}",
        missing.join("\n")
    );
    // The seed's four names are all on the dashboard.
    for seed in [
        "lightrag_query_latency_seconds",
        "lightrag_document_processing_seconds",
        "lightrag_active_requests",
        "lightrag_failed_requests_total",
    ] {
        assert!(used.contains(seed), "{seed} is not used: {used:?}");
    }
}

// ------------------------------------------------------------------ real servers

/// `lightrag serve` on 127.0.0.1, its log in DIR/stderr.log; killed when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &Path, env: &[(&str, &str)], pg: Option<(&str, &str)>) -> Server {
    let mut cmd = common::serve_command(dir, None);
    std::fs::create_dir_all(dir).unwrap();
    cmd.current_dir(std::env::temp_dir())
        .stderr(File::create(dir.join("stderr.log")).unwrap())
        .env("EMBEDDING_BINDING", "hashing")
        .env("EMBEDDING_DIM", "64");
    if let Some((url, ws)) = pg {
        common::on_postgres(&mut cmd, url, ws);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start lightrag serve");
    match common::listening_url(&mut child) {
        Ok(url) => Server { child, url },
        Err(line) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the server did not start ({line}):\n{}",
                std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
            );
        }
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn text(c: &reqwest::Client, url: &str) -> String {
    let r = c.get(url).send().await.expect("GET");
    assert_eq!(r.status(), 200, "{url}");
    r.text().await.expect("body")
}

/// The patterns of each Blackbox module in blackbox.yml: (module, must not match, must match).
fn blackbox_patterns() -> Vec<(String, Vec<String>, Vec<String>)> {
    let yaml = read(&prometheus_dir().join("blackbox.yml"));
    let mut modules: Vec<(String, Vec<String>, Vec<String>)> = Vec::new();
    let mut list: Option<bool> = None;
    for line in yaml.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 2 && t.ends_with(':') {
            modules.push((t.trim_end_matches(':').to_string(), Vec::new(), Vec::new()));
            list = None;
        } else if t == "fail_if_body_matches_regexp:" {
            list = Some(false);
        } else if t == "fail_if_body_not_matches_regexp:" {
            list = Some(true);
        } else if let (Some(required), Some(item)) = (list, t.strip_prefix("- ")) {
            let pattern = item.trim_matches('\'').to_string();
            // Plain strings only, so that a substring test is the regular expression's match.
            assert!(
                !pattern.chars().any(|c| "\\.+*?()[]{}|^$".contains(c)),
                "blackbox.yml pattern {pattern} is not a plain string"
            );
            let m = modules.last_mut().expect("a pattern outside a module");
            if required { &mut m.2 } else { &mut m.1 }.push(pattern);
        } else {
            list = None;
        }
    }
    modules
}

/// Whether the module's probe of a /health body succeeds, by the patterns.
fn probe_passes(module: &str, body: &str) -> bool {
    let all = blackbox_patterns();
    let (_, fail_if, need) = all
        .iter()
        .find(|(m, _, _)| m == module)
        .unwrap_or_else(|| panic!("no module {module} in blackbox.yml"));
    !fail_if.iter().any(|p| body.contains(p.as_str()))
        && need.iter().all(|p| body.contains(p.as_str()))
}

/// A free port on 127.0.0.1 (closed again: nothing answers on it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Blackbox exporter with blackbox.yml, when installed: `--config.check` passes, and it
/// serves probes on 127.0.0.1.
struct Blackbox {
    child: Child,
    addr: String,
}

impl Drop for Blackbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn blackbox() -> Option<Blackbox> {
    let bin = ["prometheus-blackbox-exporter", "blackbox_exporter"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(bin) = bin else {
        // scripts/test.sh installs it (scripts/promtool.sh): with the services up it must be there.
        assert!(
            std::env::var("LIGHTRAG_TEST_SERVICES").is_err(),
            "the Blackbox exporter is not installed (scripts/promtool.sh installs it)"
        );
        eprintln!("SKIPPED the Blackbox exporter runs: not installed (Debian package prometheus-blackbox-exporter)");
        return None;
    };
    let config = prometheus_dir().join("blackbox.yml");
    let o = Command::new(bin)
        .arg("--config.check")
        .arg(format!("--config.file={}", config.display()))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "blackbox.yml: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--web.listen-address={addr}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Blackbox exporter");
    let t = Instant::now();
    while TcpStream::connect(&addr).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the Blackbox exporter did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Blackbox { child, addr })
}

/// The exporter's `probe_success` for `module` against `server`'s /health.
async fn probe_success(c: &reqwest::Client, bb: &Blackbox, module: &str, server: &str) -> bool {
    let url = format!(
        "http://{}/probe?module={module}&target={server}/health",
        bb.addr
    );
    let body = text(c, &url).await;
    let line = body
        .lines()
        .find(|l| l.starts_with("probe_success "))
        .unwrap_or_else(|| panic!("no probe_success in:\n{body}"));
    line.ends_with(" 1")
}

/// The names of the families of a /metrics page, with their types.
fn families(metrics: &str) -> Vec<(String, String)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, t)| (n.to_string(), t.trim().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_metric_types_match_real_servers() {
    let dir = tempfile::tempdir().unwrap();
    let c = client();
    let bb = blackbox();

    // A healthy server with the embedding orchestrator and no Redis: every probe passes.
    let ok = start(
        &dir.path().join("ok"),
        &[("EMBEDDING_BATCHING", "true")],
        None,
    );
    let r = c
        .post(format!("{}/documents/text", ok.url))
        .json(&json!({"text": "The Orin ferry is run by Alice Marsh from Port Vell.", "file_source": "ferry.txt"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t = Instant::now();
    loop {
        let s: Value = c
            .get(format!("{}/documents/status_counts", ok.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["status_counts"]["processed"] == 1 {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "not processed: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for _ in 0..2 {
        let r = c
            .post(format!("{}/query", ok.url))
            .json(&json!({"query": "Who runs the ferry?"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let health = text(&c, &format!("{}/health", ok.url)).await;
    assert!(probe_passes("lightrag_health_storage", &health), "{health}");
    assert!(probe_passes("lightrag_health_redis", &health), "{health}");

    // The families the dashboard reads as histograms (`_bucket`) or summaries (`quantile`)
    // have that type on a real /metrics page.
    let live = families(&text(&c, &format!("{}/metrics", ok.url)).await);
    let kind_of = |name: &str| {
        live.iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    };
    for (place, expr) in all_exprs() {
        for name in metric_names(&expr) {
            if let Some(base) = name.strip_suffix("_bucket") {
                assert_eq!(kind_of(base), Some("histogram"), "{place}: {expr}");
            }
            if expr.contains(&format!("{name}{{")) && expr.contains("quantile=") {
                assert_eq!(kind_of(&name), Some("summary"), "{place}: {expr}");
            }
        }
    }

    // Redis configured but not answering: the Redis probe fails, the storage probe does not.
    let redis_down = format!("redis://127.0.0.1:{}", free_port());
    let down = start(
        &dir.path().join("redis-down"),
        &[("EMBEDDING_BATCHING", "true"), ("REDIS_URL", &redis_down)],
        None,
    );
    let health = text(&c, &format!("{}/health", down.url)).await;
    assert!(probe_passes("lightrag_health_storage", &health), "{health}");
    assert!(!probe_passes("lightrag_health_redis", &health), "{health}");
    // Each Redis pattern matches on its own (the link's and the orchestrator's report).
    let (_, redis_patterns, _) = blackbox_patterns()
        .into_iter()
        .find(|(m, _, _)| m == "lightrag_health_redis")
        .unwrap();
    for p in &redis_patterns {
        assert!(health.contains(p.as_str()), "{p} not in {health}");
    }

    // A Redis that answers, when there is one.
    let redis_up = std::env::var("LIGHTRAG_TEST_REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let up = match redis_up {
        Some(url) => {
            let up = start(
                &dir.path().join("redis-up"),
                &[("EMBEDDING_BATCHING", "true"), ("REDIS_URL", &url)],
                None,
            );
            let health = text(&c, &format!("{}/health", up.url)).await;
            assert!(probe_passes("lightrag_health_redis", &health), "{health}");
            Some(up)
        }
        None => {
            assert!(
                !services(),
                "LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_REDIS_URL is not set"
            );
            eprintln!("SKIPPED the reachable-Redis case: no LIGHTRAG_TEST_REDIS_URL");
            None
        }
    };

    if let Some(bb) = &bb {
        assert!(probe_success(&c, bb, "lightrag_health_storage", &ok.url).await);
        assert!(probe_success(&c, bb, "lightrag_health_redis", &ok.url).await);
        assert!(probe_success(&c, bb, "lightrag_health_storage", &down.url).await);
        assert!(!probe_success(&c, bb, "lightrag_health_redis", &down.url).await);
        if let Some(up) = &up {
            assert!(probe_success(&c, bb, "lightrag_health_redis", &up.url).await);
        }
    }
}

/// A TCP relay to `target` that can be cut: every connection through it is closed, and new
/// ones are refused.
struct Relay {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Relay {
    fn start(target: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (cut2, open2) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            while !cut2.load(Ordering::SeqCst) {
                let (inbound, _) = match listener.accept() {
                    Ok(c) => c,
                    Err(_) => {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                };
                let Ok(outbound) = TcpStream::connect(&target) else {
                    continue;
                };
                let _ = inbound.set_nonblocking(false);
                for (from, to) in [(&inbound, &outbound), (&outbound, &inbound)] {
                    let (mut from, mut to) = (from.try_clone().unwrap(), to.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
                let mut o = open2.lock().unwrap();
                o.push(inbound);
                o.push(outbound);
            }
            // The listener is dropped here: connections are refused from now on.
        });
        Relay { addr, cut, open }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_probe_fails_when_postgres_is_cut_off() {
    let Some(url) = std::env::var("LIGHTRAG_TEST_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        assert!(
            !services(),
            "LIGHTRAG_TEST_SERVICES=1 but LIGHTRAG_TEST_PG_URL is not set"
        );
        eprintln!(
            "SKIPPED: no PostgreSQL (set LIGHTRAG_TEST_PG_URL, e.g. from scripts/postgres.sh url)"
        );
        return;
    };
    // postgres://user@host:port/db?...: the replica reaches host:port through the relay.
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let relay = Relay::start(hostport.to_string());
    let relayed = format!("{scheme}://{user}{}{path}", relay.addr);
    let ws = format!(
        "monitoring_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis())
    );
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &[], Some((&relayed, &ws)));
    let c = client();
    let health = text(&c, &format!("{}/health", server.url)).await;
    assert!(probe_passes("lightrag_health_storage", &health), "{health}");
    let bb = blackbox();
    if let Some(bb) = &bb {
        assert!(probe_success(&c, bb, "lightrag_health_storage", &server.url).await);
    }

    relay.cut();
    let t = Instant::now();
    let health = loop {
        let h = text(&c, &format!("{}/health", server.url)).await;
        if !probe_passes("lightrag_health_storage", &h) {
            break h;
        }
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "/health never said degraded: {h}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let h: Value = serde_json::from_str(&health).unwrap();
    assert_eq!(h["status"], "degraded", "{health}");
    assert_eq!(h["storage"]["reachable"], false, "{health}");
    if let Some(bb) = &bb {
        assert!(!probe_success(&c, bb, "lightrag_health_storage", &server.url).await);
    }
}
