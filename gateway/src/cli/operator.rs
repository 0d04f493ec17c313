//! `motcua operator add`: writes an operator of the web pages, with an Argon2id hash
//! of the password read on standard input, into an operators file readable by its
//! owner only; `motcua operator unlock`: forgives an operator's failed logins on a
//! running gateway.

use std::{io::Write, os::unix::fs::OpenOptionsExt, path::PathBuf};

use anyhow::{Context, bail};

/// What `motcua operator` does.
#[derive(Debug, clap::Subcommand)]
pub enum OperatorCommand {
    /// Add an operator (the password is read on standard input).
    Add {
        /// The operators file (`[ui] operators_file`); created if missing.
        #[arg(long)]
        file: PathBuf,
        /// The login name.
        #[arg(long)]
        name: String,
        /// `centre`, `commune` or `auditor`.
        #[arg(long)]
        role: String,
        /// The unit of a commune's staff.
        #[arg(long)]
        unit: Option<String>,
        /// The name shown in the pages.
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Forgive an operator's failed logins on a running gateway (every node), so that
    /// it may log in from any address again.
    Unlock {
        /// The login name.
        #[arg(long)]
        name: String,
        /// How to reach the gateway.
        #[command(flatten)]
        connection: super::admin::Connection,
    },
}

fn quoted(text: &str) -> String {
    toml::Value::String(text.to_owned()).to_string()
}

/// Runs an operator command.
pub fn run(command: OperatorCommand) -> anyhow::Result<()> {
    match command {
        OperatorCommand::Add { file, name, role, unit, display_name } => add(file, name, role, unit, display_name),
        OperatorCommand::Unlock { name, connection } => super::admin::unlock_operator(&connection, &name),
    }
}

fn add(
    file: PathBuf,
    name: String,
    role: String,
    unit: Option<String>,
    display_name: Option<String>,
) -> anyhow::Result<()> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)) {
        bail!("a login name is 1–64 letters, digits, '.', '_' or '-'");
    }
    match (role.as_str(), &unit) {
        ("commune", None) => bail!("a commune's staff needs --unit"),
        ("centre" | "auditor", Some(_)) => bail!("only a commune's staff has a unit"),
        ("centre" | "auditor" | "commune", _) => {}
        _ => bail!("--role is centre, commune or auditor"),
    }
    let existing = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", file.display())),
    };
    let parsed: motcua_gateway::config::ui_file::OperatorsFile =
        toml::from_str(&existing).with_context(|| format!("{} is not an operators file", file.display()))?;
    if parsed.operators.iter().any(|o| o.name == name) {
        bail!("{name} is already in {}; remove that entry first", file.display());
    }
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.chars().count() < 12 {
        bail!("a password needs at least 12 characters");
    }
    let hash = motcua_gateway::auth::password::hash(password).map_err(|e| anyhow::anyhow!(e))?;
    let mut entry = format!("\n[[operators]]\nname = {}\n", quoted(&name));
    if let Some(display) = &display_name {
        entry += &format!("display_name = {}\n", quoted(display));
    }
    entry += &format!("role = {}\n", quoted(&role));
    if let Some(unit) = &unit {
        entry += &format!("unit = {}\n", quoted(unit));
    }
    entry += &format!("password_hash = {}\n", quoted(&hash));
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&file)
        .with_context(|| format!("cannot write {}", file.display()))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    out.write_all(entry.as_bytes())?;
    out.sync_all()?;
    eprintln!("added {name} ({role}) to {}; reload the gateway (SIGHUP) to let it log in", file.display());
    Ok(())
}
