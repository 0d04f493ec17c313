//! Who is calling: configured clients, their keys, and tokens (docs/CONTRACT.md §1);
//! passwords (HTTP Basic peers, operators of the pages) and the failures that hold a
//! guesser.

pub mod attempts;
pub mod basic;
pub mod clients;
pub mod keys;
pub mod password;
pub mod tokens;
pub mod verify;

/// A caller's role (docs/CONTRACT.md §1), as the configuration names it.
pub use crate::config::file::Role;
