//! Validated identifiers of the one-stop domain (docs/DOMAIN.md §3).
//!
//! Each identifier is a newtype that can only hold a well-formed value: it is built
//! with `FromStr` (or a constructor that cannot fail), shown with `Display`, and
//! (de)serialized as its string form, so an invalid code never enters the model.

mod agency;
mod dossier_code;
mod person;
mod phone;
mod procedure;
mod s10;
mod unit;

pub use agency::AgencyCode;
pub use dossier_code::DossierCode;
pub use person::{CitizenId, IdKind, PersonalId, TaxCode};
pub use phone::PhoneNumber;
pub use procedure::ProcedureCode;
pub use s10::S10ItemCode;
pub use unit::{UnitCode, UnitCodeKind};

/// Why a string is not a valid identifier of the given kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}{}: {reason}", .value.as_ref().map(|v| format!(" {v:?}")).unwrap_or_default())]
pub struct IdError {
    /// Which identifier was expected, e.g. "dossier code".
    pub kind: &'static str,
    /// The offending input, truncated to a readable length; `None` for personal data.
    pub value: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

impl IdError {
    pub(crate) fn new(kind: &'static str, value: &str, reason: impl Into<String>) -> Self {
        Self { kind, value: Some(value.chars().take(40).collect()), reason: reason.into() }
    }

    /// An error about personal data (ID and phone numbers): the value is not kept, so
    /// the error can be shown or logged without leaking it.
    pub(crate) fn personal(kind: &'static str, reason: impl Into<String>) -> Self {
        Self { kind, value: None, reason: reason.into() }
    }
}

/// True when every byte of `s` is an ASCII digit and `s` is not empty.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Implements `Display`, `Serialize` and `Deserialize` for a newtype whose
/// canonical string form is its field `0` and whose parser is `FromStr`.
macro_rules! string_id {
    ($ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $ty {
            /// The canonical string form.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_id;
