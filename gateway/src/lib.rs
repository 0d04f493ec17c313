//! The motcua gateway: configuration, the administrative network and procedure
//! catalogue, authentication and rate limits, the durable store and its outbox, the
//! HTTP API and its listeners. The binary `motcua` is a thin shell over this library.

/// The durable store and its outbox, in a crate of their own.
pub use motcua_store::{self as store, files, outbox};

pub(crate) mod app;
pub(crate) mod aside;
pub mod audit;
pub mod auth;
pub mod backup;
#[cfg(feature = "tools")]
pub mod bench;
pub mod catalogue;
pub mod clock;
pub mod config;
pub(crate) mod core;
pub mod deadlines;
#[cfg(feature = "tools")]
pub mod demo;
pub(crate) mod digest;
pub(crate) mod dispatch;
pub mod dossiers;
pub(crate) mod file_links;
pub(crate) mod forms;
pub mod http;
pub(crate) mod lead;
pub(crate) mod limits;
pub(crate) mod metrics;
pub mod migrate;
pub mod network;
pub mod notify;
pub(crate) mod operators;
pub(crate) mod outbound;
pub(crate) mod peers;
pub mod run;
pub mod server;
pub mod settings;
pub mod stats;
pub(crate) mod supervise;
pub mod table;
pub mod telemetry;
pub(crate) mod ui;
pub mod unit_import;
