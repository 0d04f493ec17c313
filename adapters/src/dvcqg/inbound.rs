//! The portal's dossiers in (docs/PEERS.md §1.5, §1.10): a record pushed to the
//! gateway or a detail pulled from the portal, in the portal's own field names and
//! all-string values, normalized into the unified `Intake`. A field the gateway does
//! not read is kept, never a reason to refuse; a missing required field is named.

use base64::Engine as _;
use motcua_schemas::{
    Address, Applicant, ApplicantKind, Channel, Document, Fee, IdKind, InlineContent, Intake, IntakePointers,
    PersonalId, PhoneNumber, ProcedureCode, ProcedureRef, ReturnAddress, ReturnMethod, UnitCode, time::parse_portal,
};
use serde_json::{Map, Value};

use crate::check::{Checker, MAX_DOCUMENTS, MAX_FEES, MAX_NAME, MAX_TEXT};
use crate::portal::inbound::valid_submission_id;
use crate::{InboundError, json};

/// Every field the gateway reads; the others are kept as they came.
const READ: &[&str] = &[
    "MaHoSo",
    "MaHoSoQG",
    "MaTTHC",
    "TenTTHC",
    "ChuHoSo",
    "HoTenNguoiNop",
    "TenThuongNhan",
    "LoaiDoiTuong",
    "SoGiayToChuHoSo",
    "DinhDanhCHS",
    "MaSoThue",
    "SoDienThoai",
    "DienThoai",
    "Email",
    "DiaChiChuHoSo",
    "DiaChiDoanhNghiep",
    "MaDonViXuLy",
    "NgayNopHoSo",
    "NgayNop",
    "NgayTiepNhan",
    "HinhThuc",
    "HinhThucNhanKQ",
    "DiaChiNhanKetQua",
    "TaiLieuNop",
    "DanhSachLePhi",
    "DuocThanhToanTrucTuyen",
    "TepDonDangKy",
    "TenTepDonDangKy",
];

/// A portal dossier, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct RealIntake {
    /// The portal's code (`MaHoSo`): the dossier's reference and idempotency key.
    pub portal_code: String,
    /// The unified intake (its procedure name empty when the portal gave none).
    pub intake: Intake,
    /// The applicant's commune, for routing.
    pub applicant_commune: Option<UnitCode>,
    /// Inline document contents.
    pub contents: Vec<InlineContent>,
    /// The fields the gateway does not read, as they came.
    pub extra: Map<String, Value>,
}

/// How the portal's unit ids map to the network's units.
pub trait UnitMap {
    /// The unit for the portal's `MaDonViXuLy`.
    fn unit(&self, portal_unit: &str) -> Option<UnitCode>;
}

/// A scalar as text: the portal sends strings, a number is tolerated, `null` and
/// `""` mean absent.
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        _ => None,
    }
}

/// The portal's code of a record: `MaHoSo`, or `MaHoSoQG` in a pushed supplement.
pub fn record_code(obj: &Map<String, Value>) -> String {
    first(obj, &["MaHoSo", "MaHoSoQG"]).map(|(_, code)| code).unwrap_or_default()
}

fn first(obj: &Map<String, Value>, keys: &[&str]) -> Option<(String, String)> {
    keys.iter().find_map(|k| scalar(obj.get(*k)).map(|v| ((*k).to_owned(), v)))
}

/// A portal date: `yyyyMMddHHmmss` (records) or `dd/MM/yyyy HH:mm:ss` (details),
/// Vietnam time, in the years a peer's date may lie in.
pub fn parse_date(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = parse_portal(s) {
        return Some(t);
    }
    let dt = jiff::civil::DateTime::strptime("%d/%m/%Y %H:%M:%S", s).ok()?;
    motcua_schemas::time::peer_datetime(dt).ok()
}

fn address(c: &mut Checker, at: &str, obj: &Map<String, Value>) -> Address {
    let mut code = |key: &str| scalar(obj.get(key)).and_then(|s| c.parse::<UnitCode>(format_args!("{at}/{key}"), &s));
    let (province, district, commune) = (code("MaTinh"), code("MaHuyen"), code("MaXa"));
    let detail = scalar(obj.get("DiaChiChiTiet")).unwrap_or_default();
    Address { detail: c.text(format_args!("{at}/DiaChiChiTiet"), &detail, MAX_TEXT), province, district, commune }
}

