//! The procedure catalogue: which procedures the desks handle, at which levels, by
//! which channels, in how much working time; and (`national`) the reviewed file
//! written from the national catalogue.

pub mod national;

use std::collections::HashMap;

use jiff::civil::Time;
use motcua_schemas::{Channel, ProcedureCode, ProcessingTime, SupplementPolicy};

use crate::config::{
    Problems,
    file::{FeeSection, ProcedureSection},
};
use crate::network::Network;

/// A procedure of the catalogue.
#[derive(Debug, Clone)]
pub struct Procedure {
    /// National (or provincial) code.
    pub code: ProcedureCode,
    /// Name.
    pub name: String,
    /// Levels competent to handle it.
    pub levels: Vec<String>,
    /// Processing time.
    pub processing: ProcessingTime,
    /// Channels it may arrive by.
    pub channels: Vec<Channel>,
    /// Receipts after this time count from the next working day.
    pub cutoff: Option<Time>,
    /// What a received supplement does to the clock.
    pub supplement: SupplementPolicy,
    /// Published fees.
    pub fees: Vec<FeeSection>,
    /// Names of its documents by component code.
    pub documents: std::collections::BTreeMap<String, String>,
    /// Its field in the national catalogue (`MaLinhVuc`, `TenLinhVuc`).
    pub field: Option<(String, String)>,
    /// Its results' codes in the national catalogue, by name.
    pub results: std::collections::BTreeMap<String, String>,
}

impl Procedure {
    /// The catalogue's code of the result named `name`, if it has one.
    pub fn result_code(&self, name: &str) -> Option<&str> {
        let name = motcua_schemas::text::nfc(name);
        self.results.get(name.trim()).map(String::as_str)
    }
}

/// All procedures, by code.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    by_code: HashMap<String, Procedure>,
}

impl Catalogue {
    /// Builds the catalogue, adding every configuration problem to `problems`.
    pub fn build(sections: &[ProcedureSection], network: &Network, problems: &mut Problems) -> Catalogue {
        let mut catalogue = Catalogue::default();
        for (i, p) in sections.iter().enumerate() {
            let at = format!("procedures[{i}] ({})", p.code);
            let code = p.code.parse::<ProcedureCode>().map_err(|e| problems.add(format!("{at}.code"), e)).ok();
            if p.name.trim().is_empty() {
                problems.add(format!("{at}.name"), "must not be empty");
            }
            if p.levels.is_empty() {
                problems.add(format!("{at}.levels"), "name at least one competent level");
            }
            for (j, level) in p.levels.iter().enumerate() {
                if !network.has_level(level) {
                    problems.add(format!("{at}.levels[{j}]"), format!("no unit has level {level:?}"));
                }
            }
            if p.channels.is_empty() {
                problems.add(format!("{at}.channels"), "name at least one channel");
            }
            let processing = match &p.processing {
                None => {
                    problems.add(
                        format!("{at}.processing"),
                        "a procedure needs a processing time (\"3d\", \"4h\", \"30m\" or \"same_day\")",
                    );
                    None
                }
                Some(text) => {
                    text.parse::<ProcessingTime>().map_err(|e| problems.add(format!("{at}.processing"), e)).ok()
                }
            };
            let cutoff = p.cutoff.as_ref().and_then(|c| {
                Time::strptime("%H:%M", c)
                    .map_err(|_| problems.add(format!("{at}.cutoff"), format!("{c:?} is not a time HH:MM")))
                    .ok()
            });
            let (Some(code), Some(processing)) = (code, processing) else {
                continue;
            };
            let procedure = Procedure {
                code: code.clone(),
                name: motcua_schemas::text::nfc(&p.name),
                levels: p.levels.clone(),
                processing,
                channels: p.channels.clone(),
                cutoff,
                supplement: p.supplement,
                fees: p.fees.clone(),
                documents: p.documents.iter().map(|(k, v)| (k.clone(), motcua_schemas::text::nfc(v))).collect(),
                field: p.field.as_ref().map(|f| (f.code.clone(), motcua_schemas::text::nfc(&f.name))),
                results: p.results.iter().map(|(code, name)| (motcua_schemas::text::nfc(name), code.clone())).collect(),
            };
            let qualified = p.qualified.as_ref().and_then(|q| {
                q.parse::<ProcedureCode>().map_err(|e| problems.add(format!("{at}.qualified"), e)).ok().filter(|q| {
                    let same = q.national() == code.national();
                    if !same {
                        problems.add(format!("{at}.qualified"), format!("{q} is not a form of {code}"));
                    }
                    same
                })
            });
            if let Some(q) = qualified
                && q.as_str() != code.as_str()
                && catalogue.by_code.insert(q.to_string(), procedure.clone()).is_some()
            {
                problems.add(format!("{at}.qualified"), format!("procedure {q} is configured twice"));
            }
            if catalogue.by_code.insert(code.to_string(), procedure).is_some() {
                problems.add(format!("{at}.code"), format!("procedure {code} is configured twice"));
            }
        }
        catalogue
    }

    /// The procedure with this code, or with its national part (a portal may send the
    /// provincial form `1.001193.H38` of a catalogue entry `1.001193`).
    pub fn get(&self, code: &ProcedureCode) -> Option<&Procedure> {
        self.by_code.get(code.as_str()).or_else(|| self.by_code.get(code.national()))
    }

    /// Number of procedures.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }

    /// All procedures, each once (not again under its qualified code).
    pub fn iter(&self) -> impl Iterator<Item = &Procedure> {
        self.by_code.iter().filter(|(key, p)| key.as_str() == p.code.as_str()).map(|(_, p)| p)
    }
}
