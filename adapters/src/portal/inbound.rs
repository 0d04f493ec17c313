//! Portal intake (docs/CONTRACT.md §3): the national portal's field names in, the unified
//! `Intake` out, with every invalid field reported by its JSON pointer.

use base64::Engine as _;
use motcua_schemas::{
    Address, Applicant, ApplicantKind, Channel, Document, Fee, IdKind, InlineContent, Intake, IntakePointers,
    PersonalId, PhoneNumber, ProcedureRef, ReturnAddress, ReturnMethod, UnitCode, time::parse_portal,
};
use serde::Deserialize;

use crate::check::{Checker, MAX_DOCUMENTS, MAX_FEES, MAX_NAME, MAX_TEXT};
use crate::{InboundError, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct PortalDossier {
    MaHoSoCongDVC: String,
    #[serde(default)]
    MaHoSo: Option<String>,
    MaTTHC: String,
    TenTTHC: String,
    MucDo: i64,
    MaDonViNhan: String,
    ChuHoSo: ChuHoSo,
    NgayNopHoSo: String,
    #[serde(default)]
    TaiLieuNop: Vec<TaiLieu>,
    #[serde(default)]
    LePhi: Vec<LePhi>,
    HinhThucNhanKetQua: i64,
    #[serde(default)]
    DiaChiNhanKetQua: Option<DiaChiNhan>,
    #[serde(default)]
    ThuGomTaiNha: bool,
    #[serde(default)]
    DongYNhanThongBao: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct ChuHoSo {
    HoTen: String,
    LoaiDoiTuong: i64,
    DinhDanh: DinhDanh,
    #[serde(default)]
    SoDienThoai: Option<String>,
    #[serde(default)]
    Email: Option<String>,
    #[serde(default)]
    DiaChi: Option<DiaChi>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct DinhDanh {
    LoaiDinhDanh: i64,
    SoDinhDanh: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct DiaChi {
    ChiTiet: String,
    #[serde(default)]
    MaTinh: Option<String>,
    #[serde(default)]
    MaHuyen: Option<String>,
    #[serde(default)]
    MaXa: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct DiaChiNhan {
    ChiTiet: String,
    #[serde(default)]
    MaTinh: Option<String>,
    #[serde(default)]
    MaHuyen: Option<String>,
    #[serde(default)]
    MaXa: Option<String>,
    NguoiNhan: String,
    #[serde(default)]
    SoDienThoai: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct TaiLieu {
    TenTepDinhKem: String,
    #[serde(default)]
    MaThanhPhanHoSo: Option<String>,
    #[serde(default)]
    DuongDanTaiTepTin: Option<String>,
    #[serde(default)]
    MaBam: Option<String>,
    #[serde(default)]
    KichThuoc: Option<i64>,
    #[serde(default)]
    NoiDung: Option<String>,
    #[serde(default)]
    DuocSoHoa: Option<String>,
    #[serde(default)]
    DuocTaiSuDung: Option<String>,
    #[serde(default)]
    DuocLayTuKhoDMQG: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(non_snake_case)]
struct LePhi {
    TenLePhi: String,
    SoTien: i64,
    DaThanhToan: bool,
    #[serde(default)]
    MaGiaoDich: Option<String>,
}

/// A portal submission, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct PortalIntake {
    /// The unified intake.
    pub intake: Intake,
    /// The applicant's commune, for routing dossiers addressed to a retired district.
    pub applicant_commune: Option<UnitCode>,
    /// Inline document contents.
    pub contents: Vec<InlineContent>,
}

/// True for a portal submission id: 1–64 characters of `A–Z a–z 0–9 . _ : -`.
pub fn valid_submission_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b))
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn address(
    c: &mut Checker,
    at: &str,
    detail: &str,
    province: Option<&str>,
    district: Option<&str>,
    commune: Option<&str>,
) -> Address {
    let mut code = |key: &str, v: Option<&str>| {
        v.filter(|s| !s.trim().is_empty()).and_then(|s| c.parse::<UnitCode>(format_args!("{at}/{key}"), s))
    };
    let (province, district, commune) = (code("MaTinh", province), code("MaHuyen", district), code("MaXa", commune));
    Address { detail: c.text(format_args!("{at}/ChiTiet"), detail, MAX_TEXT), province, district, commune }
}

fn phone(c: &mut Checker, at: impl std::fmt::Display, value: Option<&str>) -> Option<PhoneNumber> {
    value.filter(|s| !s.trim().is_empty()).and_then(|s| c.parse(at, s))
}

/// Parses and normalizes a portal submission (`POST /v1/portal/dossiers`).
pub fn parse_dossier(body: &[u8], max_depth: usize) -> Result<PortalIntake, InboundError> {
    let raw: PortalDossier = json::from_slice(body, max_depth)?;
    let mut c = Checker::default();

    let external_ref = raw.MaHoSoCongDVC.trim().to_owned();
    if !valid_submission_id(&external_ref) {
        c.fail("/MaHoSoCongDVC", "must be 1–64 characters of letters, digits, '.', '_', ':' or '-'");
    }
    let code = raw.MaHoSo.as_deref().filter(|s| !s.trim().is_empty()).and_then(|s| c.parse("/MaHoSo", s));
    let procedure_code = c.parse("/MaTTHC", &raw.MaTTHC);
    let procedure_name = c.text("/TenTTHC", &raw.TenTTHC, MAX_TEXT);
    if !matches!(raw.MucDo, 3 | 4) {
        c.fail("/MucDo", "must be 3 (một phần) or 4 (toàn trình)");
    }
    let requested_unit = c.parse::<UnitCode>("/MaDonViNhan", &raw.MaDonViNhan);

    let owner = &raw.ChuHoSo;
    let name = c.text("/ChuHoSo/HoTen", &owner.HoTen, MAX_NAME);
    let kind = ApplicantKind::from_portal_code(owner.LoaiDoiTuong);
    if kind.is_none() {
        c.fail("/ChuHoSo/LoaiDoiTuong", "must be 1 (công dân), 2 (doanh nghiệp), 3 (cơ quan nhà nước) or 4 (khác)");
    }
    let id_type = IdKind::from_portal_code(owner.DinhDanh.LoaiDinhDanh);
    let id_number = match id_type {
        None => {
            c.fail("/ChuHoSo/DinhDanh/LoaiDinhDanh", "must be 1 (CCCD, 12 digits), 2 (CMND, 9 digits) or 3 (tax code)");
            None
        }
        Some(kind) => match PersonalId::parse_as(owner.DinhDanh.SoDinhDanh.trim(), kind) {
            Ok(id) => Some(id),
            Err(e) => {
                c.fail("/ChuHoSo/DinhDanh/SoDinhDanh", e.to_string());
                None
            }
        },
    };
    let applicant_phone = phone(&mut c, "/ChuHoSo/SoDienThoai", owner.SoDienThoai.as_deref());
    let email = c.opt_text("/ChuHoSo/Email", owner.Email.as_deref(), 254);
    if let Some(e) = &email
        && (!e.contains('@') || e.contains(char::is_whitespace))
    {
        c.fail("/ChuHoSo/Email", "is not an e-mail address");
    }
    let home = owner.DiaChi.as_ref().map(|a| {
        address(&mut c, "/ChuHoSo/DiaChi", &a.ChiTiet, a.MaTinh.as_deref(), a.MaHuyen.as_deref(), a.MaXa.as_deref())
    });

    let submitted_at = parse_portal(raw.NgayNopHoSo.trim())
        .map_err(|_| c.fail("/NgayNopHoSo", "must be yyyyMMddHHmmss in Vietnam time, in the years 2000–2099"))
        .ok();

    if raw.TaiLieuNop.len() > MAX_DOCUMENTS {
        c.fail("/TaiLieuNop", format!("at most {MAX_DOCUMENTS} documents"));
    }
    let mut documents = Vec::new();
    let mut contents = Vec::new();
    for (i, doc) in raw.TaiLieuNop.iter().enumerate().take(MAX_DOCUMENTS) {
        let at = format!("/TaiLieuNop/{i}");
        let name = c.text(format_args!("{at}/TenTepDinhKem"), &doc.TenTepDinhKem, MAX_NAME);
        let component = c.opt_text(format_args!("{at}/MaThanhPhanHoSo"), doc.MaThanhPhanHoSo.as_deref(), 64);
        let url = doc.DuongDanTaiTepTin.as_deref().map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned);
        if let Some(u) = &url
            && (!(u.starts_with("https://") || u.starts_with("http://"))
                || u.len() > 2048
                || u.contains(char::is_whitespace))
        {
            c.fail(format!("{at}/DuongDanTaiTepTin"), "must be an http(s) URL");
        }
        let mut sha256 = doc.MaBam.as_deref().map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty());
        if let Some(h) = &sha256
            && (h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            c.fail(format!("{at}/MaBam"), "must be a SHA-256 in hex (64 digits)");
        }
        let mut size = match doc.KichThuoc {
            Some(n) if n < 0 => {
                c.fail(format!("{at}/KichThuoc"), "must not be negative");
                None
            }
            n => n.map(|n| n as u64),
        };
        let mut stored = false;
        if let Some(data) = doc.NoiDung.as_deref() {
            match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
                Err(_) => c.fail(format!("{at}/NoiDung"), "must be base64"),
                Ok(bytes) => {
                    let digest = sha256_hex(&bytes);
                    if sha256.as_ref().is_some_and(|h| *h != digest) {
                        c.fail(format!("{at}/MaBam"), "does not match the SHA-256 of NoiDung");
                    }
                    if size.is_some_and(|n| n != bytes.len() as u64) {
                        c.fail(format!("{at}/KichThuoc"), "does not match the length of NoiDung");
                    }
                    sha256 = Some(digest);
                    size = Some(bytes.len() as u64);
                    stored = true;
                    contents.push(InlineContent { document: i, bytes });
                }
            }
        } else if url.is_none() {
            c.fail(format!("{at}/DuongDanTaiTepTin"), "give the file's URL or its content (NoiDung)");
        }
        let digitization = crate::check::digitization(&mut c, &at, |name| match name {
            "DuocSoHoa" => doc.DuocSoHoa.clone(),
            "DuocTaiSuDung" => doc.DuocTaiSuDung.clone(),
            _ => doc.DuocLayTuKhoDMQG.clone(),
        });
        documents.push(Document { name, component, url, sha256, size, pages: None, stored, digitization });
    }

    if raw.LePhi.len() > MAX_FEES {
        c.fail("/LePhi", format!("at most {MAX_FEES} fees"));
    }
    let mut fees = Vec::new();
    for (i, fee) in raw.LePhi.iter().enumerate().take(MAX_FEES) {
        let at = format!("/LePhi/{i}");
        let name = c.text(format_args!("{at}/TenLePhi"), &fee.TenLePhi, MAX_NAME);
        if !(0..=1_000_000_000_000).contains(&fee.SoTien) {
            c.fail(format!("{at}/SoTien"), "must be between 0 and 1,000,000,000,000 đồng");
        }
        if raw.MucDo == 4 && !fee.DaThanhToan && fee.SoTien > 0 {
            c.fail(format!("{at}/DaThanhToan"), "a level-4 (toàn trình) dossier must have its fees paid");
        }
        let transaction = c.opt_text(format_args!("{at}/MaGiaoDich"), fee.MaGiaoDich.as_deref(), 128);
        fees.push(Fee { name, amount: fee.SoTien.max(0) as u64, paid: fee.DaThanhToan, transaction });
    }

    let return_method = ReturnMethod::from_portal_code(raw.HinhThucNhanKetQua);
    if return_method.is_none() {
        c.fail("/HinhThucNhanKetQua", "must be 1 (tại Bộ phận Một cửa), 2 (qua bưu chính) or 3 (trực tuyến)");
    }
    let return_address = match (&raw.DiaChiNhanKetQua, return_method) {
        (None, Some(ReturnMethod::Post)) => {
            c.fail("/DiaChiNhanKetQua", "is required when the result is returned by post (HinhThucNhanKetQua 2)");
            None
        }
        (Some(a), _) => {
            let at = "/DiaChiNhanKetQua";
            let address = address(&mut c, at, &a.ChiTiet, a.MaTinh.as_deref(), a.MaHuyen.as_deref(), a.MaXa.as_deref());
            let recipient = c.text(format_args!("{at}/NguoiNhan"), &a.NguoiNhan, MAX_NAME);
            let phone = phone(&mut c, format_args!("{at}/SoDienThoai"), a.SoDienThoai.as_deref());
            Some(ReturnAddress { address, recipient, phone })
        }
        (None, _) => None,
    };

    let applicant_commune = home.as_ref().and_then(|a| a.commune.clone());
    let (
        Some(procedure_code),
        Some(requested_unit),
        Some(kind),
        Some(id),
        Some(submitted_at),
        Some(return_method),
        true,
    ) = (procedure_code, requested_unit, kind, id_number, submitted_at, return_method, c.is_clean())
    else {
        c.finish()?;
        return Err(InboundError::malformed("", "the dossier is incomplete"));
    };
    let intake = Intake {
        channel: Channel::Portal,
        level: Some(raw.MucDo as u8),
        external_ref,
        code,
        procedure: ProcedureRef { code: procedure_code, name: procedure_name },
        applicant: Applicant {
            kind,
            name,
            id_type: id.kind(),
            id_number: id.as_str().to_owned(),
            phone: applicant_phone,
            email,
            address: home,
        },
        requested_unit,
        documents,
        fees,
        return_method,
        return_address,
        collect_from_home: raw.ThuGomTaiNha,
        notify_consent: raw.DongYNhanThongBao,
        submitted_at,
        pointers: IntakePointers {
            procedure: "/MaTTHC".into(),
            unit: "/MaDonViNhan".into(),
            fees: "/LePhi".into(),
            applicant_commune: "/ChuHoSo/DiaChi/MaXa".into(),
            code: "/MaHoSo".into(),
            submitted: "/NgayNopHoSo".into(),
        },
    };
    Ok(PortalIntake { intake, applicant_commune, contents })
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = include_str!("../../../schemas/samples/portal-dossier.json");

    fn with(edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_str(SAMPLE).unwrap();
        edit(&mut v);
        serde_json::to_vec(&v).unwrap()
    }

    fn invalid_pointers(body: &[u8]) -> Vec<String> {
        match parse_dossier(body, 32) {
            Err(InboundError::Invalid(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn the_contract_sample_normalizes() {
        let p = parse_dossier(SAMPLE.as_bytes(), 32).unwrap();
        let i = &p.intake;
        assert_eq!(i.channel, Channel::Portal);
        assert_eq!(i.level, Some(4));
        assert_eq!(i.external_ref, "DVC-2026-000123");
        assert_eq!(i.procedure.code.as_str(), "1.001193");
        assert_eq!(i.applicant.name, "Giàng A Sử");
        assert_eq!(i.applicant.id_type, IdKind::CitizenId);
        assert_eq!(i.applicant.phone.as_ref().unwrap().as_str(), "0912345678");
        assert_eq!(i.requested_unit.as_str(), "04606");
        assert_eq!(i.return_method, ReturnMethod::Post);
        assert_eq!(i.return_address.as_ref().unwrap().recipient, "Giàng A Sử");
        assert_eq!(motcua_schemas::time::format_rfc3339(i.submitted_at), "2026-11-25T09:30:00+07:00");
        assert_eq!(p.applicant_commune.unwrap().as_str(), "04606");
        assert!(p.contents.is_empty());
    }

    #[test]
    fn decomposed_text_is_stored_composed() {
        use motcua_schemas::text::nfc;
        let nfd: String = unicode_nfd("Nguyễn Văn Ánh");
        let body = with(|v| v["ChuHoSo"]["HoTen"] = nfd.clone().into());
        let p = parse_dossier(&body, 32).unwrap();
        assert_eq!(p.intake.applicant.name, nfc("Nguyễn Văn Ánh"));
        assert_eq!(p.intake.applicant.name, "Nguyễn Văn Ánh");
    }

    fn unicode_nfd(s: &str) -> String {
        // Decompose the letters this test uses, without another dependency.
        s.replace('ễ', "e\u{302}\u{303}").replace('Á', "A\u{301}").replace('ă', "a\u{306}")
    }

    #[test]
    fn a_failing_field_inside_a_list_or_an_address_is_located_exactly() {
        let body = with(|v| {
            v["TaiLieuNop"][0]["TenTepDinhKem"] = " ".into();
            v["TaiLieuNop"][0]["MaThanhPhanHoSo"] = "a\u{0}b".into();
            v["LePhi"][0]["TenLePhi"] = "".into();
            v["ChuHoSo"]["DiaChi"] = serde_json::json!({"ChiTiet": "Tổ 3", "MaTinh": "1x"});
        });
        assert_eq!(
            invalid_pointers(&body),
            [
                "/ChuHoSo/DiaChi/MaTinh",
                "/TaiLieuNop/0/TenTepDinhKem",
                "/TaiLieuNop/0/MaThanhPhanHoSo",
                "/LePhi/0/TenLePhi",
            ]
        );
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_pointer() {
        let body = with(|v| {
            v["MucDo"] = 5.into();
            v["MaTTHC"] = "1.1193".into();
            v["ChuHoSo"]["DinhDanh"]["SoDinhDanh"] = "01509000123".into();
            v["ChuHoSo"]["SoDienThoai"] = "091234".into();
            v["NgayNopHoSo"] = "2026-11-25".into();
            v["TaiLieuNop"][0]["MaBam"] = "xyz".into();
            v["HinhThucNhanKetQua"] = 2.into();
            v["DiaChiNhanKetQua"] = serde_json::Value::Null;
        });
        assert_eq!(
            invalid_pointers(&body),
            [
                "/MaTTHC",
                "/MucDo",
                "/ChuHoSo/DinhDanh/SoDinhDanh",
                "/ChuHoSo/SoDienThoai",
                "/NgayNopHoSo",
                "/TaiLieuNop/0/MaBam",
                "/DiaChiNhanKetQua",
            ]
        );
    }

    #[test]
    fn level_4_fees_must_be_paid() {
        let body = with(|v| v["LePhi"][0]["DaThanhToan"] = false.into());
        assert_eq!(invalid_pointers(&body), ["/LePhi/0/DaThanhToan"]);
        let level3 = with(|v| {
            v["MucDo"] = 3.into();
            v["LePhi"][0]["DaThanhToan"] = false.into();
        });
        assert!(parse_dossier(&level3, 32).is_ok());
    }

    #[test]
    fn inline_content_is_decoded_and_hashed() {
        let body = with(|v| {
            v["TaiLieuNop"][0] = serde_json::json!({"TenTepDinhKem": "a.txt", "NoiDung": "aGVsbG8="});
        });
        let p = parse_dossier(&body, 32).unwrap();
        assert_eq!(p.contents, vec![InlineContent { document: 0, bytes: b"hello".to_vec() }]);
        let doc = &p.intake.documents[0];
        assert_eq!(doc.sha256.as_deref(), Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"));
        assert_eq!(doc.size, Some(5));
        assert!(doc.stored);
        let wrong = with(|v| {
            v["TaiLieuNop"][0] =
                serde_json::json!({"TenTepDinhKem": "a.txt", "NoiDung": "aGVsbG8=", "MaBam": "00".repeat(32)});
        });
        assert_eq!(invalid_pointers(&wrong), ["/TaiLieuNop/0/MaBam"]);
    }

    #[test]
    fn wrong_types_and_unknown_fields_are_422_syntax_is_400() {
        let body = with(|v| v["MucDo"] = "4".into());
        assert_eq!(invalid_pointers(&body), ["/MucDo"]);
        let body = with(|v| v["ChuHoSo"]["Tuoi"] = 30.into());
        assert_eq!(invalid_pointers(&body), ["/ChuHoSo/Tuoi"]);
        assert!(matches!(parse_dossier(b"{\"MaHoSoCongDVC\": ", 32), Err(InboundError::Malformed { .. })));
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(matches!(parse_dossier(deep.as_bytes(), 32), Err(InboundError::Malformed { .. })));
    }

    #[test]
    fn nul_bytes_in_text_are_refused() {
        let body = with(|v| v["ChuHoSo"]["HoTen"] = "Giàng\u{0}A".into());
        assert_eq!(invalid_pointers(&body), ["/ChuHoSo/HoTen"]);
    }
}
