//! The OpenAPI document as the running server serves it: what a strict client (a
//! validator, a code generator, schemathesis) relies on. `tests/schemathesis/run.sh`
//! validates it and calls every operation; these are the fixed points.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{Answer, TestApp};

async fn document(app: &TestApp) -> Value {
    let res = Answer::of(app.get("/api/auth/openapi.json").await).await;
    assert_eq!(res.status, StatusCode::OK);
    res.body
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            out.push((method.clone(), path.clone(), op));
        }
    }
    out
}

#[tokio::test]
async fn the_audit_pages_parameters_are_query_parameters_with_the_described_bounds() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    let params = doc["paths"]["/api/auth/audit"]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    for name in ["before", "limit"] {
        let p = params
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(p["in"], "query", "{p}");
        assert_ne!(p["required"], true, "{p}");
    }
    let limit = params.iter().find(|p| p["name"] == "limit").unwrap();
    assert_eq!(limit["schema"]["minimum"], 1, "{limit}");
    assert_eq!(limit["schema"]["maximum"], 100, "{limit}");
}

#[tokio::test]
async fn request_bodies_name_their_required_fields() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemas = &doc["components"]["schemas"];

    for (schema, fields) in [
        ("LoginBody", &["password"][..]),
        ("RegisterBody", &["email", "password"][..]),
        ("ChangeBody", &["currentPassword", "newPassword"][..]),
        ("ResetBody", &["token", "newPassword"][..]),
        ("ForgotBody", &["email"][..]),
        ("IntrospectBody", &["token"][..]),
    ] {
        let required: Vec<&str> = schemas[schema]["required"]
            .as_array()
            .unwrap_or_else(|| panic!("{schema} has no required list: {}", schemas[schema]))
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for field in fields {
            assert!(
                required.contains(field),
                "{schema} lacks {field}: {required:?}"
            );
            let ty = &schemas[schema]["properties"][field]["type"];
            assert_eq!(ty, "string", "{schema}.{field} is not nullable: {ty}");
        }
    }
}

#[tokio::test]
async fn every_operation_lists_its_error_answers_with_the_error_schema() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let storeless = [
        "/health",
        "/.well-known/jwks.json",
        "/api/auth/openapi.json",
    ];

    for (method, path, op) in operations(&doc) {
        let responses = op["responses"].as_object().expect("responses");
        let mut wanted = vec!["400", "500"];
        if !storeless.contains(&path.as_str()) {
            wanted.push("503");
        }
        if op.get("security").is_some() {
            wanted.push("401");
        }
        if op.get("requestBody").is_some() {
            wanted.extend(["413", "415"]);
        }
        for status in wanted {
            let answer = responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} does not list {status}"));
            if method != "head" {
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
        }
        for (status, answer) in responses {
            if status == "429" || status == "503" {
                assert!(
                    answer["headers"]["Retry-After"].is_object(),
                    "{method} {path} {status} lacks Retry-After"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_rate_limited_operations_list_429() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    for (method, path) in [
        ("post", "/api/auth/login"),
        ("post", "/api/auth/register"),
        ("post", "/api/auth/refresh"),
        ("post", "/api/auth/change-password"),
        ("post", "/api/auth/forgot-password"),
        ("post", "/api/auth/reset-password"),
        ("post", "/api/auth/resend-verification"),
        ("get", "/api/auth/verify-email/{token}"),
    ] {
        let answer = &doc["paths"][path][method]["responses"]["429"];
        assert!(
            answer["headers"]["Retry-After"].is_object(),
            "{method} {path}: {answer}"
        );
    }
}

#[tokio::test]
async fn an_audit_events_detail_may_be_null_as_it_is_for_most_events() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    let detail = &doc["components"]["schemas"]["AuditEventDto"]["properties"]["detail"];
    let types = detail["type"].as_array().expect("a list of types");
    assert!(types.iter().any(|t| t == "null"), "{detail}");
}

#[tokio::test]
async fn the_document_names_the_public_url_as_its_server() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    assert_eq!(
        doc["servers"][0]["url"],
        app.address.as_str(),
        "{}",
        doc["servers"]
    );
}
