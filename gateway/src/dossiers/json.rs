//! A dossier's JSON written once: a record's encoding holds its dossier exactly as it
//! is served, so that intake answers with those bytes instead of serializing the
//! dossier a second time (docs/ARCHITECTURE.md §1).

use motcua_schemas::Receipt;

/// How the JSON of a `DossierRecord` begins: the dossier is its first field.
const RECORD_START: &[u8] = b"{\"dossier\":";

/// The JSON of a record as it was encoded, which starts with its dossier.
#[derive(Debug, Clone)]
pub struct DossierJson {
    record: Vec<u8>,
}

impl DossierJson {
    /// `record`, the JSON of a `DossierRecord` as serde_json writes it; `None` if it does
    /// not start with the dossier.
    pub fn within(record: Vec<u8>) -> Option<DossierJson> {
        record.starts_with(RECORD_START).then_some(DossierJson { record })
    }

    /// The whole record's JSON.
    pub fn record(&self) -> &[u8] {
        &self.record
    }

    /// The dossier's JSON (found when asked: only some callers answer with it).
    pub fn dossier(&self) -> Option<&[u8]> {
        let rest = self.record.get(RECORD_START.len()..)?;
        rest.get(..object_len(rest)?)
    }
}

/// The length of the JSON object `json` starts with, written compactly as serde_json
/// writes it: inside a string every `"` is escaped, so braces are counted outside
/// strings only. memchr jumps from one byte that matters to the next.
fn object_len(json: &[u8]) -> Option<usize> {
    if json.first() != Some(&b'{') {
        return None;
    }
    let (mut depth, mut at) = (1usize, 1usize);
    loop {
        let found = at + memchr::memchr3(b'"', b'{', b'}', json.get(at..)?)?;
        at = found + 1;
        match json[found] {
            b'"' => at = string_end(json, at)?,
            b'{' => depth += 1,
            _ => {
                depth -= 1;
                if depth == 0 {
                    return Some(at);
                }
            }
        }
    }
}

/// Where the string whose content starts at `at` ends, past its closing quote.
fn string_end(json: &[u8], mut at: usize) -> Option<usize> {
    loop {
        let found = at + memchr::memchr2(b'"', b'\\', json.get(at..)?)?;
        if json[found] == b'"' {
            return Some(found + 1);
        }
        // An escape: the byte after the backslash is never the string's end.
        at = found + 2;
    }
}

/// The JSON of a served dossier (`super::Served`) from the dossier's own JSON: its
/// fields, then `receipt` and `repeated`, as serde writes the flattened struct.
pub fn served_bytes(dossier: &[u8], receipt: &Receipt, repeated: Option<bool>) -> Option<Vec<u8>> {
    let fields = dossier.strip_suffix(b"}").filter(|fields| fields.len() > 1)?;
    let mut out = Vec::with_capacity(dossier.len() + 1024);
    out.extend_from_slice(fields);
    out.extend_from_slice(b",\"receipt\":");
    serde_json::to_writer(&mut out, receipt).ok()?;
    match repeated {
        Some(true) => out.extend_from_slice(b",\"repeated\":true"),
        Some(false) => out.extend_from_slice(b",\"repeated\":false"),
        None => {}
    }
    out.push(b'}');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dossier_is_found_past_braces_quotes_and_escapes_inside_strings() {
        let dossier = serde_json::json!({
            "code": "000.00.15.H01-261201-0001",
            "applicant": {"name": "Lê \"Út\" {Nhỏ}", "note": "a\\\\\"}\\"},
            "history": [{"note": "}}}", "details": {"x": [1, {"y": "\\u0000\u{1}"}]}}, {}],
            "empty": {},
        });
        let record = serde_json::json!({"dossier": dossier, "fingerprint": "{\"}"});
        let bytes = serde_json::to_vec(&record).unwrap();
        let found = DossierJson::within(bytes.clone()).unwrap();
        assert_eq!(found.dossier().unwrap(), serde_json::to_vec(&dossier).unwrap().as_slice());
        assert_eq!(found.record(), bytes.as_slice());
    }

    #[test]
    fn json_that_is_not_a_record_with_its_dossier_first_is_refused() {
        for json in [
            &b"{\"deadline\":{}}"[..],
            b"{\"dossier\":[]}",
            b"{\"dossier\":{\"a\":\"}",
            b"{\"dossier\":{",
            b"{\"dossier\":{\"a\":\"\\",
            b"",
        ] {
            let found = DossierJson::within(json.to_vec());
            assert!(found.and_then(|f| f.dossier().map(<[u8]>::to_vec)).is_none(), "{}", String::from_utf8_lossy(json));
        }
        assert!(object_len(b"}").is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_texts_in_any_nesting_are_stepped_over(texts in proptest::collection::vec(".*", 1..6), deep in 0usize..4) {
            let mut dossier = serde_json::json!({ "code": texts[0], "all": texts });
            for depth in 0..deep {
                dossier = serde_json::json!({ "in": dossier, "depth": depth, "text": texts.last() });
            }
            let record = serde_json::json!({ "dossier": dossier, "fingerprint": texts.last() });
            let found = DossierJson::within(serde_json::to_vec(&record).unwrap()).unwrap();
            let expected = serde_json::to_vec(&dossier).unwrap();
            proptest::prop_assert_eq!(found.dossier().unwrap(), expected.as_slice());
        }
    }
}
