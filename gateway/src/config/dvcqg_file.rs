//! `[portal.dvcqg]` as written: how the national portal (or the provincial connector
//! or LGSP in front of it) is reached, how its answers are read, how local statuses
//! and units map to its codes, and which of its units are pulled
//! (docs/PEERS.md §1). What the public code does not show is set here, not in code.

use std::collections::BTreeMap;

use motcua_adapters::dvcqg::{ReplyRule, Verdict};
use motcua_schemas::Channel;
use serde::Deserialize;

/// `[portal.dvcqg]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DvcqgSection {
    /// `"session"` (log in, then service envelopes) or `"connector"` (bare arrays to
    /// a provincial connector's URLs).
    pub transport: TransportKind,
    /// Session: the login path under the portal's URL.
    pub auth_path: Option<String>,
    /// Session: the services path under the portal's URL.
    pub service_path: Option<String>,
    /// Session: the environment variable holding the user name.
    pub username_env: Option<String>,
    /// Session: the environment variable holding the password.
    pub password_env: Option<String>,
    /// Session: `madonvi` of every envelope (the province's unit id at the portal).
    pub madonvi: Option<String>,
    /// Session: the `dstcode` header, if the portal asks for one.
    pub dstcode: Option<String>,
    /// Session: seconds a session is used before logging in again.
    #[serde(default = "default_session_ttl")]
    pub session_ttl_secs: u64,
    /// Connector: the create path (`URLThemMoi`).
    pub create_path: Option<String>,
    /// Connector: the update path (`URLCapNhat`).
    pub update_path: Option<String>,
    /// Connector: the progress path (`URLDongBoTienTrinh`).
    pub progress_path: Option<String>,
    /// An LGSP's OAuth2 client-credentials grant in front of the portal.
    pub oauth: Option<OAuthSection>,
    /// Most progress steps in one `CapNhatTienDoHoSoMC` request.
    #[serde(default = "default_max_steps")]
    pub max_steps: usize,
    /// The channels whose dossiers are synced to the portal (default: every channel,
    /// since every dossier is recorded there).
    #[serde(default = "default_sync_channels")]
    pub sync_channels: Vec<Channel>,
    /// `NguoiXuLy` of the steps the gateway records itself (intake).
    #[serde(default = "default_intake_officer")]
    pub intake_officer: String,
    /// `NguoiXuLy` of a step whose desk named no officer.
    #[serde(default = "default_officer")]
    pub default_officer: String,
    /// Local status code → the portal's `TrangThaiHoSo` (e.g. `"6" = "9"`); statuses
    /// not named keep the portal's own numbering.
    #[serde(default)]
    pub status_codes: BTreeMap<String, String>,
    /// How answers are read, first match first; `error_code` 0 is success and any
    /// other code `otherwise`.
    #[serde(default)]
    pub replies: Vec<ReplyRule>,
    /// What a non-zero `error_code` no rule names means (`"retry"` or `"permanent"`).
    #[serde(default = "default_otherwise")]
    pub otherwise: Verdict,
    /// Text a success message must contain, for a connector that answers in words.
    /// It applies to the sync's replies; the login's too only with
    /// `success_message_on_login` (the public client that asks for the text reads the
    /// login by `error_code` and `session` alone).
    pub success_message: Option<String>,
    /// Whether `success_message` applies to the login's reply too.
    #[serde(default)]
    pub success_message_on_login: bool,
    /// Record values the public integrations show only in part.
    #[serde(default)]
    pub record: RecordSection,
    /// Record fields of fixed value whose meaning is not public (`NoiNopHoSo`, …).
    #[serde(default)]
    pub constants: serde_json::Map<String, serde_json::Value>,
    /// Fixed fields of each fee row (`HinhThucThu`, `LoaiPhiLePhi`).
    #[serde(default)]
    pub fee_constants: serde_json::Map<String, serde_json::Value>,
    /// The portal's unit ids (`MaDonViXuLy`, `donViXuLy`) and the units they are.
    #[serde(default)]
    pub units: Vec<UnitMapping>,
    /// Dossiers the portal only lists, fetched by the gateway.
    pub pull: Option<PullSection>,
    /// Where a pushed record that does not say it gets its unit and date.
    #[serde(default)]
    pub push: PushSection,
    /// The status of a pushed trade-promotion dossier sent back
    /// (`DongBoTrangThaiHoSo`); not sent without this section.
    pub promotion_status: Option<PromotionStatusSection>,
    /// The record field (kept among those the gateway does not read) whose value `1`
    /// or `True` means the applicant asked for the papers to be collected from home.
    pub collection_field: Option<String>,
    /// `[portal.dvcqg.ratings]`: the monthly satisfaction summary (`DongBoDanhGia`).
    #[serde(default)]
    pub ratings: RatingsSection,
}

