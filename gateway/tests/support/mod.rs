//! The in-process world the gateway's own tests run in: a store in a temporary
//! directory, the sample settings, a clock the test moves, and helpers that submit
//! dossiers, apply desk events, fire what is due and read back records, notices and
//! marks.

// Each test file uses the part of the world it needs; its helpers say "this cannot
// fail here" the way test functions do.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::{path::PathBuf, sync::Arc};

use jiff::Timestamp;
use motcua_adapters::desk::{DeskEvent, EventFields};
use motcua_gateway::{
    clock::{Clock, ManualClock},
    deadlines,
    dossiers::{
        DossierRecord,
        events::{self, EventOutcome},
        intake::{self, IntakeOutcome, Submission},
    },
    outbox::{Job, JobKind, NoticeKind},
    settings::Settings,
    store::{Store, StoreMetrics, keys},
};
use motcua_schemas::{DossierCode, EventType, time::parse_rfc3339};

pub fn t(s: &str) -> Timestamp {
    parse_rfc3339(s).unwrap()
}

pub struct World {
    /// Where the store lives (when the world made it).
    pub _dir: tempfile::TempDir,
    /// The store.
    pub store: Store,
    /// The settings.
    pub settings: Arc<Settings>,
    /// The clock.
    pub clock: ManualClock,
    /// The last number given to a submission or event.
    pub next: u32,
}

pub fn settings(edit: impl FnOnce(String) -> String) -> Arc<Settings> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../config/gateway.toml");
    let text = edit(std::fs::read_to_string(&path).unwrap());
    Arc::new(Settings::parse(&text, &path).unwrap())
}

impl World {
    pub fn new(start: &str) -> World {
        World::with(start, |s| s)
    }

    pub fn with(start: &str, edit: impl FnOnce(String) -> String) -> World {
        let dir = tempfile::tempdir().unwrap();
        let settings = settings(edit);
        let store = Store::open(dir.path(), &settings.boot.store, StoreMetrics::default(), Vec::new()).unwrap();
        World { _dir: dir, store, settings, clock: ManualClock::at(t(start)), next: 0 }
    }

    /// The world's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn at(&self, when: &str) {
        self.clock.set(t(when));
    }

    /// Submits a portal dossier for `procedure` addressed to 04585 (xã Trạm Tấu's desk).
    pub async fn submit(&mut self, procedure: &str) -> DossierCode {
        match self.submit_edited(procedure, |_| {}).await {
            IntakeOutcome::Created(r, _) => r.dossier.code,
            IntakeOutcome::Repeated(_) | IntakeOutcome::Updated(_) => panic!("a new dossier"),
        }
    }

    /// As `submit`, with the portal's body changed by `edit` first, and what intake made
    /// of it.
    pub async fn submit_edited(&mut self, procedure: &str, edit: impl FnOnce(&mut serde_json::Value)) -> IntakeOutcome {
        self.next += 1;
        let mut body: serde_json::Value =
            serde_json::from_str(include_str!("../../../schemas/samples/portal-dossier.json")).unwrap();
        body["MaHoSoCongDVC"] = format!("DVC-CLOCK-{}", self.next).into();
        body["MaTTHC"] = procedure.into();
        // Submitted on the portal at the world's time, not in its future.
        body["NgayNopHoSo"] = motcua_schemas::time::format_portal(self.clock.now()).into();
        edit(&mut body);
        let parsed = motcua_adapters::portal::parse_dossier(&serde_json::to_vec(&body).unwrap(), 32).unwrap();
        let submission = Submission {
            intake: parsed.intake,
            applicant_commune: parsed.applicant_commune,
            inbound_item: None,
            contents: Vec::new(),
            client_id: "portal-dev".into(),
            portal: None,
            updates: false,
        };
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        intake::submit(&self.store, self.settings.clone(), clock, submission).await.unwrap()
    }

    pub async fn event(&mut self, code: &DossierCode, kind: EventType, fields: EventFields) -> DossierRecord {
        self.next += 1;
        let event = DeskEvent {
            event_id: format!("ev-{}", self.next),
            kind,
            at: self.clock.now(),
            note: None,
            fields,
            officer: None,
            digitized: Vec::new(),
        };
        let clock: Arc<dyn Clock> = Arc::new(self.clock.clone());
        match events::apply_desk_event(
            &self.store,
            self.settings.clone(),
            clock,
            "mc-tram-tau".into(),
            code.clone(),
            event,
        )
        .await
        .unwrap()
        {
            EventOutcome::Applied(r) => *r,
            EventOutcome::Repeated(_) => panic!("a new event"),
        }
    }

    /// Moves the clock to `when` and fires what is due.
    pub async fn tick(&self, when: &str) -> usize {
        self.at(when);
        deadlines::fire_due(&self.store, self.settings.clone(), t(when)).await.unwrap().handled
    }

    pub fn record(&self, code: &DossierCode) -> DossierRecord {
        self.store.get_json(&keys::dossier(code.as_str())).unwrap().unwrap()
    }

    /// Notices queued for `desk`: (kind, dossier).
    pub fn notices(&self, desk: &str) -> Vec<(NoticeKind, String)> {
        self.store
            .scan_prefix(&keys::destination_prefix(&format!("desk:{desk}")))
            .map(|e| serde_json::from_slice::<Job>(&e.unwrap().1).unwrap())
            .filter_map(|job| match job.kind {
                JobKind::Notice { notice } => Some((notice.kind, notice.code.to_string())),
                _ => None,
            })
            .collect()
    }

    pub fn marks(&self, code: &DossierCode) -> Vec<String> {
        self.record(code)
            .dossier
            .history
            .iter()
            .filter_map(|h| h.details.as_ref()?.get("mark")?.as_str().map(str::to_owned))
            .filter(|m| m != "delivered")
            .collect()
    }
}
