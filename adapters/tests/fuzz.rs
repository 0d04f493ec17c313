//! Fuzzing on stable: the same properties as the cargo-fuzz targets in `fuzz/`,
//! driven by proptest with arbitrary bytes and with mutations of the contract's
//! samples (which reach much deeper into the normalizers than random bytes do).
//! Inputs that once broke something stay below as regression tests.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use motcua_adapters::{desk, portal, postal};
use motcua_schemas::{
    AgencyCode, CitizenId, DossierCode, PhoneNumber, ProcedureCode, S10ItemCode, TaxCode, UnitCode, text::nfc,
};
use proptest::prelude::*;

const PORTAL: &str = include_str!("../../schemas/samples/portal-dossier.json");
const POSTAL: &str = include_str!("../../schemas/samples/postal-dossier.xml");
const EVENT: &str = include_str!("../../schemas/samples/postal-event.xml");

/// A sample with a few bytes flipped, inserted or removed, or cut short.
fn mutated(sample: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let len = sample.len();
    let edit = (0..len, any::<u8>(), 0u8..4);
    (proptest::collection::vec(edit, 1..8), 0..=len).prop_map(move |(edits, cut)| {
        let mut bytes = sample.as_bytes().to_vec();
        for (at, byte, kind) in edits {
            let at = at.min(bytes.len().saturating_sub(1));
            match kind {
                0 if !bytes.is_empty() => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                2 if !bytes.is_empty() => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, b"{}[]<>&;\"\\/#x"[usize::from(byte) % 13]),
            }
        }
        if cut < bytes.len() / 2 {
            bytes.truncate(bytes.len() - cut);
        }
        bytes
    })
}

fn check_portal(bytes: &[u8]) {
    if let Ok(p) = portal::parse_dossier(bytes, 32) {
        assert_eq!(nfc(&p.intake.applicant.name), p.intake.applicant.name);
        assert_eq!(nfc(&p.intake.procedure.name), p.intake.procedure.name);
        assert!(portal::inbound::valid_submission_id(&p.intake.external_ref));
        for content in &p.contents {
            assert!(content.document < p.intake.documents.len());
        }
    }
}

fn check_postal(bytes: &[u8]) {
    if let Ok(p) = postal::parse_dossier(bytes, 32) {
        assert_eq!(p.item.to_string(), p.intake.external_ref);
        assert_eq!(nfc(&p.intake.applicant.name), p.intake.applicant.name);
    }
    let _ = postal::parse_event(bytes, 32);
    let has_doctype = bytes.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"));
    if has_doctype {
        assert!(postal::parse_dossier(bytes, 32).is_err());
    }
}

fn round_trip<T: std::str::FromStr + std::fmt::Display>(s: &str) {
    if let Ok(v) = s.parse::<T>() {
        assert!(v.to_string().parse::<T>().is_ok(), "{v} does not parse back");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn portal_normalizer_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_portal(&bytes);
    }

    #[test]
    fn portal_normalizer_survives_mutated_samples(bytes in mutated(PORTAL)) {
        check_portal(&bytes);
    }

    #[test]
    fn postal_normalizers_survive_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_postal(&bytes);
    }

    #[test]
    fn postal_normalizers_survive_mutated_samples(bytes in mutated(POSTAL)) {
        check_postal(&bytes);
    }

    #[test]
    fn postal_events_survive_mutated_samples(bytes in mutated(EVENT)) {
        let _ = postal::parse_event(&bytes, 32);
    }

    #[test]
    fn desk_events_survive_arbitrary_json(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = desk::parse_event(&bytes, 32);
    }

    #[test]
    fn identifier_parsers_survive_arbitrary_text(s in "\\PC{0,40}") {
        round_trip::<AgencyCode>(&s);
        round_trip::<DossierCode>(&s);
        round_trip::<ProcedureCode>(&s);
        round_trip::<UnitCode>(&s);
        round_trip::<CitizenId>(&s);
        round_trip::<TaxCode>(&s);
        round_trip::<PhoneNumber>(&s);
        round_trip::<S10ItemCode>(&s);
    }

    #[test]
    fn identifier_parsers_survive_near_misses(s in "[0-9A-Z.+ -]{0,30}") {
        round_trip::<AgencyCode>(&s);
        round_trip::<DossierCode>(&s);
        round_trip::<PhoneNumber>(&s);
        round_trip::<S10ItemCode>(&s);
        if let Ok(code) = s.parse::<DossierCode>() {
            prop_assert_eq!(DossierCode::new(&code.agency(), code.date(), code.seq()).unwrap(), code);
        }
    }
}

fn check_dates(s: &str) {
    use motcua_schemas::time::{PEER_YEARS, parse_peer_rfc3339, parse_portal, to_vn};
    for t in [parse_portal(s).ok(), parse_peer_rfc3339(s).ok(), motcua_adapters::dvcqg::inbound::parse_date(s)]
        .into_iter()
        .flatten()
    {
        assert!(PEER_YEARS.contains(&to_vn(t).year()), "{s:?} gave {t}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn date_parsers_survive_arbitrary_text(s in "\\PC{0,32}") {
        check_dates(&s);
    }

    #[test]
    fn date_parsers_survive_near_misses(
        s in "[0-9]{14}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{1,5} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}|[0-9+-]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})"
    ) {
        check_dates(&s);
    }

    #[test]
    fn tracking_pages_survive_any_event_time(t in any::<i64>(), text in "\\PC{0,16}") {
        let page = format!(
            r#"{{"_embedded":{{"rh:doc":[{{"_id":{{"$oid":"65a000000000000000000001"}},"OrderNumber":"A","StatusCode":4,"EventTime":{t}}},{{"EventTime":"{}"}}]}}}}"#,
            text.replace(['"', '\\'], "")
        );
        let _ = motcua_adapters::vnpost::tracking::parse_page(page.as_bytes());
    }
}

/// Inputs that once made a normalizer misbehave.
#[test]
fn regressions() {
    // A phone number of multi-byte characters once reached a byte-index slice.
    assert!("+84ễễễ".parse::<PhoneNumber>().is_err());
    // A dossier code whose sequence overflows u64 once parsed and then panicked in seq().
    assert!("000.00.15.H63-261125-99999999999999999999".parse::<DossierCode>().is_err());
    // An S10 code with a multi-byte character in the serial.
    assert!("EEễ23456785VN".parse::<S10ItemCode>().is_err());
    // The last hours of the year 9999 lie beyond the last representable instant: the
    // time conversion once panicked on them (a pushed or pulled dossier's date).
    for far in ["99991231235959", "31/12/9999 23:59:59", "9999-12-31T23:59:59+07:00"] {
        check_dates(far);
        assert!(motcua_adapters::dvcqg::inbound::parse_date(far).is_none());
    }
}
