//! The configuration file as written (TOML). Codes and names stay strings here so
//! that validation can report every problem with its key path; `validate` turns this
//! into the checked runtime `Settings`.

use std::{net::SocketAddr, path::PathBuf};

use motcua_schemas::{Channel, SupplementPolicy, WorkingDuration, calendar::CalendarConfig};
use serde::Deserialize;

pub use super::network_file::{DeskMode, DeskSection, UnitSection, UnitsFile};

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[gateway]`: listener, TLS, identity, data directory.
    pub gateway: GatewaySection,
    /// `[store]`: the embedded store.
    #[serde(default)]
    pub store: StoreSection,
    /// `[limits]`: request size, depth and time limits.
    #[serde(default)]
    pub limits: LimitsSection,
    /// `[[clients]]`: who may call.
    #[serde(default)]
    pub clients: Vec<ClientSection>,
    /// `[[desks]]`: the one-stop desks dossiers are delivered to.
    #[serde(default)]
    pub desks: Vec<DeskSection>,
    /// Files of further `[[units]]`, relative to this file (e.g. a province's units
    /// as `motcua units import` writes them).
    #[serde(default)]
    pub unit_files: Vec<PathBuf>,
    /// `[[units]]`: the administrative units, as a tree.
    #[serde(default)]
    pub units: Vec<UnitSection>,
    /// `[[procedures]]`: the procedure catalogue.
    #[serde(default)]
    pub procedures: Vec<ProcedureSection>,
    /// Files of further `[[procedures]]`, relative to this file (e.g. the reviewed
    /// national catalogue `motcua catalogue sync` writes).
    #[serde(default)]
    pub procedure_files: Vec<PathBuf>,
    /// `[catalogue_sync]`: where `motcua catalogue sync` reads the national catalogue.
    pub catalogue_sync: Option<CatalogueSyncSection>,
    /// `[calendar]`: working time.
    pub calendar: CalendarConfig,
    /// `[deadlines]`: due-soon and explanation rules.
    #[serde(default)]
    pub deadlines: DeadlinesSection,
    /// `[postal]`: the postal service's order API.
    pub postal: Option<PeerSection>,
    /// `[portal]`: the public service portal's status and letter API.
    pub portal: Option<PeerSection>,
    /// `[retry]`: delivery retries and leases.
    #[serde(default)]
    pub retry: RetrySection,
    /// `[ui]`: the provincial centre's web pages and their operators.
    pub ui: Option<super::ui_file::UiSection>,
    /// `[files]`: signed links to stored files, for peers that fetch them.
    pub files: Option<FilesSection>,
    /// `[payment]`: fees paid online through the national payment platform.
    pub payment: Option<super::payment_file::PaymentSection>,
    /// `[notify]`: citizens told of their dossiers by e-mail, SMS and Zalo.
    #[serde(default)]
    pub notify: Option<super::notify_file::NotifySection>,
    /// `[tracking]`: the national monitoring service, when the province reports to it.
    #[serde(default)]
    pub tracking: Option<super::emc_file::TrackingSection>,
    /// `[audit]`: the sealed history's checkpoints (defaults when absent).
    #[serde(default)]
    pub audit: Option<super::audit_file::AuditSection>,
}

/// `[files]`: the links the national portal follows to fetch a dossier's stored files
/// (`DuongDanTaiTepTin`, docs/PORTAL.md).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesSection {
    /// The gateway's address as the peers reach it (`https://…`).
    pub public_url: String,
    /// The environment variable holding the links' signing key (at least 32 bytes).
    pub link_key_env: String,
    /// How long a link stays valid, in seconds (default 7 days).
    #[serde(default = "default_link_ttl")]
    pub link_ttl_secs: u64,
}

fn default_link_ttl() -> u64 {
    7 * 24 * 3600
}

