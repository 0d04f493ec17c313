//! Metrics in the Prometheus text format (prometheus-client): requests, intake,
//! the store's group commits, the outbox per destination, deliveries, overdue
//! dossiers, rate-limit refusals, and what the alert rules in `deploy/` watch (peers'
//! rounds, open payments, the certificate's expiry).

use std::sync::atomic::AtomicI64;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::outbox::DestinationStats;
use crate::store::StoreMetrics;

/// Labels of a request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// The route template, e.g. `/v1/dossiers/{code}`.
    pub route: String,
    /// The method.
    pub method: String,
    /// The status code.
    pub status: u16,
}

/// Labels of a request's latency.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The route template.
    pub route: String,
}

/// Labels of an intake.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IntakeLabels {
    /// `portal` or `postal`.
    pub channel: String,
    /// `created` or `repeated`.
    pub outcome: String,
}

/// Labels of an outbound destination.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DestinationLabels {
    /// `desk:<id>`, `portal` or `postal`.
    pub destination: String,
}

/// Labels of a client.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ClientLabels {
    /// The client id (`ip` for the per-address limit).
    pub client: String,
}

/// Labels of a supervised task.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    /// `dispatcher` or `deadline_clock`.
    pub task: String,
}

/// Labels of a tracking status code.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusCodeLabels {
    /// The code.
    pub status_code: String,
}

/// Labels of items set aside.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AsideLabels {
    /// `dvcqg_pull` or `vnpost_tracking`.
    pub source: String,
    /// `refused` or `failed`.
    pub kind: String,
}

/// Labels of a source of items.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// `dvcqg_pull` or `vnpost_tracking`.
    pub source: String,
}

/// Labels of a payment callback.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallbackLabels {
    /// `taken`, or why it was refused: `malformed`, `signature`, `unknown`, `mismatch`.
    pub outcome: String,
}

/// Every metric of the gateway.
pub struct Metrics {
    registry: Registry,
    /// Requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Request latency by route, in seconds.
    pub latency: Family<RouteLabels, Histogram>,
    /// Dossiers taken in by channel.
    pub intake: Family<IntakeLabels, Counter>,
    /// Delivery attempts by destination.
    pub attempts: Family<DestinationLabels, Counter>,
    /// Failed delivery attempts by destination.
    pub failures: Family<DestinationLabels, Counter>,
    /// Jobs dead-lettered by destination.
    pub dead_lettered: Family<DestinationLabels, Counter>,
    /// Rate-limit refusals by client.
    pub rate_limited: Family<ClientLabels, Counter>,
    /// Deadline marks that could not be fired and were kept aside.
    pub marks_held: Counter,
    /// Effects of deliveries on their dossiers that could not be saved.
    pub effects_held: Counter,
    /// Panics of supervised tasks, by task.
    pub task_panics: Family<TaskLabels, Counter>,
    /// Free codes in the waybill pool.
    pub waybills_free: Gauge<i64, AtomicI64>,
    /// VNPost tracking events of codes the table does not name, by code.
    pub vnpost_unknown: Family<StatusCodeLabels, Counter>,
    /// VNPost tracking events of no order of the gateway.
    pub vnpost_unmatched: Counter,
    /// Items of a peer's list or feed set aside, by source and kind.
    pub set_aside: Family<AsideLabels, Counter>,
    /// Pushes and pulls that named a dossier another client submitted (refused).
    pub foreign_updates: Counter,
    /// Password checks made (HTTP Basic and the login form; unknown accounts too).
    pub password_checks: Counter,
    /// Rows of the portal's list skipped: no valid code, or no dates (listed again
    /// next round).
    pub pull_skipped: Counter,
    /// Confirmation callbacks of the payment platform, by outcome.
    pub payment_callbacks: Family<CallbackLabels, Counter>,
    /// Monthly rating summaries sent to the national portal, by outcome.
    pub ratings_syncs: Family<CallbackLabels, Counter>,
    /// Dossiers whose sealed history did not match when a checkpoint was made.
    pub audit_breaks: Counter,
    /// End of the newest checkpoint's period (seconds since the epoch).
    pub audit_checkpoint_end: Gauge<i64, AtomicI64>,
    /// A checkpoint period and its settling time, in seconds.
    pub audit_period: Gauge<i64, AtomicI64>,
    /// The waybill pool's low-water mark (0 when codes do not come from the pool).
    pub waybills_low_water: Gauge<i64, AtomicI64>,
    /// When the served TLS certificate stops being valid (seconds since the epoch).
    pub tls_not_after: Gauge<i64, AtomicI64>,
    round_ok: Family<SourceLabels, Gauge>,
    round_interval: Family<SourceLabels, Gauge>,
    payments_open: Gauge<i64, AtomicI64>,
    payments_past_life: Gauge<i64, AtomicI64>,
    aside: Family<SourceLabels, Gauge>,
    outbox_depth: Family<DestinationLabels, Gauge>,
    outbox_oldest: Family<DestinationLabels, Gauge>,
    outbox_in_flight: Family<DestinationLabels, Gauge>,
    dead_letters: Family<DestinationLabels, Gauge>,
    open_overdue: Gauge<i64, AtomicI64>,
}

