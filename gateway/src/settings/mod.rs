//! The checked runtime settings every other module reads, built from the
//! configuration file (`crate::config`): all problems are reported at once, each
//! with the file and its key path; secrets come from the environment only.

pub mod audit;
pub mod dvcqg;
pub mod notify;
pub mod payment;
pub mod ui;
pub mod vnpost;
pub mod warnings;

use std::{
    net::IpAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use ipnet::IpNet;
use motcua_schemas::{Calendar, WorkingDuration};

use crate::auth::{
    clients::Clients,
    keys::{self, SigningKey},
};
use crate::catalogue::Catalogue;
use crate::config::file::{ConfigFile, PeerSection, Protocol, RateSection, RetrySection, StoreSection, TlsSection};
use crate::config::{Problem, Problems, check_file, check_url, resolve};
use crate::network::Network;

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{path}: cannot read: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The file parsed but its content is wrong.
    #[error("{path}: {} problem(s):\n{}", problems.len(), problems.iter().map(|p| format!("  {path}: {}: {}", p.path, p.message)).collect::<Vec<_>>().join("\n"))]
    Invalid {
        /// The file.
        path: String,
        /// Every problem.
        problems: Vec<Problem>,
    },
}

/// How the main listener speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// A self-signed certificate generated into the data directory.
    Dev,
    /// Plain HTTP behind a terminating proxy.
    Off,
    /// Certificate chain and key files.
    Files {
        /// Chain.
        cert: PathBuf,
        /// Key.
        key: PathBuf,
    },
}

/// How an outbound peer (the portal, the post) is reached, whatever it speaks.
#[derive(Debug, Clone)]
pub struct Link {
    /// Its id (the audience of the gateway's tokens).
    pub id: String,
    /// Base URL without a trailing slash.
    pub url: String,
    /// Extra CA to trust.
    pub ca_file: Option<PathBuf>,
    /// Timeout of one call, if not the default.
    pub timeout_secs: Option<u64>,
    /// Calls in flight at once, if not the default.
    pub concurrency: Option<usize>,
    /// Largest answer read from it, in bytes.
    pub max_answer_bytes: usize,
}

/// The public service portal, and what it speaks — chosen once, here.
#[derive(Debug, Clone)]
pub enum Portal {
    /// The gateway's own contract (docs/CONTRACT.md §6).
    Contract(Link),
    /// The national portal as it really is (docs/PEERS.md §1, docs/PORTAL.md).
    Dvcqg(Link, Box<dvcqg::DvcqgSettings>),
}

impl Portal {
    /// How it is reached.
    pub fn link(&self) -> &Link {
        match self {
            Portal::Contract(link) | Portal::Dvcqg(link, _) => link,
        }
    }
}

/// The postal service, and what it speaks — chosen once, here.
#[derive(Debug, Clone)]
pub enum Post {
    /// The gateway's own contract (docs/CONTRACT.md §4).
    Contract(Link),
    /// VNPost, the gateway as its client (docs/PEERS.md §2, docs/POST.md).
    Vnpost(Link, Box<vnpost::VnpostSettings>),
}

impl Post {
    /// How it is reached.
    pub fn link(&self) -> &Link {
        match self {
            Post::Contract(link) | Post::Vnpost(link, _) => link,
        }
    }
}

/// What only a restart can change: where the gateway listens and how it accepts a
/// connection, TLS, the proxies it believes, where its data lives. A reload that
/// changes any of it keeps the running value and says so.
#[derive(Debug, Clone, PartialEq)]
pub struct Boot {
    /// Main listener.
    pub listen: std::net::SocketAddr,
    /// Plain listener for probes and metrics.
    pub admin_listen: Option<std::net::SocketAddr>,
    /// TLS mode.
    pub tls: TlsMode,
    /// CA of client certificates, for mutual TLS.
    pub client_ca_file: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Data directory.
    pub data_dir: PathBuf,
    /// `[store]`.
    pub store: StoreSection,
    /// How the listeners accept connections.
    pub listeners: Listeners,
}

impl Boot {
    /// Each restart-only setting by its key, with its value in words.
    pub fn described(&self) -> Vec<(&'static str, String)> {
        vec![
            ("gateway.listen", self.listen.to_string()),
            ("gateway.admin_listen", format!("{:?}", self.admin_listen)),
            ("gateway.tls", format!("{:?}", self.tls)),
            ("gateway.client_ca_file", format!("{:?}", self.client_ca_file)),
            ("gateway.trusted_proxies", format!("{:?}", self.trusted_proxies)),
            ("gateway.data_dir", self.data_dir.display().to_string()),
            ("store", format!("{:?}", self.store)),
            ("limits (connections and their timeouts)", format!("{:?}", self.listeners)),
        ]
    }

