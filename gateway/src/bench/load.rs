//! The load generator: N concurrent HTTPS connections (HTTP/1.1 keep-alive, one
//! request in flight each; or HTTP/2 with several streams per connection), each
//! sending its own stream of unique requests for a fixed time, recording every
//! latency and status.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

/// What each request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Portal JSON dossiers.
    Portal,
    /// Postal XML dossiers.
    Postal,
    /// Alternating portal and postal.
    Mixed,
}

/// A load to apply.
#[derive(Clone)]
pub struct LoadSpec {
    /// Where.
    pub addr: SocketAddr,
    /// TLS client configuration (trusting the target's CA).
    pub tls: Arc<rustls::ClientConfig>,
    /// HTTP/2 instead of HTTP/1.1.
    pub http2: bool,
    /// Concurrent requests in flight (connections for HTTP/1.1; streams for HTTP/2).
    pub concurrency: usize,
    /// Streams per HTTP/2 connection.
    pub streams_per_connection: usize,
    /// How long to measure.
    pub duration: Duration,
    /// How long to run before measuring.
    pub warmup: Duration,
    /// What to send.
    pub kind: Kind,
    /// Token of the portal client.
    pub portal_token: String,
    /// Token of the postal client.
    pub postal_token: String,
    /// Makes submission ids unique across runs.
    pub run_id: String,
    /// Serial numbers for postal item codes start here.
    pub postal_serials: Arc<AtomicU64>,
    /// Communes the portal dossiers are addressed to.
    pub units: &'static [&'static str],
    /// Stop after this many requests in all (the duration still bounds the run).
    pub budget: Option<Arc<AtomicU64>>,
    /// Requests per second in all (paced per worker); as fast as possible when absent.
    pub rate: Option<f64>,
    /// Portal dossiers ask for `Prefer: return=minimal`.
    pub prefer_minimal: bool,
}

/// What a load run measured.
#[derive(Debug, Clone, Default)]
pub struct LoadResult {
    /// Measured time.
    pub elapsed: Duration,
    /// Latencies of 2xx answers, microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Answers by status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that failed without an answer.
    pub transport_errors: u64,
}

impl LoadResult {
    /// 2xx answers per second.
    pub fn throughput(&self) -> f64 {
        self.latencies_us.len() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// A latency percentile in milliseconds (0 when nothing was measured).
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        f64::from(self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1]) / 1000.0
    }

    /// Non-2xx answers and transport errors.
    pub fn errors(&self) -> u64 {
        self.statuses.iter().filter(|(s, _)| !(200..300).contains(*s)).map(|(_, n)| n).sum::<u64>()
            + self.transport_errors
    }

    fn merge(&mut self, other: LoadResult) {
        self.latencies_us.extend(other.latencies_us);
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.transport_errors += other.transport_errors;
    }
}

type Sender1 = hyper::client::conn::http1::SendRequest<Full<Bytes>>;
type Sender2 = hyper::client::conn::http2::SendRequest<Full<Bytes>>;

impl LoadSpec {
    /// One connection for requests one at a time, carrying no load of its own.
    fn probing(addr: SocketAddr, tls: Arc<rustls::ClientConfig>) -> LoadSpec {
        LoadSpec {
            addr,
            tls,
            http2: false,
            concurrency: 1,
            streams_per_connection: 1,
            duration: Duration::ZERO,
            warmup: Duration::ZERO,
            kind: Kind::Portal,
            portal_token: String::new(),
            postal_token: String::new(),
            run_id: String::new(),
            postal_serials: Arc::default(),
            units: &[],
            budget: None,
            rate: None,
            prefer_minimal: false,
        }
    }
}

/// A connection's request sender.
pub(super) enum Sender {
    H1(Sender1),
    H2(Sender2),
}

impl Sender {
    async fn send(&mut self, request: Request<Full<Bytes>>) -> Result<(u16, Bytes), hyper::Error> {
        self.send_keeping_headers(request).await.map(|(status, _, body)| (status, body))
    }

    /// Sends `request`; its answer's status, headers and body.
    pub(super) async fn send_keeping_headers(
        &mut self,
        request: Request<Full<Bytes>>,
    ) -> Result<(u16, hyper::HeaderMap, Bytes), hyper::Error> {
        let response = match self {
            Sender::H1(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
            Sender::H2(s) => {
                s.ready().await?;
                s.send_request(request).await?
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, headers, body))
    }
}

/// One HTTPS connection to `addr` (HTTP/1.1), for requests one at a time.
pub(super) async fn connect_one(addr: SocketAddr, tls: Arc<rustls::ClientConfig>) -> Result<Sender, String> {
    connect(&LoadSpec::probing(addr, tls)).await
}

async fn connect(spec: &LoadSpec) -> Result<Sender, String> {
    let tcp = tokio::net::TcpStream::connect(spec.addr).await.map_err(|e| e.to_string())?;
    let _ = tcp.set_nodelay(true);
    let mut tls = (*spec.tls).clone();
    tls.alpn_protocols = vec![if spec.http2 { b"h2".to_vec() } else { b"http/1.1".to_vec() }];
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let stream = TlsConnector::from(Arc::new(tls)).connect(name, tcp).await.map_err(|e| e.to_string())?;
    let io = TokioIo::new(stream);
    if spec.http2 {
        let (sender, connection) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), io).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(Sender::H2(sender))
    } else {
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(Sender::H1(sender))
    }
}

