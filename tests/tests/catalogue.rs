//! The national catalogue, against the real binary and the portal's simulator serving
//! the catalogue through a connector on loopback: `motcua catalogue sync` writes the
//! reviewed procedures file from the samples, waits for a person to accept it, shows a
//! changed procedure as a diff; the gateway reads the accepted file, and a dossier of
//! that procedure is taken under its qualified code, due in the catalogue's time, and
//! its result goes to the portal with the catalogue's code.

use std::process::Command;

use motcua_simulators::dvcqg::{DvcqgSim, Setup};
use motcua_tests::{Gateway, TestConfig, config::dvcqg_env, eventually, gateway::binary};
use serde_json::{Value, json};

const DESK: &str = "mc-tram-tau-dev";

fn sync(config: &std::path::Path, accept: bool) -> (String, String) {
    let mut command = Command::new(binary());
    command.arg("catalogue").arg("sync").arg("--config").arg(config);
    if accept {
        command.arg("--accept");
    }
    let out = command.output().expect("the binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn event(id: &str, kind: &str) -> Value {
    json!({ "event_id": id, "type": kind, "at": jiff::Timestamp::now().to_string() })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalogue_is_synced_reviewed_accepted_and_used() {
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let dir = tempfile::tempdir().expect("a directory");
    let section: toml::Table = toml::from_str(&format!(
        "url = \"{}\"\nprocedures = [\"1.001612\"]\nlevels = {{ \"1\" = \"xa\" }}\n",
        sim.url()
    ))
    .expect("a section");
    let config_path = dir.path().join("gateway.toml");
    std::fs::write(&config_path, TestConfig::fast_retries().set("catalogue_sync", section.clone()).render()).unwrap();

    // First sync: everything is new; written beside, not in force.
    let (out, _) = sync(&config_path, false);
    assert!(out.contains("+ 1.001612 Cấp giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa"), "{out}");
    let file = dir.path().join("procedures.national.toml");
    assert!(!file.exists() && dir.path().join("procedures.national.toml.new").exists());
    sync(&config_path, true);
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.contains("processing = \"10d\"") && written.contains("qualified = \"1.001612.000.00.00.H38\""),
        "{written}"
    );
    assert!(!written.contains("1.002804"), "only the configured procedures");

    // A new publication: shown as a diff, the file in force untouched until accepted.
    sim.publish("1.001612.000.00.00.H38", |p| p["CACHTHUCTHUCHIEN"][0]["THOIGIAN"][0]["THOIGIANGIAIQUYET"] = 7.into());
    let (out, _) = sync(&config_path, false);
    assert_eq!(out.lines().next(), Some("~ 1.001612 processing: \"10d\" → \"7d\""), "{out}");
    assert!(out.lines().nth(1).is_some_and(|l| l.starts_with("~ 1.001612 times:")), "{out}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), written);
    sync(&config_path, true);
    assert!(std::fs::read_to_string(&file).unwrap().contains("processing = \"7d\""));
    assert_eq!(sim.violations(), Vec::<String>::new());

    // The gateway reads the accepted file: the dossier gets the catalogue's name and
    // due time, and its result goes to the portal with the catalogue's code.
    let config = TestConfig::fast_retries()
        .all_day()
        .dvcqg(&sim.url(), None)
        .set("procedure_files", toml::Value::Array(vec![file.display().to_string().into()]));
    let gw = Gateway::start_with_env(config, dvcqg_env());
    let mut body = motcua_tests::samples::portal("CAT-1");
    body["MaTTHC"] = "1.001612.000.00.00.H38".into();
    body["TenTTHC"] = "Cấp giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa".into();
    let (status, created) = gw.post_json("/v1/portal/dossiers", "portal-dev", &body).await;
    assert_eq!(status, 201, "{created}");
    let code = created["code"].as_str().unwrap().to_owned();
    // Known only from the accepted file, under its qualified code; due in its 7 working days.
    let (_, d) = gw.get_json(&format!("/v1/dossiers/{code}"), "admin-dev").await;
    let time = |k: &str| d[k].as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()).expect("a time");
    let days = time("due_at").duration_since(time("received_at")).as_hours() / 24;
    assert!((6..=14).contains(&days), "due {days} days after receipt: {d}");
    assert_eq!(gw.post_json(&format!("/v1/desk/inbox/{code}/ack"), DESK, &json!({})).await.0, 200);
    for (i, kind) in ["received", "processing"].iter().enumerate() {
        let (status, reply) =
            gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), DESK, &event(&format!("c{i}"), kind)).await;
        assert_eq!(status, 200, "{reply}");
    }
    let mut result = event("c9", "result_ready");
    result["result_documents"] = json!([{ "name": "Giấy chứng nhận đủ điều kiện kinh doanh dịch vụ lữ hành nội địa" }]);
    let (status, reply) = gw.post_json(&format!("/v1/desk/dossiers/{code}/events"), DESK, &result).await;
    assert_eq!(status, 200, "{reply}");
    let record = eventually(15, "the result at the portal", || async {
        sim.taken()
            .into_iter()
            .rev()
            .find(|t| t.service == "DongBoHoSoMC" && t.item["TrangThaiHoSo"] == "9")
            .map(|t| t.item)
    })
    .await;
    assert_eq!(record["DanhSachGiayToKetQua"][0]["MaGiayToKetQua"], "KQ.1.001612", "{record}");
    assert_eq!(sim.violations(), Vec::<String>::new());
}