/// `[portal.dvcqg.ratings]` (docs/PORTAL.md, "Ratings").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RatingsSection {
    /// Send each month's summary (session transport only).
    pub enabled: bool,
    /// `NoiDung` of each row: what the ratings are of.
    pub subject: String,
    /// How long after a month ends its summary is sent, in seconds (ratings given
    /// late on the last day are in).
    pub after_secs: u64,
    /// Time between rounds (a refused summary is sent again next round), in seconds.
    pub every_secs: u64,
}

impl Default for RatingsSection {
    fn default() -> Self {
        RatingsSection {
            enabled: true,
            subject: "Mức độ hài lòng của người dân, doanh nghiệp đối với việc giải quyết thủ tục hành chính".into(),
            after_secs: 3600,
            every_secs: 600,
        }
    }
}

/// How the portal is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransportKind {
    /// Style A of docs/PEERS.md §1.1.
    Session,
    /// Style B of docs/PEERS.md §1.1.
    Connector,
}

/// `[portal.dvcqg.oauth]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthSection {
    /// The LGSP's token URL.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The environment variable holding the client secret.
    pub client_secret_env: String,
}

/// `[[portal.dvcqg.units]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitMapping {
    /// The portal's unit id.
    pub portal: String,
    /// The unit of the network (statistics code).
    pub unit: String,
}

/// `[portal.dvcqg.record]`: values of the record sync one source shows and another
/// does not (docs/PORTAL.md, "Record fields"); the defaults are what was always sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordSection {
    /// `DuocThanhToanTrucTuyen` with no fees, a fee paid online, fees none paid online.
    pub online_payment: OnlinePayment,
    /// `HinhThuc` of a result returned online.
    pub result_online: String,
    /// Echo the `MaDoiTuong` the portal sent instead of `""`.
    pub echo_object_id: bool,
    /// Fields added to each `TaiLieuNop` row, by component code (`*`: every row),
    /// e.g. `{ "*" = { DuocSoHoa = "1", DuocTaiSuDung = "0", DuocLayTuKhoDMQG = "0" } }`.
    pub document_flags: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl Default for RecordSection {
    fn default() -> Self {
        RecordSection {
            online_payment: OnlinePayment::default(),
            result_online: "0".into(),
            echo_object_id: false,
            document_flags: BTreeMap::new(),
        }
    }
}

/// `DuocThanhToanTrucTuyen` codes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OnlinePayment {
    /// No fees.
    pub none: String,
    /// A fee paid online.
    pub paid: String,
    /// Fees, none paid online (one integration sends `3`).
    pub unpaid: String,
}

impl Default for OnlinePayment {
    fn default() -> Self {
        OnlinePayment { none: "0".into(), paid: "1".into(), unpaid: "0".into() }
    }
}