#[expect(clippy::expect_used, reason = "constant paths and headers, and tokens the bench minted itself")]
fn request(spec: &LoadSpec, worker: usize, n: u64) -> Request<Full<Bytes>> {
    let postal = match spec.kind {
        Kind::Portal => false,
        Kind::Postal => true,
        Kind::Mixed => n % 2 == 1,
    };
    let (path, token, content_type, body) = if postal {
        let serial = spec.postal_serials.fetch_add(1, Ordering::Relaxed);
        ("/v1/postal/dossiers", &spec.postal_token, "application/xml", super::payload::postal(serial, spec.units))
    } else {
        let id = format!("BENCH-{}-{worker}-{n}", spec.run_id);
        ("/v1/portal/dossiers", &spec.portal_token, "application/json", super::payload::portal(&id, n, spec.units))
    };
    let mut request = Request::post(path)
        .header("host", "localhost")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type);
    if spec.prefer_minimal && !postal {
        request = request.header("prefer", "return=minimal");
    }
    request.body(Full::new(Bytes::from(body))).expect("a well-formed request")
}

async fn worker(
    spec: Arc<LoadSpec>,
    index: usize,
    mut sender: Option<Sender>,
    measure_from: Instant,
    until: Instant,
) -> LoadResult {
    let mut result = LoadResult::default();
    let mut n = 0u64;
    let interval = spec.rate.map(|r| Duration::from_secs_f64(spec.concurrency as f64 / r.max(0.001)));
    let paced_from = Instant::now();
    while Instant::now() < until {
        if let Some(interval) = interval {
            let next = paced_from + interval.mul_f64(n as f64);
            if next > Instant::now() {
                tokio::time::sleep_until(next.into()).await;
            }
        }
        if let Some(budget) = &spec.budget
            && budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(1)).is_err()
        {
            break;
        }
        let mut current = match sender.take() {
            Some(s) => s,
            None => match connect(&spec).await {
                Ok(s) => s,
                Err(_) => {
                    result.transport_errors += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        n += 1;
        let started = Instant::now();
        let outcome = current.send(request(&spec, index, n)).await;
        let measured = started >= measure_from;
        match outcome {
            Ok((status, _)) => {
                if measured {
                    *result.statuses.entry(status).or_default() += 1;
                    if (200..300).contains(&status) {
                        result.latencies_us.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                }
                sender = Some(current);
            }
            Err(_) => {
                if measured {
                    result.transport_errors += 1;
                }
            }
        }
    }
    result
}

/// Applies `spec` and returns what it measured.
pub async fn run(spec: LoadSpec) -> LoadResult {
    let spec = Arc::new(spec);
    let start = Instant::now();
    let measure_from = start + spec.warmup;
    let until = measure_from + spec.duration;
    let mut tasks = Vec::new();
    if spec.http2 {
        let per = spec.streams_per_connection.max(1);
        let connections = spec.concurrency.div_ceil(per);
        for c in 0..connections {
            let shared = connect(&spec).await.ok();
            for s in 0..per.min(spec.concurrency - c * per) {
                let sender = match &shared {
                    Some(Sender::H2(h2)) => Some(Sender::H2(h2.clone())),
                    _ => None,
                };
                tasks.push(tokio::spawn(worker(spec.clone(), c * per + s, sender, measure_from, until)));
            }
        }
    } else {
        for i in 0..spec.concurrency {
            tasks.push(tokio::spawn(worker(spec.clone(), i, None, measure_from, until)));
        }
    }
    let mut total = LoadResult::default();
    for task in tasks {
        if let Ok(result) = task.await {
            total.merge(result);
        }
    }
    total.elapsed =
        Instant::now().saturating_duration_since(measure_from).min(spec.duration.max(Duration::from_millis(1)));
    total.latencies_us.sort_unstable();
    total
}

/// Sends `GET path` `times` times over one HTTP/1.1 connection and returns each
/// answer's status, body and time.
pub async fn probe(
    addr: SocketAddr,
    tls: Arc<rustls::ClientConfig>,
    token: &str,
    path: &str,
    times: usize,
) -> Vec<(u16, Bytes, Duration)> {
    let Ok(mut sender) = connect_one(addr, tls).await else { return Vec::new() };
    let mut answers = Vec::new();
    for _ in 0..times {
        let Ok(request) = Request::get(path)
            .header("host", "localhost")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::new()))
        else {
            break;
        };
        let started = Instant::now();
        match sender.send(request).await {
            Ok((status, body)) => answers.push((status, body, started.elapsed())),
            Err(_) => break,
        }
    }
    answers
}
