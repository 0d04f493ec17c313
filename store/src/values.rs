//! The value log: dossier records kept beside sled's tree rather than in it. A batch's
//! records are appended to the current segment file and made durable before sled is
//! given the batch, with a 17-byte pointer in each record's place
//! (docs/ARCHITECTURE.md §3). sled 0.34 copies a whole leaf on every insert and writes
//! changed pages to its log, so a tree of pointers costs it a fraction of what a tree
//! of records does. A segment a third of whose bytes are replaced records is compacted
//! by the sled backend: what is still pointed at is appended again, and the segment goes
//! once the new pointers are durable.

use std::{
    collections::BTreeMap,
    fs::{File, OpenOptions},
    io::{self, BufReader, Read},
    os::unix::fs::{FileExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock},
};

/// Marks a value in sled's tree that points into the value log. Records are JSON or
/// start with a codec tag (0x04, 0x05), never with this byte.
const POINTER: u8 = 0x06;
/// A pointer: the tag, then segment, offset, value length and checksum (u32, little-endian).
pub(crate) const POINTER_LEN: usize = 17;
/// An entry's header: key length (u16), value length (u32), CRC-32 of key and value (u32).
const HEADER_LEN: usize = 10;
/// Records of at least this many bytes go to the log (a record is far longer).
pub(crate) const SEPARATE_FROM: usize = 64;
/// The longest value an entry may claim, so that a corrupt header or pointer cannot
/// make a reader allocate without bound (a record is at most 60 KiB).
const MAX_VALUE_BYTES: u32 = 16 * 1024 * 1024;
/// A new segment begins once the current one is this long.
pub const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Buffer of a sequential read of a segment during compaction.
const SCAN_BUFFER: usize = 256 * 1024;

/// Where a value lies in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pointer {
    segment: u32,
    offset: u32,
    len: u32,
    crc: u32,
}

impl Pointer {
    /// The bytes sled holds in the value's place.
    pub(crate) fn encode(self) -> [u8; POINTER_LEN] {
        let mut out = [0u8; POINTER_LEN];
        out[0] = POINTER;
        out[1..5].copy_from_slice(&self.segment.to_le_bytes());
        out[5..9].copy_from_slice(&self.offset.to_le_bytes());
        out[9..13].copy_from_slice(&self.len.to_le_bytes());
        out[13..17].copy_from_slice(&self.crc.to_le_bytes());
        out
    }

    /// The pointer that `raw`, a value of `key` in sled's tree, is, if it is one.
    pub(crate) fn of(key: &[u8], raw: &[u8]) -> Option<Pointer> {
        if !crate::keys::is_dossier(key) || raw.len() != POINTER_LEN || raw[0] != POINTER {
            return None;
        }
        let word = |at: usize| u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
        Some(Pointer { segment: word(1), offset: word(5), len: word(9), crc: word(13) })
    }

    /// Bytes the entry takes in its segment.
    fn entry_len(self, key_len: usize) -> u64 {
        (HEADER_LEN + key_len) as u64 + u64::from(self.len)
    }
}

/// Whether a value written under `key` goes to the log.
pub(crate) fn separated(key: &[u8], value: &[u8]) -> bool {
    crate::keys::is_dossier(key) && value.len() >= SEPARATE_FROM
}

/// Why a value could not be read from the log.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Its segment was compacted away since the pointer was read: read the key again.
    Moved,
    /// The entry does not hold what the pointer says.
    Corrupt(String),
    /// The file could not be read.
    Io(io::Error),
}

/// An entry read back from a segment, with the pointer that addresses it.
pub(crate) struct Entry {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
    pub(crate) at: Pointer,
}

#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    written: u64,
    live: u64,
}

struct Head {
    id: u32,
    file: Arc<File>,
    len: u64,
}

/// The log's segment files in one directory.
pub(crate) struct ValueLog {
    dir: PathBuf,
    segment_bytes: u64,
    segments: RwLock<BTreeMap<u32, Arc<File>>>,
    head: Mutex<Head>,
    usage: Mutex<BTreeMap<u32, Usage>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn segment_name(id: u32) -> String {
    format!("{id:08x}.seg")
}

fn crc_of(key: &[u8], value: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(key);
    hasher.update(value);
    hasher.finalize()
}

fn open_segment(path: &Path, create: bool) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create_new(create).mode(crate::files::FILE_MODE).open(path)
}

