//! `DongBoDanhGia` (docs/PORTAL.md, "Ratings"): a month's satisfaction summary per
//! unit, in the rows one public integration sends — the month as an unpadded `M-YYYY`,
//! the count a number, each share a string `"N%"`.

use serde_json::{Value, json};

/// One unit's ratings of one month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthRatings {
    /// The month (1–12).
    pub month: i8,
    /// The year.
    pub year: i16,
    /// The unit's code at the portal (`Madonvi`).
    pub unit: String,
    /// Its name.
    pub name: String,
    /// Very satisfied, satisfied, not satisfied.
    pub counts: [u64; 3],
}

/// Whole percentages of `counts` adding up to 100 (largest remainder), or zeros.
pub fn shares(counts: [u64; 3]) -> [u64; 3] {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return [0; 3];
    }
    let exact: Vec<(u64, u64)> = counts.iter().map(|c| (c * 100 / total, c * 100 % total)).collect();
    let mut out = [exact[0].0, exact[1].0, exact[2].0];
    let mut left = 100 - out.iter().sum::<u64>();
    let mut order = [0usize, 1, 2];
    order.sort_by_key(|&i| std::cmp::Reverse(exact[i].1));
    for i in order {
        if left == 0 {
            break;
        }
        out[i] += 1;
        left -= 1;
    }
    out
}

/// The row of `r`; `subject` is the `NoiDung` the province sends with it.
pub fn row(r: &MonthRatings, subject: &str) -> Value {
    let [very, satisfied, not] = shares(r.counts);
    let pct = |n: u64| format!("{n}%");
    json!({
        "NgayTongHop": format!("{}-{}", r.month, r.year),
        "TongSoNguoiDanhGia": r.counts.iter().sum::<u64>(),
        "PhanTramDanhGiaRatHaiLong": pct(very),
        "PhanTramDanhGiaHaiLong": pct(satisfied),
        "PhanTramDanhGiaChuaHaiLong": pct(not),
        "DanhSachNoiDungYKien": "",
        "MaThuTuc": "",
        "NoiDung": subject,
        "PhanTramDanhGiaDichVuRatHaiLong": pct(very),
        "PhanTramDanhGiaDichVuHaiLong": pct(satisfied),
        "PhanTramDanhGiaDichVuChuaHaiLong": pct(not),
        "Madonvi": r.unit,
        "TenDonVi": r.name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_samples_row_is_rebuilt_and_shares_add_up() {
        let sample: Value =
            serde_json::from_str(include_str!("../../../simulators/peers/dvcqg-ratings-DongBoDanhGia.request.json"))
                .unwrap();
        let r = MonthRatings {
            month: 12,
            year: 2026,
            unit: "000.00.00.H38".into(),
            name: "Trung tâm Phục vụ hành chính công tỉnh Lào Cai".into(),
            counts: [25, 12, 5],
        };
        // The sample's shares are illustrative (no 42 ratings give 59/30/11): its keys,
        // types and words are what is rebuilt.
        let built = row(&r, "Thái độ phục vụ của cán bộ tiếp nhận");
        let want = &sample["data"][0];
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&built), keys(want));
        for k in ["NgayTongHop", "TongSoNguoiDanhGia", "NoiDung", "Madonvi", "TenDonVi", "MaThuTuc"] {
            assert_eq!(built[k], want[k], "{k}");
        }
        assert_eq!(
            (&built["PhanTramDanhGiaRatHaiLong"], &built["PhanTramDanhGiaHaiLong"]),
            (&json!("59%"), &json!("29%"))
        );
        assert_eq!(shares([1, 1, 1]), [34, 33, 33]);
        assert_eq!(shares([0, 0, 0]), [0, 0, 0]);
    }
}
