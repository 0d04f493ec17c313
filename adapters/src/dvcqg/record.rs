//! What the gateway tells the national portal of a dossier (docs/PEERS.md §1.5–§1.7):
//! its whole current record (`DongBoHoSoMC`) and its progress steps
//! (`CapNhatTienDoHoSoMC`), every scalar a string, every date `yyyyMMddHHmmss` in
//! Vietnam time, lists sent empty rather than left out.

use std::collections::BTreeMap;

use motcua_schemas::{
    ApplicantKind, Channel, Digitization, Dossier, EventType, HistoryEntry, IdKind, ReturnMethod, Status,
};
use serde_json::{Map, Value, json};

use crate::portal::outbound::describe;

/// The portal's status code for each local status: data, not code (docs/PEERS.md
/// §1.7 — one integration sends its own 5, 6 and 8 as 9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCodes(BTreeMap<u8, String>);

impl Default for StatusCodes {
    /// The portal's own numbering, which the local statuses follow.
    fn default() -> Self {
        StatusCodes(Status::ALL.iter().map(|s| (s.code(), s.code().to_string())).collect())
    }
}

impl StatusCodes {
    /// The default mapping with `overrides` (local code → portal code) applied.
    pub fn with(overrides: &BTreeMap<u8, String>) -> StatusCodes {
        let mut codes = StatusCodes::default();
        for (local, portal) in overrides {
            codes.0.insert(*local, portal.clone());
        }
        codes
    }

    /// The portal's code for `status`.
    pub fn of(&self, status: Status) -> String {
        self.0.get(&status.code()).cloned().unwrap_or_else(|| status.code().to_string())
    }
}

/// What the record needs beyond the dossier itself.
#[derive(Debug, Clone)]
pub struct RecordContext<'a> {
    /// The code the portal knows the dossier by (`MaHoSo`).
    pub code: &'a str,
    /// The processing unit's name (`DonViXuLy`).
    pub unit_name: &'a str,
    /// The procedure's field code and name (`MaLinhVuc`, `TenLinhVuc`).
    pub field: (&'a str, &'a str),
    /// Local status → portal code.
    pub statuses: &'a StatusCodes,
    /// Fields of fixed value whose meaning the public code does not show
    /// (docs/PEERS.md §1.5: `NoiNopHoSo`, `DSKetNoiCSDL`, …), from configuration.
    pub constants: &'a Map<String, Value>,
    /// Fixed fields of each fee row (`HinhThucThu`, `LoaiPhiLePhi`), from configuration.
    pub fee_constants: &'a Map<String, Value>,
    /// `NguoiXuLy` of the steps the gateway itself records (intake).
    pub intake_officer: &'a str,
    /// `NguoiXuLy` of a step whose desk named no officer.
    pub default_officer: &'a str,
    /// For each document, the link the portal fetches its stored file by, if any
    /// (`DuongDanTaiTepTin`; otherwise the document's own URL, or `""`).
    pub file_links: &'a [Option<String>],
    /// The codes and flags whose values the public code shows only in part.
    pub codes: &'a RecordCodes,
    /// The applicant's portal id (`MaDoiTuong`) the portal sent, to echo.
    pub object_id: Option<&'a str>,
    /// The procedure's results in the national catalogue: name → `MaGiayToKetQua`.
    pub result_codes: &'a std::collections::BTreeMap<String, String>,
}

/// Record values the public integrations show only in part (docs/PORTAL.md, "Record
/// fields"), from configuration; the defaults are what the gateway has always sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordCodes {
    /// `DuocThanhToanTrucTuyen` of a dossier with no fees.
    pub no_fees: String,
    /// … with a fee paid online.
    pub paid_online: String,
    /// … with fees, none paid online (one integration sends `3`).
    pub unpaid: String,
    /// `HinhThuc` of a result returned online (`0` at the counter and `1` by post are
    /// observed; an online result has no code in public code).
    pub result_online: String,
    /// Echo the `MaDoiTuong` the portal sent (one integration sends it for online
    /// dossiers), instead of `""`.
    pub echo_object_id: bool,
    /// Fields added to each `TaiLieuNop` row (`DuocSoHoa`, `DuocTaiSuDung`,
    /// `DuocLayTuKhoDMQG`, `MaGiayToKetQua`, …), by component code; `*` for every row.
    pub document_flags: std::collections::BTreeMap<String, Map<String, Value>>,
}

