//! Documents and query routes over real HTTP: insert, background processing with visible
//! statuses, answers with references, NDJSON streaming, retrieval data, deletion, clearing.

mod common;

use common::{multipart, send, TestServer, FERRY, TRUST};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_then_query_answers_with_references() {
    let s = TestServer::start(&[]).await;
    let (code, health) = s.get("/health", "").await;
    assert_eq!(code, 200);
    assert_eq!(health["status"], "healthy");

    let track = s.insert("", FERRY, "ferry.txt").await;
    assert!(track.starts_with("insert_"), "{track}");
    let (_, t) = s.get(&format!("/documents/track_status/{track}"), "").await;
    assert_eq!(t["total_count"], 1);
    assert_eq!(t["documents"][0]["status"], "processed");
    assert_eq!(t["documents"][0]["file_path"], "ferry.txt");
    assert_eq!(t["status_summary"]["processed"], 1);

    let (code, v) = s
        .post(
            "/query",
            "",
            json!({"query": "Who runs the Orin ferry?", "mode": "mix"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    assert!(
        v["response"].as_str().unwrap().contains("Orin Lines"),
        "{v}"
    );
    assert_eq!(v["references"][0]["file_path"], "ferry.txt");
    assert_eq!(v["llm_generated"], false);
    assert!(v["response_time"].is_number());

    // References off, chunk content on.
    let (_, v) = s
        .post(
            "/query",
            "",
            json!({"query": "Who runs the Orin ferry?", "include_references": false}),
        )
        .await;
    assert!(v["references"].is_null(), "{v}");
    let (_, v) = s
        .post("/query", "", json!({"query": "Who runs the Orin ferry?", "include_chunk_content": true, "mode": "naive"}))
        .await;
    assert!(
        v["references"][0]["content"][0]
            .as_str()
            .unwrap()
            .contains("Orin"),
        "{v}"
    );

    // Retrieval data in LightRAG's shape.
    let (code, d) = s
        .post(
            "/query/data",
            "",
            json!({"query": "Orin Lines ferry", "mode": "local"}),
        )
        .await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(d["status"], "success", "{d}");
    assert!(!d["data"]["entities"].as_array().unwrap().is_empty(), "{d}");
    assert!(d["data"]["chunks"][0]["chunk_id"].is_string(), "{d}");
    assert_eq!(d["metadata"]["query_mode"], "local");
    assert!(d["metadata"]["processing_info"]["total_entities_found"].is_number());

    // Context only.
    let (_, v) = s
        .post(
            "/query",
            "",
            json!({"query": "Who runs the Orin ferry?", "only_need_context": true}),
        )
        .await;
    assert!(
        v["response"].as_str().unwrap().contains("Document Chunks"),
        "{v}"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_is_ndjson_with_references_first() {
    let s = TestServer::start(&[("ENABLE_QUERY_CACHE", "false")]).await;
    s.insert("", FERRY, "ferry.txt").await;
    let resp = s
        .req(reqwest::Method::POST, "/query/stream", "")
        .json(&json!({"query": "Who runs the Orin ferry?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/x-ndjson");
    let text = resp.text().await.unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    // Without an LLM the answer is complete at once: one line with everything.
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0]["response"].as_str().unwrap().contains("Orin"));
    assert_eq!(lines[0]["references"][0]["file_path"], "ferry.txt");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_pagination_and_pipeline_are_visible() {
    let s = TestServer::start(&[]).await;
    let (code, v) = s
        .post(
            "/documents/texts",
            "",
            json!({"texts": [FERRY, TRUST, "A third text about the Orin lighthouse keeper."],
                   "file_sources": ["a.txt", "b.txt", "c.txt"]}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    let track = v["track_id"].as_str().unwrap().to_string();
    let t = s.wait_track("", &track).await;
    assert_eq!(t["total_count"], 3);

    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["processed"], 3);
    assert_eq!(c["status_counts"]["all"], 3);
    assert_eq!(c["status_counts"]["parsing"], 0);

    let (code, p) = s
        .post(
            "/documents/paginated",
            "",
            json!({"page": 1, "page_size": 10, "sort_field": "file_path", "sort_direction": "asc"}),
        )
        .await;
    assert_eq!(code, 200, "{p}");
    assert_eq!(p["pagination"]["total_count"], 3);
    assert_eq!(p["pagination"]["has_next"], false);
    assert_eq!(p["documents"][0]["file_path"], "a.txt");
    assert_eq!(p["documents"][2]["file_path"], "c.txt");
    assert_eq!(p["status_counts"]["processed"], 3);
    let (_, p) = s
        .post(
            "/documents/paginated",
            "",
            json!({"status_filter": "failed"}),
        )
        .await;
    assert_eq!(p["pagination"]["total_count"], 0);
    let (code, _) = s
        .post("/documents/paginated", "", json!({"page_size": 5}))
        .await;
    assert_eq!(code, 422);

    s.wait_idle("").await;
    let (_, ps) = s.get("/documents/pipeline_status", "").await;
    assert_eq!(ps["busy"], false);
    let history = ps["history_messages"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("Processed doc-")),
        "{ps}"
    );

    let (_, f) = s.get("/documents/supported_file_types", "").await;
    assert!(f["supported_extensions"]
        .as_array()
        .unwrap()
        .contains(&json!(".md")));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_saves_in_the_input_folder_and_refuses_escapes() {
    let s = TestServer::start(&[]).await;
    let (ct, body) = multipart("ferry.md", FERRY.as_bytes());
    let (code, v) = send(
        s.req(reqwest::Method::POST, "/documents/upload", "")
            .header("content-type", ct.clone())
            .body(body.clone()),
    )
    .await;
    assert_eq!(code, 200, "{v}");
    assert!(v["track_id"].as_str().unwrap().starts_with("upload_"));
    s.wait_track("", v["track_id"].as_str().unwrap()).await;
    assert!(s.dir.path().join("inputs/ferry.md").exists());

    // The same name again is a conflict.
    let (code, _) = send(
        s.req(reqwest::Method::POST, "/documents/upload", "")
            .header("content-type", ct)
            .body(body),
    )
    .await;
    assert_eq!(code, 409);

    for bad in [
        "../evil.txt",
        "..\\evil.txt",
        "a/b.txt",
        "/etc/x.txt",
        ".hidden.txt",
        "c:evil.txt",
    ] {
        let (ct, body) = multipart(bad, b"some text");
        let (code, v) = send(
            s.req(reqwest::Method::POST, "/documents/upload", "")
                .header("content-type", ct)
                .body(body),
        )
        .await;
        assert_eq!(code, 400, "{bad}: {v}");
        assert!(v["detail"].is_string());
    }
    assert!(!s.dir.path().join("evil.txt").exists());
    assert!(!s.dir.path().join("inputs/../evil.txt").exists());

    let (ct, body) = multipart("image.png", b"\x89PNG");
    let (code, _) = send(
        s.req(reqwest::Method::POST, "/documents/upload", "")
            .header("content-type", ct)
            .body(body),
    )
    .await;
    assert_eq!(code, 400, "unsupported extension");

    // Scan picks up a file dropped into the input folder.
    std::fs::write(s.dir.path().join("inputs/dropped.txt"), TRUST).unwrap();
    let (code, v) = s.post("/documents/scan", "", json!({})).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "scanning_started");
    let scan_track = v["track_id"].as_str().unwrap().to_string();
    s.wait_track("", &scan_track).await;
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["processed"], 2);
    let (code, r) = s
        .get(&format!("/documents/scan/status/{scan_track}"), "")
        .await;
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["status"], "completed");
    assert_eq!(r["counts"]["enqueued"], 1, "{r}");
    assert_eq!(r["counts"]["already_known"], 1, "{r}");
    assert_eq!(s.get("/documents/scan/status/scan_nope", "").await.0, 404);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_clear_and_the_query_cache_follow_the_documents() {
    let s = TestServer::start(&[]).await;
    let track = s.insert("", FERRY, "ferry.txt").await;
    let (_, t) = s.get(&format!("/documents/track_status/{track}"), "").await;
    let id = t["documents"][0]["id"].as_str().unwrap().to_string();
    let q = json!({"query": "Who runs the Orin ferry?", "mode": "naive"});
    let (_, first) = s.post("/query", "", q.clone()).await;
    assert!(first["response"].as_str().unwrap().contains("Orin Lines"));

    let (code, v) = s
        .delete("/documents/delete_document", "", json!({"doc_ids": [id]}))
        .await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "deletion_started");
    s.wait_idle("").await;
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["all"], 0, "{c}");
    // The cached answer is gone with the document.
    let (_, after) = s.post("/query", "", q.clone()).await;
    assert!(
        !after["response"].as_str().unwrap().contains("Orin Lines"),
        "{after}"
    );

    let (code, _) = s
        .delete("/documents/delete_document", "", json!({"doc_ids": []}))
        .await;
    assert_eq!(code, 422);
    // Unknown documents: the deletion runs and says so in the pipeline history.
    let (code, v) = s
        .delete(
            "/documents/delete_document",
            "",
            json!({"doc_ids": ["doc-unknown"]}),
        )
        .await;
    assert_eq!(
        (code, v["status"].as_str()),
        (200, Some("deletion_started"))
    );
    s.wait_idle("").await;
    let (_, ps) = s.get("/documents/pipeline_status", "").await;
    assert!(
        ps["latest_message"]
            .as_str()
            .unwrap()
            .contains("Cannot delete doc-unknown"),
        "{ps}"
    );
    let (code, t) = s.get("/documents/track_status/insert_nope", "").await;
    assert_eq!((code, t["total_count"].as_u64()), (200, Some(0)));

    s.insert("", TRUST, "trust.txt").await;
    let (code, v) = send(s.req(reqwest::Method::DELETE, "/documents", "")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "success");
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["all"], 0);
    let (_, d) = s
        .post(
            "/query/data",
            "",
            json!({"query": "Orin Bird Trust herons"}),
        )
        .await;
    assert_eq!(d["status"], "failure", "{d}");

    let (code, v) = s.post("/documents/clear_cache", "", json!({})).await;
    assert_eq!((code, v["status"].as_str()), (200, Some("success")));
    let (code, _) = s
        .post("/documents/recovery/force_reset", "", json!({}))
        .await;
    assert_eq!(code, 400, "confirm needed");
    let (code, v) = s
        .post(
            "/documents/recovery/force_reset",
            "",
            json!({"confirm": true}),
        )
        .await;
    assert_eq!(
        (code, v["status"].as_str()),
        (200, Some("no_recovery_required"))
    );
    let (code, v) = s.get("/ui/customization", "").await;
    assert_eq!((code, v["customized"].as_bool()), (200, Some(false)));
    let (code, v) = s.post("/documents/reprocess_failed", "", json!({})).await;
    assert_eq!(
        (code, v["status"].as_str()),
        (200, Some("reprocessing_started"))
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_inserts_and_queries() {
    let s = std::sync::Arc::new(TestServer::start(&[]).await);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let text = format!("Harbour {i} of Orin has {i} cranes and a pier named Pier{i}.");
            let (code, v) = s
                .post(
                    "/documents/text",
                    "",
                    json!({"text": text, "file_source": format!("h{i}.txt")}),
                )
                .await;
            assert_eq!(code, 200, "{v}");
            let (code, v) = s
                .post(
                    "/query",
                    "",
                    json!({"query": format!("How many cranes has harbour {i}?")}),
                )
                .await;
            assert_eq!(code, 200, "{v}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    s.wait_idle("").await;
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["processed"], 8, "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_move_while_processing_and_cancel_stops_the_pipeline() {
    // Three documents are processed at once (MAX_PARALLEL_INSERT's default).
    let s = TestServer::start_slow(&[], std::time::Duration::from_millis(300)).await;
    let texts: Vec<String> = (0..6)
        .map(|i| format!("Dock {i} of Orin holds boat number {i} and a crane named Crane{i}."))
        .collect();
    let (code, v) = s
        .post("/documents/texts", "", json!({"texts": texts}))
        .await;
    assert_eq!(code, 200, "{v}");
    let track = v["track_id"].as_str().unwrap().to_string();
    // While the pipeline works, some documents are processing and the rest wait.
    let mut seen_processing = false;
    for _ in 0..100 {
        let (_, t) = s.get(&format!("/documents/track_status/{track}"), "").await;
        if t["status_summary"]["processing"].as_u64() >= Some(1)
            && t["status_summary"]["pending"].as_u64() >= Some(1)
        {
            seen_processing = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(seen_processing, "no document was seen processing");
    let (_, ps) = s.get("/documents/pipeline_status", "").await;
    assert_eq!(ps["busy"], true);
    assert_eq!(ps["job_name"], "Processing documents");

    let (code, v) = s.post("/documents/cancel_pipeline", "", json!({})).await;
    assert_eq!(
        (code, v["status"].as_str()),
        (200, Some("cancellation_requested")),
        "{v}"
    );
    s.wait_idle("").await;
    let (_, c) = s.get("/documents/status_counts", "").await;
    let c = &c["status_counts"];
    assert_eq!(c["processing"], 0, "{c}");
    assert!(c["failed"].as_u64().unwrap() >= 1, "{c}");
    assert!(c["pending"].as_u64().unwrap() >= 1, "{c}");
    let (_, v) = s.post("/documents/cancel_pipeline", "", json!({})).await;
    assert_eq!(v["status"], "not_busy");

    // Failed (cancelled) documents come back with reprocess_failed, and all finish.
    let (code, _) = s.post("/documents/reprocess_failed", "", json!({})).await;
    assert_eq!(code, 200);
    s.wait_track("", &track).await;
    s.wait_idle("").await;
    let (_, c) = s.get("/documents/status_counts", "").await;
    assert_eq!(c["status_counts"]["processed"], 6, "{c}");
    s.stop().await;
}

/// The documents of one status (LightRAG's paginated listing).
async fn with_status(s: &TestServer, status: &str) -> Vec<serde_json::Value> {
    let (code, v) = s
        .post(
            "/documents/paginated",
            "",
            json!({"status_filter": status, "page": 1, "page_size": 100}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    v["documents"].as_array().cloned().unwrap_or_default()
}

/// A multipart upload of a file on disk.
async fn upload_file(s: &TestServer, path: &std::path::Path) -> (u16, serde_json::Value) {
    let name = path.file_name().unwrap().to_str().unwrap();
    let (ct, body) = multipart(name, &std::fs::read(path).unwrap());
    send(
        s.req(reqwest::Method::POST, "/documents/upload", "")
            .header("content-type", ct)
            .body(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_pdf_and_docx_answer_with_references_and_bad_files_fail_alone() {
    use lightrag_parsers::samples;
    let s = TestServer::start(&[]).await;
    let files = tempfile::tempdir().unwrap();
    let f = files.path();
    samples::write_pdf(
        f.join("harbour.pdf"),
        &[
            &["Harbour report, front matter."],
            &["The Orin harbour master is Edda Vask."],
        ],
    )
    .unwrap();
    samples::write_docx(
        f.join("fleet.docx"),
        "Fleet",
        &["The ferry Kestrel was launched in 1931."],
        &[&["Ship", "Year"], &["Kestrel", "1931"]],
    )
    .unwrap();
    for name in ["harbour.pdf", "fleet.docx"] {
        let (code, v) = upload_file(&s, &f.join(name)).await;
        assert_eq!(code, 200, "{v}");
        assert_eq!(v["status"], "success", "{v}");
        s.wait_track("", v["track_id"].as_str().unwrap()).await;
    }
    let (code, v) = s
        .post(
            "/query/data",
            "",
            json!({"query": "Who is the Orin harbour master?", "mode": "naive"}),
        )
        .await;
    assert_eq!(code, 200, "{v}");
    let refs = v["data"]["references"].as_array().unwrap();
    let pdf = refs
        .iter()
        .find(|r| r["file_path"] == "harbour.pdf")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(pdf["location"], "pages 1-2", "{v}");
    let (_, v) = s
        .post(
            "/query",
            "",
            json!({"query": "When was the ferry Kestrel launched?", "mode": "naive"}),
        )
        .await;
    let answer = v["response"].as_str().unwrap();
    assert!(answer.contains("launched in 1931"), "{answer}");
    assert!(answer.contains("fleet.docx"), "{answer}");

    // An encrypted PDF is saved, fails with its reason, and nothing else changes.
    samples::write_encrypted_pdf(f.join("locked.pdf")).unwrap();
    let (code, v) = upload_file(&s, &f.join("locked.pdf")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "failure", "{v}");
    assert!(v["message"].as_str().unwrap().contains("encrypted"), "{v}");
    assert!(s.dir.path().join("inputs/locked.pdf").exists());
    let failed = with_status(&s, "failed").await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0]["error_msg"]
        .as_str()
        .unwrap()
        .contains("encrypted"));
    assert_eq!(with_status(&s, "processed").await.len(), 2);
    // Sending a readable version under the same name replaces the failed one.
    samples::write_pdf(f.join("locked.pdf"), &[&["The lock keeper is Tova Renn."]]).unwrap();
    let (code, v) = upload_file(&s, &f.join("locked.pdf")).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "success", "{v}");
    s.wait_track("", v["track_id"].as_str().unwrap()).await;
    assert!(with_status(&s, "failed").await.is_empty());

    // A scan reads documents too; a lying file becomes a failed document.
    samples::write_pptx(
        f.join("deck.pptx"),
        &[("Tides", &["Spring tides reach the quay."][..])],
    )
    .unwrap();
    std::fs::copy(f.join("deck.pptx"), s.dir.path().join("inputs/deck.pptx")).unwrap();
    std::fs::copy(
        f.join("harbour.pdf"),
        s.dir.path().join("inputs/notes.docx"),
    )
    .unwrap();
    let (code, v) = s.post("/documents/scan", "", json!({})).await;
    assert_eq!(code, 200, "{v}");
    let track = v["track_id"].as_str().unwrap().to_string();
    s.wait_track("", &track).await;
    let (_, scan) = s.get(&format!("/documents/scan/status/{track}"), "").await;
    assert_eq!(scan["counts"]["enqueued"], 1, "{scan}");
    assert_eq!(scan["counts"]["unreadable"], 1, "{scan}");
    let failed = with_status(&s, "failed").await;
    assert!(
        failed[0]["error_msg"]
            .as_str()
            .unwrap()
            .contains("named .docx but its content is"),
        "{failed:?}"
    );
    let (_, types) = s.get("/documents/supported_file_types", "").await;
    for ext in [
        ".pdf", ".docx", ".pptx", ".xlsx", ".odt", ".rtf", ".epub", ".html",
    ] {
        assert!(
            types["supported_extensions"]
                .as_array()
                .unwrap()
                .contains(&json!(ext)),
            "{ext}: {types}"
        );
    }
    s.stop().await;
}
