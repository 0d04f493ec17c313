//! What the dispatcher needs of the running gateway, and nothing more: the store,
//! the clock, the settings and outbound routes in force (reloads included), the
//! metrics, and where to report a failing task.

use std::sync::Arc;

use arc_swap::ArcSwap;

use super::Outbound;
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::store::Store;
use crate::supervise::Tasks;

/// The dispatcher's view of the gateway.
#[derive(Clone)]
pub struct Context {
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
}

impl Context {
    /// A view over the gateway's shared state; `settings` and `outbound` are the
    /// very cells a reload swaps.
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        tasks: Arc<Tasks>,
        settings: Arc<ArcSwap<Settings>>,
        outbound: Arc<ArcSwap<Outbound>>,
    ) -> Context {
        Context { store, clock, metrics, tasks, settings, outbound }
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// Outbound clients and tokens of the destinations in force.
    pub fn outbound(&self) -> Arc<Outbound> {
        self.outbound.load_full()
    }
}
