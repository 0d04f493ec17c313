//! XML the gateway sends to the postal partner: intake replies and errors in the
//! `urn:motcua:postal:v1` namespace.

use jiff::Timestamp;
use motcua_schemas::{DossierCode, ReturnAddress, S10ItemCode, Status, time::format_rfc3339};

use crate::InboundError;
use crate::outbound::{CallOutcome, call};
use crate::xml::{self, POSTAL_NS, escape};

/// `<KetQuaTiepNhan>`: the reply to an accepted postal dossier.
pub fn intake_reply(code: &DossierCode, status: Status, appointment: Timestamp) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KetQuaTiepNhan xmlns=\"{POSTAL_NS}\"><MaHoSo>{}</MaHoSo><TrangThai>{}</TrangThai><NgayHenTra>{}</NgayHenTra></KetQuaTiepNhan>\n",
        escape(code.as_str()),
        status.code(),
        format_rfc3339(appointment)
    )
}

/// `<KetQuaSuKien>`: the reply to a delivery event (the dossier and its status).
pub fn event_reply(code: &DossierCode, status: Status) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<KetQuaSuKien xmlns=\"{POSTAL_NS}\"><MaHoSo>{}</MaHoSo><TrangThai>{}</TrangThai></KetQuaSuKien>\n",
        escape(code.as_str()),
        status.code()
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

/// `<DonHangTraKetQua>`: an order to carry something to the applicant.
pub fn order(order_code: &str, receiver: &ReturnAddress, content: &str) -> String {
    let a = &receiver.address;
    let optional = |tag: &str, v: Option<&str>| v.map(|v| format!("<{tag}>{}</{tag}>", escape(v))).unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DonHangTraKetQua xmlns=\"{POSTAL_NS}\"><OrderCode>{}</OrderCode><Receiver><Fullname>{}</Fullname>{}<Address>{}</Address>{}{}{}</Receiver><PackageContent>{}</PackageContent><CodAmount>0</CodAmount></DonHangTraKetQua>\n",
        escape(order_code),
        escape(&receiver.recipient),
        optional("Tel", receiver.phone.as_ref().map(|p| p.as_str())),
        escape(&a.detail),
        optional("ProvinceId", a.province.as_ref().map(|u| u.as_str())),
        optional("DistrictId", a.district.as_ref().map(|u| u.as_str())),
        optional("WardId", a.commune.as_ref().map(|u| u.as_str())),
        escape(content),
    )
}

/// Reads the S10 code from the postal service's reply to an order (`<ItemCode>`
/// anywhere in a reply in the postal namespace), checking its check digit.
pub fn order_item_code(body: &[u8]) -> Result<S10ItemCode, InboundError> {
    let root = xml::parse(body, 8)?;
    let item = root
        .child("ItemCode")
        .filter(|e| e.namespace.as_deref() == Some(POSTAL_NS))
        .ok_or_else(|| InboundError::malformed("/ItemCode", "the reply has no ItemCode in the postal namespace"))?;
    item.text
        .trim()
        .parse()
        .map_err(|e: motcua_schemas::IdError| InboundError::malformed(item.path.clone(), e.to_string()))
}

/// `POST {base}/v1/orders` with the order and `Idempotency-Key: <OrderCode>`.
pub async fn send_order(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    order_code: &str,
    xml: String,
) -> CallOutcome {
    let request = client
        .post(format!("{base}/v1/orders"))
        .bearer_auth(token)
        .header("idempotency-key", order_code)
        .header("content-type", "application/xml; charset=utf-8")
        .body(xml);
    call(request).await
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

    #[test]
    fn orders_and_their_replies() {
        let receiver = ReturnAddress {
            address: motcua_schemas::Address {
                detail: "Bản Km 21 & nhà số 3".into(),
                province: None,
                district: None,
                commune: Some("04606".parse().unwrap()),
            },
            recipient: "Giàng A Sử".into(),
            phone: Some("0912345678".parse().unwrap()),
        };
        let xml = order("000.07.20.H38-261126-0001", &receiver, "Kết quả");
        assert!(xml.contains("<OrderCode>000.07.20.H38-261126-0001</OrderCode><Receiver><Fullname>Giàng A Sử</Fullname><Tel>0912345678</Tel><Address>Bản Km 21 &amp; nhà số 3</Address><WardId>04606</WardId></Receiver>"), "{xml}");
        crate::xml::parse(xml.as_bytes(), 8).unwrap();
        let reply = format!(
            "<KetQuaDonHang xmlns=\"{POSTAL_NS}\"><OrderCode>x</OrderCode><ItemCode>RR000000014VN</ItemCode></KetQuaDonHang>"
        );
        assert_eq!(order_item_code(reply.as_bytes()).unwrap().as_str(), "RR000000014VN");
        let bad = reply.replace("RR000000014VN", "RR000000015VN");
        assert!(order_item_code(bad.as_bytes()).is_err());
    }
}
