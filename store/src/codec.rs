//! How values are encoded in the store: JSON, and for large values (dossier records)
//! JSON compressed with zstd against a fixed dictionary. LZ4-compressed JSON, as
//! stores written before the dictionary hold it, is still read (docs/ARCHITECTURE.md §3).

use std::cell::RefCell;
use std::sync::LazyLock;

use serde::{Serialize, de::DeserializeOwned};
use zstd::bulk::{Compressor, Decompressor};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use super::{Key, StoreError};

/// Marks a value stored as LZ4-compressed JSON (plain JSON starts with `{`, `[` or `"`).
const LZ4_JSON: u8 = 0x04;

/// Marks a value stored as zstd-compressed JSON against `RECORDS_1`.
const ZSTD_RECORDS_1: u8 = 0x05;

/// The dictionary of `ZSTD_RECORDS_1`: the skeleton of a dossier record — its field
/// names and the gateway's own fixed texts, every value of a dossier blanked. Stored
/// values depend on these exact bytes, so it never changes: a better dictionary
/// comes with a tag of its own.
const RECORDS_1: &[u8] = include_bytes!("../dictionaries/records-1.json");

/// zstd's fastest level: the writer compresses every record it saves.
const LEVEL: i32 = 1;

/// The largest JSON a compressed value may claim to expand to (a record is far
/// smaller), so that a corrupt value cannot make a reader allocate without bound.
const MAX_JSON_BYTES: usize = 16 * 1024 * 1024;

/// What a fresh dossier record's JSON takes, about.
const RECORD_JSON_BYTES: usize = 8 * 1024;

static ENCODER_DICTIONARY: LazyLock<EncoderDictionary<'static>> =
    LazyLock::new(|| EncoderDictionary::copy(RECORDS_1, LEVEL));
static DECODER_DICTIONARY: LazyLock<DecoderDictionary<'static>> = LazyLock::new(|| DecoderDictionary::copy(RECORDS_1));

thread_local! {
    // A context per thread, made once: zstd's contexts are large to set up.
    static COMPRESSOR: RefCell<Option<Compressor<'static>>> =
        RefCell::new(Compressor::with_prepared_dictionary(&ENCODER_DICTIONARY).ok());
    static DECOMPRESSOR: RefCell<Option<Decompressor<'static>>> =
        RefCell::new(Decompressor::with_prepared_dictionary(&DECODER_DICTIONARY).ok());
}

/// Encodes a stored value as JSON.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))
}

/// Encodes a large stored value as compressed JSON: a dossier record shrinks to about a
/// third (zstd against the record dictionary; LZ4 only if no zstd context can be
/// made), and sled, which copies a whole leaf on every change, copies and writes that
/// much less.
pub fn encode_compressed<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    Ok(compress_json(&encode_record_json(value)?))
}

/// The JSON of a large stored value, to be given to [`compress_json`] (a caller that
/// also reads the JSON itself encodes it once this way).
pub fn encode_record_json<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    // Room for a whole dossier record at once, rather than growing through doublings.
    let mut json = Vec::with_capacity(RECORD_JSON_BYTES);
    serde_json::to_writer(&mut json, value).map_err(|e| StoreError::Corrupt(format!("cannot encode: {e}")))?;
    Ok(json)
}

/// The stored form of a large value's JSON, as [`encode_compressed`] makes it.
pub fn compress_json(json: &[u8]) -> Vec<u8> {
    let compressed = COMPRESSOR.with_borrow_mut(|compressor| {
        let compressor = compressor.as_mut()?;
        let mut out = vec![0u8; 1 + zstd::zstd_safe::compress_bound(json.len())];
        out[0] = ZSTD_RECORDS_1;
        let written = compressor.compress_to_buffer(json, &mut out[1..]).ok()?;
        out.truncate(1 + written);
        Some(out)
    });
    compressed.unwrap_or_else(|| {
        let mut out = Vec::with_capacity(json.len() / 2 + 8);
        out.push(LZ4_JSON);
        out.extend_from_slice(&lz4_flex::compress_prepend_size(json));
        out
    })
}

