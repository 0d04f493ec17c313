//! Every key layout of the store, in one place: what each key space holds and how
//! its keys are built and read back. Callers name what they store; only this module
//! knows the bytes. Keys are without the space byte (`Space` adds it).

/// The key as the backend holds it: the space's byte, then `key`.
pub fn full(space: super::Space, key: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(key.len() + 1);
    full.push(space as u8);
    full.extend_from_slice(key);
    full
}

/// `Meta`: the store-wide job sequence.
pub const JOB_SEQ: &[u8] = b"job_seq";
/// `Meta`: the last VNPost tracking event applied.
pub const TRACKING_CURSOR: &[u8] = b"vnpost_tracking_cursor";

/// `Meta`: the first day not yet settled of the national portal's list of `unit`.
pub fn pull_cursor(unit: &str) -> Vec<u8> {
    format!("dvcqg_pull|{unit}").into_bytes()
}

/// `Meta`: a dossier of the national portal's list that was refused (with why).
pub fn pull_refused(portal_code: &str) -> Vec<u8> {
    format!("dvcqg_refused|{portal_code}").into_bytes()
}

/// `Meta`: an operator's session generation (moving it on ends its sessions).
pub fn operator_generation(name: &str) -> Vec<u8> {
    format!("ui_generation|{name}").into_bytes()
}

/// `Meta`: the addresses an operator logged in from.
pub fn operator_addresses(name: &str) -> Vec<u8> {
    format!("ui_addresses|{name}").into_bytes()
}

/// `Meta`: how many times an operator's failed logins were forgiven (`motcua operator
/// unlock`); every node forgets its count of them when this moves.
pub fn operator_unlocks(name: &str) -> Vec<u8> {
    format!("ui_unlocks|{name}").into_bytes()
}

/// `Aside`: the prefix of the items set aside from `source`.
pub fn aside_prefix(source: &str) -> Vec<u8> {
    format!("{source}|").into_bytes()
}

/// `Aside`: item `id` set aside from `source`.
pub fn aside(source: &str, id: &str) -> Vec<u8> {
    format!("{source}|{id}").into_bytes()
}

