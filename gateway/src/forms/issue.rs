//! Forms 01 to 06, each built when its event happens from what the dossier and the
//! configuration say then.

use jiff::Timestamp;
use motcua_schemas::{Channel, Dossier, EventType, ReturnMethod, Status};

use super::document::{Block, Content, IssuedDocument, Signature};
use super::words::{committee, committee_upper, date_line, long_time, place, processing_text, short_time};
use crate::network::Network;
use crate::settings::Settings;

/// The legal basis printed at the foot of every form.
fn basis(form: &str) -> String {
    format!("Mẫu {form} — Phụ lục I, Thông tư số 03/2025/TT-VPCP")
}

/// What every form of one dossier shares.
struct Context<'a> {
    d: &'a Dossier,
    unit: String,
    desk: String,
    signer: Vec<String>,
}

impl<'a> Context<'a> {
    fn new(d: &'a Dossier, settings: &Settings) -> Context<'a> {
        let unit = settings.network.unit(&d.target_unit).map_or_else(|| d.target_unit.to_string(), |u| u.name.clone());
        let desk = settings.network.desk(&d.desk);
        let signer = desk
            .map(|desk| desk.signer.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["TM. ỦY BAN NHÂN DÂN".to_owned(), "CHỦ TỊCH".to_owned()]);
        Context { d, unit, desk: desk.map_or_else(|| d.desk.clone(), |desk| desk.name.clone()), signer }
    }

    fn content(&self, form: &str, title: &str, number: String, at: Timestamp) -> Content {
        Content {
            form: form.to_owned(),
            title: title.to_owned(),
            number,
            authority: vec![committee_upper(&self.unit), self.desk.to_uppercase()],
            place_date: format!("{}, {}", place(&self.unit), date_line(at)),
            addressee: None,
            body: Vec::new(),
            signatures: Vec::new(),
            basis: basis(form),
        }
    }

    fn addressee(&self) -> Option<String> {
        Some(format!("Kính gửi: Ông/Bà {}", self.d.applicant.name))
    }

    /// "Ngày 25/11/2026, Bộ phận Một cửa … tiếp nhận hồ sơ của Ông/Bà đề nghị giải
    /// quyết thủ tục: …, mã hồ sơ …."
    fn received_paragraph(&self) -> Block {
        Block::Paragraph(format!(
            "Ngày {}, {} tiếp nhận hồ sơ của Ông/Bà đề nghị giải quyết thủ tục: {}. Mã hồ sơ: {}.",
            motcua_schemas::time::to_vn(self.d.received_at).strftime("%d/%m/%Y"),
            self.desk,
            self.d.procedure.name,
            self.d.code
        ))
    }

    fn signed(&self, note: &str) -> Signature {
        Signature { title: self.signer.clone(), note: note.to_owned() }
    }
}

/// "Bản Km 21, xã Trạm Tấu, tỉnh Lào Cai": the address with its units named.
fn address_in_words(address: &motcua_schemas::Address, network: &Network, on: Timestamp) -> String {
    let day = motcua_schemas::time::to_vn(on).date();
    let mut parts = vec![address.detail.clone()];
    for code in [&address.commune, &address.province].into_iter().flatten() {
        if let Some(unit) = network.unit_on(code, day).or_else(|| network.unit(code)) {
            parts.push(Network::name_in_sentence(&unit.name));
        }
    }
    parts.retain(|p| !p.trim().is_empty());
    parts.join(", ")
}

/// A document's name as the procedure lists it, or its file name without extension.
fn document_name(
    doc: &motcua_schemas::Document,
    settings: &Settings,
    procedure: &motcua_schemas::ProcedureCode,
) -> String {
    let listed = doc
        .component
        .as_ref()
        .and_then(|c| settings.catalogue.get(procedure).and_then(|p| p.documents.get(c.as_str())));
    let name = match listed {
        Some(name) => name.clone(),
        None => match doc.name.rsplit_once('.') {
            Some((stem, ext)) if (1..=4).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric()) => {
                stem.to_owned()
            }
            _ => doc.name.clone(),
        },
    };
    match doc.pages {
        Some(pages) => format!("{name} ({pages} trang)"),
        None => name,
    }
}

