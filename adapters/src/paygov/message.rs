//! The national payment platform's messages (docs/PAYMENT.md; samples
//! `simulators/peers/paygov-*.json`): `INIT` with its receipt block, the confirmation
//! callback and its reply, `QUERY` and its answer, each signed with `MaXacThuc` — the
//! SHA-256 hex of the message's fields joined with `|`, the partner's secret last, in
//! the order public code computes it.

use serde_json::{Map, Value, json};

/// `MaXacThuc` of `fields` under `secret`.
pub fn signature(fields: &[&str], secret: &str) -> String {
    let mut text = fields.join("|");
    text.push('|');
    text.push_str(secret);
    let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is `expected`, in time that does not depend on where they differ.
pub fn same_signature(given: &str, expected: &str) -> bool {
    let (a, b) = (given.trim().to_ascii_lowercase(), expected);
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The fixed part of every message: who the gateway is to the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// `MaDoiTac`.
    pub code: String,
    /// The shared secret.
    pub secret: String,
    /// `PhienBan`.
    pub version: String,
}

/// One fee line of the receipt (`ThongTinBienLai.PhiLePhi[]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeLine {
    /// `LoaiPhiLePhi`.
    pub kind: String,
    /// `MaPhiLePhi`.
    pub code: String,
    /// `TenPhiLePhi`.
    pub name: String,
    /// `SoTien`, in đồng.
    pub amount: u64,
}

/// Everything an `INIT` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Init {
    /// `MaThamChieu`, unique per attempt.
    pub reference: String,
    /// `SoTien`, in đồng.
    pub amount: u64,
    /// `ThoiGianGD`, `yyyyMMddHHmmss`.
    pub time: String,
    /// `ThongTinGiaoDich` and the receipt's `NoiDungThanhToan`.
    pub description: String,
    /// Constant codes: `LoaiHinhThanhToan`, `MaKenhThanhToan`, `MaThietBi`, `NgonNgu`,
    /// `MaTienTe`, `MaNganHang`, `Ip`, the receipt's `MaDichVu`.
    pub codes: InitCodes,
    /// The receipt block's dossier and payer.
    pub receipt: Receipt,
    /// The fee lines.
    pub fees: Vec<FeeLine>,
}

/// `INIT`'s constant codes, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitCodes {
    /// `LoaiHinhThanhToan` (`PAY`).
    pub payment_kind: String,
    /// `MaKenhThanhToan`.
    pub channel: String,
    /// `MaThietBi`.
    pub device: String,
    /// `NgonNgu`.
    pub language: String,
    /// `MaTienTe` (`VND`).
    pub currency: String,
    /// `MaNganHang` (`PAYMENT`).
    pub bank: String,
    /// `Ip`: the address the platform knows the gateway by.
    pub ip: String,
    /// `ThongTinBienLai.MaDichVu`.
    pub service: String,
}

/// `ThongTinBienLai`: what the receipt names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `MaDVC`.
    pub service_code: String,
    /// `TenDVC` and `TenTTHC`.
    pub procedure_name: String,
    /// `MaTTHC`.
    pub procedure_code: String,
    /// `MaDonVi`.
    pub unit_code: String,
    /// `TenDonVi`.
    pub unit_name: String,
    /// `MaHoSo`.
    pub dossier: String,
    /// `TKThuHuong`.
    pub account: String,
    /// `MaNHThuHuong`.
    pub account_bank: String,
    /// `TenTKThuHuong`.
    pub account_name: String,
    /// `HoTenNguoiNop`.
    pub payer: String,
    /// `SoCMNDNguoiNop`.
    pub payer_id: String,
    /// `DiaChiNguoiNop`.
    pub payer_address: String,
}

