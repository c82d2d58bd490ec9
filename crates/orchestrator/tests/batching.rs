//! The in-process path: batching, priorities, in-flight deduplication, retries and fallback,
//! the circuit breaker, the queue API, stopping without losing work, the adaptive size and
//! the metrics. No Redis needed.

mod support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lightrag_core::ports::{EmbedPurpose, Embedder};
use lightrag_orchestrator::{
    BatchingEmbedder, BreakerState, OrchestratorError, PipelineStatus, Priority, Status,
};
use support::{test_config, unique_model, Recording};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_share_batches_and_get_their_own_vectors() {
    let model = Recording::new(&unique_model("batch"));
    let mut cfg = test_config(&model.model);
    cfg.batch_size = 32;
    let orch = Arc::new(BatchingEmbedder::new(model.clone(), cfg).unwrap());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let o = orch.clone();
        tasks.push(tokio::spawn(async move {
            let t = format!("text number {i}");
            let v = o
                .embed(std::slice::from_ref(&t), EmbedPurpose::Document)
                .await
                .unwrap();
            (t, v.into_iter().next().unwrap())
        }));
    }
    for t in tasks {
        let (text, v) = t.await.unwrap();
        assert_eq!(
            v,
            model.expected(&text).await,
            "each caller gets its own vector"
        );
    }
    let calls = model.calls();
    assert!(calls.len() <= 5, "100 texts in {} calls", calls.len());
    assert!(
        calls.iter().all(|c| c.len() <= 32),
        "never above the batch size"
    );
    let m = orch.metrics();
    assert_eq!(m.total_requests, 100);
    assert_eq!(m.batches_processed as usize, calls.len());
    assert!(m.avg_batch_size >= 20.0, "{m:?}");
    assert_eq!(m.active_requests, 0);
}

#[tokio::test]
async fn a_lone_text_leaves_after_the_interval() {
    let model = Recording::new(&unique_model("interval"));
    let mut cfg = test_config(&model.model);
    cfg.interval = Duration::from_millis(80);
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    let t = Instant::now();
    orch.embed(&["alone".into()], EmbedPurpose::Query)
        .await
        .unwrap();
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(70),
        "waited for company: {took:?}"
    );
    assert!(took < Duration::from_millis(500), "but not long: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn higher_priorities_go_first() {
    let model = Recording::new(&unique_model("prio")).slow(Duration::from_millis(150));
    let mut cfg = test_config(&model.model);
    cfg.batch_size = 4;
    cfg.interval = Duration::ZERO;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    // Occupies the model, so the next texts wait in the queue together.
    let first = orch.enqueue("occupier", Priority::Normal).await.unwrap();
    tokio::time::sleep(Duration::from_millis(30)).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(
            orch.enqueue(&format!("low {i}"), Priority::Low)
                .await
                .unwrap(),
        );
    }
    for i in 0..4 {
        ids.push(
            orch.enqueue(&format!("critical {i}"), Priority::Critical)
                .await
                .unwrap(),
        );
    }
    orch.result(&first, None).await.unwrap();
    for id in &ids {
        orch.result(id, Some(Duration::from_secs(5))).await.unwrap();
    }
    let calls = model.calls();
    assert_eq!(calls[0], ["occupier"]);
    assert!(
        calls[1].iter().all(|t| t.starts_with("critical")),
        "{calls:?}"
    );
    assert!(calls[2].iter().all(|t| t.starts_with("low")), "{calls:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_texts_in_flight_are_embedded_once() {
    let model = Recording::new(&unique_model("dedup")).slow(Duration::from_millis(50));
    let mut cfg = test_config(&model.model);
    cfg.cache_size = 0;
    let orch = Arc::new(BatchingEmbedder::new(model.clone(), cfg).unwrap());
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let o = orch.clone();
        tasks.push(tokio::spawn(async move {
            o.embed(&["the same text".into()], EmbedPurpose::Document)
                .await
                .unwrap()
        }));
    }
    let expected = model.expected("the same text").await;
    for t in tasks {
        assert_eq!(t.await.unwrap()[0], expected);
    }
    assert_eq!(model.texts_embedded(), 1);
    assert_eq!(orch.metrics().deduplicated, 49);
}

