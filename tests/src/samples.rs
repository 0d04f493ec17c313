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

/// `n` characters of letters and digits that LZ4 cannot compress, the same on every
/// run.
pub fn noise(n: usize) -> String {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[(seed % 62) as usize])
        })
        .collect()
}

/// A dossier the portal's pull services list under `000.07.20.H38` (Trạm Tấu, 04606)
/// today, in the golden samples' shapes: the owner Lò Thị Mai living at `address` in
/// Trạm Tấu (the result by post), a procedure of the catalogue (`1.001193`), the
/// sample's two files.
pub fn listed(code: &str, address: &str) -> motcua_simulators::dvcqg::Listed {
    let today = motcua_schemas::time::to_vn(jiff::Timestamp::now()).date();
    let mut listed = motcua_simulators::dvcqg::Listed::sample("000.07.20.H38", code, today);
    listed.row["hoTen"] = "Lò Thị Mai".into();
    listed.row["soCmnd"] = "015190001234".into();
    listed.row["noiCuTru"] = address.into();
    listed.row["dvhcNoiCuTru"] = "1513904606".into();
    listed.detail["MaTTHC"] = "1.001193.000.00.00.H38".into();
    listed
}
