//! One file per kind of job, each turning its job into the call the peer's module makes
//! (`crate::peers`) and saying what the outcome does to the dossier (an
//! [`Effect`](crate::dossiers::effects::Effect), applied by `dossiers::effects`), the
//! way mini-redis gives each command its own `apply`.

mod collection;
mod desk;
mod letter;
mod notify;
mod payment;
mod portal_status;
mod portal_sync;
mod return_order;
mod tracking;

use motcua_adapters::outbound::CallOutcome;

use crate::core::Core;
use crate::dossiers::{DossierRecord, effects::Effect};
use crate::outbound::Route;
use crate::outbox::{Job, JobKind};

/// What each job's call needs: the shared state, the route to its destination, a token
/// for it, the dossier as it is now.
pub struct Call<'a> {
    /// The shared state.
    pub core: &'a Core,
    /// The destination's route.
    pub route: &'a Route,
    /// The gateway's token to it.
    pub token: &'a str,
    /// The dossier the job concerns.
    pub record: &'a DossierRecord,
}

/// Makes the call of `job`.
pub async fn call(call: Call<'_>, job: &Job) -> (CallOutcome, Effect) {
    match &job.kind {
        JobKind::Deliver => desk::deliver(&call).await,
        JobKind::Notice { notice } => desk::notice(&call, job.id, notice).await,
        JobKind::PortalStatus { seq } => portal_status::send(&call, *seq).await,
        JobKind::PortalRecord | JobKind::PortalProgress | JobKind::PortalPromotionStatus { .. } => {
            portal_sync::send(&call, job).await
        }
        JobKind::ReturnOrder => return_order::send(&call).await,
        JobKind::Letter { n } => letter::send(&call, job, *n).await,
        JobKind::CollectionOrder => collection::place(&call).await,
        JobKind::CancelOrder { number } => collection::cancel(&call, number).await,
        JobKind::PaymentInit { reference } => payment::open(&call, reference).await,
        JobKind::Tracking { seq } => tracking::send(&call, *seq).await,
        JobKind::Notify { event, seq } => notify::send(&call, &job.destination, *event, *seq).await,
    }
}