impl Metrics {
    /// Registers every metric, including the store's.
    pub fn new(store: &StoreMetrics) -> Metrics {
        let mut registry = Registry::with_prefix("motcua");
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        let m = Metrics {
            requests: Family::default(),
            latency,
            intake: Family::default(),
            attempts: Family::default(),
            failures: Family::default(),
            dead_lettered: Family::default(),
            rate_limited: Family::default(),
            marks_held: Counter::default(),
            effects_held: Counter::default(),
            task_panics: Family::default(),
            waybills_free: Gauge::default(),
            vnpost_unknown: Family::default(),
            vnpost_unmatched: Counter::default(),
            set_aside: Family::default(),
            foreign_updates: Counter::default(),
            pull_skipped: Counter::default(),
            payment_callbacks: Family::default(),
            audit_breaks: Counter::default(),
            ratings_syncs: Family::default(),
            audit_checkpoint_end: Gauge::default(),
            tls_not_after: Gauge::default(),
            audit_period: Gauge::default(),
            waybills_low_water: Gauge::default(),
            round_ok: Family::default(),
            round_interval: Family::default(),
            payments_open: Gauge::default(),
            payments_past_life: Gauge::default(),
            password_checks: Counter::default(),
            aside: Family::default(),
            outbox_depth: Family::default(),
            outbox_oldest: Family::default(),
            outbox_in_flight: Family::default(),
            dead_letters: Family::default(),
            open_overdue: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("http_requests", "HTTP requests by route, method and status", m.requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", m.latency.clone());
        registry.register("intake_dossiers", "Dossiers taken in, by channel and outcome", m.intake.clone());
        registry.register("store_commits", "Group commits made durable", store.commits.clone());
        registry.register("store_commit_batch_size", "Commands per group commit", store.batch_size.clone());
        registry.register(
            "store_sync_duration_seconds",
            "Time of flush and fdatasync per group commit",
            store.sync_seconds.clone(),
        );
        registry.register("outbox_depth", "Jobs queued per destination", m.outbox_depth.clone());
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest queued job per destination",
            m.outbox_oldest.clone(),
        );
        registry.register(
            "outbox_in_flight",
            "Jobs being delivered (push) or leased (pull) per destination",
            m.outbox_in_flight.clone(),
        );
        registry.register("delivery_attempts", "Delivery attempts per destination", m.attempts.clone());
        registry.register("delivery_failures", "Failed delivery attempts per destination", m.failures.clone());
        registry.register(
            "delivery_dead_lettered",
            "Jobs moved to dead letters per destination",
            m.dead_lettered.clone(),
        );
        registry.register("dead_letters", "Dead letters waiting per destination", m.dead_letters.clone());
        registry.register(
            "deadline_marks_held",
            "Deadline marks that could not be fired and were kept aside for an operator",
            m.marks_held.clone(),
        );
        registry.register(
            "delivery_effects_held",
            "Effects of deliveries on their dossiers that could not be saved and were kept aside",
            m.effects_held.clone(),
        );
        registry.register(
            "task_panics",
            "Panics of the gateway's supervised tasks (each restarted), by task",
            m.task_panics.clone(),
        );
        registry.register("open_overdue_dossiers", "Open dossiers marked overdue", m.open_overdue.clone());
        registry.register("waybills_free", "Free codes in the waybill pool", m.waybills_free.clone());
        registry.register(
            "vnpost_tracking_unknown_status",
            "VNPost tracking events whose StatusCode the table does not name",
            m.vnpost_unknown.clone(),
        );
        registry.register(
            "vnpost_tracking_unmatched",
            "VNPost tracking events of no order of the gateway",
            m.vnpost_unmatched.clone(),
        );
        registry.register(
            "items_set_aside",
            "Items of a peer's list or feed set aside (refused, or failed and retried later), by source and kind",
            m.set_aside.clone(),
        );
        registry.register("items_aside", "Items set aside now, per source", m.aside.clone());
        registry.register(
            "payment_callbacks",
            "Confirmation callbacks of the payment platform, by outcome",
            m.payment_callbacks.clone(),
        );
        registry.register(
            "foreign_updates_refused",
            "Pushed or pulled dossiers that named a dossier another client submitted, refused",
            m.foreign_updates.clone(),
        );
        registry.register(
            "password_checks",
            "Password hashes checked (HTTP Basic and the login form, unknown accounts against a decoy)",
            m.password_checks.clone(),
        );
        registry.register(
            "dvcqg_pull_skipped_rows",
            "Rows of the national portal's list skipped: no valid code, or no dates (listed again next round)",
            m.pull_skipped.clone(),
        );
        registry.register(
            "portal_ratings_syncs",
            "Monthly satisfaction summaries sent to the national portal, by outcome (sent, refused, nothing_rated)",
            m.ratings_syncs.clone(),
        );
        registry.register(
            "audit_chain_breaks",
            "Dossiers whose sealed history did not match its links when a checkpoint was made",
            m.audit_breaks.clone(),
        );
        registry.register(
            "audit_checkpoint_end_seconds",
            "End of the newest signed checkpoint's period (before the first: where it will start), seconds since the epoch",
            m.audit_checkpoint_end.clone(),
        );
        registry.register(
            "audit_period_seconds",
            "Length of a checkpoint period plus the wait before it is closed",
            m.audit_period.clone(),
        );
        registry.register(
            "waybills_low_water",
            "Free codes below which the waybill pool wants a new batch (0: codes are not taken from a pool)",
            m.waybills_low_water.clone(),
        );
        registry.register(
            "tls_certificate_not_after_seconds",
            "When the served TLS certificate expires, seconds since the epoch",
            m.tls_not_after.clone(),
        );
        registry.register(
            "peer_round_ok_seconds",
            "When a peer's recurring round (pull, feed) last succeeded, or its task started if none has yet, per source",
            m.round_ok.clone(),
        );
        registry.register(
            "peer_round_interval_seconds",
            "The configured wait between a peer's recurring rounds, per source",
            m.round_interval.clone(),
        );
        registry.register("payments_open", "Online payments opened and not yet settled", m.payments_open.clone());
        registry.register(
            "payments_open_past_life",
            "Open payments older than their life plus two query rounds: the platform is not settling them",
            m.payments_past_life.clone(),
        );
        registry.register(
            "rate_limited_requests",
            "Requests refused by a rate limit, per client",
            m.rate_limited.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Sets the gauges that are read from the queues and the store at scrape time.
    pub fn set_queue_gauges(&self, stats: &[DestinationStats], open_overdue: i64) {
        for s in stats {
            let labels = DestinationLabels { destination: s.destination.clone() };
            self.outbox_depth.get_or_create(&labels).set(s.depth as i64);
            self.outbox_oldest.get_or_create(&labels).set(s.oldest_age_seconds);
            self.outbox_in_flight.get_or_create(&labels).set(s.in_flight as i64);
            self.dead_letters.get_or_create(&labels).set(s.dead as i64);
        }
        self.open_overdue.set(open_overdue);
    }

    /// Notes that a peer's round from `source` succeeded (or its task started) at
    /// `at_secs`, with `interval` until the next.
    pub fn round_ok(&self, source: crate::aside::Source, at_secs: i64, interval: std::time::Duration) {
        let labels = SourceLabels { source: source.as_str().to_owned() };
        self.round_ok.get_or_create(&labels).set(at_secs);
        self.round_interval.get_or_create(&labels).set(i64::try_from(interval.as_secs()).unwrap_or(i64::MAX));
    }

    /// Sets the payment gauges read at scrape time.
    pub fn set_payment_gauges(&self, open: usize, past_life: usize) {
        self.payments_open.set(i64::try_from(open).unwrap_or(i64::MAX));
        self.payments_past_life.set(i64::try_from(past_life).unwrap_or(i64::MAX));
    }

    /// Sets the gauges of the items set aside, per source.
    pub fn set_aside_gauges(&self, counts: &[(crate::aside::Source, usize)]) {
        for (source, n) in counts {
            let labels = SourceLabels { source: source.as_str().to_owned() };
            self.aside.get_or_create(&labels).set(i64::try_from(*n).unwrap_or(i64::MAX));
        }
    }

    /// Counts an item set aside.
    pub fn aside(&self, source: crate::aside::Source, kind: crate::aside::Kind) {
        let kind = match kind {
            crate::aside::Kind::Refused => "refused",
            crate::aside::Kind::Failed => "failed",
        };
        self.set_aside.get_or_create(&AsideLabels { source: source.as_str().to_owned(), kind: kind.to_owned() }).inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a tracking event of a code the table does not name.
    pub fn vnpost_unknown_status(&self, code: i64) {
        self.vnpost_unknown.get_or_create(&StatusCodeLabels { status_code: code.to_string() }).inc();
    }

    /// Counts a delivery attempt and its outcome.
    pub fn delivery(&self, destination: &str, failed: bool, dead: bool) {
        let labels = DestinationLabels { destination: destination.to_owned() };
        self.attempts.get_or_create(&labels).inc();
        if failed {
            self.failures.get_or_create(&labels).inc();
        }
        if dead {
            self.dead_lettered.get_or_create(&labels).inc();
        }
    }
}
