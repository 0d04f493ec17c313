//! The configured callers: role, desk, issuer, keys, pinned algorithms, mutual TLS
//! requirement and rate limit (docs/CONTRACT.md §1).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::Arc,
};

use jsonwebtoken::{Algorithm, AlgorithmFamily};

use super::keys::{self, VerifyKey};
use crate::config::{
    Problems,
    file::{ClientSection, RateSection, Role},
};
use crate::network::Network;

/// Where a client's verification keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A PEM public key file.
    Pem(PathBuf),
    /// A JWKS file.
    Jwks(PathBuf),
    /// An HMAC secret in this environment variable.
    SecretEnv(String),
    /// No tokens: the client authenticates with HTTP Basic only.
    BasicOnly,
}

/// The client certificate a client must present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtlsRule {
    /// Required subject (RFC 4514 form, as x509 shows it).
    pub subject: Option<String>,
    /// Required SHA-256 fingerprint, lower-case hex without separators.
    pub sha256: Option<String>,
}

/// A configured caller.
#[derive(Debug, Clone)]
pub struct Client {
    /// Its id.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// The desk a desk client acts for.
    pub desk: Option<String>,
    /// The `iss` of its tokens.
    pub issuer: String,
    /// Where its keys come from.
    pub source: KeySource,
    /// Its verification keys.
    pub keys: Vec<VerifyKey>,
    /// Algorithms its tokens may use.
    pub algorithms: Vec<Algorithm>,
    /// A client certificate it must present.
    pub mtls: Option<MtlsRule>,
    /// Its rate limit.
    pub rate: RateSection,
    /// The Argon2id hash of its HTTP Basic password.
    pub basic_hash: Option<String>,
}

/// All clients, by issuer and by id.
#[derive(Debug, Clone, Default)]
pub struct Clients {
    by_issuer: HashMap<String, Arc<Client>>,
    by_id: HashMap<String, Arc<Client>>,
}

fn parse_algorithms(
    at: &str,
    names: &[String],
    family: Option<AlgorithmFamily>,
    problems: &mut Problems,
) -> Vec<Algorithm> {
    if names.is_empty() {
        problems.add(format!("{at}.algorithms"), "name at least one algorithm");
    }
    let mut out = Vec::new();
    for (j, name) in names.iter().enumerate() {
        let path = format!("{at}.algorithms[{j}]");
        let Ok(alg) = name.parse::<Algorithm>() else {
            problems.add(path, format!("{name:?} is not an accepted algorithm (\"none\" never is)"));
            continue;
        };
        match family {
            Some(AlgorithmFamily::Hmac) if alg.family() != AlgorithmFamily::Hmac => {
                problems.add(path, format!("{name} needs a public key, but this client has an HMAC secret"))
            }
            Some(f) if f != AlgorithmFamily::Hmac && alg.family() == AlgorithmFamily::Hmac => {
                problems.add(path, format!("{name} is an HMAC algorithm; a client with a public key never accepts one"))
            }
            Some(f) if alg.family() != f => problems.add(path, format!("{name} does not fit this client's {f:?} key")),
            _ => out.push(alg),
        }
    }
    out
}

