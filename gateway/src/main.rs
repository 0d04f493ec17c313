//! `motcua`: the one-stop dossier gateway's command line.

mod cli;

// The gateway allocates and frees many small buffers per request across threads;
// mimalloc does that with far less contention than the system allocator. Built with
// `no_thp`: on hosts with transparent huge pages always on, huge pages under its
// arenas kept ~50 MiB more resident for the same work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    // Everything the gateway writes (store, blobs, keys, backups) is its user's alone.
    motcua_gateway::files::restrict_umask();
    // The ring provider is the only one linked; make it the process default so that
    // every TLS client and server uses it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("motcua: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
