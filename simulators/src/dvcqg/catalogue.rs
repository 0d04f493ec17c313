//! The national catalogue through a provincial connector, as one public client reads
//! it (docs/CATALOGUE.md; samples `simulators/peers/dvcqg-catalogue-*.connector.reply.json`):
//! `GET /KetNoiMotCuaQuocGia/LayDanhSachTTHC` and `GET …/LayThuTuc?maTTHC=<code>`, each
//! answering `{message: "<the portal's answer as a JSON string>"}`. The procedures are
//! the samples'; the list's second procedure, which no sample details, is served in the
//! first one's shape with its own code and name. A test may change a procedure.

use std::collections::BTreeMap;

use axum::{
    extract::{Query, State},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use super::{DvcqgSim, Shared};

/// The list's path.
pub const LIST: &str = "/KetNoiMotCuaQuocGia/LayDanhSachTTHC";
/// The detail's path.
pub const DETAIL: &str = "/KetNoiMotCuaQuocGia/LayThuTuc";

const LIST_SAMPLE: &str = include_str!("../../peers/dvcqg-catalogue-LayDanhSachTTHC.reply.json");
const DETAIL_SAMPLE: &str = include_str!("../../peers/dvcqg-catalogue-LayThuTuc.reply.json");

/// The samples' procedures, by code.
pub(super) fn procedures() -> BTreeMap<String, Value> {
    let list: Value = serde_json::from_str(LIST_SAMPLE).unwrap_or_default();
    let detail: Value = serde_json::from_str(DETAIL_SAMPLE).unwrap_or_default();
    let first = detail["result"][0].clone();
    let mut out = BTreeMap::new();
    for item in list["result"].as_array().into_iter().flatten() {
        let code = item["MATTHC"].as_str().unwrap_or_default().to_owned();
        let mut p = first.clone();
        if p["MATTHC"] != code.as_str() {
            p["MATTHC"] = code.clone().into();
            p["TENTTHC"] = item["TENTTHC"].clone();
        }
        out.insert(code, p);
    }
    out
}

/// `{message: "<answer>"}` as the connector wraps the portal's answer.
fn wrapped(result: Vec<Value>) -> Response {
    let inner = json!({ "result": result });
    axum::Json(json!({ "message": inner.to_string() })).into_response()
}

pub(super) async fn list(State(shared): State<Shared>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    if !q.is_empty() {
        s.violations.push(format!("LayDanhSachTTHC with {q:?}"));
    }
    let result = s.catalogue.values().map(|p| json!({ "MATTHC": p["MATTHC"], "TENTTHC": p["TENTTHC"] })).collect();
    wrapped(result)
}

pub(super) async fn detail(State(shared): State<Shared>, Query(q): Query<BTreeMap<String, String>>) -> Response {
    let mut s = shared.1.lock().unwrap_or_else(|e| e.into_inner());
    let keys: Vec<&str> = q.keys().map(String::as_str).collect();
    if keys != ["maTTHC"] {
        s.violations.push(format!("LayThuTuc with {keys:?}, not maTTHC"));
        return wrapped(Vec::new());
    }
    let found = s.catalogue.get(&q["maTTHC"]).cloned().into_iter().collect();
    wrapped(found)
}

impl DvcqgSim {
    /// Changes the catalogue's procedure `code`, as a new publication would.
    pub fn publish(&self, code: &str, change: impl FnOnce(&mut Value)) {
        if let Some(p) = self.state().catalogue.get_mut(code) {
            change(p);
        }
    }
}
