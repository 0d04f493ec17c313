//! Every key layout of the store, in one place: the spaces keys live in, and how each
//! key is built and read back. Callers name what they store through the functions
//! here, which give a [`Key`], a [`Prefix`] or a [`Range`] that carries its space;
//! no other module sees a space or the bytes of a layout.

/// The key spaces of the store; the byte starts every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum Space {
    /// Store-wide values (format version, sequences, cursors, operators' state).
    Meta = b'm',
    /// Dossier records by code.
    Dossier = b'd',
    /// Idempotency keys → dossier codes.
    Idempotency = b'i',
    /// Desk event ids, postal event keys, acknowledgements: what was already applied.
    Applied = b'e',
    /// Outbound jobs by destination and sequence.
    Outbox = b'o',
    /// Dead letters by job id.
    Dead = b'x',
    /// Per-agency, per-day dossier code counters.
    Counter = b'c',
    /// The deadline schedule, by time.
    Schedule = b's',
    /// Schedule entries and delivery effects that could not be done, kept aside for an
    /// operator, with why.
    Held = b'h',
    /// Statistics counters.
    Stats = b't',
    /// Secondary indexes (dossiers by status, shipments, orders, waybills, syncs).
    Index = b'n',
    /// Items from a peer's list or feed set aside (refused, or failing), by source and
    /// id, so that the items after them go on.
    Aside = b'a',
}

/// A key of the store, as the backend holds it (its space's byte first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key(Vec<u8>);

/// The start that every key of a set shares, space included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix(Vec<u8>);

/// The keys from `start` up to (not including) `end`, of one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub(crate) start: Vec<u8>,
    pub(crate) end: Vec<u8>,
}

fn bytes_in(space: Space, rest: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(rest.len() + 1);
    full.push(space as u8);
    full.extend_from_slice(rest);
    full
}

impl Key {
    pub(crate) fn new(space: Space, rest: impl AsRef<[u8]>) -> Key {
        Key(bytes_in(space, rest.as_ref()))
    }

    /// A key as the backend holds it (from a scan of the raw store).
    pub fn from_full(full: Vec<u8>) -> Key {
        Key(full)
    }

    /// The key as the backend holds it.
    pub fn full(&self) -> &[u8] {
        &self.0
    }

    /// The key within its space (what the layouts below build and read back).
    pub fn within(&self) -> &[u8] {
        self.0.get(1..).unwrap_or_default()
    }

    /// The key within its space, after `prefix` (empty when it does not start so).
    pub fn after(&self, prefix: &Prefix) -> &[u8] {
        self.0.strip_prefix(prefix.0.as_slice()).unwrap_or_default()
    }
}

impl Prefix {
    pub(crate) fn new(space: Space, rest: impl AsRef<[u8]>) -> Prefix {
        Prefix(bytes_in(space, rest.as_ref()))
    }

    /// The prefix as the backend holds it.
    pub fn full(&self) -> &[u8] {
        &self.0
    }

    /// The keys of this prefix whose rest lies strictly after `after` in key order.
    pub fn after(&self, after: &[u8]) -> Range {
        let mut start = self.0.clone();
        start.extend_from_slice(after);
        start.push(0);
        Range { start, end: self.end() }
    }

    /// Every key of this prefix.
    pub fn range(&self) -> Range {
        Range { start: self.0.clone(), end: self.end() }
    }

    fn end(&self) -> Vec<u8> {
        let mut end = self.0.clone();
        end.push(0xff);
        end
    }
}

impl Range {
    pub(crate) fn new(space: Space, start: impl AsRef<[u8]>, end: impl AsRef<[u8]>) -> Range {
        Range { start: bytes_in(space, start.as_ref()), end: bytes_in(space, end.as_ref()) }
    }
}

/// `Meta`: the store-wide job sequence.
pub fn job_seq() -> Key {
    Key::new(Space::Meta, b"job_seq")
}

/// `Meta`: the last VNPost tracking event applied.
pub fn tracking_cursor() -> Key {
    Key::new(Space::Meta, b"vnpost_tracking_cursor")
}

/// `Meta`: that the monthly state entries of the statistics exist for every day.
pub fn stats_months_built() -> Key {
    Key::new(Space::Meta, b"stats_months")
}

