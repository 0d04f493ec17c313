//! Hồ sơ quá hạn: the open overdue dossiers, most late first, from the overdue
//! index (so the page costs what the overdue dossiers cost, not the whole store),
//! with whether the apology went out before the due time and the explanation after.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::Response,
};
use motcua_schemas::UnitCode;
use serde::Deserialize;

use super::{Frame, Signed, Ui, error_page, format, overview::unit_choices};
use crate::dossiers::DossierRecord;
use crate::dossiers::read;

/// Rows shown at most.
const SHOWN: usize = 500;
/// Index entries read at most.
const READ: usize = 20_000;

/// `?don-vi=&thu-tuc=`.
#[derive(Debug, Default, Deserialize)]
pub struct OverdueQuery {
    #[serde(rename = "don-vi", default)]
    unit: Option<String>,
    #[serde(rename = "thu-tuc", default)]
    procedure: Option<String>,
}

struct Row {
    code: String,
    unit: String,
    procedure: String,
    due: String,
    late: String,
    apology: &'static str,
    apology_late: bool,
    explanation: &'static str,
    explanation_late: bool,
}

#[derive(Template)]
#[template(path = "ui/overdue.html")]
struct OverduePage {
    frame: Frame,
    units: Vec<(String, String)>,
    procedures: Vec<(String, String)>,
    unit: String,
    procedure: String,
    rows: Vec<Row>,
    total: usize,
    shown: usize,
}

fn row(record: &DossierRecord, network: &crate::network::Network, now: jiff::Timestamp) -> Row {
    let d = &record.dossier;
    let c = &record.compliance;
    let (apology, apology_late) = match (c.apologies, c.apology_missing) {
        (n, false) if n > 0 => ("Đã gửi", false),
        (n, true) if n > 0 => ("Gửi sau hạn", true),
        (_, true) => ("Chưa gửi", true),
        _ => ("Chưa gửi", false),
    };
    let (explanation, explanation_late) = match (c.explained, c.explanation_missing) {
        (true, _) => ("Đã giải trình", false),
        (false, true) => ("Chưa giải trình (quá thời hạn)", true),
        (false, false) => ("Chưa giải trình", false),
    };
    Row {
        code: d.code.to_string(),
        unit: format::unit_name(network, d.target_unit.as_str()),
        procedure: format!("{} — {}", d.procedure.code, d.procedure.name),
        due: format::when(d.due_at),
        late: format::lateness(now.duration_since(d.due_at).as_secs()),
        apology,
        apology_late,
        explanation,
        explanation_late,
    }
}

/// `GET /ui/qua-han`.
pub async fn page(State(ui): State<Arc<Ui>>, signed: Signed, Query(q): Query<OverdueQuery>) -> Response {
    let settings = ui.app.settings();
    let network = &settings.network;
    let scope = signed.scope(&ui);
    let unit = q.unit.clone().filter(|u| !u.is_empty());
    let within: Option<std::collections::BTreeSet<String>> = match &unit {
        Some(u) => match u.parse::<UnitCode>() {
            Ok(code) if network.knows(&code) && scope.covers(code.as_str()) => {
                Some(network.subtree(&code).iter().map(ToString::to_string).collect())
            }
            Ok(code) if network.knows(&code) => {
                return error_page(StatusCode::FORBIDDEN, "Tài khoản này không được xem hồ sơ của đơn vị đó.");
            }
            _ => return error_page(StatusCode::NOT_FOUND, "Không có đơn vị này."),
        },
        None => None,
    };
    let procedure = q.procedure.clone().filter(|p| !p.is_empty());
    let mut records = Vec::new();
    let overdue = match read::records(&ui.app.store, read::Listing::Overdue, None, READ) {
        Ok(records) => records,
        Err(e) => {
            tracing::error!(error = %e, "the overdue list could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được danh sách. Vui lòng thử lại sau.");
        }
    };
    for record in overdue {
        let d = &record.dossier;
        let unit = d.target_unit.as_str();
        if !scope.covers(unit)
            || within.as_ref().is_some_and(|w| !w.contains(unit))
            || procedure.as_deref().is_some_and(|p| p != d.procedure.code.as_str())
            || !(d.overdue && d.status.is_open())
        {
            continue;
        }
        records.push(record);
    }
    records.sort_by_key(|r| r.dossier.due_at);
    let now = ui.app.clock.now();
    let total = records.len();
    let rows: Vec<Row> = records.iter().take(SHOWN).map(|r| row(r, network, now)).collect();
    let mut procedures: Vec<(String, String)> =
        settings.catalogue.iter().map(|p| (p.code.to_string(), format!("{} — {}", p.code, p.name))).collect();
    procedures.sort();
    tracing::info!(target: "motcua::ui", action = "overdue", operator = %signed.operator.name, "page viewed");
    let page = OverduePage {
        frame: signed.frame("Hồ sơ quá hạn", "qua-han"),
        units: unit_choices(&ui, &signed),
        procedures,
        unit: unit.unwrap_or_default(),
        procedure: procedure.unwrap_or_default(),
        shown: rows.len(),
        rows,
        total,
    };
    signed.page(page.render())
}
