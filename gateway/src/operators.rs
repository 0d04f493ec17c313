//! What the store keeps of the pages' operators, so that every node sees it: each
//! operator's session generation (logging out moves it on and so ends every session
//! of that operator), the addresses it logged in from (an account under a distributed
//! guessing attack still accepts those), and how many times an administrator forgave
//! its failed logins.

use std::net::IpAddr;

use crate::store::{Key, Store, StoreError, keys};

/// Addresses remembered per operator, newest last.
const ADDRESSES_KEPT: usize = 16;

fn number(store: &Store, key: &Key) -> Result<u64, StoreError> {
    Ok(store.get(key)?.and_then(|v| std::str::from_utf8(&v).ok()?.parse().ok()).unwrap_or(0))
}

async fn increment(store: &Store, key: Key) -> Result<u64, StoreError> {
    store
        .write(move |tx| -> Result<u64, StoreError> {
            let next = tx
                .get(&key)?
                .and_then(|v| std::str::from_utf8(&v).ok()?.parse::<u64>().ok())
                .unwrap_or(0)
                .saturating_add(1);
            tx.put(&key, next.to_string().into_bytes());
            Ok(next)
        })
        .await?
}

/// The session generation of operator `name`.
pub fn generation(store: &Store, name: &str) -> Result<u64, StoreError> {
    number(store, &keys::operator_generation(name))
}

/// Ends every session of operator `name`, on every node.
pub async fn end_sessions(store: &Store, name: &str) -> Result<u64, StoreError> {
    increment(store, keys::operator_generation(name)).await
}

/// How many times operator `name`'s failed logins were forgiven.
pub fn unlocks(store: &Store, name: &str) -> Result<u64, StoreError> {
    number(store, &keys::operator_unlocks(name))
}

/// Forgives operator `name`'s failed logins, on every node.
pub async fn unlock(store: &Store, name: &str) -> Result<u64, StoreError> {
    increment(store, keys::operator_unlocks(name)).await
}

/// The addresses operator `name` logged in from.
pub fn addresses(store: &Store, name: &str) -> Result<Vec<IpAddr>, StoreError> {
    let Some(bytes) = store.get(&keys::operator_addresses(name))? else { return Ok(Vec::new()) };
    Ok(String::from_utf8_lossy(&bytes).split(',').filter_map(|a| a.parse().ok()).collect())
}

/// Remembers that operator `name` logged in from `address`.
pub async fn remember_address(store: &Store, name: &str, address: IpAddr) -> Result<(), StoreError> {
    let key = keys::operator_addresses(name);
    store
        .write(move |tx| -> Result<(), StoreError> {
            let mut known: Vec<IpAddr> = tx
                .get(&key)?
                .map(|b| String::from_utf8_lossy(&b).split(',').filter_map(|a| a.parse().ok()).collect())
                .unwrap_or_default();
            known.retain(|a| *a != address);
            known.push(address);
            let drop = known.len().saturating_sub(ADDRESSES_KEPT);
            known.drain(..drop);
            let text = known.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
            tx.put(&key, text.into_bytes());
            Ok(())
        })
        .await?
}
