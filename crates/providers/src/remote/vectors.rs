//! Checks and conversions of remote embeddings: base64 little-endian f32 decoding, the count
//! and dimension checks, L2 normalisation (done always: some servers normalise, some do not,
//! and cosine search assumes unit vectors).

use base64::Engine as _;
use lightrag_core::error::Result;

use super::http::Endpoint;

/// Decodes a base64 string of little-endian f32 values.
pub(crate) fn decode_base64_f32(text: &str) -> std::result::Result<Vec<f32>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| format!("embedding is not valid base64: {e}"))?;
    if bytes.len() % 4 != 0 {
        return Err(format!(
            "base64 embedding has {} bytes, not a multiple of 4",
            bytes.len()
        ));
    }
    Ok(bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Scales `v` to unit length (a zero vector stays zero).
pub(crate) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Checks that `vectors` has `expected` finite vectors of `dim` values, then normalises them.
pub(crate) fn check(
    ep: &Endpoint,
    op: &str,
    mut vectors: Vec<Vec<f32>>,
    expected: usize,
    dim: usize,
) -> Result<Vec<Vec<f32>>> {
    if vectors.len() != expected {
        return Err(ep.fail(
            op,
            &format!("asked for {expected} embeddings, got {}", vectors.len()),
        ));
    }
    for (i, v) in vectors.iter_mut().enumerate() {
        if v.len() != dim {
            return Err(ep.fail(
                op,
                &format!(
                    "the model returned {}-dimensional vectors but the configured dimension (EMBEDDING_DIM) is {dim}",
                    v.len()
                ),
            ));
        }
        if v.iter().any(|x| !x.is_finite()) {
            return Err(ep.fail(op, &format!("embedding {i} has a non-finite value")));
        }
        normalize(v);
    }
    Ok(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        let v = [1.0f32, -0.5, 3.25];
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let text = base64::engine::general_purpose::STANDARD.encode(bytes);
        assert_eq!(decode_base64_f32(&text).unwrap(), v);
        assert!(decode_base64_f32("AAA=").is_err());
        assert!(decode_base64_f32("not base64!").is_err());
    }

    #[test]
    fn normalizes() {
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, [0.6, 0.8]);
        let mut z = vec![0.0, 0.0];
        normalize(&mut z);
        assert_eq!(z, [0.0, 0.0]);
    }
}
