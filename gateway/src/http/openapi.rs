//! The contract in OpenAPI 3.1 as served: `schemas/openapi.yaml` with the portal
//! dossier's JSON Schema (`schemas/portal-dossier.schema.json`) embedded as the
//! component `PortalDossier`, so that a client can resolve every reference from the
//! one document it fetched.

use std::sync::OnceLock;

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::Value;

/// The OpenAPI document as kept in the repository.
const SOURCE: &str = include_str!("../../../schemas/openapi.yaml");
/// The portal dossier's JSON Schema as kept in the repository.
const PORTAL_DOSSIER: &str = include_str!("../../../schemas/portal-dossier.schema.json");
/// How the source document refers to it.
const EXTERNAL_REF: &str = r#"{ $ref: "./portal-dossier.schema.json" }"#;
/// Where it lives in the served document.
const COMPONENT: &str = "#/components/schemas/PortalDossier";

/// The served document (built once).
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| embed(SOURCE, PORTAL_DOSSIER))
}

/// Moves the schema's own `#/$defs/…` references under the component.
fn rebase(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref")
                && let Some(rest) = reference.strip_prefix("#/$defs/")
            {
                *reference = format!("{COMPONENT}/$defs/{rest}");
            }
            map.values_mut().for_each(rebase);
        }
        Value::Array(items) => items.iter_mut().for_each(rebase),
        _ => {}
    }
}

fn embed(source: &str, schema: &str) -> String {
    let Ok(mut schema) = serde_json::from_str::<Value>(schema) else { return source.to_owned() };
    if let Some(map) = schema.as_object_mut() {
        map.remove("$id");
        map.remove("$schema");
    }
    rebase(&mut schema);
    // JSON is YAML: the schema goes in as one flow-style line.
    source.replacen(EXTERNAL_REF, &format!(r#"{{ $ref: "{COMPONENT}" }}"#), 1).replacen(
        "\n  schemas:\n",
        &format!("\n  schemas:\n    PortalDossier: {schema}\n"),
        1,
    )
}

/// `GET /openapi.yaml`.
pub async fn serve() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], document()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_document_refers_only_to_itself() {
        let served = document();
        assert!(!served.contains("portal-dossier.schema.json"), "no external reference is left");
        assert!(served.contains("    PortalDossier: {"), "the schema is embedded");
        assert!(!served.contains("\"#/$defs/"), "the schema's references point into the document");
    }
}
