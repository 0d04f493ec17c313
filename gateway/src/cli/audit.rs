//! `motcua audit …`: the sealed history (docs/ARCHITECTURE.md §10) — check a store or a
//! backup against its signed checkpoints, list the checkpoints, show the public key
//! that checks them.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use motcua_gateway::{
    audit::{checkpoint::Checkpoint, key::AuditKey, parse_hash, store_check},
    migrate::Side,
    settings::Settings,
};

/// The audit subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Check every dossier's sealed history and every checkpoint; exit 1 naming the
    /// first link that does not match.
    Verify {
        /// What to check: sled:DATA_DIR, postgres:CONNECTION-STRING or snapshot:FILE;
        /// the configuration's store by default (a sled store must not be in use).
        #[arg(long)]
        store: Option<Side>,
        /// The gateway's configuration (for its store, password and key file).
        #[arg(long, default_value = super::DEFAULT_CONFIG)]
        config: PathBuf,
        /// The public key to trust (64 hex digits); from the configuration's key file
        /// by default. Give it when the key file is not at hand.
        #[arg(long)]
        public_key: Option<String>,
        /// Checkpoints published outside the store, to compare with its own.
        #[arg(long)]
        published: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the public key that checks the checkpoints (keep it outside the gateway).
    Key {
        /// The gateway's configuration.
        #[arg(long, default_value = super::DEFAULT_CONFIG)]
        config: PathBuf,
    },
}

/// Runs an audit subcommand.
pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Key { config } => {
            let settings = Settings::load(&config)?;
            let key = AuditKey::open(&settings.audit.key_file)?;
            println!("{}", key.public_hex());
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify { store, config, public_key, published, json } => {
            let settings = Settings::load(&config).ok();
            let public = match (&public_key, &settings) {
                (Some(hex), _) => parse_hash(hex.trim()).context("--public-key: 64 hex digits")?,
                (None, Some(s)) => {
                    let key = AuditKey::open(&s.audit.key_file)?;
                    parse_hash(&key.public_hex()).context("the key file's public key")?
                }
                (None, None) => bail!("give --public-key, or a valid --config naming the key file"),
            };
            let published: Vec<Checkpoint> = match &published {
                Some(dir) => store_check::published(dir).with_context(|| format!("{}", dir.display()))?,
                None => Vec::new(),
            };
            let (side, password) = match (store, &settings) {
                (Some(side), s) => {
                    let password =
                        s.as_ref().and_then(|s| s.boot.store.password_env.clone()).and_then(|v| std::env::var(v).ok());
                    (side, password)
                }
                (None, Some(s)) => match s.boot.store.backend {
                    motcua_gateway::store::StoreBackend::Sled => (Side::Sled(s.boot.data_dir.clone()), None),
                    motcua_gateway::store::StoreBackend::Postgres => (
                        Side::Postgres(s.boot.store.url.clone().unwrap_or_default()),
                        s.boot.store.password_env.as_deref().and_then(|v| std::env::var(v).ok()),
                    ),
                },
                (None, None) => bail!("give --store, or a valid --config"),
            };
            let report = match &side {
                Side::Snapshot(file) => {
                    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
                    let entries = motcua_gateway::backup::entries(&bytes)?;
                    store_check::verify_snapshot(&entries, public, &published)?
                }
                other => {
                    let backend = motcua_gateway::migrate::open(other, password.as_deref())?;
                    let report = store_check::verify_backend(backend.as_ref(), public, &published)?;
                    backend.close();
                    report
                }
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                println!(
                    "{} dossiers ({} written before sealing), {} links, {} checkpoints, {} links not yet in a checkpoint",
                    report.dossiers, report.unsealed_dossiers, report.links, report.checkpoints, report.open_links
                );
                for f in &report.findings {
                    println!("NOT MATCHING  {}  {}: {}", f.at, f.link, f.problem);
                }
                if report.passed() {
                    println!("the sealed history matches its checkpoints");
                }
            }
            Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
