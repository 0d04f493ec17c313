//! The reviewed catalogue file from the national catalogue (docs/CATALOGUE.md): each
//! procedure `LayThuTuc` gives, written as a `[[procedures]]` entry the gateway reads
//! through `procedure_files` — its national and qualified codes, name, field, levels
//! (through the configured `CAPTHUCHIEN` map), processing time and every channel's
//! published time, channels, fees, components and results — with what cannot be written as it is (an unmapped level, a
//! processing time in calendar days) left out and listed for review; and the
//! difference between that file and the one in force, for a person to accept.

use std::collections::BTreeMap;

use motcua_adapters::dvcqg::catalogue::NationalProcedure;
use serde::Serialize;

use crate::config::file::CatalogueSyncSection;

/// One `[[procedures]]` entry as written.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// The national code.
    pub code: String,
    /// The agency-qualified code as published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualified: Option<String>,
    /// The name.
    pub name: String,
    /// The field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Field>,
    /// The levels competent.
    pub levels: Vec<String>,
    /// The processing time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing: Option<String>,
    /// The channels (portal, postal) the catalogue offers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<String>,
    /// Components by code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub documents: BTreeMap<String, String>,
    /// Results by code.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub results: BTreeMap<String, String>,
    /// Fees per channel.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fees: Vec<Fee>,
    /// Every channel's processing time, as published.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<Time>,
}

/// A processing time as published.
#[derive(Debug, Clone, Serialize)]
pub struct Time {
    /// `desk`, `online` or `post`.
    pub channel: String,
    /// `THOIGIANGIAIQUYET`.
    pub amount: u32,
    /// `DONVITINH`.
    pub unit: String,
}

/// `field = { code, name }`.
#[derive(Debug, Clone, Serialize)]
pub struct Field {
    /// `MALINHVUC`.
    pub code: String,
    /// `TENLINHVUC`.
    pub name: String,
}

/// A fee line.
#[derive(Debug, Clone, Serialize)]
pub struct Fee {
    /// What it is for.
    pub name: String,
    /// Amount in đồng.
    pub amount: u64,
    /// `MAPHILEPHI`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// `desk`, `online` or `post`.
    pub channel: String,
}

#[derive(Serialize)]
struct File<'a> {
    procedures: &'a [Entry],
}

fn channel_name(kenh: u8) -> &'static str {
    match kenh {
        1 => "desk",
        2 => "online",
        _ => "post",
    }
}

/// The processing time in the gateway's terms, or why it cannot be written.
fn processing(amount: u32, unit: &str) -> Result<String, String> {
    let unit = motcua_schemas::text::nfc(unit).to_lowercase();
    match unit.trim() {
        "ngày làm việc" => Ok(format!("{amount}d")),
        "giờ làm việc" | "giờ" => Ok(format!("{amount}h")),
        other => Err(format!("{amount} {other}: not a working time; set `processing` after review")),
    }
}

/// The entry of one national procedure, and what a person must settle in it.
pub fn entry(p: &NationalProcedure, sync: &CatalogueSyncSection) -> (Entry, Vec<String>) {
    let mut review = Vec::new();
    let national = p.code.parse::<motcua_schemas::ProcedureCode>().map(|c| c.national().to_owned());
    let code = national.clone().unwrap_or_else(|_| p.code.clone());
    if national.is_err() {
        review.push(format!("{}: the code is not a procedure code", p.code));
    }
    let mut levels = Vec::new();
    for level in &p.levels {
        match sync.levels.get(level) {
            Some(ours) if !levels.contains(ours) => levels.push(ours.clone()),
            Some(_) => {}
            None => review.push(format!("{code}: CAPTHUCHIEN {level} is not in [catalogue_sync] levels")),
        }
    }
    let time = p.times.iter().find(|t| t.channel == sync.time_channel).or_else(|| p.times.first());
    let processing = match time {
        None => {
            review.push(format!("{code}: the catalogue gives no processing time"));
            None
        }
        Some(t) => processing(t.amount, &t.unit).map_err(|why| review.push(format!("{code}: {why}"))).ok(),
    };
    let mut channels = Vec::new();
    for t in &p.times {
        let ours = match t.channel {
            2 => "portal",
            3 => "postal",
            _ => continue,
        };
        if !channels.iter().any(|c| c == ours) {
            channels.push(ours.to_owned());
        }
    }
    let mut fees = Vec::new();
    for t in &p.times {
        for (fee_code, description, amount) in &t.fees {
            let fee = Fee {
                name: if description.is_empty() { "Phí, lệ phí".into() } else { description.clone() },
                amount: *amount,
                code: Some(fee_code.clone()).filter(|c| !c.is_empty()),
                channel: channel_name(t.channel).into(),
            };
            if !fees.iter().any(|f: &Fee| f.channel == fee.channel && f.code == fee.code && f.amount == fee.amount) {
                fees.push(fee);
            }
        }
    }
    let entry = Entry {
        qualified: Some(p.code.clone()).filter(|q| *q != code),
        code,
        name: p.name.clone(),
        field: p.field.as_ref().map(|(code, name)| Field { code: code.clone(), name: name.clone() }),
        levels,
        processing,
        channels,
        documents: p.components.clone(),
        results: p.results.clone(),
        fees,
        times: p
            .times
            .iter()
            .map(|t| Time { channel: channel_name(t.channel).into(), amount: t.amount, unit: t.unit.clone() })
            .collect(),
    };
    (entry, review)
}

