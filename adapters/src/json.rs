//! Reading JSON bodies safely: a nesting limit checked before parsing, duplicate keys
//! refused wherever they occur (also in free-form values, where serde_json would keep
//! the last one silently), and serde errors turned into 400 (unreadable JSON,
//! duplicate keys) or 422 (wrong shape or type) with a JSON pointer to the offending
//! member.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use crate::InboundError;

/// Refuses a document nested deeper than `max` arrays and objects, scanning the
/// bytes once (strings skipped) so that no parser recursion is spent on it.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), InboundError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(InboundError::malformed("", format!("JSON nested deeper than {max} levels")));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The JSON pointer of a serde path (`/TaiLieuNop/0/MaBam`).
pub fn pointer(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .filter_map(|segment| match segment {
            Segment::Seq { index } => Some(format!("/{index}")),
            Segment::Map { key } => Some(format!("/{}", escape_token(key))),
            Segment::Enum { variant } => Some(format!("/{}", escape_token(variant))),
            Segment::Unknown => None,
        })
        .collect()
}

/// Deserializes `bytes` into `T`, checking depth first and refusing trailing data.
pub fn from_slice<T: DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Result<T, InboundError> {
    check_depth(bytes, max_depth)?;
    // Most input is valid: it is read once without tracking the path, and only input
    // that fails is read again to say where (reading is deterministic, so the second
    // reading fails at the same place).
    let mut de = serde_json::Deserializer::from_slice(bytes);
    if let Ok(value) = T::deserialize(&mut de)
        && de.end().is_ok()
    {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut at = pointer(e.path());
        let inner = e.inner();
        let message = inner.to_string();
        let message = message.split(" at line ").next().unwrap_or_default().to_owned();
        if let Some(rest) = message.strip_prefix("missing field `")
            && let Some(field) = rest.split('`').next()
        {
            at = format!("{at}/{}", escape_token(field));
        }
        match inner.classify() {
            serde_json::error::Category::Data if !message.starts_with("duplicate field") => {
                InboundError::Invalid(vec![motcua_schemas::FieldError::new(at, message)])
            }
            _ => InboundError::malformed(at, inner.to_string()),
        }
    })?;
    de.end().map_err(|e| InboundError::malformed("", e.to_string()))?;
    Ok(value)
}

/// A free-form JSON value read with every object's keys unique.
#[derive(Debug, Clone, PartialEq)]
pub struct Strict(pub serde_json::Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<serde_json::Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            let Strict(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(serde_json::Value::Object(out))
    }
}

/// Reads a free-form JSON document: depth checked first, duplicate keys refused (400),
/// nothing after it.
pub fn value(bytes: &[u8], max_depth: usize) -> Result<serde_json::Value, InboundError> {
    from_slice::<Strict>(bytes, max_depth).map(|Strict(v)| v)
}

/// Deepest nesting read in a peer's answer.
pub const ANSWER_DEPTH: usize = 64;

/// Reads a peer's answer as JSON, as strictly as a request: `None` when it is not
/// one JSON document with unique keys.
pub fn answer(bytes: &[u8]) -> Option<serde_json::Value> {
    value(bytes, ANSWER_DEPTH).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        a: Inner,
        list: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u8,
    }

    fn parse(s: &str) -> Result<Outer, InboundError> {
        from_slice(s.as_bytes(), 4)
    }

    #[test]
    fn depth_is_checked_outside_strings() {
        assert!(check_depth(br#"{"a":"[[[[[[[[[["}"#, 2).is_ok());
        assert!(check_depth(b"[[[]]]", 2).is_err());
        assert!(check_depth(br#"{"a":"\"[[[["}"#, 1).is_ok());
    }

    #[test]
    fn shape_errors_are_422_with_pointers() {
        let Err(InboundError::Invalid(e)) = parse(r#"{"a":{"n":1},"list":[{"n":1},{"n":300}]}"#) else { panic!() };
        assert_eq!(e[0].pointer, "/list/1/n");
        let Err(InboundError::Invalid(e)) = parse(r#"{"a":{"n":1},"list":[],"x":1}"#) else { panic!() };
        assert_eq!(e[0].pointer, "/x");
        let Err(InboundError::Invalid(e)) = parse(r#"{"a":{}, "list":[]}"#) else { panic!() };
        assert_eq!(e[0].pointer, "/a/n");
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth_in_free_form_values() {
        for bad in [r#"{"MaHoSo":"A","MaHoSo":"B"}"#, r#"{"data":[{"x":1,"y":2,"x":3}]}"#] {
            let Err(InboundError::Malformed { message, .. }) = value(bad.as_bytes(), 8) else { panic!("{bad}") };
            assert!(message.contains("duplicate field"), "{message}");
        }
        assert_eq!(value(br#"{"a":[1,2.5,"x",null,true]}"#, 8).unwrap()["a"][1], 2.5);
        assert!(answer(br#"{"error_code":"0","error_code":"1"}"#).is_none());
    }

    #[test]
    fn syntax_duplicates_and_trailing_data_are_400() {
        for bad in [r#"{"a":"#, r#"{"a":{"n":1},"a":{"n":1},"list":[]}"#, r#"{"a":{"n":1},"list":[]} {}"#, "\u{0}"] {
            assert!(matches!(parse(bad), Err(InboundError::Malformed { .. })), "{bad:?}");
        }
        assert!(matches!(from_slice::<Outer>(b"\xff\xfe", 4), Err(InboundError::Malformed { .. })));
    }
}
