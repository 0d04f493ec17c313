//! The official forms of Circular 03/2025/TT-VPCP, Annex I (docs/DOMAIN.md §7), in
//! Vietnamese: 01 to 06 issued for one dossier when their event happens, 07 the log
//! book of a unit over a period.
//!
//! An issued form is a legal record: it is built once, when its event happens, from
//! what was known then, kept with the dossier with its number and the SHA-256 of its
//! content, and every later rendering (HTML with an A4 print stylesheet, or plain
//! text) presents that same content. A later apology issues a new 04 and leaves the
//! receipt as it was. The exact wording of the 03/2025 forms was not at hand: their
//! titles are the circular's, their structure follows the corresponding forms of
//! Circular 01/2018/TT-VPCP.

mod document;
mod issue;
mod logbook;
pub mod words;

pub use document::IssuedDocument;
pub use issue::{ReceiptFacts, issue_for_event, issue_receipt, receipt};
pub use logbook::log_book;

/// A rendering's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/html` (A4 print stylesheet).
    Html,
    /// `text/plain`.
    Text,
}
