//! The motcua gateway: configuration, the administrative network and procedure
//! catalogue, authentication and rate limits, the durable store and its outbox, the
//! HTTP API and its listeners. The binary `motcua` is a thin shell over this library.

/// The durable store and its outbox, in a crate of their own.
pub use motcua_store::{self as store, files, outbox};

pub mod app;
pub mod aside;
pub mod auth;
pub mod backup;
#[cfg(feature = "tools")]
pub mod bench;
pub mod catalogue;
pub mod clock;
pub mod config;
pub mod core;
pub mod deadlines;
#[cfg(feature = "tools")]
pub mod demo;
pub mod dispatch;
pub mod dossiers;
pub mod forms;
pub mod http;
pub mod lead;
pub mod limits;
pub mod metrics;
pub mod migrate;
pub mod network;
pub mod operators;
pub mod outbound;
pub mod peers;
pub mod run;
pub mod server;
pub mod settings;
pub mod stats;
pub mod supervise;
pub mod table;
pub mod telemetry;
pub mod ui;
pub mod unit_import;
