//! PostgreSQL under the store, one node at a time (docs/STORAGE.md): the key-value rows
//! of every space in one table, a batch committed in one transaction that returns once
//! the commit is durable (on the primary, and on a synchronous standby where the
//! cluster has one). One thread owns the connection; the store's callers reach it
//! through a channel, so the blocking client never runs inside the async runtime.
//! An advisory lock keeps a second node off the same database until the store can
//! share it (several writers need each command in its own transaction).

use std::{
    ops::Bound,
    sync::{Mutex, mpsc},
};

use super::{
    StoreError,
    backend::{Backend, Entries, Entry},
    tx::Overlay,
};

/// Rows read per page of a scan.
const PAGE: i64 = 256;
/// Tries of the node lock, 50 ms apart.
const LOCK_TRIES: usize = 40;
/// The advisory lock a node holds while it uses the database.
const NODE_LOCK: i64 = 0x6d6f_7463_7561;

/// The schema, by version: each step runs once, in order, in one transaction.
const MIGRATIONS: &[&str] = &["CREATE TABLE motcua_kv (k bytea PRIMARY KEY, v bytea NOT NULL)"];

type Reply<T> = mpsc::Sender<Result<T, StoreError>>;

enum Request {
    Get(Vec<u8>, Reply<Option<Vec<u8>>>),
    Page(Bound<Vec<u8>>, Reply<Vec<Entry>>),
    Count(Vec<u8>, Reply<usize>),
    Commit(Overlay, Reply<()>),
    Size(Reply<u64>),
    Close(Reply<()>),
}

/// The PostgreSQL backend.
pub struct PostgresBackend {
    requests: Mutex<mpsc::Sender<Request>>,
}

fn failed(e: postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

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

fn migrate(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    client.batch_execute("CREATE TABLE IF NOT EXISTS motcua_schema (version integer NOT NULL)")?;
    let mut tx = client.transaction()?;
    tx.batch_execute("LOCK TABLE motcua_schema IN EXCLUSIVE MODE")?;
    let version: i32 = tx.query_opt("SELECT version FROM motcua_schema", &[])?.map_or(0, |row| row.get(0));
    for (i, step) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
        tx.batch_execute(step)?;
        let v = i32::try_from(i + 1).unwrap_or(i32::MAX);
        if version == 0 && i == 0 {
            tx.execute("INSERT INTO motcua_schema (version) VALUES ($1)", &[&v])?;
        } else {
            tx.execute("UPDATE motcua_schema SET version = $1", &[&v])?;
        }
    }
    tx.commit()
}

fn serve(mut client: postgres::Client, requests: mpsc::Receiver<Request>) {
    for request in requests {
        match request {
            Request::Close(reply) => {
                // Closing the connection releases the node lock before the answer.
                let _ = client.close();
                let _ = reply.send(Ok(()));
                return;
            }
            Request::Get(key, reply) => {
                let row = client.query_opt("SELECT v FROM motcua_kv WHERE k = $1", &[&key]);
                let _ = reply.send(row.map(|r| r.map(|r| r.get(0))).map_err(failed));
            }
            Request::Page(start, reply) => {
                let rows = match &start {
                    Bound::Included(k) => {
                        client.query("SELECT k, v FROM motcua_kv WHERE k >= $1 ORDER BY k LIMIT $2", &[k, &PAGE])
                    }
                    Bound::Excluded(k) => {
                        client.query("SELECT k, v FROM motcua_kv WHERE k > $1 ORDER BY k LIMIT $2", &[k, &PAGE])
                    }
                    Bound::Unbounded => client.query("SELECT k, v FROM motcua_kv ORDER BY k LIMIT $1", &[&PAGE]),
                };
                let _ =
                    reply.send(rows.map(|rows| rows.iter().map(|r| (r.get(0), r.get(1))).collect()).map_err(failed));
            }
            Request::Count(prefix, reply) => {
                let count = match prefix_end(&prefix) {
                    Some(end) => {
                        client.query_one("SELECT count(*) FROM motcua_kv WHERE k >= $1 AND k < $2", &[&prefix, &end])
                    }
                    None => client.query_one("SELECT count(*) FROM motcua_kv WHERE k >= $1", &[&prefix]),
                };
                let _ = reply
                    .send(count.map(|row| usize::try_from(row.get::<_, i64>(0)).unwrap_or(usize::MAX)).map_err(failed));
            }
            Request::Commit(batch, reply) => {
                let _ = reply.send(commit(&mut client, &batch).map_err(failed));
            }
            Request::Size(reply) => {
                let size = client.query_one("SELECT pg_total_relation_size('motcua_kv')", &[]);
                let _ = reply.send(size.map(|row| u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)).map_err(failed));
            }
        }
    }
}

