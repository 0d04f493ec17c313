//! The portal and the post speaking the gateway's own contract (docs/CONTRACT.md §4,
//! §6): status calls and letters to the portal, return and letter orders to the post.
//! Their wire formats are `motcua_adapters::portal` and `motcua_adapters::postal`.

pub mod portal;
pub mod post;
