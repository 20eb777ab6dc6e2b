//! authgate inside another axum application: the app's own routes next to authgate's API,
//! one of them protected by authgate's `AuthUser` extractor (a live session, checked on every
//! request, so a logout takes effect at once).
//!
//! ```sh
//! cargo run -p authgate-examples --example embed
//! curl -s -X POST localhost:3000/api/auth/register -H 'Content-Type: application/json' \
//!   -d '{"email":"ada@example.com","password":"Analytical7Engine","name":"Ada"}'
//! curl -s localhost:3000/orders -H "Authorization: Bearer <accessToken>"
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use authgate_core::clock::{Clock, SystemClock};
use authgate_core::hashing::{HashParams, PasswordHasher};
use authgate_core::keys::load_signer;
use authgate_core::{AuthConfig, AuthService};
use authgate_http::extract::AuthUser;
use authgate_http::{AppState, HttpConfig};
use authgate_store_sql::SqliteStore;
use axum::routing::get;
use axum::{Json, Router};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let public_url = "http://127.0.0.1:3000";
    let store = Arc::new(SqliteStore::connect("sqlite://embed-example.db").await?);
    authgate_core::Store::migrate(store.as_ref()).await?;
    let config = AuthConfig {
        public_url: public_url.into(),
        ..AuthConfig::default()
    };
    let signer = load_signer(store.as_ref(), &config, None, SystemClock::new().now()).await?;
    let hasher = PasswordHasher::new(HashParams::default(), 2, 1024)?;
    let service = AuthService::builder(store, hasher, Arc::new(signer), config).build();
    let http = HttpConfig {
        allowed_origins: vec![public_url.into()],
        ..HttpConfig::default()
    };

    let state = AppState {
        service: service.clone(),
        config: Arc::new(http.clone()),
    };
    let app = Router::new()
        .route(
            "/",
            get(|| async { "my app: POST /api/auth/register, then GET /orders" }),
        )
        .route("/orders", get(orders))
        .with_state(state)
        // authgate's whole API: /api/auth/..., /.well-known/jwks.json, /health, /ready.
        .merge(authgate_http::router(service, http));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("listening on {public_url}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// The app's own route: only a caller with a live authgate session gets here.
async fn orders(AuthUser(who): AuthUser) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user": who.user_id.as_str(), "role": who.role, "orders": [] }))
}