impl ValueLog {
    /// Opens the log in `dir` (creating it) and begins a new segment: the tail of the
    /// last one may hold entries of a batch that never reached sled, and is left as is.
    pub(crate) fn open(dir: &Path, segment_bytes: u64) -> io::Result<ValueLog> {
        crate::files::private_dir(dir)?;
        let mut segments = BTreeMap::new();
        let mut usage = BTreeMap::new();
        for item in std::fs::read_dir(dir)? {
            let item = item?;
            let name = item.file_name();
            let Some(id) =
                name.to_str().and_then(|n| n.strip_suffix(".seg")).and_then(|n| u32::from_str_radix(n, 16).ok())
            else {
                continue;
            };
            let file = open_segment(&item.path(), false)?;
            usage.insert(id, Usage { written: file.metadata()?.len(), live: 0 });
            segments.insert(id, Arc::new(file));
        }
        let id = segments
            .keys()
            .next_back()
            .map_or(Some(1), |last| last.checked_add(1))
            .ok_or_else(|| io::Error::other("the value log has run out of segment numbers"))?;
        let file = Arc::new(open_segment(&dir.join(segment_name(id)), true)?);
        File::open(dir)?.sync_all()?;
        segments.insert(id, file.clone());
        usage.insert(id, Usage::default());
        Ok(ValueLog {
            dir: dir.to_owned(),
            segment_bytes,
            segments: RwLock::new(segments),
            head: Mutex::new(Head { id, file, len: 0 }),
            usage: Mutex::new(usage),
        })
    }

    /// Counts a pointer found in sled's tree on open as live.
    pub(crate) fn count_live(&self, key_len: usize, at: Pointer) {
        if let Some(usage) = lock(&self.usage).get_mut(&at.segment) {
            usage.live = usage.live.saturating_add(at.entry_len(key_len));
        }
    }