fn identity(c: &mut Checker, obj: &Map<String, Value>) -> Option<(PersonalId, &'static str)> {
    let listed = obj.get("DinhDanhCHS").and_then(Value::as_array).and_then(|l| l.first()).and_then(Value::as_object);
    let (pointer, number, kind) = if let Some(id) = listed {
        let kind = match scalar(id.get("LoaiDinhDanh")).as_deref() {
            Some("1") => Some(IdKind::CitizenId),
            Some("2") => Some(IdKind::LegacyId),
            _ => None,
        };
        ("/DinhDanhCHS/0/SoDinhDanh", scalar(id.get("SoDinhDanh")), kind)
    } else if let Some((key, number)) = first(obj, &["SoGiayToChuHoSo", "MaSoThue"]) {
        let pointer = if key == "MaSoThue" { "/MaSoThue" } else { "/SoGiayToChuHoSo" };
        (pointer, Some(number), None)
    } else {
        c.fail("/SoGiayToChuHoSo", "is required: the owner's ID number (or DinhDanhCHS, or MaSoThue)");
        return None;
    };
    let Some(number) = number else {
        c.fail(pointer, "is required");
        return None;
    };
    let kind = kind.unwrap_or(match number.len() {
        12 => IdKind::CitizenId,
        9 => IdKind::LegacyId,
        _ => IdKind::TaxCode,
    });
    match PersonalId::parse_as(&number, kind) {
        Ok(id) => Some((id, pointer)),
        Err(e) => {
            c.fail(pointer, e.to_string());
            None
        }
    }
}

fn documents(
    c: &mut Checker,
    obj: &Map<String, Value>,
    documents: &mut Vec<Document>,
    contents: &mut Vec<InlineContent>,
) {
    let mut inline = |c: &mut Checker,
                      at: &str,
                      name: String,
                      component: Option<String>,
                      digitization: motcua_schemas::Digitization,
                      data: &str,
                      documents: &mut Vec<Document>| {
        match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
            Err(_) => c.fail(at, "must be base64"),
            Ok(bytes) => {
                let sha = ring::digest::digest(&ring::digest::SHA256, &bytes);
                let sha256 = sha.as_ref().iter().map(|b| format!("{b:02x}")).collect();
                contents.push(InlineContent { document: documents.len(), bytes: bytes.clone() });
                let size = Some(bytes.len() as u64);
                documents.push(Document {
                    name,
                    component,
                    url: None,
                    sha256: Some(sha256),
                    size,
                    pages: None,
                    stored: true,
                    digitization,
                });
            }
        }
    };
    if let Some(data) = scalar(obj.get("TepDonDangKy")) {
        let name = scalar(obj.get("TenTepDonDangKy")).unwrap_or_else(|| "Đơn đăng ký".to_owned());
        let name = c.text("/TenTepDonDangKy", &name, MAX_NAME);
        inline(c, "/TepDonDangKy", name, None, Default::default(), &data, documents);
    }
    let listed = match obj.get("TaiLieuNop") {
        None | Some(Value::Null) => return,
        Some(Value::Array(list)) => list,
        Some(_) => {
            c.fail("/TaiLieuNop", "must be a list");
            return;
        }
    };
    if listed.len() > MAX_DOCUMENTS {
        c.fail("/TaiLieuNop", format!("at most {MAX_DOCUMENTS} documents"));
    }
    for (i, item) in listed.iter().enumerate().take(MAX_DOCUMENTS) {
        let at = format!("/TaiLieuNop/{i}");
        let Some(doc) = item.as_object() else {
            c.fail(at, "must be an object");
            continue;
        };
        if scalar(doc.get("IsDeleted")).is_some_and(|d| d.eq_ignore_ascii_case("true")) {
            continue;
        }
        let name =
            c.text(format_args!("{at}/TenTepDinhKem"), &scalar(doc.get("TenTepDinhKem")).unwrap_or_default(), MAX_NAME);
        let component =
            c.opt_text(format_args!("{at}/MaThanhPhanHoSo"), scalar(doc.get("MaThanhPhanHoSo")).as_deref(), 64);
        let digitization = crate::check::digitization(c, &at, |name| scalar(doc.get(name)));
        if let Some(data) = scalar(doc.get("Base64")) {
            inline(c, &format!("{at}/Base64"), name, component, digitization, &data, documents);
            continue;
        }
        let url = scalar(doc.get("DuongDanTaiTepTin"));
        if let Some(u) = &url
            && (!(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 2048
                || u.contains(char::is_whitespace))
        {
            c.fail(format!("{at}/DuongDanTaiTepTin"), "must be an http(s) URL");
        }
        documents.push(Document {
            name,
            component,
            url,
            sha256: None,
            size: None,
            pages: None,
            stored: false,
            digitization,
        });
    }
}

