//! The portal JSON normalizer never panics, and what it accepts is normalized.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_schemas::text::nfc;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = motcua_adapters::portal::parse_dossier(data, 32) {
        assert_eq!(nfc(&parsed.intake.applicant.name), parsed.intake.applicant.name);
        assert_eq!(nfc(&parsed.intake.procedure.name), parsed.intake.procedure.name);
        assert!(!parsed.intake.external_ref.is_empty());
    }
});
