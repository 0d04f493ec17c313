//! `Notify`: one message to the applicant by the job's channel, written from the
//! configured words and the dossier as it is now (`crate::notify`).

use motcua_adapters::outbound::CallOutcome;
use motcua_schemas::NotifyEvent;
use serde_json::Value;

use super::Call;
use crate::dossiers::effects::Effect;
use crate::notify::{allowed, values};
use crate::outbox::Destination;
use crate::settings::notify::NotifyChannel;

/// Writes and sends the message of `event` (entry `seq`) by the job's channel.
pub async fn send(call: &Call<'_>, destination: &Destination, event: NotifyEvent, seq: u32) -> (CallOutcome, Effect) {
    let (settings, record) = (call.core.settings(), call.record);
    let gone = |reason: &str| (CallOutcome::Rejected { reason: reason.to_owned() }, Effect::None);
    let Some(n) = &settings.notify else { return gone("notifications are no longer configured") };
    let Some(channel) = NotifyChannel::of_destination(&destination.name()) else { return gone("not a notification") };
    if !allowed(n, &record.notify, event) {
        // The citizen said no after the message was queued: nothing is sent.
        return (CallOutcome::Accepted { status: 204, body: Default::default() }, Effect::None);
    }
    let values = values(&settings, n, &record.dossier, seq);
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
