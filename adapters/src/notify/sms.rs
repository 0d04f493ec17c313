//! An SMS provider, as configured: operators' APIs differ and are not public, so the
//! call — URL, method, headers, a body template with the number and the message, and
//! which answers mean sent — is data, not code (docs/NOTIFY.md, "SMS").

use crate::outbound::{CallOutcome, read_capped};

/// How the body template's values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    /// A JSON document: values are JSON string contents.
    Json,
    /// `application/x-www-form-urlencoded`: values are percent-encoded.
    Form,
    /// Plain text: values as they are.
    Text,
}

/// How the provider wants the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneFormat {
    /// `84912345678`.
    International,
    /// `0912345678`.
    National,
}

/// One provider's call.
#[derive(Debug, Clone)]
pub struct SmsProvider {
    /// Its client.
    pub client: reqwest::Client,
    /// The URL (it may hold `{phone}` and `{message}`, percent-encoded).
    pub url: String,
    /// `POST`, `GET`, `PUT`.
    pub method: reqwest::Method,
    /// Headers, with secrets already read from the environment.
    pub headers: Vec<(String, String)>,
    /// The body template (`{phone}`, `{message}`, `{ma_ho_so}`), if any.
    pub body: Option<String>,
    /// How the body's values are escaped.
    pub body_format: BodyFormat,
    /// How the number is written.
    pub phone_format: PhoneFormat,
    /// HTTP statuses that mean sent.
    pub success_status: Vec<u16>,
    /// Text the answer must contain to mean sent (some answer 200 to every request).
    pub success_contains: Option<String>,
    /// Largest answer read.
    pub max_answer_bytes: usize,
}

/// `phone` (a `PhoneNumber`'s `0…` national form) in the provider's form.
pub fn phone_in(format: PhoneFormat, phone: &str) -> String {
    match (format, phone.strip_prefix('0')) {
        (PhoneFormat::International, Some(rest)) => format!("84{rest}"),
        _ => phone.to_owned(),
    }
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl SmsProvider {
    /// Sends `message` to `phone` (national form), `code` naming the dossier.
    pub async fn send(&self, phone: &str, message: &str, code: &str) -> CallOutcome {
        let values = [
            ("phone", phone_in(self.phone_format, phone)),
            ("message", message.to_owned()),
            ("ma_ho_so", code.to_owned()),
        ];
        let url = render(&self.url, &values, BodyFormat::Form);
        let mut request = self.client.request(self.method.clone(), url);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(body) = &self.body {
            let content_type = match self.body_format {
                BodyFormat::Json => "application/json",
                BodyFormat::Form => "application/x-www-form-urlencoded",
                BodyFormat::Text => "text/plain; charset=utf-8",
            };
            if !self.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type")) {
                request = request.header("content-type", content_type);
            }
            request = request.body(render(body, &values, self.body_format));
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return CallOutcome::Retry { reason: "the SMS provider timed out".into(), retry_after: None };
            }
            Err(_) => {
                return CallOutcome::Retry {
                    reason: "the SMS provider could not be reached".into(),
                    retry_after: None,
                };
            }
        };
        let status = response.status().as_u16();
        match read_capped(response, self.max_answer_bytes).await {
            Ok(body) => self.judge(status, body),
            Err(outcome) => outcome,
        }
    }

    fn judge(&self, status: u16, body: bytes::Bytes) -> CallOutcome {
        let status_ok = self.success_status.contains(&status);
        let text_ok = self.success_contains.as_deref().is_none_or(|t| String::from_utf8_lossy(&body).contains(t));
        match (status_ok, text_ok) {
            (true, true) => CallOutcome::Accepted { status, body },
            (true, false) => CallOutcome::Retry {
                reason: format!("HTTP {status}, but the answer does not say the message was sent"),
                retry_after: None,
            },
            _ if (400..500).contains(&status) && status != 429 => {
                CallOutcome::Rejected { reason: format!("the SMS provider refused the message (HTTP {status})") }
            }
            _ => CallOutcome::Retry { reason: format!("the SMS provider answered HTTP {status}"), retry_after: None },
        }
    }
}

fn render(template: &str, values: &[(&str, String)], format: BodyFormat) -> String {
    super::render(template, values, |v| match format {
        BodyFormat::Json => serde_json::to_string(v).unwrap_or_default().trim_matches('"').to_owned(),
        BodyFormat::Form => percent_encode(v),
        BodyFormat::Text => v.to_owned(),
    })
}
