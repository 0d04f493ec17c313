//! Every parser of a date a peer sends never panics, and what it accepts lies in the
//! years a peer's date may lie in: the national portal's `yyyyMMddHHmmss`, the pulled
//! details' `dd/MM/yyyy HH:mm:ss`, RFC 3339 of desk and postal events, VNPost's epoch
//! `EventTime` inside a tracking page.
#![no_main]

use libfuzzer_sys::fuzz_target;
use motcua_schemas::time::{PEER_YEARS, parse_peer_rfc3339, parse_portal, to_vn};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    for parsed in [parse_portal(s), parse_peer_rfc3339(s)] {
        if let Ok(t) = parsed {
            assert!(PEER_YEARS.contains(&to_vn(t).year()), "{s:?} gave {t}");
        }
    }
    if let Some(t) = motcua_adapters::dvcqg::inbound::parse_date(s) {
        assert!(PEER_YEARS.contains(&to_vn(t).year()), "{s:?} gave {t}");
    }
    let page = format!(r#"{{"_embedded":{{"rh:doc":[{{"_id":{{"$oid":"65a000000000000000000001"}},"OrderNumber":"A","StatusCode":4,"EventTime":{s}}}]}}}}"#);
    let _ = motcua_adapters::vnpost::tracking::parse_page(page.as_bytes());
});
