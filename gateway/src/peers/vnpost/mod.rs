//! VNPost, with the gateway as its client (docs/PEERS.md §2, docs/POST.md): a dossier's
//! orders (`orders`), the pool of waybill codes (`waybills`), the poller of the tracking
//! feed (`tracking`), and orders and cancellations as calls (`deliver`). Its wire
//! formats and client are `motcua_adapters::vnpost`.

pub mod deliver;
pub mod orders;
pub mod tracking;
pub mod waybills;
