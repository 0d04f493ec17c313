//! An order (`MOrder`, docs/PEERS.md §2.2) and how its answer is read: the sender and
//! receiver blocks with VNPost's own province and district numbers, `CODAmount`, the
//! contents line, an optional pre-issued `ItemCode`; success is `Status` 100 or 101,
//! anything else is retried or given up as configuration says.

use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Which way an order carries papers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From the applicant's home to the desk (thu gom hồ sơ tại nhà).
    Collection,
    /// From the desk to the applicant (trả kết quả tại nhà), letters included.
    Return,
}

/// One end of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderParty {
    /// Name.
    pub name: String,
    /// Street address.
    pub address: String,
    /// Telephone.
    pub tel: String,
    /// E-mail, if known.
    pub email: Option<String>,
    /// VNPost's province number.
    pub province: i64,
    /// VNPost's district number (0 when unknown: optional for the receiver).
    pub district: i64,
    /// VNPost's ward identifier, sent where orders carry wards.
    pub ward: Option<Value>,
}

/// What an order says.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    /// `CustomerCode`.
    pub customer_code: String,
    /// `OrderNumber`.
    pub order_number: String,
    /// The pre-issued waybill code, where the operator issues them.
    pub item_code: Option<String>,
    /// Sender.
    pub sender: OrderParty,
    /// Receiver.
    pub receiver: OrderParty,
    /// Cash to collect on delivery, in đồng.
    pub cod_amount: u64,
    /// The contents line (`SenderDesc`).
    pub contents: String,
    /// `Description`.
    pub description: String,
    /// The fields naming the sender's and the receiver's ward, where orders carry
    /// wards (docs/POST.md, "Wards").
    pub ward_fields: Option<(String, String)>,
    /// Fixed fields (`FlagConfig`, …), never replacing one written above.
    pub constants: Map<String, Value>,
}

impl OrderRequest {
    /// The JSON body, with VNPost's field names and types.
    pub fn body(&self) -> Value {
        let (s, r) = (&self.sender, &self.receiver);
        let mut body = json!({
            "CustomerCode": self.customer_code,
            "OrderNumber": self.order_number,
            "CODAmount": self.cod_amount,
            "SenderProvince": s.province,
            "SenderDistrict": s.district,
            "SenderAddress": s.address,
            "SenderName": s.name,
            "SenderEmail": s.email.clone().unwrap_or_default(),
            "SenderTel": s.tel,
            "SenderDesc": self.contents,
            "Description": self.description,
            "ReceiverName": r.name,
            "ReceiverAddress": r.address,
            "ReceiverTel": r.tel,
            "ReceiverProvince": r.province,
            "ReceiverDistrict": r.district,
            "ReceiverEmail": r.email.clone().unwrap_or_default(),
        });
        if let Some(item) = &self.item_code {
            body["ItemCode"] = item.clone().into();
        }
        if let (Some((sender, receiver)), Value::Object(fields)) = (&self.ward_fields, &mut body) {
            fields.insert(sender.clone(), s.ward.clone().unwrap_or_default());
            fields.insert(receiver.clone(), r.ward.clone().unwrap_or_default());
        }
        if let Value::Object(fields) = &mut body {
            for (key, value) in &self.constants {
                fields.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
        body
    }
}

/// The contents line of an order, as OpenCPS writes it (docs/PEERS.md §2.2).
pub fn contents(code: &str, procedure: &str, first_part: &str, direction: Direction, id_number: &str) -> String {
    let service = match direction {
        Direction::Collection => "Thu gom hồ sơ tại nhà",
        Direction::Return => "Trả hồ sơ tại nhà",
    };
    format!(
        "Mã hồ sơ: {code}||Tên thủ tục: {procedure}||Thành phần hồ sơ 1: {first_part}||Tên dịch vụ: {service}||CMND: {id_number}"
    )
}

/// What a `Status` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderVerdict {
    /// Done.
    Success,
    /// Try again later.
    Retry,
    /// Give up.
    Permanent,
}

/// A row of the status table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRule {
    /// The `Status`.
    pub status: i64,
    /// What it means.
    pub verdict: OrderVerdict,
}

/// How answers are read: 100 and 101 are success; the rules say what other codes
/// mean; any other is `otherwise`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRules {
    /// Rules for codes other than 100 and 101.
    pub rules: Vec<StatusRule>,
    /// What an unnamed code means.
    pub otherwise: OrderVerdict,
}