fn fees(c: &mut Checker, obj: &Map<String, Value>) -> Vec<Fee> {
    let paid = scalar(obj.get("DuocThanhToanTrucTuyen")).as_deref() == Some("1");
    let Some(list) = obj.get("DanhSachLePhi").and_then(Value::as_array) else { return Vec::new() };
    if list.len() > MAX_FEES {
        c.fail("/DanhSachLePhi", format!("at most {MAX_FEES} fees"));
    }
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate().take(MAX_FEES) {
        let at = format!("/DanhSachLePhi/{i}");
        let Some(fee) = item.as_object() else {
            c.fail(at, "must be an object");
            continue;
        };
        let name =
            c.text(format_args!("{at}/TenPhiLePhi"), &scalar(fee.get("TenPhiLePhi")).unwrap_or_default(), MAX_NAME);
        let amount = match scalar(fee.get("Gia")).map(|g| g.parse::<u64>()) {
            Some(Ok(n)) if n <= 1_000_000_000_000 => n,
            _ => {
                c.fail(format!("{at}/Gia"), "must be an amount in đồng from 0 to 1,000,000,000,000");
                0
            }
        };
        out.push(Fee { name, amount, paid, transaction: None });
    }
    out
}

/// Normalizes one portal dossier. `envelope_unit` is the envelope's `madonvi`, used
/// when the record names no `MaDonViXuLy`.
pub fn normalize(
    obj: &Map<String, Value>,
    envelope_unit: Option<&str>,
    units: &dyn UnitMap,
) -> Result<RealIntake, InboundError> {
    let mut c = Checker::default();
    // `MaHoSoQG` in the supplements pushed to `nhanhsdvcqg` (docs/PEERS.md §1.10).
    let portal_code = record_code(obj);
    if portal_code.is_empty() {
        c.fail("/MaHoSo", "is required");
    } else if !valid_submission_id(&portal_code) {
        c.fail("/MaHoSo", "must be 1–64 characters of letters, digits, '.', '_', ':' or '-'");
    }
    let procedure_code = match scalar(obj.get("MaTTHC")) {
        Some(code) => c.parse::<ProcedureCode>("/MaTTHC", &code),
        None => {
            c.fail("/MaTTHC", "is required");
            None
        }
    };
    let procedure_name = c.opt_text("/TenTTHC", scalar(obj.get("TenTTHC")).as_deref(), MAX_TEXT).unwrap_or_default();
    let name = match first(obj, &["ChuHoSo", "HoTenNguoiNop", "TenThuongNhan"]) {
        Some((key, name)) => c.text(format_args!("/{key}"), &name, MAX_NAME),
        None => {
            c.fail("/ChuHoSo", "is required: the owner's name");
            String::new()
        }
    };
    let identity = identity(&mut c, obj);
    let kind = match scalar(obj.get("LoaiDoiTuong")) {
        Some(k) => {
            let kind = k.parse::<i64>().ok().and_then(ApplicantKind::from_portal_code);
            if kind.is_none() {
                c.fail("/LoaiDoiTuong", "must be 1, 2, 3 or 4");
            }
            kind
        }
        None if identity.as_ref().is_some_and(|(id, _)| id.kind() == IdKind::TaxCode) => {
            Some(ApplicantKind::Enterprise)
        }
        None => Some(ApplicantKind::Citizen),
    };
    let phone =
        first(obj, &["SoDienThoai", "DienThoai"]).and_then(|(k, v)| c.parse::<PhoneNumber>(format_args!("/{k}"), &v));
    let email = c.opt_text("/Email", scalar(obj.get("Email")).as_deref(), 254);
    if email.as_ref().is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
        c.fail("/Email", "is not an e-mail address");
    }
    let home = ["DiaChiChuHoSo", "DiaChiDoanhNghiep"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_object).map(|a| (*k, a)))
        .map(|(k, a)| address(&mut c, &format!("/{k}"), a));
    let unit_id = scalar(obj.get("MaDonViXuLy")).or(envelope_unit.map(str::to_owned));
    let unit = match &unit_id {
        None => {
            c.fail("/MaDonViXuLy", "is required: the processing unit");
            None
        }
        Some(id) => {
            let unit = units.unit(id).or_else(|| id.parse::<UnitCode>().ok());
            if unit.is_none() {
                c.fail("/MaDonViXuLy", format!("unit {id} is not mapped to a unit of the network"));
            }
            unit
        }
    };
    let submitted_at = match first(obj, &["NgayNopHoSo", "NgayNop", "NgayTiepNhan"]) {
        None => {
            c.fail("/NgayNopHoSo", "is required");
            None
        }
        Some((key, value)) => {
            let at = parse_date(&value);
            if at.is_none() {
                c.fail(
                    format!("/{key}"),
                    "must be yyyyMMddHHmmss or dd/MM/yyyy HH:mm:ss in Vietnam time, in the years 2000–2099",
                );
            }
            at
        }
    };
    let by_post = first(obj, &["HinhThuc", "HinhThucNhanKQ"]).is_some_and(|(_, v)| v == "1");
    let return_method = if by_post { ReturnMethod::Post } else { ReturnMethod::Desk };
    let return_address = match obj.get("DiaChiNhanKetQua").and_then(Value::as_object) {
        Some(a) => {
            let address = address(&mut c, "/DiaChiNhanKetQua", a);
            let recipient = scalar(a.get("NguoiNhan")).unwrap_or_else(|| name.clone());
            let recipient = c.text("/DiaChiNhanKetQua/NguoiNhan", &recipient, MAX_NAME);
            let phone = scalar(a.get("SoDienThoai"))
                .and_then(|p| c.parse::<PhoneNumber>("/DiaChiNhanKetQua/SoDienThoai", &p))
                .or(phone.clone());
            Some(ReturnAddress { address, recipient, phone })
        }
        None if by_post => match &home {
            Some(address) => {
                Some(ReturnAddress { address: address.clone(), recipient: name.clone(), phone: phone.clone() })
            }
            None => {
                c.fail("/DiaChiNhanKetQua", "is required when the result is returned by post (HinhThuc 1)");
                None
            }
        },
        None => None,
    };
    let (mut docs, mut contents) = (Vec::new(), Vec::new());
    documents(&mut c, obj, &mut docs, &mut contents);
    let fees = fees(&mut c, obj);
    let extra: Map<String, Value> =
        obj.iter().filter(|(k, _)| !READ.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let applicant_commune = home.as_ref().and_then(|a| a.commune.clone());
    let (Some(procedure_code), Some((id, id_pointer)), Some(kind), Some(unit), Some(submitted_at), true) =
        (procedure_code, identity, kind, unit, submitted_at, c.is_clean())
    else {
        c.finish()?;
        return Err(InboundError::malformed("", "the dossier is incomplete"));
    };
    let _ = id_pointer;
    let intake = Intake {
        // Whether the applicant asked for collection is read by the gateway from the
        // field its configuration names (the public record shape has none).
        collect_from_home: false,
        notify_consent: false,
        channel: Channel::Portal,
        level: None,
        external_ref: portal_code.clone(),
        code: None,
        procedure: ProcedureRef { code: procedure_code, name: procedure_name },
        applicant: Applicant {
            kind,
            name,
            id_type: id.kind(),
            id_number: id.as_str().to_owned(),
            phone,
            email,
            address: home,
        },
        requested_unit: unit,
        documents: docs,
        fees,
        return_method,
        return_address,
        submitted_at,
        pointers: IntakePointers {
            procedure: "/MaTTHC".into(),
            unit: "/MaDonViXuLy".into(),
            fees: "/DanhSachLePhi".into(),
            applicant_commune: "/DiaChiChuHoSo/MaXa".into(),
            code: "/MaHoSo".into(),
            submitted: "/NgayNopHoSo".into(),
        },
    };
    Ok(RealIntake { portal_code, intake, applicant_commune, contents, extra })
}

