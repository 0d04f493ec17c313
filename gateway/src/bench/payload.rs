//! Realistic request bodies for the load generator: about 2 KB portal dossiers in
//! Vietnamese with a unique `MaHoSoCongDVC` each, and postal XML with unique S10
//! item codes.

use motcua_schemas::S10ItemCode;

const NAMES: [&str; 6] =
    ["Giàng A Sử", "Nguyễn Thị Hồng Nhung", "Lò Văn Thắng", "Hoàng Thị Lan", "Sùng A Páo", "Trần Đức Anh"];
const PROCEDURES: [(&str, &str); 4] = [
    ("1.001193", "Thủ tục đăng ký khai sinh"),
    ("1.000656", "Thủ tục đăng ký khai tử"),
    ("1.004873", "Cấp giấy xác nhận tình trạng hôn nhân"),
    ("2.000815", "Chứng thực bản sao từ bản chính giấy tờ, văn bản"),
];
/// Communes of the sample network: two served by pull desks, two by push desks.
pub const ALL_UNITS: &[&str] = &["04606", "04609", "04252", "04288"];
/// Communes of the sample network served by pull desks (no deliveries to make).
pub const PULL_UNITS: &[&str] = &["04606", "04609"];
/// Communes of the sample network served by push desks.
pub const PUSH_UNITS: &[&str] = &["04252", "04288"];

/// A portal submission of about 2 KB, unique by `id`, addressed to one of `units`.
pub fn portal(id: &str, n: u64, units: &[&str]) -> Vec<u8> {
    let name = NAMES[(n % NAMES.len() as u64) as usize];
    let (code, procedure) = PROCEDURES[(n % PROCEDURES.len() as u64) as usize];
    let unit = units[(n % units.len() as u64) as usize];
    let citizen = format!("0150900{:05}", n % 100_000);
    serde_json::to_vec(&serde_json::json!({
        "MaHoSoCongDVC": id,
        "MaHoSo": null,
        "MaTTHC": code,
        "TenTTHC": procedure,
        "MucDo": 4,
        "MaDonViNhan": unit,
        "ChuHoSo": {
            "HoTen": name, "LoaiDoiTuong": 1,
            "DinhDanh": {"LoaiDinhDanh": 1, "SoDinhDanh": citizen},
            "SoDienThoai": "0912345678", "Email": "cong.dan@example.vn",
            "DiaChi": {"ChiTiet": "Tổ dân phố số 3, đường Nguyễn Thái Học", "MaTinh": "15", "MaXa": unit}
        },
        "NgayNopHoSo": "20261125093000",
        "TaiLieuNop": [
            {"TenTepDinhKem": "to-khai-dang-ky.pdf", "MaThanhPhanHoSo": "TP01",
             "DuongDanTaiTepTin": "https://dichvucong.example.vn/tep/7f3a9c2e1b", "MaBam": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "KichThuoc": 182331},
            {"TenTepDinhKem": "giay-chung-sinh.pdf", "MaThanhPhanHoSo": "TP02",
             "DuongDanTaiTepTin": "https://dichvucong.example.vn/tep/0c4d5e6f7a", "MaBam": "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", "KichThuoc": 95412},
            {"TenTepDinhKem": "can-cuoc-cong-dan-cha-me.pdf", "MaThanhPhanHoSo": "TP03",
             "DuongDanTaiTepTin": "https://dichvucong.example.vn/tep/8b9c0d1e2f", "MaBam": "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13", "KichThuoc": 241005},
            {"TenTepDinhKem": "giay-chung-nhan-ket-hon-cua-cha-me.pdf", "MaThanhPhanHoSo": "TP04",
             "DuongDanTaiTepTin": "https://dichvucong.example.vn/tep/3c4d5e6f70", "MaBam": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", "KichThuoc": 130772},
            {"TenTepDinhKem": "van-ban-uy-quyen-nop-ho-so.pdf", "MaThanhPhanHoSo": "TP05",
             "DuongDanTaiTepTin": "https://dichvucong.example.vn/tep/9a8b7c6d5e", "MaBam": "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9", "KichThuoc": 88213}
        ],
        "LePhi": [{"TenLePhi": "Lệ phí đăng ký hộ tịch", "SoTien": 8000, "DaThanhToan": true, "MaGiaoDich": format!("PAY-{n}")}],
        "HinhThucNhanKetQua": 2,
        "DiaChiNhanKetQua": {"ChiTiet": "Tổ dân phố số 3, đường Nguyễn Thái Học", "MaTinh": "15", "MaXa": unit,
                              "NguoiNhan": name, "SoDienThoai": "0912345678"}
    }))
    .unwrap_or_default()
}

/// A postal dossier with a unique S10 code for the serial `n`, addressed to one of
/// `units`.
pub fn postal(n: u64, units: &[&str]) -> Vec<u8> {
    let unit = units[(n % units.len() as u64) as usize];
    let item = S10ItemCode::build("EB", (n % 100_000_000) as u32, "VN").map(|c| c.to_string()).unwrap_or_default();
    let name = NAMES[(n % NAMES.len() as u64) as usize];
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<BuuGuiHoSo xmlns="urn:motcua:postal:v1">
  <ItemCode>{item}</ItemCode>
  <PostOfficeCode>330000</PostOfficeCode>
  <AcceptedAt>2026-11-25T09:30:00+07:00</AcceptedAt>
  <Service>NHAN_HO_SO_VA_TRA_KET_QUA</Service>
  <Sender>
    <Fullname>{name}</Fullname><Tel>0912345678</Tel>
    <IdType>1</IdType><IdNumber>0150900{:05}</IdNumber>
    <Address>Bản Km 21, xã Trạm Tấu</Address>
    <ProvinceId>15</ProvinceId><DistrictId>139</DistrictId><WardId>04585</WardId>
  </Sender>
  <Procedure code="1.001193">Thủ tục đăng ký khai sinh</Procedure>
  <TargetUnit>{unit}</TargetUnit>
  <Documents>
    <Document code="TP01" pages="2">Tờ khai đăng ký khai sinh</Document>
    <Document code="TP02" pages="1">Giấy chứng sinh</Document>
  </Documents>
  <FeeCollected currency="VND">8000</FeeCollected>
</BuuGuiHoSo>"#,
        n % 100_000
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_valid_and_about_2_kb() {
        let body = portal("BENCH-1-1", 1, ALL_UNITS);
        assert!((1800..=2600).contains(&body.len()), "{} bytes", body.len());
        motcua_adapters::portal::parse_dossier(&body, 32).unwrap();
        motcua_adapters::postal::parse_dossier(&postal(7, PUSH_UNITS), 32).unwrap();
    }
}
