//! The dossier life cycle (docs/DOMAIN.md §5): the national portal's status codes
//! `TrangThaiHoSo` 1–10 and the events that move a dossier between them (docs/CONTRACT.md §5).

use serde::{Deserialize, Serialize};

/// A dossier's status, numbered as the national portal numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Status {
    /// 1 — newly registered (the gateway accepted it).
    NewlyRegistered = 1,
    /// 2 — received by the desk.
    Received = 2,
    /// 3 — not received (refused). Final.
    NotReceived = 3,
    /// 4 — processing.
    Processing = 4,
    /// 5 — the applicant is asked to supplement the dossier.
    SupplementRequested = 5,
    /// 6 — the applicant is asked to meet a financial obligation.
    FinancialObligation = 6,
    /// 7 — withdrawn by the applicant. Final.
    Withdrawn = 7,
    /// 8 — processing stopped. Final.
    Stopped = 8,
    /// 9 — processed: the result is ready.
    Processed = 9,
    /// 10 — the result was returned to the applicant. Final.
    Returned = 10,
}

impl Status {
    /// Every status, in code order.
    pub const ALL: [Status; 10] = [
        Status::NewlyRegistered,
        Status::Received,
        Status::NotReceived,
        Status::Processing,
        Status::SupplementRequested,
        Status::FinancialObligation,
        Status::Withdrawn,
        Status::Stopped,
        Status::Processed,
        Status::Returned,
    ];

    /// The national portal's code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status for a national portal code.
    pub fn from_code(code: u8) -> Option<Status> {
        Status::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The Vietnamese name exactly as the national portal seeds it (docs/PEERS.md §1.7).
    pub fn name(self) -> &'static str {
        match self {
            Status::NewlyRegistered => "Mới đăng ký",
            Status::Received => "Được tiếp nhận",
            Status::NotReceived => "Không được tiếp nhận",
            Status::Processing => "Đang xử lý",
            Status::SupplementRequested => "Yêu cầu bổ sung giấy tờ",
            Status::FinancialObligation => "Yêu cầu thực hiện nghĩa vụ tài chính",
            Status::Withdrawn => "Công dân yêu cầu rút hồ sơ",
            Status::Stopped => "Dừng xử lý",
            Status::Processed => "Đã xử lý xong",
            Status::Returned => "Đã trả kết quả",
        }
    }

    /// True for 3, 7, 8 and 10: nothing but an explanation follows.
    pub fn is_final(self) -> bool {
        matches!(self, Status::NotReceived | Status::Withdrawn | Status::Stopped | Status::Returned)
    }

    /// True while the agency owes a result: not final and not yet processed.
    pub fn is_open(self) -> bool {
        !self.is_final() && self != Status::Processed
    }

    /// The desk events allowed from this status, in the order of the contract's table.
    pub fn allowed_events(self) -> Vec<EventType> {
        EventType::DESK.into_iter().filter(|e| e.apply(self).is_ok()).collect()
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u8::deserialize(d)?;
        Status::from_code(code).ok_or_else(|| serde::de::Error::custom(format!("unknown status code {code}")))
    }
}

/// What happens to a dossier: the desk events of docs/CONTRACT.md §5 and the few transitions
/// the gateway itself makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// The gateway accepted the dossier (no status before it).
    Intake,
    /// The desk received the dossier.
    Received,
    /// The desk refused it (`reason`).
    Refused,
    /// Processing started.
    Processing,
    /// The applicant must supplement the dossier (`items`); the agency's clock stops.
    SupplementRequested,
    /// The supplement arrived; the clock resumes or restarts.
    SupplementReceived,
    /// The applicant must pay (`amount`).
    PaymentRequested,
    /// The payment arrived.
    PaymentReceived,
    /// The result is ready (`result_documents`, optional `return_method`).
    ResultReady,
    /// The applicant collected the result at the desk.
    ReturnedAtDesk,
    /// The postal service delivered the result shipment (gateway event).
    PostalDelivered,
    /// The portal accepted an online result (gateway event).
    PortalAccepted,
    /// The applicant withdrew the dossier.
    Withdrawn,
    /// Processing stopped (`reason`).
    Stopped,
    /// An apology with a new appointment (`new_appointment`, `reason`).
    Apology,
    /// An explanation of lateness (`text`).
    Explanation,
    /// Hand-over to another unit's desk (`unit`).
    Forward,
    /// Bookkeeping the gateway records without a status change (routing, marks,
    /// deliveries, flags).
    Note,
}