/// `[gateway]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// The HTTPS (or, with `tls = "off"`, plain HTTP) listener.
    pub listen: SocketAddr,
    /// `"dev"` (generated self-signed certificate), `"off"` (plain HTTP behind a
    /// terminating proxy) or `{ cert_file, key_file }`.
    pub tls: TlsSection,
    /// CA whose client certificates the listener asks for (mutual TLS).
    pub client_ca_file: Option<PathBuf>,
    /// Plain listener for `/metrics`, `/healthz`, `/readyz` (e.g. `127.0.0.1:9464`).
    pub admin_listen: Option<SocketAddr>,
    /// The audience tokens must carry.
    #[serde(default = "default_audience")]
    pub audience: String,
    /// The issuer of the gateway's own tokens.
    #[serde(default = "default_audience")]
    pub issuer: String,
    /// The gateway's signing key (PEM, PKCS#8; Ed25519 or P-256).
    pub signing_key_file: PathBuf,
    /// The `kid` of that key.
    pub signing_kid: String,
    /// Where the store, blobs and generated certificates live.
    pub data_dir: PathBuf,
    /// Proxies whose `X-Forwarded-For` is believed (only with `tls = "off"`), as
    /// addresses or CIDR blocks.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Per-IP limit for `/v1/public/*` and for failed token checks.
    #[serde(default = "default_public_rate")]
    pub public_rate: RateSection,
}

fn default_audience() -> String {
    "motcua".to_owned()
}

fn default_public_rate() -> RateSection {
    RateSection { per_second: 5, burst: 20 }
}

/// `tls = "dev" | "off"` or a table of certificate files.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawTls")]
pub enum TlsSection {
    /// `"dev"`: a self-signed development certificate.
    Dev,
    /// `"off"`: plain HTTP behind a terminating proxy.
    Off,
    /// Certificate chain and key files (PEM).
    Files {
        /// Certificate chain.
        cert_file: PathBuf,
        /// Private key.
        key_file: PathBuf,
    },
}

/// `tls` as written, before its word is checked.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawTls {
    Word(String),
    Files { cert_file: PathBuf, key_file: PathBuf },
}

impl TryFrom<RawTls> for TlsSection {
    type Error = String;

    fn try_from(raw: RawTls) -> Result<TlsSection, String> {
        match raw {
            RawTls::Word(w) if w == "dev" => Ok(TlsSection::Dev),
            RawTls::Word(w) if w == "off" => Ok(TlsSection::Off),
            RawTls::Word(w) => Err(format!("{w:?} is not \"dev\", \"off\" or {{ cert_file, key_file }}")),
            RawTls::Files { cert_file, key_file } => Ok(TlsSection::Files { cert_file, key_file }),
        }
    }
}

/// `[store]`, defined with the store.
pub use motcua_store::{StoreBackend, StoreSection};

/// `[limits]` (docs/CONTRACT.md §0).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    /// Largest request body, in bytes.
    #[serde(default = "default_body")]
    pub body_bytes: usize,
    /// Deepest JSON nesting.
    #[serde(default = "default_depth")]
    pub json_depth: usize,
    /// Deepest XML nesting.
    #[serde(default = "default_depth")]
    pub xml_depth: usize,
    /// Time allowed to send the request head, in seconds.
    #[serde(default = "default_header_secs")]
    pub header_read_timeout_secs: u64,
    /// Time allowed for a whole request, in seconds.
    #[serde(default = "default_request_secs")]
    pub request_timeout_secs: u64,
    /// Time allowed for the TLS handshake, in seconds.
    #[serde(default = "default_header_secs")]
    pub tls_handshake_timeout_secs: u64,
    /// Most connections served at once; more wait in the accept queue.
    #[serde(default = "default_connections")]
    pub max_connections: usize,
    /// Most connections open at once from one source address (the addresses in
    /// `gateway.trusted_proxies` are not capped).
    #[serde(default = "default_connections_per_ip")]
    pub max_connections_per_ip: usize,
    /// How long a connection may stay open without a request in flight, in seconds.
    #[serde(default = "default_idle_secs")]
    pub idle_timeout_secs: u64,
    /// Wrong answers the public lookup gives for one dossier code within
    /// `lookup_window_secs` before it answers "not found" to everyone.
    #[serde(default = "default_lookup_wrong")]
    pub lookup_wrong_answers: u32,
    /// The window of `lookup_wrong_answers`, in seconds.
    #[serde(default = "default_lookup_window")]
    pub lookup_window_secs: u64,
    /// Wrong HTTP Basic passwords from one source address within 15 minutes before
    /// that address is held (429, no password checked) until they age.
    #[serde(default = "default_basic_failures")]
    pub basic_failures: u32,
}

