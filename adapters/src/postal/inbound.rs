//! Postal intake (docs/CONTRACT.md §4): `BuuGuiHoSo` dossiers and `SuKienBuuGui` delivery
//! events in the `urn:motcua:postal:v1` namespace, normalized into the model with
//! every invalid field reported by its XML path.

use jiff::Timestamp;
use motcua_schemas::{
    Address, Applicant, ApplicantKind, Channel, Document, Fee, IdKind, Intake, IntakePointers, PersonalId, PhoneNumber,
    ProcedureRef, ReturnAddress, ReturnMethod, S10ItemCode, UnitCode, time::parse_peer_rfc3339,
};

use crate::InboundError;
use crate::check::{Checker, MAX_DOCUMENTS, MAX_NAME, MAX_TEXT};
use crate::xml::{self, Element};

/// Which postal service the applicant bought (Decision 45/2016/QĐ-TTg).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostalService {
    /// `NHAN_HO_SO`: the post brings the dossier; the result is collected at the desk.
    Dossier,
    /// `NHAN_HO_SO_VA_TRA_KET_QUA`: the post brings the dossier and returns the result.
    DossierAndResult,
}

/// A postal dossier, normalized.
#[derive(Debug, Clone, PartialEq)]
pub struct PostalIntake {
    /// The unified intake (`external_ref` is the S10 item code).
    pub intake: Intake,
    /// The S10 code of the shipment that brought it.
    pub item: S10ItemCode,
    /// The sender's commune, for routing dossiers addressed to a retired district.
    pub applicant_commune: Option<UnitCode>,
    /// The service bought.
    pub service: PostalService,
    /// The accepting post office.
    pub post_office: String,
}

/// A delivery status of a shipment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Accepted by the post.
    Accepted,
    /// On its way.
    InTransit,
    /// Delivered to the recipient.
    Delivered,
    /// Delivery failed.
    Failed,
    /// Returned to the sender.
    Returned,
}

impl DeliveryStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Accepted => "ACCEPTED",
            DeliveryStatus::InTransit => "IN_TRANSIT",
            DeliveryStatus::Delivered => "DELIVERED",
            DeliveryStatus::Failed => "FAILED",
            DeliveryStatus::Returned => "RETURNED",
        }
    }
}

/// A delivery event of a return or letter shipment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostalEvent {
    /// The shipment.
    pub item: S10ItemCode,
    /// What happened.
    pub status: DeliveryStatus,
    /// When.
    pub at: Timestamp,
    /// The postal worker's note (NFC).
    pub note: Option<String>,
}

fn required<'a>(c: &mut Checker, el: &'a Element, name: &str) -> Option<&'a Element> {
    let child = el.child(name);
    if child.is_none() {
        c.fail(format!("{}/{name}", el.path), "is required");
    }
    child
}

fn required_text(c: &mut Checker, el: &Element, name: &str, max: usize) -> Option<String> {
    required(c, el, name).map(|child| c.text(&child.path, &child.text, max))
}

fn parse_child<T>(c: &mut Checker, el: &Element, name: &str) -> Option<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let child = required(c, el, name)?;
    c.parse(&child.path, &child.text)
}

fn optional_unit(c: &mut Checker, el: &Element, name: &str) -> Option<UnitCode> {
    let child = el.child(name).filter(|ch| !ch.text.trim().is_empty())?;
    c.parse(&child.path, &child.text)
}

fn timestamp(c: &mut Checker, el: &Element, name: &str) -> Option<Timestamp> {
    let child = required(c, el, name)?;
    parse_peer_rfc3339(child.text.trim())
        .map_err(|_| {
            c.fail(
                child.path.clone(),
                "must be an RFC 3339 time with offset in 2000–2099, e.g. 2026-11-25T09:30:00+07:00",
            )
        })
        .ok()
}

