//! `[postal.vnpost]` as written: the customer, how the gateway authenticates, where
//! the services are, how `Status` answers and tracking codes are read, VNPost's own
//! province and district numbers for the network's units, and the desks' addresses
//! (docs/PEERS.md §2). What the public code does not show is set here.

use motcua_adapters::vnpost::{OrderVerdict, StatusRule};
use serde::Deserialize;

/// `[postal.vnpost]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VnpostSection {
    /// `CustomerCode`.
    pub customer_code: String,
    /// OAuth2 client credentials (VNPost's token URL or an LGSP's), or a static token.
    pub auth: AuthSection,
    /// The order path under `[postal] url` (a query string such as an LGSP's
    /// `?service=…` may follow).
    pub order_path: String,
    /// The cancellation path.
    pub cancel_path: String,
    /// The tracking feed's path.
    pub tracking_path: String,
    /// Events per tracking page (at most 1000).
    #[serde(default = "default_page_size")]
    pub page_size: usize,
    /// Seconds between rounds of the tracking feed.
    #[serde(default = "default_poll")]
    pub poll_interval_secs: u64,
    /// The unit of `EventTime`: `"ms"` (epoch milliseconds, as public code reads it;
    /// the default) or `"s"` (epoch seconds). Either way an event is range-checked.
    #[serde(default)]
    pub event_time_unit: EventTimeUnit,
    /// Send a pre-issued waybill code from the gateway's pool with every order.
    #[serde(default)]
    pub item_codes_from_pool: bool,
    /// Below this many free codes the gateway warns.
    #[serde(default = "default_low_water")]
    pub pool_low_water: usize,
    /// What `Status` codes other than 100 and 101 mean.
    #[serde(default)]
    pub statuses: Vec<StatusRule>,
    /// What any other `Status` means (`"retry"` or `"permanent"`).
    #[serde(default = "default_otherwise")]
    pub otherwise: OrderVerdict,
    /// What tracking `StatusCode`s mean; unknown codes are recorded and change nothing.
    #[serde(default)]
    pub tracking: Vec<TrackingRule>,
    /// `OrderNumber` suffix of collection orders (a dossier may have a collection
    /// order and a return order; each needs its own number).
    #[serde(default = "default_collection_suffix")]
    pub collection_suffix: String,
    /// `OrderNumber` suffix of apology letters, before the letter's number (default
    /// `-XL`: `{code}-XL1`); public code shows no letter order, so it is a setting.
    #[serde(default = "default_letter_suffix")]
    pub letter_suffix: String,
    /// Cash collected on delivery of a return: `"fees_due"` (the fees not paid
    /// online, the default) or `"none"` (0 always, as one public integration sends).
    #[serde(default)]
    pub cod: CodPolicy,
    /// Order fields of fixed value whose meaning is not public (`FlagConfig = 2`, as
    /// one integration sends it); they never replace a field the gateway writes.
    #[serde(default)]
    pub order_constants: serde_json::Map<String, serde_json::Value>,
    /// The order fields naming each end's ward, for an order API that takes wards
    /// (after 1 July 2025 there are no districts): `{ sender = "SenderWardId",
    /// receiver = "ReceiverWardId" }`. Each commune's ward is in `codes`.
    pub ward_fields: Option<WardFields>,
    /// VNPost's numbers for the network's units (a province, a district, a commune).
    #[serde(default)]
    pub codes: Vec<CodeMapping>,
    /// The desks' postal addresses: the sender of returns, the receiver of collections.
    #[serde(default)]
    pub desks: Vec<DeskAddress>,
}

/// How the gateway authenticates to VNPost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum AuthSection {
    /// Client credentials: `Authorization: Basic base64(customerKey:secretKey)`.
    /// Or, with `token_key_env` instead, `Authorization: Bearer <key>` on the token
    /// call, as a provincial LGSP in front of VNPost takes it.
    Oauth {
        /// The token URL.
        token_url: String,
        /// The environment variable holding `customerKey`.
        key_env: Option<String>,
        /// The environment variable holding `secretKey`.
        secret_env: Option<String>,
        /// The environment variable holding the LGSP's key for the token call.
        token_key_env: Option<String>,
    },
    /// A static token, sent as the `access_token` header.
    Static {
        /// The environment variable holding it.
        token_env: String,
    },
}

/// What a tracking code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrackingMeaning {
    /// The post has the shipment.
    PickedUp,
    /// Delivered to the receiver.
    Delivered,
    /// Could not be delivered (returned to sender, refused, no one there).
    Undeliverable,
    /// On its way; recorded only.
    InTransit,
}

/// `[[postal.vnpost.tracking]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackingRule {
    /// `StatusCode`.
    pub status_code: i64,
    /// What it means.
    pub meaning: TrackingMeaning,
}

/// `[[postal.vnpost.codes]]`: one of the network's units and VNPost's number for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeMapping {
    /// The unit (statistics office code).
    pub unit: String,
    /// VNPost's province number (for a province).
    pub province: Option<i64>,
    /// VNPost's district number (for a district or a commune).
    pub district: Option<i64>,
    /// VNPost's identifier of the ward (for a commune), a number or a text, sent
    /// where `ward_fields` is set.
    pub ward: Option<serde_json::Value>,
}

/// What a return order collects on delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodPolicy {
    /// The fees not yet paid.
    #[default]
    FeesDue,
    /// Nothing.
    None,
}

/// `[postal.vnpost.ward_fields]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WardFields {
    /// The sender's ward field.
    pub sender: String,
    /// The receiver's ward field.
    pub receiver: String,
}

/// `[[postal.vnpost.desks]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskAddress {
    /// The desk.
    pub desk: String,
    /// The street address.
    pub address: String,
    /// The desk's telephone.
    pub phone: String,
    /// The unit (commune) the desk sits in, for VNPost's numbers.
    pub unit: String,
    /// The desk's e-mail.
    pub email: Option<String>,
}

/// The unit of VNPost's `EventTime` (docs/PEERS.md §2.5: a Long, inferred to be
/// epoch milliseconds).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum EventTimeUnit {
    /// Epoch milliseconds.
    #[default]
    #[serde(rename = "ms")]
    Milliseconds,
    /// Epoch seconds.
    #[serde(rename = "s")]
    Seconds,
}

fn default_page_size() -> usize {
    100
}
fn default_poll() -> u64 {
    60
}
fn default_low_water() -> usize {
    50
}
fn default_otherwise() -> OrderVerdict {
    OrderVerdict::Permanent
}
fn default_collection_suffix() -> String {
    "-TG".into()
}
fn default_letter_suffix() -> String {
    "-XL".into()
}
