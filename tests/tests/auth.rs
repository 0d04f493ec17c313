//! Every token refusal of docs/CONTRACT.md §1, roles, hidden dossiers, rate limits and
//! mutual TLS, against the real binary.

use motcua_tests::{
    Gateway, TestConfig,
    samples::portal,
    tokens::{claims, dev_client, hs256_token, now, raw_token, sign, token, token_with},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn submit(gw: &Gateway) -> String {
    let id = format!("DVC-AUTH-{}", now());
    let response = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("portal-dev"))
        .json(&portal(&id))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json::<Value>().await.unwrap()["code"].as_str().unwrap().to_owned()
}

async fn get_with(gw: &Gateway, path: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = gw.http.get(gw.url(path));
    if let Some(t) = bearer {
        request = request.bearer_auth(t);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_token_is_401_with_a_challenge() {
    let gw = Gateway::start(TestConfig::sample());
    let code = submit(&gw).await;
    let path = format!("/v1/dossiers/{code}");
    let portal = dev_client("portal-dev");
    let admin = dev_client("admin-dev");

    // Change a character in the middle of the signature (the last one may carry only
    // padding bits).
    let good = token("admin-dev");
    let middle = good.rfind('.').unwrap() + 20;
    let replacement = if &good[middle..=middle] == "A" { "B" } else { "A" };
    let bad_signature = format!("{}{replacement}{}", &good[..middle], &good[middle + 1..]);
    let public_pem = motcua_tests::repo_file("config/dev/admin-dev.pub.pem");
    let mut crit = claims(&admin);
    crit["x"] = 1.into();
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no token", None),
        ("not a JWT", Some("abc".into())),
        ("bad signature", Some(bad_signature)),
        (
            "expired",
            Some(token_with("admin-dev", |c| {
                c["iat"] = (now() - 1000).into();
                c["exp"] = (now() - 100).into();
            })),
        ),
        ("wrong aud", Some(token_with("admin-dev", |c| c["aud"] = "another-gateway".into()))),
        ("wrong iss", Some(token_with("admin-dev", |c| c["iss"] = "dvc-portal-dev".into()))),
        ("unknown iss", Some(token_with("admin-dev", |c| c["iss"] = "nobody".into()))),
        (
            "no sub",
            Some(token_with("admin-dev", |c| {
                c.as_object_mut().unwrap().remove("sub");
            })),
        ),
        (
            "no iat",
            Some(token_with("admin-dev", |c| {
                c.as_object_mut().unwrap().remove("iat");
            })),
        ),
        ("lifetime over 1 h", Some(token_with("admin-dev", |c| c["exp"] = (now() + 3700).into()))),
        (
            "issued in the future",
            Some(token_with("admin-dev", |c| {
                c["iat"] = (now() + 600).into();
                c["exp"] = (now() + 900).into();
            })),
        ),
        // Issue 12 §5: these overflowed the lifetime check and passed.
        (
            "iat at the smallest i64",
            Some(token_with("admin-dev", |c| {
                c["iat"] = i64::MIN.into();
                c["exp"] = (now() + 10 * 365 * 86_400).into();
            })),
        ),
        (
            "iat days ago, exp now",
            Some(token_with("admin-dev", |c| {
                c["iat"] = (now() - 5 * 86_400).into();
                c["exp"] = (now() + 60).into();
            })),
        ),
        ("exp before iat", Some(token_with("admin-dev", |c| c["exp"] = (now() - 1).into()))),
        ("nbf after exp", Some(token_with("admin-dev", |c| c["nbf"] = (now() + 7200).into()))),
        ("nbf not a number", Some(token_with("admin-dev", |c| c["nbf"] = "soon".into()))),
        ("alg none", Some(raw_token(&json!({"alg": "none", "typ": "JWT"}), &claims(&admin), b""))),
        ("HMAC signed with the client's public key", Some(hs256_token(&claims(&admin), public_pem.as_bytes()))),
        ("crit header", Some(raw_token(&json!({"alg": "EdDSA", "crit": ["exp"]}), &crit, b"sig"))),
        ("another client's algorithm", Some(sign(&portal, &claims(&admin)))),
    ];
    for (case, bearer) in cases {
        let response = get_with(&gw, &path, bearer.as_deref()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer"), "{case}: {challenge}");
        if bearer.is_some() {
            assert!(challenge.contains("error=\"invalid_token\""), "{case}: {challenge}");
        }
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{case}");
    }
    // A correct token passes.
    assert_eq!(get_with(&gw, &path, Some(&token("admin-dev"))).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_naming_another_clients_key_is_refused() {
    let gw = Gateway::start(TestConfig::sample());
    // hcc-tinh-dev publishes a JWKS key with a kid; an admin token claiming that kid
    // is still verified only with the admin's own key, and a desk token signed with
    // the admin key but naming the desk's kid fails.
    let desk = dev_client("hcc-tinh-dev");
    let mut forged = dev_client("admin-dev");
    forged.kid = desk.kid.clone();
    forged.issuer = desk.issuer.clone();
    let mut claims = claims(&desk);
    claims["sub"] = "hcc-tinh-dev".into();
    let response = get_with(&gw, "/v1/dossiers/000.00.01.H38-261126-0001", Some(&sign(&forged, &claims))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // The desk's own token, with its kid, is accepted (404: no such dossier).
    let response = get_with(&gw, "/v1/dossiers/000.00.01.H38-261126-0001", Some(&token("hcc-tinh-dev"))).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_and_desks_see_only_what_they_may() {
    let gw = Gateway::start(TestConfig::sample());
    let code = submit(&gw).await; // routed to mc-tram-tau
    let path = format!("/v1/dossiers/{code}");

    // The postal partner may not submit portal dossiers or read dossiers.
    let wrong_role = gw
        .http
        .post(gw.url("/v1/portal/dossiers"))
        .bearer_auth(token("postal-dev"))
        .json(&portal("DVC-ROLE"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_role.status(), StatusCode::FORBIDDEN);
    assert_eq!(get_with(&gw, &path, Some(&token("postal-dev"))).await.status(), StatusCode::FORBIDDEN);

    // The dossier's own desk sees it; another desk gets 404 exactly like an unknown code.
    assert_eq!(get_with(&gw, &path, Some(&token("mc-tram-tau-dev"))).await.status(), StatusCode::OK);
    let other = get_with(&gw, &path, Some(&token("mc-yen-bai-dev"))).await;
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let unknown = get_with(&gw, "/v1/dossiers/000.07.20.H38-261126-9999", Some(&token("mc-yen-bai-dev"))).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.json::<Value>().await.unwrap(), unknown.json::<Value>().await.unwrap());

    // The portal sees what it submitted; the admin sees everything.
    assert_eq!(get_with(&gw, &path, Some(&token("portal-dev"))).await.status(), StatusCode::OK);
    assert_eq!(get_with(&gw, &path, Some(&token("admin-dev"))).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_over_its_limit_gets_429_while_another_is_served() {
    let config = TestConfig::sample().client(
        "portal-dev",
        "rate",
        toml::Value::Table(toml::toml! { per_second = 1
        burst = 3 }),
    );
    let gw = Gateway::start(config);
    let portal_token = token("portal-dev");
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..6 {
        let response = get_with(&gw, "/v1/dossiers/000.07.20.H38-261126-0001", Some(&portal_token)).await;
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS && limited.is_none() {
            limited = Some(response);
        }
        // Another client is never delayed by the first one's excess.
        let admin = get_with(&gw, "/v1/dossiers/000.07.20.H38-261126-0001", Some(&token("admin-dev"))).await;
        assert_eq!(admin.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(&statuses[..3], &[StatusCode::NOT_FOUND; 3], "{statuses:?}");
    let limited = limited.expect("the fourth request within a second is limited");
    let headers = limited.headers();
    assert!(headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(headers["ratelimit-policy"], "\"client\";q=1;w=1");
    assert!(headers["ratelimit"].to_str().unwrap().starts_with("\"client\";r=0;t="));
    assert_eq!(limited.json::<Value>().await.unwrap()["type"], "urn:motcua:problem:rate-limited");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_token_checks_are_limited_per_address() {
    let config = TestConfig::sample().set(
        "gateway.public_rate",
        toml::Value::Table(toml::toml! { per_second = 1
        burst = 2 }),
    );
    let gw = Gateway::start(config);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(get_with(&gw, "/v1/dossiers/x", Some("not-a-token")).await.status());
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // A valid client from the same address is not limited by the failures.
    assert_eq!(get_with(&gw, "/v1/dossiers/x", Some(&token("admin-dev"))).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_with_an_mtls_requirement_needs_its_certificate() {
    motcua_tests::init_crypto();
    let dir = tempfile::tempdir().unwrap();
    // A client CA and a certificate for the portal.
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "test client CA");
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "portal.example.vn");
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    // Another certificate from the same CA with another name.
    let mut other_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    other_params.distinguished_name.push(rcgen::DnType::CommonName, "someone-else");
    other_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let other_key = rcgen::KeyPair::generate().unwrap();
    let other = other_params.signed_by(&other_key, &ca).unwrap();
    let ca_path = dir.path().join("client-ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();

    let config = TestConfig::sample().set("gateway.client_ca_file", ca_path.display().to_string()).client(
        "portal-dev",
        "mtls",
        toml::Value::Table(toml::toml! { subject = "CN=portal.example.vn" }),
    );
    let gw = Gateway::start(config);
    let path = gw.url("/v1/dossiers/000.07.20.H38-261126-0001");

    let without = gw.http.get(&path).bearer_auth(token("portal-dev")).send().await.unwrap();
    assert_eq!(without.status(), StatusCode::FORBIDDEN);

    let identity = |cert: &rcgen::Certificate, key: &rcgen::KeyPair| {
        reqwest::Identity::from_pem(format!("{}{}", cert.pem(), key.serialize_pem()).as_bytes()).unwrap()
    };
    let wrong = gw.client_builder().identity(identity(&other, &other_key)).build().unwrap();
    assert_eq!(wrong.get(&path).bearer_auth(token("portal-dev")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let with = gw.client_builder().identity(identity(&cert, &key)).build().unwrap();
    assert_eq!(with.get(&path).bearer_auth(token("portal-dev")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Clients without a requirement still connect without a certificate.
    assert_eq!(
        gw.http.get(&path).bearer_auth(token("admin-dev")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

/// Every authenticated route with the roles it admits, as `http::router` declares
/// them: a caller of any other role gets 403 before its request is read.
#[tokio::test(flavor = "multi_thread")]
async fn each_route_admits_exactly_its_declared_roles() {
    const ROUTES: &[(&str, &str, &[&str])] = &[
        ("POST", "/v1/portal/dossiers", &["portal"]),
        ("POST", "/v1/dvcqg/dossiers", &["portal"]),
        ("POST", "/v1/portal/dossiers/000.07.20.H38-261126-9999/rating", &["portal"]),
        ("POST", "/v1/postal/dossiers", &["postal"]),
        ("POST", "/v1/postal/events", &["postal"]),
        ("GET", "/v1/dossiers/000.07.20.H38-261126-9999", &["portal", "desk", "admin"]),
        ("GET", "/v1/dossiers/000.07.20.H38-261126-9999/receipt", &["portal", "desk", "admin"]),
        ("GET", "/v1/dossiers/000.07.20.H38-261126-9999/apology", &["portal", "desk", "admin"]),
        ("GET", "/v1/dossiers/000.07.20.H38-261126-9999/documents", &["portal", "desk", "admin"]),
        ("GET", "/v1/dossiers/000.07.20.H38-261126-9999/documents/0", &["portal", "desk", "admin"]),
        ("GET", "/v1/desk/inbox", &["desk"]),
        ("POST", "/v1/desk/inbox/none/ack", &["desk"]),
        ("POST", "/v1/desk/dossiers/000.07.20.H38-261126-9999/events", &["desk"]),
        ("GET", "/v1/stats", &["desk", "admin"]),
        ("GET", "/v1/logbook", &["desk", "admin"]),
        ("POST", "/v1/desk/dossiers/000.07.20.H38-261126-9999/collection", &["desk", "admin"]),
        ("GET", "/v1/admin/dossiers", &["admin"]),
        ("POST", "/v1/admin/waybills", &["admin"]),
        ("GET", "/v1/admin/queue", &["admin"]),
        ("GET", "/v1/admin/dead-letters", &["admin"]),
        ("POST", "/v1/admin/dead-letters/none/replay", &["admin"]),
        ("POST", "/v1/admin/operators/nobody/unlock", &["admin"]),
        ("GET", "/metrics", &["admin"]),
    ];
    const CLIENTS: &[(&str, &str)] =
        &[("portal", "portal-dev"), ("postal", "postal-dev"), ("desk", "mc-tram-tau-dev"), ("admin", "admin-dev")];
    let gw = Gateway::start(TestConfig::sample());
    for (method, path, admitted) in ROUTES {
        for (role, client) in CLIENTS {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            let response = gw.http.request(method, gw.url(path)).bearer_auth(token(client)).send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            let refused = status == StatusCode::FORBIDDEN && body.contains("may not call this endpoint");
            assert_eq!(refused, !admitted.contains(role), "{path} called by {role}: {status} {body}");
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{path} called by {role}");
        }
    }
}
