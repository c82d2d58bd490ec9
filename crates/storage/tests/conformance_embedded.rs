//! The behavioural suite (`conformance/`) on the embedded store (redb + usearch).

mod conformance;

use async_trait::async_trait;
use lightrag_core::ports::Stores;
use lightrag_core::Result;
use lightrag_storage::embedded;

/// A new working directory per test. `embedded::open` allows one open per directory at a
/// time: the suite drops every handle before it opens again, which closes the databases
/// (and saves the vector index snapshots) as a process exit would.
struct Embedded(tempfile::TempDir);

#[async_trait]
impl conformance::Backend for Embedded {
    fn name(&self) -> &'static str {
        "embedded"
    }

    async fn open(&self, model: &str, dim: usize) -> Result<Stores> {
        Ok(embedded::open(self.0.path(), model, dim)?.stores)
    }
}

conformance_tests!(Embedded(tempfile::tempdir().expect("temp dir")));
