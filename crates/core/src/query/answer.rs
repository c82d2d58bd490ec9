//! The extractive answer used when no chat model is configured: the sentences of the retrieved
//! chunks that share the most (rarest) words with the question, each tagged with its reference,
//! followed by the reference list. It quotes the sources; it does not reason over them.

use std::collections::{HashMap, HashSet};

use super::chunks::ContextChunk;
use super::Reference;
use crate::text::{content_words, sentences, unwrap_lines};

/// How many sentences the extractive answer quotes.
pub const MAX_SENTENCES: usize = 4;

/// Picks the best sentences for `question` among `chunks` (with their reference ids).
pub fn extractive_answer(
    question: &str,
    keywords: &[String],
    chunks: &[ContextChunk],
    chunk_refs: &[String],
    refs: &[Reference],
) -> Option<String> {
    let mut terms: HashSet<String> = content_words(question).into_iter().collect();
    for k in keywords {
        terms.extend(content_words(k));
    }
    if terms.is_empty() {
        return None;
    }
    // Candidate sentences, with the words they contain.
    // Hard-wrapped lines are joined first, so a sentence is not cut at a line break.
    let texts: Vec<String> = chunks
        .iter()
        .map(|c| unwrap_lines(&crate::locations::without_markers(&c.content)))
        .collect();
    let mut cands: Vec<(usize, &str, &str, HashSet<String>)> = Vec::new();
    for (ci, (text, r)) in texts.iter().zip(chunk_refs).enumerate() {
        for s in sentences(text) {
            let s = s.trim_start_matches(['#', '-', '*', ' ']);
            if s.chars().count() < 20 {
                continue;
            }
            let ws: HashSet<String> = content_words(s).into_iter().collect();
            cands.push((ci, s, r.as_str(), ws));
        }
    }
    // Rare words weigh more: inverse sentence frequency over the candidates.
    let mut df: HashMap<&str, usize> = HashMap::new();
    for (_, _, _, ws) in &cands {
        for w in ws {
            *df.entry(w.as_str()).or_default() += 1;
        }
    }
    let n = cands.len().max(1) as f64;
    let mut scored: Vec<(f64, usize)> = cands
        .iter()
        .enumerate()
        .map(|(i, (ci, s, _, ws))| {
            let hit: f64 = ws
                .iter()
                .filter(|w| terms.contains(*w))
                .map(|w| (1.0 + n / df[w.as_str()] as f64).ln())
                .sum();
            // Earlier chunks ranked higher in retrieval; long sentences are diluted a little.
            let len_penalty = 1.0 + (s.len() as f64 / 400.0);
            (hit / len_penalty - *ci as f64 * 0.01, i)
        })
        .filter(|(score, _)| *score > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    // Overlapping chunks cut sentences at their edges: a fragment of a sentence already quoted
    // is skipped, and a whole sentence replaces a fragment of it quoted before.
    let mut picked: Vec<(&str, &str)> = Vec::new();
    for (_, i) in scored {
        let (_, s, r, _) = &cands[i];
        if picked.iter().any(|(p, _)| p.contains(s)) {
            continue;
        }
        match picked.iter().position(|(p, _)| s.contains(p)) {
            Some(at) => picked[at] = (s, r),
            None => picked.push((s, r)),
        }
        if picked.len() == MAX_SENTENCES {
            break;
        }
    }
    let mut lines = Vec::new();
    let mut cited = Vec::new();
    for (s, r) in picked {
        lines.push(if r.is_empty() {
            s.to_string()
        } else {
            format!("{s} [{r}]")
        });
        if !r.is_empty() && !cited.contains(&r) {
            cited.push(r);
        }
    }
    if lines.is_empty() {
        return None;
    }
    let mut out = lines.join("\n\n");
    if !cited.is_empty() {
        out.push_str("\n\n### References\n\n");
        for r in refs
            .iter()
            .filter(|r| cited.contains(&r.reference_id.as_str()))
        {
            out.push_str(&format!("* [{}] {}\n", r.reference_id, r.label()));
        }
    }
    Some(out.trim_end().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_sentence_that_answers() {
        let chunks = vec![ContextChunk {
            chunk_id: "c1".into(),
            content: "The lake is cold in winter. Ingrid Sollen founded the Varna Institute in 1921. Boats are red.".into(),
            file_path: "history.md".into(),
            tokens: 0,
        }];
        let refs = vec![Reference {
            reference_id: "1".into(),
            file_path: "history.md".into(),
            location: None,
        }];
        let a = extractive_answer(
            "Who founded the Varna Institute?",
            &[],
            &chunks,
            &["1".into()],
            &refs,
        )
        .unwrap();
        assert!(
            a.starts_with("Ingrid Sollen founded the Varna Institute in 1921. [1]"),
            "{a}"
        );
        assert!(a.contains("### References"));
        assert!(a.contains("* [1] history.md"));
    }

    #[test]
    fn nothing_matching_gives_none() {
        let chunks = vec![ContextChunk {
            chunk_id: "c".into(),
            content: "Completely unrelated words here today.".into(),
            file_path: "x".into(),
            tokens: 0,
        }];
        assert!(extractive_answer("zebra?", &[], &chunks, &["1".into()], &[]).is_none());
    }

    #[test]
    fn a_sentence_cut_by_a_chunk_edge_is_quoted_once_whole() {
        let chunk = |id: &str, content: &str| ContextChunk {
            chunk_id: id.into(),
            content: content.into(),
            file_path: "a.md".into(),
            tokens: 0,
        };
        let chunks = vec![
            chunk(
                "c1",
                "Ingrid Sollen founded the Varna Institute in the spring of",
            ),
            chunk(
                "c2",
                "Ingrid Sollen founded the Varna Institute in the spring of 1921.",
            ),
        ];
        let refs = vec![Reference {
            reference_id: "1".into(),
            file_path: "a.md".into(),
            location: None,
        }];
        let ids = vec!["1".to_string(), "1".to_string()];
        let answer = extractive_answer(
            "Who founded the Varna Institute?",
            &[],
            &chunks,
            &ids,
            &refs,
        )
        .expect("an answer");
        assert_eq!(answer.matches("Ingrid Sollen").count(), 1, "{answer}");
        assert!(answer.contains("spring of 1921. [1]"), "{answer}");
    }
}
