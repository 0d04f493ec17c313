//! The provincial centre's web pages under `/ui` (docs/UI.md): server-rendered
//! Vietnamese HTML with every asset inside the binary, for operators who log in with a
//! password. Each page is a module; this one holds what they share: the state, the
//! signed-in operator, the scope of units it may see, and the security headers.

mod chart;
mod dossier;
mod format;
mod guard;
mod logbook;
mod login;
mod overdue;
mod overview;
mod queue;
pub mod session;

use std::{collections::BTreeSet, sync::Arc};

use arc_swap::ArcSwap;

use askama::Template;
use axum::{
    Router,
    extract::FromRequestParts,
    http::{HeaderValue, Method, StatusCode, header, request::Parts},
    middleware,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use motcua_schemas::UnitCode;

use crate::app::App;
use crate::settings::ui::{Operator, OperatorRole};
use session::{COOKIE, Keys, Session};

/// What the pages share.
pub struct Ui {
    app: Arc<App>,
    /// The session key in force and the configured secret it was made from (a reload
    /// that rotates the secret ends every session).
    keys: ArcSwap<(Option<Vec<u8>>, Arc<Keys>)>,
    /// Who may try a password.
    guard: guard::Guard,
}

fn load_keys(settings: &crate::settings::Settings) -> Arc<Keys> {
    let keys = Keys::load(settings.ui.session_key.as_deref(), &settings.boot.data_dir).unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot keep the pages' session key; sessions end when this process does");
        let mut bytes = [0u8; 32];
        rand::fill(&mut bytes);
        Keys::new(&bytes)
    });
    Arc::new(keys)
}

impl Ui {
    /// The session key in force: made again when the configured secret changed.
    fn keys(&self) -> Arc<Keys> {
        let settings = self.app.settings();
        let current = self.keys.load();
        if current.0 == settings.ui.session_key {
            return current.1.clone();
        }
        let keys = load_keys(&settings);
        self.keys.store(Arc::new((settings.ui.session_key.clone(), keys.clone())));
        keys
    }
}

/// The pages' routes, on the main listener.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    let settings = app.settings();
    let keys = ArcSwap::from_pointee((settings.ui.session_key.clone(), load_keys(&settings)));
    let ui = Arc::new(Ui { app, keys, guard: guard::Guard::new(settings.ui.login_attempts) });
    Router::new()
        .route("/ui", get(overview::page))
        .route("/ui/", get(|| async { Redirect::to("/ui") }))
        .route("/ui/dang-nhap", get(login::form).post(login::submit))
        .route("/ui/dang-xuat", post(login::logout))
        .route("/ui/qua-han", get(overdue::page))
        .route("/ui/ho-so/{code}", get(dossier::page))
        .route("/ui/so-theo-doi", get(logbook::page))
        .route("/ui/hang-doi", get(queue::page))
        .route("/ui/hang-doi/{id}/gui-lai", post(queue::replay))
        .route("/ui/tam-gac/{source}/{id}/tha", post(queue::release))
        .route("/ui/tai-nguyen/giao-dien.css", get(stylesheet))
        .layer(middleware::map_response(security_headers))
        .with_state(ui)
}

/// The stylesheet, inside the binary.
async fn stylesheet() -> Response {
    let headers = [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")];
    (headers, include_str!("../../static/ui.css")).into_response()
}

/// No script, no frame, no outside resource; nothing cached but the stylesheet.
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The units an operator may see.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Every unit.
    All,
    /// These units (a commune and its sub-units).
    Within(BTreeSet<String>),
}

impl Scope {
    /// True when the unit `code` is in scope.
    pub fn covers(&self, code: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Within(units) => units.contains(code),
        }
    }
}

/// The operator of a request, signed in, with what it may do.
pub struct Signed {
    /// Who.
    pub operator: Operator,
    /// Its session.
    session: Session,
    /// A fresh cookie to send (the idle time slides).
    refresh: Option<String>,
    /// The token every form of the session carries.
    pub csrf: String,
}