/// The file: a header saying where it came from and what is left to settle, then the
/// entries in code order.
pub fn render(entries: &mut [Entry], source: &str, at: &str, review: &[String]) -> Result<String, String> {
    entries.sort_by(|a, b| a.code.cmp(&b.code));
    let body = toml::to_string_pretty(&File { procedures: entries }).map_err(|e| e.to_string())?;
    let mut text = format!(
        "# The national procedure catalogue as {source} published it on {at}, written by\n\
         # `motcua catalogue sync` and accepted by a person (docs/CATALOGUE.md). Read through\n\
         # `procedure_files`; a running gateway reads it again only when reloaded.\n"
    );
    if !review.is_empty() {
        text.push_str("#\n# To settle before this file is used:\n");
        for line in review {
            text.push_str(&format!("#   {}\n", motcua_schemas::text::printable(line)));
        }
    }
    text.push('\n');
    text.push_str(&body);
    Ok(text)
}

fn procedures(text: &str) -> BTreeMap<String, toml::Table> {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    table
        .get("procedures")
        .and_then(toml::Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table().cloned())
        .filter_map(|p| Some((p.get("code")?.as_str()?.to_owned(), p)))
        .collect()
}

/// What changed from the file in force (`old`, empty when there is none) to `new`: a
/// line per procedure added or removed and per field changed.
pub fn diff(old: &str, new: &str) -> Vec<String> {
    let (old, new) = (procedures(old), procedures(new));
    let mut lines = Vec::new();
    for (code, entry) in &new {
        let name = entry.get("name").and_then(toml::Value::as_str).unwrap_or_default();
        match old.get(code) {
            None => lines.push(format!("+ {code} {name}")),
            Some(before) => {
                let keys: std::collections::BTreeSet<&String> = before.keys().chain(entry.keys()).collect();
                for key in keys {
                    let (was, is) = (before.get(key), entry.get(key));
                    if was != is {
                        let show = |v: Option<&toml::Value>| v.map_or_else(|| "(none)".to_owned(), ToString::to_string);
                        lines.push(format!("~ {code} {key}: {} → {}", show(was), show(is)));
                    }
                }
            }
        }
    }
    for code in old.keys().filter(|c| !new.contains_key(*c)) {
        lines.push(format!("- {code}"));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sync() -> CatalogueSyncSection {
        toml::from_str("url = \"http://x\"\nlevels = { \"1\" = \"tinh\" }").unwrap()
    }

    #[test]
    fn the_samples_procedure_is_written_and_a_change_shows_as_a_diff() {
        let body = std::fs::read(format!(
            "{}/../simulators/peers/dvcqg-catalogue-LayThuTuc.reply.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let mut national = motcua_adapters::dvcqg::catalogue::detail(&body).unwrap();
        let (e, review) = entry(&national, &sync());
        assert_eq!((e.code.as_str(), e.qualified.as_deref()), ("1.001612", Some("1.001612.000.00.00.H38")));
        assert_eq!((e.levels.clone(), e.processing.clone()), (vec!["tinh".to_owned()], Some("10d".to_owned())));
        assert_eq!(e.channels, ["portal"]);
        assert_eq!((e.fees[0].amount, e.fees[0].channel.as_str()), (50_000, "online"));
        assert_eq!(
            (e.times[0].channel.as_str(), e.times[0].amount, e.times[0].unit.as_str()),
            ("online", 10, "Ngày làm việc")
        );
        assert!(review.is_empty(), "{review:?}");
        let first = render(&mut [e], "the connector", "2026-12-02", &[]).unwrap();
        let back: crate::config::file::ProceduresFile = toml::from_str(&first).expect("the gateway reads it");
        assert_eq!(
            back.procedures[0].results.get("KQ.1.001612").map(String::as_str),
            Some("Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa")
        );

        national.times[0].amount = 7;
        national.times[0].unit = "Ngày".into();
        let (e, review) = entry(&national, &sync());
        assert_eq!(e.processing, None);
        assert!(review[0].contains("7 ngày: not a working time"), "{review:?}");
        let second = render(&mut [e], "the connector", "2026-12-03", &review).unwrap();
        let changes = diff(&first, &second);
        assert_eq!(changes[0], "~ 1.001612 processing: \"10d\" → (none)", "{changes:?}");
        assert!(changes[1].starts_with("~ 1.001612 times:"), "{changes:?}");
        assert_eq!(
            diff("", &first),
            ["+ 1.001612 Cấp giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa"]
        );
    }
}
