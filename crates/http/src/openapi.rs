//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document's fixed parts; paths are collected from the routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "authgate", description = "Sign-up, login, sessions and account recovery over a JSON API. Errors are `{message, code, details?}`."),
    modifiers(&BearerAuth),
    tags((name = "auth", description = "Register, login, tokens"), (name = "sessions", description = "One session per device"), (name = "account", description = "Verification and recovery"), (name = "meta", description = "Health and keys"), (name = "admin", description = "Account administration (role admin)"), (name = "protect", description = "Protecting other services: token introspection"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let secret = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "One of the shared secrets of AUTHGATE_INTROSPECTION_SECRETS",
            ))
            .build();
        components.add_security_scheme("introspectionSecret", SecurityScheme::Http(secret));
    }
}
