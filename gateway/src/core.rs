//! The one handle every part of the running gateway that works in the background — the
//! dispatcher, the deadline clock, the portal's pull, VNPost's tracking — is given,
//! and nothing more: the store, the clock, the settings and outbound clients in force
//! (the very cells a reload swaps), the metrics, and where a failing task is reported.
//! It is cheap to clone, after mini-redis's `Db`.

use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::settings::Settings;
use crate::store::Store;
use crate::supervise::Tasks;

/// The gateway's shared state, as background work sees it.
#[derive(Clone)]
pub struct Core {
    /// The durable store.
    pub store: Store,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// The supervised tasks that are down.
    pub tasks: Arc<Tasks>,
    settings: Arc<ArcSwap<Settings>>,
    outbound: Arc<ArcSwap<Outbound>>,
    audit_key: Arc<std::sync::OnceLock<Arc<crate::audit::key::AuditKey>>>,
}

impl Core {
    /// The shared state for `settings` over `store`, with the clients of `outbound`.
    pub fn new(
        settings: Settings,
        store: Store,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        outbound: Arc<Outbound>,
    ) -> Core {
        Core {
            store,
            clock,
            metrics,
            tasks: Arc::default(),
            settings: Arc::new(ArcSwap::from_pointee(settings)),
            outbound: Arc::new(ArcSwap::new(outbound)),
            audit_key: Arc::default(),
        }
    }

    /// The key that signs the checkpoints, once the gateway has opened it.
    pub fn audit_key(&self) -> Option<Arc<crate::audit::key::AuditKey>> {
        self.audit_key.get().cloned()
    }

    /// Gives the checkpoints their signing key (once, at start).
    pub fn set_audit_key(&self, key: crate::audit::key::AuditKey) {
        let _ = self.audit_key.set(Arc::new(key));
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// Outbound clients and tokens of the destinations in force.
    pub fn outbound(&self) -> Arc<Outbound> {
        self.outbound.load_full()
    }

    /// Puts new settings and their outbound clients in force (a reload).
    pub(crate) fn swap(&self, settings: Settings, outbound: Outbound) {
        self.outbound.store(Arc::new(outbound));
        self.settings.store(Arc::new(settings));
    }
}
