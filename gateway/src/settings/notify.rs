//! `[notify]`, checked: each channel's account with its secrets from the environment,
//! and every template's placeholders known.

use std::{collections::BTreeMap, path::Path, time::Duration};

use motcua_adapters::notify::{
    email::{EmailAccount, EmailSender, Security},
    placeholder_names,
    sms::{BodyFormat, PhoneFormat, SmsProvider},
    unknown_placeholders,
    zalo::ZaloOa,
};
use motcua_schemas::NotifyEvent;

use crate::config::{
    Problems, check_url,
    notify_file::{NotifySection, TemplateSection, ZaloTemplateSection},
    resolve,
};

/// The channels that tell citizens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NotifyChannel {
    /// E-mail.
    Email,
    /// SMS.
    Sms,
    /// Zalo OA.
    Zalo,
}

impl NotifyChannel {
    /// Its name in destinations: `email`, `sms`, `zalo`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Email => "email",
            NotifyChannel::Sms => "sms",
            NotifyChannel::Zalo => "zalo",
        }
    }

    /// The channel of a destination name (`notify:sms`).
    pub fn of_destination(name: &str) -> Option<NotifyChannel> {
        match name.strip_prefix("notify:")? {
            "email" => Some(NotifyChannel::Email),
            "sms" => Some(NotifyChannel::Sms),
            "zalo" => Some(NotifyChannel::Zalo),
            _ => None,
        }
    }
}

/// A channel's concurrency and timeout, for its outbox queue.
#[derive(Debug, Clone, Copy)]
pub struct Lane {
    /// Messages in flight at once.
    pub concurrency: usize,
}

/// The checked `[notify]`.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Intake channels whose dossiers carry consent by the channel's terms.
    pub presumed_consent: Vec<motcua_schemas::Channel>,
    /// Events sent without consent.
    pub required: Vec<NotifyEvent>,
    /// The `{tra_cuu}` address.
    pub lookup_url: String,
    /// E-mail, with its lane.
    pub email: Option<(EmailSender, Lane)>,
    /// SMS, with its lane.
    pub sms: Option<(SmsProvider, Lane)>,
    /// Zalo, with its lane and templates.
    pub zalo: Option<(ZaloOa, Lane, BTreeMap<NotifyEvent, ZaloTemplateSection>)>,
    /// The words of each event.
    pub templates: BTreeMap<NotifyEvent, TemplateSection>,
}

impl NotifySettings {
    /// The channels that have words for `event`.
    pub fn channels_for(&self, event: NotifyEvent) -> Vec<NotifyChannel> {
        let words = self.templates.get(&event);
        let mut out = Vec::new();
        if self.email.is_some() && words.is_some_and(|t| t.email.is_some()) {
            out.push(NotifyChannel::Email);
        }
        if self.sms.is_some() && words.is_some_and(|t| t.sms.is_some()) {
            out.push(NotifyChannel::Sms);
        }
        if self.zalo.as_ref().is_some_and(|(_, _, t)| t.contains_key(&event)) {
            out.push(NotifyChannel::Zalo);
        }
        out
    }

    /// The lane of `channel`, when configured.
    pub fn lane(&self, channel: NotifyChannel) -> Option<Lane> {
        match channel {
            NotifyChannel::Email => self.email.as_ref().map(|(_, l)| *l),
            NotifyChannel::Sms => self.sms.as_ref().map(|(_, l)| *l),
            NotifyChannel::Zalo => self.zalo.as_ref().map(|(_, l, _)| *l),
        }
    }
}

fn ca(base: &Path, file: Option<&std::path::PathBuf>, at: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    let file = resolve(base, file?);
    std::fs::read(&file).map_err(|e| problems.add(at, format!("cannot read {}: {e}", file.display()))).ok()
}

