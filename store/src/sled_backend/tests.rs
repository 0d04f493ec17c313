//! The sled backend with its value log: where records go, how they come back, and
//! what compaction, a torn tail and damage do to them.

use super::*;
use crate::keys;

fn record(code: &str, round: u32) -> Vec<u8> {
    crate::encode_compressed(&serde_json::json!({"code": code, "round": round, "text": "hồ sơ ".repeat(40)})).unwrap()
}

fn commit(db: &SledBackend, writes: &[(Vec<u8>, Option<Vec<u8>>)]) {
    let batch: Overlay = writes.iter().cloned().collect();
    db.commit(&batch, &[]).unwrap();
}

fn code(n: u32) -> String {
    format!("000.00.15.H01-261201-{n:04}")
}

fn raw(db: &SledBackend, key: &[u8]) -> Vec<u8> {
    db.inner.db.get(key).unwrap().unwrap().to_vec()
}

#[test]
fn records_live_in_the_value_log_and_the_tree_holds_pointers() {
    let dir = tempfile::tempdir().unwrap();
    let db = SledBackend::open(&dir.path().join("store"), 8, dir.path()).unwrap();
    let small = keys::meta("small");
    let writes: Vec<_> = (1..=20)
        .map(|n| (keys::dossier(&code(n)).full().to_vec(), Some(record(&code(n), 1))))
        .chain([(small.full().to_vec(), Some(vec![7u8; 200]))])
        .collect();
    commit(&db, &writes);
    for (key, value) in &writes {
        assert_eq!(db.get(key).unwrap().as_ref(), value.as_ref());
    }
    let first = keys::dossier(&code(1));
    assert_eq!(raw(&db, first.full()).len(), values::POINTER_LEN, "a record is a pointer in the tree");
    assert_eq!(raw(&db, small.full()), vec![7u8; 200], "other spaces stay in the tree");
    let scanned: Vec<_> = crate::backend::scan_prefix(&db, keys::dossiers().full()).map(Result::unwrap).collect();
    assert_eq!(scanned.len(), 20);
    assert!(scanned.iter().zip(&writes).all(|((k, v), (key, value))| k == key && Some(v) == value.as_ref()));
    // A record removed is gone; one written in a store before the log is still read.
    commit(&db, &[(first.full().to_vec(), None)]);
    assert_eq!(db.get(first.full()).unwrap(), None);
    let inline = record(&code(99), 1);
    db.inner.db.insert(keys::dossier(&code(99)).full(), inline.clone()).unwrap();
    assert_eq!(db.get(keys::dossier(&code(99)).full()).unwrap(), Some(inline));
}

#[test]
fn compaction_keeps_every_live_record_and_frees_what_was_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let segment_bytes = 1024;
    let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
    for round in 1..=30 {
        let writes: Vec<_> =
            (1..=10).map(|n| (keys::dossier(&code(n)).full().to_vec(), Some(record(&code(n), round)))).collect();
        commit(&db, &writes);
    }
    let values_dir = dir.path().join("values");
    let segments = || std::fs::read_dir(&values_dir).unwrap().count();
    let before = (segments(), db.size_on_disk().unwrap());
    assert!(before.0 > 10, "{before:?}");
    assert!(db.compact_now().unwrap() > 0);
    assert!(segments() < before.0 / 3, "{} segments of {}", segments(), before.0);
    let latest = |db: &SledBackend| {
        (1..=10)
            .map(|n| {
                crate::decode::<serde_json::Value>(
                    &keys::dossier(&code(n)),
                    &db.get(keys::dossier(&code(n)).full()).unwrap().unwrap(),
                )
                .unwrap()["round"]
                    .clone()
            })
            .collect::<Vec<_>>()
    };
    assert!(latest(&db).iter().all(|round| *round == 30));
    // After a restart the records are where the tree says, and nothing is left to
    // compact but what the restart began.
    drop(db);
    let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
    assert!(latest(&db).iter().all(|round| *round == 30));
    db.compact_now().unwrap();
    assert_eq!(db.compact_now().unwrap(), 0);
    assert!(latest(&db).iter().all(|round| *round == 30));
    // What each segment holds is read back on open as the batches kept it, the same
    // as counting every pointer again; the record is not part of the contents.
    let live = |db: &SledBackend| {
        let record = db.inner.values.usage_record();
        record.chunks_exact(12).filter(|c| c[4..] != [0u8; 8]).map(<[u8]>::to_vec).collect::<Vec<_>>()
    };
    let kept = live(&db);
    assert!(!kept.is_empty());
    assert_eq!(db.get(USAGE_KEY).unwrap(), None);
    assert!(crate::backend::scan_prefix(&db, b"m").next().is_none(), "nothing listed in the meta space");
    db.inner.db.remove(USAGE_KEY).unwrap();
    drop(db);
    let db = SledBackend::open_with_segments(&store, 8, dir.path(), segment_bytes).unwrap();
    assert_eq!(live(&db), kept, "counted from the pointers");
}

