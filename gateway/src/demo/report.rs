//! The demo's ending: each dossier's final status against what its story expects,
//! the province's statistics for the day, and what the peers received.

use motcua_schemas::{Status, time::to_vn};
use serde_json::Value;

use super::{Demo, DemoError};

/// What the demo expects of each dossier, and what happened.
pub(super) struct Outcome {
    /// The letter the timeline shows it under.
    pub label: &'static str,
    /// Its story in a few words.
    pub story: &'static str,
    /// Its dossier code.
    pub code: String,
    /// The status it must end in.
    pub expected: Status,
    /// Whether it must end marked overdue.
    pub expect_overdue: bool,
}

/// Prints the table of final statuses and the statistics; true when every dossier
/// and every statistic is what the script expects.
pub(super) async fn report(
    demo: &Demo,
    outcomes: &[Outcome],
    portal: &motcua_simulators::dvcqg::DvcqgSim,
    post: &motcua_simulators::vnpost::VnpostSim,
) -> Result<bool, DemoError> {
    println!();
    let mut all_ok = true;
    let mut rows = Vec::new();
    for o in outcomes {
        let d = demo.dossier(&o.code).await?;
        let status = d["status"].as_u64().unwrap_or(0);
        let overdue = d["overdue"].as_bool().unwrap_or(false);
        let ok = status == u64::from(o.expected.code()) && overdue == o.expect_overdue;
        all_ok &= ok;
        rows.push(vec![
            o.label.to_owned(),
            o.code.clone(),
            o.story.to_owned(),
            format!("{status} {}", d["status_name"].as_str().unwrap_or_default()),
            if overdue { "yes" } else { "no" }.to_owned(),
            if ok { "ok" } else { "UNEXPECTED" }.to_owned(),
        ]);
    }
    print!("{}", crate::table::render(&["", "CODE", "STORY", "FINAL STATUS", "OVERDUE", "CHECK"], &rows));
    let today = to_vn(jiff::Timestamp::now()).date();
    let stats = demo
        .json(reqwest::Method::GET, &format!("/v1/stats?unit=15&from={today}&to={today}"), "admin-dev", None)
        .await?;
    println!();
    let measures = [
        "received",
        "resolved",
        "resolved_before_due",
        "resolved_on_due",
        "resolved_late",
        "on_time_rate",
        "open_not_due",
        "open_overdue",
        "refused",
        "withdrawn",
        "apologies",
        "apologies_missing",
        "explanations_missing",
    ];
    let shown = |v: &Value| match v.as_f64() {
        Some(f) if v.is_f64() => format!("{:.1} %", f * 100.0),
        _ => v.to_string(),
    };
    let rows: Vec<Vec<String>> = measures.iter().map(|m| vec![(*m).to_owned(), shown(&stats[*m])]).collect();
    print!("{}", crate::table::render(&["STATISTICS (Tỉnh Lào Cai, today)", "VALUE"], &rows));
    let s = &stats["satisfaction"];
    println!(
        "satisfaction: không hài lòng {}, hài lòng {}, rất hài lòng {}",
        s["khong_hai_long"], s["hai_long"], s["rat_hai_long"]
    );
    let expected = [
        ("received", 5),
        ("resolved", 3),
        ("resolved_late", 1),
        ("refused", 1),
        ("withdrawn", 1),
        ("apologies", 1),
        ("apologies_missing", 0),
        ("open_not_due", 0),
        ("open_overdue", 0),
    ];
    for (measure, want) in expected {
        if stats[measure].as_i64() != Some(want) {
            all_ok = false;
            println!("statistic {measure} is {}, expected {want}", stats[measure]);
        }
    }
    let taken = portal.taken();
    let records = taken.iter().filter(|t| t.service == "DongBoHoSoMC").count();
    let steps = taken.iter().filter(|t| t.service == "CapNhatTienDoHoSoMC").count();
    let violations = portal.violations();
    println!(
        "\nthe national portal took {records} record syncs (DongBoHoSoMC) and {steps} progress steps (CapNhatTienDoHoSoMC), {} of its rules broken",
        violations.len()
    );
    let post_violations = post.violations();
    println!("VNPost took {} order(s), {} of its rules broken", post.orders().len(), post_violations.len());
    for v in violations.iter().chain(&post_violations) {
        println!("  refused: {v}");
    }
    all_ok &= violations.is_empty() && post_violations.is_empty();
    println!(
        "{} in {:.1} s",
        if all_ok { "every dossier ended where it should" } else { "SOME DOSSIERS DID NOT END WHERE THEY SHOULD" },
        demo.started.elapsed().as_secs_f64()
    );
    Ok(all_ok)
}
