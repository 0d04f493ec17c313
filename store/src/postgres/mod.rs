//! PostgreSQL under the store, for one node or several sharing one database
//! (docs/STORAGE.md). Every space's key-value rows live in one table, and the
//! dossiers also in a queryable one, written in the same transaction. A node keeps
//! three connections: one for reads, owned by a thread of its own; one for its
//! writer's batches, used from the writer's thread (each batch a transaction that
//! first takes the cluster's batch lock, so its reads see every node's commits and its
//! counters are unique across nodes); and one for its place in the cluster (leadership
//! and the other nodes' commit notes).

mod cluster;
mod notes;
mod schema;
mod session;

use std::{
    ops::Bound,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use tokio::sync::{mpsc::UnboundedSender, watch};

use super::{
    CommitNote, StoreError,
    backend::{Backend, CommitError, Entries, Entry, Reads},
    tx::Overlay,
};
use session::{Link, PAGE, Reply, Request, Session};

/// How long connecting to one host may take before the next is tried.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// The first key after every key that starts with `prefix`, if there is one.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A connection's thread, reached through a channel.
struct Connection {
    requests: Mutex<mpsc::Sender<Request>>,
}

impl Connection {
    fn start(name: &str, session: Session) -> Result<Connection, StoreError> {
        let (requests, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || session.serve(incoming))
            .map_err(|e| StoreError::Backend(format!("cannot start {name}: {e}")))?;
        Ok(Connection { requests: Mutex::new(requests) })
    }

    fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, StoreError> {
        let (reply, answer) = mpsc::channel();
        self.requests
            .lock()
            .map_err(|_| StoreError::Internal)?
            .send(make(reply))
            .map_err(|_| StoreError::Unavailable)?;
        answer.recv().map_err(|_| StoreError::Unavailable)?
    }
}

impl Reads for Connection {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.ask(|reply| Request::Get(key.to_vec(), reply))
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        Box::new(Pages { source: self, next: Some(start), page: Vec::new().into_iter() })
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        self.ask(|reply| Request::Count(prefix.to_vec(), reply))
    }
}

/// Where a scan reads its pages from.
trait PageSource: Sync {
    fn page(&self, start: Bound<Vec<u8>>) -> Result<Vec<Entry>, StoreError>;
}

impl PageSource for Connection {
    fn page(&self, start: Bound<Vec<u8>>) -> Result<Vec<Entry>, StoreError> {
        self.ask(|reply| Request::Page(start, reply))
    }
}

/// A scan read page by page.
struct Pages<'a> {
    source: &'a dyn PageSource,
    next: Option<Bound<Vec<u8>>>,
    page: std::vec::IntoIter<Entry>,
}

