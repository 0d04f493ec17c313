//! A throwaway PostgreSQL cluster for the store's tests: `initdb` into a temporary
//! directory, started on a Unix socket in it (no TCP port), run as an unprivileged user
//! when the tests run as root (PostgreSQL refuses root), stopped when dropped.

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
        let dir = tempfile::Builder::new().prefix("motcua-pg-").tempdir().expect("a temporary directory");
        let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
        let user = root.then_some("nobody");
        if let Some(user) = user {
            let status = Command::new("chown").args(["-R", user]).arg(dir.path()).status().expect("chown runs");
            assert!(status.success());
        }
        let bin = bin_dir();
        let data = dir.path().join("data");
        let (data_s, sock) = (data.display().to_string(), dir.path().display().to_string());
        run(user, &bin.join("initdb"), &["-D", &data_s, "-A", "trust", "-U", "motcua", "--no-sync", "-E", "UTF8"]);
        let options = format!("-c listen_addresses='' -k {sock} -c synchronous_commit=on");
        let log = dir.path().join("log").display().to_string();
        run(user, &bin.join("pg_ctl"), &["-D", &data_s, "-o", &options, "-l", &log, "-w", "start"]);
        Cluster { dir, bin, user }
    }

    /// The connection string of its `postgres` database (a Unix socket: no TLS).
    pub fn url(&self) -> String {
        format!("host={} user=motcua dbname=postgres sslmode=disable", self.dir.path().display())
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
