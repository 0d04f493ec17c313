//! The simulators replay the golden samples of the real peers' messages
//! (`simulators/peers/`, sources in its README): every request sample a simulator
//! stands in for is sent to it as it is (only the session it must carry, and values
//! the samples mark fictional where a check digit forbids them, replaced) and taken,
//! and every answer it gives has the sample answer's shape — the same keys, nesting
//! and JSON types. A simulator kinder or stricter than the samples fails here.

use std::collections::BTreeSet;

use motcua_simulators::{
    dvcqg::{DvcqgSim, Listed, Setup},
    paygov::{self, PaygovSim},
    vnpost::{self, VnpostSim},
};
use serde_json::Value;

fn golden(name: &str) -> Value {
    let text = motcua_tests::repo_file(&format!("simulators/peers/{name}.json"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where `got` differs in shape from `sample`: keys, nesting and JSON types (each
/// item of a list against the sample's first).
fn differences(sample: &Value, got: &Value, at: &str) -> Vec<String> {
    match (sample, got) {
        (Value::Object(s), Value::Object(g)) => {
            let (sk, gk): (BTreeSet<&String>, BTreeSet<&String>) = (s.keys().collect(), g.keys().collect());
            let mut out: Vec<String> = sk.symmetric_difference(&gk).map(|k| format!("{at}/{k}: in only one")).collect();
            for k in sk.intersection(&gk) {
                out.extend(differences(&s[k.as_str()], &g[k.as_str()], &format!("{at}/{k}")));
            }
            out
        }
        (Value::Array(s), Value::Array(g)) => match s.first() {
            Some(first) => {
                g.iter().enumerate().flat_map(|(i, item)| differences(first, item, &format!("{at}/{i}"))).collect()
            }
            None => Vec::new(),
        },
        (s, g) if kind(s) == kind(g) => Vec::new(),
        (s, g) => vec![format!("{at}: {} in the sample, {} here", kind(s), kind(g))],
    }
}

fn assert_shape(sample: &str, got: &Value) {
    let (sample_value, diff) = (golden(sample), differences(&golden(sample), got, ""));
    assert!(diff.is_empty(), "{sample}: {diff:?}\n{got}");
    // An answer of the same shape must also say what the sample says: taken or not.
    for key in ["error_code", "Status"] {
        if let Some(code) = sample_value.get(key) {
            assert_eq!(got.get(key), Some(code), "{sample}: {got}");
        }
    }
}

async fn post(url: &str, body: &Value, bearer: Option<&str>) -> Value {
    let mut request = reqwest::Client::new().post(url).header("Charset", "utf-8").json(body);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the simulator answers");
    assert_eq!(response.status().as_u16(), 200, "{url}");
    response.json().await.expect("a JSON answer")
}

fn with_session(mut sample: Value, session: &Value) -> Value {
    sample["session"] = session.clone();
    sample
}

#[tokio::test(flavor = "multi_thread")]
async fn the_portal_simulator_takes_every_sample_request_and_answers_in_the_samples_shapes() {
    motcua_tests::init_crypto();
    let login = golden("dvcqg-auth-login.request");
    let (user, password) = (login["username"].as_str().unwrap(), login["password"].as_str().unwrap());
    let mut setup = Setup { username: user.into(), password: password.into(), ..Setup::default() };
    setup.pull.username = user.into();
    setup.pull.password = password.into();
    let sim = DvcqgSim::start(setup).await.expect("the simulator starts");
    let base = sim.url();

    // The session envelope: login, record sync, progress, trade-promotion status.
    let answer = post(&format!("{base}/auth"), &login, None).await;
    assert_shape("dvcqg-auth-login.reply", &answer);
    let session = answer["session"].clone();
    let record = with_session(golden("dvcqg-sync-DongBoHoSoMC.request"), &session);
    assert_shape("dvcqg-sync-DongBoHoSoMC.reply", &post(&format!("{base}/service"), &record, None).await);
    let progress = with_session(golden("dvcqg-sync-CapNhatTienDoHoSoMC.request"), &session);
    assert_shape("dvcqg-sync-DongBoHoSoMC.reply", &post(&format!("{base}/service"), &progress, None).await);
    let status = with_session(golden("dvcqg-sync-DongBoTrangThaiHoSo.request"), &session);
    assert_shape("dvcqg-sync-DongBoHoSoMC.reply", &post(&format!("{base}/service"), &status, None).await);

    // A provincial connector's bare arrays: a create, the same again ("đã tồn tại"),
    // and progress.
    let create = golden("dvcqg-sync-DongBoHoSoMC.connector.request");
    let mut fresh = create.clone();
    fresh[0]["MaHoSo"] = "000.00.01.H38-261201-0002".into();
    assert_shape(
        "dvcqg-sync-DongBoHoSoMC.connector.reply",
        &post(&format!("{base}/connector/ThemMoi"), &fresh, None).await,
    );
    let again = post(&format!("{base}/connector/ThemMoi"), &fresh, None).await;
    assert_shape("dvcqg-sync-DongBoHoSoMC.connector.duplicate.reply", &again);
    assert!(again["message"].as_str().unwrap().contains("đã tồn tại"), "{again}");
    let steps = golden("dvcqg-sync-CapNhatTienDoHoSoMC.connector.request");
    let answer = post(&format!("{base}/connector/DongBoTienTrinh"), &steps, None).await;
    assert_shape("dvcqg-sync-DongBoHoSoMC.connector.reply", &answer);

    // The pull services: their own login, then list, details and a file, exactly as
    // the samples ask for them.
    let list = golden("dvcqg-pull-list-DanhSachHoSo.request");
    let detail = golden("dvcqg-pull-detail-TraCuuHoSo.request");
    let code = detail["mahoso"].as_str().unwrap();
    let day: jiff::civil::Date = list["ngayNhan2"].as_str().unwrap().parse().unwrap();
    sim.list(Listed::sample(list["donViXuLy"].as_str().unwrap(), code, day));
    let answer = post(&format!("{base}/apiDVC-GPLX/tcdbdvcdata/mapi/login"), &login, None).await;
    assert_shape("dvcqg-auth-login.reply", &answer);
    let pull_session = answer["session"].clone();
    let services = format!("{base}/apiDVC-GPLX/tcdbdvcdata/mapi/g");
    let listed = post(&services, &with_session(list, &pull_session), None).await;
    assert_shape("dvcqg-pull-list-DanhSachHoSo.reply", &listed);
    assert_eq!(listed["data"].as_array().map(Vec::len), Some(1), "{listed}");
    let details = post(&services, &with_session(detail, &pull_session), None).await;
    assert_shape("dvcqg-pull-detail-TraCuuHoSo.reply", &details);
    let file =
        post(&services, &with_session(golden("dvcqg-pull-files-LayTaiLieuHoSo.request"), &pull_session), None).await;
    assert_shape("dvcqg-pull-files-LayTaiLieuHoSo.reply", &file);

    // The pull services are not the envelope's: a sync session opens nothing there,
    // and a `madonvi` the public client never sends is refused.
    let mut enveloped = with_session(golden("dvcqg-pull-list-DanhSachHoSo.request"), &pull_session);
    enveloped["madonvi"] = "000.00.00.H38".into();
    assert_eq!(post(&services, &enveloped, None).await["error_code"], "99");
    let foreign = with_session(golden("dvcqg-pull-list-DanhSachHoSo.request"), &session);
    assert_eq!(post(&services, &foreign, None).await["error_code"], "-1");
    let violations = sim.violations();
    assert_eq!(violations.len(), 1, "only the enveloped call: {violations:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vnpost_simulator_takes_every_sample_order_and_answers_in_the_samples_shapes() {
    motcua_tests::init_crypto();
    let order = golden("vnpost-order.request");
    let setup = vnpost::Setup {
        customer_code: order["CustomerCode"].as_str().unwrap().into(),
        provinces: [order["SenderProvince"].as_i64().unwrap()].into(),
        ..vnpost::Setup::default()
    };
    let (key, secret) = (setup.key.clone(), setup.secret.clone());
    let sim = VnpostSim::start(setup).await.expect("the simulator starts");
    let grant = reqwest::Client::new()
        .post(format!("{}/token", sim.url()))
        .basic_auth(key, Some(secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .expect("the token endpoint answers");
    let token: Value = grant.json().await.expect("a JSON token");
    assert_shape("vnpost-token.reply", &token);
    let bearer = token["access_token"].as_str().unwrap();

    assert_shape("vnpost-order.reply", &post(&format!("{}/order", sim.url()), &order, Some(bearer)).await);
    // The second sample carries a pre-issued waybill code; the sample's is fictional
    // and fails the S10 check digit, so a valid one stands in for it.
    let mut with_item = golden("vnpost-order-withItemCode.request");
    with_item["OrderNumber"] = "000.00.01.H38-261201-0002".into();
    with_item["ItemCode"] = motcua_tests::samples::s10("EL", 12_345_678).into();
    let answer = post(&format!("{}/order", sim.url()), &with_item, Some(bearer)).await;
    assert_shape("vnpost-order.reply", &answer);
    assert_eq!(answer["Status"], 100, "{answer}");
    assert_eq!(sim.violations(), Vec::<String>::new());

    // The tracking feed pages the samples' events in the sample's shape.
    for event in golden("vnpost-tracking.reply")["_embedded"]["rh:doc"].as_array().unwrap() {
        sim.track_raw(event.clone());
    }
    let page: Value = reqwest::Client::new()
        .get(format!("{}/tracking?pagesize=10&lastId={}", sim.url(), "0".repeat(24)))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("the feed answers")
        .json()
        .await
        .expect("a JSON page");
    assert_shape("vnpost-tracking.reply", &page);
    assert_eq!(page["_returned"], 2, "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_payment_simulator_takes_the_sample_messages_and_answers_in_their_shapes() {
    motcua_tests::init_crypto();
    let sim = PaygovSim::start(paygov::Setup::default()).await.expect("the platform starts");
    let init = golden("paygov-init.request");
    let answer = post(&format!("{}/init", sim.url()), &init, None).await;
    assert_shape("paygov-init.reply", &answer);
    let reference = init["MaThamChieu"].as_str().unwrap();
    assert_eq!(sim.opened().len(), 1);
    let query = post(&format!("{}/query", sim.url()), &golden("paygov-query.request"), None).await;
    let mut pending = golden("paygov-query.reply");
    pending["TrangThaiGD"] = "3".into();
    assert_eq!(differences(&pending, &query, ""), Vec::<String>::new(), "{query}");
    assert_eq!((query["MaThamChieu"].as_str(), query["TrangThaiGD"].as_str()), (Some(reference), Some("3")));
    // The callback it builds is the sample's, field for field and signature.
    let paid = sim.pay(reference, "PP261201093512000457", None).expect("open");
    let sample = golden("paygov-confirm-callback.request");
    assert_eq!(paid["MaXacThuc"], sample["MaXacThuc"], "{paid}");
    assert_eq!(differences(&sample, &paid, ""), Vec::<String>::new());
    let query = post(&format!("{}/query", sim.url()), &golden("paygov-query.request"), None).await;
    assert_eq!(query["TrangThaiGD"], "1");
    assert_eq!(sim.violations(), Vec::<String>::new());
    let wrapped = PaygovSim::start(paygov::Setup { wrapped: true, ..paygov::Setup::default() }).await.unwrap();
    assert_shape("paygov-init.connector.reply", &post(&format!("{}/init", wrapped.url()), &init, None).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalogue_connector_answers_in_the_samples_shapes() {
    motcua_tests::init_crypto();
    let sim = DvcqgSim::start(Setup::default()).await.expect("the simulator starts");
    let get = |path: String| async move {
        let response = reqwest::get(path).await.expect("an answer");
        assert_eq!(response.status().as_u16(), 200);
        response.json::<Value>().await.expect("JSON")
    };
    let list = get(format!("{}/KetNoiMotCuaQuocGia/LayDanhSachTTHC", sim.url())).await;
    assert_shape("dvcqg-catalogue-LayDanhSachTTHC.connector.reply", &list);
    let inner = |v: &Value| serde_json::from_str::<Value>(v["message"].as_str().unwrap()).unwrap();
    let sample_list = inner(&golden("dvcqg-catalogue-LayDanhSachTTHC.connector.reply"));
    assert_eq!(inner(&list), sample_list, "the samples' list");
    let code = golden("dvcqg-catalogue-LayThuTuc.request")["maTTHC"].as_str().unwrap().to_owned();
    let detail = get(format!("{}/KetNoiMotCuaQuocGia/LayThuTuc?maTTHC={code}", sim.url())).await;
    assert_shape("dvcqg-catalogue-LayThuTuc.connector.reply", &detail);
    assert_eq!(inner(&detail), inner(&golden("dvcqg-catalogue-LayThuTuc.connector.reply")), "the sample's detail");
    assert_eq!(sim.violations(), Vec::<String>::new());
}
