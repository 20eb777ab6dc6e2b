//! "Is this access token's session live, and whose is it?": the one decision behind `GET /me`,
//! token introspection, forward-auth and the hosted pages, answered from the same caches.

use super::AuthService;
use crate::domain::{SessionId, User};
use crate::error::AuthError;
use crate::tokens::{AccessClaims, Principal};

/// A live access token: who holds it, from which session, and the account as it is now.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The caller (user, session, and the role the token was issued with).
    pub principal: Principal,
    /// The account behind the session, as `GET /me` shows it (its role is the current one).
    pub user: User,
    /// The token's `iat` (seconds since the epoch).
    pub issued_at: i64,
    /// The token's `exp` (seconds since the epoch).
    pub expires_at: i64,
    /// The token's `iss`.
    pub issuer: String,
    /// The token's `aud`.
    pub audience: String,
}

impl Identity {
    /// Whether the account's current role is one of `roles` (an empty list allows any role).
    pub fn has_any_role<S: AsRef<str>>(&self, roles: &[S]) -> bool {
        roles.is_empty() || roles.iter().any(|r| r.as_ref() == self.user.role)
    }
}

/// A verified token whose session was live when it was checked.
pub(super) struct LiveToken {
    pub(super) principal: Principal,
    claims: LiveClaims,
}

/// The claims left once `sub`, `sid` and `role` moved into the principal.
struct LiveClaims {
    iat: i64,
    exp: i64,
    iss: String,
    aud: String,
}

impl AuthService {
    /// The identity behind an access token: the signature and expiry are checked, then that
    /// its session is live (from the session cache, else one store lookup), then the account
    /// is read (from the user cache `GET /me` uses, else one store lookup). Logout, session
    /// revocation, password change or reset and disabling the account are all seen on the
    /// very next call.
    ///
    /// Errors: `Unauthenticated` for a token that is forged, expired, not an access token,
    /// or whose session has ended; `StoreUnavailable` when the store cannot be asked.
    pub async fn identify(&self, access_token: &str) -> Result<Identity, AuthError> {
        let LiveToken { principal, claims } = self.live_token(access_token).await?;
        let user = self.me(&principal).await?;
        Ok(Identity {
            principal,
            user,
            issued_at: claims.iat,
            expires_at: claims.exp,
            issuer: claims.iss,
            audience: claims.aud,
        })
    }

    /// Verifies an access token and checks that its session is still live and owned by the
    /// token's subject.
    pub(super) async fn live_token(&self, access_token: &str) -> Result<LiveToken, AuthError> {
        let claims = self.verify_access(access_token).await?;
        let cache = &self.inner.sessions;
        let owner = match cache.get(&claims.sid) {
            Some(owner) => Some(owner),
            None => {
                let seen = cache.epoch();
                let sid = SessionId::from_string(claims.sid.clone());
                let owner = self
                    .inner
                    .store
                    .live_session_owner(&sid, self.now())
                    .await?;
                if let Some(owner) = &owner {
                    cache.insert(&claims.sid, owner, seen);
                }
                owner
            }
        };
        let AccessClaims {
            iss,
            aud,
            sub,
            sid,
            role,
            iat,
            exp,
            ..
        } = claims;
        match owner {
            Some(owner) if owner.as_str() == sub => Ok(LiveToken {
                principal: Principal {
                    user_id: owner,
                    session_id: SessionId::from_string(sid),
                    role,
                },
                claims: LiveClaims { iat, exp, iss, aud },
            }),
            _ => Err(AuthError::Unauthenticated(
                "Session has been revoked or has expired",
            )),
        }
    }
}