/// `Meta`: that every dead letter is in the index by dossier.
pub fn dead_letters_indexed() -> Key {
    Key::new(Space::Meta, b"dead_letters_indexed")
}

/// `Meta`: the first day not yet settled of the national portal's list of `unit`.
pub fn pull_cursor(unit: &str) -> Key {
    Key::new(Space::Meta, format!("dvcqg_pull|{unit}"))
}

/// `Meta`: an operator's session generation (moving it on ends its sessions).
pub fn operator_generation(name: &str) -> Key {
    Key::new(Space::Meta, format!("ui_generation|{name}"))
}

/// `Meta`: the addresses an operator logged in from.
pub fn operator_addresses(name: &str) -> Key {
    Key::new(Space::Meta, format!("ui_addresses|{name}"))
}

/// `Meta`: how many times an operator's failed logins were forgiven (`motcua operator
/// unlock`); every node forgets its count of them when this moves.
pub fn operator_unlocks(name: &str) -> Key {
    Key::new(Space::Meta, format!("ui_unlocks|{name}"))
}

/// `Meta`: a value tests of the store itself write.
#[doc(hidden)]
pub fn meta(name: &str) -> Key {
    Key::new(Space::Meta, name)
}

/// `Dossier`: the record of dossier `code`.
pub fn dossier(code: &str) -> Key {
    Key::new(Space::Dossier, code)
}

/// `Dossier`: every record, in code order.
pub fn dossiers() -> Prefix {
    Prefix::new(Space::Dossier, b"")
}

/// `Dossier`: the records of the dossiers `agency` coded on day `yymmdd` (their codes
/// start with `{agency}-{yymmdd}-`).
pub fn coded_on(agency: &str, yymmdd: &str) -> Range {
    Range::new(Space::Dossier, format!("{agency}-{yymmdd}-"), format!("{agency}-{yymmdd}."))
}

/// True for a key of a dossier record (the relational mirror of PostgreSQL reads it).
pub fn is_dossier(full: &[u8]) -> bool {
    full.first() == Some(&(Space::Dossier as u8))
}

/// Every dossier record, as the backend holds their keys.
pub fn dossier_space() -> Range {
    Range { start: vec![Space::Dossier as u8], end: vec![Space::Dossier as u8 + 1] }
}

/// `Idempotency`: the dossier of the national portal's code `code`, whichever way it
/// came in.
pub fn portal_submission(code: &str) -> Key {
    Key::new(Space::Idempotency, format!("dvcqg:{code}"))
}

/// `Idempotency`: the dossier of a contract portal client's submission id.
pub fn contract_submission(client: &str, id: &str) -> Key {
    Key::new(Space::Idempotency, format!("portal:{client}:{id}"))
}

/// `Idempotency`: the dossier a postal shipment (S10 item) brought.
pub fn postal_submission(item: &str) -> Key {
    Key::new(Space::Idempotency, format!("s10:{item}"))
}

/// `Aside`: the prefix of the items set aside from `source`.
pub fn aside_prefix(source: &str) -> Prefix {
    Prefix::new(Space::Aside, format!("{source}|"))
}

/// `Aside`: item `id` set aside from `source`.
pub fn aside(source: &str, id: &str) -> Key {
    Key::new(Space::Aside, format!("{source}|{id}"))
}

/// `Outbox`: the name a destination's jobs are kept under, then NUL.
fn destination_bytes(destination: &str) -> Vec<u8> {
    let mut prefix = destination.as_bytes().to_vec();
    prefix.push(0);
    prefix
}

/// `Outbox`: every queued job.
pub fn jobs() -> Prefix {
    Prefix::new(Space::Outbox, b"")
}

/// `Outbox`: the prefix of a destination's jobs.
pub fn destination_prefix(destination: &str) -> Prefix {
    Prefix::new(Space::Outbox, destination_bytes(destination))
}

/// `Outbox`: job `id` of `destination`: the destination, NUL, then the big-endian id,
/// so a destination's jobs read back in the order they were queued.
pub fn job(destination: &str, id: u64) -> Key {
    let mut rest = destination_bytes(destination);
    rest.extend_from_slice(&id.to_be_bytes());
    Key::new(Space::Outbox, rest)
}