/// Parses and normalizes a postal dossier (`POST /v1/postal/dossiers`).
pub fn parse_dossier(body: &[u8], max_depth: usize) -> Result<PostalIntake, InboundError> {
    let root = xml::parse(body, max_depth)?;
    let mut c = Checker::default();
    super::shape::check(&mut c, &root, "BuuGuiHoSo", &super::shape::DOSSIER);
    c.checkpoint()?;

    let item: Option<S10ItemCode> = parse_child(&mut c, &root, "ItemCode");
    let post_office = required_text(&mut c, &root, "PostOfficeCode", 32);
    let accepted_at = timestamp(&mut c, &root, "AcceptedAt");
    let service = required(&mut c, &root, "Service").and_then(|s| match s.text.trim() {
        "NHAN_HO_SO" => Some(PostalService::Dossier),
        "NHAN_HO_SO_VA_TRA_KET_QUA" => Some(PostalService::DossierAndResult),
        _ => {
            c.fail(s.path.clone(), "must be NHAN_HO_SO or NHAN_HO_SO_VA_TRA_KET_QUA");
            None
        }
    });

    let sender = required(&mut c, &root, "Sender");
    let applicant = sender.and_then(|s| {
        let name = required_text(&mut c, s, "Fullname", MAX_NAME);
        let phone: Option<PhoneNumber> =
            s.child("Tel").filter(|t| !t.text.trim().is_empty()).and_then(|t| c.parse(&t.path, &t.text));
        let id_kind = required(&mut c, s, "IdType").and_then(|t| {
            let kind = t.text.trim().parse().ok().and_then(IdKind::from_portal_code);
            if kind.is_none() {
                c.fail(t.path.clone(), "must be 1 (CCCD), 2 (CMND) or 3 (tax code)");
            }
            kind
        });
        let id = match (id_kind, required(&mut c, s, "IdNumber")) {
            (Some(kind), Some(n)) => {
                PersonalId::parse_as(n.text.trim(), kind).map_err(|e| c.fail(n.path.clone(), e.to_string())).ok()
            }
            _ => None,
        };
        let address = Address {
            detail: required_text(&mut c, s, "Address", MAX_TEXT).unwrap_or_default(),
            province: optional_unit(&mut c, s, "ProvinceId"),
            district: optional_unit(&mut c, s, "DistrictId"),
            commune: optional_unit(&mut c, s, "WardId"),
        };
        let id = id?;
        Some(Applicant {
            kind: if id.kind() == IdKind::TaxCode { ApplicantKind::Enterprise } else { ApplicantKind::Citizen },
            name: name?,
            id_type: id.kind(),
            id_number: id.as_str().to_owned(),
            phone,
            email: None,
            address: Some(address),
        })
    });

    let procedure = required(&mut c, &root, "Procedure").and_then(|p| {
        let code = match p.attribute("code") {
            Some(code) => c.parse(format_args!("{}/@code", p.path), code),
            None => {
                c.fail(format!("{}/@code", p.path), "is required");
                None
            }
        };
        let name = c.text(&p.path, &p.text, MAX_TEXT);
        Some(ProcedureRef { code: code?, name })
    });
    let target: Option<UnitCode> = parse_child(&mut c, &root, "TargetUnit");

    let mut documents = Vec::new();
    if let Some(docs) = root.child("Documents") {
        for doc in docs.children.iter().take(MAX_DOCUMENTS) {
            let name = c.text(&doc.path, &doc.text, MAX_NAME);
            let component = c.opt_text(format_args!("{}/@code", doc.path), doc.attribute("code"), 64);
            let pages = doc.attribute("pages").and_then(|p| match p.trim().parse::<u32>() {
                Ok(n) if (1..=10_000).contains(&n) => Some(n),
                _ => {
                    c.fail(format!("{}/@pages", doc.path), "must be a number of pages from 1 to 10000");
                    None
                }
            });
            documents.push(Document {
                name,
                component,
                url: None,
                sha256: None,
                size: None,
                pages,
                stored: false,
                digitization: Default::default(),
            });
        }
    }

    let mut fees = Vec::new();
    if let Some(fee) = root.child("FeeCollected") {
        if fee.attribute("currency").is_some_and(|cur| cur != "VND") {
            c.fail(format!("{}/@currency", fee.path), "must be VND");
        }
        match fee.text.trim().parse::<u64>() {
            Ok(amount) if amount <= 1_000_000_000_000 => {
                if amount > 0 {
                    fees.push(Fee {
                        name: "Phí, lệ phí thu hộ qua bưu chính".into(),
                        amount,
                        paid: true,
                        transaction: None,
                    });
                }
            }
            _ => c.fail(fee.path.clone(), "must be an amount in đồng from 0 to 1,000,000,000,000"),
        }
    }

    let (
        Some(item),
        Some(post_office),
        Some(submitted_at),
        Some(service),
        Some(applicant),
        Some(procedure),
        Some(requested_unit),
        true,
    ) = (item, post_office, accepted_at, service, applicant, procedure, target, c.is_clean())
    else {
        c.finish()?;
        return Err(InboundError::malformed("/BuuGuiHoSo", "the dossier is incomplete"));
    };
    let (return_method, return_address) = match service {
        PostalService::Dossier => (ReturnMethod::Desk, None),
        PostalService::DossierAndResult => (
            ReturnMethod::Post,
            Some(ReturnAddress {
                address: applicant.address.clone().unwrap_or_default(),
                recipient: applicant.name.clone(),
                phone: applicant.phone.clone(),
            }),
        ),
    };
    let applicant_commune = applicant.address.as_ref().and_then(|a| a.commune.clone());
    let intake = Intake {
        collect_from_home: false,
        notify_consent: false,
        channel: Channel::Postal,
        level: None,
        external_ref: item.to_string(),
        code: None,
        procedure,
        applicant,
        requested_unit,
        documents,
        fees,
        return_method,
        return_address,
        submitted_at,
        pointers: IntakePointers {
            procedure: "/BuuGuiHoSo/Procedure/@code".into(),
            unit: "/BuuGuiHoSo/TargetUnit".into(),
            fees: "/BuuGuiHoSo/FeeCollected".into(),
            applicant_commune: "/BuuGuiHoSo/Sender/WardId".into(),
            code: "/BuuGuiHoSo".into(),
            submitted: "/BuuGuiHoSo/AcceptedAt".into(),
        },
    };
    Ok(PostalIntake { intake, item, applicant_commune, service, post_office })
}

