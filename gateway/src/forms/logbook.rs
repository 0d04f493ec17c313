//! Mẫu 07, Sổ theo dõi hồ sơ: the dossiers a unit (with its sub-units) received in a
//! period, one row each, on screen (HTML) and as CSV. Unlike forms 01–06 it is not
//! issued once: it is the register as it stands when asked for.

use jiff::civil::Date;
use motcua_schemas::{Dossier, Status, UnitCode, time::to_vn};

use super::document::{Block, Content, IssuedDocument};
use super::words::{committee_upper, date_line, short_time};
use crate::settings::Settings;

/// The log book of a unit over a period.
#[derive(Debug, Clone)]
pub struct LogBook {
    /// Header row, then one row per dossier.
    pub rows: Vec<Vec<String>>,
    /// As a form, for the HTML and text renderings.
    pub document: IssuedDocument,
}

const HEADER: [&str; 11] = [
    "STT",
    "Mã hồ sơ",
    "Tên thủ tục hành chính",
    "Tên tổ chức, cá nhân",
    "Địa chỉ, số điện thoại",
    "Cơ quan chủ trì giải quyết",
    "Ngày, giờ nhận hồ sơ",
    "Ngày, giờ hẹn trả kết quả",
    "Ngày, giờ có kết quả",
    "Ngày, giờ trả kết quả",
    "Ghi chú (trước hạn / đúng hạn / quá hạn)",
];

fn row(n: usize, d: &Dossier, settings: &Settings) -> Vec<String> {
    let at = |status: Status| {
        d.history.iter().find(|h| h.status_after == status && h.status_before != Some(status)).map(|h| h.at)
    };
    let resolved = at(Status::Processed);
    let returned = at(Status::Returned);
    let standing = match (resolved, d.status) {
        (Some(t), _) if t > d.due_at => "Quá hạn",
        (Some(t), _) if to_vn(t).date() < to_vn(d.due_at).date() => "Trước hạn",
        (Some(_), _) => "Đúng hạn",
        (None, Status::NotReceived) => "Từ chối tiếp nhận",
        (None, Status::Withdrawn) => "Rút hồ sơ",
        (None, Status::Stopped) => "Dừng giải quyết",
        (None, _) if d.overdue => "Đang giải quyết, quá hạn",
        (None, _) => "Đang giải quyết",
    };
    let contact =
        [d.applicant.address.as_ref().map(|a| a.detail.clone()), d.applicant.phone.as_ref().map(ToString::to_string)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
    let unit = settings.network.unit(&d.target_unit).map_or_else(|| d.target_unit.to_string(), |u| u.name.clone());
    vec![
        n.to_string(),
        d.code.to_string(),
        d.procedure.name.clone(),
        d.applicant.name.clone(),
        contact,
        unit,
        short_time(d.received_at),
        short_time(d.appointment_at),
        resolved.map(short_time).unwrap_or_default(),
        returned.map(short_time).unwrap_or_default(),
        standing.to_owned(),
    ]
}

/// The log book of `unit` and its sub-units over `from..=to` (Vietnam days), with
/// the `dossiers` they received then.
pub fn log_book(
    settings: &Settings,
    unit: &UnitCode,
    from: Date,
    to: Date,
    mut records: Vec<Dossier>,
    now: jiff::Timestamp,
) -> LogBook {
    records.sort_by(|a, b| a.received_at.cmp(&b.received_at).then(a.code.as_str().cmp(b.code.as_str())));
    let mut rows = vec![HEADER.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    rows.extend(records.iter().enumerate().map(|(i, r)| row(i + 1, r, settings)));
    let name = settings.network.unit(unit).map_or_else(|| unit.to_string(), |u| u.name.clone());
    let content = Content {
        form: "07".to_owned(),
        title: "SỔ THEO DÕI HỒ SƠ".to_owned(),
        number: format!("{unit}/{}–{}", from.strftime("%d/%m/%Y"), to.strftime("%d/%m/%Y")),
        authority: vec![committee_upper(&name)],
        place_date: format!("{}, {}", super::words::place(&name), date_line(now)),
        addressee: None,
        body: vec![
            Block::Paragraph(format!(
                "Hồ sơ tiếp nhận từ ngày {} đến ngày {}: {} hồ sơ.",
                from.strftime("%d/%m/%Y"),
                to.strftime("%d/%m/%Y"),
                records.len()
            )),
            Block::Table(rows.clone()),
        ],
        signatures: Vec::new(),
        basis: "Mẫu 07 — Phụ lục I, Thông tư số 03/2025/TT-VPCP".to_owned(),
    };
    LogBook { rows, document: IssuedDocument::issue(content, now) }
}

impl LogBook {
    /// The rows as CSV (RFC 4180, UTF-8 with a byte-order mark so that spreadsheet
    /// programs read the Vietnamese right).
    pub fn csv(&self) -> String {
        csv_of(&self.rows)
    }
}

fn csv_of(rows: &[Vec<String>]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer("\u{feff}".as_bytes().to_vec());
    for row in rows {
        // A cell a spreadsheet would read as a formula is quoted as text.
        let cells = row.iter().map(|c| if c.starts_with(['=', '+', '-', '@']) { format!("'{c}") } else { c.clone() });
        // Writing to memory cannot fail.
        let _ = writer.write_record(cells);
    }
    String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::csv_of;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let rows = vec![
            vec!["STT".to_owned(), "Tên".to_owned()],
            vec!["1".to_owned(), "Nguyễn Văn \"A\", xã Trạm Tấu".to_owned()],
            vec!["2".to_owned(), "=HYPERLINK(\"x\")".to_owned()],
            vec!["3".to_owned(), "dòng\nhai".to_owned()],
        ];
        assert_eq!(
            csv_of(&rows),
            "\u{feff}STT,Tên\r\n1,\"Nguyễn Văn \"\"A\"\", xã Trạm Tấu\"\r\n2,\"'=HYPERLINK(\"\"x\"\")\"\r\n3,\"dòng\nhai\"\r\n"
        );
    }
}
