//! Model-specific defaults: how many texts one call should carry, and the most it may carry.
//!
//! These are our choices, not measured limits of each model: larger models (1024 dimensions,
//! 8k-token windows) get smaller batches so one call stays within Ollama's memory and a few
//! seconds; small sentence models take large batches cheaply.

/// Batching defaults for one embedding model family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelProfile {
    /// The family name matched.
    pub family: &'static str,
    /// The model's vector dimension.
    pub dim: usize,
    /// Texts per call when OLLAMA_EMBEDDING_BATCH_SIZE is not set.
    pub batch_size: usize,
    /// The most texts per call, whatever the configuration or the adaptive sizer says.
    pub max_batch_size: usize,
}

const PROFILES: &[ModelProfile] = &[
    ModelProfile {
        family: "bge-m3",
        dim: 1024,
        batch_size: 32,
        max_batch_size: 64,
    },
    ModelProfile {
        family: "nomic-embed-text",
        dim: 768,
        batch_size: 64,
        max_batch_size: 128,
    },
    ModelProfile {
        family: "mxbai-embed-large",
        dim: 1024,
        batch_size: 32,
        max_batch_size: 64,
    },
    ModelProfile {
        family: "snowflake-arctic-embed",
        dim: 1024,
        batch_size: 32,
        max_batch_size: 64,
    },
    ModelProfile {
        family: "all-minilm",
        dim: 384,
        batch_size: 64,
        max_batch_size: 256,
    },
    ModelProfile {
        family: "all-minilm-l6-v2",
        dim: 384,
        batch_size: 64,
        max_batch_size: 256,
    },
    ModelProfile {
        family: "text-embedding-3-small",
        dim: 1536,
        batch_size: 64,
        max_batch_size: 256,
    },
    ModelProfile {
        family: "text-embedding-3-large",
        dim: 3072,
        batch_size: 32,
        max_batch_size: 128,
    },
];

/// The seed's general defaults (batch 32, at most 64) for models we know nothing about.
pub const GENERIC: ModelProfile = ModelProfile {
    family: "generic",
    dim: 0,
    batch_size: 32,
    max_batch_size: 64,
};

/// The profile of `model`: the name without its `:tag` and any `namespace/` prefix, compared
/// case-insensitively (`bge-m3:latest`, `nomic-ai/nomic-embed-text`, `all-MiniLM-L6-v2`).
pub fn profile_for(model: &str) -> ModelProfile {
    let name = model.rsplit('/').next().unwrap_or(model);
    let name = name.split(':').next().unwrap_or(name).to_ascii_lowercase();
    PROFILES
        .iter()
        .find(|p| name == p.family)
        .or_else(|| PROFILES.iter().find(|p| name.starts_with(p.family)))
        .copied()
        .unwrap_or(GENERIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_tags_and_prefixes_match() {
        assert_eq!(profile_for("bge-m3:latest").family, "bge-m3");
        assert_eq!(profile_for("nomic-ai/nomic-embed-text:v1.5").dim, 768);
        assert_eq!(profile_for("all-MiniLM-L6-v2").max_batch_size, 256);
        assert_eq!(profile_for("all-minilm:33m").family, "all-minilm");
        assert_eq!(profile_for("mystery-model"), GENERIC);
    }
}