#[test]
fn a_torn_tail_is_ignored_and_a_damaged_record_is_an_error_naming_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let key = keys::dossier(&code(1));
    let value = record(&code(1), 1);
    {
        let db = SledBackend::open(&store, 8, dir.path()).unwrap();
        commit(&db, &[(key.full().to_vec(), Some(value.clone()))]);
    }
    let segment = dir.path().join("values").join("00000001.seg");
    // A batch that reached the log but not the tree when the process stopped.
    let mut bytes = std::fs::read(&segment).unwrap();
    let whole = bytes.len();
    bytes.extend_from_within(..whole / 2);
    std::fs::write(&segment, &bytes).unwrap();
    let db = SledBackend::open(&store, 8, dir.path()).unwrap();
    assert_eq!(db.get(key.full()).unwrap(), Some(value.clone()));
    let entries: Vec<_> = db.inner.values.entries(1).unwrap().map(Result::unwrap).collect();
    assert_eq!(entries.len(), 1, "the torn entry ends the segment");
    drop(db);
    // One flipped byte in the record: an error, never another record's bytes.
    bytes[whole - 5] ^= 0x40;
    std::fs::write(&segment, &bytes).unwrap();
    let db = SledBackend::open(&store, 8, dir.path()).unwrap();
    let error = db.get(key.full()).unwrap_err();
    assert!(matches!(error, StoreError::Corrupt(_)) && error.to_string().contains("261201-0001"), "{error}");
    drop(db);
    // A segment lost altogether: an error too, not a read that goes round forever.
    std::fs::remove_file(&segment).unwrap();
    let db = SledBackend::open(&store, 8, dir.path()).unwrap();
    let error = db.get(key.full()).unwrap_err();
    assert!(error.to_string().contains("segment is missing"), "{error}");
}

#[test]
fn a_record_replaced_while_the_compactor_copies_it_keeps_the_batchs_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let db = SledBackend::open(&store, 8, dir.path()).unwrap();
    let writes: Vec<_> =
        (1..=5).map(|n| (keys::dossier(&code(n)).full().to_vec(), Some(record(&code(n), 1)))).collect();
    commit(&db, &writes);
    let entries: Vec<_> = db.inner.values.entries(1).unwrap().map(Result::unwrap).collect();
    let copies = db.inner.copy_live(&entries).unwrap();
    assert_eq!(copies.len(), 5);
    // A batch replaces the first record between the copy and the re-pointing.
    let first = keys::dossier(&code(1));
    let newer = record(&code(1), 2);
    commit(&db, &[(first.full().to_vec(), Some(newer.clone()))]);
    let batch_pointer = raw(&db, first.full());
    db.inner.repoint(&copies).unwrap();
    assert_eq!(raw(&db, first.full()), batch_pointer, "the batch's pointer stays");
    assert_eq!(db.get(first.full()).unwrap(), Some(newer));
    for ((key, value), (entry, copy)) in writes[1..].iter().zip(&copies[1..]) {
        assert_eq!(db.get(key).unwrap().as_ref(), value.as_ref());
        assert_eq!(Pointer::of(key, &raw(&db, key)), Some(*copy), "re-pointed at its copy");
        assert_ne!(entry.at, *copy);
    }
    // What the segments hold after it is what counting the pointers gives.
    let kept = db.inner.values.usage_record();
    db.inner.db.remove(USAGE_KEY).unwrap();
    db.inner.db.flush().unwrap();
    drop(db);
    let db = SledBackend::open(&store, 8, dir.path()).unwrap();
    let recount = db.inner.values.usage_record();
    assert_eq!(recount[..kept.len()], kept[..], "usage {kept:?} against a recount {recount:?}");
}
