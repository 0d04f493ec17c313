//! What the national portal demands of what it is sent (docs/PEERS.md §1.2–§1.6):
//! the field names, every scalar a string, dates `yyyyMMddHHmmss`, the codes' ranges,
//! lists as lists, at most ten progress steps.

use serde_json::{Map, Value};

/// The record fields both public integrations send (OpenCPS's record lacks
/// `KenhThucHien`, `SoGiayToChuHoSo` and `DinhDanhCHS`, which the other sends; those
/// are checked where present).
pub const RECORD_FIELDS: &[&str] = &[
    "MaHoSo",
    "MaTTHC",
    "TenTTHC",
    "MaLinhVuc",
    "TenLinhVuc",
    "ChuHoSo",
    "LoaiDoiTuong",
    "MaDoiTuong",
    "ThongTinKhac",
    "Email",
    "Fax",
    "SoDienThoai",
    "TrichYeuHoSo",
    "NgayTiepNhan",
    "NgayHenTra",
    "NgayTra",
    "NgayKetThucXuLy",
    "TrangThaiHoSo",
    "ThongTinTra",
    "HinhThuc",
    "DonViXuLy",
    "TaiLieuNop",
    "DanhSachLePhi",
    "DanhSachGiayToKetQua",
    "DanhSachTepDinhKemKhac",
    "DanhSachHoSoBoSung",
];

const RECORD_DATES: &[&str] =
    &["NgayTiepNhan", "NgayHenTra", "NgayTra", "NgayKetThucXuLy", "NgayNopHoSo", "NgayTuChoi"];
const RECORD_LISTS: &[&str] = &[
    "TaiLieuNop",
    "DanhSachLePhi",
    "DanhSachGiayToKetQua",
    "DanhSachTepDinhKemKhac",
    "DanhSachHoSoBoSung",
    "DinhDanhCHS",
    "DSKetNoiCSDL",
];

/// The progress step fields (docs/PEERS.md §1.6).
pub const STEP_FIELDS: &[&str] = &[
    "MaHoSo",
    "NguoiXuLy",
    "ChucDanh",
    "ThoiDiemXuLy",
    "PhongBanXuLy",
    "NoiDungXuLy",
    "TrangThai",
    "NgayBatDau",
    "NgayKetThucTheoQuyDinh",
];

/// Most steps the portal takes in one request.
pub const MAX_STEPS: usize = 10;

/// True for `yyyyMMddHHmmss` naming a real time.
pub fn is_date(s: &str) -> bool {
    s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) && jiff::civil::DateTime::strptime("%Y%m%d%H%M%S", s).is_ok()
}

fn code_in(s: &str, range: std::ops::RangeInclusive<u32>) -> bool {
    s.parse::<u32>().is_ok_and(|n| range.contains(&n)) && !s.starts_with('0')
}

/// Every scalar inside `value` is a string; returns the first path that is not.
fn strings_only(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::String(_) => None,
        Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| strings_only(v, &format!("{at}/{i}"))),
        Value::Object(obj) => obj.iter().find_map(|(k, v)| strings_only(v, &format!("{at}/{k}"))),
        other => Some(format!("{at} is {other}, not a string")),
    }
}

