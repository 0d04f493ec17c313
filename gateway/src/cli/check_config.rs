//! `motcua check-config`: validate a configuration and summarize it on one screen.

use motcua_schemas::text::printable;
use std::{collections::BTreeMap, path::Path, process::ExitCode};

use motcua_gateway::network::DeskMode;
use motcua_gateway::server::tls::server_config;
use motcua_gateway::settings::{ConfigError, Settings, TlsMode};

/// Prints a summary and returns success, or prints every problem and returns failure.
pub fn run(path: &Path) -> ExitCode {
    match Settings::load(path) {
        Ok(settings) => {
            // The listener's certificate and key must load and belong together.
            if let TlsMode::Files { cert, key } = &settings.boot.tls
                && let Err(e) = server_config(cert, key, settings.boot.client_ca_file.as_deref())
            {
                eprintln!("{}: 1 problem(s)", settings.source.display());
                eprintln!("{}: gateway.tls: {e}", settings.source.display());
                return ExitCode::FAILURE;
            }
            print!("{}", printable_lines(&summary(&settings)));
            for warning in &settings.warnings {
                eprintln!("WARNING: {warning}");
            }
            for key in settings.boot.restart_needed() {
                eprintln!(
                    "RESTART NEEDED: {key} differs from what the gateway running on {} started with; a reload keeps the running value",
                    settings.boot.data_dir.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(ConfigError::Invalid { path, problems }) => {
            eprintln!("{path}: {} problem(s)", problems.len());
            for p in problems {
                eprintln!("{path}: {}: {}", printable(&p.path), printable(&p.message));
            }
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("{}", printable(&e.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn counts<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for item in items {
        *by.entry(item).or_default() += 1;
    }
    by.iter().map(|(k, n)| format!("{k} {n}")).collect::<Vec<_>>().join(", ")
}

fn summary(s: &Settings) -> String {
    let mut out = format!("{}: OK\n", s.source.display());
    let line = |out: &mut String, label: &str, text: String| out.push_str(&format!("  {label:<11} {text}\n"));
    line(&mut out, "listen", format!("{} (tls: {:?})", s.boot.listen, s.boot.tls));
    line(&mut out, "clients", format!("{} ({})", s.clients.len(), counts(s.clients.iter().map(|c| c.role.as_str()))));
    let desks: Vec<_> = s.network.desks().collect();
    line(
        &mut out,
        "desks",
        format!(
            "{} ({})",
            desks.len(),
            counts(desks.iter().map(|d| if d.mode == DeskMode::Push { "push" } else { "pull" }))
        ),
    );
    let units: Vec<_> = s.network.units().collect();
    let current: Vec<_> = units.iter().filter(|u| u.valid_until.is_none()).collect();
    let ended = units.len() - current.len();
    line(
        &mut out,
        "units",
        format!(
            "{} in force ({}); {ended} ended, with their successors",
            current.len(),
            counts(current.iter().map(|u| u.level.as_str()))
        ),
    );
    line(&mut out, "procedures", s.catalogue.len().to_string());
    let mut years: BTreeMap<i16, (usize, usize)> = BTreeMap::new();
    for day in s.calendar.holidays() {
        years.entry(day.year()).or_default().0 += 1;
    }
    for day in s.calendar.make_up_days() {
        years.entry(day.year()).or_default().1 += 1;
    }
    let calendar = years
        .iter()
        .map(|(year, (off, make_up))| {
            let mark = if s.provisional_years.contains(year) { " (provisional)" } else { "" };
            format!("{year}{mark}: {off} days off, {make_up} make-up days")
        })
        .collect::<Vec<_>>()
        .join("; ");
    line(&mut out, "calendar", calendar);
    for period in &s.calendar_periods {
        line(&mut out, "", format!("office hours of their own: {period}"));
    }
    line(
        &mut out,
        "deadlines",
        format!(
            "centre desk {}, due-soon lead {}, explanation grace {}",
            s.deadlines.centre_desk.as_deref().unwrap_or("(none)"),
            s.deadlines.due_soon_lead,
            s.deadlines.explanation_grace
        ),
    );
    out
}

/// Each line of `text` printable on a terminal, its line breaks kept.
fn printable_lines(text: &str) -> String {
    text.lines().map(|l| format!("{}\n", printable(l))).collect()
}
