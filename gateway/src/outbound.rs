//! The gateway's side of outbound calls: one HTTP client per destination (its own
//! timeout, trusted CA, connection pool) and short-lived tokens signed with the
//! gateway's own key, one per audience, reused until shortly before they expire.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use crate::auth::{
    keys::SigningKey,
    tokens::{Claims, mint},
};
use crate::network::DeskMode;
use crate::outbox::Destination;
use crate::settings::{Portal, Post, Settings};

/// Lifetime of the gateway's outbound tokens (docs/CONTRACT.md §1: at most 5 minutes).
const TOKEN_LIFETIME_SECS: i64 = 300;
/// A cached token is replaced this long before it expires.
const TOKEN_RENEW_BEFORE_SECS: i64 = 60;

/// Why outbound calls could not be prepared.
#[derive(Debug, thiserror::Error)]
#[error("{destination}: {reason}")]
pub struct OutboundError {
    /// The destination.
    pub destination: String,
    /// Why.
    pub reason: String,
}

/// How to reach one destination.
#[derive(Debug, Clone)]
pub struct Route {
    /// The client (timeout and TLS roots of this destination).
    pub client: reqwest::Client,
    /// Base URL without a trailing slash.
    pub base: String,
    /// The peer's id: the audience of the gateway's tokens to it.
    pub audience: String,
    /// Calls in flight at once.
    pub concurrency: usize,
}

/// Clients and tokens for every push destination.
pub struct Outbound {
    routes: HashMap<String, Route>,
    signing: SigningKey,
    issuer: String,
    tokens: Mutex<HashMap<String, (String, i64)>>,
    dvcqg: Option<std::sync::Arc<motcua_adapters::dvcqg::DvcqgClient>>,
    dvcqg_pull: Option<std::sync::Arc<motcua_adapters::dvcqg::DvcqgClient>>,
    paygov: Option<std::sync::Arc<motcua_adapters::paygov::PaygovClient>>,
    vnpost: Option<std::sync::Arc<motcua_adapters::vnpost::VnpostClient>>,
}

