//! A pulled dossier as the portal's pull services give it (docs/PORTAL.md, "Pull"):
//! the listed row of `DanhSachHoSo` carries the owner, the ID number, the address
//! code, the dates and the files (`hoSoDinhKem`); the details of `TraCuuHoSo` carry
//! the procedure, the unit and the appointment. This module reads the row, names the
//! files to fetch, and merges row, details and file contents into one record in the
//! field names `inbound::normalize` reads, keeping every other field as it came.

use serde_json::{Map, Value, json};

use crate::check::MAX_DOCUMENTS;

/// Longest file path (`filedinhkem`) taken from a listed row.
const MAX_PATH: usize = 2048;

/// Fields of the row that become fields of the record under other names, or
/// documents; they are not kept twice.
const ROW_READ: &[&str] =
    &["maHoSo", "hoTen", "soCmnd", "soCmndCu", "noiCuTru", "dvhcNoiCuTru", "hoSoDinhKem", "anhChanDung"];

/// A file a listed row names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// `magiayto`: the component's code.
    pub component: Option<String>,
    /// `tengiayto`: the document's name.
    pub name: String,
    /// `filedinhkem`: the path `LayTaiLieuHoSo` is asked for.
    pub path: String,
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The dossier's code in a listed row (`maHoSo`).
pub fn listed_code(row: &Map<String, Value>) -> Option<String> {
    text(row, "maHoSo")
}

/// Whether the row carries the day the dossier was received (`ngayNhanHoSo`): the
/// real client skips a row without it and reads it again next time.
pub fn is_dated(row: &Map<String, Value>) -> bool {
    text(row, "ngayNhanHoSo").is_some()
}

/// The unit a row or a detail names (`maDonVi`, `MaDonViXuLy`), if any.
pub fn named_unit(obj: &Map<String, Value>) -> Option<String> {
    text(obj, "maDonVi").or_else(|| text(obj, "MaDonViXuLy"))
}

/// The files a row names, or why the row cannot be read: too many, or a path that is
/// not one (too long, or with control characters).
pub fn listed_files(row: &Map<String, Value>) -> Result<Vec<ListedFile>, String> {
    let items = match row.get("hoSoDinhKem") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("hoSoDinhKem must be a list".into()),
    };
    if items.len() > MAX_DOCUMENTS {
        return Err(format!("hoSoDinhKem names {} files (at most {MAX_DOCUMENTS})", items.len()));
    }
    let mut files = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(item) = item.as_object() else { return Err(format!("hoSoDinhKem/{i} must be an object")) };
        let Some(path) = text(item, "filedinhkem") else { continue };
        if path.len() > MAX_PATH || path.chars().any(char::is_control) {
            return Err(format!("hoSoDinhKem/{i}/filedinhkem is not a file path"));
        }
        let name = text(item, "tengiayto").unwrap_or_else(|| path.rsplit('/').next().unwrap_or_default().to_owned());
        files.push(ListedFile { component: text(item, "magiayto"), name, path });
    }
    Ok(files)
}

/// The file's content in a `LayTaiLieuHoSo` answer (`TepTinDinhKem[0].Base64`).
pub fn file_content(answer: &[Value]) -> Option<String> {
    answer.first()?.get("Base64")?.as_str().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The codes in a residence's administrative code (`dvhcNoiCuTru`): province (2
/// digits), district (3) and commune (5), run together. Any other form gives none;
/// the address's text is kept either way.
fn residence_codes(code: &str) -> Map<String, Value> {
    let mut codes = Map::new();
    if code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit()) {
        codes.insert("MaTinh".into(), code[..2].into());
        codes.insert("MaHuyen".into(), code[2..5].into());
        codes.insert("MaXa".into(), code[5..].into());
    }
    codes
}

