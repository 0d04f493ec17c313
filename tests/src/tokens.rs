//! Tokens for the tests: valid ones for the sample's development clients, and the
//! malformed or malicious ones the gateway must refuse.

use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::repo;

/// The audience of the sample configuration.
pub const AUDIENCE: &str = "motcua";

/// A development client of the sample configuration.
#[derive(Debug, Clone)]
pub struct DevClient {
    /// Client id.
    pub id: String,
    /// Its token issuer.
    pub issuer: String,
    /// Its first algorithm.
    pub algorithm: Algorithm,
    /// Its private key (PEM).
    pub key_pem: Vec<u8>,
    /// The `kid` of its JWKS key, if it has one.
    pub kid: Option<String>,
}

/// The development client `id` of the sample configuration.
pub fn dev_client(id: &str) -> DevClient {
    let config: toml::Table = toml::from_str(&crate::repo_file("config/gateway.toml")).expect("the sample parses");
    let client = config["clients"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c.get("id").and_then(toml::Value::as_str) == Some(id)))
        .unwrap_or_else(|| panic!("no client {id} in the sample"));
    let issuer = client["issuer"].as_str().expect("issuer").to_owned();
    let algorithm = client["algorithms"][0].as_str().expect("algorithm").parse().expect("a known algorithm");
    let key_pem = std::fs::read(repo().join("config/dev").join(format!("{id}.key.pem"))).expect("a development key");
    let kid = client.get("jwks_file").map(|f| {
        let jwks: Value =
            serde_json::from_str(&crate::repo_file(&format!("config/{}", f.as_str().expect("path")))).expect("JWKS");
        jwks["keys"][0]["kid"].as_str().expect("kid").to_owned()
    });
    DevClient { id: id.to_owned(), issuer, algorithm, key_pem, kid }
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Signs `claims` with `client`'s key and algorithm.
pub fn sign(client: &DevClient, claims: &Value) -> String {
    let key = match client.algorithm {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&client.key_pem),
        Algorithm::ES256 | Algorithm::ES384 => EncodingKey::from_ec_pem(&client.key_pem),
        _ => EncodingKey::from_rsa_pem(&client.key_pem),
    }
    .expect("a usable development key");
    let mut header = Header::new(client.algorithm);
    header.kid = client.kid.clone();
    jsonwebtoken::encode(&header, claims, &key).expect("signing works")
}

/// The standard claims of `client`, valid for 10 minutes.
pub fn claims(client: &DevClient) -> Value {
    let now = now();
    json!({ "iss": client.issuer, "sub": client.id, "aud": AUDIENCE, "iat": now, "exp": now + 600 })
}

/// A valid token of the development client `id`.
pub fn token(id: &str) -> String {
    let client = dev_client(id);
    sign(&client, &claims(&client))
}

/// A token of `id` with `edit` applied to its claims.
pub fn token_with(id: &str, edit: impl FnOnce(&mut Value)) -> String {
    let client = dev_client(id);
    let mut claims = claims(&client);
    edit(&mut claims);
    sign(&client, &claims)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with a hand-made header and payload and the given signature bytes.
pub fn raw_token(header: &Value, payload: &Value, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header.to_string().as_bytes()), b64(payload.to_string().as_bytes()), b64(signature))
}

/// An HS256 token whose HMAC key is `secret` (for the "HMAC with a public key" attack).
pub fn hs256_token(payload: &Value, secret: &[u8]) -> String {
    let header = Header::new(Algorithm::HS256);
    jsonwebtoken::encode(&header, payload, &EncodingKey::from_secret(secret)).expect("HMAC signing works")
}