fn default_body() -> usize {
    8 * 1024 * 1024
}
fn default_depth() -> usize {
    32
}
fn default_header_secs() -> u64 {
    10
}
fn default_request_secs() -> u64 {
    30
}
fn default_lookup_wrong() -> u32 {
    10
}
fn default_basic_failures() -> u32 {
    10
}
fn default_lookup_window() -> u64 {
    86_400
}
fn default_connections_per_ip() -> usize {
    1000
}
fn default_idle_secs() -> u64 {
    60
}
fn default_connections() -> usize {
    10_000
}

impl Default for LimitsSection {
    fn default() -> Self {
        Self {
            body_bytes: default_body(),
            json_depth: default_depth(),
            xml_depth: default_depth(),
            header_read_timeout_secs: default_header_secs(),
            request_timeout_secs: default_request_secs(),
            tls_handshake_timeout_secs: default_header_secs(),
            max_connections: default_connections(),
            max_connections_per_ip: default_connections_per_ip(),
            idle_timeout_secs: default_idle_secs(),
            lookup_wrong_answers: default_lookup_wrong(),
            lookup_window_secs: default_lookup_window(),
            basic_failures: default_basic_failures(),
        }
    }
}

/// A caller's role (docs/CONTRACT.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The public service portal.
    Portal,
    /// The postal partner.
    Postal,
    /// A one-stop desk.
    Desk,
    /// The provincial centre's operators.
    Admin,
}

impl Role {
    /// The name used in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Portal => "portal",
            Role::Postal => "postal",
            Role::Desk => "desk",
            Role::Admin => "admin",
        }
    }
}

/// `[[clients]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSection {
    /// The client's id (the `sub` of its tokens is free; this names it in logs).
    pub id: String,
    /// What it may do.
    pub role: Role,
    /// For desk clients, the desk it acts for.
    pub desk: Option<String>,
    /// The `iss` its tokens carry; unique among clients.
    pub issuer: String,
    /// A PEM public key.
    pub key_file: Option<PathBuf>,
    /// A JWKS file of public keys, chosen by `kid`.
    pub jwks_file: Option<PathBuf>,
    /// The environment variable holding an HMAC secret.
    pub secret_env: Option<String>,
    /// Algorithms its tokens may use (`EdDSA`, `ES256`, `RS256`, `HS256`, …).
    #[serde(default)]
    pub algorithms: Vec<String>,
    /// A client certificate it must present.
    pub mtls: Option<MtlsSection>,
    /// Its rate limit.
    pub rate: RateSection,
    /// An Argon2id hash (PHC string) of its HTTP Basic password, for a peer that can
    /// only call with Basic authentication (the national portal's pushes); the
    /// user name is the client's id. Write one with `motcua hash-secret`.
    pub basic_hash: Option<String>,
}

/// `mtls = { subject = "...", sha256 = "..." }`: either or both must match.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MtlsSection {
    /// The certificate subject, e.g. `CN=portal.example.vn,O=...`.
    pub subject: Option<String>,
    /// The SHA-256 fingerprint of the certificate (hex, colons allowed).
    pub sha256: Option<String>,
}

/// `rate = { per_second = 50, burst = 100 }`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateSection {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
}

