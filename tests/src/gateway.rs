//! The real `motcua` binary as a child process: built (or found up to date) once per
//! test run with cargo, started on a temporary configuration and data directory,
//! stopped with SIGTERM or killed with SIGKILL, and restarted on the same data.

use std::{
    fs::File,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{OnceLock, mpsc},
    time::Duration,
};

use crate::TestConfig;

/// The `motcua` binary as a province runs it (no `tools` feature), built by cargo for
/// this test run (never a stale copy).
pub fn binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| build(None)).clone()
}

/// The `motcua` binary with the `tools` feature (`demo`, `bench`), copied aside so that
/// a later build of the plain binary does not replace it under a running test.
pub fn tools_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let built = build(Some("tools"));
            let aside = built.with_file_name("motcua-with-tools");
            let partial = built.with_file_name(format!("motcua-with-tools.{}", std::process::id()));
            std::fs::copy(&built, &partial).expect("the tools binary is copied");
            std::fs::rename(&partial, &aside).expect("the tools binary is put in place");
            aside
        })
        .clone()
}

fn build(features: Option<&str>) -> PathBuf {
    // The test process runs with cargo's per-package variables set; a build script that
    // watches them (ring's does) would rebuild half the tree.
    let mut build = escargot::CargoBuild::new();
    for (name, _) in std::env::vars() {
        let per_package = [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_TARGET_TMPDIR",
        ];
        if per_package.iter().any(|p| name.starts_with(p)) {
            build = build.env_remove(name);
        }
    }
    let mut build = build.manifest_path(crate::repo().join("Cargo.toml")).package("motcua-gateway").bin("motcua");
    if let Some(features) = features {
        build = build.features(features);
    }
    let run = build.current_release().run().expect("cargo builds the motcua binary");
    run.path().to_owned()
}

/// A running (or stopped) gateway.
pub struct Gateway {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// The main listener.
    pub addr: SocketAddr,
    /// The plain admin listener.
    pub admin: Option<SocketAddr>,
    /// An HTTPS client trusting the development CA.
    pub http: reqwest::Client,
    extra_env: Vec<(String, String)>,
    /// The largest file the gateway may write (RLIMIT_FSIZE), to simulate a full disk.
    file_size_limit: Option<u64>,
}

fn parse_addr(line: &str, marker: &str) -> Option<SocketAddr> {
    let rest = line.split(marker).nth(1)?;
    rest.split(['/', ' ']).next()?.parse().ok()
}

impl Gateway {
    /// Starts the gateway on `config` (its data directory is set here).
    pub fn start(config: TestConfig) -> Gateway {
        Gateway::start_with_env(config, Vec::new())
    }

    /// Starts the gateway unable to write any file larger than `limit` bytes.
    pub fn start_with_file_limit(config: TestConfig, limit: u64) -> Gateway {
        Gateway::start_inner(config, Vec::new(), Some(limit))
    }

    /// Starts the gateway with extra environment variables.
    pub fn start_with_env(config: TestConfig, extra_env: Vec<(String, String)>) -> Gateway {
        Gateway::start_inner(config, extra_env, None)
    }

    fn start_inner(config: TestConfig, extra_env: Vec<(String, String)>, file_size_limit: Option<u64>) -> Gateway {
        crate::init_crypto();
        let dir = tempfile::Builder::new().prefix("motcua-e2e-").tempdir().expect("a temporary directory");
        let data = dir.path().join("data");
        let config = config.set("gateway.data_dir", data.display().to_string());
        std::fs::write(dir.path().join("gateway.toml"), config.render()).expect("the configuration is written");
        let mut gateway = Gateway {
            dir,
            child: None,
            addr: "127.0.0.1:0".parse().expect("an address"),
            admin: None,
            http: reqwest::Client::new(),
            extra_env,
            file_size_limit,
        };
        gateway.launch();
        gateway
    }

