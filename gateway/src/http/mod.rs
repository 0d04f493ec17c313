//! The HTTP API (CONTRACT): routes, and the layers every request passes through —
//! request id, access log, request time limit, and the postal partner's XML errors.

pub mod admin;
pub mod body;
pub mod caller;
pub mod desk;
pub mod dossiers;
pub mod drain;
pub mod dvcqg;
pub mod error;
pub mod extract;
pub mod health;
pub mod intake;
pub mod openapi;
pub mod payment;
pub mod post;
pub mod public;
pub mod reports;
pub mod stored_files;

use std::{
    sync::{Arc, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};

use crate::app::App;
use crate::metrics::{RequestLabels, RouteLabels};
use error::ApiError;

/// The header carrying the request id.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Filled by authentication with the client id, read by the access log.
#[derive(Clone, Default)]
pub struct ClientSlot(pub Arc<OnceLock<String>>);

/// Request ids: a per-process random prefix and a counter (unique, cheap, no PII).
#[derive(Clone)]
struct RequestIds {
    prefix: Arc<str>,
    next: Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        let mut bytes = [0u8; 4];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        let prefix: String = crate::digest::hex(&bytes);
        Self { prefix: prefix.into(), next: Arc::default() }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

/// One log line per request: id, client, route template (never the query, which may
/// carry personal data), status and time.
async fn access_log(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let slot = ClientSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let route =
        request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "-".to_owned());
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .chars()
        .take(64)
        .collect::<String>();
    let limit = Duration::from_secs(app.settings().limits.request_timeout_secs);
    let response = match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::timeout().into_response(),
    };
    let client = slot.0.get().map(String::as_str).unwrap_or("-");
    let elapsed = started.elapsed();
    app.metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.to_string(),
            status: response.status().as_u16(),
        })
        .inc();
    app.metrics.latency.get_or_create(&RouteLabels { route: route.clone() }).observe(elapsed.as_secs_f64());
    tracing::info!(
        target: "motcua::access",
        request_id = %id,
        client,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        ms = (elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
        "request"
    );
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

/// The routes of the main listener, with `pages` (the web pages' routes, which keep
/// their own sessions) merged in under the same layers. Which roles may call each
/// route is declared here, once, by the group it sits in.
pub fn router(app: Arc<App>, pages: Router<Arc<App>>) -> Router {
    use crate::auth::Role::{Admin, Desk, Portal, Postal};
    use caller::admit;
    let postal = admit(
        &[Postal],
        &app,
        Router::new()
            .route("/v1/postal/dossiers", post(intake::postal))
            .route("/v1/postal/events", post(intake::postal_event)),
    )
    .layer(middleware::map_response(error::problem_to_postal_xml));
    let portal = Router::new()
        .route("/v1/portal/dossiers", post(intake::portal))
        .route("/v1/dvcqg/dossiers", post(dvcqg::push))
        .route("/v1/portal/dossiers/{code}/rating", post(dossiers::rating));
    let readers = Router::new()
        .route("/v1/dossiers/{code}", get(dossiers::get_one))
        .route("/v1/dossiers/{code}/receipt", get(dossiers::receipt))
        .route("/v1/dossiers/{code}/apology", get(dossiers::apology))
        .route("/v1/dossiers/{code}/documents", get(dossiers::documents))
        .route("/v1/dossiers/{code}/documents/{index}", get(dossiers::document));
    let desks = Router::new()
        .route("/v1/desk/inbox", get(desk::inbox))
        .route("/v1/desk/inbox/{item}/ack", post(desk::ack))
        .route("/v1/desk/dossiers/{code}/events", post(desk::event));
    let desks_and_admins = Router::new()
        .route("/v1/stats", get(reports::stats))
        .route("/v1/logbook", get(reports::logbook))
        .route("/v1/desk/dossiers/{code}/collection", post(self::post::collection))
        .route("/v1/desk/dossiers/{code}/payment", post(payment::reopen));
    let admins = Router::new()
        .route("/v1/admin/dossiers", get(reports::dossiers))
        .route("/v1/admin/waybills", post(self::post::import_waybills))
        .route("/v1/admin/queue", get(admin::queue))
        .route("/v1/admin/dead-letters", get(admin::dead_letters))
        .route("/v1/admin/dead-letters/{id}/replay", post(admin::replay))
        .route("/v1/admin/backup", post(admin::backup))
        .route("/v1/admin/portal/ratings", post(admin::ratings))
        .route("/v1/admin/operators/{name}/unlock", post(admin::unlock_operator))
        .route("/metrics", get(health::metrics));
    let public = Router::new()
        .route("/v1/public/lookup", get(public::lookup))
        .route("/v1/public/notifications/stop", post(public::stop_notifications))
        .route("/v1/files/{sha256}", get(stored_files::fetch))
        .route("/v1/paygov/confirm", post(payment::confirm))
        .route("/.well-known/jwks.json", get(health::jwks))
        .route("/openapi.yaml", get(openapi::serve))
        .merge(probe_routes());
    Router::new()
        .merge(admit(&[Portal], &app, portal))
        .merge(admit(&[Portal, Desk, Admin], &app, readers))
        .merge(admit(&[Desk], &app, desks))
        .merge(admit(&[Desk, Admin], &app, desks_and_admins))
        .merge(admit(&[Admin], &app, admins))
        .merge(public)
        .merge(postal)
        .merge(pages)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), access_log))
        .layer(middleware::from_fn_with_state(app.clone(), drain::drain_unread))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        .with_state(app)
}

fn probe_routes() -> Router<Arc<App>> {
    Router::new().route("/healthz", get(health::healthz)).route("/readyz", get(health::readyz))
}

/// The routes of the plain admin listener (probes; metrics come with operations).
pub fn admin_router(app: Arc<App>) -> Router {
    probe_routes().route("/metrics", get(health::metrics)).fallback(not_found).with_state(app)
}
