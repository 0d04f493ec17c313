//! Stand-ins for motcua's real peers, used by the end-to-end tests and by
//! `motcua demo`, and a throwaway PostgreSQL cluster for the store's tests. Each is a real HTTP server on loopback that checks every request
//! against what is known of the real peer (docs/PEERS.md), keeps what it received, and
//! can be told to fail the ways the real one fails. They share no code with the
//! gateway's adapters, so a mistake in one is not repeated in the other.

pub mod dvcqg;
pub mod emc;
pub mod notify;
pub mod paygov;
pub mod postgres;
mod serve;
pub mod vnpost;