impl Default for StatusRules {
    fn default() -> Self {
        StatusRules { rules: Vec::new(), otherwise: OrderVerdict::Permanent }
    }
}

/// An answer read: the `Status` (as a number, whether sent as one or as a string),
/// what it means, and `Status <n>: <Message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// The status, if the answer had one.
    pub status: Option<i64>,
    /// What it means.
    pub verdict: OrderVerdict,
    /// `Status <n>: <message>`.
    pub reason: String,
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v)
}

impl StatusRules {
    /// Reads an HTTP 2xx answer `{"Status": …, "Message": …}`.
    pub fn judge(&self, body: &[u8]) -> Judged {
        let obj = crate::json::answer(body).and_then(|v| v.as_object().cloned()).unwrap_or_default();
        let status = match field(&obj, "Status") {
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let message = field(&obj, "Message").and_then(Value::as_str).unwrap_or_default();
        let message: String = message.chars().take(200).collect();
        let Some(status) = status else {
            return Judged {
                status: None,
                verdict: OrderVerdict::Retry,
                reason: "unreadable answer: no Status".into(),
            };
        };
        // 100 is "created"; 101 is taken as sent by one integration, meaning unknown,
        // so a rule may say otherwise.
        let verdict = match status {
            100 => OrderVerdict::Success,
            other => self
                .rules
                .iter()
                .find(|r| r.status == other)
                .map_or(if other == 101 { OrderVerdict::Success } else { self.otherwise }, |r| r.verdict),
        };
        Judged { status: Some(status), verdict, reason: format!("Status {status}: {message}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_100_and_101_succeed_others_as_configured() {
        let rules = StatusRules {
            rules: vec![StatusRule { status: 500, verdict: OrderVerdict::Retry }],
            otherwise: OrderVerdict::Permanent,
        };
        assert_eq!(rules.judge(br#"{"Status":100,"Message":"ok"}"#).verdict, OrderVerdict::Success);
        assert_eq!(rules.judge(br#"{"Status":"101","Message":"da ton tai"}"#).verdict, OrderVerdict::Success);
        let mut strict = rules.clone();
        strict.rules.push(StatusRule { status: 101, verdict: OrderVerdict::Permanent });
        assert_eq!(strict.judge(br#"{"Status":101}"#).verdict, OrderVerdict::Permanent, "101 is a setting");
        let failed = rules.judge(br#"{"Status":500,"Message":"Loi"}"#);
        assert_eq!((failed.verdict, failed.reason.as_str()), (OrderVerdict::Retry, "Status 500: Loi"));
        assert_eq!(rules.judge(br#"{"Status":"400"}"#).verdict, OrderVerdict::Permanent);
        assert_eq!(rules.judge(b"<html>").verdict, OrderVerdict::Retry);
    }

    #[test]
    fn the_body_has_vnposts_names_and_types() {
        let party = |n: &str| OrderParty {
            name: n.into(),
            address: "Thôn 1".into(),
            tel: "0912345678".into(),
            email: None,
            province: 33,
            district: 3320,
            ward: None,
        };
        let mut order = OrderRequest {
            customer_code: "C01".into(),
            order_number: "000.07.20.H38-261125-0001".into(),
            item_code: Some("EE123456785VN".into()),
            sender: party("A"),
            receiver: party("B"),
            cod_amount: 8000,
            contents: contents("X", "Đăng ký khai sinh", "Tờ khai", Direction::Return, "015190001234"),
            description: "".into(),
            ward_fields: None,
            constants: Map::new(),
        };
        let body = order.body();
        assert!(body["SenderProvince"].is_i64() && body["ReceiverDistrict"].is_i64() && body["CODAmount"].is_u64());
        assert!(body["SenderName"].is_string() && body["ItemCode"] == "EE123456785VN");
        assert!(body["SenderDesc"].as_str().unwrap().contains("Tên dịch vụ: Trả hồ sơ tại nhà"));
        assert!(body.get("SenderWardId").is_none() && body.get("FlagConfig").is_none());
        order.ward_fields = Some(("SenderWardId".into(), "ReceiverWardId".into()));
        order.receiver.ward = Some(json!(10_4606));
        order.constants.insert("FlagConfig".into(), json!(2));
        order.constants.insert("CODAmount".into(), json!(1));
        let body = order.body();
        assert_eq!((&body["ReceiverWardId"], &body["SenderWardId"]), (&json!(104606), &Value::Null));
        assert_eq!((&body["FlagConfig"], &body["CODAmount"]), (&json!(2), &json!(8000)), "a constant never replaces");
    }
}
