//! Running a configuration somewhere else: the same file on ephemeral loopback
//! ports, a fresh data directory and the development certificate, with its key paths
//! made absolute. The benchmark and the demo start their gateways this way.

use std::path::Path;

use toml::{Table, Value};

/// The configuration at `source`, moved to run from `data_dir` on `127.0.0.1:0`,
/// without an admin listener, as a TOML table to be edited further.
pub fn relocated(source: &Path, data_dir: &Path) -> Result<Table, String> {
    let text = std::fs::read_to_string(source).map_err(|e| format!("{}: {e}", source.display()))?;
    let mut table: Table = toml::from_str(&text).map_err(|e| format!("{}: {e}", source.display()))?;
    let base = source.parent().unwrap_or(Path::new(".")).canonicalize().map_err(|e| e.to_string())?;
    let absolute = |v: &mut Value| {
        if let Some(p) = v.as_str()
            && !p.starts_with('/')
        {
            *v = Value::String(base.join(p).display().to_string());
        }
    };
    for file in table.get_mut("unit_files").and_then(Value::as_array_mut).into_iter().flatten() {
        absolute(file);
    }
    let gateway = table.get_mut("gateway").and_then(Value::as_table_mut).ok_or("no [gateway] section")?;
    gateway.insert("listen".into(), "127.0.0.1:0".into());
    gateway.remove("admin_listen");
    gateway.insert("data_dir".into(), data_dir.display().to_string().into());
    gateway.insert("tls".into(), "dev".into());
    if let Some(v) = gateway.get_mut("signing_key_file") {
        absolute(v);
    }
    if let Some(v) = table.get_mut("ui").and_then(Value::as_table_mut).and_then(|ui| ui.get_mut("operators_file")) {
        absolute(v);
    }
    for client in table.get_mut("clients").and_then(Value::as_array_mut).into_iter().flatten() {
        let Some(client) = client.as_table_mut() else { continue };
        for key in ["key_file", "jwks_file"] {
            if let Some(v) = client.get_mut(key) {
                absolute(v);
            }
        }
    }
    Ok(table)
}

/// Every `[[section]]` table of `table` whose `key` is `value`.
pub fn entries_where<'a>(
    table: &'a mut Table,
    section: &str,
    key: &str,
    value: &str,
) -> impl Iterator<Item = &'a mut Table> + 'a {
    let key = key.to_owned();
    let value = value.to_owned();
    table
        .get_mut(section)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_table_mut)
        .filter(move |t| t.get(&key).and_then(Value::as_str) == Some(value.as_str()))
}
