//! Reading the portal's answer (docs/PEERS.md §1.8): HTTP 200 says only that the
//! request arrived; success is `error_code` 0 (`0`, `"0"` and `"00"` alike), and what
//! any other code or message means — retry, give up, log in again, the dossier is
//! already there — is a table in configuration, because the public code shows only
//! some of it.

use serde::Deserialize;
use serde_json::Value;

/// What an answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The portal took it.
    Success,
    /// The dossier is already at the portal: send it again as an update.
    Exists,
    /// The session is unknown or expired: log in again and resend.
    Session,
    /// A passing failure: try again later.
    Retry,
    /// A failure that will not pass: dead-letter it.
    Permanent,
}

/// One row of the table: an answer matching every given condition gets `verdict`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRule {
    /// The `error_code`, compared as a number.
    pub error_code: Option<i64>,
    /// Text the message contains (case-insensitive).
    pub message_contains: Option<String>,
    /// What it means.
    pub verdict: Verdict,
}

/// How to read answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRules {
    /// Checked in order before the defaults; the first match wins.
    pub rules: Vec<ReplyRule>,
    /// Text a success message must also contain (one connector requires "thành công").
    pub success_message: Option<String>,
    /// Whether the login's reply must contain it too.
    pub success_message_on_login: bool,
    /// What a non-zero code no rule names means.
    pub otherwise: Verdict,
}

impl Default for ReplyRules {
    fn default() -> Self {
        ReplyRules {
            rules: Vec::new(),
            success_message: None,
            success_message_on_login: false,
            otherwise: Verdict::Retry,
        }
    }
}

/// An answer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// What it means.
    pub verdict: Verdict,
    /// `error_code <n>: <message>` (the message may echo personal data: it goes to
    /// the admin queue and dead letters, never to the log).
    pub reason: String,
    /// The body as JSON, when it was.
    pub body: Option<Value>,
}

/// The `error_code` of an answer as a number, whether sent as a number or a string.
pub fn error_code(body: &Value) -> Option<i64> {
    match body.get("error_code")? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn message(body: &Value) -> String {
    match body.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(other) if !other.is_null() => other.to_string(),
        _ => String::new(),
    }
}