/// Parses a delivery event (`POST /v1/postal/events`).
pub fn parse_event(body: &[u8], max_depth: usize) -> Result<PostalEvent, InboundError> {
    let root = xml::parse(body, max_depth)?;
    let mut c = Checker::default();
    super::shape::check(&mut c, &root, "SuKienBuuGui", &super::shape::EVENT);
    c.checkpoint()?;
    let item = parse_child(&mut c, &root, "ItemCode");
    let status = required(&mut c, &root, "Status").and_then(|s| {
        let status = match s.text.trim() {
            "ACCEPTED" => Some(DeliveryStatus::Accepted),
            "IN_TRANSIT" => Some(DeliveryStatus::InTransit),
            "DELIVERED" => Some(DeliveryStatus::Delivered),
            "FAILED" => Some(DeliveryStatus::Failed),
            "RETURNED" => Some(DeliveryStatus::Returned),
            _ => None,
        };
        if status.is_none() {
            c.fail(s.path.clone(), "must be ACCEPTED, IN_TRANSIT, DELIVERED, FAILED or RETURNED");
        }
        status
    });
    let at = timestamp(&mut c, &root, "At");
    let note = root.child("Note").and_then(|n| c.opt_text(&n.path, Some(&n.text), MAX_TEXT));
    let (Some(item), Some(status), Some(at), true) = (item, status, at, c.is_clean()) else {
        c.finish()?;
        return Err(InboundError::malformed("/SuKienBuuGui", "the event is incomplete"));
    };
    Ok(PostalEvent { item, status, at, note })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../schemas/samples/postal-dossier.xml");
    const EVENT: &str = include_str!("../../../schemas/samples/postal-event.xml");

    fn invalid_paths(xml: &str) -> Vec<String> {
        match parse_dossier(xml.as_bytes(), 32) {
            Err(InboundError::Invalid(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected 422, got {other:?}"),
        }
    }

    #[test]
    fn the_contract_sample_normalizes() {
        let p = parse_dossier(SAMPLE.as_bytes(), 32).unwrap();
        assert_eq!(p.item.as_str(), "EE123456785VN");
        assert_eq!(p.intake.external_ref, "EE123456785VN");
        assert_eq!(p.intake.channel, Channel::Postal);
        assert_eq!(p.service, PostalService::DossierAndResult);
        assert_eq!(p.intake.return_method, ReturnMethod::Post);
        assert_eq!(p.intake.return_address.as_ref().unwrap().recipient, "Giàng A Sử");
        assert_eq!(p.intake.procedure.code.as_str(), "1.001193");
        assert_eq!(p.intake.documents[0].pages, Some(2));
        assert_eq!(p.intake.fees[0].amount, 8000);
        assert_eq!(p.applicant_commune.unwrap().as_str(), "04606");
        assert_eq!(p.post_office, "330000");
    }

    #[test]
    fn a_dossier_only_service_returns_at_the_desk() {
        let xml = SAMPLE.replace("NHAN_HO_SO_VA_TRA_KET_QUA", "NHAN_HO_SO");
        let p = parse_dossier(xml.as_bytes(), 32).unwrap();
        assert_eq!(p.intake.return_method, ReturnMethod::Desk);
        assert!(p.intake.return_address.is_none());
    }

    #[test]
    fn a_wrong_check_digit_points_at_the_item_code() {
        assert_eq!(invalid_paths(&SAMPLE.replace("EE123456785VN", "EE123456784VN")), ["/BuuGuiHoSo/ItemCode"]);
    }

    #[test]
    fn every_invalid_field_is_reported_with_its_path() {
        let xml = SAMPLE
            .replace("<Tel>0912345678</Tel>", "<Tel>12</Tel>")
            .replace("<IdNumber>015090001234</IdNumber>", "<IdNumber>0150</IdNumber>")
            .replace("code=\"1.001193\"", "code=\"1193\"")
            .replace("pages=\"2\"", "pages=\"0\"")
            .replace("<AcceptedAt>2026-11-25T09:30:00+07:00</AcceptedAt>", "<AcceptedAt>2026-11-25 09:30</AcceptedAt>")
            .replace("<FeeCollected currency=\"VND\">8000", "<FeeCollected currency=\"USD\">-1");
        assert_eq!(
            invalid_paths(&xml),
            [
                "/BuuGuiHoSo/AcceptedAt",
                "/BuuGuiHoSo/Sender/Tel",
                "/BuuGuiHoSo/Sender/IdNumber",
                "/BuuGuiHoSo/Procedure/@code",
                "/BuuGuiHoSo/Documents/Document/@pages",
                "/BuuGuiHoSo/FeeCollected/@currency",
                "/BuuGuiHoSo/FeeCollected",
            ]
        );
    }

    #[test]
    fn wrong_namespace_and_unknown_elements_are_refused() {
        assert_eq!(invalid_paths(&SAMPLE.replace("urn:motcua:postal:v1", "urn:other")), ["/BuuGuiHoSo"]);
        assert_eq!(
            invalid_paths(&SAMPLE.replace("<TargetUnit>", "<Extra>1</Extra><TargetUnit>")),
            ["/BuuGuiHoSo/Extra"]
        );
        assert_eq!(invalid_paths(&SAMPLE.replace("<TargetUnit>04606</TargetUnit>", "")), ["/BuuGuiHoSo/TargetUnit"]);
    }

    /// Issue 12 §9: each of these was accepted although the XSD refuses it.
    #[test]
    fn what_the_xsd_refuses_is_refused() {
        let id = xml_text_of(SAMPLE, "IdNumber");
        let name = xml_text_of(SAMPLE, "Fullname");
        let cases = [
            (
                SAMPLE.replace("</IdNumber>", "</IdNumber><IdNumber>001099000001</IdNumber>"),
                "/BuuGuiHoSo/Sender/IdNumber",
            ),
            (
                SAMPLE.replace("</Fullname>", "</Fullname><Fullname>Người khác</Fullname>"),
                "/BuuGuiHoSo/Sender/Fullname",
            ),
            (SAMPLE.replace(&format!(">{name}<"), &format!("><b>{name}</b><")), "/BuuGuiHoSo/Sender/Fullname/b"),
            (SAMPLE.replace("<ItemCode>", "lời nhắn<ItemCode>"), "/BuuGuiHoSo"),
            (SAMPLE.replace("<Sender>", "<Sender priority=\"1\">"), "/BuuGuiHoSo/Sender/@priority"),
            (SAMPLE.replace(&format!("<IdNumber>{id}</IdNumber>"), ""), "/BuuGuiHoSo/Sender/IdNumber"),
        ];
        for (xml, pointer) in cases {
            assert!(invalid_paths(&xml).contains(&pointer.to_owned()), "{pointer}: {:?}", invalid_paths(&xml));
        }
        // Out of order: the XSD's sequence is the order.
        let reordered = SAMPLE.replace("<Tel>", "<X/><Tel>");
        assert!(!invalid_paths(&reordered).is_empty());
    }

    fn xml_text_of(xml: &str, tag: &str) -> String {
        let start = xml.find(&format!("<{tag}>")).unwrap() + tag.len() + 2;
        let end = xml[start..].find('<').unwrap() + start;
        xml[start..end].to_owned()
    }

    #[test]
    fn a_doctype_is_a_malformed_body() {
        let xml = SAMPLE.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", "<!DOCTYPE BuuGuiHoSo>");
        assert!(matches!(parse_dossier(xml.as_bytes(), 32), Err(InboundError::Malformed { .. })));
    }

    #[test]
    fn delivery_events() {
        let e = parse_event(EVENT.as_bytes(), 32).unwrap();
        assert_eq!(e.item.as_str(), "RR000000014VN");
        assert_eq!(e.status, DeliveryStatus::Delivered);
        assert_eq!(e.note.as_deref(), Some("Đã phát cho người nhận"));
        let bad = EVENT.replace("DELIVERED", "LOST");
        assert!(matches!(parse_event(bad.as_bytes(), 32), Err(InboundError::Invalid(_))));
    }
}
