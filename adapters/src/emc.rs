//! The national monitoring service of the one-stop desks (EMC, `TrackingMCDT`;
//! docs/PORTAL.md "Tracking"): one message per status change of a dossier, its
//! fields and codes as one public integration sends them.

use serde_json::{Value, json};

use crate::outbound::{CallOutcome, call_capped};

/// What a tracking message says of a dossier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked<'a> {
    /// The dossier code (`MaHoSo`, and `CodeProfile`).
    pub code: &'a str,
    /// The procedure code and name.
    pub procedure: (&'a str, &'a str),
    /// The dossier's status code (1–10) after the change.
    pub status: u8,
    /// Submitted online (portal) rather than at a desk or by post.
    pub online: bool,
    /// Came by post (`IsDVCBC` 1).
    pub by_post: bool,
    /// Came from the national portal (`IsFromDVCQG` 1).
    pub from_dvcqg: bool,
    /// The online service level (3 or 4), if any.
    pub level: Option<u8>,
    /// Paid online, paid at the desk, or nothing paid.
    pub paid: Paid,
    /// The applicant's ID number (`User`).
    pub applicant_id: &'a str,
}

/// How the fees were paid (`FormsPayments`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paid {
    /// Nothing paid (0).
    Nothing,
    /// Online (1).
    Online,
    /// At the desk (2).
    AtDesk,
}

/// The service's status code of a dossier status: received 1, processing 2, result
/// returned 3, anything else 0.
pub fn status_code(status: u8) -> &'static str {
    match status {
        1 | 2 => "1",
        4 => "2",
        9 | 10 => "3",
        _ => "0",
    }
}

/// The message body; `site_id` and `province` are the province's at the service.
pub fn message(t: &Tracked<'_>, site_id: i64, province: &str) -> Value {
    let level = match t.level {
        Some(4) => "4",
        Some(3) => "3",
        _ => "0",
    };
    let user = json!({
        "ID_local": t.applicant_id,
        "ID_QG": t.applicant_id,
        "TYPE": if t.applicant_id.len() == 10 { "1" } else { "2" },
        "LOCATION": province,
    });
    json!({
        "CodeProfile": t.code,
        "SiteId": site_id,
        "CodeTTHC": t.procedure.0,
        "NameTTHC": t.procedure.1,
        "MaHoSo": t.code,
        "Status": status_code(t.status),
        "FormsReception": if t.online { "1" } else { "2" },
        "FormsPayments": match t.paid { Paid::Nothing => "0", Paid::Online => "1", Paid::AtDesk => "2" },
        "Level": level,
        "IsFromDVCQG": if t.from_dvcqg { "1" } else { "0" },
        "IsDVCBC": if t.by_post { "1" } else { "0" },
        "Data": Value::Null,
        "User": user.to_string(),
    })
}

/// `POST {url}` with the message; any 2xx is taken.
pub async fn send(client: &reqwest::Client, url: &str, body: &Value, max_answer: usize) -> CallOutcome {
    call_capped(client.post(url).header("accept", "application/json").json(body), max_answer).await
}
