//! SHA-256 over a value's JSON, written straight into the digest: the fingerprint of a
//! submission and the hash of a sealed link are taken on the request path, where
//! building the JSON first only to hash it cost an allocation and a copy each time.
//! serde_json writes a value in many small pieces (a quote, a key, a comma), and each
//! update of the digest has a cost of its own, so the pieces are gathered in a small
//! buffer first. Digests are shown in lower-case hex (`hex`).

use ring::digest::{Context, Digest, SHA256};
use serde::Serialize;

/// Bytes gathered before they are given to the digest.
const GATHER: usize = 1024;

/// A SHA-256 context that JSON can be written into.
pub struct Sha256Json {
    context: Context,
    gathered: [u8; GATHER],
    len: usize,
}

impl Sha256Json {
    /// A context that starts with `prefix`.
    pub fn new(prefix: &[u8]) -> Sha256Json {
        let mut context = Sha256Json { context: Context::new(&SHA256), gathered: [0; GATHER], len: 0 };
        context.update(prefix);
        context
    }

    /// Adds raw bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        if self.len + bytes.len() > GATHER {
            self.context.update(&self.gathered[..self.len]);
            self.len = 0;
        }
        if bytes.len() >= GATHER {
            self.context.update(bytes);
        } else {
            self.gathered[self.len..self.len + bytes.len()].copy_from_slice(bytes);
            self.len += bytes.len();
        }
    }

    /// Adds `value` as `serde_json::to_vec` would write it.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        serde_json::to_writer(&mut *self, value)
    }

    /// The digest.
    pub fn finish(mut self) -> Digest {
        self.context.update(&self.gathered[..self.len]);
        self.context.finish()
    }
}

impl std::io::Write for Sha256Json {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.update(bytes);
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

    #[test]
    fn pieces_of_every_size_around_the_gathering_buffer_give_the_digest_of_the_whole() {
        let bytes: Vec<u8> = (0..5 * GATHER).map(|i| (i * 7 % 251) as u8).collect();
        for piece in [1, 3, GATHER - 1, GATHER, GATHER + 1, 2 * GATHER + 5] {
            let mut gathered = Sha256Json::new(b"p");
            for chunk in bytes.chunks(piece) {
                gathered.update(chunk);
            }
            let whole = ring::digest::digest(&SHA256, &[&b"p"[..], &bytes].concat());
            assert_eq!(gathered.finish().as_ref(), whole.as_ref(), "pieces of {piece}");
        }
    }
}
