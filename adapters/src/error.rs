//! What an inbound normalizer reports: a body that cannot be read at all (HTTP 400),
//! or one whose content is wrong, field by field (HTTP 422).

use motcua_schemas::FieldError;

/// Why an inbound body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// The body cannot be parsed or uses a forbidden construct (400).
    #[error("malformed body at {pointer}: {message}")]
    Malformed {
        /// Where (JSON pointer or XML path; empty for the whole body).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The body parses but its content is invalid (422): every failure, located.
    #[error("{} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
}

impl InboundError {
    /// A malformed body.
    pub fn malformed(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        InboundError::Malformed { pointer: pointer.into(), message: message.into() }
    }
}
