//! The customer's tracking feed (docs/PEERS.md §2.5): pages of events after a
//! 24-hex-digit `lastId`, read until a page comes back short.

use serde_json::Value;

/// The `lastId` of the first call.
pub const FIRST_ID: &str = "000000000000000000000000";

/// One tracking event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingEvent {
    /// `_id.$oid`: the feed's position.
    pub id: String,
    /// `OrderNumber`.
    pub order_number: String,
    /// `ItemCode`.
    pub item_code: String,
    /// `StatusCode`.
    pub status_code: i64,
    /// `StatusMessage`.
    pub message: String,
    /// `EventTime`, epoch milliseconds.
    pub event_time_ms: i64,
    /// `POSID`: the post office.
    pub pos_id: String,
    /// `Notes`.
    pub notes: String,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingPage {
    /// Its events, in feed order.
    pub events: Vec<TrackingEvent>,
}

/// True for a feed position: 24 hexadecimal digits.
pub fn valid_id(id: &str) -> bool {
    id.len() == 24 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn number(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a page. An event without a valid `_id` or `OrderNumber` makes the page
/// unreadable: skipping it would move the cursor past an event never applied.
pub fn parse_page(body: &[u8]) -> Result<TrackingPage, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("the feed is not JSON: {e}"))?;
    let docs = match value.get("_embedded").and_then(|e| e.get("rh:doc")) {
        Some(Value::Array(docs)) => docs.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err("_embedded.rh:doc is not a list".into()),
    };
    let mut events = Vec::with_capacity(docs.len());
    for (i, doc) in docs.iter().enumerate() {
        let id = doc.get("_id").and_then(|id| id.get("$oid")).and_then(Value::as_str).unwrap_or_default();
        if !valid_id(id) {
            return Err(format!("event {i} has no 24-hex _id.$oid"));
        }
        let order_number = text(doc, "OrderNumber");
        let status_code = number(doc, "StatusCode");
        let (false, Some(status_code)) = (order_number.is_empty(), status_code) else {
            return Err(format!("event {id} has no OrderNumber or StatusCode"));
        };
        events.push(TrackingEvent {
            id: id.to_ascii_lowercase(),
            order_number,
            item_code: text(doc, "ItemCode"),
            status_code,
            message: text(doc, "StatusMessage"),
            event_time_ms: number(doc, "EventTime").unwrap_or(0),
            pos_id: text(doc, "POSID"),
            notes: text(doc, "Notes"),
        });
    }
    Ok(TrackingPage { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_in_order_and_a_broken_event_refuses_it() {
        let page = br#"{"_size":2,"_returned":2,"_embedded":{"rh:doc":[
            {"_id":{"$oid":"65a000000000000000000001"},"CustomerCode":"C","OrderNumber":"A","EventTime":1790000000000,"ItemCode":"EE123456785VN","StatusCode":4,"StatusMessage":"Phat thanh cong"},
            {"_id":{"$oid":"65a000000000000000000002"},"OrderNumber":"B","StatusCode":"7"}]}}"#;
        let parsed = parse_page(page).unwrap();
        assert_eq!(parsed.events.len(), 2);
        assert_eq!(parsed.events[0].status_code, 4);
        assert_eq!(parsed.events[1].status_code, 7);
        assert!(
            parse_page(br#"{"_embedded":{"rh:doc":[{"_id":{"$oid":"x"},"OrderNumber":"A","StatusCode":4}]}}"#).is_err()
        );
        assert_eq!(parse_page(br#"{"_returned":0}"#).unwrap().events.len(), 0);
    }
}