/// `[[procedures]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureSection {
    /// The national procedure code.
    pub code: String,
    /// The name.
    pub name: String,
    /// The levels competent to handle it.
    pub levels: Vec<String>,
    /// The processing time: `"3d"`, `"4h"`, `"30m"` or `"same_day"`.
    pub processing: Option<String>,
    /// The channels it may arrive by.
    #[serde(default = "all_channels")]
    pub channels: Vec<Channel>,
    /// Receipts after this time of day count from the next working day (`"15:00"`).
    pub cutoff: Option<String>,
    /// What a received supplement does to the clock.
    #[serde(default)]
    pub supplement: SupplementPolicy,
    /// The documents a dossier of this procedure holds, by component code
    /// (`MaThanhPhanHoSo`), with the names the forms print.
    #[serde(default)]
    pub documents: std::collections::BTreeMap<String, String>,
    /// Published fees (informational).
    #[serde(default)]
    pub fees: Vec<FeeSection>,
    /// The field (lĩnh vực) of the national catalogue: `{ code = "…", name = "…" }`,
    /// sent to the portal as `MaLinhVuc` and `TenLinhVuc`.
    pub field: Option<FieldSection>,
    /// The code as the national catalogue publishes it, qualified by its agency
    /// (`1.001612.000.00.00.H38`); dossiers may name either form.
    pub qualified: Option<String>,
    /// Its results, by the catalogue's code (`MAKETQUA`), with their names: a result
    /// document of that name is sent to the portal with its code.
    #[serde(default)]
    pub results: std::collections::BTreeMap<String, String>,
    /// The processing times per channel as the national catalogue publishes them
    /// (informational: `processing` is the one the deadlines count).
    #[serde(default)]
    pub times: Vec<TimeSection>,
}

/// A processing time as the national catalogue publishes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSection {
    /// `desk`, `online` or `post`.
    pub channel: String,
    /// `THOIGIANGIAIQUYET`.
    pub amount: u32,
    /// `DONVITINH` as written (`Ngày làm việc`, `Ngày`, `Giờ`, …).
    pub unit: String,
}

/// A file of `[[procedures]]` (`procedure_files`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProceduresFile {
    /// The procedures.
    #[serde(default)]
    pub procedures: Vec<ProcedureSection>,
}

/// `[catalogue_sync]` (docs/CATALOGUE.md): the provincial connector's catalogue
/// services and how their codes read in this network.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSyncSection {
    /// The connector's base URL.
    pub url: String,
    /// The list's path (default `/KetNoiMotCuaQuocGia/LayDanhSachTTHC`).
    #[serde(default = "default_list_path")]
    pub list_path: String,
    /// The detail's path, asked with `?maTTHC=<code>` (default
    /// `/KetNoiMotCuaQuocGia/LayThuTuc`).
    #[serde(default = "default_detail_path")]
    pub detail_path: String,
    /// Only these procedures (national codes); every listed one when empty.
    #[serde(default)]
    pub procedures: Vec<String>,
    /// The catalogue's `CAPTHUCHIEN` codes and the network's levels they are (the
    /// code list is not public).
    #[serde(default)]
    pub levels: std::collections::BTreeMap<String, String>,
    /// The channel (`KENH`: 1 desk, 2 online, 3 post) whose processing time is the
    /// procedure's (default 2).
    #[serde(default = "default_time_channel")]
    pub time_channel: u8,
    /// The file written (relative to the configuration; default
    /// `procedures.national.toml`).
    #[serde(default = "default_catalogue_file")]
    pub file: PathBuf,
    /// Timeout of one call, in seconds.
    #[serde(default = "default_catalogue_timeout")]
    pub timeout_secs: u64,
}

fn default_list_path() -> String {
    "/KetNoiMotCuaQuocGia/LayDanhSachTTHC".into()
}
fn default_detail_path() -> String {
    "/KetNoiMotCuaQuocGia/LayThuTuc".into()
}
fn default_time_channel() -> u8 {
    2
}
fn default_catalogue_file() -> PathBuf {
    "procedures.national.toml".into()
}
fn default_catalogue_timeout() -> u64 {
    30
}

/// A procedure's field in the national catalogue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSection {
    /// `MaLinhVuc`.
    pub code: String,
    /// `TenLinhVuc`.
    pub name: String,
}

fn all_channels() -> Vec<Channel> {
    vec![Channel::Portal, Channel::Postal]
}

/// A published fee.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeeSection {
    /// What it is for.
    pub name: String,
    /// Amount in đồng.
    pub amount: u64,
    /// The catalogue's code of the fee (`MAPHILEPHI`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The channel it is charged on, as the catalogue says: `desk`, `online`, `post`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

