//! Tổng quan: a unit's figures for a period — received, resolved, on time, open and
//! overdue, apologies and explanations missing, satisfaction — with the on-time rate
//! of each sub-unit and a 30-day trend, all from the statistics counters.

use askama::Template;
use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use jiff::civil::Date;
use motcua_schemas::{UnitCode, time::to_vn};
use serde::Deserialize;
use std::sync::Arc;

use super::{Frame, Refusal, Signed, Ui, chart, error_page, format};
use crate::stats::{self, Part, Report};

/// `?don-vi=&tu=&den=`.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(rename = "don-vi", default)]
    pub unit: Option<String>,
    #[serde(rename = "tu", default)]
    pub from: Option<String>,
    #[serde(rename = "den", default)]
    pub to: Option<String>,
}

/// A unit and period a page is about, once the operator may see them.
pub struct Period {
    pub unit: UnitCode,
    pub from: Date,
    pub to: Date,
}

/// The unit and period of `q` (the operator's home unit and this month by default).
pub fn period(ui: &Ui, signed: &Signed, q: &PeriodQuery) -> Result<Period, Refusal> {
    let today = to_vn(ui.app.clock.now()).date();
    let unit = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => u.parse::<UnitCode>().ok(),
        None => signed.home_unit(ui),
    };
    let settings = ui.app.settings();
    let Some(unit) = unit.filter(|u| settings.network.knows(u)) else {
        return Err(Refusal(StatusCode::NOT_FOUND, "Không có đơn vị này."));
    };
    if !signed.scope(ui).covers(unit.as_str()) {
        return Err(Refusal(StatusCode::FORBIDDEN, "Tài khoản này không được xem số liệu của đơn vị đó."));
    }
    let date = |v: &Option<String>, default: Date| match v.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => v.parse::<Date>().map_err(|_| Refusal(StatusCode::BAD_REQUEST, "Ngày không hợp lệ.")),
        None => Ok(default),
    };
    let (from, to) = (date(&q.from, today.first_of_month())?, date(&q.to, today)?);
    if from > to {
        return Err(Refusal(StatusCode::BAD_REQUEST, "Ngày bắt đầu phải trước ngày kết thúc."));
    }
    Ok(Period { unit, from, to })
}

/// The unit-and-period form of a page, as the page was asked for.
pub struct PeriodForm {
    /// Where it is sent.
    pub action: &'static str,
    /// The units the operator may pick, `(code, name)`.
    pub units: Vec<(String, String)>,
    /// The unit shown.
    pub unit: String,
    /// Its name.
    pub unit_name: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day.
    pub to: String,
    /// The same as CSV, where the page offers it.
    pub csv: Option<String>,
}

impl PeriodForm {
    /// The form of page `action` showing period `p`.
    pub fn new(ui: &Ui, signed: &Signed, p: &Period, action: &'static str) -> PeriodForm {
        let unit = p.unit.to_string();
        PeriodForm {
            action,
            units: unit_choices(ui, signed),
            unit_name: format::unit_name(&ui.app.settings().network, &unit),
            unit,
            from: p.from.to_string(),
            to: p.to.to_string(),
            csv: None,
        }
    }
}

/// The units an operator may pick: those in its scope that exist today.
pub fn unit_choices(ui: &Ui, signed: &Signed) -> Vec<(String, String)> {
    let settings = ui.app.settings();
    let scope = signed.scope(ui);
    let today = to_vn(ui.app.clock.now()).date();
    let mut units: Vec<_> = settings
        .network
        .units()
        .filter(|u| u.valid_on(today) && scope.covers(u.code.as_str()))
        .map(|u| (u.parent.is_some(), u.name.clone(), u.code.to_string()))
        .collect();
    units.sort();
    units.into_iter().map(|(_, name, code)| (code, name)).collect()
}

struct Row {
    unit: String,
    name: String,
    received: u64,
    resolved: u64,
    on_time: String,
    open_overdue: i64,
    apologies_missing: u64,
    explanations_missing: u64,
}

#[derive(Template)]
#[template(path = "ui/overview.html")]
struct OverviewPage {
    frame: Frame,
    form: PeriodForm,
    period: String,
    r: Report,
    on_time: String,
    satisfied: String,
    ratings: u64,
    rows: Vec<Row>,
    bars: String,
    trend: String,
    trend_from: String,
}

fn row(part: &Part, unit: &str) -> Row {
    Row {
        unit: part.unit.clone(),
        name: if part.unit == unit { format!("{} (trực tiếp)", part.name) } else { part.name.clone() },
        received: part.received,
        resolved: part.resolved,
        on_time: format::percent(part.on_time_rate),
        open_overdue: part.open_overdue,
        apologies_missing: part.apologies_missing,
        explanations_missing: part.explanations_missing,
    }
}

/// `GET /ui`.
pub async fn page(State(ui): State<Arc<Ui>>, signed: Signed, Query(q): Query<PeriodQuery>) -> Response {
    let p = match period(&ui, &signed, &q) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let settings = ui.app.settings();
    let network = &settings.network;
    let trend_from = p.to.checked_sub(jiff::Span::new().days(29)).unwrap_or(p.to);
    let figures = stats::report(&ui.app.store, network, &p.unit, p.from, p.to)
        .and_then(|r| stats::daily(&ui.app.store, network, &p.unit, trend_from, p.to).map(|d| (r, d)));
    let (r, days) = match figures {
        Ok(figures) => figures,
        Err(e) => {
            tracing::error!(error = %e, "the overview could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được số liệu. Vui lòng thử lại sau.");
        }
    };
    let s = &r.satisfaction;
    let ratings = s.khong_hai_long + s.hai_long + s.rat_hai_long;
    let satisfied = (ratings > 0).then(|| (s.hai_long + s.rat_hai_long) as f64 / ratings as f64);
    let unit = p.unit.to_string();
    let bars: Vec<(String, Option<f64>)> = r
        .children
        .iter()
        .filter(|c| c.unit != unit || r.children.len() == 1)
        .map(|c| (c.name.clone(), c.on_time_rate))
        .collect();
    let page = OverviewPage {
        frame: signed.frame("Tổng quan", "tong-quan"),
        form: PeriodForm::new(&ui, &signed, &p, "/ui"),
        period: format!("từ {} đến {}", format::day(p.from), format::day(p.to)),
        on_time: format::percent(r.on_time_rate),
        satisfied: format::percent(satisfied),
        ratings,
        rows: r.children.iter().map(|c| row(c, &unit)).collect(),
        bars: chart::rate_bars(&bars),
        trend: chart::trend(&days),
        trend_from: format::day(trend_from),
        r,
    };
    tracing::info!(target: "motcua::ui", action = "overview", operator = %signed.operator.name, unit = %unit, "page viewed");
    signed.page(page.render())
}
