//! Commit notes between nodes: a batch's notes travel in `NOTIFY motcua_notes`
//! payloads inside its transaction (so they arrive only if it commits), each payload
//! naming the node that sent it so that a node skips its own.

use super::super::CommitNote;

/// The channel the nodes listen on.
pub(super) const CHANNEL: &str = "motcua_notes";

/// PostgreSQL refuses payloads of 8,000 bytes or more.
const MAX_PAYLOAD: usize = 7_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

fn encode_note(note: &CommitNote) -> String {
    match note {
        CommitNote::Job(key) => format!("J{}", hex(key.full())),
        CommitNote::JobGone(key) => format!("G{}", hex(key.full())),
        CommitNote::Schedule(at) => format!("S{at}"),
    }
}

fn decode_note(text: &str) -> Option<CommitNote> {
    let body = text.get(1..)?;
    match text.as_bytes().first()? {
        b'J' => unhex(body).map(|k| CommitNote::Job(crate::Key::from_full(k))),
        b'G' => unhex(body).map(|k| CommitNote::JobGone(crate::Key::from_full(k))),
        b'S' => body.parse().ok().map(CommitNote::Schedule),
        _ => None,
    }
}

/// The payloads that carry `notes` from node `node`.
pub(super) fn encode(node: &str, notes: &[CommitNote]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut current = String::new();
    for note in notes {
        let note = encode_note(note);
        if !current.is_empty() && current.len() + note.len() + 1 > MAX_PAYLOAD {
            payloads.push(std::mem::take(&mut current));
        }
        if current.is_empty() {
            current.push_str(node);
            current.push('|');
        } else {
            current.push(',');
        }
        current.push_str(&note);
    }
    if !current.is_empty() {
        payloads.push(current);
    }
    payloads
}

/// The notes of a payload sent by another node than `own` (`None` for its own, or a
/// payload that is not ours).
pub(super) fn decode(own: &str, payload: &str) -> Option<Vec<CommitNote>> {
    let (node, notes) = payload.split_once('|')?;
    if node == own {
        return None;
    }
    notes.split(',').map(decode_note).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_travel_in_payloads_and_a_node_skips_its_own() {
        let notes: Vec<CommitNote> = (0..2_000u32)
            .map(|i| match i % 3 {
                0 => CommitNote::Job(crate::keys::job("desk:mc", i as u64)),
                1 => CommitNote::JobGone(crate::Key::from_full(vec![0, 255, 7])),
                _ => CommitNote::Schedule(-5 + i64::from(i)),
            })
            .collect();
        let payloads = encode("a1", &notes);
        assert!(payloads.len() > 1 && payloads.iter().all(|p| p.len() < 8_000));
        let back: Vec<CommitNote> = payloads.iter().flat_map(|p| decode("b2", p).unwrap()).collect();
        assert_eq!(back, notes);
        assert!(payloads.iter().all(|p| decode("a1", p).is_none()));
        assert_eq!(decode("b2", "a1|X12"), None);
    }
}
