//! Sổ theo dõi hồ sơ (Mẫu 07): the dossiers a unit and its sub-units received in a
//! period, on screen and as CSV; the applicant's name and contact are left out for
//! the roles that may not see personal data.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::{Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    Frame, Signed, Ui, error_page,
    overview::{PeriodForm, PeriodQuery, period},
};

/// Rows shown on screen at most, the first received (the CSV has them all).
const SHOWN: usize = 1_000;
/// The columns that hold personal data (name; address and phone).
const PERSONAL: [usize; 2] = [3, 4];

/// `?don-vi=&tu=&den=&dinh-dang=csv`.
#[derive(Debug, Default, Deserialize)]
pub struct LogbookQuery {
    #[serde(flatten)]
    period: PeriodQuery,
    #[serde(rename = "dinh-dang", default)]
    format: Option<String>,
}

#[derive(Template)]
#[template(path = "ui/logbook.html")]
struct LogbookPage {
    frame: Frame,
    form: PeriodForm,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    total: usize,
}

/// `GET /ui/so-theo-doi`.
pub async fn page(State(ui): State<Arc<Ui>>, signed: Signed, Query(q): Query<LogbookQuery>) -> Response {
    let p = match period(&ui, &signed, &q.period) {
        Ok(p) => p,
        Err(refusal) => return refusal.into_response(),
    };
    let settings = ui.app.settings();
    let units = settings.network.subtree(&p.unit).iter().map(ToString::to_string).collect();
    let csv = q.format.as_deref() == Some("csv");
    // On screen, the first rows, and the count from the statistics counters; as CSV,
    // every row.
    let limit = if csv { usize::MAX } else { SHOWN };
    let read =
        crate::dossiers::received_by(&ui.app.store, &settings.network, &units, p.from, p.to, limit).and_then(|d| {
            let counted = crate::stats::report(&ui.app.store, &settings.network, &p.unit, p.from, p.to)?;
            let total = usize::try_from(counted.received).unwrap_or(usize::MAX).max(d.len());
            Ok((d, total))
        });
    let (dossiers, total) = match read {
        Ok(read) => read,
        Err(e) => {
            tracing::error!(error = %e, "the log book could not be read");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Chưa đọc được sổ theo dõi. Vui lòng thử lại sau.");
        }
    };
    let mut book = crate::forms::log_book(&settings, &p.unit, p.from, p.to, dossiers, ui.app.clock.now());
    if !signed.sees_personal_data() {
        for row in book.rows.iter_mut().skip(1) {
            for column in PERSONAL {
                if let Some(cell) = row.get_mut(column) {
                    *cell = "(không hiển thị)".to_owned();
                }
            }
        }
    }
    tracing::info!(target: "motcua::ui", action = "logbook", operator = %signed.operator.name, unit = %p.unit, "page viewed");
    if csv {
        let disposition = format!("attachment; filename=\"so-theo-doi-{}-{}-{}.csv\"", p.unit, p.from, p.to);
        let headers =
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)];
        return (headers, book.csv()).into_response();
    }
    let mut rows = book.rows;
    let header = if rows.is_empty() { Vec::new() } else { rows.remove(0) };
    let mut form = PeriodForm::new(&ui, &signed, &p, "/ui/so-theo-doi");
    form.csv = Some(format!("/ui/so-theo-doi?don-vi={}&tu={}&den={}&dinh-dang=csv", p.unit, p.from, p.to));
    let page = LogbookPage { frame: signed.frame("Sổ theo dõi hồ sơ", "so-theo-doi"), form, header, rows, total };
    signed.page(page.render())
}
