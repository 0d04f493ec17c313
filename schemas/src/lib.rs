//! The model and rules of motcua, free of I/O: identifiers, the unified dossier
//! model, the status machine, the working-time calendar and Vietnamese text
//! normalization. Every other crate builds on these types.

pub mod calendar;
pub mod ids;
pub mod model;
pub mod status;
pub mod text;
pub mod time;

pub use calendar::{Calendar, Deadline, ProcessingTime, SupplementPolicy, WorkingDuration};
pub use ids::{
    AgencyCode, CitizenId, DossierCode, IdError, IdKind, PersonalId, PhoneNumber, ProcedureCode, S10ItemCode, TaxCode,
    UnitCode,
};
pub use model::*;
pub use status::{EventType, Status, TransitionError};
