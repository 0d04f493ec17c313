//! Citizens told of their dossiers (docs/NOTIFY.md): which events reach which
//! channels, the consent that decides it, the job queued with the change that causes
//! it, and the message written and sent when the job is delivered. The citizen's
//! address and number are read from the dossier at delivery and never logged.

use jiff::Timestamp;
use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::{EventType, NotifyEvent};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dossiers::{DossierRecord, effects::Effect};
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
pub fn allowed(n: &NotifySettings, record: &DossierRecord, event: NotifyEvent) -> bool {
    n.required.contains(&event) || (record.notify.given && record.notify.stopped_at.is_none())
}

fn reachable(record: &DossierRecord, channel: NotifyChannel) -> bool {
    let a = &record.dossier.applicant;
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
    record: &DossierRecord,
    kind: EventType,
    seq: u32,
    now: Timestamp,
) -> Result<(), StoreError> {
    let (Some(n), Some(event)) = (&settings.notify, NotifyEvent::of(kind)) else { return Ok(()) };
    if !allowed(n, record, event) {
        return Ok(());
    }
    for channel in n.channels_for(event).into_iter().filter(|c| reachable(record, *c)) {
        let destination = Destination::Notify(channel.as_str().to_owned());
        outbox::enqueue(tx, destination, JobKind::Notify { event, seq }, &record.dossier.code, now)?;
    }
    Ok(())
}

fn when(at: Timestamp) -> String {
    crate::forms::words::short_time(at)
}

/// The placeholders' values for history entry `seq` of `record`.
pub fn values(
    settings: &Settings,
    n: &NotifySettings,
    record: &DossierRecord,
    seq: u32,
) -> Vec<(&'static str, String)> {
    let d = &record.dossier;
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

/// Writes and sends the message of `event` (entry `seq`) by the job's channel.
pub async fn deliver(
    settings: &Settings,
    destination: &Destination,
    record: &DossierRecord,
    event: NotifyEvent,
    seq: u32,
) -> (CallOutcome, Effect) {
    let gone = |reason: &str| (CallOutcome::Rejected { reason: reason.to_owned() }, Effect::None);
    let Some(n) = &settings.notify else { return gone("notifications are no longer configured") };
    let Some(channel) = NotifyChannel::of_destination(&destination.name()) else { return gone("not a notification") };
    if !allowed(n, record, event) {
        // The citizen said no after the message was queued: nothing is sent.
        return (CallOutcome::Accepted { status: 204, body: Default::default() }, Effect::None);
    }
    let values = values(settings, n, record, seq);
    let plain = |t: &str| motcua_adapters::notify::render(t, &values, str::to_owned);
    let words = n.templates.get(&event);
    let a = &record.dossier.applicant;
    let code = record.dossier.code.as_str();
    let outcome = match channel {
        NotifyChannel::Email => {
            let (Some((sender, _)), Some(t), Some(to)) = (&n.email, words, a.email.as_deref()) else {
                return gone("no e-mail account, words or address for this message");
            };
            let (Some(subject), Some(body)) = (&t.subject, &t.email) else { return gone("no e-mail words") };
            sender.send(to, &plain(subject), plain(body)).await
        }
        NotifyChannel::Sms => {
            let (Some((provider, _)), Some(text), Some(phone)) =
                (&n.sms, words.and_then(|t| t.sms.as_ref()), a.phone.as_ref())
            else {
                return gone("no SMS provider, words or number for this message");
            };
            provider.send(phone.as_str(), &plain(text), code).await
        }
        NotifyChannel::Zalo => {
            let (Some((oa, _, templates)), Some(phone)) = (&n.zalo, a.phone.as_ref()) else {
                return gone("no Zalo account or number for this message");
            };
            let Some(template) = templates.get(&event) else { return gone("no Zalo template for this event") };
            let data = template.data.iter().map(|(k, v)| (k.clone(), Value::from(plain(v)))).collect();
            oa.send(phone.as_str(), &template.id, data, &format!("{code}-{seq}")).await
        }
    };
    let effect = match &outcome {
        CallOutcome::Accepted { .. } => Effect::Notified { event, channel: channel.as_str().to_owned() },
        _ => Effect::None,
    };
    (outcome, effect)
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
