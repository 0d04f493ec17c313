//! The public postal service: dossiers and delivery events in (XML); replies,
//! errors and return orders out.

pub mod inbound;
pub mod outbound;
mod shape;

pub use inbound::{DeliveryStatus, PostalEvent, PostalIntake, PostalService, parse_dossier, parse_event};
