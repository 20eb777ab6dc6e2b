//! Logging out with the refresh token alone: the client's access token is gone (expired,
//! lost, never kept), but its refresh token still names the session to end.

use super::AuthService;
use crate::audit::AuditKind;
use crate::domain::ClientInfo;
use crate::error::AuthError;
use crate::secret::OpaqueToken;

impl AuthService {
    /// Ends the session the refresh token `raw` belongs to, or with `all` every session of its
    /// owner. A token that has already rotated still names its session, so a client holding
    /// an older copy can still log out.
    ///
    /// Errors: `InvalidRefreshToken` for an unknown token or a session that has already ended.
    pub async fn logout_with_refresh_token(
        &self,
        raw: &str,
        all: bool,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidRefreshToken)?;
        let rec = self
            .inner
            .store
            .find_refresh_token(&token.hash())
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        let now = self.now();
        if rec.session_revoked_at.is_some() || rec.session_expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        if all {
            self.end_all_sessions(&rec.user_id, now).await?;
        } else {
            self.end_session(&rec.user_id, &rec.session_id, now).await?;
        }
        self.audit(
            AuditKind::Logout,
            Some(&rec.user_id),
            Some(&rec.session_id),
            client,
            all.then_some("all sessions"),
        );
        Ok(())
    }
}