/// What the receipt (Mẫu 01) says beyond the registered submission, fixed at intake:
/// the appointment and return method as registered, and every name as written
/// then. The receipt's content is the submission (whose SHA-256 is the dossier's
/// fingerprint) and these facts; its SHA-256 is taken over both, so it is issued at
/// intake at the cost of a few short strings, and the receipt reads the same for as
/// long as the dossier is kept.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptFacts {
    /// When it was issued.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub issued_at: Timestamp,
    /// The appointment as registered.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub appointment_at: Timestamp,
    /// The return method as registered.
    pub return_method: ReturnMethod,
    /// The receiving desk's name.
    pub desk: String,
    /// The unit that handles the dossier.
    pub unit: String,
    /// The processing time in words.
    pub processing: String,
    /// The applicant's address in words.
    pub address: Option<String>,
    /// Where the result goes by post, in words.
    pub return_to: Option<String>,
    /// The documents received, by name.
    pub documents: Vec<String>,
    /// SHA-256 of the submission's fingerprint and these facts.
    pub sha256: String,
    /// The hash of the link before it in the dossier's sealed history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

/// Fixes the receipt's facts of dossier `d` at intake; `fingerprint` is the SHA-256
/// of its normalized submission.
pub fn issue_receipt(d: &Dossier, fingerprint: &str, settings: &Settings, at: Timestamp) -> ReceiptFacts {
    let unit = settings.network.unit(&d.target_unit).map_or_else(|| d.target_unit.to_string(), |u| u.name.clone());
    let desk = settings.network.desk(&d.desk).map_or_else(|| d.desk.clone(), |desk| desk.name.clone());
    let code = &d.procedure.code;
    let mut facts = ReceiptFacts {
        issued_at: at,
        appointment_at: d.appointment_at,
        return_method: d.return_method,
        desk,
        unit,
        processing: settings.catalogue.get(code).map(|p| processing_text(p.processing)).unwrap_or_default(),
        address: d.applicant.address.as_ref().map(|a| address_in_words(a, &settings.network, at)),
        return_to: d.return_address.as_ref().map(|a| address_in_words(&a.address, &settings.network, at)),
        documents: d.documents.iter().map(|doc| document_name(doc, settings, code)).collect(),
        sha256: String::new(),
        prev: None,
    };
    let mut ctx = crate::digest::Sha256Json::new(fingerprint.as_bytes());
    // The facts always serialize: they hold strings, numbers and times only.
    let _ = ctx.json(&facts);
    facts.sha256 = crate::digest::hex(ctx.finish().as_ref());
    facts
}

/// Mẫu 01 as issued: what was received and when the result will be returned, as
/// registered at intake.
pub fn receipt(d: &Dossier, f: &ReceiptFacts) -> IssuedDocument {
    let mut c = Content {
        form: "01".to_owned(),
        title: "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ".to_owned(),
        number: d.code.to_string(),
        authority: vec![committee_upper(&f.unit), f.desk.to_uppercase()],
        place_date: format!("{}, {}", place(&f.unit), date_line(f.issued_at)),
        addressee: None,
        body: Vec::new(),
        signatures: Vec::new(),
        basis: basis("01"),
    };
    let mut body = vec![Block::Paragraph(format!("{} tiếp nhận hồ sơ của: Ông/Bà {}", f.desk, d.applicant.name))];
    if let Some(address) = &f.address {
        body.push(Block::Paragraph(format!("Địa chỉ: {address}")));
    }
    if let Some(phone) = &d.applicant.phone {
        body.push(Block::Paragraph(format!("Số điện thoại: {phone}")));
    }
    if let Some(email) = &d.applicant.email {
        body.push(Block::Paragraph(format!("Thư điện tử: {email}")));
    }
    body.push(Block::Paragraph(format!(
        "Nội dung yêu cầu giải quyết: {} (mã thủ tục {})",
        d.procedure.name, d.procedure.code
    )));
    body.push(Block::Paragraph("1. Thành phần hồ sơ nộp gồm:".to_owned()));
    body.extend(f.documents.iter().map(|name| Block::Item(name.clone())));
    body.push(Block::Paragraph("2. Số lượng hồ sơ: 01 (bộ).".to_owned()));
    body.push(Block::Paragraph(format!("3. Thời gian giải quyết hồ sơ theo quy định là: {}.", f.processing)));
    body.push(Block::Paragraph(format!("4. Thời gian nhận hồ sơ: {}.", long_time(d.received_at))));
    body.push(Block::Paragraph(format!("5. Thời gian trả kết quả giải quyết hồ sơ: {}.", long_time(f.appointment_at))));
    let returned = match f.return_method {
        ReturnMethod::Desk => format!("tại {}", f.desk),
        ReturnMethod::Post => match &f.return_to {
            Some(to) => format!("qua dịch vụ bưu chính công ích, tại địa chỉ {to}"),
            None => "qua dịch vụ bưu chính công ích".to_owned(),
        },
        ReturnMethod::Online => "trực tuyến, qua Cổng Dịch vụ công".to_owned(),
    };
    body.push(Block::Paragraph(format!("6. Đăng ký nhận kết quả: {returned}.")));
    let fully_online = d.channel == Channel::Portal && d.level == Some(4);
    let channel = match d.channel {
        Channel::Portal if fully_online => "trực tuyến toàn trình qua Cổng Dịch vụ công",
        Channel::Portal => "trực tuyến một phần qua Cổng Dịch vụ công",
        Channel::Postal => "qua dịch vụ bưu chính công ích",
    };
    body.push(Block::Paragraph(format!("Hình thức nộp hồ sơ: {channel}.")));
    if fully_online {
        body.push(Block::Paragraph(
            "Giấy này được gửi điện tử cho người nộp qua Cổng Dịch vụ công; hồ sơ nộp trực tuyến toàn trình không cần chữ ký tay."
                .to_owned(),
        ));
    } else {
        c.signatures = vec![
            Signature {
                title: vec!["NGƯỜI NỘP HỒ SƠ".to_owned()], note: "(Ký và ghi rõ họ tên)".to_owned()
            },
            Signature {
                title: vec!["NGƯỜI TIẾP NHẬN HỒ SƠ".to_owned()], note: "(Ký và ghi rõ họ tên)".to_owned()
            },
        ];
    }
    c.body = body;
    IssuedDocument { issued_at: f.issued_at, content: c, sha256: f.sha256.clone(), sealed_at: None, prev: None }
}

