//! The running gateway's shared state as its request handlers see it: the [`Core`]
//! every part shares (store, clock, settings swapped whole on reload, outbound
//! clients, metrics), and what only requests need — the rate limiters built from the
//! settings, verified tokens and Basic credentials, the public lookup's counts, the
//! dispatcher's handle.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;

use crate::auth::verify::TokenCache;
use crate::clock::Clock;
use crate::core::Core;
use crate::dispatch::DispatchHandle;
use crate::limits::{Limiters, WrongAnswers};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::settings::Settings;
use crate::store::Store;

/// Dossier codes whose wrong lookups are remembered at once.
const LOOKUP_CODES_REMEMBERED: usize = 200_000;

/// Shared state of a running gateway.
pub struct App {
    core: Core,
    limiters: ArcSwap<Limiters>,
    tokens: ArcSwap<TokenCache>,
    dispatch: ArcSwap<DispatchHandle>,
    wrong_lookups: WrongAnswers,
    lookup_decoy: OnceLock<Option<Vec<u8>>>,
    /// HTTP Basic checks: failures per source and verified headers.
    pub basic: crate::auth::basic::BasicAuth,
}

impl std::ops::Deref for App {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

impl App {
    /// State for `settings` over `store`.
    pub fn new(
        settings: Settings,
        store: Store,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        outbound: Arc<Outbound>,
    ) -> Arc<App> {
        let limiters = Limiters::new(&settings.clients, settings.gateway.public_rate);
        let l = &settings.limits;
        let wrong_lookups = WrongAnswers::new(
            l.lookup_wrong_answers,
            std::time::Duration::from_secs(l.lookup_window_secs),
            LOOKUP_CODES_REMEMBERED,
        );
        let basic = crate::auth::basic::BasicAuth::new(l.basic_failures);
        Arc::new(App {
            core: Core::new(settings, store, clock, metrics, outbound),
            limiters: ArcSwap::from_pointee(limiters),
            tokens: ArcSwap::from_pointee(TokenCache::default()),
            basic,
            dispatch: ArcSwap::from_pointee(DispatchHandle::detached()),
            wrong_lookups,
            lookup_decoy: OnceLock::new(),
        })
    }

    /// Connects the dispatcher this node runs (while it leads the cluster), or a
    /// stand-in with empty queues.
    pub fn set_dispatch(&self, handle: DispatchHandle) {
        self.dispatch.store(Arc::new(handle));
    }

    /// The dispatcher; a stand-in with empty queues while this node does not run one.
    pub fn dispatch(&self) -> DispatchHandle {
        DispatchHandle::clone(&self.dispatch.load())
    }

    /// The shared state every background task is given.
    pub fn core(&self) -> &Core {
        &self.core
    }

    /// Verified tokens of the clients in force.
    pub fn tokens(&self) -> Arc<TokenCache> {
        self.tokens.load_full()
    }

    /// Puts a new, valid configuration in force: clients and keys (cached tokens and
    /// Basic credentials are forgotten, so a key removed from the configuration stops
    /// working at once), rate limits, desks, units, procedures, calendar, outbound peers,
    /// request limits and the pages' operators. What only a restart can change
    /// ([`crate::settings::Boot`]: listeners, how they accept, TLS, trusted proxies, data
    /// directory, store) keeps its running value, and each such difference is returned
    /// as a warning, so that nothing is applied by half without saying so.
    pub fn reload(&self, new: Settings) -> Result<Vec<String>, String> {
        let old = self.settings();
        let warnings = old
            .boot
            .differences(&new.boot)
            .into_iter()
            .map(|key| format!("{key} changes only with a restart: the running value stays until then"))
            .collect();
        let outbound = Outbound::new(&new).map_err(|e| e.to_string())?;
        let mut new = new;
        new.boot = old.boot.clone();
        self.limiters.store(Arc::new(Limiters::new(&new.clients, new.gateway.public_rate)));
        self.core.swap(new, outbound);
        self.tokens.store(Arc::new(TokenCache::default()));
        self.basic.forget_verified();
        Ok(warnings)
    }

    /// Wrong answers to the public lookup per dossier code.
    pub fn wrong_lookups(&self) -> &WrongAnswers {
        &self.wrong_lookups
    }

    /// A stored dossier record's bytes, decoded by the public lookup in place of an
    /// unknown code's; taken once a record exists.
    pub fn lookup_decoy(&self) -> &Option<Vec<u8>> {
        if let Some(decoy) = self.lookup_decoy.get() {
            return decoy;
        }
        match crate::dossiers::read::any_bytes(&self.store).ok().flatten() {
            Some(bytes) => self.lookup_decoy.get_or_init(|| Some(bytes)),
            None => &None,
        }
    }

    /// The rate limiters in force.
    pub fn limiters(&self) -> Arc<Limiters> {
        self.limiters.load_full()
    }
}