/// `[deadlines]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinesSection {
    /// The provincial centre's desk, which receives overdue and explanation notices.
    pub centre_desk: Option<String>,
    /// How long before the due time the desk is warned.
    #[serde(default = "default_lead")]
    pub due_soon_lead: WorkingDuration,
    /// How long after the due time an explanation may wait.
    #[serde(default = "default_grace")]
    pub explanation_grace: WorkingDuration,
    /// How far a desk's clock may run ahead of the gateway's (or an event precede the
    /// previous one) before the event is refused, in seconds.
    #[serde(default = "default_skew")]
    pub event_clock_skew_secs: u64,
    /// How long after it happened an event may be reported and still be judged by the
    /// time the desk gives; later reports are judged by the time they arrived, and
    /// counted, in seconds.
    #[serde(default = "default_report_tolerance")]
    pub report_tolerance_secs: u64,
}

fn default_skew() -> u64 {
    120
}
fn default_report_tolerance() -> u64 {
    4 * 3600
}

fn default_lead() -> WorkingDuration {
    WorkingDuration::Days(1)
}
fn default_grace() -> WorkingDuration {
    WorkingDuration::Days(2)
}

impl Default for DeadlinesSection {
    fn default() -> Self {
        Self {
            centre_desk: None,
            due_soon_lead: default_lead(),
            explanation_grace: default_grace(),
            event_clock_skew_secs: default_skew(),
            report_tolerance_secs: default_report_tolerance(),
        }
    }
}

/// `[postal]` and `[portal]`: an outbound peer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerSection {
    /// The peer's id (the `aud` of the gateway's tokens to it).
    pub id: String,
    /// Base URL.
    pub url: String,
    /// CA file to trust for its TLS certificate (system roots otherwise).
    pub ca_file: Option<PathBuf>,
    /// Timeout of one call, in seconds.
    pub timeout_secs: Option<u64>,
    /// Calls in flight at once.
    pub concurrency: Option<usize>,
    /// Largest answer read from the peer, in bytes (16 MiB for the portal, whose
    /// answers carry documents; 4 MiB for the post): a larger one is the peer's error.
    pub max_answer_bytes: Option<usize>,
    /// What the peer speaks: `"motcua"` (the gateway's own contract, docs/CONTRACT.md)
    /// or, for the portal, `"dvcqg"` (the national portal, docs/PEERS.md §1).
    #[serde(default)]
    pub protocol: Protocol,
    /// `[portal.dvcqg]`: how the national portal is reached and read.
    pub dvcqg: Option<super::dvcqg_file::DvcqgSection>,
    /// `[postal.vnpost]`: VNPost as its client (docs/PEERS.md §2).
    pub vnpost: Option<super::vnpost_file::VnpostSection>,
}

/// A peer's protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// The gateway's own contract.
    #[default]
    Motcua,
    /// The national public service portal.
    Dvcqg,
    /// VNPost, the gateway as its client.
    Vnpost,
}

/// `[retry]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrySection {
    /// First back-off, in milliseconds.
    #[serde(default = "default_base_ms")]
    pub base_ms: u64,
    /// Longest back-off, in milliseconds.
    #[serde(default = "default_cap_ms")]
    pub cap_ms: u64,
    /// Attempts before a job is dead-lettered.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Default timeout of one outbound call, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Default calls in flight per destination.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// How long a pull desk's lease lasts, in seconds.
    #[serde(default = "default_visibility")]
    pub pull_visibility_secs: u64,
}

fn default_base_ms() -> u64 {
    500
}
fn default_cap_ms() -> u64 {
    300_000
}
fn default_attempts() -> u32 {
    12
}
fn default_timeout() -> u64 {
    10
}
fn default_concurrency() -> usize {
    8
}
fn default_visibility() -> u64 {
    300
}

impl Default for RetrySection {
    fn default() -> Self {
        Self {
            base_ms: default_base_ms(),
            cap_ms: default_cap_ms(),
            max_attempts: default_attempts(),
            timeout_secs: default_timeout(),
            concurrency: default_concurrency(),
            pull_visibility_secs: default_visibility(),
        }
    }
}
