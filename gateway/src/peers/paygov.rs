//! The national payment platform (docs/PAYMENT.md): a payment's `INIT` as a job, the
//! platform's confirmation callback — its signature checked before anything is looked
//! up, then the reference, the partner and the amount — and the poller that asks
//! (`QUERY`) after payments whose callback never came, and lets the unpaid ones expire.

use motcua_adapters::outbound::CallOutcome;
use motcua_adapters::paygov::{Confirmation, FeeLine, Init, InitCodes, PaygovOutcome, QueryState, Receipt};
use motcua_schemas::DossierCode;
use serde_json::Value;
use tokio::sync::watch;

use crate::core::Core;
use crate::dossiers::payments::{self, Settled, Settlement};
use crate::dossiers::{DossierRecord, effects::Effect, record::PaymentState};
use crate::settings::{Settings, payment::PaymentSettings};
use crate::store::{StoreError, keys};

/// Open payments asked after per round, at most.
const ASKED_PER_ROUND: usize = 200;
/// Open payments whose age a scrape of the metrics looks at.
const LOOKED_AT_PER_SCRAPE: usize = 1_000;

/// The `INIT` of payment `reference` of `record`.
fn init(
    settings: &Settings,
    payment: &PaymentSettings,
    record: &DossierRecord,
    reference: &str,
) -> Result<Init, String> {
    let d = &record.dossier;
    let p = record
        .payments
        .iter()
        .find(|p| p.reference == reference)
        .ok_or_else(|| format!("the dossier has no payment {reference}"))?;
    let account = payment
        .account(&settings.network, &d.target_unit)
        .ok_or_else(|| format!("no account receives the fees of unit {} ([[payment.accounts]])", d.target_unit))?;
    let unit_name = settings.network.unit(&d.target_unit).map_or_else(String::new, |u| u.name.clone());
    let service_code = format!("{}{}", d.procedure.code, payment.codes.service_suffix);
    let description = format!("THANH TOAN HO SO {}", d.code);
    let address = d.applicant.address.as_ref().map(|a| a.detail.clone()).unwrap_or_default();
    Ok(Init {
        reference: p.reference.clone(),
        amount: p.amount,
        time: p.time.clone(),
        description: description.clone(),
        codes: InitCodes {
            payment_kind: "PAY".into(),
            channel: payment.codes.channel.clone(),
            device: payment.codes.device.clone(),
            language: payment.codes.language.clone(),
            currency: "VND".into(),
            bank: payment.codes.bank.clone(),
            ip: payment.ip.clone(),
            service: payment.codes.service.clone(),
        },
        receipt: Receipt {
            service_code: service_code.clone(),
            procedure_name: d.procedure.name.clone(),
            procedure_code: d.procedure.code.to_string(),
            unit_code: record
                .portal
                .extra
                .get("MaDonViXuLy")
                .and_then(Value::as_str)
                .map_or_else(|| d.target_unit.to_string(), str::to_owned),
            unit_name,
            dossier: record.portal.origin_code.clone().unwrap_or_else(|| d.code.to_string()),
            account: account.account.clone(),
            account_bank: account.bank_code.clone(),
            account_name: account.name.clone(),
            payer: d.applicant.name.clone(),
            payer_id: d.applicant.id_number.clone(),
            payer_address: address,
        },
        fees: vec![FeeLine {
            kind: payment.codes.fee_kind.clone(),
            code: service_code,
            name: description,
            amount: p.amount,
        }],
    })
}

/// Sends the `INIT` of payment `reference`: the payment page, or a refusal recorded on
/// the dossier (the attempt fails; another may be opened).
pub async fn open(core: &Core, record: &DossierRecord, reference: &str) -> (CallOutcome, Effect) {
    let settings = core.settings();
    let outbound = core.outbound();
    let (Some(payment), Some(client)) = (settings.payment.as_ref(), outbound.paygov()) else {
        return (CallOutcome::Rejected { reason: "no payment platform is configured".into() }, Effect::None);
    };
    let message = match init(&settings, payment, record, reference) {
        Ok(m) => m,
        Err(reason) => return (CallOutcome::Rejected { reason }, Effect::None),
    };
    let reference = reference.to_owned();
    match client.init(&message).await {
        PaygovOutcome::Answered(url) => {
            let accepted = CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() };
            (accepted, Effect::Payment { reference, settlement: Settlement::Opened { url } })
        }
        PaygovOutcome::Failed(CallOutcome::Rejected { reason }) => {
            let accepted = CallOutcome::Accepted { status: 200, body: bytes::Bytes::new() };
            (accepted, Effect::Payment { reference, settlement: Settlement::Failed { reason } })
        }
        PaygovOutcome::Failed(other) => (other, Effect::None),
    }
}

