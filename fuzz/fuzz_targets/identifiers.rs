//! The identifier parsers never panic, and what they accept shows itself back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_schemas::{AgencyCode, CitizenId, DossierCode, PhoneNumber, ProcedureCode, S10ItemCode, TaxCode, UnitCode};

fn round_trip<T: std::str::FromStr + std::fmt::Display>(s: &str) {
    if let Ok(v) = s.parse::<T>() {
        let shown = v.to_string();
        assert!(shown.parse::<T>().is_ok(), "{shown:?} does not parse back");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    round_trip::<AgencyCode>(s);
    round_trip::<DossierCode>(s);
    round_trip::<ProcedureCode>(s);
    round_trip::<UnitCode>(s);
    round_trip::<CitizenId>(s);
    round_trip::<TaxCode>(s);
    round_trip::<PhoneNumber>(s);
    round_trip::<S10ItemCode>(s);
    if let Ok(code) = s.parse::<DossierCode>() {
        let rebuilt = DossierCode::new(&code.agency(), code.date(), code.seq()).unwrap();
        assert_eq!(rebuilt, code);
    }
});
