//! Administration: disabling and enabling accounts. Only users whose current role is
//! `admin` may do it.

use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Role, User, UserId};
use crate::error::AuthError;
use crate::tokens::Principal;

use super::AuthService;

impl AuthService {
    /// Disables (`disabled = true`) or enables an account and returns it. Disabling ends
    /// every session of the account at once, on this node and in the store, so its access
    /// tokens stop working on the next request; login then answers 403 `account_disabled`.
    ///
    /// Errors: `Forbidden` (403) unless `actor`'s current role is `admin`, `Validation` (400)
    /// for disabling one's own account, `NotFound` (404) for an unknown user.
    pub async fn set_account_disabled(
        &self,
        actor: &Principal,
        target: &UserId,
        disabled: bool,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        self.require_admin(actor).await?;
        if disabled && actor.user_id == *target {
            return Err(AuthError::field(
                "id",
                "an administrator cannot disable their own account",
            ));
        }
        let now = self.now();
        let at = disabled.then_some(now);
        let changed = self.inner.store.set_disabled(target, at).await;
        match self.user_changed(target, changed) {
            Err(AuthError::NotFound(_)) => return Err(AuthError::NotFound("No such user")),
            other => other?,
        }
        if disabled {
            self.end_all_sessions(target, now).await?;
        }
        let kind = if disabled {
            AuditKind::AccountDisabled
        } else {
            AuditKind::AccountEnabled
        };
        let by = format!("by {}", actor.user_id);
        self.audit(kind, client).user(target).detail(&by).record();
        let record = self.inner.store.find_user_by_id(target).await?;
        record
            .map(|r| r.user)
            .ok_or(AuthError::NotFound("No such user"))
    }

    /// `Forbidden` unless the account behind `actor` is an administrator now (not merely
    /// when its token was issued).
    async fn require_admin(&self, actor: &Principal) -> Result<(), AuthError> {
        let user = self.me(actor).await?;
        if user.role.as_str() == Role::ADMIN {
            Ok(())
        } else {
            Err(AuthError::Forbidden("Administrator role required"))
        }
    }
}