    /// The keys of what differs between `self` (in force) and `other` (asked for).
    pub fn differences(&self, other: &Boot) -> Vec<&'static str> {
        self.described().into_iter().zip(other.described()).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0).collect()
    }

    /// The file in the data directory that records the restart-only settings a running
    /// gateway started with, for `check-config` to compare a changed file against.
    pub fn record_path(data_dir: &Path) -> PathBuf {
        data_dir.join("boot-settings")
    }

    /// Writes what [`Boot::record_path`] names (readable by the gateway's user only).
    pub fn record(&self) -> std::io::Result<()> {
        let text: String = self.described().into_iter().map(|(k, v)| format!("{k}\t{v}\n")).collect();
        let path = Boot::record_path(&self.data_dir);
        let temp = path.with_extension("new");
        let _ = std::fs::remove_file(&temp);
        crate::files::write_new_private(&temp, text.as_bytes())?;
        std::fs::rename(&temp, &path)
    }

    /// The keys whose value differs from what the gateway running on this data
    /// directory started with (nothing when none has started on it).
    pub fn restart_needed(&self) -> Vec<&'static str> {
        let Ok(recorded) = std::fs::read_to_string(Boot::record_path(&self.data_dir)) else { return Vec::new() };
        let running: std::collections::HashMap<&str, &str> =
            recorded.lines().filter_map(|l| l.split_once('\t')).collect();
        self.described().into_iter().filter(|(k, v)| running.get(k).is_some_and(|r| r != v)).map(|(k, _)| k).collect()
    }
}

/// How the listeners accept connections (the restart-only part of `[limits]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listeners {
    /// Time allowed to send the request head, in seconds.
    pub header_read_timeout_secs: u64,
    /// Time allowed for the TLS handshake, in seconds.
    pub tls_handshake_timeout_secs: u64,
    /// How long a connection may stay open without a request in flight, in seconds.
    pub idle_timeout_secs: u64,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Most connections open at once from one source address.
    pub max_connections_per_ip: usize,
}

/// What each request is held to (the part of `[limits]` a reload changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Largest request body, in bytes.
    pub body_bytes: usize,
    /// Deepest JSON nesting.
    pub json_depth: usize,
    /// Deepest XML nesting.
    pub xml_depth: usize,
    /// Time allowed for a whole request, in seconds.
    pub request_timeout_secs: u64,
    /// Wrong answers the public lookup gives for one code within the window.
    pub lookup_wrong_answers: u32,
    /// The window of `lookup_wrong_answers`, in seconds.
    pub lookup_window_secs: u64,
    /// Wrong HTTP Basic passwords from one address in 15 minutes before it is held.
    pub basic_failures: u32,
}

/// `[gateway]`, checked: what a reload may change of it.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    /// Audience tokens must carry.
    pub audience: String,
    /// Issuer of the gateway's own tokens.
    pub issuer: String,
    /// The gateway's signing key.
    pub signing: SigningKey,
    /// Per-IP limit for public calls and failed token checks.
    pub public_rate: RateSection,
}

/// `[deadlines]`, checked.
#[derive(Debug, Clone)]
pub struct Deadlines {
    /// The provincial centre's desk.
    pub centre_desk: Option<String>,
    /// Lead of the due-soon notice.
    pub due_soon_lead: WorkingDuration,
    /// Grace for the explanation.
    pub explanation_grace: WorkingDuration,
    /// How far an event's time may lie ahead of the gateway's clock, in seconds.
    pub event_clock_skew_secs: u64,
    /// How late an event may be reported and still be judged by its own time, in seconds.
    pub report_tolerance_secs: u64,
}

