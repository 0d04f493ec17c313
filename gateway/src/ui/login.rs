//! Logging in and out: a login form bound to a cookie of its own (its CSRF token),
//! each attempt admitted by the guard before its password is checked against the
//! Argon2id hash, a logout that ends every session of the operator, and every outcome
//! logged without the password.

use std::{net::IpAddr, sync::Arc};

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
    guard::Held,
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
        Ok(Address(crate::server::client_ip(parts, &ui.app.settings())))
    }
}

/// The login form with a fresh nonce (and its cookie).
fn login_page(ui: &Ui, status: StatusCode, name: &str, message: Option<&str>) -> Response {
    let nonce = session::nonce();
    let csrf = ui.keys().csrf("login", &nonce);
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

/// `POST /ui/dang-nhap`.
pub async fn submit(
    State(ui): State<Arc<Ui>>,
    Address(address): Address,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let keys = ui.keys();
    let nonce = session::from_headers(&headers, LOGIN_COOKIE).unwrap_or_default();
    if nonce.is_empty() || !keys.csrf_ok("login", nonce, &form.csrf) {
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
    // The attempt is counted before the password is checked.
    let attempt = match ui.guard.admit(&ui.app.store, &name, address) {
        Ok(attempt) => attempt,
        Err(held) => {
            tracing::warn!(target: "motcua::ui", action = "login", operator = %name, outcome = "held", ?held, "too many failed logins");
            let message = match held {
                Held::Address => "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.",
                Held::NewAddress => {
                    "Tài khoản tạm thời chỉ được đăng nhập từ nơi đã đăng nhập trước đây do có nhiều lần đăng nhập sai. \
                     Vui lòng thử lại sau 15 phút hoặc đề nghị quản trị viên mở khóa."
                }
            };
            return login_page(&ui, StatusCode::TOO_MANY_REQUESTS, &name, Some(message));
        }
    };
    let settings = ui.app.settings();
    let operator = settings.ui.operator(&name).cloned();
    // An unknown account is checked against a decoy: it costs what a known one does.
    let hash = operator.as_ref().map(|o| o.password_hash.as_str());
    let verified = crate::auth::password::verify(hash, &form.mat_khau, &ui.app.metrics.password_checks).await;
    let Some(operator) = operator.filter(|_| verified) else {
        drop(attempt);
        tracing::warn!(target: "motcua::ui", action = "login", operator = %name, outcome = "refused", "login refused");
        return login_page(&ui, StatusCode::UNAUTHORIZED, &name, Some("Tên đăng nhập hoặc mật khẩu không đúng."));
    };
    ui.guard.succeeded(attempt);
    let generation = match crate::operators::generation(&ui.app.store, &operator.name) {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = %e, "an operator's session generation could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đăng nhập được. Vui lòng thử lại sau.");
        }
    };
    if let Some(address) = address
        && let Err(e) = crate::operators::remember_address(&ui.app.store, &operator.name, address).await
    {
        tracing::warn!(error = %e, "the address of a login could not be remembered");
    }
    tracing::info!(target: "motcua::ui", action = "login", operator = %operator.name, "operator logged in");
    let session = Session::new(&operator, generation, ui.app.clock.now().as_second());
    let idle = i64::try_from(settings.ui.idle.as_secs()).unwrap_or(i64::MAX);
    let mut response = Redirect::to("/ui").into_response();
    for cookie in [session::set_cookie(COOKIE, &keys.seal(&session), idle), session::set_cookie(LOGIN_COOKIE, "", 0)] {
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
    // Every session of the operator ends, on every node.
    if let Err(e) = crate::operators::end_sessions(&ui.app.store, &signed.operator.name).await {
        tracing::error!(error = %e, "a logout could not end the operator's sessions");
        return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đăng xuất được. Vui lòng thử lại sau.");
    }
    tracing::info!(target: "motcua::ui", action = "logout", operator = %signed.operator.name, "operator logged out");
    let mut response = Redirect::to("/ui/dang-nhap").into_response();
    if let Ok(value) = HeaderValue::from_str(&session::set_cookie(COOKIE, "", 0)) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
