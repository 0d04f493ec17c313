//! Signed, expiring links to the files the gateway stores (docs/PORTAL.md, "Files the
//! portal fetches"): `{public_url}/v1/files/{sha256}?exp={unix seconds}&sig={tag}`,
//! the tag an HMAC-SHA256 under a configured key of the file's hash and the expiry.
//! Whoever holds a link may fetch that one file until it expires, with no token; a
//! link cannot be altered to name another file or a later expiry, and nothing lists
//! the files.

use base64::Engine;
use ring::hmac;

/// How the gateway signs and checks its file links.
pub struct FileLinks {
    key: hmac::Key,
    public_url: String,
    ttl_secs: i64,
}

impl std::fmt::Debug for FileLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of debug output.
        f.debug_struct("FileLinks").field("public_url", &self.public_url).field("ttl_secs", &self.ttl_secs).finish()
    }
}

/// Why a link is not honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkRefused {
    /// Its time has passed.
    Expired,
    /// It is not a link the gateway signed (altered, or under another key).
    NotSigned,
}

fn message(sha256: &str, exp: i64) -> String {
    format!("motcua-file|{sha256}|{exp}")
}

impl FileLinks {
    /// Links under `public_url` (the gateway's address as the peers reach it), signed
    /// with `key` and valid `ttl_secs` from when they are made.
    pub fn new(key: &[u8], public_url: &str, ttl_secs: i64) -> FileLinks {
        FileLinks {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            public_url: public_url.trim_end_matches('/').to_owned(),
            ttl_secs,
        }
    }

    /// A link to the stored file of hash `sha256` (lower-case hex), made at `now`.
    pub fn link(&self, sha256: &str, now: i64) -> String {
        let exp = now.saturating_add(self.ttl_secs);
        let tag = hmac::sign(&self.key, message(sha256, exp).as_bytes());
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref());
        format!("{}/v1/files/{sha256}?exp={exp}&sig={sig}", self.public_url)
    }

    /// Whether a request for `sha256` with `exp` and `sig` is honoured at `now`. The
    /// signature is checked first (in constant time), so an altered link learns nothing
    /// about the files; an expiry further away than a link is ever given is refused too.
    pub fn check(&self, sha256: &str, exp: i64, sig: &str, now: i64) -> Result<(), LinkRefused> {
        let tag = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(sig).map_err(|_| LinkRefused::NotSigned)?;
        hmac::verify(&self.key, message(sha256, exp).as_bytes(), &tag).map_err(|_| LinkRefused::NotSigned)?;
        if exp <= now || exp > now.saturating_add(self.ttl_secs) {
            return Err(LinkRefused::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    fn parts(link: &str) -> (String, i64, String) {
        let (path, query) = link.split_once('?').unwrap();
        let sha = path.rsplit('/').next().unwrap().to_owned();
        let mut exp = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=').unwrap() {
                ("exp", v) => exp = v.parse().unwrap(),
                ("sig", v) => sig = v.to_owned(),
                _ => {}
            }
        }
        (sha, exp, sig)
    }

    #[test]
    fn a_link_opens_its_file_until_it_expires_and_cannot_be_altered() {
        let links = FileLinks::new(&[7u8; 32], "https://motcua.example.vn/", 600);
        let link = links.link(SHA, 1_000_000);
        assert!(link.starts_with(&format!("https://motcua.example.vn/v1/files/{SHA}?exp=1000600&sig=")), "{link}");
        let (sha, exp, sig) = parts(&link);
        assert_eq!(links.check(&sha, exp, &sig, 1_000_000), Ok(()));
        assert_eq!(links.check(&sha, exp, &sig, 1_000_599), Ok(()));
        assert_eq!(links.check(&sha, exp, &sig, 1_000_600), Err(LinkRefused::Expired));
        // Another file, a later expiry, a changed tag, another key.
        let other = SHA.replace('9', "8");
        assert_eq!(links.check(&other, exp, &sig, 1_000_000), Err(LinkRefused::NotSigned));
        assert_eq!(links.check(&sha, exp + 1, &sig, 1_000_000), Err(LinkRefused::NotSigned));
        assert_eq!(links.check(&sha, exp, &sig.replace(&sig[..2], "AA"), 1_000_000), Err(LinkRefused::NotSigned));
        assert_eq!(links.check(&sha, exp, "not base64!", 1_000_000), Err(LinkRefused::NotSigned));
        let rotated = FileLinks::new(&[8u8; 32], "https://motcua.example.vn", 600);
        assert_eq!(rotated.check(&sha, exp, &sig, 1_000_000), Err(LinkRefused::NotSigned));
        // A signed expiry further than any link is given (a longer time before a reload).
        let long = FileLinks::new(&[7u8; 32], "https://motcua.example.vn", 6_000);
        let (_, far, far_sig) = parts(&long.link(SHA, 1_000_000));
        assert_eq!(links.check(SHA, far, &far_sig, 1_000_000), Err(LinkRefused::Expired));
    }
}
