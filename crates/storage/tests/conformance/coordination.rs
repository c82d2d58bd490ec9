//! Cases of the `Coordinator` port: document leases (claims, expiry, takeover, fencing
//! tokens, abandonment) and the knowledge-base generation. Locks across processes are a
//! shared backend's and are checked where two processes can be had (conformance_postgres).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use lightrag_core::coordination::RETRY_FLAG;
use lightrag_core::ports::Stores;
use lightrag_core::types::DocStatus;
use lightrag_core::Error;
use serde_json::Value;

use super::{open, record, s, Backend};

const LONG: Duration = Duration::from_secs(60);

async fn put(st: &Stores, id: &str, status: DocStatus, created: &str) {
    st.doc_status
        .upsert(vec![(s(id), record(status, created, None))])
        .await
        .unwrap();
}

/// A claim takes the rows that need work, oldest first: pending, processing (an interrupted
/// run: taken over), failed with the retry flag; never a plain failure, a processed row or a
/// duplicate. Tokens grow; a live lease is not claimed again.
pub async fn leases_claim_what_needs_work_oldest_first(backend: &dyn Backend) {
    let st = open(backend).await;
    put(
        &st,
        "processed",
        DocStatus::Processed,
        "2020-01-01T00:00:00",
    )
    .await;
    put(&st, "pending", DocStatus::Pending, "2020-01-03T00:00:00").await;
    put(
        &st,
        "interrupted",
        DocStatus::Processing,
        "2020-01-02T00:00:00",
    )
    .await;
    put(&st, "failed", DocStatus::Failed, "2020-01-01T00:00:00").await;
    let mut retry = record(DocStatus::Failed, "2020-01-04T00:00:00", None);
    retry.metadata.insert(RETRY_FLAG.into(), Value::Bool(true));
    let mut dup = record(DocStatus::Pending, "2020-01-00T00:00:00", None);
    dup.metadata
        .insert("is_duplicate".into(), Value::Bool(true));
    st.doc_status
        .upsert(vec![(s("retry"), retry), (s("dup"), dup)])
        .await
        .unwrap();

    let c = &st.coordinator;
    let first = c.claim(2, LONG, &[]).await.unwrap();
    let ids: Vec<&str> = first.iter().map(|l| l.doc_id.as_str()).collect();
    assert_eq!(ids, ["interrupted", "pending"], "{}", backend.name());
    assert!(first[0].taken_over && !first[1].taken_over);
    let rest = c.claim(10, LONG, &[]).await.unwrap();
    let ids: Vec<&str> = rest.iter().map(|l| l.doc_id.as_str()).collect();
    assert_eq!(ids, ["retry"]);
    let tokens: Vec<i64> = first.iter().chain(&rest).map(|l| l.token).collect();
    assert!(
        tokens.windows(2).all(|w| w[0] < w[1]),
        "tokens grow: {tokens:?}"
    );
    assert!(
        c.claim(10, LONG, &[]).await.unwrap().is_empty(),
        "all leased"
    );
    let held = c.leases().await.unwrap();
    let held_ids: Vec<&str> = held.iter().map(|l| l.doc_id.as_str()).collect();
    assert_eq!(held_ids, ["interrupted", "pending", "retry"]);
    for l in &held {
        assert_eq!(l.owner, c.replica_id());
        assert!(
            l.expires_in_ms > 50_000 && l.expires_in_ms <= 60_000,
            "{l:?}"
        );
    }
}

