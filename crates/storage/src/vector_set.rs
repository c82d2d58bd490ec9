//! LightRAG's three vector sets, one type for every part of the crate that walks them (the
//! copy walk, the PostgreSQL tables).

use std::sync::Arc;

use lightrag_core::ports::{Stores, VectorStore};

/// One of LightRAG's three vector sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VectorSet {
    Chunks,
    Entities,
    Relationships,
}

impl VectorSet {
    /// Every set, in walk order.
    pub const ALL: [VectorSet; 3] = [
        VectorSet::Chunks,
        VectorSet::Entities,
        VectorSet::Relationships,
    ];

    /// LightRAG's namespace of the set.
    pub fn as_str(self) -> &'static str {
        match self {
            VectorSet::Chunks => "chunks",
            VectorSet::Entities => "entities",
            VectorSet::Relationships => "relationships",
        }
    }

    /// The set's store among `stores`.
    pub fn of(self, stores: &Stores) -> &Arc<dyn VectorStore> {
        match self {
            VectorSet::Chunks => &stores.chunks_vdb,
            VectorSet::Entities => &stores.entities_vdb,
            VectorSet::Relationships => &stores.relationships_vdb,
        }
    }
}