fn client(timeout: Duration, ca_file: Option<&std::path::Path>, concurrency: usize) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .user_agent(concat!("motcua/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = ca_file {
        let pem = std::fs::read(ca).map_err(|e| format!("cannot read {}: {e}", ca.display()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("{}: {e}", ca.display()))?;
        builder = builder.tls_certs_only(certs);
    }
    builder.build().map_err(|e| e.to_string())
}

impl Outbound {
    /// Prepares a client for every push desk and for the portal and postal peers.
    pub fn new(settings: &Settings) -> Result<Outbound, OutboundError> {
        let retry = &settings.retry;
        let mut routes = HashMap::new();
        let mut add = |destination: Destination,
                       peer_id: &str,
                       base: &str,
                       ca: Option<&std::path::Path>,
                       timeout: Option<u64>,
                       concurrency: Option<usize>| {
            let concurrency = concurrency.unwrap_or(retry.concurrency).max(1);
            let timeout = Duration::from_secs(timeout.unwrap_or(retry.timeout_secs));
            let client = client(timeout, ca, concurrency)
                .map_err(|reason| OutboundError { destination: destination.name(), reason })?;
            routes.insert(
                destination.name(),
                Route { client, base: base.to_owned(), audience: peer_id.to_owned(), concurrency },
            );
            Ok::<(), OutboundError>(())
        };
        for desk in settings.network.desks().filter(|d| d.mode == DeskMode::Push) {
            let url = desk.url.as_deref().unwrap_or_default();
            add(
                Destination::Desk(desk.id.clone()),
                &desk.id,
                url,
                desk.ca_file.as_deref(),
                desk.timeout_secs,
                desk.concurrency,
            )?;
        }
        let links = [
            (Destination::Portal, settings.portal.as_ref().map(Portal::link)),
            (Destination::Postal, settings.postal.as_ref().map(Post::link)),
            (Destination::Payment, settings.payment.as_ref().map(|p| &p.link)),
            (Destination::Tracking, settings.tracking.as_ref().map(|(link, _, _)| link)),
        ];
        for (destination, link) in links {
            if let Some(p) = link {
                add(destination, &p.id, &p.url, p.ca_file.as_deref(), p.timeout_secs, p.concurrency)?;
            }
        }
        // The channels that tell citizens: their own clients, their queues' lanes.
        if let Some(n) = &settings.notify {
            use crate::settings::notify::NotifyChannel;
            for channel in [NotifyChannel::Email, NotifyChannel::Sms, NotifyChannel::Zalo] {
                let Some(lane) = n.lane(channel) else { continue };
                let client = match channel {
                    NotifyChannel::Sms => n.sms.as_ref().map(|(p, _)| p.client.clone()),
                    NotifyChannel::Zalo => n.zalo.as_ref().map(|(z, _, _)| z.client.clone()),
                    NotifyChannel::Email => None,
                };
                let destination = Destination::Notify(channel.as_str().to_owned());
                routes.insert(
                    destination.name(),
                    Route {
                        client: client.unwrap_or_default(),
                        base: String::new(),
                        audience: destination.name(),
                        concurrency: lane.concurrency,
                    },
                );
            }
        }
        // The national portal and VNPost are spoken to through clients of their own.
        let dvcqg = match &settings.portal {
            Some(Portal::Dvcqg(link, d)) => routes.get(&Destination::Portal.name()).map(|route| {
                std::sync::Arc::new(motcua_adapters::dvcqg::DvcqgClient::new(
                    route.client.clone(),
                    link.url.clone(),
                    d.transport.clone(),
                    d.oauth.clone(),
                    d.rules.clone(),
                    link.max_answer_bytes,
                ))
            }),
            _ => None,
        };
        // The pull has its own services, account and session; it goes out over the
        // portal's route (its timeouts and trusted certificates).
        let dvcqg_pull = match &settings.portal {
            Some(Portal::Dvcqg(link, d)) => d.pull.as_ref().and_then(|pull| {
                let route = routes.get(&Destination::Portal.name())?;
                let client = motcua_adapters::dvcqg::DvcqgClient::new(
                    route.client.clone(),
                    pull.url.clone().unwrap_or_else(|| link.url.clone()),
                    pull.transport.clone(),
                    None,
                    d.rules.clone(),
                    link.max_answer_bytes,
                );
                Some(std::sync::Arc::new(client.with_fixed_token(pull.token.clone())))
            }),
            _ => None,
        };
        let paygov = settings.payment.as_ref().and_then(|p| {
            let route = routes.get(&Destination::Payment.name())?;
            Some(std::sync::Arc::new(motcua_adapters::paygov::PaygovClient::new(
                route.client.clone(),
                p.services.clone(),
                p.partner.clone(),
                p.token.clone(),
                p.link.max_answer_bytes,
            )))
        });
        let vnpost = match &settings.postal {
            Some(Post::Vnpost(link, v)) => routes.get(&Destination::Postal.name()).map(|route| {
                std::sync::Arc::new(motcua_adapters::vnpost::VnpostClient::new(
                    route.client.clone(),
                    link.url.clone(),
                    v.auth.clone(),
                    v.paths.clone(),
                    v.customer_code.clone(),
                    v.rules.clone(),
                    link.max_answer_bytes,
                ))
            }),
            _ => None,
        };
        Ok(Outbound {
            routes,
            dvcqg,
            dvcqg_pull,
            paygov,
            vnpost,
            signing: settings.gateway.signing.clone(),
            issuer: settings.gateway.issuer.clone(),
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// The national portal's client, when the portal speaks its protocol. It keeps
    /// the portal's session and the LGSP's token across calls.
    pub fn dvcqg(&self) -> Option<&std::sync::Arc<motcua_adapters::dvcqg::DvcqgClient>> {
        self.dvcqg.as_ref()
    }

    /// The national payment platform's client, when fees are paid online.
    pub fn paygov(&self) -> Option<&std::sync::Arc<motcua_adapters::paygov::PaygovClient>> {
        self.paygov.as_ref()
    }

    /// The client of the portal's pull services, when dossiers are pulled.
    pub fn dvcqg_pull(&self) -> Option<&std::sync::Arc<motcua_adapters::dvcqg::DvcqgClient>> {
        self.dvcqg_pull.as_ref()
    }

    /// VNPost's client, when the postal peer is VNPost itself. It keeps the token.
    pub fn vnpost(&self) -> Option<&std::sync::Arc<motcua_adapters::vnpost::VnpostClient>> {
        self.vnpost.as_ref()
    }

    /// The destinations the gateway pushes to.
    pub fn destinations(&self) -> impl Iterator<Item = &str> {
        self.routes.keys().map(String::as_str)
    }

    /// How to reach `destination`, if the gateway pushes to it.
    pub fn route(&self, destination: &str) -> Option<&Route> {
        self.routes.get(destination)
    }

    /// A token for `audience`, valid for at least another minute as of `now` (seconds
    /// since the epoch).
    pub fn token(&self, audience: &str, now: i64) -> Result<String, String> {
        if let Ok(tokens) = self.tokens.lock()
            && let Some((token, expires)) = tokens.get(audience)
            && *expires - now > TOKEN_RENEW_BEFORE_SECS
        {
            return Ok(token.clone());
        }
        let claims = Claims::issued_at(&self.issuer, &self.issuer, audience, now, TOKEN_LIFETIME_SECS);
        let token = mint(&claims, &self.signing.encoding, self.signing.algorithm, Some(&self.signing.kid))
            .map_err(|e| e.to_string())?;
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(audience.to_owned(), (token.clone(), claims.exp));
        }
        Ok(token)
    }
}