/// Why a callback was refused (the metric's label; the reply is the platform's `99`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a callback.
    Malformed,
    /// Another partner's, or a signature that is not the partner's.
    Signature,
    /// No payment of that reference.
    Unknown,
    /// The amount is not the one asked for, or the payment ended otherwise.
    Mismatch,
}

impl Refusal {
    /// The label.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::Signature => "signature",
            Refusal::Unknown => "unknown",
            Refusal::Mismatch => "mismatch",
        }
    }
}

/// What a callback came to: the reply to give, and the refusal if there was one.
pub struct Answer {
    /// The platform's reply shape.
    pub reply: Value,
    /// Why it was refused, if it was.
    pub refused: Option<Refusal>,
}

fn refuse(confirmation: Option<&Confirmation>, why: Refusal) -> Answer {
    let reply = match confirmation {
        Some(c) => c.reply(false),
        None => serde_json::json!({ "MaLoi": "99", "MoTaLoi": "Các lỗi khác" }),
    };
    Answer { reply, refused: Some(why) }
}

/// Takes a confirmation callback: the signature first (constant time, the partner's
/// secret), then the payment it names, then its amount. A repeat changes nothing.
pub async fn confirm(core: &Core, body: &[u8]) -> Result<Answer, StoreError> {
    let settings = core.settings();
    let Some(payment) = settings.payment.as_ref() else { return Ok(refuse(None, Refusal::Unknown)) };
    let Some(c) = Confirmation::read(body) else { return Ok(refuse(None, Refusal::Malformed)) };
    if c.partner != payment.partner.code || !c.signed_by(&payment.partner.secret) {
        return Ok(refuse(Some(&c), Refusal::Signature));
    }
    let how = if c.result == "00" {
        let Some(amount) = c.amount else { return Ok(refuse(Some(&c), Refusal::Malformed)) };
        if c.currency != "VND" || c.transaction.is_empty() {
            return Ok(refuse(Some(&c), Refusal::Malformed));
        }
        Settlement::Paid { transaction: c.transaction.clone(), bank: c.bank.clone(), amount }
    } else {
        Settlement::Failed { reason: format!("MaLoi {}", c.result) }
    };
    let paid = matches!(how, Settlement::Paid { .. });
    let settled = settle(core, c.reference.clone(), how).await?;
    Ok(match settled {
        None => refuse(Some(&c), Refusal::Unknown),
        Some(Settled::Refused) => refuse(Some(&c), Refusal::Mismatch),
        // A failure is recorded, and answered as public code answers it.
        Some(_) => Answer { reply: c.reply(paid), refused: None },
    })
}

/// Settles payment `reference` in one store command; `None` when no dossier has it.
async fn settle(core: &Core, reference: String, how: Settlement) -> Result<Option<Settled>, StoreError> {
    let settings = core.settings();
    let now = core.clock.now();
    core.store
        .write(move |tx| -> Result<Option<Settled>, StoreError> {
            let Some(code) = tx.get(&keys::payment(&reference))? else { return Ok(None) };
            let code: DossierCode = String::from_utf8(code)
                .ok()
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| StoreError::Corrupt(format!("payment {reference} names no dossier")))?;
            let Some(mut record) = DossierRecord::load(tx, &code)? else { return Ok(None) };
            let settled = payments::settle(tx, &settings, &mut record, &reference, how, now)?;
            if settled == Settled::Changed {
                record.save(tx, &settings, now)?;
            }
            Ok(Some(settled))
        })
        .await?
}

/// The first `limit` open payments: reference and dossier.
fn open_payments(core: &Core, limit: usize) -> Result<Vec<(String, DossierCode)>, StoreError> {
    let prefix = keys::payments_open();
    let mut out = Vec::new();
    for entry in core.store.scan_prefix(&prefix).take(limit) {
        let (key, value) = entry?;
        let reference = String::from_utf8_lossy(key.after(&prefix)).into_owned();
        if let Some(code) = String::from_utf8(value).ok().and_then(|c| c.parse().ok()) {
            out.push((reference, code));
        }
    }
    Ok(out)
}