    fn launch(&mut self) {
        let log = File::options().create(true).append(true).open(self.log_path()).expect("the log file opens");
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .arg("--config")
            .arg(self.dir.path().join("gateway.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .env("RUST_LOG", "info");
        for (k, v) in &self.extra_env {
            command.env(k, v);
        }
        if let Some(limit) = self.file_size_limit {
            use std::os::unix::process::CommandExt;
            // SAFETY: only async-signal-safe calls between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit { rlim_cur: limit, rlim_max: limit };
                    if libc::setrlimit(libc::RLIMIT_FSIZE, &rlimit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    // Writes past the limit fail with EFBIG instead of killing the process.
                    libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().expect("the gateway starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (lines_tx, lines_rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines_tx.send(line);
            }
        });
        let (mut addr, mut admin, mut ready) = (None, None, false);
        while !ready {
            match lines_rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    addr = addr
                        .or_else(|| parse_addr(&line, "listening on https://"))
                        .or_else(|| parse_addr(&line, "listening on http://"));
                    admin = admin.or_else(|| parse_addr(&line, "probes on http://"));
                    ready = line == "motcua: ready";
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    panic!("the gateway did not start (exit: {status:?}); log:\n{}", self.logs());
                }
            }
        }
        self.addr = addr.expect("the listening address");
        self.admin = admin;
        self.child = Some(child);
        self.http = self.client_builder().build().expect("an HTTPS client");
    }