#[tokio::test]
async fn repeated_texts_come_from_the_memory_cache() {
    let model = Recording::new(&unique_model("memory"));
    let orch = BatchingEmbedder::new(model.clone(), test_config(&model.model)).unwrap();
    let texts: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    let a = orch.embed(&texts, EmbedPurpose::Document).await.unwrap();
    let b = orch.embed(&texts, EmbedPurpose::Document).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(model.texts_embedded(), 10);
    let stats = orch.cache_stats().await;
    assert_eq!((stats.memory_entries, stats.memory_hits), (10, 10));
    assert!((stats.hit_rate - 0.5).abs() < 1e-9);
    assert_eq!(orch.clear_cache().await.memory_entries, 10);
    orch.embed(&texts[..1], EmbedPurpose::Document)
        .await
        .unwrap();
    assert_eq!(model.texts_embedded(), 11, "cleared: embedded again");
    assert_eq!(
        orch.optimise_cache().await.memory_entries,
        0,
        "nothing expired"
    );
}

#[tokio::test]
async fn a_failing_batch_is_retried_then_sent_text_by_text() {
    let model = Recording::new(&unique_model("fallback"));
    model.poison.store(true, Ordering::SeqCst);
    let mut cfg = test_config(&model.model);
    cfg.max_retries = 2;
    cfg.breaker_threshold = 100;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    let texts = vec!["good 1".to_string(), "poison".into(), "good 2".into()];
    let ids = {
        let mut ids = Vec::new();
        for t in &texts {
            ids.push(orch.enqueue(t, Priority::Normal).await.unwrap());
        }
        ids
    };
    assert_eq!(
        orch.result(&ids[0], None).await.unwrap(),
        model.expected("good 1").await
    );
    assert!(matches!(
        orch.result(&ids[1], None).await,
        Err(OrchestratorError::Model(_))
    ));
    assert!(orch.result(&ids[2], None).await.is_ok());
    let m = orch.metrics();
    assert_eq!(m.retries, 2);
    assert_eq!(m.fallbacks, 1);
    assert_eq!(m.individual_requests, 3);
    assert_eq!(m.failed_requests, 1);
    assert_eq!(
        model.attempts.load(Ordering::SeqCst),
        3 + 3,
        "3 batch attempts, 3 single calls"
    );
}

#[tokio::test]
async fn the_breaker_opens_half_opens_closes_and_resets() {
    let model = Recording::new(&unique_model("breaker"));
    let mut cfg = test_config(&model.model);
    cfg.max_retries = 1;
    cfg.breaker_threshold = 2;
    cfg.breaker_cooldown = Duration::from_millis(300);
    cfg.interval = Duration::ZERO;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    model.down.store(true, Ordering::SeqCst);
    assert!(orch
        .embed(&["x".into()], EmbedPurpose::Document)
        .await
        .is_err());
    assert_eq!(orch.circuit_state(), BreakerState::Open);
    assert_eq!(orch.health().await.integration_status, Status::Unhealthy);
    let before = model.attempts.load(Ordering::SeqCst);
    let e = orch
        .embed(&["y".into()], EmbedPurpose::Document)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("circuit breaker"), "{e}");
    assert_eq!(
        model.attempts.load(Ordering::SeqCst),
        before,
        "open: the model is not called"
    );
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(orch.circuit_state(), BreakerState::HalfOpen);
    assert_eq!(orch.health().await.integration_status, Status::Degraded);
    model.down.store(false, Ordering::SeqCst);
    orch.embed(&["z".into()], EmbedPurpose::Document)
        .await
        .unwrap();
    assert_eq!(
        orch.circuit_state(),
        BreakerState::Closed,
        "a good trial closes it"
    );
    model.down.store(true, Ordering::SeqCst);
    let _ = orch.embed(&["w".into()], EmbedPurpose::Document).await;
    assert_eq!(orch.circuit_state(), BreakerState::Open);
    orch.reset_circuit_breaker();
    assert_eq!(orch.circuit_state(), BreakerState::Closed);
    assert_eq!(orch.health().await.integration_status, Status::Healthy);
}

