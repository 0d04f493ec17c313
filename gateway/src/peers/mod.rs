//! The peers the gateway speaks to, each in a folder of its own: the one-stop desks
//! (`desk`), the national portal as it really is (`dvcqg`), the national
//! monitoring service (`emc`), VNPost as its client
//! (`vnpost`), and the portal and the post speaking the gateway's own contract
//! (`contract`). Which protocol the portal and the post speak is chosen once, when the
//! settings are checked (`settings::Portal`, `settings::Post`); `portal` and `post`
//! are what the dossier logic asks of them whatever they speak, one match arm per
//! protocol. A new peer is a folder here and an arm there.

pub mod contract;
pub mod desk;
pub mod dvcqg;
pub mod emc;
pub mod paygov;
pub mod portal;
pub mod post;
pub mod vnpost;
