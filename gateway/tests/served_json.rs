//! The answer to a new portal dossier is written from the JSON its record was stored
//! with (`dossiers::json`): byte for byte what serializing the served dossier gives,
//! for texts that hold quotes, backslashes and braces too.

// A test's helpers say "this cannot fail here" the way its test functions do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use motcua_gateway::dossiers::{Served, intake::IntakeOutcome, json::served_bytes, served};
use support::World;

const START: &str = "2026-11-23T09:00:00+07:00";

async fn answered_alike(edit: impl FnOnce(&mut serde_json::Value)) {
    let mut w = World::new(START);
    let IntakeOutcome::Created(record, Some(json)) = w.submit_edited("1.004873", edit).await else {
        panic!("a new dossier with its JSON")
    };
    assert_eq!(json.record(), motcua_gateway::store::encode_record_json(&*record).unwrap(), "the record as returned");
    let dossier = json.dossier().expect("the dossier within the record");
    for repeated in [None, Some(true), Some(false)] {
        let Served { receipt, .. } = served(&record, &w.settings);
        let expected =
            serde_json::to_vec(&Served { dossier: &record.dossier, receipt: receipt.clone(), repeated }).unwrap();
        let written = served_bytes(dossier, &receipt, repeated).unwrap();
        assert_eq!(String::from_utf8(written).unwrap(), String::from_utf8(expected).unwrap());
    }
}

#[tokio::test]
async fn a_new_dossier_is_answered_with_the_bytes_it_was_stored_with() {
    answered_alike(|_| {}).await;
}

#[tokio::test]
async fn texts_with_quotes_backslashes_and_braces_are_answered_alike() {
    answered_alike(|body| {
        body["ChuHoSo"]["DiaChi"]["ChiTiet"] = r#"Bản "Km 21" {ngã ba} \ đường }"#.into();
        body["DiaChiNhanKetQua"]["ChiTiet"] = r#"Tổ 3, "Nhà {số 5}" \\"#.into();
    })
    .await;
}
