//! Chunking by tokens with overlap, LightRAG's fixed-token strategy (`chunking_by_token_size`):
//! windows of `size` tokens starting every `size - overlap` tokens, each decoded and trimmed;
//! optionally the text is first split on a character sequence.

use crate::error::{Error, Result};
use crate::tokenizer::Tokenizer;

/// How a document is cut into chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkingOptions {
    /// Tokens per chunk (`CHUNK_SIZE`, 1200).
    pub size: usize,
    /// Tokens shared by consecutive windows (`CHUNK_OVERLAP_SIZE`, 100).
    pub overlap: usize,
    /// Split the text on this sequence first; pieces are not merged back together.
    pub split_by_character: Option<String>,
    /// With a split character: every piece is one chunk, and a piece over `size` is an error.
    pub split_by_character_only: bool,
}

impl Default for ChunkingOptions {
    fn default() -> Self {
        ChunkingOptions {
            size: 1200,
            overlap: 100,
            split_by_character: None,
            split_by_character_only: false,
        }
    }
}

/// One chunk before it is given an id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChunk {
    pub tokens: usize,
    pub content: String,
    pub chunk_order_index: usize,
}

/// Cuts `text` into chunks. Empty chunks are dropped (indices keep their gaps, as LightRAG).
pub fn chunk_text(
    tokenizer: &dyn Tokenizer,
    text: &str,
    opts: &ChunkingOptions,
) -> Result<Vec<RawChunk>> {
    if opts.size == 0 {
        return Err(Error::Config("chunk size must be greater than 0".into()));
    }
    if opts.overlap >= opts.size {
        return Err(Error::Config(format!(
            "chunk overlap ({}) must be smaller than the chunk size ({})",
            opts.overlap, opts.size
        )));
    }
    let mut out = Vec::new();
    let mut push = |tokens: usize, content: String| {
        let index = out.len();
        out.push(RawChunk {
            tokens,
            content,
            chunk_order_index: index,
        });
    };
    match opts.split_by_character.as_deref().filter(|s| !s.is_empty()) {
        Some(sep) => {
            for piece in text.split(sep) {
                let ids = tokenizer.encode(piece);
                if opts.split_by_character_only {
                    if ids.len() > opts.size {
                        return Err(Error::InvalidInput(format!(
                            "a piece of {} tokens exceeds the chunk size of {} tokens \
                             (split_by_character_only is set)",
                            ids.len(),
                            opts.size
                        )));
                    }
                    push(ids.len(), piece.trim().to_string());
                } else if ids.len() > opts.size {
                    for (tokens, content) in windows(tokenizer, &ids, opts) {
                        push(tokens, content);
                    }
                } else {
                    push(ids.len(), piece.trim().to_string());
                }
            }
        }
        None => {
            let ids = tokenizer.encode(text);
            for (tokens, content) in windows(tokenizer, &ids, opts) {
                push(tokens, content);
            }
        }
    }
    out.retain(|c| !c.content.is_empty());
    Ok(out)
}

fn windows(tokenizer: &dyn Tokenizer, ids: &[u32], opts: &ChunkingOptions) -> Vec<(usize, String)> {
    let step = opts.size - opts.overlap;
    let mut out = Vec::new();
    let mut start = 0;
    while start < ids.len() {
        let end = (start + opts.size).min(ids.len());
        out.push((
            end - start,
            tokenizer.decode(&ids[start..end]).trim().to_string(),
        ));
        start += step;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::TiktokenTokenizer;

    fn words(n: usize) -> String {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn windows_start_every_size_minus_overlap() {
        let t = TiktokenTokenizer::o200k();
        let text = words(3000);
        let total = t.count(&text);
        let opts = ChunkingOptions::default();
        let chunks = chunk_text(&t, &text, &opts).unwrap();
        let expected = total.div_ceil(1100);
        assert_eq!(chunks.len(), expected);
        assert_eq!(chunks[0].tokens, 1200);
        assert_eq!(chunks.last().unwrap().tokens, total - (expected - 1) * 1100);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.chunk_order_index, i);
        }
        // the second window starts `size - overlap` tokens in
        let ids = t.encode(&text);
        assert_eq!(chunks[1].content, t.decode(&ids[1100..2300]).trim());
    }

    #[test]
    fn chunks_equal_lightrags_on_a_sample() {
        // LightRAG's chunking_by_token_size with tiktoken 0.14.0 (gpt-4o-mini), size 200,
        // overlap 20, on examples/vell_river_institute.md: (tokens, md5(content)[..12]).
        let expected = [
            (200, "e9ffc5dcd95d"),
            (200, "f0d7f2f9d409"),
            (200, "6076c100d4af"),
            (200, "7d7398e6797a"),
            (155, "a92086fceb90"),
        ];
        let t = TiktokenTokenizer::o200k();
        let opts = ChunkingOptions {
            size: 200,
            overlap: 20,
            ..Default::default()
        };
        let text = include_str!("../../../examples/vell_river_institute.md");
        let chunks = chunk_text(&t, text, &opts).unwrap();
        let got: Vec<(usize, String)> = chunks
            .iter()
            .map(|c| (c.tokens, crate::ids::md5_hex(&c.content)[..12].to_string()))
            .collect();
        let want: Vec<(usize, String)> =
            expected.iter().map(|(n, h)| (*n, h.to_string())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn short_and_empty_texts() {
        let t = TiktokenTokenizer::o200k();
        let opts = ChunkingOptions::default();
        assert!(chunk_text(&t, "", &opts).unwrap().is_empty());
        assert!(chunk_text(&t, "   \n ", &opts).unwrap().is_empty());
        let c = chunk_text(&t, "  hello world  ", &opts).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].content, "hello world");
        // tokens count the piece as given, surrounding spaces included (as LightRAG)
        assert_eq!(c[0].tokens, t.count("  hello world  "));
    }

    #[test]
    fn split_by_character_keeps_small_pieces_apart() {
        let t = TiktokenTokenizer::o200k();
        let opts = ChunkingOptions {
            size: 50,
            overlap: 10,
            split_by_character: Some("\n\n".into()),
            split_by_character_only: false,
        };
        let text = format!("alpha beta\n\ngamma\n\n{}", words(120));
        let c = chunk_text(&t, &text, &opts).unwrap();
        assert_eq!(c[0].content, "alpha beta");
        assert_eq!(c[1].content, "gamma");
        assert!(c.len() > 3);
        assert!(c[2..].iter().all(|x| x.tokens <= 50));
    }

    #[test]
    fn split_by_character_only_rejects_large_pieces() {
        let t = TiktokenTokenizer::o200k();
        let opts = ChunkingOptions {
            size: 20,
            overlap: 5,
            split_by_character: Some("|".into()),
            split_by_character_only: true,
        };
        assert_eq!(chunk_text(&t, "a|b", &opts).unwrap().len(), 2);
        assert!(chunk_text(&t, &words(100), &opts).is_err());
    }

    #[test]
    fn bad_options_are_errors() {
        let t = TiktokenTokenizer::o200k();
        let opts = ChunkingOptions {
            overlap: 1200,
            ..Default::default()
        };
        assert!(chunk_text(&t, "x", &opts).is_err());
    }
}
