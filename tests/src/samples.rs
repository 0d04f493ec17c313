//! Request bodies for the tests, built from the contract's samples.

use motcua_schemas::S10ItemCode;
use serde_json::Value;

/// The contract's portal sample with its own submission id.
pub fn portal(id: &str) -> Value {
    let mut v: Value =
        serde_json::from_str(&crate::repo_file("schemas/samples/portal-dossier.json")).expect("the sample parses");
    v["MaHoSoCongDVC"] = id.into();
    v
}

/// A valid S10 item code with this serial.
pub fn s10(prefix: &str, serial: u32) -> String {
    S10ItemCode::build(prefix, serial, "VN").expect("a valid serial").to_string()
}

/// The contract's postal sample with its own item code.
pub fn postal(item: &str) -> String {
    crate::repo_file("schemas/samples/postal-dossier.xml").replace("EE123456785VN", item)
}

/// The text of the first `<tag>` in `xml`.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}