/// An event that is not allowed from a status; lists what would be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event {event:?} is not allowed from status {} ({})", .from.code(), .from.name())]
pub struct TransitionError {
    /// The refused event.
    pub event: EventType,
    /// The status it was refused from.
    pub from: Status,
}

impl TransitionError {
    /// The desk events that are allowed from the same status.
    pub fn allowed(&self) -> Vec<EventType> {
        self.from.allowed_events()
    }
}

impl EventType {
    /// The events a desk may post, in the order of the contract's table.
    pub const DESK: [EventType; 14] = [
        EventType::Received,
        EventType::Refused,
        EventType::Processing,
        EventType::SupplementRequested,
        EventType::SupplementReceived,
        EventType::PaymentRequested,
        EventType::PaymentReceived,
        EventType::ResultReady,
        EventType::ReturnedAtDesk,
        EventType::Withdrawn,
        EventType::Stopped,
        EventType::Apology,
        EventType::Explanation,
        EventType::Forward,
    ];

    /// The wire name (`supplement_requested`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Intake => "intake",
            EventType::Received => "received",
            EventType::Refused => "refused",
            EventType::Processing => "processing",
            EventType::SupplementRequested => "supplement_requested",
            EventType::SupplementReceived => "supplement_received",
            EventType::PaymentRequested => "payment_requested",
            EventType::PaymentReceived => "payment_received",
            EventType::ResultReady => "result_ready",
            EventType::ReturnedAtDesk => "returned_at_desk",
            EventType::PostalDelivered => "postal_delivered",
            EventType::PortalAccepted => "portal_accepted",
            EventType::Withdrawn => "withdrawn",
            EventType::Stopped => "stopped",
            EventType::Apology => "apology",
            EventType::Explanation => "explanation",
            EventType::Forward => "forward",
            EventType::Note => "note",
        }
    }

    /// True for the events a desk may post.
    pub fn is_desk_event(self) -> bool {
        EventType::DESK.contains(&self)
    }

    /// The status after this event from `from`, or why it is not allowed.
    /// `Intake` is not a transition (it creates status 1) and is refused here.
    pub fn apply(self, from: Status) -> Result<Status, TransitionError> {
        use Status as S;
        let to = match (self, from) {
            (EventType::Received, S::NewlyRegistered) => S::Received,
            (EventType::Refused, S::NewlyRegistered | S::Received) => S::NotReceived,
            (EventType::Processing, S::Received) => S::Processing,
            (EventType::SupplementRequested, S::Received | S::Processing) => S::SupplementRequested,
            (EventType::SupplementReceived, S::SupplementRequested) => S::Processing,
            (EventType::PaymentRequested, S::Received | S::Processing) => S::FinancialObligation,
            (EventType::PaymentReceived, S::FinancialObligation) => S::Processing,
            (EventType::ResultReady, S::Received | S::Processing) => S::Processed,
            (EventType::ReturnedAtDesk | EventType::PostalDelivered | EventType::PortalAccepted, S::Processed) => {
                S::Returned
            }
            (EventType::Withdrawn, s) if !s.is_final() => S::Withdrawn,
            (EventType::Stopped, s) if !s.is_final() => S::Stopped,
            (EventType::Apology, S::Received | S::Processing | S::SupplementRequested | S::FinancialObligation) => from,
            (EventType::Explanation | EventType::Note, s) => s,
            (EventType::Forward, S::Received | S::Processing) => from,
            _ => return Err(TransitionError { event: self, from }),
        };
        Ok(to)
    }
}