fn text(details: Option<&serde_json::Value>, key: &str) -> String {
    details.and_then(|d| d.get(key)).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

/// The form an event issues (02 supplement, 03 refusal, 04 apology, 05 stop, 06
/// control slip with the result), if any.
/// `issued` are the forms issued for the dossier after its receipt (to number the
/// new one).
pub fn issue_for_event(
    d: &Dossier,
    issued: &[IssuedDocument],
    settings: &Settings,
    kind: EventType,
    details: Option<&serde_json::Value>,
    note: Option<&str>,
    at: Timestamp,
) -> Option<IssuedDocument> {
    let cx = Context::new(d, settings);
    let nth = |form: &str| issued.iter().filter(|doc| doc.content.form == form).count() + 1;
    let content = match kind {
        EventType::SupplementRequested => {
            let n = nth("02");
            let mut c = cx.content("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ", format!("{}/YCBS-{n}", d.code), at);
            c.addressee = cx.addressee();
            c.body.push(cx.received_paragraph());
            c.body.push(Block::Paragraph(
                "Sau khi xem xét thành phần hồ sơ, đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ gồm những nội dung sau:"
                    .to_owned(),
            ));
            let items = details.and_then(|d| d.get("items")).and_then(|i| i.as_array()).cloned().unwrap_or_default();
            c.body.extend(items.iter().filter_map(|i| i.as_str()).map(|i| Block::Item(i.to_owned())));
            if let Some(note) = note.filter(|n| !n.is_empty()) {
                c.body.push(Block::Paragraph(format!("Lý do: {note}")));
            }
            c.body.push(Block::Paragraph(format!(
                "Trong quá trình hoàn thiện hồ sơ, nếu có vướng mắc, Ông/Bà liên hệ {} để được hướng dẫn.",
                cx.desk
            )));
            c.signatures = vec![Signature {
                title: vec!["NGƯỜI HƯỚNG DẪN".to_owned()],
                note: "(Ký và ghi rõ họ tên)".to_owned(),
            }];
            c
        }
        EventType::Refused => {
            let mut c = cx.content("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ", format!("{}/TC", d.code), at);
            c.addressee = cx.addressee();
            c.body.push(cx.received_paragraph());
            c.body.push(Block::Paragraph(format!(
                "Sau khi xem xét, {} từ chối tiếp nhận, giải quyết hồ sơ này với lý do: {}",
                cx.desk,
                text(details, "reason")
            )));
            c.body.push(Block::Paragraph("Xin thông báo để Ông/Bà được biết và thực hiện./.".to_owned()));
            c.signatures = vec![Signature {
                title: vec!["NGƯỜI TIẾP NHẬN HỒ SƠ".to_owned()],
                note: "(Ký và ghi rõ họ tên)".to_owned(),
            }];
            c
        }
        EventType::Apology => {
            let n = nth("04");
            let mut c = cx.content(
                "04",
                "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT",
                format!("{}/XL-{n}", d.code),
                at,
            );
            c.addressee = cx.addressee();
            let new_appointment = details
                .and_then(|d| d.get("new_appointment"))
                .and_then(|t| t.as_str())
                .and_then(|t| motcua_schemas::time::parse_rfc3339(t).ok())
                .map(long_time)
                .unwrap_or_default();
            c.body.push(cx.received_paragraph());
            c.body.push(Block::Paragraph(format!(
                "Thời gian hẹn trả kết quả giải quyết hồ sơ: {}.",
                long_time(d.due_at)
            )));
            c.body.push(Block::Paragraph(format!(
                "Tuy nhiên đến nay, {} chưa trả kết quả giải quyết hồ sơ cho Ông/Bà đúng thời gian hẹn ghi trên Giấy tiếp nhận hồ sơ và hẹn trả kết quả.",
                committee(&cx.unit)
            )));
            c.body.push(Block::Paragraph(format!("Lý do: {}", text(details, "reason"))));
            c.body.push(Block::Paragraph(format!(
                "Sự chậm trễ này đã gây phiền hà cho Ông/Bà. {} xin lỗi Ông/Bà và đề nghị gia hạn thời gian giải quyết; kết quả giải quyết hồ sơ sẽ được trả cho Ông/Bà vào {}.",
                committee(&cx.unit),
                new_appointment
            )));
            c.body.push(Block::Paragraph("Rất mong nhận được sự thông cảm của Ông/Bà./.".to_owned()));
            c.signatures = vec![cx.signed("(Ký, ghi rõ họ tên và đóng dấu)")];
            c
        }
        EventType::Stopped => {
            let mut c = cx.content("05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ", format!("{}/DGQ", d.code), at);
            c.addressee = cx.addressee();
            c.body.push(cx.received_paragraph());
            c.body.push(Block::Paragraph(format!(
                "{} thông báo dừng giải quyết hồ sơ nêu trên với lý do: {}",
                committee(&cx.unit),
                text(details, "reason")
            )));
            c.body.push(Block::Paragraph("Xin thông báo để Ông/Bà được biết./.".to_owned()));
            c.signatures = vec![cx.signed("(Ký, ghi rõ họ tên và đóng dấu)")];
            c
        }
        EventType::ResultReady => control_slip(&cx, at),
        _ => return None,
    };
    Some(IssuedDocument::issue(content, at))
}

/// Mẫu 06: every step the dossier went through, with its time and how it stood
/// against the due time.
fn control_slip(cx: &Context<'_>, at: Timestamp) -> Content {
    let d = cx.d;
    let mut c = cx.content("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ", format!("{}/KS", d.code), at);
    c.body.push(Block::Paragraph(format!(
        "Kèm theo hồ sơ của: Ông/Bà {}; thủ tục: {}.",
        d.applicant.name, d.procedure.name
    )));
    c.body.push(Block::Paragraph(format!("Thời gian hẹn trả kết quả: {}.", long_time(d.appointment_at))));
    let mut rows = vec![vec![
        "TÊN CƠ QUAN, BỘ PHẬN".to_owned(),
        "THỜI GIAN GIAO, NHẬN HỒ SƠ".to_owned(),
        "NỘI DUNG".to_owned(),
        "KẾT QUẢ GIẢI QUYẾT (trước hạn / đúng hạn / quá hạn)".to_owned(),
    ]];
    for h in d.history.iter().filter(|h| h.kind != EventType::Note) {
        let standing = if h.at > d.due_at {
            "Quá hạn"
        } else if motcua_schemas::time::to_vn(h.at).date() < motcua_schemas::time::to_vn(d.due_at).date() {
            "Trước hạn"
        } else {
            "Đúng hạn"
        };
        let who = match (h.kind, d.channel) {
            (EventType::Intake, Channel::Portal) => "Cổng Dịch vụ công".to_owned(),
            (EventType::Intake, Channel::Postal) => "Bưu chính công ích".to_owned(),
            _ => cx.desk.clone(),
        };
        rows.push(vec![
            who,
            short_time(h.at),
            h.note.clone().unwrap_or_else(|| status_words(h.status_after)),
            standing.to_owned(),
        ]);
    }
    c.body.push(Block::Table(rows));
    c
}

fn status_words(s: Status) -> String {
    s.name().to_owned()
}
