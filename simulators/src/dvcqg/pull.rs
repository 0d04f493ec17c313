//! The portal's pull services as public client code calls them (docs/PORTAL.md,
//! "Pull"; samples in `simulators/peers/dvcqg-pull-*.json`): their own login
//! (`…/mapi/login`) and services (`…/mapi/g`) — `DanhSachHoSo` lists rows of the
//! sample's shape, `TraCuuHoSo` gives `data[]` details, `LayTaiLieuHoSo` gives
//! `TepTinDinhKem[]` — with their own sessions, no envelope unit and no `dstcode`, and
//! a Bearer key only where one is set up. Every request is checked key by key.

use std::{collections::BTreeMap, time::Instant};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::{Books, Shared, gate, give, json_object, token};

/// The login path of the pull services.
pub const LOGIN: &str = "/apiDVC-GPLX/tcdbdvcdata/mapi/login";
/// The services path of the pull services.
pub const SERVICES: &str = "/apiDVC-GPLX/tcdbdvcdata/mapi/g";

const LIST_ROW: &str = include_str!("../../peers/dvcqg-pull-list-DanhSachHoSo.reply.json");
const DETAIL: &str = include_str!("../../peers/dvcqg-pull-detail-TraCuuHoSo.reply.json");

/// A dossier the portal lists for the gateway to pull.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The unit it is listed under (`donViXuLy`).
    pub unit: String,
    /// The day it was received (`ngayNhanHoSo`).
    pub day: jiff::civil::Date,
    /// Its row as `DanhSachHoSo` lists it (owner, ID number, address code, dates,
    /// `hoSoDinhKem` naming the files).
    pub row: Value,
    /// Its details as `TraCuuHoSo` gives them (procedure, unit, dates, how the result
    /// goes back).
    pub detail: Value,
    /// File contents by path (`filedinhkem`).
    pub files: BTreeMap<String, Vec<u8>>,
    /// A broken or hostile portal, for tests (no public source shows one): the code
    /// the list shows, when it is not the one of the details.
    pub listed_as: Option<String>,
    /// A broken portal, for tests: the list shows the dossier, `TraCuuHoSo` finds
    /// nothing.
    pub no_details: bool,
    /// The list shows the dossier with its date empty (`""`), as real lists sometimes
    /// do; public client code skips such a row and reads it again next time.
    pub undated: bool,
}

fn sample(text: &str) -> Value {
    let reply: Value = serde_json::from_str(text).unwrap_or_default();
    reply["data"][0].clone()
}

impl Listed {
    /// The golden sample's dossier under `code`, listed under `unit` (which its row
    /// and details name too) and received on `day` (its details dated that day at
    /// 00:00:01, never ahead of the clock), with the sample's two files.
    pub fn sample(unit: &str, code: &str, day: jiff::civil::Date) -> Listed {
        let (mut row, mut detail) = (sample(LIST_ROW), sample(DETAIL));
        // The sample's paths, with its code and day made this dossier's.
        let (sample_code, sample_day) = (row["maHoSo"].as_str().unwrap_or_default().to_owned(), "2026/12/01");
        let mut files = BTreeMap::new();
        if let Some(attached) = row["hoSoDinhKem"].as_array_mut() {
            for (i, file) in attached.iter_mut().enumerate() {
                let sample_path = file["filedinhkem"].as_str().unwrap_or_default();
                let path =
                    sample_path.replace(&sample_code, code).replace(sample_day, &day.strftime("%Y/%m/%d").to_string());
                files.insert(path.clone(), format!("%PDF-1.4 tệp {i} của hồ sơ {code}").into_bytes());
                file["filedinhkem"] = path.into();
            }
        }
        let date = day.strftime("%Y-%m-%d").to_string();
        let at = format!("{} 00:00:01", day.strftime("%d/%m/%Y"));
        for (key, value) in [("maHoSo", code), ("maDonVi", unit), ("maDonViVpdk", unit), ("ngayNhanHoSo", &date)] {
            row[key] = value.into();
        }
        for (key, value) in [("MaHoSo", code), ("MaDonViXuLy", unit), ("NgayNop", &at), ("NgayTiepNhan", &at)] {
            detail[key] = value.into();
        }
        Listed { unit: unit.to_owned(), day, row, detail, files, listed_as: None, no_details: false, undated: false }
    }

    /// The code the list shows.
    pub(super) fn code(&self) -> String {
        match &self.listed_as {
            Some(code) => code.clone(),
            None => self.detail["MaHoSo"].as_str().unwrap_or_default().to_owned(),
        }
    }

    fn listed_row(&self) -> Value {
        let mut row = self.row.clone();
        row["maHoSo"] = self.code().into();
        if self.undated {
            row["ngayNhanHoSo"] = "".into();
        }
        row
    }
}

/// The pull account and key the simulator is set up with.
#[derive(Debug, Clone)]
pub struct PullSetup {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// The `Authorization: Bearer` key every call must carry, if one is set up.
    pub token: Option<String>,
}

impl Default for PullSetup {
    fn default() -> Self {
        PullSetup { username: "motcua-gplx".into(), password: "mat-khau-keo".into(), token: None }
    }
}

/// Whether the call carries the Bearer key, where one is set up (a refusal noted).
fn keyed(shared: &Shared, headers: &HeaderMap, s: &mut Books) -> bool {
    let Some(key) = &shared.0.pull.token else { return true };
    let sent = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    if sent != Some(key.as_str()) {
        s.violations.push("a pull call without its Bearer key".into());
        return false;
    }
    true
}

fn unauthorized() -> Response {
    (StatusCode::UNAUTHORIZED, "Unauthorized").into_response()
}