/// `Outbox`: `destination`'s jobs with ids from `from`.
pub fn job_range(destination: &str, from: u64) -> Range {
    let mut start = destination_bytes(destination);
    start.extend_from_slice(&from.to_be_bytes());
    let mut end = destination.as_bytes().to_vec();
    end.push(1);
    Range::new(Space::Outbox, start, end)
}

/// `Outbox`: the destination and id of a job key.
pub fn parse_job(key: &Key) -> Option<(&str, u64)> {
    let key = key.within();
    let split = key.iter().position(|b| *b == 0)?;
    let id = u64::from_be_bytes(key.get(split + 1..)?.try_into().ok()?);
    Some((std::str::from_utf8(&key[..split]).ok()?, id))
}

/// `Dead`: the dead letter of job `id`.
pub fn dead(id: u64) -> Key {
    Key::new(Space::Dead, id.to_be_bytes())
}

/// `Dead`: every dead letter, oldest job first.
pub fn dead_letters() -> Prefix {
    Prefix::new(Space::Dead, b"")
}

/// `Index`: a dead letter of dossier `code` (job `id`).
pub fn dead_of(code: &str, id: u64) -> Key {
    let mut rest = format!("dead|{code}|").into_bytes();
    rest.extend_from_slice(&id.to_be_bytes());
    Key::new(Space::Index, rest)
}

/// `Index`: the dead letters of dossier `code`.
pub fn dead_of_prefix(code: &str) -> Prefix {
    Prefix::new(Space::Index, format!("dead|{code}|"))
}

/// `Index`: the job id of an entry of [`dead_of_prefix`].
pub fn parse_dead_of(key: &Key, prefix: &Prefix) -> Option<u64> {
    Some(u64::from_be_bytes(key.after(prefix).try_into().ok()?))
}

/// `Held`: the effect of job `id` that could not be saved on its dossier.
pub fn held_effect(id: u64) -> Key {
    Key::new(Space::Held, format!("effect|{id:020}"))
}

/// `Held`: a schedule entry that could not be fired (the schedule's key).
pub fn held_mark(mark: &Key) -> Key {
    Key::new(Space::Held, mark.within())
}

/// `Held`: everything kept aside for an operator.
pub fn held() -> Prefix {
    Prefix::new(Space::Held, b"")
}

/// `Applied`: a desk's event on a dossier.
pub fn desk_event(code: &str, event_id: &str) -> Key {
    Key::new(Space::Applied, format!("event|{code}|{event_id}"))
}

/// `Applied`: a partner's postal event (item, status, time).
pub fn postal_event(item: &str, status: &str, at_second: i64) -> Key {
    Key::new(Space::Applied, format!("postal|{item}|{status}|{at_second}"))
}

/// `Applied`: a VNPost tracking event.
pub fn vnpost_event(id: &str) -> Key {
    Key::new(Space::Applied, format!("vnpost|{id}"))
}

/// `Applied`: a pull desk's acknowledgement of an item.
pub fn ack(desk: &str, item: &str) -> Key {
    Key::new(Space::Applied, format!("ack|{desk}|{item}"))
}

/// `Index`: the dossier a shipment (S10 item) belongs to.
pub fn item(item: &str) -> Key {
    Key::new(Space::Index, format!("item|{item}"))
}

/// `Index`: every dossier by status.
pub fn statuses() -> Prefix {
    Prefix::new(Space::Index, b"st|")
}

/// `Index`: the dossiers of one status.
pub fn status_prefix(status: u8) -> Prefix {
    Prefix::new(Space::Index, format!("st|{status:02}|"))
}

/// `Index`: a dossier under its status.
pub fn status(status: u8, code: &str) -> Key {
    Key::new(Space::Index, format!("st|{status:02}|{code}"))
}

/// `Index`: the open overdue dossiers.
pub fn overdues() -> Prefix {
    Prefix::new(Space::Index, b"ov|")
}

/// `Index`: an open overdue dossier.
pub fn overdue(code: &str) -> Key {
    Key::new(Space::Index, format!("ov|{code}"))
}

/// `Index`: the newest portal sync of `kind` (`record`, `progress`) of a dossier.
pub fn portal_sync_latest(kind: &str, code: &str) -> Key {
    Key::new(Space::Index, format!("portal_sync|{kind}|{code}"))
}

