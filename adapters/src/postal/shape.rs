//! The structure of the postal messages, as `schemas/postal.xsd` declares it: which
//! elements come in which order and how often, which attributes each may carry, and
//! which hold text and which hold elements. Checked before any field is read, so the
//! normalizer accepts exactly the documents the XSD accepts (no second `IdNumber`
//! that silently loses, no markup inside a name, no stray text or attributes).

use crate::check::Checker;
use crate::xml::{Element, POSTAL_NS};

/// What an element holds.
#[derive(Debug)]
pub(super) enum Content {
    /// Text only (no child elements).
    Text,
    /// Child elements in this order, each `(name, min, max, shape)`; no text.
    Sequence(&'static [Particle]),
}

/// One element of a sequence: its name, how often it may occur, and its shape.
pub(super) type Particle = (&'static str, usize, usize, &'static Shape);

/// An element's declared shape.
#[derive(Debug)]
pub(super) struct Shape {
    /// What it holds.
    pub content: Content,
    /// The attributes it may carry (unqualified local names).
    pub attributes: &'static [&'static str],
}

const TEXT: Shape = Shape { content: Content::Text, attributes: &[] };

const SENDER: Shape = Shape {
    content: Content::Sequence(&[
        ("Fullname", 1, 1, &TEXT),
        ("Tel", 0, 1, &TEXT),
        ("IdType", 1, 1, &TEXT),
        ("IdNumber", 1, 1, &TEXT),
        ("Address", 1, 1, &TEXT),
        ("ProvinceId", 0, 1, &TEXT),
        ("DistrictId", 0, 1, &TEXT),
        ("WardId", 0, 1, &TEXT),
    ]),
    attributes: &[],
};

const DOCUMENT: Shape = Shape { content: Content::Text, attributes: &["code", "pages"] };

const DOCUMENTS: Shape = Shape { content: Content::Sequence(&[("Document", 0, 200, &DOCUMENT)]), attributes: &[] };

/// `<BuuGuiHoSo>`: a dossier the postal worker collected.
pub(super) const DOSSIER: Shape = Shape {
    content: Content::Sequence(&[
        ("ItemCode", 1, 1, &TEXT),
        ("PostOfficeCode", 1, 1, &TEXT),
        ("AcceptedAt", 1, 1, &TEXT),
        ("Service", 1, 1, &TEXT),
        ("Sender", 1, 1, &SENDER),
        ("Procedure", 1, 1, &Shape { content: Content::Text, attributes: &["code"] }),
        ("TargetUnit", 1, 1, &TEXT),
        ("Documents", 0, 1, &DOCUMENTS),
        ("FeeCollected", 0, 1, &Shape { content: Content::Text, attributes: &["currency"] }),
    ]),
    attributes: &[],
};

/// `<SuKienBuuGui>`: a delivery event.
pub(super) const EVENT: Shape = Shape {
    content: Content::Sequence(&[
        ("ItemCode", 1, 1, &TEXT),
        ("Status", 1, 1, &TEXT),
        ("At", 1, 1, &TEXT),
        ("Note", 0, 1, &TEXT),
    ]),
    attributes: &[],
};

/// Checks `root` against the root element `name` of shape `shape`, recording every
/// difference with its path.
pub(super) fn check(c: &mut Checker, root: &Element, name: &str, shape: &Shape) {
    if root.name != name || root.namespace.as_deref() != Some(POSTAL_NS) {
        c.fail(root.path.clone(), format!("expected <{name}> in namespace {POSTAL_NS}"));
        return;
    }
    check_element(c, root, shape);
}

fn check_element(c: &mut Checker, el: &Element, shape: &Shape) {
    for (attribute, _) in &el.attributes {
        if !shape.attributes.contains(&attribute.as_str()) {
            c.fail(format!("{}/@{attribute}", el.path), "unexpected attribute");
        }
    }
    match &shape.content {
        Content::Text => {
            if let Some(child) = el.children.first() {
                c.fail(child.path.clone(), "an element is not allowed inside a text field");
            }
        }
        Content::Sequence(particles) => {
            if !el.text.trim().is_empty() {
                c.fail(el.path.clone(), "text is not allowed here, only elements");
            }
            check_sequence(c, el, particles);
        }
    }
}

fn check_sequence(c: &mut Checker, el: &Element, particles: &[Particle]) {
    let mut known = Vec::with_capacity(el.children.len());
    for child in &el.children {
        if child.namespace.as_deref() != Some(POSTAL_NS) {
            c.fail(child.path.clone(), format!("element is not in namespace {POSTAL_NS}"));
        } else if !particles.iter().any(|(name, ..)| *name == child.name) {
            c.fail(child.path.clone(), "unexpected element");
        } else {
            known.push(child);
        }
    }
    let mut children = known.into_iter().peekable();
    for &(name, min, max, shape) in particles {
        let mut seen = 0usize;
        while let Some(child) = children.next_if(|ch| ch.name == name) {
            seen += 1;
            if seen > max {
                let message = if max == 1 {
                    "element appears more than once".to_owned()
                } else {
                    format!("at most {max} allowed")
                };
                c.fail(child.path.clone(), message);
            } else {
                check_element(c, child, shape);
            }
        }
        if seen < min && children.peek().is_none_or(|next| next.name != name) {
            c.fail(format!("{}/{name}", el.path), "is required");
        }
    }
    for child in children {
        c.fail(child.path.clone(), "element is out of order (see schemas/postal.xsd)");
    }
}
