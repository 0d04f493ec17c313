//! Calling the portal (docs/PEERS.md §1.1–§1.3, §1.8): through the session envelope
//! (log in, keep the session, log in again when it is refused or stale) or a
//! provincial connector's bare arrays, with an LGSP's OAuth2 client-credentials token
//! in front of either. Every answer is judged by what it says, not its HTTP status.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use tokio::sync::Mutex;

use super::reply::{Judged, ReplyRules, Verdict};
use crate::outbound::{CallOutcome, classify};

/// How the portal is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// Style A: log in, then POST `{session, madonvi, service, …}` envelopes.
    Session {
        /// Login path under the base URL.
        auth_path: String,
        /// Service path under the base URL.
        service_path: String,
        /// User name.
        username: String,
        /// Password.
        password: String,
        /// `madonvi` of every envelope; none for services that take no envelope
        /// unit (the pull's, which name `donViXuLy` per call).
        unit: Option<String>,
        /// The `dstcode` header, when the portal asks for one.
        dstcode: Option<String>,
        /// How long a session is used before logging in again.
        session_ttl: Duration,
    },
    /// Style B: POST bare arrays to a provincial connector's URLs.
    Connector {
        /// Create path (`URLThemMoi`).
        create_path: String,
        /// Update path (`URLCapNhat`).
        update_path: String,
        /// Progress path (`URLDongBoTienTrinh`).
        progress_path: String,
    },
}

/// An LGSP's OAuth2 client-credentials grant in front of the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth {
    /// Token URL.
    pub token_url: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

/// A call's outcome, with the answer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOutcome {
    /// The portal took it (`updated`: sent as an update).
    Done {
        /// Sent as an update.
        updated: bool,
    },
    /// Try again later.
    Retry {
        /// Why.
        reason: String,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// Give up.
    Rejected {
        /// Why.
        reason: String,
    },
}

impl SyncOutcome {
    /// The outcome in the dispatcher's terms.
    pub fn into_call(self) -> CallOutcome {
        match self {
            SyncOutcome::Done { .. } => CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() },
            SyncOutcome::Retry { reason, retry_after } => CallOutcome::Retry { reason, retry_after },
            SyncOutcome::Rejected { reason } => CallOutcome::Rejected { reason },
        }
    }
}

/// What a service answered, or why there is no answer to read.
enum Answer {
    Read(Judged),
    Failed(SyncOutcome),
}

/// A client of one portal.
#[derive(Debug)]
pub struct DvcqgClient {
    http: reqwest::Client,
    base: String,
    transport: Transport,
    oauth: Option<OAuth>,
    rules: ReplyRules,
    max_answer: usize,
    fixed_token: Option<String>,
    session: Mutex<Option<(String, Instant)>>,
    token: Mutex<Option<(String, Instant)>>,
}

/// A token is renewed this long before the LGSP says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(30);

fn failed(outcome: CallOutcome) -> SyncOutcome {
    match outcome {
        CallOutcome::Accepted { .. } => SyncOutcome::Retry { reason: "unexpected answer".into(), retry_after: None },
        CallOutcome::Retry { reason, retry_after } => SyncOutcome::Retry { reason, retry_after },
        CallOutcome::Rejected { reason } => SyncOutcome::Rejected { reason },
    }
}

impl DvcqgClient {
    /// A client for the portal at `base` (no trailing slash), reading answers of at
    /// most `max_answer` bytes.
    pub fn new(
        http: reqwest::Client,
        base: String,
        transport: Transport,
        oauth: Option<OAuth>,
        rules: ReplyRules,
        max_answer: usize,
    ) -> DvcqgClient {
        DvcqgClient {
            http,
            base,
            transport,
            oauth,
            rules,
            max_answer,
            fixed_token: None,
            session: Mutex::new(None),
            token: Mutex::new(None),
        }
    }

    /// The same client sending `Authorization: Bearer <token>` on every call, for a
    /// service that takes a fixed key rather than an LGSP's grant.
    pub fn with_fixed_token(mut self, token: Option<String>) -> DvcqgClient {
        self.fixed_token = token;
        self
    }

