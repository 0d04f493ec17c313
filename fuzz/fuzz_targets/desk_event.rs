//! The desk event parser never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = motcua_adapters::desk::parse_event(data, 32);
});