/// Keys of a call exactly as the public client sends them, every value a string.
fn exact(s: &mut Books, obj: &Map<String, Value>, what: &str, keys: &[&str]) -> bool {
    let mut sent: Vec<&str> = obj.keys().map(String::as_str).collect();
    sent.sort_unstable();
    let mut want = keys.to_vec();
    want.sort_unstable();
    if sent != want || !obj.values().all(Value::is_string) {
        s.violations.push(format!("{what} keys {sent:?} are not {want:?} as strings"));
        return false;
    }
    true
}

/// `POST …/mapi/login`.
pub(super) async fn login(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&shared, &headers, false).await {
        return r;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if !keyed(&shared, &headers, &mut s) {
        return unauthorized();
    }
    let Some(obj) = json_object(&body, &mut s.violations) else {
        return give(&mut s, "99", "Dữ liệu không hợp lệ");
    };
    if !exact(&mut s, &obj, "pull login", &["username", "password"]) {
        return give(&mut s, "99", "Dữ liệu không hợp lệ");
    }
    let account = &shared.0.pull;
    if obj["username"] != account.username.as_str() || obj["password"] != account.password.as_str() {
        return give(&mut s, "1", "Sai tên đăng nhập hoặc mật khẩu");
    }
    let session = token();
    s.pull_sessions.insert(session.clone(), Instant::now() + shared.0.session_ttl);
    s.pull_logins += 1;
    axum::Json(json!({ "error_code": "0", "message": "Đăng nhập thành công", "session": session })).into_response()
}

/// `POST …/mapi/g`.
pub(super) async fn services(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = gate(&shared, &headers, false).await {
        return r;
    }
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if !keyed(&shared, &headers, &mut s) {
        return unauthorized();
    }
    let Some(obj) = json_object(&body, &mut s.violations) else {
        return give(&mut s, "99", "Dữ liệu không hợp lệ");
    };
    let session = obj.get("session").and_then(Value::as_str).unwrap_or_default();
    if s.pull_sessions.get(session).is_none_or(|until| *until <= Instant::now()) {
        return give(&mut s, "-1", "Phiên làm việc không hợp lệ hoặc đã hết hạn");
    }
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let unit = text("donViXuLy");
    match text("service").as_str() {
        "DanhSachHoSo" => {
            if !exact(&mut s, &obj, "DanhSachHoSo", &["session", "service", "donViXuLy", "ngayNhan1", "ngayNhan2"]) {
                return give(&mut s, "99", "Dữ liệu không hợp lệ");
            }
            let day = |k: &str| {
                let d = text(k);
                (d.len() == 10).then(|| d.parse::<jiff::civil::Date>().ok()).flatten()
            };
            let (Some(from), Some(to)) = (day("ngayNhan1"), day("ngayNhan2")) else {
                s.violations.push("DanhSachHoSo needs ngayNhan1 and ngayNhan2 as yyyy-MM-dd".into());
                return give(&mut s, "99", "Dữ liệu không hợp lệ");
            };
            let data: Vec<Value> = s
                .listed
                .iter()
                .filter(|l| l.unit == unit && (from..=to).contains(&l.day))
                .map(Listed::listed_row)
                .collect();
            *s.answers.entry("0".into()).or_default() += 1;
            let answer = json!({ "data": data, "error_code": "0" });
            match s.switches.pad_lists {
                // Written out rather than serialized: the test is of the gateway's
                // reading, and a 64 MiB string through the serializer is slow in a
                // debug build.
                Some(n) => {
                    let mut body = Vec::with_capacity(n + 1024);
                    body.extend_from_slice(b"{\"padding\":\"");
                    body.resize(body.len() + n, b'x');
                    body.extend_from_slice(b"\",");
                    body.extend_from_slice(&serde_json::to_vec(&answer).unwrap_or_default()[1..]);
                    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
                }
                None => axum::Json(answer).into_response(),
            }
        }
        "TraCuuHoSo" => {
            if !exact(&mut s, &obj, "TraCuuHoSo", &["session", "service", "donViXuLy", "mahoso"]) {
                return give(&mut s, "99", "Dữ liệu không hợp lệ");
            }
            let code = text("mahoso");
            let found: Vec<Value> = s
                .listed
                .iter()
                .filter(|l| !l.no_details && l.unit == unit && l.code() == code)
                .map(|l| l.detail.clone())
                .collect();
            *s.fetched.entry(code).or_default() += 1;
            *s.answers.entry("0".into()).or_default() += 1;
            axum::Json(json!({ "data": found, "error_code": "0" })).into_response()
        }
        "LayTaiLieuHoSo" => {
            if !exact(&mut s, &obj, "LayTaiLieuHoSo", &["session", "service", "donViXuLy", "duongdanteptin"]) {
                return give(&mut s, "99", "Dữ liệu không hợp lệ");
            }
            let path = text("duongdanteptin");
            let file = s.listed.iter().filter(|l| l.unit == unit).find_map(|l| {
                let named = l.row["hoSoDinhKem"].as_array()?.iter().find(|f| f["filedinhkem"] == path.as_str())?;
                Some((named["tengiayto"].clone(), l.files.get(&path)?.clone()))
            });
            let Some((name, bytes)) = file else { return give(&mut s, "2", "Không tìm thấy tệp") };
            *s.answers.entry("0".into()).or_default() += 1;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            axum::Json(json!({ "error_code": "0", "TepTinDinhKem": [{ "Base64": data, "DuongDan": path, "TenTaiLieu": name }] }))
                .into_response()
        }
        other => {
            s.violations.push(format!("the pull services have no service {other:?}"));
            give(&mut s, "99", "Dịch vụ không tồn tại")
        }
    }
}