/// The checked configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The file it came from.
    pub source: PathBuf,
    /// SHA-256 of the file's text: what an item refused under it was judged against.
    pub digest: String,
    /// What only a restart can change.
    pub boot: Boot,
    /// `[gateway]`.
    pub gateway: GatewaySettings,
    /// `[limits]` of each request.
    pub limits: RequestLimits,
    /// Callers.
    pub clients: Clients,
    /// Units and desks.
    pub network: Network,
    /// Procedures.
    pub catalogue: Catalogue,
    /// Working time.
    pub calendar: Calendar,
    /// Deadline rules.
    pub deadlines: Deadlines,
    /// The postal service.
    pub postal: Option<Post>,
    /// The portal.
    pub portal: Option<Portal>,
    /// Retries.
    pub retry: RetrySection,
    /// Years whose days off are provisional (for summaries).
    pub provisional_years: Vec<i16>,
    /// The calendar's periods with hours of their own, described (for summaries).
    pub calendar_periods: Vec<String>,
    /// What is valid but unfit for production (published keys, development TLS).
    pub warnings: Vec<String>,
    /// The web pages and their operators.
    pub ui: ui::UiSettings,
    /// Signed links to stored files (`[files]`), when configured.
    pub file_links: Option<Arc<crate::file_links::FileLinks>>,
    /// Fees paid online through the national payment platform, when configured.
    pub payment: Option<payment::PaymentSettings>,
    /// The sealed history's checkpoints.
    pub audit: audit::AuditSettings,
    /// Citizens told of their dossiers, when configured.
    pub notify: Option<notify::NotifySettings>,
    /// The national monitoring service, when configured: how it is reached, the
    /// province's `SiteId` and code.
    pub tracking: Option<(Link, i64, String)>,
}

impl Settings {
    /// The national portal's settings, when the portal speaks its protocol.
    pub fn dvcqg(&self) -> Option<&dvcqg::DvcqgSettings> {
        match &self.portal {
            Some(Portal::Dvcqg(_, d)) => Some(d),
            _ => None,
        }
    }

    /// VNPost's settings, when the postal peer is VNPost itself.
    pub fn vnpost(&self) -> Option<&vnpost::VnpostSettings> {
        match &self.postal {
            Some(Post::Vnpost(_, v)) => Some(v),
            _ => None,
        }
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Settings, ConfigError> {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: shown.clone(), error: source })?;
        Settings::parse(&text, path)
    }

    /// Validates `text` as if read from `path` (relative paths resolve against its directory).
    pub fn parse(text: &str, path: &Path) -> Result<Settings, ConfigError> {
        Settings::parse_with_env(text, path, &|name| std::env::var(name).ok())
    }

    /// As [`Settings::parse`], with the national portal's secrets read through `env`
    /// rather than the process environment (the demo gives its simulator's account).
    pub fn parse_with_env(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, ConfigError> {
        let shown = path.display().to_string();
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| ConfigError::Parse { path: shown.clone(), message: e.to_string() })?;
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        let digest = crate::digest::hex(digest.as_ref());
        validate(file, &base, path, env, digest)
            .map_err(|problems| ConfigError::Invalid { path: shown, problems: problems.into_vec() })
    }
}

/// The procedures of the file and of every file it names in `procedure_files`.
fn all_procedures(
    file: &ConfigFile,
    base: &Path,
    problems: &mut Problems,
) -> Vec<crate::config::file::ProcedureSection> {
    let mut procedures = file.procedures.clone();
    for (i, name) in file.procedure_files.iter().enumerate() {
        let path = resolve(base, name);
        let at = format!("procedure_files[{i}]");
        match std::fs::read_to_string(&path) {
            Ok(text) => match toml::from_str::<crate::config::file::ProceduresFile>(&text) {
                Ok(more) => procedures.extend(more.procedures),
                Err(e) => problems.add(at, format!("{}: {e}", path.display())),
            },
            Err(e) => problems.add(at, format!("cannot read {}: {e}", path.display())),
        }
    }
    procedures
}

/// The units of the file and of every file it names in `unit_files`.
fn all_units(file: &ConfigFile, base: &Path, problems: &mut Problems) -> Vec<crate::config::file::UnitSection> {
    let mut units = file.units.clone();
    for (i, name) in file.unit_files.iter().enumerate() {
        let path = resolve(base, name);
        let at = format!("unit_files[{i}]");
        match std::fs::read_to_string(&path) {
            Ok(text) => match toml::from_str::<crate::config::file::UnitsFile>(&text) {
                Ok(more) => units.extend(more.units),
                Err(e) => problems.add(at, format!("{}: {e}", path.display())),
            },
            Err(e) => problems.add(at, format!("cannot read {}: {e}", path.display())),
        }
    }
    units
}