#[tokio::test]
async fn results_can_be_awaited_with_a_timeout_and_again() {
    let model = Recording::new(&unique_model("timeout")).slow(Duration::from_millis(300));
    let mut cfg = test_config(&model.model);
    cfg.interval = Duration::ZERO;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    let id = orch.enqueue("slow text", Priority::High).await.unwrap();
    let e = orch
        .result(&id, Some(Duration::from_millis(50)))
        .await
        .unwrap_err();
    assert!(matches!(e, OrchestratorError::Timeout { .. }), "{e}");
    let v = orch
        .result(&id, Some(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(v, model.expected("slow text").await);
    assert!(matches!(
        orch.result(&id, None).await,
        Err(OrchestratorError::UnknownRequest(_))
    ));
}

#[tokio::test]
async fn stop_finishes_queued_work_and_refuses_new_work() {
    let model = Recording::new(&unique_model("stop")).slow(Duration::from_millis(20));
    let mut cfg = test_config(&model.model);
    cfg.interval = Duration::from_secs(60); // only stopping sends these batches
    cfg.batch_size = 64;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            orch.enqueue(&format!("queued {i}"), Priority::Normal)
                .await
                .unwrap(),
        );
    }
    orch.stop().await;
    assert_eq!(model.texts_embedded(), 40, "every queued text was embedded");
    for id in &ids {
        assert!(orch
            .result(id, Some(Duration::from_millis(10)))
            .await
            .is_ok());
    }
    assert!(matches!(
        orch.enqueue("late", Priority::Normal).await,
        Err(OrchestratorError::Stopped)
    ));
    assert_eq!(orch.health().await.pipeline_status, PipelineStatus::Stopped);
    // As an Embedder it still answers, straight from the model.
    assert!(orch
        .embed(&["late".into()], EmbedPurpose::Document)
        .await
        .is_ok());
}

#[tokio::test]
async fn dropping_the_orchestrator_loses_no_queued_work() {
    let model = Recording::new(&unique_model("drop"));
    let mut cfg = test_config(&model.model);
    cfg.interval = Duration::from_secs(60);
    cfg.batch_size = 64;
    let orch = BatchingEmbedder::new(model.clone(), cfg).unwrap();
    for i in 0..25 {
        orch.enqueue(&format!("queued {i}"), Priority::Normal)
            .await
            .unwrap();
    }
    drop(orch);
    let deadline = Instant::now() + Duration::from_secs(5);
    while model.texts_embedded() < 25 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(model.texts_embedded(), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_size_grows_under_load_within_the_model_limit() {
    let model = Recording::new(&unique_model("adaptive")).slow(Duration::from_millis(5));
    let mut cfg = test_config(&model.model);
    cfg.batch_size = 8;
    cfg.max_batch_size = 48;
    cfg.adaptive = true;
    cfg.target_batch_latency = Duration::from_secs(1);
    let orch = Arc::new(BatchingEmbedder::new(model.clone(), cfg).unwrap());
    let texts: Vec<String> = (0..1000).map(|i| format!("load {i}")).collect();
    let mut tasks = Vec::new();
    for chunk in texts.chunks(10) {
        let o = orch.clone();
        let chunk = chunk.to_vec();
        tasks.push(tokio::spawn(async move {
            o.embed(&chunk, EmbedPurpose::Document).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert!(orch.batch_target() > 8, "grew to {}", orch.batch_target());
    let calls = model.calls();
    assert!(
        calls.iter().all(|c| c.len() <= 48),
        "never above the maximum"
    );
    assert!(calls.iter().any(|c| c.len() > 8));
}

#[tokio::test]
async fn the_metrics_reach_a_prometheus_exporter() {
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    // Only this test installs a recorder in this binary.
    metrics::set_global_recorder(recorder).expect("no other recorder");
    let model = Recording::new(&unique_model("prom"));
    let orch = BatchingEmbedder::new(model.clone(), test_config(&model.model)).unwrap();
    let texts: Vec<String> = (0..5).map(|i| format!("m{i}")).collect();
    orch.embed(&texts, EmbedPurpose::Document).await.unwrap();
    orch.embed(&texts, EmbedPurpose::Document).await.unwrap();
    let text = handle.render();
    for name in [
        "lightrag_embedding_requests_total",
        "lightrag_embedding_cache_hits_total{level=\"memory\"}",
        "lightrag_embedding_batches_total",
        "lightrag_embedding_batch_size",
        "lightrag_embedding_model_calls_total{kind=\"batch\"}",
        "lightrag_embedding_active_requests",
        "lightrag_embedding_cache_hit_rate",
    ] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
    orch.reset_metrics();
    assert_eq!(orch.metrics().total_requests, 0);
}
