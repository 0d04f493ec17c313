//! The contract's machine-readable files agree with its samples and with what the
//! gateway really sends: the postal XSD (checked with xmllint) and the JSON Schema
//! of portal submissions.

use std::process::Command;

use motcua_tests::{Gateway, TestConfig, repo, repo_file, samples};
use serde_json::Value;

/// Validates `xml` against the postal XSD with xmllint; returns its report on failure.
fn xmllint(xml: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("message.xml");
    std::fs::write(&file, xml).unwrap();
    let out = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(repo().join("schemas/postal.xsd"))
        .arg(&file)
        .output()
        .expect("xmllint is installed (Debian: libxml2-utils; .ci/run installs it)");
    if out.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

#[test]
fn the_postal_samples_validate_against_the_xsd() {
    xmllint(&repo_file("schemas/samples/postal-dossier.xml")).unwrap();
    xmllint(&repo_file("schemas/samples/postal-event.xml")).unwrap();
    let wrong = repo_file("schemas/samples/postal-dossier.xml").replace("NHAN_HO_SO_VA_TRA_KET_QUA", "GIAO_HANG");
    assert!(xmllint(&wrong).is_err(), "the XSD is not a rubber stamp");
}

/// The normalizer accepts exactly the shapes the XSD accepts (issue 12 §9): each
/// variant of the sample is judged alike by xmllint and by the gateway's parser.
#[test]
fn the_postal_normalizer_and_the_xsd_agree() {
    let sample = repo_file("schemas/samples/postal-dossier.xml");
    let variants = [
        ("the sample", sample.clone()),
        ("two IdNumber", sample.replace("</IdNumber>", "</IdNumber><IdNumber>001099000001</IdNumber>")),
        ("two Fullname", sample.replace("</Fullname>", "</Fullname><Fullname>Người khác</Fullname>")),
        ("an element inside Fullname", sample.replace("<Fullname>", "<Fullname><b>x</b>")),
        ("text in the root", sample.replace("<ItemCode>", "lời nhắn<ItemCode>")),
        ("an unknown attribute", sample.replace("<Sender>", "<Sender priority=\"1\">")),
        ("an unknown element", sample.replace("<TargetUnit>", "<Extra>1</Extra><TargetUnit>")),
        ("elements out of order", sample.replace("<Tel>", "<Address>x</Address><Tel>")),
        ("no Documents", cut(&sample, "<Documents>", "</Documents>")),
        ("an empty Documents", sample.replace(&between(&sample, "<Documents>", "</Documents>"), "")),
    ];
    for (what, xml) in variants {
        let by_xsd = xmllint(&xml).is_ok();
        let by_gateway = motcua_adapters::postal::parse_dossier(xml.as_bytes(), 32).is_ok();
        assert_eq!(by_gateway, by_xsd, "{what}: xmllint says {by_xsd}, the gateway {by_gateway}");
    }
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text.find(open).unwrap() + open.len();
    let end = text.find(close).unwrap();
    text[start..end].to_owned()
}

fn cut(text: &str, open: &str, close: &str) -> String {
    let start = text.find(open).unwrap();
    let end = text.find(close).unwrap() + close.len();
    format!("{}{}", &text[..start], &text[end..])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gateways_postal_replies_and_errors_validate_against_the_xsd() {
    let gw = Gateway::start(TestConfig::sample());
    let (_, reply) = gw.post_xml("/v1/postal/dossiers", "postal-dev", samples::postal(&samples::s10("EE", 4242))).await;
    xmllint(&reply).unwrap_or_else(|e| panic!("{e}\n{reply}"));
    let (_, error) = gw.post_xml("/v1/postal/dossiers", "postal-dev", samples::postal("EE123456784VN")).await;
    xmllint(&error).unwrap_or_else(|e| panic!("{e}\n{error}"));
}

#[test]
fn the_portal_sample_validates_against_the_json_schema() {
    let schema: Value = serde_json::from_str(&repo_file("schemas/portal-dossier.schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let sample: Value = serde_json::from_str(&repo_file("schemas/samples/portal-dossier.json")).unwrap();
    assert!(
        validator.is_valid(&sample),
        "{:?}",
        validator.iter_errors(&sample).map(|e| e.to_string()).collect::<Vec<_>>()
    );
    for edit in [
        |v: &mut Value| v["MucDo"] = 5.into(),
        |v: &mut Value| v["ChuHoSo"]["Tuoi"] = 30.into(),
        |v: &mut Value| v["DiaChiNhanKetQua"] = Value::Null,
        |v: &mut Value| v["TaiLieuNop"][0]["MaBam"] = "xyz".into(),
    ] {
        let mut wrong = sample.clone();
        edit(&mut wrong);
        assert!(!validator.is_valid(&wrong), "{wrong}");
    }
}
