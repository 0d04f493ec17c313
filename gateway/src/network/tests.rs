//! Routing across the reform of 1 July 2025, on a small slice of the real network:
//! codes that name two units at different dates, former communes and districts with
//! their successors, competence, desk fallback, and configuration problems.

use jiff::civil::date;

use super::*;
use crate::config::{
    Problems,
    file::{DeskSection, UnitSection},
};

fn unit(code: &str, name: &str, level: &str, parent: Option<&str>) -> UnitSection {
    UnitSection {
        code: code.into(),
        name: name.into(),
        level: level.into(),
        parent: parent.map(Into::into),
        desk: None,
        valid_from: None,
        valid_until: None,
        successor: None,
    }
}

fn since(mut u: UnitSection, day: &str) -> UnitSection {
    u.valid_from = Some(day.into());
    u
}

fn ended(mut u: UnitSection, successor: &str) -> UnitSection {
    u.valid_until = Some("2025-06-30".into());
    u.successor = Some(successor.into());
    u
}

fn desk(id: &str, serves: &[&str]) -> DeskSection {
    DeskSection {
        id: id.into(),
        name: format!("Bộ phận Một cửa {id}"),
        agency_code: "000.00.15.H38".into(),
        mode: DeskMode::Pull,
        url: None,
        ca_file: None,
        timeout_secs: None,
        concurrency: None,
        serves: serves.iter().map(|s| (*s).to_owned()).collect(),
        signer: Vec::new(),
    }
}