/// The signed file links of `[files]`.
fn file_links(
    f: &crate::config::file::FilesSection,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> Option<Arc<crate::file_links::FileLinks>> {
    check_url("files.public_url", &f.public_url, problems);
    // Up to thirty days: a link outlives its use only so long.
    if !(10..=30 * 24 * 3600).contains(&f.link_ttl_secs) {
        problems.add("files.link_ttl_secs", "from 10 to 2592000 seconds");
    }
    let key = match env(&f.link_key_env) {
        Some(key) if key.len() >= 32 => key,
        Some(_) => {
            problems.add("files.link_key_env", format!("{} must hold at least 32 bytes", f.link_key_env));
            return None;
        }
        None => {
            problems.add("files.link_key_env", format!("the environment variable {} is not set", f.link_key_env));
            return None;
        }
    };
    let ttl = i64::try_from(f.link_ttl_secs).unwrap_or(i64::MAX);
    Some(Arc::new(crate::file_links::FileLinks::new(key.as_bytes(), &f.public_url, ttl)))
}

fn validate(
    file: ConfigFile,
    base: &Path,
    source: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    digest: String,
) -> Result<Settings, Problems> {
    let mut problems = Problems::default();
    let g = &file.gateway;

    let tls = match &g.tls {
        TlsSection::Dev => TlsMode::Dev,
        TlsSection::Off => TlsMode::Off,
        TlsSection::Files { cert_file, key_file } => {
            let (cert, key) = (resolve(base, cert_file), resolve(base, key_file));
            check_file("gateway.tls.cert_file", &cert, &mut problems);
            check_file("gateway.tls.key_file", &key, &mut problems);
            TlsMode::Files { cert, key }
        }
    };
    let client_ca_file = g.client_ca_file.as_ref().map(|f| resolve(base, f));
    if let Some(ca) = &client_ca_file {
        check_file("gateway.client_ca_file", ca, &mut problems);
        if tls == TlsMode::Off {
            problems.add("gateway.client_ca_file", "mutual TLS needs TLS; it is off");
        }
    }
    let trusted_proxies = g
        .trusted_proxies
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            p.parse::<IpNet>()
                .or_else(|_| p.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    problems
                        .add(format!("gateway.trusted_proxies[{i}]"), format!("{p:?} is not an address or CIDR block"))
                })
                .ok()
        })
        .collect::<Vec<_>>();
    if !trusted_proxies.is_empty() && tls != TlsMode::Off {
        problems.add("gateway.trusted_proxies", "X-Forwarded-For is only believed with tls = \"off\"");
    }
    if g.signing_kid.trim().is_empty() {
        problems.add("gateway.signing_kid", "must not be empty");
    }
    let signing = keys::load_signing_key(&resolve(base, &g.signing_key_file), &g.signing_kid)
        .map_err(|e| problems.add("gateway.signing_key_file", e))
        .ok();
    if g.audience.trim().is_empty() {
        problems.add("gateway.audience", "must not be empty");
    }
    if g.public_rate.per_second == 0 || g.public_rate.burst == 0 {
        problems.add("gateway.public_rate", "per_second and burst must be at least 1");
    }

    if file.store.cache_capacity_mb == 0 || file.store.max_batch == 0 {
        problems.add("store", "cache_capacity_mb and max_batch must be at least 1");
    }
    if file.store.backend == crate::config::file::StoreBackend::Postgres {
        match &file.store.url {
            None => problems.add("store.url", "the postgres backend needs a connection string"),
            Some(url) if !crate::store::postgres::valid_url(url) => {
                problems.add("store.url", "is not a PostgreSQL connection string")
            }
            Some(_) => {}
        }
        if let Some(var) = &file.store.password_env
            && env(var).is_none()
        {
            problems.add("store.password_env", format!("the environment variable {var} is not set"));
        }
    }
    let l = &file.limits;
    if l.body_bytes < 1024 || l.json_depth < 4 || l.xml_depth < 4 {
        problems.add("limits", "body_bytes must be at least 1024 and depths at least 4");
    }
    if l.header_read_timeout_secs == 0
        || l.request_timeout_secs == 0
        || l.tls_handshake_timeout_secs == 0
        || l.idle_timeout_secs == 0
        || l.max_connections == 0
        || l.max_connections_per_ip == 0
        || l.lookup_wrong_answers == 0
        || l.lookup_window_secs == 0
    {
        problems.add(
            "limits",
            "timeouts, connection limits, lookup_wrong_answers and lookup_window_secs must be at least 1",
        );
    }

    let units = all_units(&file, base, &mut problems);
    let network = Network::build(&units, &file.desks, &mut problems);
    let catalogue = Catalogue::build(&all_procedures(&file, base, &mut problems), &network, &mut problems);
    let clients = Clients::build(&file.clients, base, &network, &g.issuer, client_ca_file.is_some(), &mut problems);
    if !clients.iter().any(|c| c.role == crate::auth::Role::Admin) {
        problems.add("clients", "configure at least one admin client");
    }

    let calendar = Calendar::new(&file.calendar)
        .map_err(|list| {
            for p in list {
                problems.add(format!("calendar.{}", p.path), p.message);
            }
        })
        .ok();

    let d = &file.deadlines;
    if let Some(centre) = &d.centre_desk
        && network.desk(centre).is_none()
    {
        problems.add("deadlines.centre_desk", format!("desk {centre:?} is not configured"));
    }
    if d.due_soon_lead.is_zero() || d.explanation_grace.is_zero() {
        problems.add("deadlines", "due_soon_lead and explanation_grace must be positive");
    }
    if d.event_clock_skew_secs > 3600 || d.report_tolerance_secs > 30 * 86_400 {
        problems.add("deadlines", "event_clock_skew_secs may be at most 3600 and report_tolerance_secs 30 days");
    }

    let link = |name: &str, p: &PeerSection, problems: &mut Problems| {
        check_url(&format!("{name}.url"), &p.url, problems);
        if p.id.trim().is_empty() {
            problems.add(format!("{name}.id"), "must not be empty");
        }
        let default_answer = if name == "portal" { 16 << 20 } else { 4 << 20 };
        let max_answer_bytes = p.max_answer_bytes.unwrap_or(default_answer);
        if !(1024..=256 << 20).contains(&max_answer_bytes) {
            problems.add(format!("{name}.max_answer_bytes"), "must be from 1024 bytes to 256 MiB");
        }
        Link {
            id: p.id.clone(),
            url: p.url.trim_end_matches('/').to_owned(),
            ca_file: p.ca_file.as_ref().map(|f| resolve(base, f)),
            timeout_secs: p.timeout_secs,
            concurrency: p.concurrency,
            max_answer_bytes,
        }
    };
    let portal = file.portal.as_ref().map(|p| {
        let link = link("portal", p, &mut problems);
        if p.vnpost.is_some() {
            problems.add("portal.vnpost", "only the postal peer speaks the vnpost protocol");
        }
        match (p.protocol, &p.dvcqg) {
            (Protocol::Dvcqg, Some(section)) => {
                Portal::Dvcqg(link, Box::new(dvcqg::check(section, &network, env, &mut problems)))
            }
            (Protocol::Dvcqg, None) => {
                problems.add("portal.dvcqg", "the dvcqg protocol needs a [portal.dvcqg] section");
                Portal::Contract(link)
            }
            (Protocol::Vnpost, _) => {
                problems.add("portal.protocol", "only the postal peer speaks the vnpost protocol");
                Portal::Contract(link)
            }
            (Protocol::Motcua, Some(_)) => {
                problems.add("portal.dvcqg", "set protocol = \"dvcqg\" to use this section");
                Portal::Contract(link)
            }
            (Protocol::Motcua, None) => Portal::Contract(link),
        }
    });
    let postal = file.postal.as_ref().map(|p| {
        let link = link("postal", p, &mut problems);
        if p.dvcqg.is_some() {
            problems.add("postal.dvcqg", "only the portal speaks the dvcqg protocol");
        }
        match (p.protocol, &p.vnpost) {
            (Protocol::Vnpost, Some(section)) => {
                Post::Vnpost(link, Box::new(vnpost::check(section, &network, env, &mut problems)))
            }
            (Protocol::Vnpost, None) => {
                problems.add("postal.vnpost", "the vnpost protocol needs a [postal.vnpost] section");
                Post::Contract(link)
            }
            (Protocol::Dvcqg, _) => {
                problems.add("postal.protocol", "only the portal speaks the dvcqg protocol");
                Post::Contract(link)
            }
            (Protocol::Motcua, Some(_)) => {
                problems.add("postal.vnpost", "set protocol = \"vnpost\" to use this section");
                Post::Contract(link)
            }
            (Protocol::Motcua, None) => Post::Contract(link),
        }
    });
    let r = &file.retry;
    if r.max_attempts == 0
        || r.base_ms == 0
        || r.base_ms > r.cap_ms
        || r.timeout_secs == 0
        || r.concurrency == 0
        || r.pull_visibility_secs == 0
    {
        problems.add(
            "retry",
            "need max_attempts ≥ 1, 0 < base_ms ≤ cap_ms, and positive timeout, concurrency and visibility",
        );
    }

    let ui = ui::build(file.ui.as_ref(), base, &network, env, &mut problems);
    let file_links = file.files.as_ref().and_then(|f| file_links(f, env, &mut problems));
    let payment = file.payment.as_ref().map(|p| {
        let mut settings = payment::check(p, &network, env, &mut problems);
        settings.link.ca_file = settings.link.ca_file.as_ref().map(|f| resolve(base, f));
        settings
    });

    let notify = file.notify.as_ref().map(|n| notify::check(n, base, env, &mut problems));
    let tracking = file.tracking.as_ref().map(|t| {
        check_url("tracking.url", &t.url, &mut problems);
        if t.province.trim().is_empty() {
            problems.add("tracking.province", "the province's code is required");
        }
        let link = Link {
            id: "emc".into(),
            url: t.url.clone(),
            ca_file: t.ca_file.as_ref().map(|f| resolve(base, f)),
            timeout_secs: t.timeout_secs,
            concurrency: t.concurrency,
            max_answer_bytes: 64 * 1024,
        };
        (link, t.site_id, t.province.clone())
    });
    let audit = audit::check(file.audit.as_ref(), base, &resolve(base, &g.data_dir), &mut problems);

    let (Some(signing), Some(calendar), true) = (signing, calendar, problems.is_empty()) else {
        return Err(problems);
    };
    let provisional_years = file.calendar.years.iter().filter(|y| y.provisional).map(|y| y.year).collect();
    let calendar_periods =
        file.calendar.periods.iter().map(|p| format!("{} {}..{}", p.name, p.from, p.until).trim().to_owned()).collect();
    let warnings = warnings::warnings(&file, base, &tls, g.listen);
    Ok(Settings {
        source: source.to_owned(),
        digest,
        boot: Boot {
            listen: g.listen,
            admin_listen: g.admin_listen,
            tls,
            client_ca_file,
            trusted_proxies,
            data_dir: resolve(base, &g.data_dir),
            store: file.store,
            listeners: Listeners {
                header_read_timeout_secs: l.header_read_timeout_secs,
                tls_handshake_timeout_secs: l.tls_handshake_timeout_secs,
                idle_timeout_secs: l.idle_timeout_secs,
                max_connections: l.max_connections,
                max_connections_per_ip: l.max_connections_per_ip,
            },
        },
        gateway: GatewaySettings {
            audience: g.audience.clone(),
            issuer: g.issuer.clone(),
            signing,
            public_rate: g.public_rate,
        },
        limits: RequestLimits {
            body_bytes: l.body_bytes,
            json_depth: l.json_depth,
            xml_depth: l.xml_depth,
            request_timeout_secs: l.request_timeout_secs,
            lookup_wrong_answers: l.lookup_wrong_answers,
            lookup_window_secs: l.lookup_window_secs,
            basic_failures: l.basic_failures,
        },
        clients,
        network,
        catalogue,
        calendar,
        deadlines: Deadlines {
            centre_desk: d.centre_desk.clone(),
            due_soon_lead: d.due_soon_lead,
            explanation_grace: d.explanation_grace,
            event_clock_skew_secs: d.event_clock_skew_secs,
            report_tolerance_secs: d.report_tolerance_secs,
        },
        postal,
        portal,
        retry: file.retry,
        provisional_years,
        calendar_periods,
        warnings,
        ui,
        file_links,
        payment,
        audit,
        notify,
        tracking,
    })
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn sample() -> Settings {
        Settings::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/gateway.toml")).unwrap()
    }

    #[test]
    fn the_provisional_tet_of_2027_follows_the_saturday_years() {
        let s = sample();
        assert!(s.provisional_years.contains(&2027));
        let off: Vec<_> = (3..=11).map(|d| s.calendar.is_holiday(date(2027, 2, d))).collect();
        assert_eq!(off, [false, true, true, true, true, true, true, true, false], "Thu 4 to Wed 10 Feb");
    }

    #[test]
    fn the_sample_has_winter_hours() {
        let s = sample();
        let opening = |d| s.calendar.hours_on(d).first().map(|i| i.open);
        assert_eq!(opening(date(2026, 11, 26)), Some(450), "07:30 in winter");
        assert_eq!(opening(date(2026, 6, 4)), Some(420), "07:00 in summer");
    }
}
