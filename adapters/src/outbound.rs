//! Calling a peer and classifying its answer the way the contract's retry rules
//! need it (docs/CONTRACT.md §5): 2xx and 409 mean the peer has it; 408, 429, 5xx, timeouts
//! and connection errors are worth retrying (respecting `Retry-After`); any other
//! 4xx is permanent.

use std::time::Duration;

use bytes::Bytes;

/// What a call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallOutcome {
    /// The peer accepted it (2xx, or 409: it already has it).
    Accepted {
        /// The status.
        status: u16,
        /// The body of the answer.
        body: Bytes,
    },
    /// Worth trying again.
    Retry {
        /// Why it failed.
        reason: String,
        /// What `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// Never worth trying again.
    Rejected {
        /// Why.
        reason: String,
    },
}

/// Largest answer a desk or the contract's peers may give, unless configured.
pub const MAX_ANSWER: usize = 1024 * 1024;

/// Reads the body of `response`, at most `limit` bytes: an answer that announces or
/// sends more is the peer's error (retried like a 5xx), never read into memory whole.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Bytes, CallOutcome> {
    let too_large =
        || CallOutcome::Retry { reason: format!("the answer is larger than {limit} bytes"), retry_after: None };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(Bytes::from(body)),
            Err(e) if e.is_timeout() => {
                return Err(CallOutcome::Retry { reason: "timed out reading the answer".into(), retry_after: None });
            }
            Err(e) => return Err(CallOutcome::Retry { reason: format!("answer interrupted: {e}"), retry_after: None }),
        }
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = when.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or_default())
}

fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The part of a failure's reason that may go to the log: the status, the timeout
/// or the connection error, without the peer's own words (which may echo personal
/// data).
pub fn loggable_cause(reason: &str) -> &str {
    for marker in ["error_code ", "unreadable answer", "Status "] {
        if let Some(at) = reason.find(marker) {
            let end = reason[at..].find(':').map_or(reason.len(), |colon| at + colon);
            return &reason[..end];
        }
    }
    match reason.strip_prefix("HTTP ") {
        Some(_) => reason.split_once(':').map_or(reason, |(status, _)| status),
        None => reason,
    }
}

/// Classifies an answer.
pub fn classify(status: u16, headers: &reqwest::header::HeaderMap, body: Bytes) -> CallOutcome {
    match status {
        200..=299 | 409 => CallOutcome::Accepted { status, body },
        408 | 429 | 500..=599 => CallOutcome::Retry {
            reason: format!("HTTP {status}: {}", snippet(&body)),
            retry_after: retry_after(headers),
        },
        _ => CallOutcome::Rejected { reason: format!("HTTP {status}: {}", snippet(&body)) },
    }
}

/// Sends `request` and classifies the outcome, reading at most [`MAX_ANSWER`] bytes.
pub async fn call(request: reqwest::RequestBuilder) -> CallOutcome {
    call_capped(request, MAX_ANSWER).await
}

/// Sends `request` and classifies the outcome, reading at most `limit` bytes.
pub async fn call_capped(request: reqwest::RequestBuilder, limit: usize) -> CallOutcome {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return CallOutcome::Retry { reason: "timed out".into(), retry_after: None },
        Err(e) if e.is_builder() => return CallOutcome::Rejected { reason: format!("cannot build the request: {e}") },
        Err(e) => return CallOutcome::Retry { reason: format!("connection failed: {e}"), retry_after: None },
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    match read_capped(response, limit).await {
        Ok(body) => classify(status, &headers, body),
        Err(outcome) => outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn statuses_follow_the_contract() {
        let none = HeaderMap::new();
        for accepted in [200, 201, 204, 409] {
            assert!(matches!(classify(accepted, &none, Bytes::new()), CallOutcome::Accepted { .. }), "{accepted}");
        }
        for retry in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(classify(retry, &none, Bytes::new()), CallOutcome::Retry { .. }), "{retry}");
        }
        for rejected in [400, 401, 403, 404, 410, 413, 422] {
            assert!(matches!(classify(rejected, &none, Bytes::new()), CallOutcome::Rejected { .. }), "{rejected}");
        }
    }

    #[test]
    fn the_logged_cause_leaves_the_peers_words_out() {
        let CallOutcome::Retry { reason, .. } = classify(503, &HeaderMap::new(), Bytes::from_static(b"Nguyen Van A"))
        else {
            panic!()
        };
        assert_eq!(loggable_cause(&reason), "HTTP 503");
        assert_eq!(loggable_cause("timed out"), "timed out");
        assert_eq!(loggable_cause("error_code 1: Nguyen Van A"), "error_code 1");
        assert_eq!(loggable_cause("login failed: error_code -1: Sai mật khẩu"), "login failed: error_code -1");
        assert_eq!(loggable_cause("unreadable answer: Nguyen"), "unreadable answer");
        assert_eq!(loggable_cause("Status 500: Lỗi hệ thống"), "Status 500");
        assert_eq!(loggable_cause("token refused: Status 401: sai khóa"), "token refused: Status 401");
    }

    #[test]
    fn retry_after_in_seconds_is_respected() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("7"));
        let CallOutcome::Retry { retry_after, .. } = classify(429, &headers, Bytes::from_static(b"slow down")) else {
            panic!()
        };
        assert_eq!(retry_after, Some(Duration::from_secs(7)));
    }
}