fn string<'a>(obj: &'a Map<String, Value>, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The problems of one `DongBoHoSoMC.data[]` record.
pub fn record(record: &Value) -> Vec<String> {
    let Some(obj) = record.as_object() else { return vec!["a record is not an object".into()] };
    let mut problems = Vec::new();
    for field in RECORD_FIELDS {
        if !obj.contains_key(*field) {
            problems.push(format!("{field} is missing"));
        }
    }
    for (key, value) in obj {
        if RECORD_LISTS.contains(&key.as_str()) && !value.is_array() {
            problems.push(format!("{key} is not a list"));
        }
        if let Some(p) = strings_only(value, key) {
            problems.push(p);
        }
    }
    for field in RECORD_DATES {
        let value = string(obj, field);
        if !value.is_empty() && !is_date(value) {
            problems.push(format!("{field} {value:?} is not yyyyMMddHHmmss"));
        }
    }
    for (field, ok) in [
        ("TrangThaiHoSo", code_in(string(obj, "TrangThaiHoSo"), 1..=10)),
        ("HinhThuc", matches!(string(obj, "HinhThuc"), "0" | "1")),
        ("KenhThucHien", !obj.contains_key("KenhThucHien") || matches!(string(obj, "KenhThucHien"), "1" | "2" | "3")),
        ("LoaiDoiTuong", code_in(string(obj, "LoaiDoiTuong"), 1..=4)),
        ("NgayTiepNhan", is_date(string(obj, "NgayTiepNhan"))),
        ("MaHoSo", !string(obj, "MaHoSo").is_empty()),
        ("MaTTHC", !string(obj, "MaTTHC").is_empty()),
        ("DonViXuLy", !string(obj, "DonViXuLy").is_empty()),
    ] {
        if !ok {
            problems.push(format!("{field} {:?} is not valid", obj.get(field)));
        }
    }
    for (i, doc) in obj.get("TaiLieuNop").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let d = doc.as_object().cloned().unwrap_or_default();
        if string(&d, "TenTepDinhKem").is_empty() || !matches!(string(&d, "IsDeleted"), "True" | "False") {
            problems.push(format!("TaiLieuNop/{i} needs TenTepDinhKem and IsDeleted \"True\"/\"False\""));
        }
    }
    for (i, id) in obj.get("DinhDanhCHS").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let d = id.as_object().cloned().unwrap_or_default();
        let ok = match string(&d, "LoaiDinhDanh") {
            "1" => string(&d, "SoDinhDanh").len() == 12,
            "2" => string(&d, "SoDinhDanh").len() == 9,
            _ => false,
        };
        if !ok {
            problems.push(format!("DinhDanhCHS/{i} is not a 12-digit CCCD (1) or 9-digit CMND (2)"));
        }
    }
    problems
}

/// The problems of one `CapNhatTienDoHoSoMC.data[]` step.
pub fn step(step: &Value) -> Vec<String> {
    let Some(obj) = step.as_object() else { return vec!["a step is not an object".into()] };
    let mut problems = Vec::new();
    for field in STEP_FIELDS {
        match obj.get(*field) {
            None => problems.push(format!("{field} is missing")),
            Some(Value::String(_)) => {}
            Some(other) => problems.push(format!("{field} is {other}, not a string")),
        }
    }
    // Only the time of the step is always there; the samples leave the others `""`.
    for field in ["ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"] {
        let value = string(obj, field);
        if !is_date(value) && (field == "ThoiDiemXuLy" || !value.is_empty()) {
            problems.push(format!("{field} {value:?} is not yyyyMMddHHmmss"));
        }
    }
    if !code_in(string(obj, "TrangThai"), 1..=10) {
        problems.push(format!("TrangThai {:?} is not 1–10", obj.get("TrangThai")));
    }
    let officer = string(obj, "NguoiXuLy");
    if officer.is_empty() || officer.chars().count() > 50 {
        problems.push("NguoiXuLy must have 1 to 50 characters".into());
    }
    problems
}

/// The fields of `DongBoTrangThaiHoSo.data`, as OpenCPS builds it
/// (`createSyncTTKMDossierBodyRequest`): strings, and a list of documents.
const PROMOTION_FIELDS: &[&str] = &["MaHoSo", "MaHoSoDonVi", "MaDoiTuong", "NoiDung", "NgayXuLy", "TrangThai"];

/// The problems of one `DongBoTrangThaiHoSo` envelope: `type`, and `data` with every
/// field, a date, and `TrangThai` 2 or 5 as OpenCPS sends it.
pub fn promotion_status(envelope: &Map<String, Value>) -> Vec<String> {
    let mut problems = Vec::new();
    if !matches!(envelope.get("type"), Some(Value::String(_))) {
        problems.push("type is missing or not a string".into());
    }
    let Some(obj) = envelope.get("data").and_then(Value::as_object) else {
        problems.push("data is not an object".into());
        return problems;
    };
    for field in PROMOTION_FIELDS {
        match obj.get(*field) {
            None => problems.push(format!("{field} is missing")),
            Some(Value::String(_)) => {}
            Some(other) => problems.push(format!("{field} is {other}, not a string")),
        }
    }
    if !is_date(string(obj, "NgayXuLy")) {
        problems.push(format!("NgayXuLy {:?} is not yyyyMMddHHmmss", obj.get("NgayXuLy")));
    }
    if !["2", "5"].contains(&string(obj, "TrangThai")) {
        problems.push(format!("TrangThai {:?} is not 2 or 5", obj.get("TrangThai")));
    }
    match obj.get("TaiLieuXuLy") {
        Some(Value::Array(documents)) => {
            for (i, doc) in documents.iter().enumerate() {
                if let Some(p) = strings_only(doc, &format!("TaiLieuXuLy/{i}")) {
                    problems.push(p);
                }
            }
        }
        _ => problems.push("TaiLieuXuLy is not a list".into()),
    }
    problems
}

