//! A throwaway PostgreSQL cluster for the store's tests: `initdb` into a temporary
//! directory, started on a Unix socket in it (no TCP port), run as an unprivileged user
//! when the tests run as root (PostgreSQL refuses root), stopped when dropped — alone,
//! or as a primary with a synchronous streaming standby for failover tests.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A running cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    user: Option<&'static str>,
}

/// The newest PostgreSQL installed from Debian's packages.
fn bin_dir() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (.ci/run installs Debian's postgresql)")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL with initdb")
}

fn run(user: Option<&str>, program: &Path, args: &[&str]) {
    let mut command = match user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        None => Command::new(program),
    };
    let out = command.args(args).output().expect("the PostgreSQL tools run");
    assert!(out.status.success(), "{program:?} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Cluster {
    /// Creates and starts a cluster.
    pub fn start() -> Cluster {
        Cluster::start_with("")
    }

    /// A new directory for a cluster, owned by the user the cluster runs as.
    fn prepare() -> (tempfile::TempDir, PathBuf, Option<&'static str>) {
        let dir = tempfile::Builder::new().prefix("motcua-pg-").tempdir().expect("a temporary directory");
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user = root.then_some("nobody");
        if let Some(user) = user {
            let status = Command::new("chown").args(["-R", user]).arg(dir.path()).status().expect("chown runs");
            assert!(status.success());
        }
        (dir, bin_dir(), user)
    }

    fn launch(&self, extra: &str) {
        let (data, sock) = (self.data(), self.dir.path().display().to_string());
        let options = format!("-c listen_addresses='' -k {sock} -c synchronous_commit=on {extra}");
        let log = self.dir.path().join("log").display().to_string();
        run(self.user, &self.bin.join("pg_ctl"), &["-D", &data, "-o", &options, "-l", &log, "-w", "start"]);
    }

    fn start_with(extra: &str) -> Cluster {
        let (dir, bin, user) = Cluster::prepare();
        let cluster = Cluster { dir, bin, user };
        let data = cluster.data();
        run(
            user,
            &cluster.bin.join("initdb"),
            &["-D", &data, "-A", "trust", "-U", "motcua", "--no-sync", "-E", "UTF8"],
        );
        cluster.launch(extra);
        cluster
    }

    /// A primary and a streaming standby of it that is synchronous: a commit on the
    /// primary returns once the standby has it. The setting is given on the primary's
    /// command line, so the standby, once promoted, does not wait for a standby of its own.
    pub fn start_replicated() -> (Cluster, Cluster) {
        let primary = Cluster::start_with("-c synchronous_standby_names='*'");
        let (dir, bin, user) = Cluster::prepare();
        let standby = Cluster { dir, bin, user };
        let from = primary.dir.path().display().to_string();
        run(
            user,
            &standby.bin.join("pg_basebackup"),
            &["-D", &standby.data(), "-h", &from, "-U", "motcua", "-X", "stream", "-R", "--no-sync"],
        );
        standby.launch("");
        (primary, standby)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The connection string of its `postgres` database (a Unix socket: no TLS).
    pub fn url(&self) -> String {
        format!("host={} user=motcua dbname=postgres sslmode=disable", self.dir.path().display())
    }

    /// The connection string of a failover pair: whichever of them takes writes.
    pub fn failover_url(primary: &Cluster, standby: &Cluster) -> String {
        format!(
            "host={},{} user=motcua dbname=postgres sslmode=disable target_session_attrs=read-write",
            primary.dir.path().display(),
            standby.dir.path().display()
        )
    }

    /// SIGKILLs the server (its postmaster; the backends follow it).
    pub fn kill(&self) {
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid")).expect("the server is running");
        let pid = pid.lines().next().expect("the postmaster's pid").trim().to_owned();
        let status = Command::new("kill").args(["-9", &pid]).status().expect("kill runs");
        assert!(status.success());
    }

    /// Promotes a standby to primary and waits until it takes writes.
    pub fn promote(&self) {
        run(self.user, &self.bin.join("pg_ctl"), &["-D", &self.data(), "-w", "promote"]);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data").display().to_string();
        let mut command = match self.user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(self.bin.join("pg_ctl"));
                c
            }
            None => Command::new(self.bin.join("pg_ctl")),
        };
        let _ = command.args(["-D", &data, "-m", "immediate", "stop"]).output();
    }
}
