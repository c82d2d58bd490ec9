//! Token counting with LightRAG's default tokenizer (tiktoken `o200k_base`, the encoding of
//! `gpt-4o-mini`), so chunk sizes and context budgets match LightRAG's numbers.

use tiktoken_rs::CoreBPE;

/// Encodes and decodes text into the token ids that budgets are measured in.
pub trait Tokenizer: Send + Sync {
    fn encode(&self, text: &str) -> Vec<u32>;
    /// Decodes ids; bytes that are not valid UTF-8 (a window boundary inside a character)
    /// become U+FFFD, as Python's tiktoken does with `errors="replace"`.
    fn decode(&self, tokens: &[u32]) -> String;
    fn count(&self, text: &str) -> usize {
        self.encode(text).len()
    }
}

/// tiktoken `o200k_base`; the vocabulary is compiled into the binary (no download).
pub struct TiktokenTokenizer {
    bpe: &'static CoreBPE,
}

impl TiktokenTokenizer {
    /// The tokenizer LightRAG uses by default (`gpt-4o-mini` → `o200k_base`).
    pub fn o200k() -> Self {
        TiktokenTokenizer {
            bpe: tiktoken_rs::o200k_base_singleton(),
        }
    }
}

impl Default for TiktokenTokenizer {
    fn default() -> Self {
        Self::o200k()
    }
}

impl Tokenizer for TiktokenTokenizer {
    fn encode(&self, text: &str) -> Vec<u32> {
        self.bpe.encode_ordinary(text)
    }

    fn decode(&self, tokens: &[u32]) -> String {
        match self.bpe.decode_bytes(tokens) {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            // Ids come from `encode`, so an unknown id cannot happen; keep what decodes.
            Err(_) => tokens
                .iter()
                .filter_map(|t| self.bpe.decode_bytes(&[*t]).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_tiktoken_o200k() {
        let t = TiktokenTokenizer::o200k();
        // Reference counts from Python tiktoken 0.14.0:
        // len(tiktoken.encoding_for_model("gpt-4o-mini").encode(s)).
        let cases = [
            ("hello world", 2),
            ("The quick brown fox jumps over the lazy dog.", 10),
            (
                "Mara Lindqvist founded the Vell River Institute in 1962.",
                16,
            ),
            ("日本語のテキストと中文混合 text", 11),
            ("  leading and trailing  \n\n", 5),
            ("emoji 🦀🚀 and accents: café, naïve, Zürich", 15),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 7),
            (
                include_str!("../../../examples/vell_river_institute.md"),
                875,
            ),
            (include_str!("../../../examples/ostra_accord_1984.txt"), 861),
        ];
        for (text, n) in cases {
            assert_eq!(t.count(text), n, "{text:?}");
        }
        assert_eq!(t.count(""), 0);
        let ids = t.encode("The quick brown fox jumps over the lazy dog.");
        assert_eq!(
            t.decode(&ids),
            "The quick brown fox jumps over the lazy dog."
        );
    }

    #[test]
    fn split_characters_decode_lossily() {
        let t = TiktokenTokenizer::o200k();
        let ids = t.encode("日本語のテキスト");
        let joined: String = ids.iter().map(|i| t.decode(&[*i])).collect();
        assert!(!joined.is_empty());
    }
}
