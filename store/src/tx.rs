//! A write transaction as the single writer runs it: reads see the committed store,
//! the batch so far and this command's own writes; a command that fails leaves no
//! trace in the batch.

use std::collections::BTreeMap;

use serde::{Serialize, de::DeserializeOwned};

use super::{CommitNote, Key, Prefix, StoreError};

/// Key-value pairs.
pub type Entries = Vec<(Key, Vec<u8>)>;

/// Pending writes: key → value, or `None` for a removal.
pub type Overlay = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// What the store held, at the start of the batch, of the keys its commands said they
/// would read (`Store::write_reading`).
pub(super) type ReadAhead = std::collections::HashMap<Vec<u8>, Option<Vec<u8>>>;

/// The view one command gets inside the writer.
pub struct Tx<'a> {
    pub(super) tree: &'a dyn super::backend::Reads,
    /// Read at the batch's start, after `begin`, so no other node has changed them since;
    /// the batch's own writes are looked up first.
    pub(super) read_ahead: &'a ReadAhead,
    pub(super) batch: &'a mut Overlay,
    pub(super) local: Overlay,
    pub(super) notes: Vec<CommitNote>,
}

impl Tx<'_> {
    /// The current value of `key`.
    pub fn get(&self, key: &Key) -> Result<Option<Vec<u8>>, StoreError> {
        let full = key.full();
        if let Some(v) = self.local.get(full).or_else(|| self.batch.get(full)).or_else(|| self.read_ahead.get(full)) {
            return Ok(v.clone());
        }
        self.tree.get(full)
    }

    /// The current value of `key`, decoded from JSON.
    pub fn get_json<T: DeserializeOwned>(&self, key: &Key) -> Result<Option<T>, StoreError> {
        self.get(key)?.map(|bytes| super::decode(key, &bytes)).transpose()
    }

    /// Sets `key` to `value`.
    pub fn put(&mut self, key: &Key, value: Vec<u8>) {
        self.local.insert(key.full().to_vec(), Some(value));
    }

    /// Sets `key` to `value` encoded as JSON.
    pub fn put_json<T: Serialize>(&mut self, key: &Key, value: &T) -> Result<(), StoreError> {
        let bytes = super::encode(value)?;
        self.put(key, bytes);
        Ok(())
    }

    /// Removes `key`.
    pub fn remove(&mut self, key: &Key) {
        self.local.insert(key.full().to_vec(), None);
    }

    /// Every current entry whose key starts with `prefix`, in key order. At most
    /// `limit` entries.
    pub fn scan_prefix(&self, prefix: &Prefix, limit: usize) -> Result<Entries, StoreError> {
        self.scan_prefix_after(prefix, None, limit)
    }

    /// As `scan_prefix`, starting after key `after` when given, for reading a long
    /// prefix page by page. Reads only as many entries of the store and the batch as
    /// it returns (plus those removed in the batch), so a long prefix costs what its
    /// first page costs.
    pub fn scan_prefix_after(&self, prefix: &Prefix, after: Option<&Key>, limit: usize) -> Result<Entries, StoreError> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let full = prefix.full().to_vec();
        let start = match after {
            Some(after) => Excluded(after.full().to_vec()),
            None => Included(full.clone()),
        };
        let in_prefix = |k: &Vec<u8>| k.starts_with(&full);
        let mut tree = self
            .tree
            .scan_from(start.clone())
            .take_while(|item| item.as_ref().map_or(true, |(k, _)| in_prefix(k)))
            .peekable();
        let mut batch = self.batch.range((start.clone(), Unbounded)).take_while(|(k, _)| in_prefix(k)).peekable();
        let mut local = self.local.range((start, Unbounded)).take_while(|(k, _)| in_prefix(k)).peekable();
        let mut out = Vec::new();
        while out.len() < limit {
            let tree_key = match tree.peek() {
                Some(Ok((k, _))) => Some(k.clone()),
                Some(Err(_)) => return Err(tree.next().and_then(Result::err).unwrap_or(StoreError::Internal)),
                None => None,
            };
            let next = [tree_key.as_ref(), batch.peek().map(|(k, _)| *k), local.peek().map(|(k, _)| *k)]
                .into_iter()
                .flatten()
                .min()
                .cloned();
            let Some(key) = next else { break };
            // The newest layer decides: this command's writes, then the batch's, then
            // the committed store.
            let mut value = None;
            if tree_key.as_ref() == Some(&key) {
                value = tree.next().and_then(Result::ok).map(|(_, v)| v);
            }
            if batch.peek().is_some_and(|(k, _)| **k == key) {
                value = batch.next().and_then(|(_, v)| v.clone());
            }
            if local.peek().is_some_and(|(k, _)| **k == key) {
                value = local.next().and_then(|(_, v)| v.clone());
            }
            if let Some(value) = value {
                out.push((Key::from_full(key), value));
            }
        }
        Ok(out)
    }

    /// Reads a big-endian counter, adds one, writes it back and returns the new value.
    pub fn next_counter(&mut self, key: &Key) -> Result<u64, StoreError> {
        let current =
            match self.get(key)? {
                Some(bytes) => u64::from_be_bytes(bytes.as_slice().try_into().map_err(|_| {
                    StoreError::Corrupt(format!("counter {:?}", String::from_utf8_lossy(key.within())))
                })?),
                None => 0,
            };
        let next = current.saturating_add(1);
        self.put(key, next.to_be_bytes().to_vec());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scan_merges_store_batch_and_command_and_reads_page_by_page() {
        use crate::keys;
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::SledBackend::open(&dir.path().join("store"), 16, dir.path()).unwrap();
        let key = |k: &str| keys::job(k, 1);
        let mut committed = Overlay::new();
        for k in ["a1", "a2", "a3", "a5", "b1"] {
            committed.insert(key(k).full().to_vec(), Some(k.as_bytes().to_vec()));
        }
        super::super::Backend::commit(&db, &committed, &[]).unwrap();
        let mut batch = Overlay::new();
        batch.insert(key("a2").full().to_vec(), None);
        batch.insert(key("a4").full().to_vec(), Some(b"batch".to_vec()));
        let read_ahead = ReadAhead::new();
        let mut tx =
            Tx { tree: &db, read_ahead: &read_ahead, batch: &mut batch, local: Overlay::new(), notes: Vec::new() };
        tx.put(&key("a3"), b"local".to_vec());
        tx.remove(&key("a5"));
        tx.put(&key("a6"), b"new".to_vec());
        let a = keys::Prefix::new(keys::Space::Outbox, b"a");
        let all = tx.scan_prefix(&a, usize::MAX).unwrap();
        let shown: Vec<(String, String)> = all
            .iter()
            .map(|(k, v)| (keys::parse_job(k).unwrap().0.to_owned(), String::from_utf8(v.clone()).unwrap()))
            .collect();
        let expected = [("a1", "a1"), ("a3", "local"), ("a4", "batch"), ("a6", "new")];
        assert_eq!(shown, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
        // Page by page: the same entries.
        let mut paged = Vec::new();
        let mut after: Option<Key> = None;
        loop {
            let page = tx.scan_prefix_after(&a, after.as_ref(), 1).unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.0.clone());
            paged.extend(page);
        }
        assert_eq!(paged, all);
    }

    #[test]
    fn what_was_read_ahead_is_read_after_the_batch_and_before_the_store() {
        use crate::keys;
        let dir = tempfile::tempdir().unwrap();
        let db = super::super::SledBackend::open(&dir.path().join("store"), 16, dir.path()).unwrap();
        let key = |k: &str| keys::job(k, 1);
        let committed: Overlay =
            ["a1", "a2", "a3"].iter().map(|k| (key(k).full().to_vec(), Some(b"tree".to_vec()))).collect();
        super::super::Backend::commit(&db, &committed, &[]).unwrap();
        let read_ahead: ReadAhead = [("a1", Some(b"ahead".to_vec())), ("a2", Some(b"ahead".to_vec())), ("a4", None)]
            .into_iter()
            .map(|(k, v)| (key(k).full().to_vec(), v))
            .collect();
        let mut batch = Overlay::new();
        batch.insert(key("a2").full().to_vec(), None);
        let mut tx =
            Tx { tree: &db, read_ahead: &read_ahead, batch: &mut batch, local: Overlay::new(), notes: Vec::new() };
        tx.put(&key("a4"), b"local".to_vec());
        let read = |tx: &Tx<'_>, k: &str| tx.get(&key(k)).unwrap();
        assert_eq!(read(&tx, "a1"), Some(b"ahead".to_vec()), "read ahead rather than asking the store again");
        assert_eq!(read(&tx, "a2"), None, "the batch's removal comes first");
        assert_eq!(read(&tx, "a3"), Some(b"tree".to_vec()), "a key not read ahead is read from the store");
        assert_eq!(read(&tx, "a4"), Some(b"local".to_vec()), "the command's own write comes first");
    }
}
