//! The running gateway's shared state: the current settings (swapped whole on
//! reload), the store, and the rate limiters built from the settings.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;

use crate::auth::verify::TokenCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::dispatch::DispatchHandle;
use crate::limits::Limiters;
use crate::store::Store;

/// Shared state of a running gateway.
pub struct App {
    settings: ArcSwap<Settings>,
    limiters: ArcSwap<Limiters>,
    tokens: ArcSwap<TokenCache>,
    /// The durable store.
    pub store: Store,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    dispatch: OnceLock<DispatchHandle>,
}

impl App {
    /// State for `settings` over `store`.
    pub fn new(settings: Settings, store: Store, clock: Arc<dyn Clock>) -> Arc<App> {
        let limiters = Limiters::new(&settings.clients, settings.gateway.public_rate);
        Arc::new(App {
            settings: ArcSwap::from_pointee(settings),
            limiters: ArcSwap::from_pointee(limiters),
            tokens: ArcSwap::from_pointee(TokenCache::default()),
            store,
            clock,
            dispatch: OnceLock::new(),
        })
    }

    /// Connects the dispatcher (once, at start).
    pub fn set_dispatch(&self, handle: DispatchHandle) {
        let _ = self.dispatch.set(handle);
    }

    /// The dispatcher; a stand-in with empty queues before it starts.
    pub fn dispatch(&self) -> DispatchHandle {
        self.dispatch.get().cloned().unwrap_or_else(DispatchHandle::detached)
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// Verified tokens of the clients in force.
    pub fn tokens(&self) -> Arc<TokenCache> {
        self.tokens.load_full()
    }

    /// The rate limiters in force.
    pub fn limiters(&self) -> Arc<Limiters> {
        self.limiters.load_full()
    }
}
