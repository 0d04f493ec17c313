//! The motcua gateway: configuration, the administrative network and procedure
//! catalogue, authentication, and the command line. The binary `motcua` is a thin
//! shell over this library.

pub mod auth;
pub mod catalogue;
pub mod config;
pub mod network;
