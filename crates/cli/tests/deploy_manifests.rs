//! The deployment files, deploy/compose/ and deploy/k8s/, checked the way CI checks them:
//! `scripts/validate-deploy.sh` installs its checkers (the Compose specification's schema,
//! compose's own `config`, the Kubernetes schemas in strict mode, kustomize) and runs them; a
//! copy with deliberate mistakes is rejected, each by the checker meant to catch it, which shows
//! the checkers are live; and every variable the files give a lightrag container is a setting
//! lightrag reads (the crates' key tables), with a value that its typed configuration accepts.
//!
//! With LIGHTRAG_TEST_SERVICES=1 a checker that cannot be installed fails the tests; without it
//! they are skipped with a note.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use lightrag_core::config::{Key, Settings, KEYS};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn script() -> PathBuf {
    repo().join("scripts/validate-deploy.sh")
}

fn services() -> bool {
    std::env::var("LIGHTRAG_TEST_SERVICES").as_deref() == Ok("1")
}

fn run(args: &[&str]) -> Output {
    Command::new("bash")
        .arg(script())
        .args(args)
        .output()
        .expect("bash runs scripts/validate-deploy.sh")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Installs the checkers once per test binary; false (skip) when they cannot be had and the
/// run does not require them.
fn checkers() -> bool {
    static INSTALLED: OnceLock<Result<(), (bool, String)>> = OnceLock::new();
    let result = INSTALLED.get_or_init(|| {
        let o = run(&["install"]);
        match o.status.code() {
            Some(0) => Ok(()),
            // 3: a checker is missing and cannot be installed here (no root, no registry).
            Some(3) => Err((true, stderr(&o))),
            _ => Err((false, stderr(&o))),
        }
    });
    match result {
        Ok(()) => true,
        Err((unavailable, message)) => {
            assert!(
                *unavailable && !services(),
                "scripts/validate-deploy.sh install failed{}:\n{message}",
                if services() {
                    " (LIGHTRAG_TEST_SERVICES=1)"
                } else {
                    ""
                }
            );
            eprintln!("skipped: the deployment checkers cannot be installed here:\n{message}");
            false
        }
    }
}

#[test]
fn the_compose_files_and_manifests_pass_their_checkers() {
    if !checkers() {
        return;
    }
    let o = run(&["check"]);
    assert!(
        o.status.success(),
        "scripts/validate-deploy.sh check failed:\n{}",
        stderr(&o)
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces the first `from` in `file` by `to`, failing when the file has no `from`.
fn break_file(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_copy_with_mistakes_is_rejected_by_each_checker() {
    if !checkers() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let deploy = tmp.path().join("deploy");
    copy_dir(&repo().join("deploy"), &deploy);
    // (file, correct text, mistake, what the checker that must catch it says)
    let mistakes: [(&str, &str, &str, &[&str]); 6] = [
        // A misspelt field in a compose service: the compose-spec schema.
        (
            "compose/embedded.yml",
            "    stop_grace_period:",
            "    stop_grace_perod:",
            &[
                "'stop_grace_perod' was unexpected",
                "FAILED: embedded.yml: compose-spec schema",
            ],
        ),
        // A dependency on a service that does not exist: compose's own `config`.
        (
            "compose/scaled.yml",
            "      redis:\n        condition: service_healthy",
            "      rediss:\n        condition: service_healthy",
            &["rediss", "FAILED: scaled.yml: docker"],
        ),
        // A misspelt field of a container: the Kubernetes schema, strict.
        (
            "k8s/deployment.yaml",
            "readinessProbe:",
            "readinesProbe:",
            &["Additional properties are not allowed ('readinesProbe' was unexpected)"],
        ),
        // A misspelt kind: no schema for it, which is an error too.
        (
            "k8s/embedded/pvc.yaml",
            "kind: PersistentVolumeClaim",
            "kind: PersistentVolumeClaimm",
            &["has no kind PersistentVolumeClaimm"],
        ),
        // A kustomization naming a file that is not there: kustomize.
        (
            "k8s/kustomization.yaml",
            "  - pdb.yaml",
            "  - pdbs.yaml",
            &["pdbs.yaml", "/k8s: kubectl kustomize"],
        ),
        // The compose nginx.conf drifting from the template the replica tests run.
        (
            "compose/nginx.conf",
            "proxy_buffering off;",
            "proxy_buffering on;",
            &["deploy/compose/nginx.conf differs from deploy/nginx/lightrag.conf.template"],
        ),
    ];
    for (file, from, to, _) in &mistakes {
        break_file(&deploy.join(file), from, to);
    }
    let o = run(&["check", deploy.to_str().unwrap()]);
    let err = stderr(&o);
    assert!(!o.status.success(), "the broken copy passed:\n{err}");
    for (file, _, _, says) in &mistakes {
        for said in *says {
            assert!(
                err.contains(said),
                "the mistake in {file} was not reported ({said:?} missing):\n{err}"
            );
        }
    }
    // The intact files are not blamed.
    assert!(
        !err.contains("k8s/service.yaml"),
        "an intact file was reported:\n{err}"
    );
}

/// One line of `validate-deploy.sh env-keys`.
struct Var {
    kind: String,
    source: String,
    file: String,
    key: String,
    value: String,
}

fn variables() -> Vec<Var> {
    let o = run(&["env-keys"]);
    assert!(o.status.success(), "env-keys failed:\n{}", stderr(&o));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "unexpected env-keys line {line:?}");
            Var {
                kind: f[0].into(),
                source: f[1].into(),
                file: f[2].into(),
                key: f[3].into(),
                value: f[4].into(),
            }
        })
        .collect()
}

/// Every setting lightrag reads: the engine's, the server's, the stores' and the orchestrator's.
fn known_keys() -> BTreeSet<&'static str> {
    let tables: [&[Key]; 4] = [
        KEYS,
        lightrag_server::keys::SERVER_KEYS,
        lightrag_storage::keys::STORAGE_KEYS,
        lightrag_orchestrator::ORCHESTRATOR_KEYS,
    ];
    tables
        .iter()
        .flat_map(|t| t.iter().map(|k| k.name))
        .collect()
}

