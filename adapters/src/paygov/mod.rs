//! The national payment platform (PayGov) reached through the portal (docs/PAYMENT.md,
//! docs/PEERS.md §4.1): the signed messages (`message`) and the client that sends
//! `INIT` and `QUERY`, with a Bearer key only where one is configured.

pub mod message;

pub use message::{Confirmation, FeeLine, Init, InitCodes, Partner, QueryState, Receipt};

use crate::outbound::{CallOutcome, call_capped};

/// Where the platform's services are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Services {
    /// `INIT` URL.
    pub init: String,
    /// `QUERY` URL.
    pub query: String,
}

/// A client of the platform.
#[derive(Debug)]
pub struct PaygovClient {
    http: reqwest::Client,
    services: Services,
    partner: Partner,
    token: Option<String>,
    max_answer: usize,
}

/// What a call to the platform came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaygovOutcome<T> {
    /// Its answer, read.
    Answered(T),
    /// The call failed, or the answer could not be read: the dispatcher's verdict.
    Failed(CallOutcome),
}

impl PaygovClient {
    /// A client sending to `services` as `partner`, reading answers of at most
    /// `max_answer` bytes.
    pub fn new(
        http: reqwest::Client,
        services: Services,
        partner: Partner,
        token: Option<String>,
        max_answer: usize,
    ) -> PaygovClient {
        PaygovClient { http, services, partner, token, max_answer }
    }

    async fn post(&self, url: &str, body: &serde_json::Value) -> Result<bytes::Bytes, CallOutcome> {
        let mut request = self.http.post(url).json(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match call_capped(request, self.max_answer).await {
            CallOutcome::Accepted { body, .. } => Ok(body),
            other => Err(other),
        }
    }

    /// Sends `INIT`; the payment page's URL, or why not (a refusal is permanent for
    /// this attempt: a new attempt has a new reference).
    pub async fn init(&self, init: &Init) -> PaygovOutcome<String> {
        match self.post(&self.services.init, &init.body(&self.partner)).await {
            Err(failed) => PaygovOutcome::Failed(failed),
            Ok(body) => match message::init_answer(&body) {
                Ok(url) => PaygovOutcome::Answered(url),
                Err(reason) => PaygovOutcome::Failed(CallOutcome::Rejected { reason }),
            },
        }
    }

    /// Sends `QUERY` for `reference` (at `time`, `yyyyMMddHHmmss`).
    pub async fn query(&self, reference: &str, time: &str) -> PaygovOutcome<QueryState> {
        match self.post(&self.services.query, &message::query(&self.partner, reference, time)).await {
            Err(failed) => PaygovOutcome::Failed(failed),
            Ok(body) => match message::query_answer(&body, reference) {
                Ok(state) => PaygovOutcome::Answered(state),
                Err(reason) => PaygovOutcome::Failed(CallOutcome::Retry { reason, retry_after: None }),
            },
        }
    }
}