/// `Index`: the given-up portal syncs of `kind` of a dossier; the job id follows.
pub fn portal_dead_prefix(kind: &str, code: &str) -> Prefix {
    Prefix::new(Space::Index, format!("portal_dead|{kind}|{code}|"))
}

/// `Index`: a given-up portal sync of `kind` of a dossier.
pub fn portal_dead(kind: &str, code: &str, id: u64) -> Key {
    Key::new(Space::Index, format!("portal_dead|{kind}|{code}|{id:020}"))
}

/// `Index`: the job id of an entry of [`portal_dead_prefix`].
pub fn parse_portal_dead(key: &Key, prefix: &Prefix) -> Option<u64> {
    std::str::from_utf8(key.after(prefix)).ok()?.parse().ok()
}

/// `Index`: the dossier of a VNPost `OrderNumber`.
pub fn vnpost_order(number: &str) -> Key {
    Key::new(Space::Index, format!("vnpost_order|{number}"))
}

/// `Index`: the dossier of a payment reference (`MaThamChieu`).
pub fn payment(reference: &str) -> Key {
    Key::new(Space::Index, format!("payment|ref|{reference}"))
}

/// `Index`: the payments not yet settled (paid, failed or expired), by reference.
pub fn payments_open() -> Prefix {
    Prefix::new(Space::Index, b"payment|open|")
}

/// `Index`: a payment not yet settled (its dossier as value).
pub fn payment_open(reference: &str) -> Key {
    Key::new(Space::Index, format!("payment|open|{reference}"))
}

/// `Index`: the free waybill codes.
pub fn waybills_free() -> Prefix {
    Prefix::new(Space::Index, b"waybill|free|")
}

/// `Index`: a free waybill code.
pub fn waybill_free(code: &str) -> Key {
    Key::new(Space::Index, format!("waybill|free|{code}"))
}

/// `Index`: a used waybill code (its order as value).
pub fn waybill_used(code: &str) -> Key {
    Key::new(Space::Index, format!("waybill|used|{code}"))
}

/// `Index`: the waybill code bound to an order.
pub fn waybill_bound(order: &str) -> Key {
    Key::new(Space::Index, format!("waybill|order|{order}"))
}

/// `Counter`: the day's dossier numbers of an agency (`yymmdd`).
pub fn code_counter(agency: &str, yymmdd: &str) -> Key {
    Key::new(Space::Counter, format!("{agency}|{yymmdd}"))
}

/// `Stats`: a unit's counters of one day (`yyyymmdd`).
pub fn day_stats(unit: &str, yyyymmdd: &str) -> Key {
    Key::new(Space::Stats, format!("{unit}|{yyyymmdd}"))
}

/// `Stats`: a unit's day counters from day `first` to day `last` (`yyyymmdd`).
pub fn days_stats(unit: &str, first: &str, last: &str) -> Range {
    Range::new(Space::Stats, format!("{unit}|{first}"), format!("{unit}|{last}~"))
}

/// `Stats`: the monthly changes of a unit's state counters (`yyyymm`).
pub fn month_stats(unit: &str, yyyymm: &str) -> Key {
    Key::new(Space::Stats, format!("{unit}#{yyyymm}"))
}

/// `Stats`: a unit's monthly changes before month `yyyymm`.
pub fn months_before(unit: &str, yyyymm: &str) -> Range {
    Range::new(Space::Stats, format!("{unit}#"), format!("{unit}#{yyyymm}"))
}

/// `Stats`: every counter.
pub fn all_stats() -> Prefix {
    Prefix::new(Space::Stats, b"")
}

/// `Stats`: the unit and the `yyyymmdd` of a day's key, or the unit and `yyyymm` of a
/// month's (with `true`).
pub fn parse_stats(key: &Key) -> Option<(&str, &str, bool)> {
    let text = std::str::from_utf8(key.within()).ok()?;
    match text.split_once('|') {
        Some((unit, day)) => Some((unit, day, false)),
        None => text.split_once('#').map(|(unit, month)| (unit, month, true)),
    }
}

/// `Schedule`: a deadline mark: big-endian seconds, then the dossier code and kind.
pub fn schedule(at_second: i64, code: &str, kind: &str) -> Key {
    let mut rest = at_second.to_be_bytes().to_vec();
    rest.extend_from_slice(format!("{code}|{kind}").as_bytes());
    Key::new(Space::Schedule, rest)
}