/// `Outbox`: the prefix of a destination's jobs (its name, then NUL).
pub fn destination_prefix(destination: &str) -> Vec<u8> {
    let mut prefix = destination.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

/// `Outbox`: job `id` of `destination`: the prefix, then the big-endian id, so a
/// destination's jobs read back in the order they were queued.
pub fn job(destination: &str, id: u64) -> Vec<u8> {
    let mut key = destination_prefix(destination);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

/// `Outbox`: the key range of `destination`'s jobs with ids from `from`.
pub fn job_range(destination: &str, from: u64) -> (Vec<u8>, Vec<u8>) {
    let start = job(destination, from);
    let mut end = destination.as_bytes().to_vec();
    end.push(1);
    (start, end)
}

/// `Outbox`: the destination and id of a job key.
pub fn parse_job(key: &[u8]) -> Option<(&str, u64)> {
    let split = key.iter().position(|b| *b == 0)?;
    let id = u64::from_be_bytes(key.get(split + 1..)?.try_into().ok()?);
    Some((std::str::from_utf8(&key[..split]).ok()?, id))
}

/// `Dossier`: the key range of the dossiers `agency` coded on day `yymmdd` (their
/// codes start with `{agency}-{yymmdd}-`).
pub fn coded_on(agency: &str, yymmdd: &str) -> (Vec<u8>, Vec<u8>) {
    (format!("{agency}-{yymmdd}-").into_bytes(), format!("{agency}-{yymmdd}.").into_bytes())
}

/// `Dead`: the dead letter of job `id`.
pub fn dead(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// `Held`: the effect of job `id` that could not be saved on its dossier.
pub fn held_effect(id: u64) -> Vec<u8> {
    format!("effect|{id:020}").into_bytes()
}

/// `Applied`: a desk's event on a dossier.
pub fn desk_event(code: &str, event_id: &str) -> Vec<u8> {
    format!("event|{code}|{event_id}").into_bytes()
}

/// `Applied`: a partner's postal event (item, status, time).
pub fn postal_event(item: &str, status: &str, at_second: i64) -> Vec<u8> {
    format!("postal|{item}|{status}|{at_second}").into_bytes()
}

/// `Applied`: a VNPost tracking event.
pub fn vnpost_event(id: &str) -> Vec<u8> {
    format!("vnpost|{id}").into_bytes()
}

/// `Applied`: a pull desk's acknowledgement of an item.
pub fn ack(desk: &str, item: &str) -> Vec<u8> {
    format!("ack|{desk}|{item}").into_bytes()
}

/// `Index`: the dossier a shipment (S10 item) belongs to.
pub fn item(item: &str) -> Vec<u8> {
    format!("item|{item}").into_bytes()
}

/// `Index`: prefix of every dossier by status.
pub const STATUS_PREFIX: &[u8] = b"st|";

/// `Index`: prefix of the dossiers of one status.
pub fn status_prefix(status: u8) -> Vec<u8> {
    format!("st|{status:02}|").into_bytes()
}

/// `Index`: a dossier under its status.
pub fn status(status: u8, code: &str) -> Vec<u8> {
    format!("st|{status:02}|{code}").into_bytes()
}

/// `Index`: prefix of the open overdue dossiers.
pub const OVERDUE_PREFIX: &[u8] = b"ov|";

/// `Index`: an open overdue dossier.
pub fn overdue(code: &str) -> Vec<u8> {
    format!("ov|{code}").into_bytes()
}

/// `Index`: the newest portal sync of `kind` (`record`, `progress`) of a dossier.
pub fn portal_sync_latest(kind: &str, code: &str) -> Vec<u8> {
    format!("portal_sync|{kind}|{code}").into_bytes()
}

/// `Index`: prefix of the given-up portal syncs of `kind` of a dossier; the job id
/// (20 digits) follows.
pub fn portal_dead_prefix(kind: &str, code: &str) -> Vec<u8> {
    format!("portal_dead|{kind}|{code}|").into_bytes()
}

/// `Index`: the dossier of a VNPost `OrderNumber`.
pub fn vnpost_order(number: &str) -> Vec<u8> {
    format!("vnpost_order|{number}").into_bytes()
}

/// `Index`: prefix of the free waybill codes.
pub const WAYBILL_FREE: &[u8] = b"waybill|free|";

/// `Index`: a free waybill code.
pub fn waybill_free(code: &str) -> Vec<u8> {
    [WAYBILL_FREE, code.as_bytes()].concat()
}

/// `Index`: a used waybill code (its order as value).
pub fn waybill_used(code: &str) -> Vec<u8> {
    format!("waybill|used|{code}").into_bytes()
}

/// `Index`: the waybill code bound to an order.
pub fn waybill_bound(order: &str) -> Vec<u8> {
    format!("waybill|order|{order}").into_bytes()
}

/// `Counter`: the day's dossier numbers of an agency (`yymmdd`).
pub fn code_counter(agency: &str, yymmdd: &str) -> Vec<u8> {
    format!("{agency}|{yymmdd}").into_bytes()
}

/// `Stats`: a unit's counters of one day (`yyyymmdd`).
pub fn day_stats(unit: &str, yyyymmdd: &str) -> Vec<u8> {
    format!("{unit}|{yyyymmdd}").into_bytes()
}

/// `Stats`: the monthly changes of a unit's state counters (`yyyymm`).
pub fn month_stats(unit: &str, yyyymm: &str) -> Vec<u8> {
    format!("{unit}#{yyyymm}").into_bytes()
}

/// `Schedule`: a deadline mark: big-endian seconds, then the dossier code and kind.
pub fn schedule(at_second: i64, code: &str, kind: &str) -> Vec<u8> {
    let mut key = at_second.to_be_bytes().to_vec();
    key.extend_from_slice(format!("{code}|{kind}").as_bytes());
    key
}

/// `Schedule`: the time, dossier code and kind of a mark's key.
pub fn parse_schedule(key: &[u8]) -> Option<(i64, &str, &str)> {
    let at = i64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let rest = std::str::from_utf8(key.get(8..)?).ok()?;
    let (code, kind) = rest.rsplit_once('|')?;
    Some((at, code, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back() {
        assert_eq!(parse_job(&job("desk:mc", 7)), Some(("desk:mc", 7)));
        let (start, end) = job_range("portal", 3);
        assert!(start < job("portal", 4) && job("portal", u64::MAX) < end && job("portalx", 0) >= end);
        assert_eq!(
            parse_schedule(&schedule(1_790_000_000, "000.07.20.H38-261125-0001", "overdue")),
            Some((1_790_000_000, "000.07.20.H38-261125-0001", "overdue"))
        );
        assert!(status(4, "x").starts_with(&status_prefix(4)) && status(4, "x").starts_with(STATUS_PREFIX));
        assert!(waybill_free("EE123456785VN").starts_with(WAYBILL_FREE));
    }
}
