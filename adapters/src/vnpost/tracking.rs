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
    /// `EventTime`, as sent (epoch milliseconds in public code; the unit is a setting).
    pub event_time: i64,
    /// `POSID`: the post office.
    pub pos_id: String,
    /// `Notes`.
    pub notes: String,
}

/// Longest text of an event's fields the gateway takes (VNPost's messages are a
/// line): an event with a longer one is refused, never stored.
pub const MAX_FIELD_CHARS: usize = 1000;

/// One entry of a page: the event, or why it cannot be read, with what it was.
#[derive(Debug, Clone, PartialEq)]
pub struct PageItem {
    /// Its feed position, when it has a valid one.
    pub id: Option<String>,
    /// The event, or why it is not one the gateway can take.
    pub event: Result<TrackingEvent, String>,
    /// The entry as it came, its over-long texts cut (to keep it aside).
    pub raw: Value,
}

/// A page of the feed.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackingPage {
    /// Its entries, in feed order.
    pub items: Vec<PageItem>,
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

const TEXT_FIELDS: [&str; 5] = ["OrderNumber", "ItemCode", "StatusMessage", "POSID", "Notes"];

/// `doc` with its over-long texts cut to [`MAX_FIELD_CHARS`] (marked with `…`).
fn cut(doc: &Value) -> Value {
    let mut doc = doc.clone();
    if let Some(obj) = doc.as_object_mut() {
        for value in obj.values_mut() {
            if let Value::String(s) = value
                && let Some((at, _)) = s.char_indices().nth(MAX_FIELD_CHARS)
            {
                *s = format!("{}…", &s[..at]);
            }
        }
    }
    doc
}

/// Reads one entry of the feed.
pub fn parse_event(doc: &Value) -> Result<TrackingEvent, String> {
    let id = doc.get("_id").and_then(|id| id.get("$oid")).and_then(Value::as_str).unwrap_or_default();
    if !valid_id(id) {
        return Err("the event has no 24-hex _id.$oid".into());
    }
    for key in TEXT_FIELDS {
        if text(doc, key).chars().count() > MAX_FIELD_CHARS {
            return Err(format!("{key} is longer than {MAX_FIELD_CHARS} characters"));
        }
    }
    let order_number = text(doc, "OrderNumber");
    let Some(status_code) = number(doc, "StatusCode") else { return Err("the event has no StatusCode".into()) };
    if order_number.is_empty() {
        return Err("the event has no OrderNumber".into());
    }
    let Some(event_time) = number(doc, "EventTime") else { return Err("the event has no EventTime".into()) };
    Ok(TrackingEvent {
        id: id.to_ascii_lowercase(),
        order_number,
        item_code: text(doc, "ItemCode"),
        status_code,
        message: text(doc, "StatusMessage"),
        event_time,
        pos_id: text(doc, "POSID"),
        notes: text(doc, "Notes"),
    })
}

/// Reads a page; an entry the gateway cannot take is an item of its own (with why),
/// never a reason to refuse the page, so that it can be set aside and the feed goes on.
pub fn parse_page(body: &[u8]) -> Result<TrackingPage, String> {
    let value: Value = crate::json::value(body, crate::json::ANSWER_DEPTH)
        .map_err(|e| format!("the feed is not one JSON document with unique keys: {e}"))?;
    let docs = match value.get("_embedded").and_then(|e| e.get("rh:doc")) {
        Some(Value::Array(docs)) => docs.as_slice(),
        None | Some(Value::Null) => &[],
        Some(_) => return Err("_embedded.rh:doc is not a list".into()),
    };
    let items = docs
        .iter()
        .map(|doc| {
            let id = doc.get("_id").and_then(|id| id.get("$oid")).and_then(Value::as_str);
            PageItem {
                id: id.filter(|id| valid_id(id)).map(str::to_ascii_lowercase),
                event: parse_event(doc),
                raw: cut(doc),
            }
        })
        .collect();
    Ok(TrackingPage { items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_read_in_order_and_a_broken_event_is_an_item_of_its_own() {
        let page = br#"{"_size":2,"_returned":2,"_embedded":{"rh:doc":[
            {"_id":{"$oid":"65a000000000000000000001"},"CustomerCode":"C","OrderNumber":"A","EventTime":1790000000000,"ItemCode":"EE123456785VN","StatusCode":4,"StatusMessage":"Phat thanh cong"},
            {"_id":{"$oid":"65a000000000000000000002"},"OrderNumber":"B","StatusCode":"7"}]}}"#;
        let parsed = parse_page(page).unwrap();
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[0].event.as_ref().unwrap().status_code, 4);
        assert_eq!(parsed.items[1].event, Err("the event has no EventTime".into()));
        assert_eq!(parsed.items[1].id.as_deref(), Some("65a000000000000000000002"));
        let broken =
            parse_page(br#"{"_embedded":{"rh:doc":[{"_id":{"$oid":"x"},"OrderNumber":"A","StatusCode":4}]}}"#).unwrap();
        assert!(broken.items[0].event.is_err() && broken.items[0].id.is_none());
        assert_eq!(parse_page(br#"{"_returned":0}"#).unwrap().items.len(), 0);
        let long = format!(
            r#"{{"_embedded":{{"rh:doc":[{{"_id":{{"$oid":"65a000000000000000000003"}},"OrderNumber":"A","StatusCode":4,"EventTime":1,"StatusMessage":"{}"}}]}}}}"#,
            "x".repeat(90_000)
        );
        let long = parse_page(long.as_bytes()).unwrap();
        assert!(long.items[0].event.as_ref().unwrap_err().contains("StatusMessage"));
        assert!(long.items[0].raw["StatusMessage"].as_str().unwrap().chars().count() <= MAX_FIELD_CHARS + 1);
    }
}
