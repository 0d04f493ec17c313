//! Who is calling: configured clients, their keys, and tokens (docs/CONTRACT.md §1).

pub mod basic;
pub mod clients;
pub mod keys;
pub mod tokens;
pub mod verify;
