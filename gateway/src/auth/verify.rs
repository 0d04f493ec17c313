//! Verifying a bearer token against the configured clients (docs/CONTRACT.md §1).
//!
//! The token's `iss` picks the client; only that client's keys and pinned
//! algorithms can verify it, so `none`, HMAC-with-a-public-key and keys of another
//! client (`kid` or not) cannot succeed. `crit` headers are refused; `jku`, `x5u` and
//! `jwk` headers are ignored and never fetched. `iss`, `aud`, `exp`, `iat` and `sub`
//! are required, the lifetime is at most one hour and the clock leeway 30 seconds.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::Engine as _;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;

use super::clients::{Client, Clients};

/// Clock leeway allowed on `exp` and `iat`, in seconds.
pub const LEEWAY_SECS: i64 = 30;
/// Longest token lifetime accepted (`exp − iat`), in seconds.
pub const MAX_LIFETIME_SECS: i64 = 3600;
/// Longest token accepted, in bytes.
const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Why a token was refused. The reason is for logs and the `error_description`;
/// it never repeats the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

fn refuse(reason: impl Into<String>) -> TokenError {
    TokenError(reason.into())
}

/// A verified token.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The client it belongs to.
    pub client: Arc<Client>,
    /// Its `sub`.
    pub subject: String,
    /// Its `exp` (seconds since the epoch).
    pub expires_at: i64,
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TimeClaims {
    iat: Option<serde_json::Value>,
    exp: i64,
    nbf: Option<serde_json::Value>,
    sub: String,
}

fn whole_seconds(value: Option<serde_json::Value>, name: &str) -> Result<Option<i64>, TokenError> {
    match value {
        None => Ok(None),
        Some(serde_json::Value::Number(n)) => {
            n.as_i64().map(Some).ok_or_else(|| refuse(format!("{name} is not a whole number of seconds")))
        }
        Some(_) => Err(refuse(format!("{name} is not a number"))),
    }
}

/// Checks `iat`, `exp` and `nbf` against each other and `now` in checked arithmetic:
/// a token is issued no later than now (plus leeway) and no earlier than its longest
/// lifetime ago, expires after it was issued and within the longest lifetime, and
/// becomes valid between its issue and its expiry.
fn check_times(iat: i64, exp: i64, nbf: Option<i64>, now: i64) -> Result<(), TokenError> {
    let absurd = || refuse("the token's times are out of range");
    let latest_issue = now.checked_add(LEEWAY_SECS).ok_or_else(absurd)?;
    let earliest_issue = now.checked_sub(MAX_LIFETIME_SECS + LEEWAY_SECS).ok_or_else(absurd)?;
    if iat > latest_issue {
        return Err(refuse("the token was issued in the future"));
    }
    if iat < earliest_issue {
        return Err(refuse("the token was issued too long ago"));
    }
    match exp.checked_sub(iat) {
        Some(lifetime) if lifetime <= 0 => Err(refuse("the token expires before it was issued")),
        Some(lifetime) if lifetime <= MAX_LIFETIME_SECS => match nbf {
            Some(nbf) if nbf < iat.saturating_sub(LEEWAY_SECS) || nbf > exp => {
                Err(refuse("the token's nbf lies outside its lifetime"))
            }
            _ => Ok(()),
        },
        Some(_) => Err(refuse("the token lives longer than one hour")),
        None => Err(absurd()),
    }
}