/// What a push carries: the records and whether the portal sends them as updates.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// `isUpdating`.
    pub updating: bool,
    /// The envelope's `madonvi`.
    pub unit: Option<String>,
    /// The records, each an object.
    pub records: Vec<Map<String, Value>>,
}

/// Most records one push may carry.
pub const MAX_PUSHED: usize = 50;

/// Reads a push: the envelope `{service, isUpdating, madonvi, data}` with one record
/// or a list, a bare list, or one bare record.
pub fn parse_push(body: &[u8], max_depth: usize) -> Result<Pushed, InboundError> {
    let value: Value = json::value(body, max_depth)?;
    let (updating, unit, data) = match value {
        Value::Object(mut obj) if obj.contains_key("data") => {
            let updating = scalar(obj.get("isUpdating")).is_some_and(|u| u.eq_ignore_ascii_case("true"));
            let unit = scalar(obj.get("madonvi"));
            (updating, unit, obj.remove("data").unwrap_or_default())
        }
        other => (false, None, other),
    };
    let items = match data {
        Value::Array(items) => items,
        Value::Object(obj) => vec![Value::Object(obj)],
        _ => return Err(InboundError::malformed("/data", "must be a dossier record or a list of them")),
    };
    if items.is_empty() || items.len() > MAX_PUSHED {
        return Err(InboundError::malformed("/data", format!("send from 1 to {MAX_PUSHED} records")));
    }
    let mut records = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match item {
            Value::Object(obj) => records.push(obj),
            _ => return Err(InboundError::malformed(format!("/data/{i}"), "must be an object")),
        }
    }
    Ok(Pushed { updating, unit, records })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Units;
    impl UnitMap for Units {
        fn unit(&self, portal_unit: &str) -> Option<UnitCode> {
            (portal_unit == "000.00.12.H15").then(|| "04606".parse().unwrap())
        }
    }

    fn record() -> Map<String, Value> {
        json!({
            "MaHoSo": "G22.99-261125-0007", "MaTTHC": "1.001193", "ChuHoSo": "Nguyễn Văn An",
            "LoaiDoiTuong": "1", "SoGiayToChuHoSo": "001099012345", "SoDienThoai": "0912345678",
            "MaDonViXuLy": "000.00.12.H15", "NgayNopHoSo": "20261125083000", "HinhThuc": "0",
            "TaiLieuNop": [{"TenTepDinhKem": "Tờ khai", "IsDeleted": "False", "DuongDanTaiTepTin": "https://dvc.example/f/1"},
                           {"TenTepDinhKem": "Bỏ", "IsDeleted": "True"}],
            "DanhSachLePhi": [], "NoiNopHoSo": "2", "MaHoSoKhac": null
        })
        .as_object()
        .cloned()
        .unwrap()
    }

    #[test]
    fn a_real_record_is_read_and_its_other_fields_kept() {
        let got = normalize(&record(), None, &Units).unwrap();
        assert_eq!(got.portal_code, "G22.99-261125-0007");
        assert_eq!(got.intake.requested_unit.as_str(), "04606");
        assert_eq!(got.intake.applicant.id_type, IdKind::CitizenId);
        assert_eq!(got.intake.documents.len(), 1);
        assert_eq!(got.extra.get("NoiNopHoSo"), Some(&json!("2")));
        assert!(got.extra.contains_key("MaHoSoKhac"));
    }

    #[test]
    fn missing_fields_are_named() {
        let mut r = record();
        r.remove("ChuHoSo");
        r.remove("NgayNopHoSo");
        r.insert("MaDonViXuLy".into(), json!("000.00.99.H15"));
        let Err(InboundError::Invalid(errors)) = normalize(&r, None, &Units) else { panic!() };
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(pointers, ["/ChuHoSo", "/MaDonViXuLy", "/NgayNopHoSo"]);
    }

    #[test]
    fn detail_dates_and_numbers_are_tolerated() {
        let mut r = record();
        r.insert("NgayNopHoSo".into(), json!("25/11/2026 08:30:00"));
        r.insert("LoaiDoiTuong".into(), json!(1));
        let got = normalize(&r, None, &Units).unwrap();
        assert_eq!(motcua_schemas::time::format_portal(got.intake.submitted_at), "20261125083000");
    }

    #[test]
    fn pushes_come_in_three_shapes() {
        let envelope = br#"{"service":"DongBoHoSoMC","isUpdating":"True","madonvi":"X","data":[{"MaHoSo":"A"}]}"#;
        let p = parse_push(envelope, 32).unwrap();
        assert!(p.updating);
        assert_eq!(p.unit.as_deref(), Some("X"));
        assert_eq!(parse_push(br#"[{"MaHoSo":"A"},{"MaHoSo":"B"}]"#, 32).unwrap().records.len(), 2);
        assert_eq!(parse_push(br#"{"MaHoSo":"A"}"#, 32).unwrap().records.len(), 1);
        assert!(parse_push(br#"[]"#, 32).is_err());
    }
}