/// Merges a listed row, its details and the contents of its files (in the order of
/// `listed_files`) into one record. Keys of the details win over the row's for the
/// fields both carry; fields neither side maps are kept as they came.
pub fn merge(
    row: &Map<String, Value>,
    detail: &Map<String, Value>,
    files: &[(ListedFile, String)],
) -> Map<String, Value> {
    let mut record: Map<String, Value> =
        row.iter().filter(|(k, _)| !ROW_READ.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    record.extend(detail.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(code) = listed_code(row) {
        record.insert("MaHoSo".into(), code.into());
    }
    if let Some(name) = text(row, "hoTen") {
        record.insert("ChuHoSo".into(), name.into());
    }
    if let Some(id) = text(row, "soCmnd").or_else(|| text(row, "soCmndCu")) {
        record.insert("SoGiayToChuHoSo".into(), id.into());
    }
    if let Some(old) = text(row, "soCmndCu").filter(|_| text(row, "soCmnd").is_some()) {
        record.insert("soCmndCu".into(), old.into());
    }
    if let Some(unit) = text(row, "maDonVi").filter(|_| !record.contains_key("MaDonViXuLy")) {
        record.insert("MaDonViXuLy".into(), unit.into());
    }
    let residence = text(row, "noiCuTru");
    let codes = text(row, "dvhcNoiCuTru").map(|c| residence_codes(&c)).unwrap_or_default();
    if residence.is_some() || !codes.is_empty() {
        let mut address = codes;
        address.insert("DiaChiChiTiet".into(), residence.unwrap_or_default().into());
        record.insert("DiaChiChuHoSo".into(), Value::Object(address));
    }
    let mut documents: Vec<Value> = files
        .iter()
        .map(|(file, content)| {
            let mut doc = json!({ "TenTepDinhKem": file.name, "Base64": content });
            if let Some(component) = &file.component {
                doc["MaThanhPhanHoSo"] = component.clone().into();
            }
            doc
        })
        .collect();
    if let Some(portrait) = text(row, "anhChanDung") {
        documents.push(json!({ "TenTepDinhKem": "Ảnh chân dung", "Base64": portrait }));
    }
    record.insert("TaiLieuNop".into(), Value::Array(documents));
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn row() -> Map<String, Value> {
        obj(json!({
            "maHoSo": "000.00.12.H38-261201-0042", "hoTen": "Nguyễn Văn An", "soCmndCu": "063123456",
            "soCmnd": "010090012345", "noiCuTru": "Tổ 5, Phường Cam Đường", "dvhcNoiCuTru": "1508002671",
            "anhChanDung": "", "maDonVi": "000.00.12.H38", "ngayNhanHoSo": "2026-12-01", "hangDaoTao": "B2",
            "hoSoDinhKem": [{ "magiayto": "GT01", "tengiayto": "Đơn.pdf", "filedinhkem": "/gplx/don.pdf" }]
        }))
    }

    fn detail() -> Map<String, Value> {
        obj(json!({
            "MaTTHC": "1.002804.000.00.00.H38", "MaHoSo": "000.00.12.H38-261201-0042",
            "HoTenNguoiNop": "Nguyễn Văn An", "MaDonViXuLy": "000.00.12.H38",
            "NgayNop": "01/12/2026 07:42:10", "HinhThucNhanKQ": "1", "NgayHenTra": "06/12/2026 17:00:00"
        }))
    }

    #[test]
    fn the_row_gives_the_owner_and_files_and_the_details_the_procedure() {
        let files = listed_files(&row()).unwrap();
        assert_eq!(
            files,
            [ListedFile { component: Some("GT01".into()), name: "Đơn.pdf".into(), path: "/gplx/don.pdf".into() }]
        );
        let record = merge(&row(), &detail(), &[(files[0].clone(), "JVBERi0=".into())]);
        assert_eq!(record["ChuHoSo"], "Nguyễn Văn An");
        assert_eq!(record["SoGiayToChuHoSo"], "010090012345");
        assert_eq!(record["soCmndCu"], "063123456");
        assert_eq!(record["MaTTHC"], "1.002804.000.00.00.H38");
        assert_eq!(
            record["DiaChiChuHoSo"],
            json!({ "MaTinh": "15", "MaHuyen": "080", "MaXa": "02671", "DiaChiChiTiet": "Tổ 5, Phường Cam Đường" })
        );
        assert_eq!(record["TaiLieuNop"][0]["Base64"], "JVBERi0=");
        assert_eq!(record["TaiLieuNop"][0]["MaThanhPhanHoSo"], "GT01");
        assert_eq!(record["hangDaoTao"], "B2", "fields not read are kept");
        assert!(!record.contains_key("hoSoDinhKem"));
    }

    #[test]
    fn a_row_without_its_date_or_with_a_bad_path_is_told_apart() {
        let mut r = row();
        r.insert("ngayNhanHoSo".into(), "".into());
        assert!(!is_dated(&r));
        r.insert("hoSoDinhKem".into(), json!([{ "filedinhkem": "/a\u{0}b" }]));
        assert!(listed_files(&r).is_err());
        assert_eq!(residence_codes("15-08-02671"), Map::new());
    }
}
