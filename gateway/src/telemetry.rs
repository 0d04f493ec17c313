//! Logging: `tracing` to standard error, human-readable or JSON lines (colours only
//! on a terminal), and the start-up announcements on standard output in the same
//! format.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs a subscriber that shows only warnings and errors (unless `RUST_LOG`
/// says otherwise), for commands whose own output tells the story.
pub fn init_quiet() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("error"));
    let _ = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sled=warn,hyper=warn,h2=warn,rustls=warn"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Prints a start-up announcement on standard output: `motcua: {text}` as text, or
/// one JSON object with `message` and `fields` as JSON.
pub fn announce(format: LogFormat, message: &str, text: &str, fields: serde_json::Value) {
    match format {
        LogFormat::Text => println!("motcua: {text}"),
        LogFormat::Json => {
            let mut line = serde_json::json!({ "timestamp": jiff::Timestamp::now().to_string(), "level": "INFO", "message": message });
            if let (Some(line), serde_json::Value::Object(fields)) = (line.as_object_mut(), fields) {
                line.extend(fields);
            }
            println!("{line}");
        }
    }
}
