//! `motcua admin …` and `motcua backup`: operators' commands against a running
//! gateway's admin API, with an admin token; aligned tables, or `--json` for scripts.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use motcua_gateway::{
    auth::{
        keys,
        tokens::{Claims, mint},
    },
    settings::{Settings, TlsMode},
};
use motcua_schemas::text::printable;
use serde_json::Value;

/// How to reach the gateway.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// The configuration of the running gateway (for its address, CA and clients).
    #[arg(long, global = true, default_value = super::DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Base URL of the gateway; from the configuration's listen address by default.
    #[arg(long, global = true)]
    pub url: Option<String>,
    /// CA certificate to trust; the development CA in the data directory by default.
    #[arg(long, global = true)]
    pub cacert: Option<PathBuf>,
    /// An admin token (or set MOTCUA_TOKEN); otherwise one is minted for --client.
    #[arg(long, global = true, env = "MOTCUA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The admin client whose development key mints the token.
    #[arg(long, global = true, default_value = "admin-dev")]
    pub client: String,
    /// Print JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The admin subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Outbox queues per destination: depth, oldest age, in flight, attempts, dead.
    Queue,
    /// Dead letters, or `--replay ID` to put one back in the outbox.
    DeadLetters {
        /// The dead letter to replay.
        #[arg(long)]
        replay: Option<String>,
    },
    /// Dossiers by status, overdue flag and unit.
    Dossiers {
        /// Only open overdue dossiers.
        #[arg(long)]
        overdue: bool,
        /// Only this status (1–10).
        #[arg(long)]
        status: Option<u8>,
        /// Only this unit and the units below it.
        #[arg(long)]
        unit: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// The page after this dossier code (the last code of the previous page).
        #[arg(long)]
        after: Option<String>,
    },
    /// Import a batch of VNPost waybill codes (one S10 code per line) into the pool.
    Waybills {
        /// The file of codes.
        #[arg(long)]
        import: std::path::PathBuf,
    },
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
    runtime: tokio::runtime::Runtime,
}

impl Api {
    fn new(c: &Connection) -> anyhow::Result<Api> {
        let settings = Settings::load(&c.config)?;
        let scheme = if settings.boot.tls == TlsMode::Off { "http" } else { "https" };
        let base = c
            .url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{}", settings.boot.listen))
            .trim_end_matches('/')
            .to_owned();
        let mut builder = reqwest::Client::builder();
        let ca = c
            .cacert
            .clone()
            .or_else(|| (settings.boot.tls == TlsMode::Dev).then(|| settings.boot.data_dir.join("tls/dev-ca.pem")));
        if let Some(ca) = ca {
            let pem = std::fs::read(&ca).with_context(|| format!("cannot read the CA {}", ca.display()))?;
            builder = builder.tls_certs_only(reqwest::Certificate::from_pem_bundle(&pem)?);
        }
        let token = match &c.token {
            Some(t) => t.clone(),
            None => {
                let client = settings.clients.by_id(&c.client).with_context(|| format!("no client {:?}", c.client))?;
                let algorithm = *client.algorithms.first().context("the client has no algorithm")?;
                let key_path = c
                    .config
                    .parent()
                    .unwrap_or(std::path::Path::new("."))
                    .join("dev")
                    .join(format!("{}.key.pem", c.client));
                let key = keys::load_private_pem(&key_path, algorithm)?;
                mint(
                    &Claims::new(&client.issuer, &client.id, &settings.gateway.audience, 300),
                    &key,
                    algorithm,
                    client.keys.first().and_then(|k| k.kid.as_deref()),
                )?
            }
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Api { http: builder.build()?, base, token, runtime })
    }

    /// Sends `request` and reads the whole answer, failing on a non-2xx status.
    fn bytes(&self, request: reqwest::RequestBuilder) -> anyhow::Result<bytes::Bytes> {
        self.runtime.block_on(async {
            let response = request.bearer_auth(&self.token).send().await.context("the gateway did not answer")?;
            let status = response.status();
            let body = response.bytes().await.context("the answer was cut")?;
            if !status.is_success() {
                bail!("the gateway answered {status}: {}", problem_text(&body));
            }
            Ok(body)
        })
    }

    fn json(&self, request: reqwest::RequestBuilder) -> anyhow::Result<Value> {
        Ok(serde_json::from_slice(&self.bytes(request)?)?)
    }
}

/// A problem+json answer in words: its detail and each field error.
fn problem_text(body: &[u8]) -> String {
    let Ok(problem) = serde_json::from_slice::<Value>(body) else {
        return printable(&String::from_utf8_lossy(body)).into_owned();
    };
    let mut text = printable(problem["detail"].as_str().or(problem["title"].as_str()).unwrap_or("")).into_owned();
    for e in problem["errors"].as_array().into_iter().flatten() {
        text.push_str(&format!("\n  {}: {}", text_of(&e["pointer"]), text_of(&e["message"])));
    }
    text
}

fn text_of(v: &Value) -> std::borrow::Cow<'_, str> {
    printable(v.as_str().unwrap_or(""))
}

use motcua_gateway::table::render as table;

