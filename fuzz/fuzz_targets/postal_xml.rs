//! The postal XML normalizers never panic and never accept a DOCTYPE.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dossier = motcua_adapters::postal::parse_dossier(data, 32);
    let event = motcua_adapters::postal::parse_event(data, 32);
    let has_doctype = data.windows(9).any(|w| w.eq_ignore_ascii_case(b"<!DOCTYPE"));
    if has_doctype {
        assert!(dossier.is_err() && event.is_err());
    }
    if let Ok(parsed) = dossier {
        assert_eq!(parsed.item.to_string(), parsed.intake.external_ref);
    }
});
