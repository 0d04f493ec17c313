//! `[notify]` as written: which events reach citizens, by which channels, with
//! which words (docs/NOTIFY.md).

use std::{collections::BTreeMap, path::PathBuf};

use motcua_schemas::NotifyEvent;
use serde::Deserialize;

/// `[notify]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifySection {
    /// Channels of intake (`portal`, `postal`) whose terms carry the citizen's consent
    /// to be told; other dossiers need it given with the dossier (`DongYNhanThongBao`).
    #[serde(default)]
    pub presumed_consent: Vec<String>,
    /// Events sent even without consent (none by default: the forms the law asks for
    /// go by the dossier's own channel).
    #[serde(default)]
    pub required: Vec<NotifyEvent>,
    /// Where a citizen looks a dossier up (the `{tra_cuu}` placeholder).
    #[serde(default)]
    pub lookup_url: Option<String>,
    /// E-mail over SMTP.
    #[serde(default)]
    pub email: Option<EmailSection>,
    /// An SMS provider's HTTP call.
    #[serde(default)]
    pub sms: Option<SmsSection>,
    /// Zalo OA template messages.
    #[serde(default)]
    pub zalo: Option<ZaloSection>,
    /// The words of each event: `[notify.templates.apology] subject, email, sms`.
    #[serde(default)]
    pub templates: BTreeMap<NotifyEvent, TemplateSection>,
}

/// The words of one event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSection {
    /// The e-mail's subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// The e-mail's text.
    #[serde(default)]
    pub email: Option<String>,
    /// The SMS text.
    #[serde(default)]
    pub sms: Option<String>,
}

/// `[notify.email]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    /// The mail server.
    pub host: String,
    /// Its port (587 with STARTTLS, 465 with TLS).
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` or `tls`.
    #[serde(default = "default_security")]
    pub security: String,
    /// The account's user name, from the environment.
    #[serde(default)]
    pub username_env: Option<String>,
    /// Its password, from the environment.
    #[serde(default)]
    pub password_env: Option<String>,
    /// `From:`.
    pub from: String,
    /// Extra CA to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout of one exchange, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Messages in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// `[notify.sms]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsSection {
    /// The provider's URL (`{phone}`, `{message}` allowed, percent-encoded).
    pub url: String,
    /// `POST` (default), `GET` or `PUT`.
    #[serde(default = "default_method")]
    pub method: String,
    /// Headers; `${NAME}` in a value is read from the environment.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The body, with `{phone}`, `{message}` and `{ma_ho_so}`.
    #[serde(default)]
    pub body: Option<String>,
    /// `json`, `form` or `text`: how values are escaped in the body.
    #[serde(default = "default_body_format")]
    pub body_format: String,
    /// `84` (84912345678) or `0` (0912345678).
    #[serde(default = "default_phone_format")]
    pub phone_format: String,
    /// Statuses that mean sent.
    #[serde(default = "default_success")]
    pub success_status: Vec<u16>,
    /// Text the answer must hold to mean sent.
    #[serde(default)]
    pub success_contains: Option<String>,
    /// Extra CA to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Messages in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// `[notify.zalo]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZaloSection {
    /// The template-message endpoint.
    #[serde(default = "default_zalo_url")]
    pub url: String,
    /// The OA's access token, from the environment.
    pub access_token_env: String,
    /// The approved template of each event: `[notify.zalo.templates.apology] id, data`.
    #[serde(default)]
    pub templates: BTreeMap<NotifyEvent, ZaloTemplateSection>,
    /// Extra CA to trust.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Timeout, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Messages in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

/// One approved Zalo template.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZaloTemplateSection {
    /// Its `template_id`.
    pub id: String,
    /// Its parameters, each a template (`{ma_ho_so}`, …).
    #[serde(default)]
    pub data: BTreeMap<String, String>,
}

fn default_security() -> String {
    "starttls".into()
}
fn default_timeout() -> u64 {
    30
}
fn default_concurrency() -> usize {
    4
}
fn default_method() -> String {
    "POST".into()
}
fn default_body_format() -> String {
    "json".into()
}
fn default_phone_format() -> String {
    "84".into()
}
fn default_success() -> Vec<u16> {
    vec![200]
}
fn default_zalo_url() -> String {
    "https://business.openapi.zalo.me/message/template".into()
}
