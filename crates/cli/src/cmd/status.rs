//! `lightrag status`: documents per status, with the errors of failed ones.

use anyhow::Result;
use lightrag_core::types::DocStatus;
use serde_json::json;

use crate::args::StatusArgs;
use crate::setup::Engine;

pub async fn run(engine: &Engine, args: &StatusArgs) -> Result<()> {
    let store = &engine.rag.stores().doc_status;
    let counts = store.counts().await?;
    let failed = store.by_statuses(&[DocStatus::Failed]).await?;
    let processing = store.by_statuses(&[DocStatus::Processing]).await?;
    let all = if args.all {
        store.by_statuses(&DocStatus::ALL).await?
    } else {
        vec![]
    };
    if args.json {
        let rows = |v: &[(String, lightrag_core::types::DocStatusRecord)]| {
            v.iter()
                .map(|(id, r)| json!({"id": id, "file_path": r.file_path, "status": r.status, "chunks_count": r.chunks_count, "error_msg": r.error_msg, "updated_at": r.updated_at}))
                .collect::<Vec<_>>()
        };
        let counts: serde_json::Map<String, serde_json::Value> = DocStatus::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str().to_string(),
                    json!(counts.get(s).copied().unwrap_or(0)),
                )
            })
            .collect();
        let v = json!({"status_counts": counts, "failed": rows(&failed), "processing": rows(&processing), "documents": rows(&all)});
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    for s in DocStatus::ALL {
        println!(
            "{:<11} {}",
            s.as_str(),
            counts.get(&s).copied().unwrap_or(0)
        );
    }
    if !processing.is_empty() {
        println!("\ninterrupted (resumed by the next `lightrag insert`):");
        for (id, r) in &processing {
            println!("  {id}  {}", r.file_path);
        }
    }
    if !failed.is_empty() {
        println!("\nfailed:");
        for (id, r) in &failed {
            println!(
                "  {id}  {}: {}",
                r.file_path,
                r.error_msg.as_deref().unwrap_or("(no message)")
            );
        }
    }
    if args.all {
        println!("\ndocuments:");
        for (id, r) in &all {
            println!(
                "  {id}  {:<10} {:>4} chunks  {}",
                r.status.as_str(),
                r.chunks_count,
                r.file_path
            );
        }
    }
    Ok(())
}
