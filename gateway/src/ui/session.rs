//! Operators' sessions: a cookie the gateway signs (HMAC-SHA256) holding who logged
//! in, when, when last seen, a random nonce, the operator's session generation and a
//! digest of the operator's entry; the CSRF token of every form is derived from that
//! nonce. Every node that has the key (`[ui] session_key_env`) accepts the session. A
//! session ends after the idle time or twelve hours, whichever comes first; at once
//! when its operator logs out anywhere (the generation, kept in the store, moves on),
//! when the operator's password, role or unit changes (the digest no longer matches)
//! or the operator is removed; and when the key is rotated. The seal is ring's HMAC,
//! which also derives the CSRF tokens from the same key; the `cookie` crate writes
//! and reads the headers (its signed jar would be a second HMAC implementation that
//! cannot derive those tokens).

use std::path::Path;

use base64::Engine;
use ring::hmac;

use crate::settings::ui::{Operator, OperatorRole};

/// The session cookie.
pub const COOKIE: &str = "motcua_phien";
/// The login form's cookie (its nonce binds the form's CSRF token).
pub const LOGIN_COOKIE: &str = "motcua_dang_nhap";
/// The longest a session lasts, however active.
const MAX_AGE_SECS: i64 = 12 * 3600;
/// A session seen again after this long gets a fresh cookie (sliding idle time).
const REFRESH_SECS: i64 = 60;

/// A signed-in operator's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The operator's login name.
    pub operator: String,
    /// When it logged in (seconds since the epoch).
    pub issued: i64,
    /// The last request (seconds since the epoch).
    pub seen: i64,
    /// Random, per session: the CSRF tokens derive from it.
    pub nonce: String,
    /// The operator's session generation when it logged in.
    pub generation: u64,
    /// The digest of the operator's entry (password hash, role, unit) when it logged in.
    pub entry: String,
}

impl Session {
    /// A new session for `operator` at `now`, in its generation `generation`.
    pub fn new(operator: &Operator, generation: u64, now: i64) -> Session {
        Session {
            operator: operator.name.clone(),
            issued: now,
            seen: now,
            nonce: nonce(),
            generation,
            entry: entry_digest(operator),
        }
    }

    /// True when the session may still be used at `now`.
    pub fn alive(&self, now: i64, idle_secs: i64) -> bool {
        now >= self.issued && now - self.seen <= idle_secs && now - self.issued <= MAX_AGE_SECS
    }

    /// True when its cookie should be issued again (the idle time slides).
    pub fn stale(&self, now: i64) -> bool {
        now - self.seen >= REFRESH_SECS
    }
}

/// A digest of what an operator's sessions depend on: its password hash, role and
/// unit (a change of any of them ends its sessions).
pub fn entry_digest(operator: &Operator) -> String {
    let role = match operator.role {
        OperatorRole::Centre => "centre",
        OperatorRole::Commune => "commune",
        OperatorRole::Auditor => "auditor",
    };
    let unit = operator.unit.as_ref().map(|u| u.as_str()).unwrap_or("");
    let text = format!("{}|{}|{role}|{unit}", operator.name, operator.password_hash);
    b64(&ring::digest::digest(&ring::digest::SHA256, text.as_bytes()).as_ref()[..12])
}

