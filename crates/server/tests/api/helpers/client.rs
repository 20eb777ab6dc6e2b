//! The typed client: one method per endpoint, each returning the raw response.

use reqwest::Response;
use serde_json::{json, Value};

use super::TestApp;

impl TestApp {
    pub(crate) async fn get(&self, path: &str) -> Response {
        self.api.get(self.url(path)).send().await.expect("GET sent")
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.api
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST sent")
    }

    /// A POST with a raw body and content type (`None`: no Content-Type header).
    pub(crate) async fn post_raw(
        &self,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Response {
        let mut req = self.api.post(self.url(path)).body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send().await.expect("POST sent")
    }

    pub(crate) async fn register(&self, body: &Value) -> Response {
        self.post_json("/api/auth/register", body).await
    }

    pub(crate) async fn login(&self, body: &Value) -> Response {
        self.post_json("/api/auth/login", body).await
    }

    pub(crate) async fn me(&self, access: &str) -> Response {
        self.api
            .get(self.url("/api/auth/me"))
            .bearer_auth(access)
            .send()
            .await
            .expect("GET /me sent")
    }

    pub(crate) async fn refresh_body(&self, refresh: &str) -> Response {
        self.post_json("/api/auth/refresh", &json!({ "refreshToken": refresh }))
            .await
    }

    /// A refresh carried by the `refreshToken` cookie only, with extra headers (Origin...).
    pub(crate) async fn refresh_cookie(&self, refresh: &str, headers: &[(&str, &str)]) -> Response {
        let mut req = self
            .api
            .post(self.url("/api/auth/refresh"))
            .header("cookie", format!("refreshToken={refresh}"));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("POST /refresh sent")
    }

    pub(crate) async fn logout(&self, access: &str, body: Option<&Value>) -> Response {
        let mut req = self
            .api
            .post(self.url("/api/auth/logout"))
            .bearer_auth(access);
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send().await.expect("POST /logout sent")
    }

    pub(crate) async fn sessions(&self, access: &str) -> Response {
        self.api
            .get(self.url("/api/auth/sessions"))
            .bearer_auth(access)
            .send()
            .await
            .expect("GET /sessions sent")
    }

    pub(crate) async fn delete_session(&self, access: &str, id: &str) -> Response {
        self.api
            .delete(self.url(&format!("/api/auth/sessions/{id}")))
            .bearer_auth(access)
            .send()
            .await
            .expect("DELETE /sessions/:id sent")
    }

    pub(crate) async fn change_password(&self, access: &str, current: &str, new: &str) -> Response {
        self.api
            .post(self.url("/api/auth/change-password"))
            .bearer_auth(access)
            .json(&json!({ "currentPassword": current, "newPassword": new }))
            .send()
            .await
            .expect("POST /change-password sent")
    }

    pub(crate) async fn forgot_password(&self, email: &str) -> Response {
        self.post_json("/api/auth/forgot-password", &json!({ "email": email }))
            .await
    }

    pub(crate) async fn reset_password(&self, token: &str, new_password: &str) -> Response {
        let body = json!({ "token": token, "newPassword": new_password });
        self.post_json("/api/auth/reset-password", &body).await
    }

    pub(crate) async fn verify_email(&self, token: &str) -> Response {
        self.get(&format!("/api/auth/verify-email/{token}")).await
    }

    pub(crate) async fn resend_verification(&self, access: &str) -> Response {
        self.api
            .post(self.url("/api/auth/resend-verification"))
            .bearer_auth(access)
            .send()
            .await
            .expect("POST /resend-verification sent")
    }
}
