//! The national procedure catalogue as the portal publishes it (docs/CATALOGUE.md;
//! samples `simulators/peers/dvcqg-catalogue-*.json`): `LayDanhSachTTHC` (the list)
//! and `LayThuTuc` (one procedure), answered by the portal as `{error_code, result}`
//! or through a provincial connector as `{message: "<that answer as a JSON string>"}`.
//! Read into plain values, bounded and range-checked; a field the catalogue leaves
//! out is left empty, never guessed.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// Most procedures one list may name.
pub const MAX_PROCEDURES: usize = 5000;
/// Longest text kept from the catalogue.
const MAX_TEXT: usize = 2000;

/// One procedure of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// `MATTHC` (agency-qualified, as published).
    pub code: String,
    /// `TENTTHC`.
    pub name: String,
}

/// A processing time of one channel (`CACHTHUCTHUCHIEN[].THOIGIAN[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelTime {
    /// `KENH`: 1 at the desk, 2 online, 3 by post.
    pub channel: u8,
    /// `THOIGIANGIAIQUYET`.
    pub amount: u32,
    /// `DONVITINH` as written (`Ngày làm việc`, `Ngày`, `Giờ`, …).
    pub unit: String,
    /// Its fees (`PHILEPHI[]`): code, description, amount in đồng.
    pub fees: Vec<(String, String, u64)>,
}

/// One procedure as `LayThuTuc` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NationalProcedure {
    /// `MATTHC`.
    pub code: String,
    /// `TENTTHC`.
    pub name: String,
    /// `LINHVUCTHUCHIEN[0]`: `MALINHVUC`, `TENLINHVUC`.
    pub field: Option<(String, String)>,
    /// `CAPTHUCHIEN[].CAPTHUCHIEN`: the levels' codes.
    pub levels: Vec<String>,
    /// The processing times per channel.
    pub times: Vec<ChannelTime>,
    /// `THANHPHANHOSO[].GIAYTO[]`: component code → name.
    pub components: BTreeMap<String, String>,
    /// `KETQUATHUCHIEN[]`: result code → name.
    pub results: BTreeMap<String, String>,
}

