//! Calling VNPost (docs/PEERS.md §2.1, §2.4, §2.5): an OAuth2 client-credentials
//! token (Basic `customerKey:secretKey`, cached until shortly before it expires, fetched
//! again when refused) — directly or at an LGSP — or a static `access_token` header;
//! then orders, cancellations and tracking pages.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;
use tokio::sync::Mutex;

use super::order::{Judged, OrderRequest, OrderVerdict, StatusRules};
use super::tracking::{TrackingPage, parse_page};
use crate::outbound::{CallOutcome, classify};

/// How the gateway proves who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Client credentials at `token_url`.
    OAuth {
        /// The token URL (VNPost's, or an LGSP's).
        token_url: String,
        /// How the token call proves who asks.
        grant: Grant,
    },
    /// A static token sent as the `access_token` header.
    Static(String),
}

/// How the token call authenticates (docs/PEERS.md §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `Authorization: Basic base64(customerKey:secretKey)`.
    Basic {
        /// `customerKey`.
        key: String,
        /// `secretKey`.
        secret: String,
    },
    /// `Authorization: Bearer <key>`, the variant a provincial LGSP takes.
    Bearer(String),
}

/// Where VNPost's services are, under the base URL (each may carry a query string,
/// as an LGSP's `?service=` does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Create an order.
    pub order: String,
    /// Cancel an order.
    pub cancel: String,
    /// The tracking feed.
    pub tracking: String,
}

/// A client of VNPost.
#[derive(Debug)]
pub struct VnpostClient {
    http: reqwest::Client,
    base: String,
    auth: Auth,
    paths: Paths,
    customer_code: String,
    rules: StatusRules,
    max_answer: usize,
    token: Mutex<Option<(String, Instant)>>,
}

/// A token is renewed this long before it expires.
const MARGIN: Duration = Duration::from_secs(30);

fn retry(reason: impl Into<String>) -> CallOutcome {
    CallOutcome::Retry { reason: reason.into(), retry_after: None }
}

fn join(base: &str, path: &str, query: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{base}{path}{sep}{query}")
}

impl VnpostClient {
    /// A client for VNPost at `base` (no trailing slash), reading answers of at most
    /// `max_answer` bytes.
    pub fn new(
        http: reqwest::Client,
        base: String,
        auth: Auth,
        paths: Paths,
        customer_code: String,
        rules: StatusRules,
        max_answer: usize,
    ) -> VnpostClient {
        VnpostClient { http, base, auth, paths, customer_code, rules, max_answer, token: Mutex::new(None) }
    }

    /// The customer code.
    pub fn customer_code(&self) -> &str {
        &self.customer_code
    }

    async fn authorize(
        &self,
        request: reqwest::RequestBuilder,
        renew: bool,
    ) -> Result<reqwest::RequestBuilder, CallOutcome> {
        let (token_url, grant) = match &self.auth {
            Auth::Static(token) => return Ok(request.header("access_token", token)),
            Auth::OAuth { token_url, grant } => (token_url, grant),
        };
        let mut cached = self.token.lock().await;
        if !renew
            && let Some((token, until)) = cached.as_ref()
            && *until > Instant::now()
        {
            return Ok(request.header("authorization", token.clone()));
        }
        let proof = match grant {
            Grant::Basic { key, secret } => {
                format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:{secret}")))
            }
            Grant::Bearer(key) => format!("Bearer {key}"),
        };
        let grant =
            self.http.post(token_url).header("authorization", proof).form(&[("grant_type", "client_credentials")]);
        let outcome = crate::outbound::call_capped(grant, self.max_answer).await;
        let CallOutcome::Accepted { body, .. } = outcome else {
            return Err(match outcome {
                CallOutcome::Rejected { reason } => {
                    CallOutcome::Rejected { reason: format!("token refused: {reason}") }
                }
                other => other,
            });
        };
        let answer: Value = crate::json::answer(&body).unwrap_or_default();
        let Some(access) = answer.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return Err(retry("the token answer has no access_token"));
        };
        let kind = answer.get("token_type").and_then(Value::as_str).unwrap_or("Bearer");
        let lifetime = answer.get("expires_in").and_then(Value::as_u64).unwrap_or(300);
        let header = format!("{kind} {access}");
        *cached = Some((header.clone(), Instant::now() + Duration::from_secs(lifetime).saturating_sub(MARGIN)));
        Ok(request.header("authorization", header))
    }

    /// Sends a request built by `make`, authorized, renewing the token once if it is
    /// refused; returns the status and body of a 2xx, or why not.
    async fn send(&self, make: impl Fn() -> reqwest::RequestBuilder) -> Result<bytes::Bytes, CallOutcome> {
        let mut renew = false;
        loop {
            let request = self.authorize(make(), renew).await?;
            let response = match request.send().await {
                Ok(r) => r,
                Err(e) if e.is_timeout() => return Err(retry("timed out")),
                Err(e) => return Err(retry(format!("connection failed: {e}"))),
            };
            let status = response.status().as_u16();
            if status == 401 && matches!(self.auth, Auth::OAuth { .. }) && !renew {
                renew = true;
                continue;
            }
            let headers = response.headers().clone();
            let body = crate::outbound::read_capped(response, self.max_answer).await?;
            return match classify(status, &headers, body.clone()) {
                CallOutcome::Accepted { .. } if status != 409 => Ok(body),
                CallOutcome::Accepted { .. } => Err(CallOutcome::Rejected { reason: "HTTP 409".into() }),
                other => Err(other),
            };
        }
    }

    fn settle(judged: Judged) -> CallOutcome {
        match judged.verdict {
            OrderVerdict::Success => CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() },
            OrderVerdict::Retry => retry(judged.reason),
            OrderVerdict::Permanent => CallOutcome::Rejected { reason: judged.reason },
        }
    }

    /// Creates an order; 100 and 101 (already there) are both success.
    pub async fn create(&self, order: &OrderRequest) -> CallOutcome {
        let body = order.body();
        let url = format!("{}{}", self.base, self.paths.order);
        match self.send(|| self.http.post(&url).json(&body)).await {
            Ok(answer) => Self::settle(self.rules.judge(&answer)),
            Err(outcome) => outcome,
        }
    }

    /// Cancels the order `order_number`.
    pub async fn cancel(&self, order_number: &str) -> CallOutcome {
        let url = format!("{}{}", self.base, self.paths.cancel);
        let query = [("CustomerCode", self.customer_code.as_str()), ("OrderNumber", order_number)];
        match self.send(|| self.http.get(&url).query(&query)).await {
            Ok(answer) => Self::settle(self.rules.judge(&answer)),
            Err(outcome) => outcome,
        }
    }

    /// The page of at most `page_size` events after `last_id`.
    pub async fn tracking(&self, last_id: &str, page_size: usize) -> Result<TrackingPage, String> {
        let url = join(&self.base, &self.paths.tracking, &format!("pagesize={page_size}&lastId={last_id}"));
        match self.send(|| self.http.get(&url)).await {
            Ok(body) => parse_page(&body),
            Err(CallOutcome::Retry { reason, .. } | CallOutcome::Rejected { reason }) => Err(reason),
            Err(CallOutcome::Accepted { .. }) => Err("unexpected answer".into()),
        }
    }
}