fn short(text: &str) -> String {
    let text: String = text.chars().take(200).collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ReplyRules {
    /// The rules the login's reply is read by: without the success text unless
    /// `success_message_on_login`.
    pub fn for_login(&self) -> ReplyRules {
        let success_message = self.success_message.clone().filter(|_| self.success_message_on_login);
        ReplyRules { success_message, ..self.clone() }
    }

    /// Reads an HTTP 2xx answer. A body that is not a JSON object with an
    /// `error_code` is read as plain text (progress replies may be): a success only
    /// if it contains the configured success text.
    pub fn judge(&self, body: &[u8]) -> Judged {
        let parsed: Option<Value> = crate::json::answer(body).filter(Value::is_object);
        let (code, text) = match &parsed {
            Some(v) => (error_code(v), message(v)),
            None => (None, String::from_utf8_lossy(body).into_owned()),
        };
        let lower = text.to_lowercase();
        let reason = match code {
            Some(c) => format!("error_code {c}: {}", short(&text)),
            None => format!("unreadable answer: {}", short(&text)),
        };
        let matches = |rule: &ReplyRule| {
            rule.error_code.is_none_or(|c| Some(c) == code)
                && rule.message_contains.as_ref().is_none_or(|m| lower.contains(&m.to_lowercase()))
                && (rule.error_code.is_some() || rule.message_contains.is_some())
        };
        let success_text = self.success_message.as_ref().is_none_or(|m| lower.contains(&m.to_lowercase()));
        let verdict = match self.rules.iter().find(|r| matches(r)) {
            Some(rule) => rule.verdict,
            None => match code {
                Some(0) if success_text => Verdict::Success,
                Some(0) => Verdict::Retry,
                Some(_) => self.otherwise,
                None if self.success_message.is_some() && success_text => Verdict::Success,
                None => Verdict::Retry,
            },
        };
        Judged { verdict, reason, body: parsed }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ReplyRules {
        ReplyRules {
            rules: vec![
                ReplyRule {
                    error_code: Some(3),
                    message_contains: Some("đã tồn tại".into()),
                    verdict: Verdict::Exists,
                },
                ReplyRule { error_code: Some(-1), message_contains: Some("phiên".into()), verdict: Verdict::Session },
                ReplyRule { error_code: Some(2), message_contains: None, verdict: Verdict::Permanent },
            ],
            success_message: None,
            success_message_on_login: false,
            otherwise: Verdict::Retry,
        }
    }

    #[test]
    fn zero_is_success_however_it_is_written() {
        for body in [r#"{"error_code":0}"#, r#"{"error_code":"0"}"#, r#"{"error_code":"00","message":"ok"}"#] {
            assert_eq!(rules().judge(body.as_bytes()).verdict, Verdict::Success, "{body}");
        }
    }

    #[test]
    fn http_200_with_an_error_code_is_a_failure() {
        let judged = rules().judge(r#"{"error_code":1,"message":"Lỗi hệ thống"}"#.as_bytes());
        assert_eq!(judged.verdict, Verdict::Retry);
        assert_eq!(judged.reason, "error_code 1: Lỗi hệ thống");
        assert_eq!(rules().judge(br#"{"error_code":"2"}"#).verdict, Verdict::Permanent);
    }

    #[test]
    fn the_table_names_exists_and_session() {
        let exists = r#"{"error_code":"3","message":"Hồ sơ ĐÃ TỒN TẠI trên hệ thống"}"#;
        assert_eq!(rules().judge(exists.as_bytes()).verdict, Verdict::Exists);
        let session = r#"{"error_code":-1,"message":"Phiên làm việc hết hạn"}"#;
        assert_eq!(rules().judge(session.as_bytes()).verdict, Verdict::Session);
        assert_eq!(rules().judge(br#"{"error_code":3,"message":"other"}"#).verdict, Verdict::Retry);
    }

    #[test]
    fn plain_text_needs_the_success_text() {
        let mut r = rules();
        assert_eq!(r.judge("Cập nhật thành công".as_bytes()).verdict, Verdict::Retry);
        r.success_message = Some("thành công".into());
        assert_eq!(r.judge("Cập nhật thành công".as_bytes()).verdict, Verdict::Success);
        assert_eq!(r.judge(r#"{"error_code":0,"message":"Lỗi"}"#.as_bytes()).verdict, Verdict::Retry);
    }
}

#[cfg(test)]
mod configured {
    use super::*;

    /// One integration reads `error_code` 0 with "đã tồn tại" as "already there"; a
    /// rule says so, since rules are read before the default success.
    #[test]
    fn a_code_0_already_there_rule_and_the_logins_own_reading() {
        let exists =
            ReplyRule {
                error_code: Some(0), message_contains: Some("đã tồn tại".into()), verdict: Verdict::Exists
            };
        let rules =
            ReplyRules { rules: vec![exists], success_message: Some("thành công".into()), ..ReplyRules::default() };
        let body = r#"{"error_code":"0","message":"Hồ sơ đã tồn tại"}"#;
        assert_eq!(rules.judge(body.as_bytes()).verdict, Verdict::Exists);
        let login = r#"{"error_code":"0","session":"abc","message":"OK"}"#;
        assert_eq!(rules.judge(login.as_bytes()).verdict, Verdict::Retry, "a sync reply needs the text");
        assert_eq!(rules.for_login().judge(login.as_bytes()).verdict, Verdict::Success, "the login does not");
        let strict = ReplyRules { success_message_on_login: true, ..rules };
        assert_eq!(strict.for_login().judge(login.as_bytes()).verdict, Verdict::Retry);
    }
}
