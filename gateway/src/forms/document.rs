//! An issued form as content: its heading, number, place and date, addressee,
//! body and signatures. The SHA-256 is taken over that content (its canonical JSON)
//! when it is issued; the HTML and text renderings only present it.

use askama::Template;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Format;

/// One part of a form's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph.
    Paragraph(String),
    /// An item of a list (numbered in order).
    Item(String),
    /// A table: its header row, then its rows.
    Table(Vec<Vec<String>>),
}

/// A signature block: the title lines and what the signer adds by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// e.g. ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"] or ["NGƯỜI TIẾP NHẬN HỒ SƠ"].
    pub title: Vec<String>,
    /// e.g. "(Ký, ghi rõ họ tên và đóng dấu)".
    pub note: String,
}

/// The content of an issued form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Content {
    /// "01" to "06".
    pub form: String,
    /// The form's title, in capitals.
    pub title: String,
    /// The document number (`Số:`).
    pub number: String,
    /// The issuing authority, top left, one line each.
    pub authority: Vec<String>,
    /// "Trạm Tấu, ngày 26 tháng 11 năm 2026".
    pub place_date: String,
    /// "Kính gửi: …", if any.
    pub addressee: Option<String>,
    /// The body.
    pub body: Vec<Block>,
    /// The signature blocks, left to right.
    pub signatures: Vec<Signature>,
    /// The legal basis, printed at the foot.
    pub basis: String,
}

/// An issued form as kept with its dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedDocument {
    /// When it was issued.
    #[serde(with = "motcua_schemas::time::rfc3339")]
    pub issued_at: Timestamp,
    /// What it says.
    pub content: Content,
    /// SHA-256 of `content` as canonical JSON, lower-case hex.
    pub sha256: String,
    /// When the gateway sealed it into the dossier's history (docs/ARCHITECTURE.md §10).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "motcua_schemas::time::rfc3339::option")]
    pub sealed_at: Option<Timestamp>,
    /// The hash of the link before it in the dossier's sealed history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prev: Option<String>,
}

#[derive(Template)]
#[template(path = "document.html")]
struct Html<'a> {
    d: &'a Content,
}

#[derive(Template)]
#[template(path = "document.txt", escape = "none")]
struct Text<'a> {
    d: &'a Content,
}

impl IssuedDocument {
    /// Issues `content` at `at`, fixing its SHA-256.
    pub fn issue(content: Content, at: Timestamp) -> IssuedDocument {
        let sha256 = digest(&content);
        IssuedDocument { issued_at: at, content, sha256, sealed_at: None, prev: None }
    }

    /// True when the content is still what was issued.
    pub fn verifies(&self) -> bool {
        digest(&self.content) == self.sha256
    }

    /// The form rendered in `format`.
    pub fn render(&self, format: Format) -> Result<String, askama::Error> {
        match format {
            Format::Html => Html { d: &self.content }.render(),
            Format::Text => Text { d: &self.content }.render(),
        }
    }
}

fn digest(content: &Content) -> String {
    let bytes = serde_json::to_vec(content).unwrap_or_default();
    crate::digest::hex(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref())
}
