//! `lightrag query`: the answer and its references, the context alone, or the retrieved data.

use anyhow::Result;
use lightrag_core::query::{QueryMode, QueryParam};
use serde_json::json;

use crate::args::QueryArgs;
use crate::setup::Engine;

pub async fn run(engine: &Engine, args: &QueryArgs) -> Result<()> {
    let rag = &engine.rag;
    let mut p = QueryParam::from_defaults(&rag.config().query);
    p.mode = args.mode.parse::<QueryMode>()?;
    p.only_need_context = args.context_only;
    p.only_need_prompt = args.prompt_only;
    if let Some(k) = args.top_k {
        p.top_k = k;
    }
    if let Some(k) = args.chunk_top_k {
        p.chunk_top_k = k;
    }
    if let Some(r) = &args.response_type {
        p.response_type = r.clone();
    }
    p.user_prompt = args.user_prompt.clone();
    if args.no_rerank {
        p.enable_rerank = false;
    }
    p.hl_keywords = args
        .hl_keywords
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    p.ll_keywords = args
        .ll_keywords
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if args.json {
        let r = rag.query(&args.question, &p).await?;
        let v = json!({
            "status": r.status,
            "message": r.message,
            "data": r.data,
            "metadata": {
                "query_mode": r.mode.as_str(),
                "keywords": {"high_level": r.keywords.high_level, "low_level": r.keywords.low_level},
            },
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    // Text output streams the answer as the model writes it.
    p.stream = true;
    let out = rag.query_stream(&args.question, &p).await?;
    let mut r = out.result;
    match out.stream {
        Some(mut stream) => {
            use futures::StreamExt;
            use std::io::Write;
            let mut stdout = std::io::stdout();
            while let Some(piece) = stream.next().await {
                let piece = piece?;
                print!("{piece}");
                stdout.flush()?;
                r.answer.push_str(&piece);
            }
            println!();
        }
        None => println!("{}", r.answer.trim_end()),
    }
    if !args.context_only
        && !args.prompt_only
        && !r.answer.contains("### References")
        && !r.data.references.is_empty()
    {
        println!("\n### References\n");
        for reference in &r.data.references {
            println!("* [{}] {}", reference.reference_id, reference.label());
        }
    }
    Ok(())
}