fn decode_segment<T: for<'de> Deserialize<'de>>(segment: &str, what: &str) -> Result<T, TokenError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| refuse(format!("the token's {what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| refuse(format!("the token's {what} is not the expected JSON")))
}

/// Verifies `token` as of `now` (seconds since the epoch).
pub fn verify(token: &str, clients: &Clients, audience: &str, now: i64) -> Result<Verified, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refuse("the token is too long"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(refuse("the token is not a signed JWT"));
    };
    let header: RawHeader = decode_segment(header, "header")?;
    if header.crit.is_some() {
        return Err(refuse("tokens with a crit header are not accepted"));
    }
    let algorithm: Algorithm =
        header.alg.parse().map_err(|_| refuse(format!("algorithm {:?} is not accepted", header.alg)))?;
    let issuer = match decode_segment::<IssuerOnly>(payload, "payload")?.iss {
        Some(serde_json::Value::String(iss)) => iss,
        _ => return Err(refuse("the token has no iss")),
    };
    let client = clients.by_issuer(&issuer).ok_or_else(|| refuse("the issuer is not a configured client"))?;
    if !client.algorithms.contains(&algorithm) {
        return Err(refuse(format!("client {} does not use {algorithm:?}", client.id)));
    }
    let candidates: Vec<_> = client
        .keys
        .iter()
        .filter(|k| k.family == algorithm.family())
        .filter(|k| match (&header.kid, &k.kid) {
            (Some(wanted), Some(have)) => wanted == have,
            _ => true,
        })
        .collect();
    if candidates.is_empty() {
        return Err(refuse("no key of this client matches the token"));
    }

    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.leeway = LEEWAY_SECS as u64;
    validation.set_audience(&[audience]);
    validation.set_issuer(&[client.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
    validation.validate_nbf = true;

    let mut last = refuse("the signature does not verify");
    for key in candidates {
        match jsonwebtoken::decode::<TimeClaims>(token, &key.key, &validation) {
            Ok(data) => {
                let claims = data.claims;
                let iat = whole_seconds(claims.iat, "iat")?.ok_or_else(|| refuse("the token has no iat"))?;
                let nbf = whole_seconds(claims.nbf, "nbf")?;
                check_times(iat, claims.exp, nbf, now)?;
                if claims.sub.is_empty() {
                    return Err(refuse("the token's sub is empty"));
                }
                return Ok(Verified { client: client.clone(), subject: claims.sub, expires_at: claims.exp });
            }
            Err(e) => {
                use jsonwebtoken::errors::ErrorKind as K;
                last = refuse(match e.kind() {
                    K::ExpiredSignature => "the token has expired".to_owned(),
                    K::InvalidAudience => "the token's aud does not name this gateway".to_owned(),
                    K::InvalidIssuer => "the token's iss does not match".to_owned(),
                    K::ImmatureSignature => "the token is not valid yet".to_owned(),
                    K::MissingRequiredClaim(c) => format!("the token has no {c}"),
                    K::InvalidSignature => "the signature does not verify".to_owned(),
                    _ => "the token is not valid".to_owned(),
                });
                if !matches!(e.kind(), K::InvalidSignature) {
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

/// Tokens already verified, so that a client reusing its token for many requests
/// pays for the signature check once. Expiry is still checked on every use; the
/// cache belongs to one set of clients and keys and is replaced with them on reload.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, Verified>>,
}

/// Most tokens remembered; the cache starts over when it is full.
const CACHE_CAPACITY: usize = 10_000;

impl TokenCache {
    /// Verifies `token`, or finds it verified before and still unexpired.
    pub fn verify(&self, token: &str, clients: &Clients, audience: &str, now: i64) -> Result<Verified, TokenError> {
        if let Ok(entries) = self.entries.lock()
            && let Some(hit) = entries.get(token)
            && now <= hit.expires_at.saturating_add(LEEWAY_SECS)
            // Only while the client that verified it is the one in force: a reload
            // creates new clients, so tokens of removed keys stop working at once.
            && clients.by_issuer(&hit.client.issuer).is_some_and(|c| Arc::ptr_eq(c, &hit.client))
        {
            return Ok(hit.clone());
        }
        let verified = verify(token, clients, audience, now)?;
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CACHE_CAPACITY {
                entries.retain(|_, v| now <= v.expires_at.saturating_add(LEEWAY_SECS));
                if entries.len() >= CACHE_CAPACITY {
                    entries.clear();
                }
            }
            entries.insert(token.to_owned(), verified.clone());
        }
        Ok(verified)
    }
}