impl Init {
    /// The message, signed.
    pub fn body(&self, partner: &Partner) -> Value {
        let c = &self.codes;
        let amount = self.amount.to_string();
        let signed = [
            "INIT",
            &partner.version,
            &partner.code,
            &self.reference,
            &amount,
            &c.payment_kind,
            &c.channel,
            &c.device,
            &c.language,
            &c.currency,
            &c.bank,
            &self.description,
            &self.time,
            &c.ip,
        ];
        let r = &self.receipt;
        let lines: Vec<Value> = self
            .fees
            .iter()
            .map(|f| {
                json!({ "LoaiPhiLePhi": f.kind, "MaPhiLePhi": f.code, "TenPhiLePhi": f.name, "SoTien": f.amount.to_string() })
            })
            .collect();
        let items: Vec<Value> =
            self.fees.iter().map(|f| json!({ "NoiDung": f.name, "SoTien": f.amount.to_string() })).collect();
        let mut receipt = json!({
            "MaDichVu": c.service,
            "MaDVC": r.service_code,
            "TenDVC": r.procedure_name,
            "MaTTHC": r.procedure_code,
            "TenTTHC": r.procedure_name,
            "MaDonVi": r.unit_code,
            "TenDonVi": r.unit_name,
            "MaHoSo": r.dossier,
            "TKThuHuong": r.account,
            "MaNHThuHuong": r.account_bank,
            "TenTKThuHuong": r.account_name,
            "NoiDungThanhToan": self.description,
            "HoTenNguoiNop": r.payer,
            "SoCMNDNguoiNop": r.payer_id,
            "DiaChiNguoiNop": r.payer_address,
            "PhiLePhi": lines,
            "DSKhoanNop": items,
        });
        // Fines and state-budget fields, empty for a procedure's fees.
        for key in [
            "MaLoaiHinhThuPhat",
            "TenLoaiHinhThuPhat",
            "MaCoQuanQD",
            "TenCoQuanQD",
            "KhoBac",
            "NgayQD",
            "SoQD",
            "ThoiGianViPham",
            "DiaDiemViPham",
            "TenNguoiViPham",
            "TaiKhoanThuNSNN",
            "HuyenNguoiNop",
            "TinhNguoiNop",
        ] {
            receipt[key] = "".into();
        }
        let mut body = json!({
            "LoaiBanTin": "INIT",
            "PhienBan": partner.version,
            "MaDoiTac": partner.code,
            "MaThamChieu": self.reference,
            "SoTien": amount,
            "LoaiHinhThanhToan": c.payment_kind,
            "MaKenhThanhToan": c.channel,
            "MaThietBi": c.device,
            "NgonNgu": c.language,
            "MaTienTe": c.currency,
            "MaNganHang": c.bank,
            "ThongTinGiaoDich": self.description,
            "ThoiGianGD": self.time,
            "Ip": c.ip,
            "MaXacThuc": signature(&signed, &partner.secret),
        });
        body["ThongTinBienLai"] = receipt;
        body
    }
}