impl std::str::FromStr for EventType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::DESK.into_iter().find(|e| e.as_str() == s).ok_or_else(|| format!("unknown event type {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType as E;
    use Status as S;

    /// The contract's table, row by row: (event, allowed from, to or None for unchanged).
    fn table() -> Vec<(EventType, Vec<Status>, Option<Status>)> {
        let non_final: Vec<Status> = S::ALL.into_iter().filter(|s| !s.is_final()).collect();
        vec![
            (E::Received, vec![S::NewlyRegistered], Some(S::Received)),
            (E::Refused, vec![S::NewlyRegistered, S::Received], Some(S::NotReceived)),
            (E::Processing, vec![S::Received], Some(S::Processing)),
            (E::SupplementRequested, vec![S::Received, S::Processing], Some(S::SupplementRequested)),
            (E::SupplementReceived, vec![S::SupplementRequested], Some(S::Processing)),
            (E::PaymentRequested, vec![S::Received, S::Processing], Some(S::FinancialObligation)),
            (E::PaymentReceived, vec![S::FinancialObligation], Some(S::Processing)),
            (E::ResultReady, vec![S::Received, S::Processing], Some(S::Processed)),
            (E::ReturnedAtDesk, vec![S::Processed], Some(S::Returned)),
            (E::PostalDelivered, vec![S::Processed], Some(S::Returned)),
            (E::PortalAccepted, vec![S::Processed], Some(S::Returned)),
            (E::Withdrawn, non_final.clone(), Some(S::Withdrawn)),
            (E::Stopped, non_final, Some(S::Stopped)),
            (E::Apology, vec![S::Received, S::Processing, S::SupplementRequested, S::FinancialObligation], None),
            (E::Explanation, S::ALL.to_vec(), None),
            (E::Forward, vec![S::Received, S::Processing], None),
        ]
    }

    #[test]
    fn every_event_from_every_status_matches_the_contract_table() {
        for (event, from, to) in table() {
            for status in S::ALL {
                let got = event.apply(status);
                if from.contains(&status) {
                    assert_eq!(got, Ok(to.unwrap_or(status)), "{event:?} from {status:?}");
                } else {
                    assert!(got.is_err(), "{event:?} must be refused from {status:?}");
                }
            }
        }
    }

    #[test]
    fn finals_allow_only_explanations() {
        for status in S::ALL.into_iter().filter(|s| s.is_final()) {
            assert_eq!(status.allowed_events(), vec![E::Explanation], "{status:?}");
        }
        assert_eq!([S::NotReceived, S::Withdrawn, S::Stopped, S::Returned].map(S::is_final), [true; 4]);
    }

    #[test]
    fn allowed_events_from_newly_registered() {
        assert_eq!(
            S::NewlyRegistered.allowed_events(),
            vec![E::Received, E::Refused, E::Withdrawn, E::Stopped, E::Explanation]
        );
        let err = E::ResultReady.apply(S::NewlyRegistered).unwrap_err();
        assert_eq!(err.allowed(), S::NewlyRegistered.allowed_events());
    }

    #[test]
    fn codes_names_and_wire_forms() {
        for (i, status) in S::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(status.code()), i + 1);
            assert_eq!(S::from_code(status.code()), Some(status));
            assert!(!status.name().is_empty());
        }
        assert_eq!(S::from_code(0), None);
        assert_eq!(S::from_code(11), None);
        assert_eq!(serde_json::to_string(&S::Processed).unwrap(), "9");
        for event in E::DESK {
            assert_eq!(event.as_str().parse::<EventType>(), Ok(event));
            assert_eq!(serde_json::to_string(&event).unwrap(), format!("\"{}\"", event.as_str()));
        }
        assert!("intake".parse::<EventType>().is_err());
    }
}