/// Problems of a `DongBoDanhGia` envelope's rows against the sample
/// (`dvcqg-ratings-DongBoDanhGia.request.json`): the sample's keys exactly, the count a
/// number, each percentage `"N%"` and the three of a kind adding up to 100 % (±1 for
/// rounding), `NgayTongHop` an unpadded `M-YYYY`, the unit's code in the portal's form.
pub fn ratings(envelope: &Map<String, Value>) -> Vec<String> {
    let sample: Value = serde_json::from_str(RATINGS_SAMPLE).unwrap_or_default();
    let keys = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let expected = keys(&sample["data"][0]);
    let mut problems = Vec::new();
    let Some(rows) = envelope.get("data").and_then(Value::as_array).filter(|r| !r.is_empty()) else {
        return vec!["data is not a list of rows".into()];
    };
    for (i, row) in rows.iter().enumerate() {
        let at = format!("data/{i}");
        let mut got = keys(row);
        got.sort();
        let mut want = expected.clone();
        want.sort();
        if got != want {
            problems.push(format!("{at}: keys {got:?}, not the sample's"));
            continue;
        }
        let Some(obj) = row.as_object() else { continue };
        if !obj["TongSoNguoiDanhGia"].is_u64() {
            problems.push(format!("{at}/TongSoNguoiDanhGia is not a count"));
        }
        let month = string(obj, "NgayTongHop");
        let valid_month = month.split_once('-').is_some_and(|(m, y)| {
            !m.starts_with('0')
                && m.parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
                && y.len() == 4
                && y.parse::<u32>().is_ok()
        });
        if !valid_month {
            problems.push(format!("{at}/NgayTongHop {month:?} is not M-YYYY"));
        }
        for prefix in ["PhanTramDanhGia", "PhanTramDanhGiaDichVu"] {
            let mut total = 0u32;
            for level in ["RatHaiLong", "HaiLong", "ChuaHaiLong"] {
                let key = format!("{prefix}{level}");
                match string(obj, &key).strip_suffix('%').and_then(|n| n.parse::<u32>().ok()) {
                    Some(n) if n <= 100 => total += n,
                    _ => problems.push(format!("{at}/{key} is not a percentage \"N%\"")),
                }
            }
            let rated = obj["TongSoNguoiDanhGia"].as_u64().unwrap_or(0);
            if rated > 0 && !(99..=101).contains(&total) {
                problems.push(format!("{at}: the {prefix} percentages add up to {total} %"));
            }
        }
        if string(obj, "Madonvi").split('.').count() != 4 {
            problems.push(format!("{at}/Madonvi is not a portal unit code"));
        }
        if string(obj, "TenDonVi").is_empty() {
            problems.push(format!("{at}/TenDonVi is empty"));
        }
    }
    problems
}

const RATINGS_SAMPLE: &str = include_str!("../../peers/dvcqg-ratings-DongBoDanhGia.request.json");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_golden_promotion_status_passes_and_a_local_code_does_not() {
        let sample: Value =
            serde_json::from_str(include_str!("../../peers/dvcqg-sync-DongBoTrangThaiHoSo.request.json")).unwrap();
        let envelope = sample.as_object().unwrap();
        assert_eq!(promotion_status(envelope), Vec::<String>::new());
        let mut local = envelope.clone();
        local["data"]["TrangThai"] = json!("10");
        local["data"]["NgayXuLy"] = json!(20261201100000u64);
        assert_eq!(promotion_status(&local).len(), 3, "{:?}", promotion_status(&local));
    }

    #[test]
    fn numbers_and_bad_dates_are_caught() {
        let mut r = serde_json::Map::new();
        for f in RECORD_FIELDS {
            r.insert((*f).into(), json!(""));
        }
        for list in RECORD_LISTS {
            if r.contains_key(*list) {
                r.insert((*list).into(), json!([]));
            }
        }
        r.insert("TrangThaiHoSo".into(), json!(2));
        r.insert("NgayTiepNhan".into(), json!("2026-11-25"));
        let problems = record(&Value::Object(r));
        assert!(problems.iter().any(|p| p.contains("TrangThaiHoSo is 2")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("NgayTiepNhan \"2026-11-25\"")), "{problems:?}");
    }
}
