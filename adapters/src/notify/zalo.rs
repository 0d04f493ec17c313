//! Zalo OA template messages (ZNS): `POST {url}` with the OA's `access_token` header
//! and `{phone, template_id, template_data, tracking_id}`; the answer's `error` 0
//! means sent (docs/NOTIFY.md, "Zalo").

use serde_json::{Map, Value, json};

use crate::outbound::{CallOutcome, read_capped};

/// The Zalo OA account.
#[derive(Debug, Clone)]
pub struct ZaloOa {
    /// Its client.
    pub client: reqwest::Client,
    /// The template-message endpoint.
    pub url: String,
    /// The OA's access token.
    pub access_token: String,
    /// Largest answer read.
    pub max_answer_bytes: usize,
}

impl ZaloOa {
    /// Sends template `template_id` with `data` to `phone` (national form);
    /// `tracking_id` lets the OA's reports name the dossier's message.
    pub async fn send(
        &self,
        phone: &str,
        template_id: &str,
        data: Map<String, Value>,
        tracking_id: &str,
    ) -> CallOutcome {
        let body = json!({
            "phone": super::sms::phone_in(super::sms::PhoneFormat::International, phone),
            "template_id": template_id,
            "template_data": data,
            "tracking_id": tracking_id,
        });
        let request = self.client.post(&self.url).header("access_token", &self.access_token).json(&body);
        let response = match request.send().await {
            Ok(r) => r,
            Err(_) => return CallOutcome::Retry { reason: "Zalo could not be reached".into(), retry_after: None },
        };
        let status = response.status().as_u16();
        let answer = match read_capped(response, self.max_answer_bytes).await {
            Ok(body) => body,
            Err(outcome) => return outcome,
        };
        if !(200..300).contains(&status) {
            return CallOutcome::Retry { reason: format!("Zalo answered HTTP {status}"), retry_after: None };
        }
        let parsed: Option<Value> = serde_json::from_slice(&answer).ok();
        match parsed.as_ref().and_then(|v| v.get("error")).and_then(Value::as_i64) {
            Some(0) => CallOutcome::Accepted { status, body: answer },
            // What each error means is not published with the API's samples; every
            // one is retried and, past the attempts, set aside as a dead letter.
            Some(code) => {
                let message = parsed.as_ref().and_then(|v| v["message"].as_str()).unwrap_or_default();
                CallOutcome::Retry {
                    reason: format!("Zalo error {code}: {}", message.chars().take(120).collect::<String>()),
                    retry_after: None,
                }
            }
            None => CallOutcome::Retry { reason: "Zalo's answer has no error code".into(), retry_after: None },
        }
    }
}