fn normalize_fingerprint(text: &str) -> Option<String> {
    let hex: String = text.chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

impl Clients {
    /// Builds the clients, loading their keys, and adds every problem to `problems`.
    pub fn build(
        sections: &[ClientSection],
        base: &Path,
        network: &Network,
        gateway_issuer: &str,
        has_client_ca: bool,
        problems: &mut Problems,
    ) -> Clients {
        let mut clients = Clients::default();
        for (i, c) in sections.iter().enumerate() {
            let at = format!("clients[{i}] ({})", c.id);
            if c.id.trim().is_empty() {
                problems.add(format!("{at}.id"), "must not be empty");
            }
            match (c.role, &c.desk) {
                (Role::Desk, None) => problems.add(format!("{at}.desk"), "a desk client names the desk it acts for"),
                (Role::Desk, Some(desk)) if network.desk(desk).is_none() => {
                    problems.add(format!("{at}.desk"), format!("desk {desk:?} is not configured"))
                }
                (role, Some(_)) if role != Role::Desk => {
                    problems.add(format!("{at}.desk"), "only desk clients act for a desk")
                }
                _ => {}
            }
            if c.issuer.trim().is_empty() || c.issuer == gateway_issuer {
                problems.add(format!("{at}.issuer"), "must be non-empty and differ from the gateway's own issuer");
            }
            if let Some(hash) = &c.basic_hash
                && !hash.starts_with("$argon2id$")
            {
                problems.add(format!("{at}.basic_hash"), "must be an Argon2id hash (motcua hash-secret writes one)");
            }
            let source = match (&c.key_file, &c.jwks_file, &c.secret_env) {
                (Some(f), None, None) => Some(KeySource::Pem(crate::config::resolve(base, f))),
                (None, Some(f), None) => Some(KeySource::Jwks(crate::config::resolve(base, f))),
                (None, None, Some(v)) => Some(KeySource::SecretEnv(v.clone())),
                (None, None, None) if c.basic_hash.is_some() => Some(KeySource::BasicOnly),
                _ => {
                    problems
                        .add(at.clone(), "give exactly one of key_file, jwks_file or secret_env (or only basic_hash)");
                    None
                }
            };
            let keys = match &source {
                Some(KeySource::Pem(p)) => keys::load_public_pem(p).map(|k| vec![k]),
                Some(KeySource::Jwks(p)) => keys::load_jwks(p),
                Some(KeySource::SecretEnv(v)) => keys::load_hmac_secret(v).map(|k| vec![k]),
                Some(KeySource::BasicOnly) | None => Ok(Vec::new()),
            }
            .unwrap_or_else(|e| {
                let key = match &source {
                    Some(KeySource::Jwks(_)) => "jwks_file",
                    Some(KeySource::SecretEnv(_)) => "secret_env",
                    _ => "key_file",
                };
                problems.add(format!("{at}.{key}"), e);
                Vec::new()
            });
            let family = keys.first().map(|k| k.family);
            if keys.iter().any(|k| Some(k.family) != family) {
                problems.add(format!("{at}.jwks_file"), "all keys of a client must be of one family");
            }
            let algorithms = if source == Some(KeySource::BasicOnly) {
                Vec::new()
            } else {
                parse_algorithms(&at, &c.algorithms, family, problems)
            };
            let mtls = c.mtls.as_ref().and_then(|m| {
                if !has_client_ca {
                    problems.add(format!("{at}.mtls"), "mutual TLS needs [gateway] client_ca_file");
                }
                let sha256 = match &m.sha256 {
                    Some(f) => match normalize_fingerprint(f) {
                        Some(hex) => Some(hex),
                        None => {
                            problems.add(format!("{at}.mtls.sha256"), "expected 64 hex digits (colons allowed)");
                            return None;
                        }
                    },
                    None => None,
                };
                if m.subject.is_none() && sha256.is_none() {
                    problems.add(format!("{at}.mtls"), "give a subject, a sha256 fingerprint, or both");
                    return None;
                }
                Some(MtlsRule { subject: m.subject.clone(), sha256 })
            });
            if c.rate.per_second == 0 || c.rate.burst == 0 {
                problems.add(format!("{at}.rate"), "per_second and burst must be at least 1");
            }
            let Some(source) = source else { continue };
            let client = Arc::new(Client {
                id: c.id.clone(),
                role: c.role,
                desk: c.desk.clone(),
                issuer: c.issuer.clone(),
                source,
                keys,
                algorithms,
                mtls,
                rate: c.rate,
                basic_hash: c.basic_hash.clone(),
            });
            if clients.by_issuer.insert(c.issuer.clone(), client.clone()).is_some() {
                problems.add(format!("{at}.issuer"), format!("issuer {:?} is used by another client", c.issuer));
            }
            if clients.by_id.insert(c.id.clone(), client).is_some() {
                problems.add(format!("{at}.id"), format!("client {:?} is configured twice", c.id));
            }
        }
        clients
    }

    /// The client whose tokens carry this issuer.
    pub fn by_issuer(&self, issuer: &str) -> Option<&Arc<Client>> {
        self.by_issuer.get(issuer)
    }

    /// The client with this id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<Client>> {
        self.by_id.get(id)
    }

    /// All clients.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Client>> {
        self.by_id.values()
    }

    /// Number of clients.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// True when no client is configured.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_normalized() {
        let colon = "AB:".repeat(31) + "AB";
        assert_eq!(normalize_fingerprint(&colon), Some("ab".repeat(32)));
        assert_eq!(normalize_fingerprint("abc"), None);
    }

    #[test]
    fn algorithms_must_fit_the_key() {
        let mut problems = Problems::default();
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_algorithms("c", &names(&["EdDSA"]), Some(AlgorithmFamily::Ed), &mut problems),
            vec![Algorithm::EdDSA]
        );
        assert!(problems.is_empty());
        parse_algorithms("c", &names(&["HS256", "none", "ES256"]), Some(AlgorithmFamily::Ed), &mut problems);
        parse_algorithms("h", &names(&["RS256"]), Some(AlgorithmFamily::Hmac), &mut problems);
        let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, vec!["c.algorithms[0]", "c.algorithms[1]", "c.algorithms[2]", "h.algorithms[0]"]);
    }
}
