//! The usearch HNSW index: a thin wrapper that owns capacity and thread reservations, batched
//! inserts, cosine-similarity search and atomic snapshots.
//!
//! Errors are plain strings here; the store adds the vector set's name and path.

use std::fs::{self, File};
use std::path::Path;

use usearch::ffi::{IndexOptions, MetricKind, ScalarKind};
use usearch::Index;

/// Indexes up to this many vectors are searched exhaustively (about a millisecond at 384
/// dimensions on this project's 2-core machine).
pub(super) const EXACT_SEARCH_BELOW: usize = 4096;

/// HNSW parameters of a vector set's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HnswConfig {
    /// Links per node (`M`); the base layer keeps twice as many.
    pub connectivity: usize,
    /// Beam width while inserting (`ef_construction`).
    pub expansion_add: usize,
    /// Beam width while searching (`ef_search`); a search for `k > ef` widens it to `k`.
    pub expansion_search: usize,
}

impl Default for HnswConfig {
    fn default() -> Self {
        HnswConfig {
            connectivity: 16,
            expansion_add: 128,
            expansion_search: 64,
        }
    }
}

/// Capacity is reserved in steps of at least this many vectors.
const CAPACITY_STEP: usize = 1024;

pub(super) struct Ann {
    index: Index,
    dim: usize,
    /// usearch thread contexts reserved: the most concurrent searches or inserts allowed.
    threads: usize,
}

impl Ann {
    /// An empty index.
    pub(super) fn new(dim: usize, cfg: HnswConfig, threads: usize) -> Result<Self, String> {
        let options = IndexOptions {
            dimensions: dim,
            metric: MetricKind::Cos,
            quantization: ScalarKind::F32,
            connectivity: cfg.connectivity,
            expansion_add: cfg.expansion_add,
            expansion_search: cfg.expansion_search,
            multi: false,
        };
        let index =
            Index::new(&options).map_err(|e| format!("cannot create the HNSW index: {e}"))?;
        let ann = Ann {
            index,
            dim,
            threads: threads.max(1),
        };
        ann.reserve(CAPACITY_STEP)?;
        Ok(ann)
    }

    /// Loads a snapshot written by [`Ann::save_atomic`], after checking its header.
    pub(super) fn load(
        path: &Path,
        dim: usize,
        cfg: HnswConfig,
        threads: usize,
    ) -> Result<Self, String> {
        let path_str = path_str(path)?;
        let meta = Index::metadata(path_str).map_err(|e| format!("unreadable header: {e}"))?;
        if meta.dimensions != dim as u64 {
            return Err(format!("it has {} dims, expected {dim}", meta.dimensions));
        }
        if meta.metric != MetricKind::Cos || meta.quantization != ScalarKind::F32 || meta.multi {
            return Err(format!(
                "unexpected layout (metric {:?}, scalar {:?}, multi {})",
                meta.metric, meta.quantization, meta.multi
            ));
        }
        let ann = Ann::new(dim, cfg, threads)?;
        ann.index
            .load(path_str)
            .map_err(|e| format!("cannot load: {e}"))?;
        if ann.index.dimensions() != dim {
            return Err(format!(
                "it has {} dims after loading, expected {dim}",
                ann.index.dimensions()
            ));
        }
        ann.index.change_expansion_add(cfg.expansion_add);
        ann.index.change_expansion_search(cfg.expansion_search);
        ann.reserve(ann.index.size() + CAPACITY_STEP)?;
        Ok(ann)
    }

    /// Vectors present (removed ones excluded).
    pub(super) fn size(&self) -> usize {
        self.index.size()
    }

    /// Memory used by the index, in bytes.
    pub(super) fn memory_usage(&self) -> usize {
        self.index.memory_usage()
    }

    /// Makes room for `extra` more vectors, growing by at least half the capacity at a time.
    /// Callers hold the write lock: usearch forbids concurrent operations during `reserve`.
    pub(super) fn reserve_extra(&self, extra: usize) -> Result<(), String> {
        let needed = self.index.size() + extra;
        let capacity = self.index.capacity();
        if needed <= capacity {
            return Ok(());
        }
        self.reserve(needed.max(capacity + capacity / 2))
    }

