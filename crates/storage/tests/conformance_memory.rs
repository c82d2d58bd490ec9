//! The behavioural suite (`conformance/`) on the in-memory backend.

mod conformance;

use async_trait::async_trait;
use lightrag_core::ports::Stores;
use lightrag_core::Result;
use lightrag_storage::memory::MemoryBackend;

/// A new, empty in-memory knowledge base per test; every open shares its data.
struct Memory(MemoryBackend);

#[async_trait]
impl conformance::Backend for Memory {
    fn name(&self) -> &'static str {
        "memory"
    }

    async fn open(&self, model: &str, dim: usize) -> Result<Stores> {
        self.0.open(model, dim)
    }
}

conformance_tests!(Memory(MemoryBackend::new()));
