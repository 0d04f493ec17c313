//! Peer formats of motcua.