    /// A client builder trusting the development CA (add an identity for mTLS).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Ok(ca) = std::fs::read(self.data_dir().join("tls/dev-ca.pem")) {
            builder = builder.tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("the development CA parses")]);
        }
        builder
    }

    /// A raw TLS connection to the main listener, trusting the development CA and
    /// offering `alpn` (e.g. `http/1.1` or `h2`).
    pub async fn tls_connect(&self, alpn: &[u8]) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
        crate::init_crypto();
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(self.data_dir().join("tls/dev-ca.pem")).expect("the development CA");
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            roots.add(cert.expect("a certificate")).expect("a root");
        }
        let mut config = rustls::ClientConfig::builder().with_root_certificates(roots).with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let tcp = tokio::net::TcpStream::connect(self.addr).await.expect("the gateway accepts");
        let name = rustls::pki_types::ServerName::try_from("localhost").expect("a server name");
        tokio_rustls::TlsConnector::from(std::sync::Arc::new(config)).connect(name, tcp).await.expect("a TLS handshake")
    }

    /// The URL of `path` on the main listener.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// The URL of `path` on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin.expect("an admin listener"))
    }

    /// The temporary directory holding configuration, data and log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The configuration file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("gateway.toml")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("gateway.log")
    }

    /// Everything the gateway logged so far (all runs).
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Sends a signal to the running gateway.
    pub fn signal(&self, signal: i32) {
        if let Some(pid) = self.pid() {
            // SAFETY: kill(2) with a pid this test started and still holds.
            unsafe { libc::kill(pid as libc::pid_t, signal) };
        }
    }

    /// Kills the gateway with SIGKILL (no chance to flush anything).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Asks the gateway to stop (SIGTERM) and waits for it.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        self.signal(libc::SIGTERM);
        self.wait()
    }

    /// Waits for the gateway to exit on its own (at most 60 s).
    pub fn wait(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        for _ in 0..600 {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        child.wait().ok()
    }

    /// True while the process runs.
    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Sets the largest file the gateway may write from its next start on (`None`
    /// lifts the limit): a full disk without mounting anything.
    pub fn limit_file_size(&mut self, limit: Option<u64>) {
        self.file_size_limit = limit;
    }

    /// Starts the gateway (again) on the same configuration and data if it is not
    /// running, without killing anything.
    pub fn relaunch(&mut self) {
        if self.child.is_none() {
            self.launch();
        }
    }

    /// Starts the gateway again on the same configuration and data.
    pub fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Rewrites the configuration file (for reload tests and restarts).
    pub fn rewrite_config(&self, config: TestConfig) {
        let config = config.set("gateway.data_dir", self.data_dir().display().to_string());
        std::fs::write(self.config_path(), config.render()).expect("the configuration is written");
    }

    /// Pads dossier `code`'s stored record (gateway down) with incompressible text
    /// until it lies within 64 bytes of the largest record the store takes, as a
    /// record that grew through a long life might.
    pub fn fill_record_to_the_limit(&self, code: &str) {
        use motcua_gateway::{
            dossiers::DossierRecord,
            store::{self, Backend, Reads},
        };
        let db = self.open_store();
        let key = store::keys::dossier(code);
        let bytes = db.get(key.full()).expect("the store reads").expect("the dossier is stored");
        let mut record: DossierRecord = store::decode(&key, &bytes).expect("a record");
        let bytes = motcua_gateway::dossiers::record::pad_to_the_limit(&mut record).expect("encodes");
        let limit = motcua_gateway::dossiers::record::MAX_RECORD_BYTES;
        assert!(limit - bytes.len() < 64, "{} bytes", bytes.len());
        let batch = store::Overlay::from([(key.full().to_vec(), Some(bytes))]);
        db.commit(&batch, &[]).expect("the store writes");
    }

    /// Opens the store directly, through the same sled backend the gateway uses, whose
    /// records lie in its value log (only while the gateway is down).
    pub fn open_store(&self) -> motcua_gateway::store::SledBackend {
        let data_dir = self.data_dir();
        motcua_gateway::store::SledBackend::open(&data_dir.join("store"), 8, &data_dir).expect("the store opens")
    }
}

impl Gateway {
    /// A line of `/proc/<pid>/status` in KiB (`VmHWM`, `VmRSS`).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let pid = self.pid().expect("the gateway runs");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in the process status"))
    }

    /// The sum of every sample of metric `name` on the admin listener (`motcua_…`,
    /// counters without their `_total`), 0 when it has none yet.
    pub async fn metric(&self, name: &str) -> f64 {
        let text = reqwest::get(self.admin_url("/metrics")).await.expect("metrics").text().await.expect("text");
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| {
                let series = l.split([' ', '{']).next().unwrap_or_default();
                series == name || series == format!("{name}_total")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

/// Personal data and secrets of the samples that must never reach a log line.
pub const NEVER_LOGGED: &[&str] = &["015090001234", "0912345678", "912345678", "a.su@example.vn", "Bản Km 21", "eyJ"];

impl Drop for Gateway {
    fn drop(&mut self) {
        self.kill();
        // Every end-to-end test checks its gateway's logs: no ID or phone numbers, no
        // e-mail or street addresses, no tokens.
        if !std::thread::panicking() {
            let logs = self.logs();
            for secret in NEVER_LOGGED {
                if let Some(line) = logs.lines().find(|l| l.contains(secret)) {
                    panic!("the gateway logged {secret:?}: {line}");
                }
            }
        }
    }
}

impl Gateway {
    /// Submits a portal dossier addressed to `unit` and returns its code.
    pub async fn submit_portal(&self, id: &str, unit: &str) -> String {
        let mut body = crate::samples::portal(id);
        body["MaDonViNhan"] = unit.into();
        let response = self
            .http
            .post(self.url("/v1/portal/dossiers"))
            .bearer_auth(crate::tokens::token("portal-dev"))
            .json(&body)
            .send()
            .await
            .expect("the gateway answers");
        assert_eq!(response.status().as_u16(), 201, "submitting {id}");
        let created: serde_json::Value = response.json().await.expect("a JSON dossier");
        created["code"].as_str().expect("a code").to_owned()
    }

    /// `GET path` as client `client`, decoded as JSON, with its status.
    pub async fn get_json(&self, path: &str, client: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(crate::tokens::token(client))
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// `POST path` with an XML body as client `client`: the answer's status and text.
    pub async fn post_xml(&self, path: &str, client: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(crate::tokens::token(client))
            .header("content-type", "application/xml")
            .body(body.into())
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap_or_default())
    }

    /// `POST path` with a JSON body as client `client`, with the answer's status.
    pub async fn post_json(&self, path: &str, client: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(crate::tokens::token(client))
            .json(body)
            .send()
            .await
            .expect("the gateway answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(serde_json::Value::Null))
    }
}