fn text(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The payment page an `INIT` answer gives: `{MaLoi "00", UrlThanhToan}` from the
/// platform, or `{error_code "0", message: "<JSON with UrlThanhToan>"}` through a
/// connector (the two public clients expect one each). Otherwise why not.
pub fn init_answer(body: &[u8]) -> Result<String, String> {
    let Some(Value::Object(obj)) = crate::json::answer(body) else { return Err("the answer is not JSON".into()) };
    let (ok, holder) = match (text(&obj, "MaLoi"), text(&obj, "error_code")) {
        (Some(code), _) => (code == "00", obj.clone()),
        (None, Some(code)) => {
            let inner = obj.get("message").and_then(Value::as_str).and_then(|m| crate::json::answer(m.as_bytes()));
            (code == "0", inner.and_then(|v| v.as_object().cloned()).unwrap_or_default())
        }
        (None, None) => return Err("the answer has neither MaLoi nor error_code".into()),
    };
    let url = text(&holder, "UrlThanhToan").filter(|u| {
        (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2048 && !u.contains(char::is_whitespace)
    });
    match (ok, url) {
        (true, Some(url)) => Ok(url),
        (true, None) => Err("the platform gave no payment URL".into()),
        (false, _) => Err(format!(
            "the platform refused the payment ({})",
            text(&obj, "MaLoi").or_else(|| text(&obj, "error_code")).unwrap_or_default()
        )),
    }
}

/// A confirmation callback, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// `LoaiBanTin`.
    pub kind: String,
    /// `MaLoi` (`00`: paid).
    pub result: String,
    /// `MaDoiTac`.
    pub partner: String,
    /// `MaThamChieu`.
    pub reference: String,
    /// `SoTien`.
    pub amount: Option<u64>,
    /// `MaTienTe`.
    pub currency: String,
    /// `MaGiaoDich`: the platform's transaction.
    pub transaction: String,
    /// `MaNganHang`.
    pub bank: String,
    /// `ThoiGianGD`.
    pub time: String,
    /// `ThongTinGiaoDich`.
    pub description: String,
    /// `MaXacThuc` as sent.
    pub signature: String,
}

/// Longest value read from a callback field.
const MAX_FIELD: usize = 256;

impl Confirmation {
    /// Reads a callback body (at most `MAX_FIELD` characters a field); `None` when it
    /// is not a JSON object.
    pub fn read(body: &[u8]) -> Option<Confirmation> {
        let Value::Object(obj) = crate::json::answer(body)? else { return None };
        let field = |k: &str| text(&obj, k).map(|v| v.chars().take(MAX_FIELD).collect::<String>()).unwrap_or_default();
        let amount = match obj.get("SoTien") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        Some(Confirmation {
            kind: field("LoaiBanTin"),
            result: field("MaLoi"),
            partner: field("MaDoiTac"),
            reference: field("MaThamChieu"),
            amount,
            currency: field("MaTienTe"),
            transaction: field("MaGiaoDich"),
            bank: field("MaNganHang"),
            time: field("ThoiGianGD"),
            description: field("ThongTinGiaoDich"),
            signature: field("MaXacThuc"),
        })
    }

    /// Whether `MaXacThuc` is the partner's signature of the fields, in the order
    /// public code checks it; compared in constant time.
    pub fn signed_by(&self, secret: &str) -> bool {
        let amount = self.amount.map(|a| a.to_string()).unwrap_or_default();
        let fields = [
            self.kind.as_str(),
            &self.result,
            &self.partner,
            &self.reference,
            &amount,
            &self.currency,
            &self.transaction,
            &self.bank,
            &self.time,
            &self.description,
        ];
        same_signature(&self.signature, &signature(&fields, secret))
    }

    /// The reply: `00` "Thành công" when taken, else `99` "Các lỗi khác", with the
    /// callback's partner, reference, time and signature echoed as public code does.
    pub fn reply(&self, taken: bool) -> Value {
        let (code, text) = if taken { ("00", "Thành công") } else { ("99", "Các lỗi khác") };
        json!({
            "MaLoi": code, "MoTaLoi": text, "MaDoiTac": self.partner, "MaThamChieu": self.reference,
            "ThoiGianGD": self.time, "MaXacThuc": self.signature,
        })
    }
}

/// A `QUERY` for `reference`, signed.
pub fn query(partner: &Partner, reference: &str, time: &str) -> Value {
    let fields = ["QUERY", partner.version.as_str(), &partner.code, reference, time];
    json!({
        "LoaiBanTin": "QUERY", "PhienBan": partner.version, "MaDoiTac": partner.code,
        "MaThamChieu": reference, "ThoiGianGD": time, "MaXacThuc": signature(&fields, &partner.secret),
    })
}

/// What a `QUERY` answer says of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryState {
    /// Paid (`TrangThaiGD` 1): the transaction, the bank, the amount.
    Paid {
        /// `MaGiaoDich`.
        transaction: String,
        /// `MaNganHang`.
        bank: String,
        /// `SoTien`.
        amount: Option<u64>,
    },
    /// Not yet (`3`).
    Pending,
    /// Failed (`4`).
    Failed,
}

