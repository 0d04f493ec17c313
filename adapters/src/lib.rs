//! Peer formats of motcua. One module per peer, each with an inbound half that
//! normalizes a peer's format into the `motcua-schemas` model and an outbound half
//! that renders what the gateway sends. Adapters know formats, not storage.

pub mod check;
pub mod desk;
pub mod dvcqg;
pub mod emc;
pub mod error;
pub mod json;
pub mod notify;
pub mod outbound;
pub mod paygov;
pub mod portal;
pub mod postal;
pub mod vnpost;
pub mod xml;

pub use error::InboundError;
