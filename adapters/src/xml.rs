//! A small, defensive XML reader for the postal partner's messages.
//!
//! It reads UTF-8 only, refuses any DOCTYPE (and with it every entity declaration),
//! every processing instruction but the XML declaration, and every entity reference
//! but the five predefined ones and character references; it bounds nesting depth
//! and element count, and builds a small tree whose elements know their path
//! (`/BuuGuiHoSo/Sender/Tel`) so that validation errors can point at them.

use quick_xml::{
    NsReader, XmlVersion,
    events::Event,
    name::{Namespace, ResolveResult},
};

use crate::InboundError;

/// The postal partner's namespace.
pub const POSTAL_NS: &str = "urn:motcua:postal:v1";

/// Most elements one message may hold.
const MAX_ELEMENTS: usize = 10_000;

/// One element of a parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: String,
    /// Namespace, if any.
    pub namespace: Option<String>,
    /// Attributes (local names, values with references resolved).
    pub attributes: Vec<(String, String)>,
    /// Child elements, in order.
    pub children: Vec<Element>,
    /// Text content directly inside (references resolved, CDATA included).
    pub text: String,
    /// Path from the root, e.g. `/BuuGuiHoSo/Sender`.
    pub path: String,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child with this local name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn malformed(message: impl Into<String>) -> InboundError {
    InboundError::malformed("", message)
}

fn resolve_reference(name: &str) -> Option<&'static str> {
    match name {
        "amp" => Some("&"),
        "lt" => Some("<"),
        "gt" => Some(">"),
        "apos" => Some("'"),
        "quot" => Some("\""),
        _ => None,
    }
}

/// Parses `body` into its root element under the safety rules of this module.
pub fn parse(body: &[u8], max_depth: usize) -> Result<Element, InboundError> {
    let text = std::str::from_utf8(body).map_err(|e| malformed(format!("the body is not UTF-8: {e}")))?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().check_end_names = true;
    reader.config_mut().check_comments = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| malformed(format!("not well-formed XML: {e}")))?;
        let namespace = match ns {
            ResolveResult::Bound(Namespace(n)) => Some(n.to_owned()),
            ResolveResult::Unbound => None,
            ResolveResult::Unknown(prefix) => {
                return Err(malformed(format!("unknown namespace prefix {prefix:?}")));
            }
        };
        match event {
            Event::Decl(decl) => {
                if let Some(enc) = decl.encoding() {
                    let enc = enc.map_err(|e| malformed(format!("bad XML declaration: {e}")))?;
                    if !enc.eq_ignore_ascii_case("utf-8") {
                        return Err(malformed(format!("encoding {enc:?} is not accepted; send UTF-8")));
                    }
                }
            }
            Event::DocType(_) => {
                return Err(malformed("a DOCTYPE (and any entity declaration) is not accepted"));
            }
            Event::PI(_) => return Err(malformed("processing instructions are not accepted")),
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed("content after the root element"));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(malformed(format!("more than {MAX_ELEMENTS} elements")));
                }
                if stack.len() >= max_depth {
                    return Err(malformed(format!("XML nested deeper than {max_depth} levels")));
                }
                let name = start.local_name().as_ref().to_owned();
                let path = format!("{}/{name}", stack.last().map(|p| p.path.as_str()).unwrap_or(""));
                let mut attributes = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| malformed(format!("bad attribute in {path}: {e}")))?;
                    let key = attr.key.local_name();
                    let key = key.as_ref().to_owned();
                    if attr.key.as_ref().starts_with("xmlns") {
                        continue;
                    }
                    let value = attr
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(|e| malformed(format!("bad attribute {path}/@{key}: {e}")))?;
                    attributes.push((key, value.into_owned()));
                }
                let element = Element { name, namespace, attributes, children: Vec::new(), text: String::new(), path };
                if matches!(event, Event::Empty(_)) {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(element),
                        None => root = Some(element),
                    }
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unbalanced end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Event::Text(t) => {
                let content = t.xml_content(XmlVersion::Implicit1_0);
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&content),
                    None if content.trim().is_empty() => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(t) => match stack.last_mut() {
                Some(el) => el.text.push_str(&t.xml_content(XmlVersion::Implicit1_0)),
                None => return Err(malformed("CDATA outside the root element")),
            },
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) if c != '\u{0}' => c.to_string(),
                    Ok(Some(_)) | Err(_) => {
                        return Err(malformed(format!("bad character reference &{};", &*r)));
                    }
                    Ok(None) => resolve_reference(&r)
                        .ok_or_else(|| malformed(format!("entity reference &{}; is not accepted", &*r)))?
                        .to_owned(),
                };
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&resolved),
                    None => return Err(malformed("reference outside the root element")),
                }
            }
            Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(malformed("the document ends inside an element"));
    }
    root.ok_or_else(|| malformed("the document has no root element"))
}

/// Escapes text for an element's content or an attribute value.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(xml: &str) -> String {
        match parse(xml.as_bytes(), 8) {
            Err(InboundError::Malformed { message, .. }) => message,
            other => panic!("expected a refusal of {xml:?}, got {other:?}"),
        }
    }

    #[test]
    fn builds_a_tree_with_paths_namespaces_and_resolved_text() {
        let root = parse(
            br#"<?xml version="1.0" encoding="utf-8"?><a xmlns="urn:x"><b k="1 &amp; 2">x &lt; y &#x1EC5;<![CDATA[<z>]]></b><c/><!-- note --></a>"#,
            8,
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.namespace.as_deref(), Some("urn:x"));
        let b = root.child("b").unwrap();
        assert_eq!(b.path, "/a/b");
        assert_eq!(b.text, "x < y ễ<z>");
        assert_eq!(b.attribute("k"), Some("1 & 2"));
        assert_eq!(root.child("c").unwrap().path, "/a/c");
    }

    #[test]
    fn refuses_dangerous_and_malformed_documents() {
        assert!(err(r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#).contains("DOCTYPE"));
        assert!(err(r#"<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>"#).contains("DOCTYPE"));
        assert!(err("<a>&x;</a>").contains("&x;"));
        assert!(err("<?xml-stylesheet href='x'?><a/>").contains("processing"));
        assert!(err("<a><?php x?></a>").contains("processing"));
        assert!(err(r#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#).contains("encoding"));
        assert!(err("<a><b></a>").contains("well-formed"));
        assert!(err("<a/><b/>").contains("after the root"));
        assert!(err(&"<a>".repeat(9)).contains("deeper"));
        assert!(err("<a>&#0;</a>").contains("character reference"));
        assert!(err("").contains("no root"));
        assert!(err("<p:a/>").contains("prefix"));
        assert!(matches!(parse(b"<a>\xff</a>", 8), Err(InboundError::Malformed { .. })));
    }
}
