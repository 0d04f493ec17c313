//! A write transaction as the single writer runs it: reads see the committed store,
//! the batch so far and this command's own writes; a command that fails leaves no
//! trace in the batch.

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};

use super::{CommitNote, Space, StoreError};

/// Key-value pairs, keys without the space byte.
pub type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Pending writes: key → value, or `None` for a removal.
pub(super) type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The view one command gets inside the writer.
pub struct Tx<'a> {
    pub(super) tree: &'a sled::Tree,
    pub(super) batch: &'a mut Overlay,
    pub(super) local: Overlay,
    pub(super) notes: Vec<CommitNote>,
}

/// The full key of `key` in `space`.
pub fn full_key(space: Space, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(key.len() + 1);
    full.push(space as u8);
    full.extend_from_slice(key);
    full
}

impl Tx<'_> {
    /// The current value of `key` in `space`.
    pub fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let full = full_key(space, key);
        if let Some(v) = self.local.get(&full).or_else(|| self.batch.get(&full)) {
            return Ok(v.clone());
        }
        Ok(self.tree.get(&full)?.map(|v| v.to_vec()))
    }

    /// The current value of `key`, decoded from JSON.
    pub fn get_json<T: DeserializeOwned>(&self, space: Space, key: &[u8]) -> Result<Option<T>, StoreError> {
        self.get(space, key)?.map(|bytes| super::decode(space, key, &bytes)).transpose()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, space: Space, key: &[u8], value: Vec<u8>) {
        self.local.insert(full_key(space, key), Some(value));
    }

    /// Sets `key` to `value` encoded as JSON.
    pub fn put_json<T: Serialize>(&mut self, space: Space, key: &[u8], value: &T) -> Result<(), StoreError> {
        let bytes = super::encode(value)?;
        self.put(space, key, bytes);
        Ok(())
    }

    /// Removes `key`.
    pub fn remove(&mut self, space: Space, key: &[u8]) {
        self.local.insert(full_key(space, key), None);
    }

    /// Every current entry whose key starts with `prefix` in `space`, in key order,
    /// keys without the space byte. At most `limit` entries.
    pub fn scan_prefix(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Entries, StoreError> {
        let full = full_key(space, prefix);
        let mut merged: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        for item in self.tree.scan_prefix(&full) {
            let (k, v) = item?;
            merged.insert(k.to_vec(), Some(v.to_vec()));
        }
        for layer in [&*self.batch, &self.local] {
            for (k, v) in layer.range(full.clone()..) {
                if !k.starts_with(&full) {
                    break;
                }
                merged.insert(k.clone(), v.clone());
            }
        }
        Ok(merged.into_iter().filter_map(|(k, v)| Some((k[1..].to_vec(), v?))).take(limit).collect())
    }

    /// Reads a big-endian counter, adds one, writes it back and returns the new value.
    pub fn next_counter(&mut self, space: Space, key: &[u8]) -> Result<u64, StoreError> {
        let current = match self.get(space, key)? {
            Some(bytes) => u64::from_be_bytes(
                bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt(format!("counter {:?}", String::from_utf8_lossy(key))))?,
            ),
            None => 0,
        };
        let next = current + 1;
        self.put(space, key, next.to_be_bytes().to_vec());
        Ok(next)
    }

    /// Runs `f` as a unit inside this command: if it fails, what it wrote is taken
    /// back and the command goes on without it (one failing step fails alone).
    pub fn attempt<R, E>(&mut self, f: impl FnOnce(&mut Tx<'_>) -> Result<R, E>) -> Result<R, E> {
        let (local, notes) = (self.local.clone(), self.notes.len());
        let result = f(self);
        if result.is_err() {
            self.local = local;
            self.notes.truncate(notes);
        }
        result
    }

    /// Announces something to the store's subscribers once the batch is durable.
    pub fn note(&mut self, note: CommitNote) {
        self.notes.push(note);
    }
}