/// docs/operations.md's section on these files, which names the variables that are not
/// lightrag settings.
fn deploy_docs() -> String {
    let doc = std::fs::read_to_string(repo().join("docs/operations.md")).unwrap();
    let start = doc
        .find("## Deploying with compose and Kubernetes")
        .expect("docs/operations.md has a section \"Deploying with compose and Kubernetes\"");
    let rest = &doc[start + 3..];
    rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
}

#[test]
fn every_variable_is_a_setting_lightrag_reads_or_is_documented() {
    if !checkers() {
        return;
    }
    let known = known_keys();
    let docs = deploy_docs();
    let vars = variables();
    assert!(
        vars.iter().any(|v| v.kind == "container"),
        "no container variable found"
    );
    let mut unknown = BTreeSet::new();
    for v in &vars {
        if !known.contains(v.key.as_str()) && !docs.contains(&format!("`{}`", v.key)) {
            unknown.insert(format!("{} ({}, {})", v.key, v.file, v.kind));
        }
    }
    assert!(
        unknown.is_empty(),
        "neither a lightrag setting (crates' keys.rs tables) nor named in docs/operations.md's \
         \"Deploying with compose and Kubernetes\": {unknown:?}"
    );

    // The issue asks for seed 004's orchestrator keys in the ConfigMap (and the scaled compose).
    let seed_004 = [
        "OLLAMA_EMBEDDING_BATCH_SIZE",
        "OLLAMA_BATCH_TIMEOUT",
        "REDIS_EMBEDDING_DB",
        "EMBEDDING_CACHE_TTL",
        "MAX_BATCH_RETRIES",
        "BATCH_PROCESSING_INTERVAL",
    ];
    for source in ["k8s", "compose/scaled.yml"] {
        for key in seed_004 {
            assert!(
                vars.iter().any(|v| v.source == source && v.key == key),
                "{source} does not set {key}"
            );
        }
    }
}

#[test]
fn every_container_gets_settings_its_configuration_accepts() {
    if !checkers() {
        return;
    }
    let mut by_source: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for v in variables().into_iter().filter(|v| v.kind == "container") {
        by_source
            .entry(v.source)
            .or_default()
            .push((v.key, v.value));
    }
    for want in [
        "compose/embedded.yml",
        "compose/scaled.yml",
        "k8s",
        "k8s/embedded",
    ] {
        assert!(by_source.contains_key(want), "no settings found for {want}");
    }
    for (source, pairs) in &by_source {
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let s = Settings::from_pairs(&pairs);
        let get = |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        if let Err(e) = s.to_config() {
            panic!("{source}: the engine's settings: {e}");
        }
        if let Err(e) = lightrag_server::ServerConfig::from_settings(&s, "") {
            panic!("{source}: the server's settings: {e}");
        }
        let storage = match lightrag_storage::select::StorageConfig::from_settings(&s) {
            Ok(c) => c,
            Err(e) => panic!("{source}: the storage settings: {e}"),
        };
        if let Err(e) = lightrag_orchestrator::EmbeddingBatching::from_settings(&s) {
            panic!("{source}: the orchestrator's settings: {e}");
        }
        if let Err(e) = lightrag_orchestrator::cluster_llm_budget(&s) {
            panic!("{source}: MAX_ASYNC_SCOPE: {e}");
        }
        // Replicas share one knowledge base only when every role is on PostgreSQL; the single
        // node keeps the embedded default.
        let replicated = source == "compose/scaled.yml" || source == "k8s";
        assert_eq!(
            storage.postgres.is_some(),
            replicated,
            "{source}: PostgreSQL storage expected exactly where replicas run"
        );
        if replicated {
            for role in [
                "LIGHTRAG_KV_STORAGE",
                "LIGHTRAG_DOC_STATUS_STORAGE",
                "LIGHTRAG_GRAPH_STORAGE",
                "LIGHTRAG_VECTOR_STORAGE",
            ] {
                assert!(
                    get(role).is_some_and(|v| v.starts_with("PG")),
                    "{source}: {role} is not on PostgreSQL"
                );
            }
            assert_eq!(
                get("MAX_ASYNC_SCOPE"),
                Some("cluster"),
                "{source}: MAX_ASYNC_SCOPE"
            );
            assert!(
                get("REDIS_URL").is_some_and(|u| !u.is_empty()),
                "{source}: REDIS_URL"
            );
        }
    }
}