/// A value as printed on the terminal (its control characters written out).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => printable(s).into_owned(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// One table row per element of the array `list`, one cell per JSON pointer.
fn rows(list: &Value, columns: &[&str]) -> Vec<Vec<String>> {
    let cells = |item: &Value| columns.iter().map(|c| text(item.pointer(c).unwrap_or(&Value::Null))).collect();
    list.as_array().into_iter().flatten().map(cells).collect()
}

/// Runs an admin command.
pub fn run(connection: Connection, command: AdminCommand) -> anyhow::Result<ExitCode> {
    let api = Api::new(&connection)?;
    let (value, rendered) = match command {
        AdminCommand::Waybills { import } => {
            let text = std::fs::read_to_string(&import)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", import.display()))?;
            let request = api
                .http
                .post(format!("{}/v1/admin/waybills", api.base))
                .header("content-type", "text/plain")
                .body(text);
            let v = api.json(request)?;
            let t = format!(
                "{} codes added, {} already known, invalid lines {}; {} free in the pool\n",
                v["added"], v["known"], v["invalid_lines"], v["free"]
            );
            (v, t)
        }
        AdminCommand::Queue => {
            let v = api.json(api.http.get(format!("{}/v1/admin/queue", api.base)))?;
            let rows = rows(
                &v["destinations"],
                &["/destination", "/mode", "/depth", "/oldest_age_seconds", "/in_flight", "/attempts", "/dead"],
            );
            let t = table(&["DESTINATION", "MODE", "DEPTH", "OLDEST (s)", "IN FLIGHT", "ATTEMPTS", "DEAD"], &rows);
            (v, t)
        }
        AdminCommand::DeadLetters { replay: Some(id) } => {
            let v = api.json(api.http.post(format!("{}/v1/admin/dead-letters/{id}/replay", api.base)))?;
            let t = format!("dead letter {id} is back in the outbox of {}\n", text(&v["destination"]));
            (v, t)
        }
        AdminCommand::DeadLetters { replay: None } => {
            let v = api.json(api.http.get(format!("{}/v1/admin/dead-letters", api.base)))?;
            let rows = rows(
                &v["dead_letters"],
                &["/id", "/destination", "/job/kind", "/job/dossier", "/attempts", "/died_at", "/error"],
            );
            let t = table(&["ID", "DESTINATION", "KIND", "DOSSIER", "ATTEMPTS", "DIED AT", "LAST ERROR"], &rows);
            (v, t)
        }
        AdminCommand::Dossiers { overdue, status, unit, limit, after } => {
            let mut query = vec![("limit", limit.to_string())];
            if overdue {
                query.push(("overdue", "true".into()));
            }
            if let Some(s) = status {
                query.push(("status", s.to_string()));
            }
            if let Some(u) = unit {
                query.push(("unit", u));
            }
            if let Some(code) = after {
                query.push(("after", code));
            }
            let v = api.json(api.http.get(format!("{}/v1/admin/dossiers", api.base)).query(&query))?;
            let rows =
                rows(&v["dossiers"], &["/code", "/status", "/status_name", "/overdue", "/unit", "/desk", "/due_at"]);
            let mut t = table(&["CODE", "STATUS", "NAME", "OVERDUE", "UNIT", "DESK", "DUE AT"], &rows);
            if let Some(next) = v["next"].as_str() {
                t.push_str(&format!("more dossiers follow: run again with --after {next}\n"));
            }
            (v, t)
        }
    };
    if connection.json {
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{rendered}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `motcua operator unlock --name NAME`: forgives the operator's failed logins.
pub fn unlock_operator(connection: &Connection, name: &str) -> anyhow::Result<()> {
    let api = Api::new(connection)?;
    let v = api.json(api.http.post(format!("{}/v1/admin/operators/{name}/unlock", api.base)))?;
    if connection.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        println!("{}: failed logins forgiven on every node", printable(name));
    }
    Ok(())
}

/// `motcua backup --to FILE`: a consistent snapshot of the running gateway's store.
pub fn backup(connection: Connection, to: PathBuf) -> anyhow::Result<ExitCode> {
    if to.exists() {
        anyhow::bail!("{} exists already; a backup never overwrites a file", to.display());
    }
    let api = Api::new(&connection)?;
    let bytes = api.bytes(api.http.post(format!("{}/v1/admin/backup", api.base)))?;
    let summary = motcua_gateway::backup::verify(&bytes).context("the snapshot does not verify")?;
    let temp = to.with_extension("partial");
    let _ = std::fs::remove_file(&temp);
    motcua_gateway::files::write_new_private(&temp, &bytes)
        .with_context(|| format!("cannot write {}", temp.display()))?;
    // A link, unlike a rename, fails if the target appeared meanwhile.
    let linked = std::fs::hard_link(&temp, &to);
    let _ = std::fs::remove_file(&temp);
    linked.with_context(|| format!("cannot create {}", to.display()))?;
    if connection.json {
        let value = serde_json::json!({
            "file": to.display().to_string(),
            "entries": summary.entries,
            "blobs": summary.blobs,
            "bytes": bytes.len(),
            "sha256": summary.sha256,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}: {} entries, {} blobs, {} bytes, sha256 {}",
        to.display(),
        summary.entries,
        summary.blobs,
        bytes.len(),
        summary.sha256
    );
    Ok(ExitCode::SUCCESS)
}