/// A random nonce, 128 bits, URL-safe.
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// The key sessions are signed with.
pub struct Keys {
    key: hmac::Key,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Keys {
    /// Keys from the secret `bytes`.
    pub fn new(bytes: &[u8]) -> Keys {
        Keys { key: hmac::Key::new(hmac::HMAC_SHA256, bytes) }
    }

    /// The key from `[ui] session_key_env`, or this node's own key in `data_dir`
    /// (created on first use, readable by the gateway's user only).
    pub fn load(configured: Option<&[u8]>, data_dir: &Path) -> std::io::Result<Keys> {
        if let Some(bytes) = configured {
            return Ok(Keys::new(bytes));
        }
        let path = data_dir.join("ui-session.key");
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() >= 32 => Ok(Keys::new(&bytes)),
            Ok(_) => Err(std::io::Error::other(format!("{} holds less than 32 bytes", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                rand::fill(&mut bytes);
                crate::files::write_new_private(&path, &bytes)?;
                Ok(Keys::new(&bytes))
            }
            Err(e) => Err(e),
        }
    }

    /// The cookie value of `session`.
    pub fn seal(&self, session: &Session) -> String {
        let payload = format!(
            "{}|{}|{}|{}|{}|{}",
            session.operator, session.issued, session.seen, session.nonce, session.generation, session.entry
        );
        let tag = hmac::sign(&self.key, payload.as_bytes());
        format!("{}.{}", b64(payload.as_bytes()), b64(tag.as_ref()))
    }

    /// The session a cookie value holds, if the gateway signed it.
    pub fn open(&self, cookie: &str) -> Option<Session> {
        let (payload, tag) = cookie.split_once('.')?;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let (payload, tag) = (engine.decode(payload).ok()?, engine.decode(tag).ok()?);
        hmac::verify(&self.key, &payload, &tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.split('|');
        let session = Session {
            operator: parts.next()?.to_owned(),
            issued: parts.next()?.parse().ok()?,
            seen: parts.next()?.parse().ok()?,
            nonce: parts.next()?.to_owned(),
            generation: parts.next()?.parse().ok()?,
            entry: parts.next()?.to_owned(),
        };
        parts.next().is_none().then_some(session)
    }

    /// The CSRF token of forms in the session (or login form) with `nonce`.
    pub fn csrf(&self, purpose: &str, nonce: &str) -> String {
        b64(hmac::sign(&self.key, format!("csrf|{purpose}|{nonce}").as_bytes()).as_ref())
    }

    /// True when `token` is the CSRF token of `nonce` (compared in constant time).
    pub fn csrf_ok(&self, purpose: &str, nonce: &str, token: &str) -> bool {
        let Ok(tag) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token) else { return false };
        hmac::verify(&self.key, format!("csrf|{purpose}|{nonce}").as_bytes(), &tag).is_ok()
    }
}

/// A `Set-Cookie` value: `HttpOnly`, `Secure`, `SameSite=Strict`, for the pages only.
pub fn set_cookie(name: &str, value: &str, max_age_secs: i64) -> String {
    cookie::Cookie::build((name, value))
        .path("/ui")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .build()
        .to_string()
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn from_headers<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|h| cookie(h, name))
}

/// The value of cookie `name` in a `Cookie` header (a pair that does not parse is
/// passed over).
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    cookie::Cookie::split_parse(header).filter_map(Result::ok).find(|c| c.name() == name).and_then(|c| c.value_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_opens_only_as_signed_and_csrf_tokens_are_bound_to_it() {
        let keys = Keys::new(&[7u8; 32]);
        let operator = Operator {
            name: "trungtam".into(),
            display_name: "Trung tâm".into(),
            role: OperatorRole::Centre,
            unit: None,
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        };
        let session = Session::new(&operator, 0, 1_000);
        let sealed = keys.seal(&session);
        assert_eq!(keys.open(&sealed), Some(session.clone()));
        assert_eq!(Keys::new(&[8u8; 32]).open(&sealed), None, "another key");
        let (payload, tag) = sealed.split_once('.').unwrap();
        let forged = b64(b"kiemtra|1000|1000|x|0|y");
        assert_eq!(keys.open(&format!("{forged}.{tag}")), None, "another payload");
        assert_eq!(keys.open(payload), None);
        let token = keys.csrf("session", &session.nonce);
        assert!(keys.csrf_ok("session", &session.nonce, &token));
        assert!(!keys.csrf_ok("session", "other", &token));
        assert!(!keys.csrf_ok("login", &session.nonce, &token));
        assert!(session.alive(1_000 + 1_800, 1_800) && !session.alive(1_000 + 1_801, 1_800));
        assert_eq!(cookie("a=1; motcua_phien=xyz; b=2", COOKIE), Some("xyz"));
        assert_eq!(cookie("motcua_phien_x=1", COOKIE), None);
        let changed = Operator { role: OperatorRole::Auditor, ..operator.clone() };
        assert_ne!(entry_digest(&changed), session.entry, "a role change ends the session");
        let rehashed = Operator { password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$b3RoZXI".into(), ..operator };
        assert_ne!(entry_digest(&rehashed), session.entry, "a password change ends the session");
    }

    #[test]
    fn the_cookie_is_kept_to_the_pages_and_read_by_its_exact_name() {
        let set = set_cookie("motcua_phien", "abc.def", 600);
        for attribute in ["motcua_phien=abc.def", "Path=/ui", "Max-Age=600", "HttpOnly", "Secure", "SameSite=Strict"] {
            assert!(set.split("; ").any(|a| a == attribute), "{attribute} in {set}");
        }
        let header = "motcua_phien_cu=old; lang=vi; motcua_phien=abc.def";
        assert_eq!(cookie(header, "motcua_phien"), Some("abc.def"));
        assert_eq!(cookie(header, "phien"), None);
        assert_eq!(cookie("=; motcua_phien=x", "motcua_phien"), Some("x"));
    }
}