fn text(obj: &Map<String, Value>, key: &str) -> String {
    let s = match obj.get(key) {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    s.chars().filter(|c| !c.is_control()).take(MAX_TEXT).collect()
}

fn number(obj: &Map<String, Value>, key: &str) -> Option<u64> {
    match obj.get(key)? {
        Value::Number(n) => {
            n.as_u64().or_else(|| n.as_f64().filter(|f| *f >= 0.0 && f.fract() == 0.0).map(|f| f as u64))
        }
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn objects<'a>(obj: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Map<String, Value>> {
    obj.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_object)
}

/// The `result[]` of an answer in either shape, or why there is none.
pub fn results(body: &[u8]) -> Result<Vec<Value>, String> {
    let Some(Value::Object(outer)) = crate::json::answer(body) else {
        return Err("the answer is not a JSON object".into());
    };
    let inner = match (outer.get("result"), outer.get("message")) {
        (Some(_), _) => outer,
        (None, Some(Value::String(m))) => match crate::json::answer(m.as_bytes()) {
            Some(Value::Object(inner)) => inner,
            _ => return Err("the connector's message is not the portal's answer".into()),
        },
        _ => return Err("the answer has no result".into()),
    };
    if let Some(code) = inner.get("error_code").map(|c| c.to_string().trim_matches('"').to_owned())
        && !matches!(code.as_str(), "0" | "00")
    {
        return Err(format!("the portal answered error_code {code}"));
    }
    match inner.get("result") {
        Some(Value::Array(items)) if items.len() <= MAX_PROCEDURES => Ok(items.clone()),
        Some(Value::Array(_)) => Err(format!("more than {MAX_PROCEDURES} procedures")),
        _ => Err("result is not a list".into()),
    }
}

/// The procedures of a `LayDanhSachTTHC` answer; items without a code are skipped.
pub fn list(body: &[u8]) -> Result<Vec<Listed>, String> {
    Ok(results(body)?
        .iter()
        .filter_map(Value::as_object)
        .map(|o| Listed { code: text(o, "MATTHC"), name: text(o, "TENTTHC") })
        .filter(|l| !l.code.is_empty())
        .collect())
}

/// The procedure of a `LayThuTuc` answer. Fees are read under `THOIGIAN[]` (as one
/// public client reads them) and under `CACHTHUCTHUCHIEN[]` (as the other does).
pub fn detail(body: &[u8]) -> Result<NationalProcedure, String> {
    let items = results(body)?;
    let Some(p) = items.first().and_then(Value::as_object) else { return Err("the answer names no procedure".into()) };
    let code = text(p, "MATTHC");
    if code.is_empty() {
        return Err("the procedure has no MATTHC".into());
    }
    let fees_of = |o: &Map<String, Value>| -> Vec<(String, String, u64)> {
        objects(o, "PHILEPHI")
            .filter_map(|f| {
                let amount = number(f, "SOTIEN").filter(|a| *a <= 1_000_000_000_000)?;
                Some((text(f, "MAPHILEPHI"), text(f, "MOTA"), amount))
            })
            .collect()
    };
    let mut times = Vec::new();
    for way in objects(p, "CACHTHUCTHUCHIEN") {
        let Some(channel) = number(way, "KENH").and_then(|k| u8::try_from(k).ok()).filter(|k| (1..=3).contains(k))
        else {
            continue;
        };
        let outer_fees = fees_of(way);
        for time in objects(way, "THOIGIAN") {
            let Some(amount) =
                number(time, "THOIGIANGIAIQUYET").and_then(|a| u32::try_from(a).ok()).filter(|a| *a <= 3650)
            else {
                continue;
            };
            let mut fees = fees_of(time);
            if fees.is_empty() {
                fees = outer_fees.clone();
            }
            times.push(ChannelTime { channel, amount, unit: text(time, "DONVITINH"), fees });
        }
    }
    let components = objects(p, "THANHPHANHOSO")
        .flat_map(|case| objects(case, "GIAYTO"))
        .map(|d| (text(d, "MAGIAYTO"), text(d, "TENGIAYTO")))
        .filter(|(c, n)| !c.is_empty() && !n.is_empty())
        .collect();
    let results = objects(p, "KETQUATHUCHIEN")
        .map(|r| (text(r, "MAKETQUA"), text(r, "TENKETQUA")))
        .filter(|(c, n)| !c.is_empty() && !n.is_empty())
        .collect();
    Ok(NationalProcedure {
        name: text(p, "TENTTHC"),
        field: objects(p, "LINHVUCTHUCHIEN")
            .map(|f| (text(f, "MALINHVUC"), text(f, "TENLINHVUC")))
            .find(|(c, _)| !c.is_empty()),
        levels: objects(p, "CAPTHUCHIEN").map(|l| text(l, "CAPTHUCHIEN")).filter(|l| !l.is_empty()).collect(),
        times,
        components,
        results,
        code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!("{}/../simulators/peers/{name}.json", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn both_shapes_of_both_services_are_read() {
        for name in ["dvcqg-catalogue-LayDanhSachTTHC.reply", "dvcqg-catalogue-LayDanhSachTTHC.connector.reply"] {
            let listed = list(&sample(name)).unwrap();
            assert_eq!(listed.len(), 2, "{name}");
            assert_eq!(listed[0].code, "1.001612.000.00.00.H38");
        }
        for name in ["dvcqg-catalogue-LayThuTuc.reply", "dvcqg-catalogue-LayThuTuc.connector.reply"] {
            let p = detail(&sample(name)).unwrap();
            assert_eq!(p.field, Some(("G15-DL01".into(), "Lữ hành".into())), "{name}");
            assert_eq!(p.levels, ["1"]);
            assert_eq!(
                p.times[0],
                ChannelTime {
                    channel: 2,
                    amount: 10,
                    unit: "Ngày làm việc".into(),
                    fees: vec![("PHI01".into(), "Phí thẩm định".into(), 50_000)],
                }
            );
            assert_eq!(p.components.get("TP1").map(String::as_str), Some("Đơn đề nghị cấp giấy chứng nhận"));
            assert!(p.results.contains_key("KQ.1.001612"));
        }
        assert!(results(br#"{"error_code":"1","result":[]}"#).is_err());
        assert!(results(br#"{"message":"not json"}"#).is_err());
    }
}
