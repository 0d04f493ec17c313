//! Minting tokens: the gateway's own outbound tokens and development tokens for
//! configured clients.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};

/// The registered claims every token of this contract carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject.
    pub sub: String,
    /// Audience.
    pub aud: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Expires at (seconds since the epoch).
    pub exp: i64,
}

impl Claims {
    /// Claims issued now (the system's clock: for the command line), valid for `ttl_secs`.
    pub fn new(iss: &str, sub: &str, aud: &str, ttl_secs: i64) -> Claims {
        Claims::issued_at(iss, sub, aud, jiff::Timestamp::now().as_second(), ttl_secs)
    }

    /// Claims issued at `now` (seconds since the epoch), valid for `ttl_secs`.
    pub fn issued_at(iss: &str, sub: &str, aud: &str, now: i64, ttl_secs: i64) -> Claims {
        Claims {
            iss: iss.to_owned(),
            sub: sub.to_owned(),
            aud: aud.to_owned(),
            iat: now,
            exp: now.saturating_add(ttl_secs),
        }
    }
}

/// Signs `claims` with `key` under `algorithm`, naming `kid` in the header if given.
pub fn mint(
    claims: &Claims,
    key: &EncodingKey,
    algorithm: Algorithm,
    kid: Option<&str>,
) -> Result<String, jsonwebtoken::errors::Error> {
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, key)
}
