//! A dossier's fees paid online (docs/PAYMENT.md): opening a payment — an attempt with
//! its own reference, indexed and queued for the platform's `INIT` — and settling it
//! when the platform says how it ended (callback or `QUERY`): paid, the fees marked
//! with the transaction and, when the dossier was waiting on it, the payment received;
//! failed or expired, the attempt closed so that another may be opened.

use jiff::Timestamp;
use motcua_schemas::{EventType, Fee, Status};
use serde_json::json;

use super::events::{self, Change};
use super::record::{DossierRecord, Payment, PaymentState};
use crate::outbox::{self, Destination, JobKind};
use crate::settings::Settings;
use crate::stats;
use crate::store::{StoreError, Tx, keys};

/// Why a payment could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// No payment platform is configured.
    #[error("no payment platform is configured")]
    NotConfigured,
    /// One is open already.
    #[error("a payment of this dossier is open already ({0})")]
    AlreadyOpen(String),
    /// Nothing to pay.
    #[error("the amount must be from 1 to 1,000,000,000,000 đồng")]
    Amount,
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The reference of a new attempt: as one public client builds it, `dvc`, the dossier
/// code's letters and digits, and the time (`yyyyMMddHHmmss`) — a second later while
/// the reference is taken.
fn reference(tx: &Tx<'_>, record: &DossierRecord, now: Timestamp) -> Result<(String, String), StoreError> {
    let code: String = record.dossier.code.as_str().chars().filter(char::is_ascii_alphanumeric).collect();
    let mut at = now;
    for _ in 0..60 {
        let time = motcua_schemas::time::format_portal(at);
        let reference = format!("dvc{code}{time}");
        if tx.get(&keys::payment(&reference))?.is_none() {
            return Ok((reference, time));
        }
        at = at.checked_add(jiff::SignedDuration::from_secs(1)).unwrap_or(at);
    }
    Err(StoreError::Corrupt("no free payment reference in a minute".into()))
}

/// Opens a payment of `amount` for the dossier: the attempt recorded and indexed, its
/// `INIT` queued. Returns its reference.
pub fn open(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    amount: u64,
    now: Timestamp,
) -> Result<String, OpenError> {
    if settings.payment.is_none() {
        return Err(OpenError::NotConfigured);
    }
    if amount == 0 || amount > 1_000_000_000_000 {
        return Err(OpenError::Amount);
    }
    if let Some(open) = record.payments.iter().find(|p| p.state.is_open()) {
        return Err(OpenError::AlreadyOpen(open.reference.clone()));
    }
    let (reference, time) = reference(tx, record, now)?;
    let code = record.dossier.code.as_str().as_bytes().to_vec();
    tx.put(&keys::payment(&reference), code.clone());
    tx.put(&keys::payment_open(&reference), code);
    record.payments.push(Payment {
        reference: reference.clone(),
        amount,
        time,
        opened_at: now,
        state: PaymentState::Opening,
        url: None,
        transaction: None,
        bank: None,
        reason: None,
    });
    let job = JobKind::PaymentInit { reference: reference.clone() };
    outbox::enqueue(tx, Destination::Payment, job, &record.dossier.code, now)?;
    let text = format!("Đã mở giao dịch thanh toán trực tuyến {amount} đồng ({reference})");
    events::note(record, now, text, json!({ "mark": "payment_opened", "reference": reference, "amount": amount }));
    Ok(reference)
}

/// How a payment ended, as the platform says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The platform gave the payment page.
    Opened {
        /// Its URL.
        url: String,
    },
    /// Paid.
    Paid {
        /// `MaGiaoDich`.
        transaction: String,
        /// `MaNganHang`.
        bank: String,
        /// The amount paid.
        amount: u64,
    },
    /// Refused or failed at the platform.
    Failed {
        /// Why.
        reason: String,
    },
    /// Not paid in time.
    Expired,
}

/// What settling did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settled {
    /// The payment changed.
    Changed,
    /// It was in that state already (a repeated callback): nothing changed.
    Repeated,
    /// It has ended otherwise, or the amount is not the one asked for: refused.
    Refused,
}