fn client(ca: Option<&[u8]>, timeout: u64, at: &str, problems: &mut Problems) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .timeout(Duration::from_secs(timeout.max(1)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("motcua/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = ca {
        match reqwest::Certificate::from_pem_bundle(pem) {
            Ok(certs) => builder = builder.tls_certs_only(certs),
            Err(e) => problems.add(at, e),
        }
    }
    builder.build().unwrap_or_else(|e| {
        problems.add(at, e);
        reqwest::Client::new()
    })
}

/// `${NAME}` in `value` replaced by the environment's `NAME`.
fn with_env(value: &str, env: &dyn Fn(&str) -> Option<String>, at: &str, problems: &mut Problems) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(open) = rest.find("${") {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            problems.add(at, "an unclosed ${");
            return out;
        };
        let name = &rest[open + 2..open + close];
        match env(name) {
            Some(v) => out.push_str(&v),
            None => problems.add(at, format!("the environment variable {name} is not set")),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn placeholders(at: &str, text: &str, problems: &mut Problems) {
    for name in unknown_placeholders(text) {
        problems.add(at, format!("{{{name}}} is not a placeholder (docs/NOTIFY.md lists them)"));
    }
}

/// Checks `[notify]`.
pub fn check(
    n: &NotifySection,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) -> NotifySettings {
    let mut presumed = Vec::new();
    for (i, c) in n.presumed_consent.iter().enumerate() {
        match c.as_str() {
            "portal" => presumed.push(motcua_schemas::Channel::Portal),
            "postal" => presumed.push(motcua_schemas::Channel::Postal),
            other => problems.add(format!("notify.presumed_consent[{i}]"), format!("{other:?}: portal or postal")),
        }
    }
    if let Some(url) = &n.lookup_url {
        check_url("notify.lookup_url", url, problems);
    }
    for (event, t) in &n.templates {
        let at = format!("notify.templates.{}", event.as_str());
        for (field, text) in [("subject", &t.subject), ("email", &t.email), ("sms", &t.sms)] {
            if let Some(text) = text {
                placeholders(&format!("{at}.{field}"), text, problems);
            }
        }
        if t.email.is_some() && t.subject.is_none() {
            problems.add(format!("{at}.subject"), "an e-mail needs a subject");
        }
    }
    let email = n.email.as_ref().and_then(|e| {
        let security = match e.security.as_str() {
            "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            other => {
                problems.add("notify.email.security", format!("{other:?}: starttls or tls"));
                return None;
            }
        };
        let secret = |var: &Option<String>, at: &str, problems: &mut Problems| {
            let var = var.as_ref()?;
            env(var).or_else(|| {
                problems.add(at, format!("the environment variable {var} is not set"));
                None
            })
        };
        let user = secret(&e.username_env, "notify.email.username_env", problems);
        let password = secret(&e.password_env, "notify.email.password_env", problems);
        let ca_pem = ca(base, e.ca_file.as_ref(), "notify.email.ca_file", problems);
        let port = e.port.unwrap_or(if security == Security::Tls { 465 } else { 587 });
        let account = EmailAccount {
            host: &e.host,
            port,
            security,
            credentials: user.zip(password),
            from: &e.from,
            ca_pem: ca_pem.as_deref(),
            timeout: Duration::from_secs(e.timeout_secs.max(1)),
        };
        EmailSender::new(account)
            .map_err(|err| problems.add("notify.email", err))
            .ok()
            .map(|sender| (sender, Lane { concurrency: e.concurrency.max(1) }))
    });
    let sms = n.sms.as_ref().and_then(|s| {
        let method = match s.method.to_ascii_uppercase().as_str() {
            "POST" => reqwest::Method::POST,
            "GET" => reqwest::Method::GET,
            "PUT" => reqwest::Method::PUT,
            other => {
                problems.add("notify.sms.method", format!("{other:?}: POST, GET or PUT"));
                return None;
            }
        };
        let body_format = match s.body_format.as_str() {
            "json" => BodyFormat::Json,
            "form" => BodyFormat::Form,
            "text" => BodyFormat::Text,
            other => {
                problems.add("notify.sms.body_format", format!("{other:?}: json, form or text"));
                return None;
            }
        };
        let phone_format = match s.phone_format.as_str() {
            "84" => PhoneFormat::International,
            "0" => PhoneFormat::National,
            other => {
                problems.add("notify.sms.phone_format", format!("{other:?}: 84 or 0"));
                return None;
            }
        };
        check_url("notify.sms.url", s.url.split('?').next().unwrap_or_default(), problems);
        let sms_fields = ["phone", "message", "ma_ho_so"];
        for (at, text) in [("notify.sms.url", Some(&s.url)), ("notify.sms.body", s.body.as_ref())] {
            let Some(text) = text else { continue };
            for name in placeholder_names(text).into_iter().filter(|n| !sms_fields.contains(n)) {
                problems
                    .add(at, format!("{{{name}}}: the provider's call knows {{phone}}, {{message}} and {{ma_ho_so}}"));
            }
        }
        let headers = s
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), with_env(v, env, &format!("notify.sms.headers.{k}"), problems)))
            .collect();
        let ca_pem = ca(base, s.ca_file.as_ref(), "notify.sms.ca_file", problems);
        let provider = SmsProvider {
            client: client(ca_pem.as_deref(), s.timeout_secs, "notify.sms", problems),
            url: s.url.clone(),
            method,
            headers,
            body: s.body.clone(),
            body_format,
            phone_format,
            success_status: s.success_status.clone(),
            success_contains: s.success_contains.clone(),
            max_answer_bytes: 64 * 1024,
        };
        Some((provider, Lane { concurrency: s.concurrency.max(1) }))
    });
    let zalo = n.zalo.as_ref().and_then(|z| {
        check_url("notify.zalo.url", &z.url, problems);
        for (event, t) in &z.templates {
            for (k, v) in &t.data {
                placeholders(&format!("notify.zalo.templates.{}.data.{k}", event.as_str()), v, problems);
            }
        }
        let Some(token) = env(&z.access_token_env) else {
            problems.add(
                "notify.zalo.access_token_env",
                format!("the environment variable {} is not set", z.access_token_env),
            );
            return None;
        };
        let ca_pem = ca(base, z.ca_file.as_ref(), "notify.zalo.ca_file", problems);
        let oa = ZaloOa {
            client: client(ca_pem.as_deref(), z.timeout_secs, "notify.zalo", problems),
            url: z.url.clone(),
            access_token: token,
            max_answer_bytes: 64 * 1024,
        };
        Some((oa, Lane { concurrency: z.concurrency.max(1) }, z.templates.clone()))
    });
    NotifySettings {
        presumed_consent: presumed,
        required: n.required.clone(),
        lookup_url: n.lookup_url.clone().unwrap_or_default(),
        email,
        sms,
        zalo,
        templates: n.templates.clone(),
    }
}
