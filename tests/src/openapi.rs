//! Checks real responses against the schemas of the OpenAPI document the gateway
//! serves (`schemas/openapi.yaml` with the portal dossier's schema embedded).

use std::sync::OnceLock;

use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        serde_yaml_ng::from_str(motcua_gateway::http::openapi::document()).expect("the served document parses")
    })
}

/// The response schema of `method path` (a template such as `/v1/dossiers/{code}`)
/// for `status` and `content_type`, resolved against the document's components.
fn schema(path: &str, method: &str, status: u16, content_type: &str) -> Value {
    let doc = document();
    let mut response = doc["paths"][path][method]["responses"][status.to_string()].clone();
    assert!(!response.is_null(), "openapi.yaml has no {status} response for {method} {path}");
    if let Some(reference) = response.get("$ref").and_then(Value::as_str) {
        let name = reference.rsplit('/').next().expect("a reference");
        response = doc["components"]["responses"][name].clone();
    }
    let schema = response["content"][content_type]["schema"].clone();
    assert!(!schema.is_null(), "openapi.yaml has no {content_type} schema for {status} of {method} {path}");
    let mut root = schema;
    root["components"] = doc["components"].clone();
    root
}

/// Asserts that `body` matches the documented schema of this response.
pub fn check(path: &str, method: &str, status: u16, content_type: &str, body: &Value) {
    let schema = schema(path, method, status, content_type);
    let validator = jsonschema::draft202012::new(&schema)
        .unwrap_or_else(|e| panic!("the schema of {method} {path} {status} compiles: {e}"));
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status} does not match openapi.yaml:\n{}\n{body:#}",
        errors.join("\n")
    );
}

/// Checks a JSON answer (content type from its status: problem+json for 4xx/5xx).
pub fn check_json(path: &str, method: &str, status: u16, body: &Value) {
    let content_type = if status >= 400 { "application/problem+json" } else { "application/json" };
    check(path, method, status, content_type, body);
}

/// Asserts that `value` matches the component schema `name`.
pub fn check_schema(name: &str, value: &Value) {
    let doc = document();
    let mut root = serde_json::json!({ "$ref": format!("#/components/schemas/{name}") });
    root["components"] = doc["components"].clone();
    let validator = jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("schema {name} compiles: {e}"));
    let errors: Vec<String> = validator.iter_errors(value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{name} does not match openapi.yaml:\n{}\n{value:#}", errors.join("\n"));
}
