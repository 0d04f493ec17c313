//! `motcua token`: mint a development token for a configured client.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use motcua_gateway::{
    auth::{
        clients::KeySource,
        keys,
        tokens::{Claims, mint},
    },
    settings::Settings,
};

/// Prints a token for `client_id`, signed with its development key.
pub fn run(config: &Path, client_id: &str, ttl: i64, key: Option<&Path>) -> anyhow::Result<()> {
    if !(1..=3600).contains(&ttl) {
        bail!("--ttl must be between 1 and 3600 seconds (the gateway refuses longer tokens)");
    }
    let settings = Settings::load(config)?;
    let client = settings
        .clients
        .by_id(client_id)
        .with_context(|| format!("no client {client_id:?} in {}", config.display()))?;
    let algorithm = *client.algorithms.first().context("the client has no algorithm")?;
    let kid = client.keys.first().and_then(|k| k.kid.clone());
    let encoding = match &client.source {
        KeySource::SecretEnv(var) => {
            let secret = std::env::var(var).with_context(|| format!("${var} is not set"))?;
            jsonwebtoken::EncodingKey::from_secret(secret.as_bytes())
        }
        _ => {
            let base = config.parent().unwrap_or(Path::new("."));
            let path: PathBuf =
                key.map(Path::to_owned).unwrap_or_else(|| base.join("dev").join(format!("{client_id}.key.pem")));
            keys::load_private_pem(&path, algorithm)?
        }
    };
    let claims = Claims::new(&client.issuer, &client.id, &settings.gateway.audience, ttl);
    println!("{}", mint(&claims, &encoding, algorithm, kid.as_deref())?);
    Ok(())
}
