//! Citizens told of their dossiers (docs/NOTIFY.md): which events reach which
//! channels, the consent that decides it, the job queued with the change that causes
//! it, and the words of the message (sent by `dispatch::jobs::notify`). The citizen's
//! address and number are read from the dossier at delivery and never logged.

use jiff::Timestamp;
use motcua_schemas::{Dossier, EventType, NotifyEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::settings::notify::{NotifyChannel, NotifySettings};
use crate::store::{StoreError, Tx};

/// What the citizen said about being told, kept with the dossier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Agreed (with the dossier, or by the terms of its channel).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub given: bool,
    /// When the citizen asked for no more messages.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "motcua_schemas::time::rfc3339::option")]
    pub stopped_at: Option<Timestamp>,
}

impl Consent {
    /// True when nothing is recorded.
    pub fn is_empty(&self) -> bool {
        *self == Consent::default()
    }
}

/// Whether `event` may reach the citizen of `record`: what the law requires always,
/// anything else only with consent and no opt-out.
pub fn allowed(n: &NotifySettings, consent: &Consent, event: NotifyEvent) -> bool {
    n.required.contains(&event) || (consent.given && consent.stopped_at.is_none())
}

fn reachable(dossier: &Dossier, channel: NotifyChannel) -> bool {
    let a = &dossier.applicant;
    match channel {
        NotifyChannel::Email => a.email.as_deref().is_some_and(|e| !e.trim().is_empty()),
        // Landlines (02…) take no text messages.
        NotifyChannel::Sms | NotifyChannel::Zalo => {
            a.phone.as_ref().is_some_and(|p| p.as_str().len() == 10 && !p.as_str().starts_with("02"))
        }
    }
}

/// Queues the messages that history entry `seq` (of `kind`) calls for.
pub fn changed(
    tx: &mut Tx<'_>,
    settings: &Settings,
    dossier: &Dossier,
    consent: &Consent,
    kind: EventType,
    seq: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (Some(n), Some(event)) = (&settings.notify, NotifyEvent::of(kind)) else { return Ok(()) };
    if !allowed(n, consent, event) {
        return Ok(());
    }
    for channel in n.channels_for(event).into_iter().filter(|c| reachable(dossier, *c)) {
        let destination = Destination::Notify(channel.as_str().to_owned());
        outbox::enqueue(tx, destination, JobKind::Notify { event, seq }, &dossier.code, now)?;
    }
    Ok(())
}

fn when(at: Timestamp) -> String {
    crate::forms::words::short_time(at)
}

/// The placeholders' values for history entry `seq` of dossier `d`.
pub fn values(settings: &Settings, n: &NotifySettings, d: &Dossier, seq: u32) -> Vec<(&'static str, String)> {
    let details = d.history.iter().find(|h| h.seq == seq).and_then(|h| h.details.as_ref());
    let text = |key: &str| details.and_then(|x| x.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned();
    let new_appointment = details
        .and_then(|x| x.get("new_appointment"))
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Timestamp>().ok())
        .map(when)
        .unwrap_or_default();
    let items = details
        .and_then(|x| x.get("items"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        .unwrap_or_default();
    let unit = settings.network.unit(&d.target_unit).map_or_else(|| d.target_unit.to_string(), |u| u.name.clone());
    vec![
        ("ho_ten", d.applicant.name.clone()),
        ("ma_ho_so", d.code.to_string()),
        ("ten_thu_tuc", d.procedure.name.clone()),
        ("co_quan", unit),
        ("ngay_tiep_nhan", when(d.received_at)),
        ("ngay_hen_tra", when(d.appointment_at)),
        ("ngay_hen_tra_moi", new_appointment),
        ("ly_do", text("reason")),
        ("giay_to_bo_sung", items),
        ("tra_cuu", n.lookup_url.clone()),
    ]
}

/// The event in words, for the history.
pub fn event_words(event: NotifyEvent) -> &'static str {
    match event {
        NotifyEvent::Received => "đã tiếp nhận hồ sơ",
        NotifyEvent::SupplementRequested => "yêu cầu bổ sung hồ sơ",
        NotifyEvent::Apology => "thư xin lỗi và hẹn lại ngày trả kết quả",
        NotifyEvent::ResultReady => "đã có kết quả",
        NotifyEvent::Returned => "đã trả kết quả",
    }
}

/// The channel in words, for the history and pages.
pub fn channel_words(channel: &str) -> &'static str {
    match channel {
        "email" => "thư điện tử",
        "sms" => "tin nhắn SMS",
        "zalo" => "Zalo",
        _ => "kênh khác",
    }
}
