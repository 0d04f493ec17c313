//! The running gateway's shared state: the current settings (swapped whole on
//! reload), the store, and the rate limiters built from the settings.

use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;

use crate::auth::verify::TokenCache;
use crate::clock::Clock;
use crate::dispatch::{self, DispatchHandle, Outbound};
use crate::limits::{Limiters, WrongAnswers};
use crate::settings::Settings;

/// Dossier codes whose wrong lookups are remembered at once.
const LOOKUP_CODES_REMEMBERED: usize = 200_000;
use crate::metrics::Metrics;
use crate::store::Store;

/// Shared state of a running gateway.
pub struct App {
    settings: Arc<ArcSwap<Settings>>,
    limiters: ArcSwap<Limiters>,
    tokens: ArcSwap<TokenCache>,
    outbound: Arc<ArcSwap<Outbound>>,
    /// The durable store.
    pub store: Store,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    dispatch: ArcSwap<DispatchHandle>,
    wrong_lookups: WrongAnswers,
    /// The supervised tasks that are down.
    pub tasks: Arc<crate::supervise::Tasks>,
    lookup_decoy: OnceLock<Option<Vec<u8>>>,
    /// HTTP Basic checks: failures per source and verified headers.
    pub basic: crate::auth::basic::BasicAuth,
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
            settings: Arc::new(ArcSwap::from_pointee(settings)),
            limiters: ArcSwap::from_pointee(limiters),
            tokens: ArcSwap::from_pointee(TokenCache::default()),
            basic,
            outbound: Arc::new(ArcSwap::new(outbound)),
            store,
            clock,
            metrics,
            dispatch: ArcSwap::from_pointee(DispatchHandle::detached()),
            wrong_lookups,
            tasks: Arc::default(),
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

    /// The dispatcher's narrow view of this gateway.
    pub fn dispatch_context(&self) -> dispatch::Context {
        dispatch::Context::new(
            self.store.clone(),
            self.clock.clone(),
            self.metrics.clone(),
            self.tasks.clone(),
            self.settings.clone(),
            self.outbound.clone(),
        )
    }

    /// The settings in force.
    pub fn settings(&self) -> Arc<Settings> {
        self.settings.load_full()
    }

    /// Verified tokens of the clients in force.
    pub fn tokens(&self) -> Arc<TokenCache> {
        self.tokens.load_full()
    }

    /// Outbound clients and tokens of the destinations in force.
    pub fn outbound(&self) -> Arc<Outbound> {
        self.outbound.load_full()
    }

    /// Puts a new, valid configuration in force: clients and keys (cached tokens are
    /// forgotten, so a key removed from the configuration stops working at once),
    /// rate limits, desks, units, procedures, calendar and outbound peers. What
    /// only a restart can change — listeners, TLS, data directory, store — is kept,
    /// and each such difference is returned as a warning.
    pub fn reload(&self, new: Settings) -> Result<Vec<String>, String> {
        let old = self.settings();
        let mut warnings = Vec::new();
        let (o, n) = (&old.gateway, &new.gateway);
        if o.listen != n.listen || o.admin_listen != n.admin_listen {
            warnings.push("listener addresses change only with a restart".to_owned());
        }
        if o.tls != n.tls || o.client_ca_file != n.client_ca_file {
            warnings.push("TLS settings change only with a restart".to_owned());
        }
        if o.data_dir != n.data_dir {
            warnings.push("the data directory changes only with a restart".to_owned());
        }
        let outbound = Outbound::new(&new).map_err(|e| e.to_string())?;
        let mut new = new;
        new.gateway.listen = o.listen;
        new.gateway.admin_listen = o.admin_listen;
        new.gateway.tls = o.tls.clone();
        new.gateway.client_ca_file = o.client_ca_file.clone();
        new.gateway.data_dir = o.data_dir.clone();
        new.store = old.store.clone();
        self.limiters.store(Arc::new(Limiters::new(&new.clients, new.gateway.public_rate)));
        self.outbound.store(Arc::new(outbound));
        self.settings.store(Arc::new(new));
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
        let first = self.store.scan_prefix(crate::store::Space::Dossier, b"").next().and_then(Result::ok);
        match first {
            Some((_, bytes)) => self.lookup_decoy.get_or_init(|| Some(bytes)),
            None => &None,
        }
    }

    /// The rate limiters in force.
    pub fn limiters(&self) -> Arc<Limiters> {
        self.limiters.load_full()
    }
}
