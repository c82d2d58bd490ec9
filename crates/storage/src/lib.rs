//! Storage adapters for the engine's ports.
//!
//! `embedded` is the zero-service default: one redb database for key-value records, document
//! status and the graph (ACID, crash-safe), and one vector set per LightRAG namespace whose
//! vectors live in redb and whose usearch HNSW index is a derived, incrementally maintained cache.
//! `memory` holds everything in process memory, not durable: for tests, and the reference backend.
//! [`select`] opens the backend each role's setting names ([`keys`]) behind one lifecycle.

pub mod copy;
pub mod embedded;
pub mod keys;
pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod select;
pub mod vector_set;
