//! Timing the operators' web pages over a benchmarked store: the bench logs in through
//! the login form as an operator of the sample configuration (its development
//! password is published in config/dev/README.md), then fetches each page a few times
//! with that session, as a browser would.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{HeaderMap, Request};

use super::load::{Sender, connect_one};

/// The sample configuration's provincial centre operator, who sees every unit.
const OPERATOR: &str = "trungtam";
/// Its published development password.
const PASSWORD: &str = "trungtam-dev-matkhau";

/// The pages timed, each of which reads across the whole store or its queues.
pub const PAGES: &[&str] = &["/ui", "/ui/qua-han", "/ui/so-theo-doi", "/ui/hang-doi"];

/// A page's times, in milliseconds.
#[derive(Debug, Clone)]
pub struct PageTimes {
    /// Its path.
    pub path: &'static str,
    /// The status of its last answer.
    pub status: u16,
    /// Median and slowest of the timed fetches.
    pub median_ms: f64,
    /// The slowest.
    pub max_ms: f64,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

fn csrf_of(html: &[u8]) -> Option<String> {
    let html = std::str::from_utf8(html).ok()?;
    let marker = "name=\"csrf\" value=\"";
    let at = html.find(marker)? + marker.len();
    Some(html[at..].split('"').next()?.to_owned())
}

fn get(path: &str, cookie: &str) -> Result<Request<Full<Bytes>>, String> {
    Request::get(path)
        .header("host", "localhost")
        .header("cookie", cookie)
        .body(Full::new(Bytes::new()))
        .map_err(|e| e.to_string())
}

/// Logs in; the session cookie.
async fn log_in(sender: &mut Sender) -> Result<String, String> {
    let (_, headers, body) = sender.send_keeping_headers(get("/ui/dang-nhap", "")?).await.map_err(|e| e.to_string())?;
    let nonce = cookie(&headers, "motcua_dang_nhap").ok_or("the login form set no cookie")?;
    let csrf = csrf_of(&body).ok_or("the login form has no token")?;
    let form = format!("ten={OPERATOR}&mat_khau={PASSWORD}&csrf={csrf}");
    let request = Request::post("/ui/dang-nhap")
        .header("host", "localhost")
        .header("cookie", format!("motcua_dang_nhap={nonce}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))
        .map_err(|e| e.to_string())?;
    let (status, headers, _) = sender.send_keeping_headers(request).await.map_err(|e| e.to_string())?;
    cookie(&headers, "motcua_phien")
        .map(|session| format!("motcua_phien={session}"))
        .ok_or_else(|| format!("logging in as {OPERATOR} answered {status} without a session"))
}

/// Fetches each of `PAGES` `times` times (after one untimed fetch) as the operator.
pub async fn time_pages(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    times: usize,
) -> Result<Vec<PageTimes>, String> {
    let mut sender = connect_one(addr, tls).await?;
    let session = log_in(&mut sender).await?;
    let mut out = Vec::new();
    for &path in PAGES {
        let mut took = Vec::with_capacity(times);
        let mut status = 0;
        for n in 0..=times {
            let started = Instant::now();
            let (answered, _, _) =
                sender.send_keeping_headers(get(path, &session)?).await.map_err(|e| e.to_string())?;
            status = answered;
            if n > 0 {
                took.push(started.elapsed().as_secs_f64() * 1000.0);
            }
        }
        took.sort_by(f64::total_cmp);
        out.push(PageTimes {
            path,
            status,
            median_ms: took.get(took.len() / 2).copied().unwrap_or(0.0),
            max_ms: took.last().copied().unwrap_or(0.0),
        });
    }
    Ok(out)
}
