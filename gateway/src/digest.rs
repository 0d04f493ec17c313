//! SHA-256 over a value's JSON, written straight into the digest: the fingerprint of a
//! submission and the hash of a sealed link are taken on the request path, where
//! building the JSON first only to hash it cost an allocation and a copy each time.
//! Digests are shown in lower-case hex (`hex`).

use ring::digest::{Context, Digest, SHA256};
use serde::Serialize;

/// A SHA-256 context that JSON can be written into.
pub struct Sha256Json(Context);

impl Sha256Json {
    /// A context that starts with `prefix`.
    pub fn new(prefix: &[u8]) -> Sha256Json {
        let mut context = Context::new(&SHA256);
        context.update(prefix);
        Sha256Json(context)
    }

    /// Adds raw bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Adds `value` as `serde_json::to_vec` would write it.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut *self, value)
    }

    /// The digest.
    pub fn finish(self) -> Digest {
        self.0.finish()
    }
}

impl std::io::Write for Sha256Json {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_of_written_json_is_that_of_the_json_built_first() {
        let value = serde_json::json!({ "tên": "Nguyễn Văn A", "số": [1, 2, 3], "ghi_chú": "dòng\n\"trích\"" });
        let mut written = Sha256Json::new(b"prefix\0");
        written.json(&value).unwrap();
        let built = ring::digest::digest(&SHA256, &[&b"prefix\0"[..], &serde_json::to_vec(&value).unwrap()].concat());
        assert_eq!(written.finish().as_ref(), built.as_ref());
    }
}