/// `Schedule`: every mark, in time order.
pub fn schedules() -> Prefix {
    Prefix::new(Space::Schedule, b"")
}

/// `Schedule`: the marks due at or before `at_second`.
pub fn due_by(at_second: i64) -> Range {
    Range::new(Space::Schedule, [0u8; 8], at_second.saturating_add(1).to_be_bytes())
}

/// `Schedule`: the time, dossier code and kind of a mark's key.
pub fn parse_schedule(key: &Key) -> Option<(i64, &str, &str)> {
    let key = key.within();
    let at = i64::from_be_bytes(key.get(..8)?.try_into().ok()?);
    let rest = std::str::from_utf8(key.get(8..)?).ok()?;
    let (code, kind) = rest.rsplit_once('|')?;
    Some((at, code, kind))
}

/// `Index`: that dossier `code` has history links sealed in the checkpoint period
/// starting at `period` (seconds since the epoch).
pub fn sealed_in(period: i64, code: &str) -> Key {
    Key::new(Space::Index, format!("sealed|{period:012}|{code}"))
}

/// `Index`: the dossiers with links sealed in the period starting at `period`.
pub fn sealed_in_period(period: i64) -> Prefix {
    Prefix::new(Space::Index, format!("sealed|{period:012}|"))
}

/// `Index`: the dossier code of a `sealed_in` key.
pub fn parse_sealed_in<'a>(key: &'a Key, prefix: &Prefix) -> Option<&'a str> {
    std::str::from_utf8(key.after(prefix)).ok()
}

/// `Meta`: the signed checkpoint of the period starting at `period`.
pub fn checkpoint(period: i64) -> Key {
    Key::new(Space::Meta, format!("checkpoint|{period:012}"))
}

/// `Meta`: every checkpoint, oldest first.
pub fn checkpoints() -> Prefix {
    Prefix::new(Space::Meta, b"checkpoint|")
}

/// `Index`: every `sealed_in` key, oldest period first.
pub fn sealed_in_period_all() -> Prefix {
    Prefix::new(Space::Index, b"sealed|")
}

/// `Index`: the period of a `sealed_in` key.
pub fn parse_sealed_period(key: &Key) -> Option<i64> {
    let rest = key.within().strip_prefix(b"sealed|")?;
    std::str::from_utf8(rest.get(..12)?).ok()?.parse().ok()
}

/// `Meta`: the national portal's satisfaction summary of month `yyyymm`.
pub fn ratings_month(yyyymm: &str) -> Key {
    Key::new(Space::Meta, format!("ratings|{yyyymm}"))
}

/// `Meta`: every month's satisfaction summary.
pub fn ratings_months() -> Prefix {
    Prefix::new(Space::Meta, b"ratings|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_back() {
        assert_eq!(parse_job(&job("desk:mc", 7)), Some(("desk:mc", 7)));
        let range = job_range("portal", 3);
        assert!(
            range.start.as_slice() < job("portal", 4).full() && job("portal", u64::MAX).full() < range.end.as_slice()
        );
        assert!(job("portalx", 0).full() >= range.end.as_slice());
        assert_eq!(
            parse_schedule(&schedule(1_790_000_000, "000.07.20.H38-261125-0001", "overdue")),
            Some((1_790_000_000, "000.07.20.H38-261125-0001", "overdue"))
        );
        assert!(status(4, "x").full().starts_with(status_prefix(4).full()));
        assert!(status(4, "x").full().starts_with(statuses().full()));
        assert!(waybill_free("EE123456785VN").full().starts_with(waybills_free().full()));
        let dead = dead_of_prefix("A");
        assert_eq!(parse_dead_of(&dead_of("A", 9), &dead), Some(9));
        let syncs = portal_dead_prefix("record", "A");
        assert_eq!(parse_portal_dead(&portal_dead("record", "A", 12), &syncs), Some(12));
        assert_eq!(parse_stats(&day_stats("04606", "20261201")), Some(("04606", "20261201", false)));
        assert_eq!(parse_stats(&month_stats("04606", "202612")), Some(("04606", "202612", true)));
    }
}