fn commit(client: &mut postgres::Client, batch: &Overlay) -> Result<(), postgres::Error> {
    let (mut keys, mut values, mut removed) = (Vec::new(), Vec::new(), Vec::new());
    for (key, value) in batch {
        match value {
            Some(value) => {
                keys.push(key.as_slice());
                values.push(value.as_slice());
            }
            None => removed.push(key.as_slice()),
        }
    }
    let mut tx = client.transaction()?;
    if !removed.is_empty() {
        tx.execute("DELETE FROM motcua_kv WHERE k = ANY($1)", &[&removed])?;
    }
    if !keys.is_empty() {
        tx.execute(
            "INSERT INTO motcua_kv (k, v) SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
             ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v",
            &[&keys, &values],
        )?;
    }
    tx.commit()
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
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

impl PostgresBackend {
    /// Connects to `url` (a libpq connection string or URL; `password` joins it when
    /// given; TLS with rustls, trusting `ca_file`), migrates the schema, and takes the
    /// node lock. Several hosts with `target_session_attrs=read-write` find the primary.
    pub fn open(
        url: &str,
        password: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<PostgresBackend, StoreError> {
        let mut config: postgres::Config = url.parse().map_err(failed)?;
        if let Some(password) = password {
            config.password(password);
        }
        let tls = tls(ca_file)?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let (requests, incoming) = mpsc::channel();
        std::thread::Builder::new()
            .name("motcua-store-postgres".into())
            .spawn(move || {
                // Over a Unix socket, or with sslmode=disable, there is no TLS to set up
                // (and no server name to check).
                let plain = config.get_ssl_mode() == postgres::config::SslMode::Disable;
                let connected = if plain { config.connect(postgres::NoTls) } else { config.connect(tls) };
                let mut client = match connected {
                    Ok(client) => client,
                    Err(e) => {
                        let _ = ready_tx.send(Err(failed(e)));
                        return;
                    }
                };
                // A node that has just stopped may still be leaving the database: its
                // lock goes with its session, so the lock is tried for a moment.
                let mut locked = Ok(false);
                for _ in 0..LOCK_TRIES {
                    locked =
                        client.query_one("SELECT pg_try_advisory_lock($1)", &[&NODE_LOCK]).map(|r| r.get::<_, bool>(0));
                    if !matches!(locked, Ok(false)) {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                match locked {
                    Ok(true) => {}
                    Ok(false) => {
                        let _ = ready_tx.send(Err(StoreError::InUse("the PostgreSQL database".into())));
                        return;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(failed(e)));
                        return;
                    }
                }
                if let Err(e) = migrate(&mut client) {
                    let _ = ready_tx.send(Err(failed(e)));
                    return;
                }
                let _ = ready_tx.send(Ok(()));
                serve(client, incoming);
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the postgres thread: {e}")))?;
        ready_rx.recv().map_err(|_| StoreError::Internal)??;
        Ok(PostgresBackend { requests: Mutex::new(requests) })
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

/// A scan read page by page.
struct Pages<'a> {
    backend: &'a PostgresBackend,
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
        match self.backend.ask(|reply| Request::Page(start, reply)) {
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

impl Backend for PostgresBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.ask(|reply| Request::Get(key.to_vec(), reply))
    }

    fn scan_from(&self, start: Bound<Vec<u8>>) -> Entries<'_> {
        Box::new(Pages { backend: self, next: Some(start), page: Vec::new().into_iter() })
    }

    fn commit(&self, batch: &Overlay) -> Result<(), String> {
        if batch.is_empty() {
            return Ok(());
        }
        self.ask(|reply| Request::Commit(batch.clone(), reply)).map_err(|e| e.to_string())
    }

    fn count_prefix(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        self.ask(|reply| Request::Count(prefix.to_vec(), reply))
    }

    fn size_on_disk(&self) -> Result<u64, StoreError> {
        self.ask(Request::Size)
    }

    fn close(&self) {
        let _ = self.ask(Request::Close);
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