    fn reserve(&self, capacity: usize) -> Result<(), String> {
        let capacity = capacity.max(1).div_ceil(CAPACITY_STEP) * CAPACITY_STEP;
        self.index
            .reserve_capacity_and_threads(capacity, self.threads)
            .map_err(|e| format!("cannot reserve capacity for {capacity} vectors: {e}"))
    }

    /// Inserts or replaces (remove, then add) the vectors under their keys. Keys must be
    /// distinct. Callers hold the write lock.
    pub(super) fn upsert(&self, items: &[(u64, Vec<f32>)]) -> Result<(), String> {
        if items.is_empty() {
            return Ok(());
        }
        for (key, vector) in items {
            if vector.len() != self.dim {
                return Err(format!(
                    "vector under key {key} has {} dims, expected {}",
                    vector.len(),
                    self.dim
                ));
            }
            self.remove(*key)?;
        }
        self.reserve_extra(items.len())?;
        // One thread on purpose: with usearch 2.26.6, inserting from several threads at once
        // (each `add` takes its own thread context) left some nodes unreachable even by their
        // own vector (about 0.3% of 800 in tests), so the graph is built sequentially.
        items.iter().try_for_each(|(k, v)| self.add(*k, v))
    }

    fn add(&self, key: u64, vector: &[f32]) -> Result<(), String> {
        self.index
            .add(key, vector)
            .map_err(|e| format!("cannot add key {key}: {e}"))
    }

    /// Removes a key if present. Callers hold the write lock.
    pub(super) fn remove(&self, key: u64) -> Result<(), String> {
        self.index
            .remove(key)
            .map(|_| ())
            .map_err(|e| format!("cannot remove key {key}: {e}"))
    }

    /// The `count` nearest keys with their cosine similarity, best first (exact below
    /// [`EXACT_SEARCH_BELOW`] vectors). Concurrent callers
    /// must not outnumber the reserved threads.
    pub(super) fn search(&self, query: &[f32], count: usize) -> Result<Vec<(u64, f32)>, String> {
        if count == 0 || self.index.size() == 0 {
            return Ok(Vec::new());
        }
        // A small index is searched exhaustively: as cheap as the graph walk there, and exact
        // (the graph can miss close neighbours among many near-identical vectors).
        let matches = if self.index.size() <= EXACT_SEARCH_BELOW {
            self.index.exact_search(query, count)
        } else {
            self.index.search(query, count)
        }
        .map_err(|e| format!("search failed: {e}"))?;
        Ok(matches
            .keys
            .into_iter()
            .zip(matches.distances)
            .map(|(key, distance)| (key, (1.0 - distance).clamp(-1.0, 1.0)))
            .collect())
    }

    /// Writes the index to `path` atomically (temporary file, fsync, rename, fsync of the
    /// directory) and returns the file's length.
    pub(super) fn save_atomic(&self, path: &Path) -> Result<u64, String> {
        let mut tmp_name = path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = Path::new(&tmp_name);
        let result = (|| {
            self.index
                .save(path_str(tmp)?)
                .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
            File::open(tmp)
                .and_then(|f| f.sync_all())
                .map_err(|e| format!("cannot sync {}: {e}", tmp.display()))?;
            fs::rename(tmp, path).map_err(|e| {
                format!("cannot rename {} to {}: {e}", tmp.display(), path.display())
            })?;
            if let Some(parent) = path.parent() {
                // Makes the rename durable; not every platform can open a directory.
                if let Ok(dir) = File::open(if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                }) {
                    let _ = dir.sync_all();
                }
            }
            fs::metadata(path)
                .map(|m| m.len())
                .map_err(|e| format!("cannot stat {}: {e}", path.display()))
        })();
        if result.is_err() {
            let _ = fs::remove_file(tmp);
        }
        result
    }
}

fn path_str(path: &Path) -> Result<&str, String> {
    path.to_str()
        .ok_or_else(|| format!("path {} is not valid UTF-8", path.display()))
}