/// Decodes a stored value (plain or compressed JSON), naming the key if it is corrupt.
pub fn decode<T: DeserializeOwned>(key: &Key, bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt =
        |e: &dyn std::fmt::Display| StoreError::Corrupt(format!("{:?}: {e}", String::from_utf8_lossy(key.full())));
    match bytes.split_first() {
        Some((&ZSTD_RECORDS_1, frame)) => {
            let json = decompress(frame).map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        Some((&LZ4_JSON, rest)) => {
            let json = lz4_flex::decompress_size_prepended(rest).map_err(|e| corrupt(&e))?;
            serde_json::from_slice(&json).map_err(|e| corrupt(&e))
        }
        _ => serde_json::from_slice(bytes).map_err(|e| corrupt(&e)),
    }
}

/// The JSON of a zstd frame made against the record dictionary.
fn decompress(frame: &[u8]) -> Result<Vec<u8>, String> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) => usize::try_from(size).ok().filter(|&s| s <= MAX_JSON_BYTES),
        _ => None,
    }
    .ok_or("a compressed value without a size within bounds")?;
    DECOMPRESSOR.with_borrow_mut(|decompressor| {
        let decompressor = decompressor.as_mut().ok_or("no zstd context")?;
        decompressor.decompress(frame, size).map_err(|e| e.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        crate::keys::dossier("000.00.15.H01-261201-0001")
    }

    #[test]
    fn a_record_comes_back_as_it_went_in_and_smaller_than_its_json() {
        let value = serde_json::json!({
            "dossier": {"code": "000.00.15.H01-261201-0001", "channel": "portal", "history": [
                {"seq": 1, "type": "intake", "note": "Tiếp nhận hồ sơ nộp trực tuyến qua Cổng dịch vụ công"}
            ]},
            "fingerprint": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        });
        let bytes = encode_compressed(&value).unwrap();
        assert_eq!(bytes[0], ZSTD_RECORDS_1);
        assert!(bytes.len() < encode(&value).unwrap().len());
        assert_eq!(decode::<serde_json::Value>(&key(), &bytes).unwrap(), value);
    }

    #[test]
    fn the_record_dictionary_is_the_one_stored_values_were_made_with() {
        // Records written with tag 0x05 decode only against these exact bytes: a new
        // dictionary needs a new tag, never an edit of this one.
        let digest = ring::digest::digest(&ring::digest::SHA256, RECORDS_1);
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "90a41d665808dd5b854c39c6a239ccacdb242cf4344d7a86fc45dc9487d1f6d0");
    }

    #[test]
    fn values_written_before_the_dictionary_are_still_read() {
        let value = serde_json::json!({"dossier": {"code": "000.00.15.H01-261201-0001"}});
        let json = encode(&value).unwrap();
        let mut lz4 = vec![LZ4_JSON];
        lz4.extend_from_slice(&lz4_flex::compress_prepend_size(&json));
        assert_eq!(decode::<serde_json::Value>(&key(), &lz4).unwrap(), value);
        assert_eq!(decode::<serde_json::Value>(&key(), &json).unwrap(), value);
    }

    #[test]
    fn a_corrupt_or_oversized_value_is_an_error_naming_its_key() {
        let value = serde_json::json!({"a": "b".repeat(1000)});
        let mut bytes = encode_compressed(&value).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        bytes.truncate(last - 3);
        let e = decode::<serde_json::Value>(&key(), &bytes).unwrap_err();
        assert!(e.to_string().contains("261201-0001"), "{e}");
        // A frame claiming a size beyond the bound is refused before anything is allocated.
        let huge = zstd::bulk::compress(&vec![b' '; MAX_JSON_BYTES + 1], 1).unwrap();
        let mut claimed = vec![ZSTD_RECORDS_1];
        claimed.extend_from_slice(&huge);
        assert!(decode::<serde_json::Value>(&key(), &claimed).is_err());
        assert!(decode::<serde_json::Value>(&key(), &[ZSTD_RECORDS_1]).is_err());
    }
}
