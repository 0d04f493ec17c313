//! One connection to the database, used from one thread at a time outside the async
//! runtime (the blocking client runs a runtime of its own): the reader's serves
//! requests from a channel, the writer's is the writer thread's own. A broken
//! connection is dropped and made again at the next request, through every host of
//! the connection string, so a node finds the promoted primary after a failover.

use std::{
    ops::Bound,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use super::super::{StoreError, backend::Entry, tx::Overlay};

/// Rows read per page of a scan.
pub(super) const PAGE: i64 = 256;
/// The transaction-scoped advisory lock every batch takes: one batch at a time in
/// the cluster, so a batch's reads see every commit before it.
const BATCH_LOCK: i64 = 0x6d6f_7463_7562;
/// How long an idle writer waits before it checks its connection.
const IDLE_CHECK: Duration = Duration::from_secs(1);

pub(super) type Reply<T> = mpsc::Sender<Result<T, StoreError>>;

/// What the reading session is asked (the writer's is used directly).
pub(super) enum Request {
    Get(Vec<u8>, Reply<Option<Vec<u8>>>),
    Page(Bound<Vec<u8>>, Reply<Vec<Entry>>),
    Count(Vec<u8>, Reply<usize>),
    Size(Reply<u64>),
    Close(Reply<()>),
}

/// How to reach the database.
pub(super) struct Link {
    pub(super) config: postgres::Config,
    pub(super) tls: tokio_postgres_rustls::MakeRustlsConnect,
}

impl Link {
    /// A new connection (to the first host that takes it, read-write when the
    /// connection string asks for it).
    pub(super) fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        // Over a Unix socket, or with sslmode=disable, there is no TLS to set up (and
        // no server name to check).
        if self.config.get_ssl_mode() == postgres::config::SslMode::Disable {
            self.config.connect(postgres::NoTls)
        } else {
            self.config.connect(self.tls.clone())
        }
    }
}

/// What went wrong, with the server's own message when it sent one.
pub(super) fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
}

/// A database error: logged (never with the connection string), answered unavailable.
pub(super) fn unavailable(e: &postgres::Error) -> StoreError {
    tracing::warn!(error = %describe(e), "the database did not serve a request");
    StoreError::Unavailable
}

/// One connection and what it is doing.
pub(super) struct Session {
    link: Arc<Link>,
    client: Option<postgres::Client>,
    in_batch: bool,
    /// A statement of the open batch failed: the batch can only be rolled back.
    aborted: bool,
    /// The writer's: whether a writable primary answered last time.
    writable: Option<Arc<AtomicBool>>,
    /// The prepared statements of the current connection.
    statements: Option<Statements>,
}

/// Statements prepared on a connection.
#[derive(Clone)]
struct Statements {
    get: postgres::Statement,
    from_included: postgres::Statement,
    from_excluded: postgres::Statement,
    count_range: postgres::Statement,
    get_many: postgres::Statement,
}

impl Session {
    pub(super) fn new(link: Arc<Link>, client: postgres::Client, writable: Option<Arc<AtomicBool>>) -> Session {
        Session { link, client: Some(client), in_batch: false, aborted: false, writable, statements: None }
    }

    fn set_writable(&self, writable: bool) {
        if let Some(flag) = &self.writable {
            flag.store(writable, Ordering::Release);
        }
    }

    fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        if self.client.as_ref().is_none_or(postgres::Client::is_closed) {
            self.client = None;
            self.statements = None;
            match self.link.connect() {
                Ok(client) => {
                    self.set_writable(true);
                    self.client = Some(client);
                }
                Err(e) => {
                    self.set_writable(false);
                    return Err(unavailable(&e));
                }
            }
        }
        self.client.as_mut().ok_or(StoreError::Unavailable)
    }

    /// Runs `f` on the connection; an error inside a batch aborts the batch, and a
    /// connection found broken is dropped.
    fn run<T>(&mut self, f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>) -> Result<T, StoreError> {
        let result = f(self.client()?);
        result.map_err(|e| {
            if self.in_batch {
                self.aborted = true;
            }
            if self.client.as_ref().is_none_or(postgres::Client::is_closed) {
                self.client = None;
                self.set_writable(false);
            }
            unavailable(&e)
        })
    }

    /// Serves requests until the channel closes or `Close` comes.
    pub(super) fn serve(mut self, requests: mpsc::Receiver<Request>) {
        loop {
            let request = match requests.recv_timeout(IDLE_CHECK) {
                Ok(request) => request,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.check_idle();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            };
            match request {
                Request::Close(reply) => {
                    self.close();
                    let _ = reply.send(Ok(()));
                    return;
                }
                Request::Get(key, reply) => {
                    let _ = reply.send(self.get(&key));
                }
                Request::Page(start, reply) => {
                    let _ = reply.send(self.page(&start));
                }
                Request::Count(prefix, reply) => {
                    let _ = reply.send(self.count(&prefix));
                }
                Request::Size(reply) => {
                    let _ = reply.send(self.size());
                }
            }
        }
    }

    /// Ends the connection.
    pub(super) fn close(&mut self) {
        self.statements = None;
        if let Some(client) = self.client.take() {
            let _ = client.close();
        }
    }

    /// The statements of this connection, prepared once (a query given as text is
    /// prepared again at every call: one more round trip).
    fn statements(&mut self) -> Result<Statements, StoreError> {
        if let (Some(statements), Some(_)) = (&self.statements, &self.client) {
            return Ok(statements.clone());
        }
        let prepared = self.run(|c| {
            Ok(Statements {
                get: c.prepare("SELECT v FROM motcua_kv WHERE k = $1")?,
                from_included: c.prepare("SELECT k, v FROM motcua_kv WHERE k >= $1 ORDER BY k LIMIT $2")?,
                from_excluded: c.prepare("SELECT k, v FROM motcua_kv WHERE k > $1 ORDER BY k LIMIT $2")?,
                count_range: c.prepare("SELECT count(*) FROM motcua_kv WHERE k >= $1 AND k < $2")?,
                get_many: c.prepare("SELECT k, v FROM motcua_kv WHERE k = ANY($1)")?,
            })
        })?;
        self.statements = Some(prepared.clone());
        Ok(prepared)
    }

    /// The committed value of `key` (inside the open batch: as the batch sees it).
    pub(super) fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let statements = self.statements()?;
        let row = self.run(|c| c.query_opt(&statements.get, &[&key]))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// The committed values of `keys`, in one round trip.
    pub(super) fn get_many(&mut self, keys: &[&[u8]]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let statements = self.statements()?;
        let rows = self.run(|c| c.query(&statements.get_many, &[&keys]))?;
        let mut found: std::collections::HashMap<Vec<u8>, Vec<u8>> =
            rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        Ok(keys.iter().map(|k| found.remove(*k)).collect())
    }

    /// A page of entries from `start` on.
    pub(super) fn page(&mut self, start: &Bound<Vec<u8>>) -> Result<Vec<Entry>, StoreError> {
        let statements = self.statements()?;
        let rows = self.run(|c| match start {
            Bound::Included(k) => c.query(&statements.from_included, &[k, &PAGE]),
            Bound::Excluded(k) => c.query(&statements.from_excluded, &[k, &PAGE]),
            Bound::Unbounded => c.query(&statements.from_included, &[&Vec::<u8>::new(), &PAGE]),
        })?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// How many keys start with `prefix`.
    pub(super) fn count(&mut self, prefix: &[u8]) -> Result<usize, StoreError> {
        let statements = self.statements()?;
        let row = self.run(|c| match super::prefix_end(prefix) {
            Some(end) => c.query_one(&statements.count_range, &[&prefix, &end]),
            None => c.query_one("SELECT count(*) FROM motcua_kv WHERE k >= $1", &[&prefix]),
        })?;
        Ok(usize::try_from(row.get::<_, i64>(0)).unwrap_or(usize::MAX))
    }

    /// Bytes the tables take.
    pub(super) fn size(&mut self) -> Result<u64, StoreError> {
        let row = self.run(|c| {
            c.query_one("SELECT pg_total_relation_size('motcua_kv') + pg_total_relation_size('motcua_dossiers')", &[])
        })?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// Opens a batch's transaction and takes the batch lock.
    pub(super) fn begin(&mut self) -> Result<(), StoreError> {
        let begun = self.run(|c| c.batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({BATCH_LOCK})")));
        self.in_batch = begun.is_ok();
        self.aborted = false;
        begun
    }

    /// Writes a batch, sends its notes and commits (a batch without `begin` too).
    pub(super) fn commit(&mut self, batch: &Overlay, payloads: &[String]) -> Result<(), StoreError> {
        // A batch written without `begin` (a migration, a restore) is a batch all the same.
        if !self.in_batch {
            self.begin()?;
        }
        let written = if self.aborted {
            Err(StoreError::Unavailable)
        } else {
            self.run(|c| super::schema::write_batch(c, batch, payloads).and_then(|()| c.batch_execute("COMMIT")))
        };
        if written.is_err() {
            // The batch is not acknowledged; whatever the server did with it, the
            // connection is left outside any transaction (or dropped).
            if let Some(client) = &mut self.client
                && client.batch_execute("ROLLBACK").is_err()
            {
                self.client = None;
            }
        } else {
            self.set_writable(true);
        }
        self.in_batch = false;
        self.aborted = false;
        written
    }

    /// An idle writer checks that a writable primary still answers (for `/readyz`),
    /// connecting again when the connection was lost.
    pub(super) fn check_idle(&mut self) {
        if self.writable.is_none() || self.in_batch {
            return;
        }
        let _ = self.run(|c| c.batch_execute("SELECT 1"));
    }
}
