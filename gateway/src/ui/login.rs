//! Logging in and out: a login form bound to a cookie of its own (its CSRF token),
//! failed attempts limited per account and per address, passwords checked against their
//! Argon2id hashes off the async threads, and every outcome logged without the
//! password.

use std::{net::IpAddr, sync::Arc, sync::OnceLock};

use askama::Template;
use axum::{
    Form,
    extract::{FromRequestParts, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    Signed, Ui, error_page,
    session::{self, COOKIE, LOGIN_COOKIE, Session},
};

#[derive(Template)]
#[template(path = "ui/login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    name: &'a str,
    message: Option<&'a str>,
}

/// The caller's address, as the rate limits see it.
pub struct Address(Option<IpAddr>);

impl FromRequestParts<Arc<Ui>> for Address {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, ui: &Arc<Ui>) -> Result<Self, Self::Rejection> {
        Ok(Address(crate::http::caller::client_ip(parts, &ui.app.settings())))
    }
}

/// The login form with a fresh nonce (and its cookie).
fn login_page(ui: &Ui, status: StatusCode, name: &str, message: Option<&str>) -> Response {
    let nonce = session::nonce();
    let csrf = ui.keys.csrf("login", &nonce);
    let html = LoginPage { csrf: &csrf, name, message }.render().unwrap_or_default();
    let mut response = (status, Html(html)).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&session::set_cookie(LOGIN_COOKIE, &nonce, 900)) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `GET /ui/dang-nhap`.
pub async fn form(State(ui): State<Arc<Ui>>) -> Response {
    login_page(&ui, StatusCode::OK, "", None)
}

/// The login form's fields.
#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    ten: String,
    #[serde(default)]
    mat_khau: String,
    #[serde(default)]
    csrf: String,
}

/// A hash to check unknown accounts against, so that they take as long as known ones.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| crate::auth::basic::hash_secret("tai-khoan-khong-ton-tai").unwrap_or_default())
}

/// `POST /ui/dang-nhap`.
pub async fn submit(
    State(ui): State<Arc<Ui>>,
    Address(address): Address,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let nonce = session::from_headers(&headers, LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !ui.keys.csrf_ok("login", nonce, &form.csrf) {
        tracing::warn!(target: "motcua::ui", action = "login", outcome = "csrf", "a login form without a valid token");
        return login_page(
            &ui,
            StatusCode::FORBIDDEN,
            "",
            Some("Biểu mẫu đăng nhập đã hết hạn hoặc không hợp lệ. Vui lòng đăng nhập lại."),
        );
    }
    let name = form.ten.trim().to_owned();
    if name.is_empty() || name.len() > 64 {
        return login_page(&ui, StatusCode::UNAUTHORIZED, "", Some("Vui lòng nhập tên đăng nhập và mật khẩu."));
    }
    let now = std::time::Instant::now();
    let held = ui.by_account.blocked(&name, now) || address.is_some_and(|a| ui.by_address.blocked(&a, now));
    if held {
        tracing::warn!(target: "motcua::ui", action = "login", operator = %name, outcome = "held", "too many failed logins");
        return login_page(
            &ui,
            StatusCode::TOO_MANY_REQUESTS,
            &name,
            Some("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút."),
        );
    }
    let settings = ui.app.settings();
    let operator = settings.ui.operator(&name).cloned();
    let hash = operator.as_ref().map_or_else(|| decoy_hash().to_owned(), |o| o.password_hash.clone());
    let password = form.mat_khau;
    let verified = tokio::task::spawn_blocking(move || {
        use argon2::PasswordVerifier;
        argon2::PasswordHash::new(&hash)
            .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false);
    let Some(operator) = operator.filter(|_| verified) else {
        ui.by_account.record(name.clone(), now);
        if let Some(address) = address {
            ui.by_address.record(address, now);
        }
        tracing::warn!(target: "motcua::ui", action = "login", operator = %name, outcome = "refused", "login refused");
        return login_page(&ui, StatusCode::UNAUTHORIZED, &name, Some("Tên đăng nhập hoặc mật khẩu không đúng."));
    };
    tracing::info!(target: "motcua::ui", action = "login", operator = %operator.name, "operator logged in");
    let session = Session::new(&operator.name, jiff::Timestamp::now().as_second());
    let idle = i64::try_from(settings.ui.idle.as_secs()).unwrap_or(i64::MAX);
    let mut response = Redirect::to("/ui").into_response();
    for cookie in [session::set_cookie(COOKIE, &ui.keys.seal(&session), idle), session::set_cookie(LOGIN_COOKIE, "", 0)]
    {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A form that carries only its CSRF token.
#[derive(Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /ui/dang-xuat`.
pub async fn logout(State(ui): State<Arc<Ui>>, signed: Signed, Form(form): Form<TokenForm>) -> Response {
    if !signed.csrf_ok(&ui, &form.csrf) {
        return error_page(StatusCode::FORBIDDEN, "Yêu cầu không hợp lệ (thiếu mã xác thực biểu mẫu).");
    }
    tracing::info!(target: "motcua::ui", action = "logout", operator = %signed.operator.name, "operator logged out");
    let mut response = Redirect::to("/ui/dang-nhap").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::set_cookie(COOKIE, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
