//! `[payment]` as written: the national payment platform (PayGov) reached through the
//! portal (docs/PAYMENT.md): where its services are, who the gateway is to it, the
//! message codes public code shows as constants, whose account receives each unit's
//! fees, and how long a payment is waited for before it is asked after.

use serde::Deserialize;

/// `[payment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSection {
    /// The platform's id (the destination's name in the queue and metrics).
    #[serde(default = "default_id")]
    pub id: String,
    /// The `INIT` URL.
    pub init_url: String,
    /// The `QUERY` URL.
    pub query_url: String,
    /// CA file to trust for its TLS certificate (system roots otherwise).
    pub ca_file: Option<std::path::PathBuf>,
    /// Timeout of one call, in seconds.
    pub timeout_secs: Option<u64>,
    /// `MaDoiTac`: the province's partner code at the platform.
    pub partner: String,
    /// The environment variable holding the shared secret `MaXacThuc` is keyed with.
    pub secret_env: String,
    /// The environment variable holding a key sent as `Authorization: Bearer`, for a
    /// platform (or connector) that asks for one.
    pub access_token_env: Option<String>,
    /// `PhienBan`.
    #[serde(default = "default_version")]
    pub version: String,
    /// `Ip`: the address the platform knows the gateway by.
    pub ip: String,
    /// `MaKenhThanhToan`, `MaThietBi`, `NgonNgu`, `MaNganHang`, `LoaiPhiLePhi`,
    /// `ThongTinBienLai.MaDichVu`, and the suffix making `MaDVC` of a procedure code.
    #[serde(default)]
    pub codes: PaymentCodes,
    /// Seconds after opening before a payment without a callback is asked after.
    #[serde(default = "default_query_after")]
    pub query_after_secs: u64,
    /// Seconds between rounds of asking.
    #[serde(default = "default_query_every")]
    pub query_every_secs: u64,
    /// Seconds after which an unpaid payment expires (it may be opened again).
    #[serde(default = "default_expires_after")]
    pub expires_after_secs: u64,
    /// Whose account receives the fees of each unit (and the units under it).
    pub accounts: Vec<AccountSection>,
}

/// The message codes public code sends as constants.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PaymentCodes {
    /// `MaKenhThanhToan` (`1`).
    pub channel: String,
    /// `MaThietBi` (`1`).
    pub device: String,
    /// `NgonNgu` (`vi-VN`).
    pub language: String,
    /// `MaNganHang` (`PAYMENT`).
    pub bank: String,
    /// `ThongTinBienLai.MaDichVu` (`2`; a number in one source, a string in the other).
    pub service: String,
    /// `PhiLePhi[].LoaiPhiLePhi` (`Phi` in one source, `1`/`2` in the other).
    pub fee_kind: String,
    /// `MaDVC` and `MaPhiLePhi` = the procedure code + this (`.01`).
    pub service_suffix: String,
}

impl Default for PaymentCodes {
    fn default() -> Self {
        PaymentCodes {
            channel: "1".into(),
            device: "1".into(),
            language: "vi-VN".into(),
            bank: "PAYMENT".into(),
            service: "2".into(),
            fee_kind: "Phi".into(),
            service_suffix: ".01".into(),
        }
    }
}

/// `[[payment.accounts]]`: the beneficiary of a unit's fees.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSection {
    /// The unit (its sub-units use it too, unless they have their own).
    pub unit: String,
    /// `TKThuHuong`: the account number.
    pub account: String,
    /// `MaNHThuHuong`: the account's bank code.
    pub bank_code: String,
    /// `TenTKThuHuong`: the account holder.
    pub name: String,
}

fn default_id() -> String {
    "paygov".into()
}
fn default_version() -> String {
    "1.0.6".into()
}
fn default_query_after() -> u64 {
    900
}
fn default_query_every() -> u64 {
    300
}
fn default_expires_after() -> u64 {
    24 * 3600
}