/// Settles the payment `reference` of the dossier as `how`.
pub fn settle(
    tx: &mut Tx<'_>,
    settings: &Settings,
    record: &mut DossierRecord,
    reference: &str,
    how: Settlement,
    now: Timestamp,
) -> Result<Settled, StoreError> {
    let Some(index) = record.payments.iter().position(|p| p.reference == reference) else {
        return Ok(Settled::Refused);
    };
    let payment = &mut record.payments[index];
    match (&how, payment.state) {
        (Settlement::Paid { transaction, .. }, PaymentState::Paid) => {
            return Ok(if payment.transaction.as_deref() == Some(transaction.as_str()) {
                Settled::Repeated
            } else {
                Settled::Refused
            });
        }
        (Settlement::Paid { amount, .. }, _) if *amount != payment.amount => return Ok(Settled::Refused),
        (Settlement::Opened { .. }, PaymentState::Opening) => {}
        (Settlement::Opened { .. }, _) => return Ok(Settled::Repeated),
        // A payment that expired or failed may still be reported paid: the money
        // was taken, so it counts.
        (Settlement::Paid { .. }, _) => {}
        (_, state) if !state.is_open() => return Ok(Settled::Repeated),
        _ => {}
    }
    let unit = record.dossier.target_unit.clone();
    let today = motcua_schemas::time::to_vn(now).date();
    match how {
        Settlement::Opened { url } => {
            payment.state = PaymentState::Open;
            payment.url = Some(url.clone());
            let text = "Cổng thanh toán đã mở trang thanh toán cho người nộp".to_owned();
            let seq =
                events::note(record, now, text, json!({ "mark": "payment_page", "reference": reference, "url": url }));
            // The portal that submitted it shows the citizen where to pay.
            crate::peers::portal::marked(tx, settings, &record.dossier, seq, now)?;
        }
        Settlement::Paid { transaction, bank, amount } => {
            payment.state = PaymentState::Paid;
            payment.transaction = Some(transaction.clone());
            payment.bank = Some(bank.clone());
            tx.remove(&keys::payment_open(reference));
            mark_fees(record, amount, &transaction);
            stats::update(tx, &unit, today, |s| s.paid_online += 1)?;
            let details = json!({ "reference": reference, "transaction": transaction, "bank": bank, "amount": amount });
            let text = format!("Người nộp đã thanh toán trực tuyến {amount} đồng (mã giao dịch {transaction})");
            if record.dossier.status == Status::FinancialObligation {
                let change = Change::by("paygov", EventType::PaymentReceived, now).note(text).details(details);
                events::transition(tx, settings, record, change, now).map_err(events::into_store_error)?;
            } else {
                events::note(record, now, text, json!({ "mark": "paid_online", "payment": details }));
            }
        }
        Settlement::Failed { reason } => {
            payment.state = PaymentState::Failed;
            payment.reason = Some(reason.clone());
            tx.remove(&keys::payment_open(reference));
            let text = "Giao dịch thanh toán trực tuyến không thành công".to_owned();
            events::note(record, now, text, json!({ "mark": "payment_failed", "reference": reference }));
        }
        Settlement::Expired => {
            payment.state = PaymentState::Expired;
            tx.remove(&keys::payment_open(reference));
            let text = "Giao dịch thanh toán trực tuyến đã hết hạn mà chưa được thanh toán".to_owned();
            events::note(record, now, text, json!({ "mark": "payment_expired", "reference": reference }));
        }
    }
    Ok(Settled::Changed)
}

/// Marks the fees the payment covers: the unpaid fees if they add up to it, else one
/// line for the amount paid.
fn mark_fees(record: &mut DossierRecord, amount: u64, transaction: &str) {
    let fees = &mut record.dossier.fees;
    let unpaid: u64 = fees.iter().filter(|f| !f.paid).map(|f| f.amount).fold(0, u64::saturating_add);
    if unpaid == amount && amount > 0 {
        for fee in fees.iter_mut().filter(|f| !f.paid) {
            fee.paid = true;
            fee.transaction = Some(transaction.to_owned());
        }
    } else {
        fees.push(Fee {
            name: "Nghĩa vụ tài chính theo thông báo của Bộ phận Một cửa".into(),
            amount,
            paid: true,
            transaction: Some(transaction.to_owned()),
        });
    }
}
