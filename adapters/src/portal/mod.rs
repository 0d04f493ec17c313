//! The public service portal: dossiers in (JSON, national portal field names);
//! status updates and letters out.

pub mod inbound;
pub mod outbound;

pub use inbound::{PortalIntake, parse_dossier};
