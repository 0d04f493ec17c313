//! XML the gateway sends to the postal partner: intake replies and errors in the
//! `urn:motcua:postal:v1` namespace.

use jiff::Timestamp;
use motcua_schemas::{DossierCode, Status, time::format_rfc3339};

use crate::xml::{POSTAL_NS, escape};

/// `<KetQuaTiepNhan>`: the reply to an accepted postal dossier.
pub fn intake_reply(code: &DossierCode, status: Status, appointment: Timestamp) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KetQuaTiepNhan xmlns=\"{POSTAL_NS}\"><MaHoSo>{}</MaHoSo><TrangThai>{}</TrangThai><NgayHenTra>{}</NgayHenTra></KetQuaTiepNhan>\n",
        escape(code.as_str()),
        status.code(),
        format_rfc3339(appointment)
    )
}

/// `<Loi>`: an error, with one `<ChiTiet path=…>` per located problem.
pub fn error(slug: &str, text: &str, details: &[(String, String)]) -> String {
    let details: String = details
        .iter()
        .map(|(path, message)| format!("<ChiTiet path=\"{}\">{}</ChiTiet>", escape(path), escape(message)))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Loi xmlns=\"{POSTAL_NS}\"><Ma>{}</Ma><MoTa>{}</MoTa>{details}</Loi>\n",
        escape(slug),
        escape(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_and_errors_are_well_formed_and_escaped() {
        let code: DossierCode = "000.00.15.H63-261125-0007".parse().unwrap();
        let due = motcua_schemas::time::parse_rfc3339("2026-11-26T17:00:00+07:00").unwrap();
        let reply = intake_reply(&code, Status::NewlyRegistered, due);
        assert!(reply.contains("<MaHoSo>000.00.15.H63-261125-0007</MaHoSo><TrangThai>1</TrangThai><NgayHenTra>2026-11-26T17:00:00+07:00</NgayHenTra>"));
        let err = error("invalid", "a < b", &[("/BuuGuiHoSo/ItemCode".into(), "check digit \"4\"".into())]);
        assert!(err.contains(
            "<MoTa>a &lt; b</MoTa><ChiTiet path=\"/BuuGuiHoSo/ItemCode\">check digit &quot;4&quot;</ChiTiet>"
        ));
        crate::xml::parse(err.as_bytes(), 8).unwrap();
        crate::xml::parse(reply.as_bytes(), 8).unwrap();
    }
}