    /// The transport.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn bearer(&self, renew: bool) -> Result<Option<String>, SyncOutcome> {
        let Some(oauth) = &self.oauth else { return Ok(self.fixed_token.clone()) };
        let mut cached = self.token.lock().await;
        if !renew && let Some((token, until)) = cached.as_ref().filter(|(_, until)| *until > Instant::now()) {
            let _ = until;
            return Ok(Some(token.clone()));
        }
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", oauth.client_id.as_str()),
            ("client_secret", oauth.client_secret.as_str()),
        ];
        let outcome = crate::outbound::call_capped(self.http.post(&oauth.token_url).form(&form), self.max_answer).await;
        let CallOutcome::Accepted { body, .. } = outcome else { return Err(failed(outcome)) };
        let answer: Value = crate::json::answer(&body).unwrap_or_default();
        let Some(token) = answer.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return Err(SyncOutcome::Retry { reason: "the LGSP gave no access_token".into(), retry_after: None });
        };
        let lifetime = answer.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        let until = Instant::now() + Duration::from_secs(lifetime).saturating_sub(TOKEN_MARGIN);
        *cached = Some((token.to_owned(), until));
        Ok(Some(token.to_owned()))
    }

    /// POSTs `body` to `path`, with the LGSP token if there is one (renewed once if
    /// refused), and reads the answer.
    async fn post(&self, path: &str, body: &Value, transport_headers: bool, rules: &ReplyRules) -> Answer {
        let mut renew = false;
        loop {
            let token = match self.bearer(renew).await {
                Ok(t) => t,
                Err(outcome) => return Answer::Failed(outcome),
            };
            let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
            if transport_headers && let Transport::Session { dstcode, .. } = &self.transport {
                request = request.header("Charset", "utf-8");
                if let Some(code) = dstcode {
                    request = request.header("dstcode", code);
                }
            }
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => {
                    return Answer::Failed(failed(CallOutcome::Retry {
                        reason: "timed out".into(),
                        retry_after: None,
                    }));
                }
                Err(e) => {
                    return Answer::Failed(failed(CallOutcome::Retry {
                        reason: format!("connection failed: {e}"),
                        retry_after: None,
                    }));
                }
            };
            let status = response.status().as_u16();
            if status == 401 && self.oauth.is_some() && !renew {
                renew = true;
                continue;
            }
            let headers = response.headers().clone();
            let body = match crate::outbound::read_capped(response, self.max_answer).await {
                Ok(b) => b,
                Err(outcome) => return Answer::Failed(failed(outcome)),
            };
            return match classify(status, &headers, body.clone()) {
                CallOutcome::Accepted { .. } if status != 409 => Answer::Read(rules.judge(&body)),
                CallOutcome::Accepted { .. } => {
                    Answer::Failed(SyncOutcome::Rejected { reason: "HTTP 409 from the portal".into() })
                }
                other => Answer::Failed(failed(other)),
            };
        }
    }

    async fn login(&self) -> Result<String, SyncOutcome> {
        let Transport::Session { auth_path, username, password, session_ttl, .. } = &self.transport else {
            return Err(SyncOutcome::Rejected { reason: "no session for a connector".into() });
        };
        let body = json!({ "username": username, "password": password });
        match self.post(auth_path, &body, true, &self.rules.for_login()).await {
            Answer::Failed(outcome) => Err(outcome),
            Answer::Read(judged) => {
                let session = judged.body.as_ref().and_then(|b| b.get("session")).and_then(Value::as_str);
                match (judged.verdict, session) {
                    (Verdict::Success, Some(s)) if !s.is_empty() => {
                        *self.session.lock().await = Some((s.to_owned(), Instant::now() + *session_ttl));
                        Ok(s.to_owned())
                    }
                    (Verdict::Permanent, _) => {
                        Err(SyncOutcome::Rejected { reason: format!("login refused: {}", judged.reason) })
                    }
                    _ => Err(SyncOutcome::Retry {
                        reason: format!("login failed: {}", judged.reason),
                        retry_after: None,
                    }),
                }
            }
        }
    }

    async fn session(&self, renew: bool) -> Result<String, SyncOutcome> {
        if !renew
            && let Some((s, until)) = self.session.lock().await.as_ref()
            && *until > Instant::now()
        {
            return Ok(s.clone());
        }
        self.login().await
    }

    /// Calls a service through the session envelope, logging in again once if the
    /// session was refused. Returns the answer read.
    pub async fn service(&self, service: &str, params: Map<String, Value>) -> Result<Judged, SyncOutcome> {
        let Transport::Session { service_path, unit, .. } = &self.transport else {
            return Err(SyncOutcome::Rejected { reason: format!("{service} needs the session transport") });
        };
        let mut renewed = false;
        loop {
            let session = self.session(renewed).await?;
            let mut envelope = Map::new();
            envelope.insert("session".into(), session.into());
            if let Some(unit) = unit {
                envelope.insert("madonvi".into(), unit.clone().into());
            }
            envelope.insert("service".into(), service.into());
            envelope.extend(params.clone());
            match self.post(service_path, &Value::Object(envelope), true, &self.rules).await {
                Answer::Failed(outcome) => return Err(outcome),
                Answer::Read(judged) if judged.verdict == Verdict::Session && !renewed => {
                    *self.session.lock().await = None;
                    renewed = true;
                }
                Answer::Read(judged) => return Ok(judged),
            }
        }
    }

    fn settle(judged: Judged, updated: bool) -> SyncOutcome {
        match judged.verdict {
            Verdict::Success => SyncOutcome::Done { updated },
            Verdict::Retry | Verdict::Session | Verdict::Exists => {
                SyncOutcome::Retry { reason: judged.reason, retry_after: None }
            }
            Verdict::Permanent => SyncOutcome::Rejected { reason: judged.reason },
        }
    }

    async fn send_record(&self, record: &Value, updating: bool) -> Result<Judged, SyncOutcome> {
        match &self.transport {
            Transport::Session { .. } => {
                let mut params = Map::new();
                params.insert("isUpdating".into(), if updating { "True" } else { "False" }.into());
                params.insert("data".into(), json!([record]));
                self.service("DongBoHoSoMC", params).await
            }
            Transport::Connector { create_path, update_path, .. } => {
                let path = if updating { update_path } else { create_path };
                match self.post(path, &json!([record]), false, &self.rules).await {
                    Answer::Read(judged) => Ok(judged),
                    Answer::Failed(outcome) => Err(outcome),
                }
            }
        }
    }

    /// `DongBoHoSoMC`: sends the dossier's record, as an update if the portal has it
    /// already or says so.
    pub async fn sync_record(&self, record: &Value, updating: bool) -> SyncOutcome {
        let judged = match self.send_record(record, updating).await {
            Ok(j) => j,
            Err(outcome) => return outcome,
        };
        if judged.verdict == Verdict::Exists && !updating {
            return match self.send_record(record, true).await {
                Ok(j) => Self::settle(j, true),
                Err(outcome) => outcome,
            };
        }
        Self::settle(judged, updating)
    }

    /// `DongBoTrangThaiHoSo`: sends the status of a trade-promotion dossier the portal
    /// pushed (`kind`: the envelope's `type`). Session transport only.
    pub async fn sync_promotion_status(&self, kind: &str, data: &Value) -> SyncOutcome {
        let mut params = Map::new();
        params.insert("type".into(), kind.into());
        params.insert("data".into(), data.clone());
        match self.service("DongBoTrangThaiHoSo", params).await {
            Ok(j) => Self::settle(j, false),
            Err(outcome) => outcome,
        }
    }

    /// `CapNhatTienDoHoSoMC`: sends progress steps (at most the portal's limit).
    pub async fn sync_progress(&self, steps: &[Value]) -> SyncOutcome {
        let judged = match &self.transport {
            Transport::Session { .. } => {
                let mut params = Map::new();
                params.insert("data".into(), Value::Array(steps.to_vec()));
                self.service("CapNhatTienDoHoSoMC", params).await
            }
            Transport::Connector { progress_path, .. } => {
                match self.post(progress_path, &json!(steps), false, &self.rules).await {
                    Answer::Read(judged) => Ok(judged),
                    Answer::Failed(outcome) => Err(outcome),
                }
            }
        };
        match judged {
            Ok(j) => Self::settle(j, false),
            Err(outcome) => outcome,
        }
    }

    /// `DongBoDanhGia`: a month's satisfaction rows (session transport only: no public
    /// integration shows it through a connector).
    pub async fn sync_ratings(&self, rows: &[Value]) -> SyncOutcome {
        if !matches!(self.transport, Transport::Session { .. }) {
            return SyncOutcome::Rejected { reason: "DongBoDanhGia needs the session transport".into() };
        }
        let mut params = Map::new();
        params.insert("data".into(), Value::Array(rows.to_vec()));
        match self.service("DongBoDanhGia", params).await {
            Ok(j) => Self::settle(j, false),
            Err(outcome) => outcome,
        }
    }

    /// Calls a look-up service and returns its list (`data` or `result`).
    pub async fn list(&self, service: &str, params: Map<String, Value>) -> Result<Vec<Value>, SyncOutcome> {
        let judged = self.service(service, params).await?;
        if judged.verdict != Verdict::Success {
            return Err(Self::settle(judged, false));
        }
        let body = judged.body.unwrap_or_default();
        let list = body.get("data").or_else(|| body.get("result")).or_else(|| body.get("TepTinDinhKem"));
        Ok(match list {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Object(_)) => list.into_iter().cloned().collect(),
            _ => Vec::new(),
        })
    }
}
