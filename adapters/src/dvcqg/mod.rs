//! The national public service portal (DVCQG) and the provincial connectors in front
//! of it, spoken as they really are (docs/PEERS.md §1): the dossier record and its
//! progress steps out (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`), success read from
//! `error_code`, the session envelope, a connector's bare arrays and an LGSP's
//! OAuth2 token, and the portal's dossiers in, pushed or pulled.

pub mod catalogue;
pub mod client;
pub mod inbound;
pub mod pulled;
pub mod ratings;
pub mod record;
pub mod reply;

pub use client::{DvcqgClient, SyncOutcome, Transport};
pub use record::{RecordCodes, RecordContext, StatusCodes};
pub use reply::{ReplyRule, ReplyRules, Verdict};
