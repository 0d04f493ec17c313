//! `motcua units import`: a province's units file from the official unit lists.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use motcua_gateway::unit_import;

/// What `motcua units` does.
#[derive(Debug, clap::Subcommand)]
pub enum UnitsCommand {
    /// Build a province's units file (for `unit_files`) from the post-reform list, the
    /// pre-reform list and the succession table; the rows that cannot be matched are
    /// listed at the end of the file and on standard error, for a person to settle.
    Import {
        /// The province's code in the post-reform list, e.g. 15.
        #[arg(long)]
        province: String,
        /// The post-reform list (JSON: provinces → communes with `formed_from`).
        #[arg(long, default_value = "config/reference/units-2025-lao-cai.json")]
        current: PathBuf,
        /// The pre-reform list (JSON: provinces → districts → communes).
        #[arg(long, default_value = "config/reference/units-2024-lao-cai-yen-bai.json")]
        former: PathBuf,
        /// The succession table (TSV: old_code, old_name, old_district, old_province, new_code, new_name).
        #[arg(long, default_value = "config/reference/succession-lao-cai-2025.tsv")]
        succession: PathBuf,
        /// Where to write the units file.
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs a units command.
pub fn run(command: UnitsCommand) -> anyhow::Result<ExitCode> {
    let UnitsCommand::Import { province, current, former, succession, out } = command;
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()));
    let imported = unit_import::import(&province, &read(&current)?, &read(&former)?, &read(&succession)?)?;
    std::fs::write(&out, &imported.toml).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "{}: {} communes in force, {} former units with their successors, {} rows to settle",
        out.display(),
        imported.communes,
        imported.former,
        imported.unmatched.len()
    );
    for u in &imported.unmatched {
        let line = format!("to settle: {} {} ({}): {}", u.code, u.name, u.district, u.reason);
        eprintln!("{}", motcua_schemas::text::printable(&line));
    }
    Ok(ExitCode::SUCCESS)
}