/// After a lease expires any claim may take the document, with a larger token; from then on
/// the old holder cannot write the status, renew or pass the fence, and the new one can.
pub async fn leases_expire_and_fence_the_old_holder(backend: &dyn Backend) {
    let st = open(backend).await;
    put(&st, "d", DocStatus::Processing, "2020-01-01T00:00:00").await;
    let c = &st.coordinator;
    let old = c
        .claim(1, Duration::from_millis(1500), &[])
        .await
        .unwrap()
        .remove(0);
    assert!(c.holds(&old, Duration::ZERO).await.unwrap());
    assert!(
        !c.holds(&old, Duration::from_secs(5)).await.unwrap(),
        "less than the margin left"
    );
    assert!(
        c.claim(1, LONG, &[]).await.unwrap().is_empty(),
        "still live"
    );
    tokio::time::sleep(Duration::from_millis(1700)).await;
    let new = c.claim(1, LONG, &[]).await.unwrap();
    assert_eq!(
        new.len(),
        1,
        "{}: an expired lease is taken",
        backend.name()
    );
    let new = new.into_iter().next().unwrap();
    assert_eq!(new.doc_id, "d");
    assert!(new.taken_over && new.token > old.token);

    let mut row = st.doc_status.get("d").await.unwrap().unwrap();
    row.status = DocStatus::Processed;
    let refused = c.write_status(&old, row.clone(), true).await;
    assert!(
        matches!(refused, Err(Error::LeaseLost(_))),
        "{}: {refused:?}",
        backend.name()
    );
    assert!(!c.renew(&old, LONG).await.unwrap());
    assert!(!c.holds(&old, Duration::ZERO).await.unwrap());
    assert_eq!(
        st.doc_status.get("d").await.unwrap().unwrap().status,
        DocStatus::Processing,
        "the refused write changed nothing"
    );

    assert!(c.renew(&new, LONG).await.unwrap());
    c.write_status(&new, row, true).await.unwrap();
    assert_eq!(
        st.doc_status.get("d").await.unwrap().unwrap().status,
        DocStatus::Processed
    );
    assert!(
        c.leases().await.unwrap().is_empty(),
        "released with the write"
    );
    assert!(
        c.claim(5, LONG, &[]).await.unwrap().is_empty(),
        "done: no work"
    );
}

/// A lease whose task was dropped here may be claimed again here at once; a lease given up
/// with `release` is free for anyone.
pub async fn leases_abandoned_or_released_are_free_at_once(backend: &dyn Backend) {
    let st = open(backend).await;
    put(&st, "a", DocStatus::Pending, "2020-01-01T00:00:00").await;
    put(&st, "b", DocStatus::Pending, "2020-01-02T00:00:00").await;
    let c = &st.coordinator;
    let leases = c.claim(2, LONG, &[]).await.unwrap();
    c.abandon(&leases[0]);
    c.release(&leases[1]).await.unwrap();
    let again = c.claim(5, LONG, &[]).await.unwrap();
    let ids: Vec<&str> = again.iter().map(|l| l.doc_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "{}", backend.name());
    assert!(again[0].token > leases[1].token);
    assert!(
        matches!(
            c.write_status(&leases[0], record(DocStatus::Failed, "x", None), true)
                .await,
            Err(Error::LeaseLost(_))
        ),
        "the abandoned lease's token is stale"
    );
}

/// Claims racing from many tasks never hand one document out twice, and hand out all.
pub async fn leases_concurrent_claims_never_overlap(backend: &dyn Backend) {
    let st = open(backend).await;
    let rows = (0..40)
        .map(|i| {
            (
                format!("doc-{i:02}"),
                record(
                    DocStatus::Pending,
                    &format!("2020-01-01T00:00:{i:02}"),
                    None,
                ),
            )
        })
        .collect();
    st.doc_status.upsert(rows).await.unwrap();
    let c = st.coordinator.clone();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = Arc::clone(&c);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let got = c.claim(3, LONG, &[]).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got.into_iter().map(|l| l.doc_id));
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(all.len(), 40, "{}: {all:?}", backend.name());
    assert_eq!(distinct.len(), 40);
}

/// The generation grows with each change recorded.
pub async fn generation_grows_with_each_change(backend: &dyn Backend) {
    let st = open(backend).await;
    let c = &st.coordinator;
    let g0 = c.generation().await.unwrap();
    let g1 = c.bump_generation().await.unwrap();
    let g2 = c.bump_generation().await.unwrap();
    assert_eq!((g1, g2), (g0 + 1, g0 + 2), "{}", backend.name());
    assert_eq!(c.generation().await.unwrap(), g2);
}

/// A stopping process gives up every lease it holds: the documents are claimable at once.
pub async fn leases_released_all_at_once_on_stop(backend: &dyn Backend) {
    let st = open(backend).await;
    put(&st, "a", DocStatus::Processing, "2020-01-01T00:00:00").await;
    put(&st, "b", DocStatus::Pending, "2020-01-02T00:00:00").await;
    let c = &st.coordinator;
    let held = c.claim(5, LONG, &[]).await.unwrap();
    assert_eq!(held.len(), 2);
    assert_eq!(c.release_all().await.unwrap(), 2, "{}", backend.name());
    assert!(c.leases().await.unwrap().is_empty());
    let again = c.claim(5, LONG, &[]).await.unwrap();
    assert_eq!(again.len(), 2, "claimable at once");
    assert!(again[0].token > held[1].token);
}