impl Default for RecordCodes {
    fn default() -> Self {
        RecordCodes {
            no_fees: "0".into(),
            paid_online: "1".into(),
            unpaid: "0".into(),
            result_online: "0".into(),
            echo_object_id: false,
            document_flags: Default::default(),
        }
    }
}

/// The longest summary the portal keeps (docs/PEERS.md §1.5).
const MAX_SUMMARY: usize = 995;
/// The longest officer name the portal keeps (docs/PEERS.md §1.6).
const MAX_OFFICER: usize = 50;

fn date(at: Option<jiff::Timestamp>) -> Value {
    Value::String(at.map(motcua_schemas::time::format_portal).unwrap_or_default())
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max { text.to_owned() } else { text.chars().take(max).collect::<String>() + "..." }
}

fn first_time(d: &Dossier, status: Status) -> Option<jiff::Timestamp> {
    d.history.iter().find(|h| h.status_after == status && h.status_before != Some(status)).map(|h| h.at)
}

fn applicant_kind(kind: ApplicantKind) -> &'static str {
    match kind {
        ApplicantKind::Citizen => "1",
        ApplicantKind::Enterprise => "2",
        ApplicantKind::StateAgency => "3",
        ApplicantKind::Other => "4",
    }
}

/// A document's own digitization codes (docs/PORTAL.md, "Digitization"), when the
/// intake or a desk marked it; an unmarked one keeps the configured defaults.
fn digitization_codes(fields: &mut Map<String, Value>, marks: &Digitization) {
    if marks.is_unmarked() {
        return;
    }
    let code = |on: bool| Value::from(if on { "1" } else { "0" });
    fields.insert("DuocSoHoa".into(), code(marks.digitized));
    fields.insert("DuocTaiSuDung".into(), code(marks.reused));
    fields.insert("DuocLayTuKhoDMQG".into(), code(marks.from_national_store));
}

