//! Dossiers as the gateway keeps them: the served model plus the gateway's own
//! bookkeeping, and the operations that create and change them.

pub mod intake;
pub mod record;

pub use record::DossierRecord;