impl Iterator for Pages<'_> {
    type Item = Result<Entry, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.page.next() {
            return Some(Ok(entry));
        }
        let start = self.next.take()?;
        match self.source.page(start) {
            Ok(rows) => {
                if rows.len() as i64 == PAGE {
                    self.next = rows.last().map(|(k, _)| Bound::Excluded(k.clone()));
                }
                self.page = rows.into_iter();
                self.page.next().map(Ok)
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// The writer's connection, used from the writer's own thread (no hop through another
/// thread for each of a batch's reads); a watchman checks it while it is idle.
struct WriterSession(Arc<Mutex<Session>>);

impl WriterSession {
    fn with<T>(&self, f: impl FnOnce(&mut Session) -> Result<T, StoreError>) -> Result<T, StoreError> {
        f(&mut *self.0.lock().map_err(|_| StoreError::Internal)?)
    }
}

impl PageSource for WriterSession {
    fn page(&self, start: Bound<Vec<u8>>) -> Result<Vec<Entry>, StoreError> {
        self.with(|s| s.page(&start))
    }
}

impl Reads for WriterSession {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with(|s| s.get(key))
    }

    fn get_many(&self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.with(|s| s.get_many(keys))
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        Box::new(Pages { source: self, next: Some(start), page: Vec::new().into_iter() })
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        self.with(|s| s.count(prefix))
    }
}

/// True when `url` is a PostgreSQL connection string (libpq form or URL).
pub fn valid_url(url: &str) -> bool {
    url.parse::<postgres::Config>().is_ok()
}

/// The PostgreSQL backend.
pub struct PostgresBackend {
    reader: Connection,
    writer: WriterSession,
    writable: Arc<AtomicBool>,
    node: String,
    leading: Option<watch::Receiver<bool>>,
    stop: Arc<AtomicBool>,
}

/// TLS to the database with rustls on ring, trusting the roots in `ca_file`.
fn tls(ca_file: Option<&std::path::Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, StoreError> {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = ca_file {
        let pem =
            std::fs::read(path).map_err(|e| StoreError::Backend(format!("cannot read {}: {e}", path.display())))?;
        for cert in <rustls_pki_types::CertificateDer<'_> as rustls_pki_types::pem::PemObject>::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
            roots.add(cert).map_err(|e| StoreError::Backend(format!("{}: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

fn failed(e: &postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {}", session::describe(e)))
}

impl PostgresBackend {
    /// Connects to `url` (a libpq connection string or URL; `password` joins it when
    /// given; TLS with rustls, trusting `ca_file`; several hosts with
    /// `target_session_attrs=read-write` find the primary) and migrates the schema.
    /// With `cluster`, the node takes its part in the cluster: it may lead, and then
    /// passes the other nodes' commit notes to these subscribers.
    pub fn open(
        url: &str,
        password: Option<&str>,
        ca_file: Option<&std::path::Path>,
        cluster: Option<Vec<UnboundedSender<CommitNote>>>,
    ) -> Result<PostgresBackend, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(|e| failed(&e))?;
        if let Some(password) = password {
            config.password(password);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let link = Arc::new(Link { config, tls: tls(ca_file)? });
        // The blocking client runs a runtime of its own, which cannot start inside the
        // caller's: the first connections are made on a thread of their own too.
        let (first, second) = std::thread::scope(|scope| {
            scope
                .spawn(|| -> Result<_, StoreError> {
                    let mut first = link.connect().map_err(|e| failed(&e))?;
                    schema::migrate(&mut first).map_err(|e| failed(&e))?;
                    let second = link.connect().map_err(|e| failed(&e))?;
                    Ok((first, second))
                })
                .join()
                .map_err(|_| StoreError::Internal)?
        })?;
        let writable = Arc::new(AtomicBool::new(true));
        let reader = Connection::start("motcua-store-pg-read", Session::new(link.clone(), first, None))?;
        let writer = Arc::new(Mutex::new(Session::new(link.clone(), second, Some(writable.clone()))));
        let node = format!("{:016x}", rand::random::<u64>());
        let stop = Arc::new(AtomicBool::new(false));
        watch_idle(&writer, &stop)?;
        let leading = match cluster {
            Some(subscribers) => {
                let (leading, follow) = watch::channel(false);
                let member = cluster::Member { link, node: node.clone(), leading, subscribers, stop: stop.clone() };
                std::thread::Builder::new()
                    .name("motcua-store-pg-cluster".into())
                    .spawn(move || member.run())
                    .map_err(|e| StoreError::Backend(format!("cannot start the cluster thread: {e}")))?;
                Some(follow)
            }
            None => None,
        };
        Ok(PostgresBackend { reader, writer: WriterSession(writer), writable, node, leading, stop })
    }
}

impl Reads for PostgresBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.reader.get(key)
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        self.reader.scan_from(start)
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        self.reader.count_prefix(prefix)
    }
}

/// Checks the writer's connection each second while no batch holds it, so that
/// `/readyz` knows whether a writable primary answers.
fn watch_idle(writer: &Arc<Mutex<Session>>, stop: &Arc<AtomicBool>) -> Result<(), StoreError> {
    let (writer, stop) = (Arc::downgrade(writer), stop.clone());
    std::thread::Builder::new()
        .name("motcua-store-pg-watch".into())
        .spawn(move || {
            while !stop.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_secs(1));
                let Some(writer) = writer.upgrade() else { return };
                if let Ok(mut session) = writer.try_lock() {
                    session.check_idle();
                }
            }
        })
        .map(drop)
        .map_err(|e| StoreError::Backend(format!("cannot start the connection watch: {e}")))
}

fn transient(e: StoreError) -> CommitError {
    CommitError::Transient(e.to_string())
}

impl Backend for PostgresBackend {
    fn begin(&self) -> Result<(), CommitError> {
        self.writer.with(Session::begin).map_err(transient)
    }

    fn writer_reads(&self) -> &dyn Reads {
        &self.writer
    }

    fn reads_ahead(&self) -> bool {
        true
    }

    fn commit(&self, batch: &Overlay, notes: &[CommitNote]) -> Result<(), CommitError> {
        let payloads = notes::encode(&self.node, notes);
        self.writer.with(|s| s.commit(batch, &payloads)).map_err(transient)
    }

    fn writable(&self) -> bool {
        self.writable.load(Ordering::Acquire)
    }

    fn leadership(&self) -> Option<watch::Receiver<bool>> {
        self.leading.clone()
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.reader.ask(Request::Size)
    }

    fn close(&self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.reader.ask(Request::Close);
        let _ = self.writer.with(|s| {
            s.close();
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_ends() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }
}
