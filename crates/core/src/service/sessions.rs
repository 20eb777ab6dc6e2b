//! Authenticating requests, refreshing, logging out, listing and revoking sessions.

use chrono::Utc;

use super::{AuthService, IssuedTokens};
use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Session, SessionId, User, UserRecord};
use crate::error::AuthError;
use crate::secret::OpaqueToken;
use crate::store::{RefreshTokenRecord, Rotation};
use crate::tokens::Principal;

/// A session as listed to its owner.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// The session.
    pub session: Session,
    /// Whether it is the session of the request that listed it.
    pub current: bool,
}

impl AuthService {
    /// Verifies an access token and checks that its session is still live, so logout and
    /// revocation take effect on the next request.
    pub async fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        self.live_token(access_token)
            .await
            .map(|live| live.principal)
    }

    /// The caller's user.
    pub async fn me(&self, who: &Principal) -> Result<User, AuthError> {
        let cache = &self.inner.users;
        if let Some(user) = cache.get(who.user_id.as_str()) {
            return Ok(user);
        }
        let seen = cache.epoch();
        let record = self.inner.store.find_user_by_id(&who.user_id).await?;
        let user = record.map(|r| r.user).ok_or(AuthError::Unauthenticated(
            "Session has been revoked or has expired",
        ))?;
        cache.insert(who.user_id.as_str(), &user, seen);
        Ok(user)
    }

    /// Exchanges a refresh token for new tokens, rotating it.
    ///
    /// Concurrent refreshes with one token yield one successor: the winner rotates, and any
    /// other use within `refresh_grace` of the rotation derives and returns that same
    /// successor. Any later use of a rotated token is reuse: the session is revoked.
    pub async fn refresh(&self, raw: &str, client: &ClientInfo) -> Result<IssuedTokens, AuthError> {
        self.limit_ip(crate::limits::Action::Refresh, client)
            .await?;
        let token = OpaqueToken::from_client(raw).ok_or(AuthError::InvalidRefreshToken)?;
        let hash = token.hash();
        let store = &self.inner.store;
        let found = store
            .find_refresh_token_with_owner(&hash)
            .await?
            .ok_or(AuthError::InvalidRefreshToken)?;
        let (mut rec, owner) = (found.token, found.owner);
        let now = self.now();
        if rec.session_revoked_at.is_some() || rec.session_expires_at <= now {
            return Err(AuthError::InvalidRefreshToken);
        }
        let successor = token.successor(&rec.rotation_key);
        if rec.rotated_at.is_none() {
            // Checked before rotating: a refused refresh leaves the token usable.
            let user = self.may_refresh(&owner)?;
            let expires = now + self.inner.config.refresh_token_ttl;
            match store
                .rotate_refresh_token(&rec.session_id, &hash, &successor.hash(), now, expires)
                .await?
            {
                Rotation::Rotated => return self.reissue(&rec, &user, successor, client, now),
                Rotation::NotCurrent => {
                    rec = store
                        .find_refresh_token(&hash)
                        .await?
                        .ok_or(AuthError::InvalidRefreshToken)?;
                }
            }
        }
        if self.within_grace(&rec, &successor).await? {
            let user = self.may_refresh(&owner)?;
            return self.reissue(&rec, &user, successor, client, now);
        }
        if rec.session_revoked_at.is_none() {
            self.end_session(&rec.user_id, &rec.session_id, now).await?;
        }
        self.audit(AuditKind::RefreshReuseDetected, client)
            .user(&rec.user_id)
            .session(&rec.session_id)
            .record();
        Err(AuthError::RefreshTokenReused)
    }

    /// Whether `rec` was rotated moments ago into `successor`, which is still current.
    async fn within_grace(
        &self,
        rec: &RefreshTokenRecord,
        successor: &OpaqueToken,
    ) -> Result<bool, AuthError> {
        let Some(rotated_at) = rec.rotated_at else {
            return Ok(false);
        };
        // Half-open, so that a zero grace (`AUTHGATE_REFRESH_GRACE=0s`) means none at all.
        if self.now() - rotated_at >= self.inner.config.refresh_grace {
            return Ok(false);
        }
        let next = self
            .inner
            .store
            .find_refresh_token(&successor.hash())
            .await?;
        Ok(next.is_some_and(|n| {
            n.rotated_at.is_none()
                && n.session_revoked_at.is_none()
                && n.session_id == rec.session_id
        }))
    }

    /// The owner of a refresh token's session, if they may refresh: a disabled account may
    /// not (401), nor an unverified email while verification is required (403), so the
    /// session a registration opens lasts one access token until the email is verified.
    fn may_refresh(&self, record: &UserRecord) -> Result<User, AuthError> {
        if record.disabled_at.is_some() {
            return Err(AuthError::InvalidRefreshToken);
        }
        if self.must_verify_first(&record.user) {
            return Err(AuthError::EmailNotVerified);
        }
        Ok(record.user.clone())
    }

    fn reissue(
        &self,
        rec: &RefreshTokenRecord,
        user: &User,
        successor: OpaqueToken,
        client: &ClientInfo,
        now: chrono::DateTime<Utc>,
    ) -> Result<IssuedTokens, AuthError> {
        self.audit(AuditKind::Refresh, client)
            .user(&rec.user_id)
            .session(&rec.session_id)
            .record();
        self.mint(&rec.user_id, &user.role, &rec.session_id, successor, now)
    }

    /// Ends the caller's session, or every session of the caller with `all`. A refresh token
    /// given as well ends the session it belongs to, if that session is the caller's.
    pub async fn logout(
        &self,
        who: &Principal,
        all: bool,
        refresh: Option<&str>,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let now = self.now();
        let store = &self.inner.store;
        if all {
            self.end_all_sessions(&who.user_id, now).await?;
            self.audit(AuditKind::Logout, client)
                .principal(who)
                .detail("all sessions")
                .record();
            return Ok(());
        }
        self.end_session(&who.user_id, &who.session_id, now).await?;
        if let Some(token) = refresh.and_then(OpaqueToken::from_client) {
            if let Some(rec) = store.find_refresh_token(&token.hash()).await? {
                if rec.user_id == who.user_id && rec.session_id != who.session_id {
                    self.end_session(&who.user_id, &rec.session_id, now).await?;
                }
            }
        }
        self.audit(AuditKind::Logout, client)
            .principal(who)
            .record();
        Ok(())
    }

    /// Ends every session of the caller except the current one ("sign out everywhere
    /// else"); returns how many ended. Their access tokens stop working at once.
    pub async fn end_other_sessions(
        &self,
        who: &Principal,
        client: &ClientInfo,
    ) -> Result<u64, AuthError> {
        let ended = self
            .inner
            .store
            .revoke_other_sessions(&who.user_id, &who.session_id, self.now())
            .await;
        // Forgotten even if the store failed: the revocations may have landed. The current
        // session is looked up afresh once, which is harmless.
        self.forget_sessions_of(&who.user_id);
        let ended = ended?;
        self.audit(AuditKind::Logout, client)
            .principal(who)
            .detail("other sessions")
            .record();
        Ok(ended)
    }

    /// The caller's live sessions, newest first, marking the current one.
    pub async fn list_sessions(&self, who: &Principal) -> Result<Vec<SessionView>, AuthError> {
        let sessions = self
            .inner
            .store
            .list_sessions(&who.user_id, self.now())
            .await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == who.session_id,
                session: s,
            })
            .collect())
    }

    /// Ends one of the caller's sessions (another device, or this one).
    pub async fn revoke_session(
        &self,
        who: &Principal,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        let sid = SessionId::from_string(id.to_owned());
        if !self.end_session(&who.user_id, &sid, self.now()).await? {
            return Err(AuthError::NotFound("Session not found"));
        }
        self.audit(AuditKind::SessionRevoked, client)
            .user(&who.user_id)
            .session(&sid)
            .record();
        Ok(())
    }
}
