//! Reading JSON bodies safely: a nesting limit checked before parsing, and serde
//! errors turned into 400 (unreadable JSON, duplicate keys) or 422 (wrong shape or
//! type) with a JSON pointer to the offending member.

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
    fn syntax_duplicates_and_trailing_data_are_400() {
        for bad in [r#"{"a":"#, r#"{"a":{"n":1},"a":{"n":1},"list":[]}"#, r#"{"a":{"n":1},"list":[]} {}"#, "\u{0}"] {
            assert!(matches!(parse(bad), Err(InboundError::Malformed { .. })), "{bad:?}");
        }
        assert!(matches!(from_slice::<Outer>(b"\xff\xfe", 4), Err(InboundError::Malformed { .. })));
    }
}