/// Lào Cai (15) since 2025-07-01 with Xã Hạnh Phúc 04585 and Xã Trạm Tấu 04606 (no
/// desk of its own); before, Yên Bái (15) with Huyện Trạm Tấu 139 and its communes
/// Thị trấn Trạm Tấu 04585, Xã Trạm Tấu 04600, Xã Pá Hu 04606; and the former Lào
/// Cai province (10) with Thành phố Lào Cai 080 and Xã Vạn Hòa 02665.
fn network() -> Network {
    let r = "2025-07-01";
    let units = vec![
        since(unit("15", "Tỉnh Lào Cai", "tinh", None), r),
        since(unit("04585", "Xã Hạnh Phúc", "xa", Some("15")), r),
        since(unit("04606", "Xã Trạm Tấu", "xa", Some("15")), r),
        since(unit("02647", "Phường Lào Cai", "xa", Some("15")), r),
        ended(unit("15", "Tỉnh Yên Bái", "tinh", None), "15"),
        ended(unit("10", "Tỉnh Lào Cai", "tinh", None), "15"),
        ended(unit("139", "Huyện Trạm Tấu", "huyen", Some("15")), "04585"),
        ended(unit("04585", "Thị trấn Trạm Tấu", "xa", Some("139")), "04585"),
        ended(unit("04600", "Xã Trạm Tấu", "xa", Some("139")), "04606"),
        ended(unit("04606", "Xã Pá Hu", "xa", Some("139")), "04606"),
        ended(unit("080", "Thành phố Lào Cai", "huyen", Some("10")), "02647"),
        ended(unit("02665", "Xã Vạn Hòa", "xa", Some("080")), "02647"),
    ];
    let mut problems = Problems::default();
    let net = Network::build(&units, &[desk("hcc", &["15"]), desk("hanh-phuc", &["04585"])], &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    net
}

fn code(s: &str) -> UnitCode {
    s.parse().unwrap()
}

fn xa() -> Vec<String> {
    vec!["xa".into()]
}

const TODAY: Date = date(2026, 11, 26);

#[test]
fn a_code_names_one_unit_before_the_reform_and_another_after() {
    let net = network();
    assert_eq!(net.unit_on(&code("04585"), date(2025, 6, 30)).unwrap().name, "Thị trấn Trạm Tấu");
    assert_eq!(net.unit_on(&code("04585"), date(2025, 7, 1)).unwrap().name, "Xã Hạnh Phúc");
    let route = net.route(&code("04585"), None, &xa(), TODAY).unwrap();
    assert_eq!((route.target.as_str(), route.desk.as_str()), ("04585", "hanh-phuc"));
    assert_eq!(
        route.steps,
        vec![RouteStep::CodeReused {
            code: code("04585"),
            before: "Thị trấn Trạm Tấu".into(),
            since: date(2025, 7, 1),
            now: "Xã Hạnh Phúc".into()
        }]
    );
    assert_eq!(
        route.steps[0].note(&net),
        "Mã đơn vị 04585 đến hết ngày 30/06/2025 là thị trấn Trạm Tấu; từ ngày 01/07/2025 là xã Hạnh Phúc"
    );
}

#[test]
fn a_former_commune_goes_to_the_commune_that_absorbed_it() {
    let net = network();
    let route = net.route(&code("04600"), None, &xa(), TODAY).unwrap();
    assert_eq!(route.target, code("04606"));
    assert_eq!(route.desk, "hcc", "Xã Trạm Tấu has no desk of its own: the province's serves it");
    assert_eq!(
        route.steps[0].note(&net),
        "Mã đơn vị 04600 là xã Trạm Tấu đến hết ngày 30/06/2025; từ ngày 01/07/2025, xã Trạm Tấu (mã 04606) kế thừa"
    );
    assert!(matches!(&route.steps[1], RouteStep::DeskFallback { desk, .. } if desk == "hcc"));
    // Today's 04606 is Xã Trạm Tấu; until 30/06/2025 the code named Xã Pá Hu.
    let route = net.route(&code("04606"), None, &xa(), TODAY).unwrap();
    assert_eq!(route.target, code("04606"));
    assert_eq!(net.unit_on(&code("04606"), date(2025, 6, 30)).unwrap().name, "Xã Pá Hu");
    assert_eq!(net.unit_on(&code("04606"), date(2025, 7, 1)).unwrap().name, "Xã Trạm Tấu");
    // Before the reform, 04600 was itself.
    assert_eq!(net.unit_on(&code("04600"), date(2025, 6, 1)).unwrap().name, "Xã Trạm Tấu");
}

#[test]
fn a_former_district_goes_to_the_applicants_own_commune_or_its_default() {
    let net = network();
    let route = net.route(&code("139"), Some(&code("04600")), &xa(), TODAY).unwrap();
    assert_eq!(route.target, code("04606"));
    assert!(
        route.steps[0]
            .note(&net)
            .starts_with("Huyện Trạm Tấu (mã 139) không còn từ ngày 01/07/2025; hồ sơ do xã Trạm Tấu (mã 04606)"),
        "{}",
        route.steps[0].note(&net)
    );
    // An applicant from elsewhere: the district's own successor.
    let route = net.route(&code("139"), Some(&code("02665")), &xa(), TODAY).unwrap();
    assert_eq!(route.target, code("04585"));
}

#[test]
fn a_commune_of_the_former_lao_cai_province_routes_within_the_merged_one() {
    let net = network();
    let route = net.route(&code("02665"), None, &xa(), TODAY).unwrap();
    assert_eq!(route.target, code("02647"));
    assert_eq!(route.desk, "hcc");
    let province = net.route(&code("10"), None, &["tinh".into()], TODAY).unwrap();
    assert_eq!(province.target, code("15"));
}

#[test]
fn competence_walks_up_as_of_the_day() {
    let route = network().route(&code("04600"), None, &["tinh".into()], TODAY).unwrap();
    assert_eq!((route.target.as_str(), route.desk.as_str()), ("15", "hcc"));
    assert!(matches!(route.steps.last(), Some(RouteStep::Competence { level, .. }) if level == "tinh"));
}

#[test]
fn unknown_and_not_yet_existing_units_are_refused() {
    let net = network();
    assert_eq!(net.route(&code("99999"), None, &xa(), TODAY), Err(RouteError::UnknownUnit(code("99999"))));
    assert_eq!(
        net.route(&code("02647"), None, &xa(), date(2025, 1, 1)),
        Err(RouteError::NotYet(code("02647"), date(2025, 1, 1)))
    );
}

#[test]
fn overlaps_loops_and_late_successors_are_configuration_problems() {
    let units = vec![
        since(unit("15", "Tỉnh Lào Cai", "tinh", None), "2025-07-01"),
        // Overlaps the version above.
        ended(unit("15", "Tỉnh Yên Bái", "tinh", None), "15").tap(|u| u.valid_until = Some("2025-07-05".into())),
        // A loop: 01 → 02 → 01 on the same day. Succession runs forward in time, so a
        // loop always leaves a successor that does not exist the day it takes over.
        ended(unit("01", "A", "xa", Some("15")), "02"),
        ended(unit("02", "B", "xa", Some("15")), "01"),
        // A successor that only exists from 2026.
        ended(unit("03", "C", "xa", Some("15")), "04"),
        since(unit("04", "D", "xa", Some("15")), "2026-01-01"),
        // A successor on a unit that did not end.
        unit("05", "E", "xa", Some("15")).tap(|u| u.successor = Some("15".into())),
        since(unit("06", "F", "xa", Some("15")), "2025-13-01"),
    ];
    let mut problems = Problems::default();
    Network::build(&units, &[desk("a", &["99"])], &mut problems);
    let paths: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.path, p.message)).collect();
    for expected in [
        "units[1] (15).code: unit 15 overlaps",
        "units[2] (01).successor: unit 02 does not exist on 2025-07-01",
        "units[3] (02).successor: unit 01 does not exist on 2025-07-01",
        "units[4] (03).successor: unit 04 does not exist on 2025-07-01",
        "units[6] (05).successor: only a unit that ended",
        "units[7] (06).valid_from",
        "desks[0].serves[0]: no current unit",
    ] {
        assert!(paths.iter().any(|p| p.starts_with(expected)), "missing {expected:?} in {paths:#?}");
    }
}

trait Tap: Sized {
    fn tap(self, f: impl FnOnce(&mut Self)) -> Self;
}

impl Tap for UnitSection {
    fn tap(mut self, f: impl FnOnce(&mut Self)) -> Self {
        f(&mut self);
        self
    }
}
