//! Who is calling, and whether they may: authentication and the roles each group of
//! routes admits, decided in one place before any handler runs. Authentication
//! verifies the bearer token (or HTTP Basic), checks the client's certificate
//! requirement, applies the rate limits (per client; per IP for failed checks) and
//! records the client for the access log.

use std::sync::Arc;

use axum::{
    Router,
    extract::{FromRequestParts, Request, State},
    http::request::Parts,
    middleware::{self, Next},
    response::Response,
};

use super::{ClientSlot, error::ApiError};
use crate::app::App;
use crate::auth::Role;
use crate::auth::{
    basic::BasicRefusal,
    clients::{Client, MtlsRule},
    verify,
};
use crate::metrics::ClientLabels;
use crate::server::{ConnInfo, client_ip, tls::PeerCertificate};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The configured client.
    pub client: Arc<Client>,
    /// The token's subject.
    pub subject: String,
}

impl Caller {
    /// 403 unless the caller has one of `roles`.
    fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.client.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("role {} may not call this endpoint", self.client.role.as_str())))
        }
    }

    /// The desk a desk client acts for.
    pub fn desk(&self) -> Option<&str> {
        self.client.desk.as_deref()
    }
}

fn certificate_matches(rule: &MtlsRule, cert: Option<&PeerCertificate>) -> bool {
    let Some(cert) = cert else { return false };
    let normalize = |s: &str| s.split(',').map(str::trim).collect::<Vec<_>>().join(",");
    let subject_ok = rule.subject.as_ref().is_none_or(|s| normalize(s) == normalize(&cert.subject));
    let fingerprint_ok = rule.sha256.as_ref().is_none_or(|f| *f == cert.sha256);
    subject_ok && fingerprint_ok
}

/// Applies the per-IP limit to a public request.
pub fn limit_ip(app: &App, parts: &Parts) -> Result<(), ApiError> {
    let settings = app.settings();
    if let Some(ip) = client_ip(parts, &settings) {
        let decision = app.limiters().check_ip(ip);
        if !decision.allowed() {
            app.metrics.rate_limited.get_or_create(&ClientLabels { client: "ip".into() }).inc();
            return Err(ApiError::rate_limited(decision.retry_after, decision.headers()));
        }
    }
    Ok(())
}

/// A caller of a public endpoint, within the per-IP limit.
#[derive(Debug, Clone, Copy)]
pub struct PublicCaller;

impl FromRequestParts<Arc<App>> for PublicCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        limit_ip(app, parts)?;
        Ok(PublicCaller)
    }
}

/// Authenticates the request's caller.
async fn authenticate(parts: &Parts, app: &App) -> Result<Caller, ApiError> {
    let settings = app.settings();
    let authorization = parts.headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token =
        authorization.and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer "))).map(str::trim);
    let basic = authorization.and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")));
    let now = app.clock.now().as_second();
    let verified = match (token, basic) {
        (Some(token), _) => app.tokens().verify(token, &settings.clients, &settings.gateway.audience, now),
        (None, Some(basic)) => match app
            .basic
            .verify(basic, &settings.clients, client_ip(parts, &settings), &app.metrics.password_checks)
            .await
        {
            Ok(client) => Ok(verify::Verified { subject: client.id.clone(), client, expires_at: now }),
            Err(BasicRefusal::Held { retry_after }) => {
                app.metrics.rate_limited.get_or_create(&ClientLabels { client: "basic".into() }).inc();
                return Err(ApiError::held(retry_after));
            }
            Err(BasicRefusal::Wrong) => Err(verify::TokenError("the user name or password is wrong".into())),
        },
        (None, None) => Err(verify::TokenError("a bearer token is required".into())),
    };
    let verified = match verified {
        Ok(v) => v,
        Err(reason) => {
            limit_ip(app, parts)?;
            return Err(ApiError::unauthorized(&reason.0, token.is_some() || basic.is_some()));
        }
    };
    let client = verified.client;
    if let Some(slot) = parts.extensions.get::<ClientSlot>() {
        let _ = slot.0.set(client.id.clone());
    }
    if let Some(rule) = &client.mtls {
        let cert = parts.extensions.get::<ConnInfo>().and_then(|c| c.certificate.as_ref());
        if !certificate_matches(rule, cert) {
            return Err(ApiError::forbidden("this client must present its configured client certificate"));
        }
    }
    if let Some(decision) = app.limiters().check_client(&client.id)
        && !decision.allowed()
    {
        app.metrics.rate_limited.get_or_create(&ClientLabels { client: client.id.clone() }).inc();
        return Err(ApiError::rate_limited(decision.retry_after, decision.headers()));
    }
    Ok(Caller { client, subject: verified.subject })
}

/// The routes of `routes`, each admitting only callers with one of `roles`: the
/// caller is authenticated and authorized before the handler (or its extractors)
/// looks at anything, and handed to the handler as [`Caller`].
pub fn admit(roles: &'static [Role], app: &Arc<App>, routes: Router<Arc<App>>) -> Router<Arc<App>> {
    routes.route_layer(middleware::from_fn_with_state((app.clone(), roles), authorize))
}

async fn authorize(
    State((app, roles)): State<(Arc<App>, &'static [Role])>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (mut parts, body) = request.into_parts();
    let caller = authenticate(&parts, &app).await?;
    caller.require(roles)?;
    parts.extensions.insert(caller);
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// The caller [`admit`] let through. A handler on a route that declares no roles
/// gets 403 for every request: a route forgotten is closed, not open.
impl FromRequestParts<Arc<App>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &Arc<App>) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| ApiError::forbidden("this endpoint admits no role"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_rules() {
        let cert = PeerCertificate { subject: "CN=portal, O=Example".into(), sha256: "ab".repeat(32) };
        let by_subject = MtlsRule { subject: Some("CN=portal,O=Example".into()), sha256: None };
        let by_print = MtlsRule { subject: None, sha256: Some("ab".repeat(32)) };
        let wrong = MtlsRule { subject: Some("CN=other".into()), sha256: None };
        assert!(certificate_matches(&by_subject, Some(&cert)));
        assert!(certificate_matches(&by_print, Some(&cert)));
        assert!(!certificate_matches(&wrong, Some(&cert)));
        assert!(!certificate_matches(&by_print, None));
    }
}