/// One `DongBoHoSoMC.data[]` item: the dossier's whole current record.
pub fn record(d: &Dossier, ctx: &RecordContext<'_>) -> Value {
    let a = &d.applicant;
    let identity = match a.id_type {
        IdKind::CitizenId | IdKind::LegacyId => {
            vec![json!({ "LoaiDinhDanh": a.id_type.portal_code().to_string(), "SoDinhDanh": a.id_number })]
        }
        IdKind::TaxCode => Vec::new(),
    };
    let documents: Vec<Value> = d
        .documents
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let mut row = json!({
                "TepDinhKemId": (i + 1).to_string(),
                "TenTepDinhKem": cut(&doc.name, 4000),
                "IsDeleted": "False",
                "MaThanhPhanHoSo": doc.component.clone().unwrap_or_default(),
                "DuongDanTaiTepTin": ctx.file_links.get(i).cloned().flatten().or_else(|| doc.url.clone()).unwrap_or_default(),
            });
            let flags = ["*", doc.component.as_deref().unwrap_or_default()];
            if let Value::Object(fields) = &mut row {
                digitization_codes(fields, &doc.digitization);
                for flag in flags.iter().filter_map(|c| ctx.codes.document_flags.get(*c)) {
                    for (k, v) in flag {
                        fields.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
            row
        })
        .collect();
    let fees: Vec<Value> = d
        .fees
        .iter()
        .map(|fee| {
            let mut row = Map::new();
            row.insert("TenPhiLePhi".into(), fee.name.clone().into());
            row.insert("MaPhiLePhi".into(), "".into());
            row.insert("Gia".into(), fee.amount.to_string().into());
            for (k, v) in ctx.fee_constants {
                row.insert(k.clone(), v.clone());
            }
            Value::Object(row)
        })
        .collect();
    let results: Vec<Value> = d
        .history
        .iter()
        .rev()
        .find(|h| h.kind == EventType::ResultReady)
        .and_then(|h| h.details.as_ref()?.get("result_documents")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            let name = doc.get("name").and_then(Value::as_str).unwrap_or_default();
            let mut row = json!({
                "TenGiayTo": cut(name, 2000),
                "MaThanhPhanHoSo": "",
                "GiayToId": (i + 1).to_string(),
                "DuongDanTepTinKetQua": doc.get("url").and_then(Value::as_str).unwrap_or_default(),
            });
            if let (Value::Object(fields), Some(marks)) = (&mut row, doc.get("digitization")) {
                let marks: Digitization = serde_json::from_value(marks.clone()).unwrap_or_default();
                digitization_codes(fields, &marks);
            }
            // The catalogue's code of a result of that name, as one integration sends it.
            if let Some(code) = ctx.result_codes.get(name.trim()) {
                row["MaGiayToKetQua"] = code.clone().into();
            }
            row
        })
        .collect();
    let processed = first_time(d, Status::Processed);
    let returned = first_time(d, Status::Returned);
    let ended = [Status::NotReceived, Status::Withdrawn, Status::Stopped]
        .into_iter()
        .filter_map(|s| first_time(d, s))
        .min()
        .or(processed);
    let online_payment = match (d.fees.is_empty(), d.fees.iter().any(|f| f.paid)) {
        (true, _) => &ctx.codes.no_fees,
        (false, true) => &ctx.codes.paid_online,
        (false, false) => &ctx.codes.unpaid,
    };
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    put("MaHoSo", ctx.code.into());
    put("MaTTHC", d.procedure.code.to_string().into());
    put("TenTTHC", d.procedure.name.clone().into());
    put("MaLinhVuc", ctx.field.0.into());
    put("TenLinhVuc", ctx.field.1.into());
    put("KenhThucHien", Channel::portal_code(d.channel).to_string().into());
    put("ChuHoSo", a.name.clone().into());
    put("SoGiayToChuHoSo", a.id_number.clone().into());
    put("LoaiDoiTuong", applicant_kind(a.kind).into());
    // The applicant's portal account (TechID), known only when the portal sent it.
    let object_id = ctx.object_id.filter(|_| ctx.codes.echo_object_id).unwrap_or_default();
    put("MaDoiTuong", object_id.into());
    put("ThongTinKhac", "".into());
    put("Email", a.email.clone().unwrap_or_default().into());
    put("Fax", "".into());
    put("SoDienThoai", a.phone.as_ref().map(|p| p.to_string()).unwrap_or_default().into());
    put("TrichYeuHoSo", cut(&d.procedure.name, MAX_SUMMARY).into());
    put("NgayNopHoSo", date(Some(d.submitted_at)));
    put("NgayTiepNhan", date(Some(d.received_at)));
    put("NgayHenTra", date(Some(d.appointment_at)));
    put("NgayTra", date(returned));
    put("NgayKetThucXuLy", date(ended));
    put("NgayTuChoi", date(first_time(d, Status::NotReceived)));
    put("TrangThaiHoSo", ctx.statuses.of(d.status).into());
    put("ThongTinTra", "".into());
    let delivery = match d.return_method {
        ReturnMethod::Post => "1",
        ReturnMethod::Online => ctx.codes.result_online.as_str(),
        ReturnMethod::Desk => "0",
    };
    put("HinhThuc", delivery.into());
    put("DonViXuLy", ctx.unit_name.into());
    put("SoBienNhan", "".into());
    let digitized = d.documents.iter().any(|x| x.url.is_some() || x.stored || x.digitization.counts());
    put("HoSoCoThanhPhanSoHoa", if digitized { "1" } else { "0" }.into());
    put("DuocThanhToanTrucTuyen", online_payment.clone().into());
    put("DinhDanhCHS", Value::Array(identity));
    put("TaiLieuNop", Value::Array(documents));
    put("DanhSachLePhi", Value::Array(fees));
    put("DanhSachGiayToKetQua", Value::Array(results));
    put("DanhSachTepDinhKemKhac", json!([]));
    put("DanhSachHoSoBoSung", json!([]));
    for (k, v) in ctx.constants {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

/// The `DongBoTrangThaiHoSo.data` of a trade-promotion dossier the portal pushed, as of
/// history entry `seq`, its status sent as `code` (docs/PEERS.md §1.10): `MaDoiTuong`
/// echoes what the portal sent (`object_id`), `NgayXuLy` is the entry's time. `None`
/// when the dossier has no such entry.
pub fn promotion_status(d: &Dossier, ctx: &RecordContext<'_>, seq: u32, code: &str, object_id: &str) -> Option<Value> {
    let h = d.history.iter().find(|h| h.seq == seq)?;
    let documents: Vec<Value> = h
        .details
        .as_ref()
        .and_then(|x| x.get("result_documents"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, doc)| {
            json!({
                "TenTepDinhKem": cut(doc.get("name").and_then(Value::as_str).unwrap_or_default(), 4000),
                "MaThanhPhanHoSo": "",
                "TepDinhKemId": (i + 1).to_string(),
                "DuongDanTaiTepTin": doc.get("url").and_then(Value::as_str).unwrap_or_default(),
                "IsDeleted": "False",
            })
        })
        .collect();
    Some(json!({
        "MaHoSo": ctx.code,
        "MaHoSoDonVi": d.code.as_str(),
        "MaDoiTuong": object_id,
        "NoiDung": h.note.clone().unwrap_or_else(|| describe(h.kind).to_owned()),
        "NgayXuLy": date(Some(h.at)),
        "TrangThai": code,
        "TaiLieuXuLy": documents,
    }))
}

/// True for the history entries that are steps of the dossier's handling (the
/// gateway's own notes — reminders, delivery marks — are not).
pub fn is_step(h: &HistoryEntry) -> bool {
    h.kind != EventType::Note
}

/// The `CapNhatTienDoHoSoMC.data[]` items of the steps after history entry `after`,
/// at most `max` of them, and the sequence number of the last one sent.
pub fn progress(d: &Dossier, ctx: &RecordContext<'_>, after: u32, max: usize) -> (Vec<Value>, Option<u32>) {
    let steps: Vec<&HistoryEntry> = d.history.iter().filter(|h| is_step(h)).collect();
    let mut out = Vec::new();
    let mut last = None;
    for (i, h) in steps.iter().enumerate() {
        if h.seq <= after {
            continue;
        }
        if out.len() == max {
            break;
        }
        let officer = h.details.as_ref().and_then(|x| x.get("officer"));
        let field = |k: &str| officer.and_then(|o| o.get(k)).and_then(Value::as_str).map(str::to_owned);
        let name = field("name").unwrap_or_else(|| {
            if h.kind == EventType::Intake { ctx.intake_officer } else { ctx.default_officer }.to_owned()
        });
        let started = i.checked_sub(1).and_then(|p| steps.get(p)).map_or(h.at, |p| p.at);
        out.push(json!({
            "MaHoSo": ctx.code,
            "NguoiXuLy": name.chars().take(MAX_OFFICER).collect::<String>(),
            "ChucDanh": field("title").unwrap_or_default(),
            "ThoiDiemXuLy": date(Some(h.at)),
            "PhongBanXuLy": field("department").unwrap_or_else(|| ctx.unit_name.to_owned()),
            "NoiDungXuLy": h.note.clone().unwrap_or_else(|| {
                let reason = h.details.as_ref().and_then(|x| x.get("reason")).and_then(Value::as_str);
                match reason {
                    Some(reason) => format!("{}: {reason}", describe(h.kind)),
                    None => describe(h.kind).to_owned(),
                }
            }),
            "TrangThai": ctx.statuses.of(h.status_after),
            "NgayBatDau": date(Some(started)),
            "NgayKetThucTheoQuyDinh": date(Some(d.due_at)),
        }));
        last = Some(h.seq);
    }
    (out, last)
}

/// True when steps after `after` remain to be sent.
pub fn has_steps_after(d: &Dossier, after: u32) -> bool {
    d.history.iter().any(|h| is_step(h) && h.seq > after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use motcua_schemas::{Applicant, PostalInfo, ProcedureRef};

    fn dossier(steps: usize) -> Dossier {
        let at = jiff::Timestamp::from_second(1_790_000_000).unwrap();
        let history = (0..steps)
            .map(|i| HistoryEntry {
                seq: u32::try_from(i + 1).unwrap(),
                at,
                recorded_at: at,
                kind: if i == 0 { EventType::Intake } else { EventType::Processing },
                actor: "x".into(),
                status_before: None,
                status_after: Status::Processing,
                note: None,
                details: (i == 1).then(|| json!({ "officer": { "name": "Nguyễn Thị Thu Hà", "title": "Công chức" } })),
                prev: None,
            })
            .collect();
        Dossier {
            code: "000.07.20.H38-261125-0001".parse().unwrap(),
            channel: Channel::Portal,
            level: None,
            external_ref: "X".into(),
            procedure: ProcedureRef { code: "1.001193".parse().unwrap(), name: "Đăng ký khai sinh".into() },
            applicant: Applicant {
                kind: ApplicantKind::Citizen,
                name: "Lò Văn A".into(),
                id_type: IdKind::CitizenId,
                id_number: "015190001234".into(),
                phone: None,
                email: None,
                address: None,
            },
            requested_unit: "04606".into(),
            target_unit: "04606".parse().unwrap(),
            desk: "mc".into(),
            documents: Vec::new(),
            fees: vec![motcua_schemas::Fee { name: "Lệ phí".into(), amount: 8000, paid: true, transaction: None }],
            return_method: ReturnMethod::Desk,
            return_address: None,
            submitted_at: at,
            received_at: at,
            due_at: at,
            appointment_at: at,
            status: Status::Processing,
            status_name: String::new(),
            overdue: false,
            history,
            postal: PostalInfo::default(),
            rating: None,
        }
    }

    static CODES: std::sync::LazyLock<RecordCodes> = std::sync::LazyLock::new(RecordCodes::default);
    static RESULTS: std::sync::LazyLock<BTreeMap<String, String>> = std::sync::LazyLock::new(BTreeMap::new);

    fn context<'a>(statuses: &'a StatusCodes, empty: &'a Map<String, Value>) -> RecordContext<'a> {
        RecordContext {
            code: "G22-1",
            unit_name: "Xã Trạm Tấu",
            field: ("HT", "Hộ tịch"),
            statuses,
            constants: empty,
            fee_constants: empty,
            intake_officer: "Cán bộ một cửa",
            default_officer: "Chuyên viên",
            file_links: &[],
            codes: &CODES,
            object_id: Some("c1a7e2f4-3b9d"),
            result_codes: &RESULTS,
        }
    }

    fn all_strings(v: &Value) -> bool {
        match v {
            Value::String(_) => true,
            Value::Array(items) => items.iter().all(all_strings),
            Value::Object(obj) => obj.values().all(all_strings),
            _ => false,
        }
    }

    #[test]
    fn a_promotion_status_names_the_entry_and_its_result_documents() {
        let statuses = StatusCodes::with(&BTreeMap::new());
        let empty = Map::new();
        let mut d = dossier(2);
        d.history[1].note = Some("Đã xác nhận".into());
        d.history[1].details =
            Some(json!({ "result_documents": [{ "name": "Thông báo xác nhận.pdf", "url": "https://x.vn/1" }] }));
        let data = promotion_status(&d, &context(&statuses, &empty), 2, "2", "").unwrap();
        assert!(all_strings(&data), "{data}");
        assert_eq!((data["MaHoSo"].as_str(), data["TrangThai"].as_str()), (Some("G22-1"), Some("2")));
        assert_eq!(data["NoiDung"], "Đã xác nhận");
        assert_eq!(data["TaiLieuXuLy"][0]["DuongDanTaiTepTin"], "https://x.vn/1");
        assert!(promotion_status(&d, &context(&statuses, &empty), 9, "2", "").is_none());
    }

    #[test]
    fn every_scalar_of_the_record_is_a_string_and_statuses_map() {
        let statuses = StatusCodes::with(&BTreeMap::from([(4, "9".to_owned())]));
        let empty = Map::new();
        let r = record(&dossier(2), &context(&statuses, &empty));
        assert!(all_strings(&r), "{r}");
        assert_eq!(r["TrangThaiHoSo"], "9");
        assert_eq!(r["NgayTra"], "");
        assert_eq!(r["DuocThanhToanTrucTuyen"], "1");
        assert_eq!(r["DanhSachLePhi"][0]["Gia"], "8000");
        assert_eq!(r["MaDoiTuong"], "", "not echoed by default");
    }

    #[test]
    fn the_codes_the_sources_disagree_on_are_configuration() {
        let statuses = StatusCodes::default();
        let empty = Map::new();
        let mut codes = RecordCodes { unpaid: "3".into(), echo_object_id: true, ..RecordCodes::default() };
        let flags = json!({ "DuocSoHoa": "1", "DuocTaiSuDung": "0" }).as_object().cloned().unwrap();
        codes.document_flags.insert("*".into(), flags);
        let mut d = dossier(2);
        d.fees.iter_mut().for_each(|f| f.paid = false);
        d.documents.push(motcua_schemas::Document {
            name: "Tờ khai".into(),
            component: Some("TP01".into()),
            url: None,
            sha256: None,
            size: None,
            pages: None,
            stored: false,
            digitization: Default::default(),
        });
        let ctx = RecordContext { codes: &codes, ..context(&statuses, &empty) };
        let r = record(&d, &ctx);
        assert_eq!((&r["DuocThanhToanTrucTuyen"], &r["MaDoiTuong"]), (&json!("3"), &json!("c1a7e2f4-3b9d")));
        assert!(!r["TaiLieuNop"].as_array().unwrap().is_empty());
        for row in r["TaiLieuNop"].as_array().unwrap() {
            assert_eq!((&row["DuocSoHoa"], &row["DuocTaiSuDung"]), (&json!("1"), &json!("0")), "{row}");
        }
    }

    #[test]
    fn steps_go_at_most_max_at_a_time_from_where_the_portal_is() {
        let (statuses, empty) = (StatusCodes::default(), Map::new());
        let d = dossier(13);
        let ctx = context(&statuses, &empty);
        let (first, last) = progress(&d, &ctx, 0, 10);
        assert_eq!((first.len(), last), (10, Some(10)));
        assert_eq!(first[0]["NguoiXuLy"], "Cán bộ một cửa");
        assert_eq!(first[1]["NguoiXuLy"], "Nguyễn Thị Thu Hà");
        assert_eq!(first[2]["NguoiXuLy"], "Chuyên viên");
        assert!(first.iter().all(all_strings));
        assert!(has_steps_after(&d, 10));
        let (rest, last) = progress(&d, &ctx, 10, 10);
        assert_eq!((rest.len(), last), (3, Some(13)));
        assert!(!has_steps_after(&d, 13));
    }
}
