//! The public postal operator (VNPost) as it really is (docs/PEERS.md §2): the gateway
//! is its client. It creates orders to collect a dossier from the applicant and to
//! return a result (`MOrder`), reads each answer's `Status` (100 created, 101 already
//! there), cancels orders, and polls the customer's tracking feed page by page.

pub mod client;
pub mod order;
pub mod tracking;

pub use client::{Auth, Grant, Paths, VnpostClient};
pub use order::{Direction, OrderParty, OrderRequest, OrderVerdict, StatusRule, StatusRules};
pub use tracking::{PageItem, TrackingEvent, TrackingPage};
