//! The transactional outbox: outbound jobs written in the same batch as the change
//! that causes them, keyed by destination and a store-wide sequence so that each
//! destination's jobs are read back in the order they were queued. Outcomes
//! (delivered, retry later, dead letter, replay) are store commands too, so the
//! outbox on disk is always the truth the dispatcher rebuilds from.

mod dead;
mod job;
mod ops;
mod stats;

pub use dead::{DeadFilter, dead_letters, index_dead_letters};

pub use job::{DeadLetter, Destination, Job, JobKind, Notice, NoticeKind, key};
pub use ops::{
    DeliveryOutcome, InboxItem, acknowledge, enqueue, forget_dead, lease_inbox, notice, record_outcome, replay,
};
pub use stats::{DestinationStats, JobStats};