    /// What each segment still holds, as the tree keeps it beside every batch that
    /// changes it (segment u32 and live bytes u64, little-endian, per segment), so that
    /// an open reads one value rather than every pointer.
    pub(crate) fn usage_record(&self) -> Vec<u8> {
        let usage = lock(&self.usage);
        let mut out = Vec::with_capacity(usage.len() * 12);
        for (id, u) in usage.iter() {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&u.live.to_le_bytes());
        }
        out
    }

    /// Takes the live bytes of each segment from a record `usage_record` wrote; false
    /// (and nothing taken) if it is malformed. Segments it does not name hold nothing
    /// the tree points to.
    pub(crate) fn restore_usage(&self, record: &[u8]) -> bool {
        if !record.len().is_multiple_of(12) {
            return false;
        }
        let mut usage = lock(&self.usage);
        for item in record.chunks_exact(12) {
            let id = u32::from_le_bytes([item[0], item[1], item[2], item[3]]);
            let mut live = [0u8; 8];
            live.copy_from_slice(&item[4..]);
            if let Some(u) = usage.get_mut(&id) {
                u.live = u64::from_le_bytes(live);
            }
        }
        true
    }

    /// A pointer was replaced or removed in sled's tree: its entry is dead.
    pub(crate) fn release(&self, key_len: usize, at: Pointer) {
        if let Some(usage) = lock(&self.usage).get_mut(&at.segment) {
            usage.live = usage.live.saturating_sub(at.entry_len(key_len));
        }
    }

    /// Appends `entries` (key, value) to the current segment and makes them durable;
    /// returns where each went. Nothing points at them until sled is given the pointers.
    pub(crate) fn append(&self, entries: &[(&[u8], &[u8])]) -> io::Result<Vec<Pointer>> {
        let mut head = lock(&self.head);
        let mut total: u64 = 0;
        for (key, value) in entries {
            if key.len() > usize::from(u16::MAX) || value.len() > MAX_VALUE_BYTES as usize {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "a value too long for the value log"));
            }
            total += (HEADER_LEN + key.len() + value.len()) as u64;
        }
        if head.len >= self.segment_bytes || head.len + total > u64::from(u32::MAX) {
            self.rotate(&mut head)?;
        }
        let mut buffer = Vec::with_capacity(total as usize);
        let mut pointers = Vec::with_capacity(entries.len());
        for (key, value) in entries {
            let crc = crc_of(key, value);
            let offset = u32::try_from(head.len + buffer.len() as u64)
                .map_err(|_| io::Error::other("a value log segment past 4 GiB"))?;
            buffer.extend_from_slice(&(key.len() as u16).to_le_bytes());
            buffer.extend_from_slice(&(value.len() as u32).to_le_bytes());
            buffer.extend_from_slice(&crc.to_le_bytes());
            buffer.extend_from_slice(key);
            buffer.extend_from_slice(value);
            pointers.push(Pointer { segment: head.id, offset, len: value.len() as u32, crc });
        }
        head.file.write_all_at(&buffer, head.len)?;
        head.file.sync_data()?;
        head.len += total;
        let mut usage = lock(&self.usage);
        let of_head = usage.entry(head.id).or_default();
        of_head.written = head.len;
        of_head.live = of_head.live.saturating_add(total);
        Ok(pointers)
    }

    /// Begins a new segment; the current one was synced with its last append.
    fn rotate(&self, head: &mut Head) -> io::Result<()> {
        let id =
            head.id.checked_add(1).ok_or_else(|| io::Error::other("the value log has run out of segment numbers"))?;
        let file = Arc::new(open_segment(&self.dir.join(segment_name(id)), true)?);
        // The new file's name must survive a power loss before anything in it is relied on.
        File::open(&self.dir)?.sync_all()?;
        self.segments.write().unwrap_or_else(PoisonError::into_inner).insert(id, file.clone());
        lock(&self.usage).insert(id, Usage::default());
        *head = Head { id, file, len: 0 };
        Ok(())
    }

    /// The value `at` points to, checked against `key` and the pointer's checksum.
    pub(crate) fn read(&self, key: &[u8], at: Pointer) -> Result<Vec<u8>, ReadError> {
        let file = self.segments.read().unwrap_or_else(PoisonError::into_inner).get(&at.segment).cloned();
        let Some(file) = file else { return Err(ReadError::Moved) };
        if at.len > MAX_VALUE_BYTES {
            return Err(ReadError::Corrupt(format!("a pointer claiming {} bytes", at.len)));
        }
        let start = HEADER_LEN + key.len();
        let mut bytes = vec![0u8; start + at.len as usize];
        file.read_exact_at(&mut bytes, u64::from(at.offset)).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => ReadError::Corrupt("a pointer past the end of its segment".into()),
            _ => ReadError::Io(e),
        })?;
        let header_says = (
            u16::from_le_bytes([bytes[0], bytes[1]]) as usize,
            u32::from_le_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]),
            u32::from_le_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]),
        );
        if header_says != (key.len(), at.len, at.crc)
            || &bytes[HEADER_LEN..start] != key
            || crc_of(key, &bytes[start..]) != at.crc
        {
            return Err(ReadError::Corrupt(format!(
                "the entry at {}:{} is not the one its pointer names",
                segment_name(at.segment),
                at.offset
            )));
        }
        bytes.drain(..start);
        Ok(bytes)
    }

    /// Closed segments at least a third of whose bytes are dead, the emptiest first. A
    /// record written twice (taken in, then forwarded) leaves its segment about half
    /// dead, a little less, as the second version is the longer; at a third the log
    /// stays within one and a half times what is live.
    pub(crate) fn worth_compacting(&self) -> Vec<u32> {
        let head = lock(&self.head).id;
        let usage = lock(&self.usage);
        let mut found: Vec<(u32, u64, u64)> = usage
            .iter()
            .filter(|(id, u)| **id != head && u.live.saturating_mul(3) <= u.written.saturating_mul(2))
            .map(|(id, u)| (*id, u.live, u.written.max(1)))
            .collect();
        // live / written ascending, compared without division.
        found.sort_by(|a, b| (u128::from(a.1) * u128::from(b.2)).cmp(&(u128::from(b.1) * u128::from(a.2))));
        found.into_iter().map(|(id, ..)| id).collect()
    }

    /// Every whole entry of `segment`, in order, up to the first that is torn or fails
    /// its checksum (the tail of a segment that was current when the process stopped).
    pub(crate) fn entries(&self, segment: u32) -> io::Result<impl Iterator<Item = io::Result<Entry>> + use<>> {
        let file = self.segments.read().unwrap_or_else(PoisonError::into_inner).get(&segment).cloned();
        let file = file.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such segment"))?;
        let mut reader = BufReader::with_capacity(SCAN_BUFFER, SegmentFile(file, 0));
        let mut offset: u64 = 0;
        Ok(std::iter::from_fn(move || {
            let mut header = [0u8; HEADER_LEN];
            match read_whole(&mut reader, &mut header) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
            let key_len = usize::from(u16::from_le_bytes([header[0], header[1]]));
            let len = u32::from_le_bytes([header[2], header[3], header[4], header[5]]);
            let crc = u32::from_le_bytes([header[6], header[7], header[8], header[9]]);
            if len > MAX_VALUE_BYTES {
                return None;
            }
            let mut key = vec![0u8; key_len];
            let mut value = vec![0u8; len as usize];
            match read_whole(&mut reader, &mut key).and_then(|k| Ok(k && read_whole(&mut reader, &mut value)?)) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(e) => return Some(Err(e)),
            }
            if crc_of(&key, &value) != crc {
                return None;
            }
            let at = Pointer { segment, offset: u32::try_from(offset).ok()?, len, crc };
            offset += at.entry_len(key_len);
            Some(Ok(Entry { key, value, at }))
        }))
    }

    /// Deletes a compacted segment: nothing points into it any more, durably.
    pub(crate) fn remove(&self, segment: u32) -> io::Result<()> {
        self.segments.write().unwrap_or_else(PoisonError::into_inner).remove(&segment);
        lock(&self.usage).remove(&segment);
        std::fs::remove_file(self.dir.join(segment_name(segment)))?;
        File::open(&self.dir)?.sync_all()
    }

    /// Bytes the segments take.
    pub(crate) fn size(&self) -> u64 {
        lock(&self.usage).values().map(|u| u.written).sum()
    }
}

/// A segment read sequentially through its shared handle, at a position of its own
/// (readers and the appender address the file by offset only).
struct SegmentFile(Arc<File>, u64);

impl Read for SegmentFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.0.read_at(buf, self.1)?;
        self.1 += read as u64;
        Ok(read)
    }
}

/// Fills `buf`; false if the segment ends first (a torn entry counts as the end).
fn read_whole(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    match reader.read_exact(buf) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}