/// Reads a `QUERY` answer about `reference`.
pub fn query_answer(body: &[u8], reference: &str) -> Result<QueryState, String> {
    let Some(Value::Object(obj)) = crate::json::answer(body) else { return Err("the answer is not JSON".into()) };
    if text(&obj, "MaThamChieu").as_deref() != Some(reference) {
        return Err("the answer names another payment".into());
    }
    match text(&obj, "TrangThaiGD").as_deref() {
        Some("1") => Ok(QueryState::Paid {
            transaction: text(&obj, "MaGiaoDich").unwrap_or_default().chars().take(MAX_FIELD).collect(),
            bank: text(&obj, "MaNganHang").unwrap_or_default().chars().take(MAX_FIELD).collect(),
            amount: match obj.get("SoTien") {
                Some(Value::Number(n)) => n.as_u64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            },
        }),
        Some("3") => Ok(QueryState::Pending),
        Some("4") => Ok(QueryState::Failed),
        other => Err(format!("TrangThaiGD {other:?} is not 1, 3 or 4")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "bi-mat-thu-nghiem-15";

    fn sample(name: &str) -> Value {
        let path = format!("{}/../simulators/peers/{name}.json", env!("CARGO_MANIFEST_DIR"));
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn the_samples_signatures_are_reproduced() {
        let init = sample("paygov-init.request");
        let fields = [
            "LoaiBanTin",
            "PhienBan",
            "MaDoiTac",
            "MaThamChieu",
            "SoTien",
            "LoaiHinhThanhToan",
            "MaKenhThanhToan",
            "MaThietBi",
            "NgonNgu",
            "MaTienTe",
            "MaNganHang",
            "ThongTinGiaoDich",
            "ThoiGianGD",
            "Ip",
        ];
        let values: Vec<&str> = fields.iter().map(|f| init[*f].as_str().unwrap()).collect();
        assert_eq!(signature(&values, SECRET), init["MaXacThuc"]);
        let callback = serde_json::to_vec(&sample("paygov-confirm-callback.request")).unwrap();
        let confirmation = Confirmation::read(&callback).unwrap();
        assert!(confirmation.signed_by(SECRET));
        assert!(!confirmation.signed_by("another secret"));
        let mut changed = confirmation.clone();
        changed.amount = Some(50_001);
        assert!(!changed.signed_by(SECRET), "the amount is signed");
        let q = sample("paygov-query.request");
        let partner = Partner { code: "LAOCAI_DVC".into(), secret: SECRET.into(), version: "1.0.6".into() };
        let ours = query(&partner, q["MaThamChieu"].as_str().unwrap(), q["ThoiGianGD"].as_str().unwrap());
        assert_eq!(ours, q);
    }

    #[test]
    fn an_init_is_the_samples_shape_exactly() {
        let sample = sample("paygov-init.request");
        let r = &sample["ThongTinBienLai"];
        let t = |v: &Value| v.as_str().unwrap().to_owned();
        let init = Init {
            reference: t(&sample["MaThamChieu"]),
            amount: 50_000,
            time: t(&sample["ThoiGianGD"]),
            description: t(&sample["ThongTinGiaoDich"]),
            codes: InitCodes {
                payment_kind: "PAY".into(),
                channel: "1".into(),
                device: "1".into(),
                language: "vi-VN".into(),
                currency: "VND".into(),
                bank: "PAYMENT".into(),
                ip: t(&sample["Ip"]),
                service: "2".into(),
            },
            receipt: Receipt {
                service_code: t(&r["MaDVC"]),
                procedure_name: t(&r["TenTTHC"]),
                procedure_code: t(&r["MaTTHC"]),
                unit_code: t(&r["MaDonVi"]),
                unit_name: t(&r["TenDonVi"]),
                dossier: t(&r["MaHoSo"]),
                account: t(&r["TKThuHuong"]),
                account_bank: t(&r["MaNHThuHuong"]),
                account_name: t(&r["TenTKThuHuong"]),
                payer: t(&r["HoTenNguoiNop"]),
                payer_id: t(&r["SoCMNDNguoiNop"]),
                payer_address: t(&r["DiaChiNguoiNop"]),
            },
            fees: vec![FeeLine {
                kind: "Phi".into(),
                code: t(&r["PhiLePhi"][0]["MaPhiLePhi"]),
                name: t(&r["PhiLePhi"][0]["TenPhiLePhi"]),
                amount: 50_000,
            }],
        };
        let partner = Partner { code: "LAOCAI_DVC".into(), secret: SECRET.into(), version: "1.0.6".into() };
        assert_eq!(init.body(&partner), sample);
    }

    #[test]
    fn both_init_answers_give_the_payment_page() {
        for name in ["paygov-init.reply", "paygov-init.connector.reply"] {
            let body = serde_json::to_vec(&sample(name)).unwrap();
            assert!(init_answer(&body).unwrap().starts_with("https://thanhtoan."), "{name}");
        }
        assert!(init_answer(br#"{"MaLoi":"07"}"#).is_err());
        assert!(init_answer(br#"{"MaLoi":"00","UrlThanhToan":"javascript:alert(1)"}"#).is_err());
        let reply = serde_json::to_vec(&sample("paygov-query.reply")).unwrap();
        let reference = "dvc00000001H38261201000120261201093000";
        assert!(matches!(query_answer(&reply, reference), Ok(QueryState::Paid { amount: Some(50_000), .. })));
        assert!(query_answer(&reply, "another").is_err());
    }
}
