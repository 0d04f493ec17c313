//! The national public service portal (Cổng DVCQG) as it really is (docs/PEERS.md §1,
//! docs/PORTAL.md): what it is told of a dossier (`sync`), taking its dossiers in,
//! pushed or pulled (`intake`), the poller of its lists (`pull`), the monthly ratings (`ratings`), and its record and
//! progress syncs as calls (`deliver`). Its wire formats and client are
//! `motcua_adapters::dvcqg`.

pub mod deliver;
pub mod intake;
pub mod pull;
pub mod ratings;
pub mod sync;
