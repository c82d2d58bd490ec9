//! The redb layout of a vector set and the encoding of its rows.
//!
//! | table     | key          | value                                             |
//! |-----------|--------------|---------------------------------------------------|
//! | `vectors` | id (`&str`)  | index key (u64 LE) followed by the f32 LE values  |
//! | `meta`    | id (`&str`)  | the record's metadata as JSON text                |
//! | `keys`    | index key    | id: maps search hits back to ids                  |
//! | `pending` | index key    | `()`: keys changed since the last index snapshot  |
//! | `info`    | name         | `model`, `dim`, `format`, `next_key`, `snapshot_len` |

use redb::TableDefinition;

pub(super) const VECTORS: TableDefinition<&str, &[u8]> = TableDefinition::new("vectors");
pub(super) const META: TableDefinition<&str, &str> = TableDefinition::new("meta");
pub(super) const KEYS: TableDefinition<u64, &str> = TableDefinition::new("keys");
pub(super) const PENDING: TableDefinition<u64, ()> = TableDefinition::new("pending");
pub(super) const INFO: TableDefinition<&str, &str> = TableDefinition::new("info");

/// The version of this layout, recorded under `info.format`.
pub(super) const FORMAT: &str = "1";

pub(super) const INFO_MODEL: &str = "model";
pub(super) const INFO_DIM: &str = "dim";
pub(super) const INFO_FORMAT: &str = "format";
/// The next index key to hand out; keys are never reused.
pub(super) const INFO_NEXT_KEY: &str = "next_key";
/// Length in bytes of the last snapshot written; absent when there is no valid snapshot.
pub(super) const INFO_SNAPSHOT_LEN: &str = "snapshot_len";

/// A `vectors` row: the index key, then the components.
pub(super) fn encode_row(key: u64, vector: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 4 * vector.len());
    out.extend_from_slice(&key.to_le_bytes());
    for x in vector {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// The index key of a `vectors` row.
pub(super) fn row_key(row: &[u8]) -> Result<u64, String> {
    row.get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| format!("vector row of {} bytes is truncated", row.len()))
}

/// The index key and the components of a `vectors` row.
pub(super) fn decode_row(row: &[u8], dim: usize) -> Result<(u64, Vec<f32>), String> {
    if row.len() != 8 + 4 * dim {
        return Err(format!(
            "vector row has {} bytes, expected {} for {dim} dims",
            row.len(),
            8 + 4 * dim
        ));
    }
    let key = row_key(row)?;
    let vector = row[8..]
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((key, vector))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_and_reject_bad_lengths() {
        let row = encode_row(42, &[1.0, -0.5, 0.25]);
        assert_eq!(row_key(&row).unwrap(), 42);
        assert_eq!(decode_row(&row, 3).unwrap(), (42, vec![1.0, -0.5, 0.25]));
        assert!(decode_row(&row, 4).is_err());
        assert!(row_key(&row[..5]).is_err());
    }
}