impl Signed {
    /// The units it may see.
    pub fn scope(&self, ui: &Ui) -> Scope {
        match (&self.operator.role, &self.operator.unit) {
            (OperatorRole::Commune, Some(unit)) => {
                Scope::Within(ui.app.settings().network.subtree(unit).iter().map(ToString::to_string).collect())
            }
            (OperatorRole::Commune, None) => Scope::Within(BTreeSet::new()),
            _ => Scope::All,
        }
    }

    /// True when it may see personal data (name, ID number, address, phone).
    pub fn sees_personal_data(&self) -> bool {
        self.operator.role != OperatorRole::Auditor
    }

    /// The unit its pages start from: its own, or the province as it is today.
    pub fn home_unit(&self, ui: &Ui) -> Option<UnitCode> {
        self.operator.unit.clone().or_else(|| {
            let settings = ui.app.settings();
            let today = motcua_schemas::time::to_vn(ui.app.clock.now()).date();
            settings.network.units().filter(|u| u.parent.is_none() && u.valid_on(today)).map(|u| u.code.clone()).min()
        })
    }

    /// True when the CSRF token of a submitted form is this session's.
    pub fn csrf_ok(&self, ui: &Ui, token: &str) -> bool {
        ui.keys().csrf_ok("session", &self.session.nonce, token)
    }

    /// The frame every page is drawn in.
    pub fn frame(&self, title: &str, current: &'static str) -> Frame {
        Frame {
            title: title.to_owned(),
            current,
            operator: self.operator.display_name.clone(),
            role: self.operator.role.title(),
            csrf: self.csrf.clone(),
            may_replay: self.operator.role == OperatorRole::Centre,
        }
    }

    /// A page as the answer, with the refreshed cookie when there is one.
    pub fn page(&self, html: Result<String, askama::Error>) -> Response {
        let mut response = match html {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "a page could not be drawn");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
        if let Some(cookie) = &self.refresh
            && let Ok(value) = HeaderValue::from_str(cookie)
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }
}

/// What the layout shows around every page.
pub struct Frame {
    /// The page's title.
    pub title: String,
    /// Which menu entry is the current page.
    pub current: &'static str,
    /// The operator's name.
    pub operator: String,
    /// Its role, in words.
    pub role: &'static str,
    /// The CSRF token of the log-out form (and the page's forms).
    pub csrf: String,
    /// Whether the queue page shows replay buttons.
    pub may_replay: bool,
}

/// An error page.
#[derive(Template)]
#[template(path = "ui/error.html")]
struct ErrorPage<'a> {
    status: u16,
    message: &'a str,
}

/// A refusal a page gives, drawn as an error page.
#[derive(Debug, Clone, Copy)]
pub struct Refusal(pub StatusCode, pub &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        error_page(self.0, self.1)
    }
}

/// An error as a page of its own (no personal data, no detail of the cause).
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let html = ErrorPage { status: status.as_u16(), message }.render().unwrap_or_else(|_| message.to_owned());
    (status, Html(html)).into_response()
}

impl FromRequestParts<Arc<Ui>> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, ui: &Arc<Ui>) -> Result<Self, Self::Rejection> {
        let now = ui.app.clock.now().as_second();
        let settings = ui.app.settings();
        let idle = i64::try_from(settings.ui.idle.as_secs()).unwrap_or(i64::MAX);
        let keys = ui.keys();
        let signed = session::from_headers(&parts.headers, COOKIE)
            .and_then(|value| keys.open(value))
            .filter(|s| s.alive(now, idle))
            .and_then(|s| settings.ui.operator(&s.operator).map(|o| (s, o.clone())))
            .filter(|(s, o)| s.entry == session::entry_digest(o))
            .filter(|(s, o)| crate::operators::generation(&ui.app.store, &o.name).is_ok_and(|g| g == s.generation));
        let Some((mut session, operator)) = signed else {
            return Err(if parts.method == Method::GET {
                Redirect::to("/ui/dang-nhap").into_response()
            } else {
                error_page(StatusCode::FORBIDDEN, "Phiên làm việc đã hết hạn. Vui lòng đăng nhập lại.")
            });
        };
        let refresh = session.stale(now).then(|| {
            session.seen = now;
            session::set_cookie(COOKIE, &keys.seal(&session), idle)
        });
        let csrf = keys.csrf("session", &session.nonce);
        Ok(Signed { operator, session, refresh, csrf })
    }
}