/// `[portal.dvcqg.pull]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullSection {
    /// The portal's unit ids whose new dossiers are listed.
    pub units: Vec<String>,
    /// Only these procedures are taken in (all when empty).
    #[serde(default)]
    pub procedures: Vec<String>,
    /// Seconds between rounds.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Days listed before the cursor's day, for dossiers the portal lists late.
    #[serde(default = "default_lookback")]
    pub lookback_days: u32,
    /// The client id pulled dossiers are submitted as: only that client may later
    /// push an update of them (the id of the portal's pushing client, if it pushes too).
    #[serde(default = "default_pull_client")]
    pub client: String,
    /// The pull services' base URL, when not the portal's (a province may sync
    /// through its connector and pull from the portal's own services).
    pub url: Option<String>,
    /// The login path under `url` (default the public client's,
    /// `/apiDVC-GPLX/tcdbdvcdata/mapi/login`).
    #[serde(default = "default_pull_auth_path")]
    pub auth_path: String,
    /// The services path under `url` (default `/apiDVC-GPLX/tcdbdvcdata/mapi/g`).
    #[serde(default = "default_pull_service_path")]
    pub service_path: String,
    /// The environment variable holding the pull account's user name.
    pub username_env: Option<String>,
    /// The environment variable holding its password.
    pub password_env: Option<String>,
    /// The environment variable holding a key sent as `Authorization: Bearer`, for
    /// a pull service that asks for one (the public client sends it only if set).
    pub token_env: Option<String>,
    /// Seconds a pull session is used before logging in again.
    #[serde(default = "default_session_ttl")]
    pub session_ttl_secs: u64,
}

/// `[portal.dvcqg.push]`: what the real push shapes leave out (docs/PORTAL.md, "Push").
/// `createdossierfromdvcqg` names no unit; the receivers read it from a header
/// (`groupId`) that a server setting may replace; the evidence for dates is a sample.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSection {
    /// The header naming the unit when neither the record (`MaDonViXuLy`) nor the
    /// envelope (`madonvi`) does (default `groupId`).
    pub unit_header: Option<String>,
    /// The header's values and the portal unit ids they stand for (mapped through
    /// `units`); a value not named here is taken as a portal unit id itself.
    #[serde(default)]
    pub groups: BTreeMap<String, String>,
    /// The portal unit id of every record that names none by any of the above.
    pub unit: Option<String>,
    /// A record without `NgayNopHoSo` is taken as submitted when it arrives (default:
    /// refused, the field named).
    #[serde(default)]
    pub date_from_receipt: bool,
}

/// `[portal.dvcqg.promotion_status]`: the sources disagree on the codes (OpenCPS sends
/// 2 and 5, another integration its local codes), so they are configured.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotionStatusSection {
    /// Local status code → `TrangThai`; only the statuses named are sent (default
    /// `{ "2" = "2", "5" = "5" }`, as OpenCPS sends them).
    #[serde(default = "default_promotion_codes")]
    pub codes: BTreeMap<String, String>,
    /// `type` of the envelope (default `"2"`).
    #[serde(default = "default_promotion_type")]
    pub kind: String,
}

fn default_promotion_codes() -> BTreeMap<String, String> {
    [("2".to_owned(), "2".to_owned()), ("5".to_owned(), "5".to_owned())].into()
}

fn default_promotion_type() -> String {
    "2".to_owned()
}

fn default_session_ttl() -> u64 {
    600
}
fn default_max_steps() -> usize {
    10
}
fn default_sync_channels() -> Vec<Channel> {
    vec![Channel::Portal, Channel::Postal]
}
fn default_intake_officer() -> String {
    "Cán bộ một cửa".into()
}
fn default_officer() -> String {
    "Chuyên viên".into()
}
fn default_otherwise() -> Verdict {
    Verdict::Retry
}
fn default_interval() -> u64 {
    300
}
fn default_pull_auth_path() -> String {
    "/apiDVC-GPLX/tcdbdvcdata/mapi/login".into()
}
fn default_pull_service_path() -> String {
    "/apiDVC-GPLX/tcdbdvcdata/mapi/g".into()
}
fn default_pull_client() -> String {
    "dvcqg-pull".into()
}
fn default_lookback() -> u32 {
    3
}