/// How many payments are open, and how many of those are older than their life plus two
/// query rounds (the round should have settled or expired them): read at scrape time.
/// Only the first [`LOOKED_AT_PER_SCRAPE`] open payments are loaded to tell their age.
pub fn open_counts(core: &Core) -> Result<(usize, usize), StoreError> {
    let settings = core.settings();
    let Some(payment) = settings.payment.as_ref() else { return Ok((0, 0)) };
    let prefix = keys::payments_open();
    let open = core.store.count_prefix(&prefix)?;
    let life = payment.expires_after.saturating_add(payment.query_every.saturating_mul(2));
    let life = jiff::SignedDuration::try_from(life).unwrap_or(jiff::SignedDuration::MAX);
    let now = core.clock.now();
    let mut past_life = 0;
    for (reference, code) in open_payments(core, LOOKED_AT_PER_SCRAPE)? {
        let Some(record): Option<DossierRecord> = core.store.get_json(&keys::dossier(code.as_str()))? else { continue };
        let stale = record.payments.iter().any(|p| {
            p.reference == reference && p.state == PaymentState::Open && now.duration_since(p.opened_at) > life
        });
        past_life += usize::from(stale);
    }
    Ok((open, past_life))
}

/// One round: asks after each open payment past its wait; one past its life expires.
pub async fn round(core: &Core) -> Result<usize, StoreError> {
    let settings = core.settings();
    let outbound = core.outbound();
    let (Some(payment), Some(client)) = (settings.payment.as_ref(), outbound.paygov()) else { return Ok(0) };
    let now = core.clock.now();
    let open = open_payments(core, ASKED_PER_ROUND)?;
    let mut settled = 0;
    for (reference, code) in open {
        let Some(record): Option<DossierRecord> = core.store.get_json(&keys::dossier(code.as_str()))? else { continue };
        let Some(p) = record.payments.iter().find(|p| p.reference == reference) else { continue };
        let age = now.duration_since(p.opened_at);
        if p.state != PaymentState::Open
            || age < jiff::SignedDuration::try_from(payment.query_after).unwrap_or_default()
        {
            continue;
        }
        let how = match client.query(&reference, &p.time).await {
            PaygovOutcome::Answered(QueryState::Paid { transaction, bank, amount }) => {
                Settlement::Paid { transaction, bank, amount: amount.unwrap_or(p.amount) }
            }
            PaygovOutcome::Answered(QueryState::Failed) => Settlement::Failed { reason: "TrangThaiGD 4".into() },
            PaygovOutcome::Answered(QueryState::Pending) | PaygovOutcome::Failed(_)
                if age > jiff::SignedDuration::try_from(payment.expires_after).unwrap_or_default() =>
            {
                Settlement::Expired
            }
            PaygovOutcome::Answered(QueryState::Pending) => continue,
            PaygovOutcome::Failed(outcome) => {
                let reason = match outcome {
                    CallOutcome::Retry { reason, .. } | CallOutcome::Rejected { reason } => reason,
                    CallOutcome::Accepted { .. } => String::new(),
                };
                let cause = motcua_adapters::outbound::loggable_cause(&reason).to_owned();
                tracing::warn!(%cause, "a payment could not be asked after; asked again next round");
                continue;
            }
        };
        if settle(core, reference, how).await? == Some(Settled::Changed) {
            settled += 1;
        }
    }
    Ok(settled)
}

/// Starts the poller, supervised, when fees are paid online.
pub fn start(core: Core, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    let (tasks, panics) = (core.tasks.clone(), core.metrics.task_panics.clone());
    let stop = shutdown.clone();
    crate::supervise::spawn("payment_query", tasks, panics, stop, move || {
        let (core, shutdown) = (core.clone(), shutdown.clone());
        async move { run(core, shutdown).await }
    })
}

async fn run(core: Core, mut shutdown: watch::Receiver<bool>) {
    loop {
        let every = core.settings().payment.as_ref().map_or(std::time::Duration::from_secs(60), |p| p.query_every);
        match round(&core).await {
            Ok(n) if n > 0 => tracing::info!(settled = n, "payments settled by asking the platform"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the payments could not be asked after"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// When a payment of `record` is open, its page.
pub fn open_page(record: &DossierRecord) -> Option<&str> {
    record.payments.iter().rev().find(|p| p.state == PaymentState::Open).and_then(|p| p.url.as_deref())
}
