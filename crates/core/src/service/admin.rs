//! Administration: who may administer, disabling and enabling accounts, and the rule that
//! some enabled administrator always remains.
//!
//! An administrative action is taken by an [`Actor`]: a user whose current role is `admin`
//! (the HTTP API, with a bearer token), or the operator at the machine (the CLI, through the
//! server's admin socket, whose file permissions are the credential).

use crate::audit::AuditKind;
use crate::domain::{ClientInfo, Role, User, UserId, UserRecord};
use crate::error::AuthError;
use crate::tokens::Principal;

use super::AuthService;

/// Who takes an administrative action.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A user, allowed if their role is `admin` now (not merely when the token was issued).
    User(Principal),
    /// The operator, through the admin socket (the `authgate` CLI on the server's machine).
    Operator,
}

impl Actor {
    /// How audit details name the actor: `by <user id>` or `by operator`.
    pub(super) fn by(&self) -> String {
        match self {
            Actor::User(p) => format!("by {}", p.user_id),
            Actor::Operator => "by operator".to_owned(),
        }
    }

    /// The acting user's id, if a user acts.
    pub(super) fn user_id(&self) -> Option<&UserId> {
        match self {
            Actor::User(p) => Some(&p.user_id),
            Actor::Operator => None,
        }
    }
}

impl AuthService {
    /// Disables (`disabled = true`) or enables an account and returns it. Disabling ends
    /// every session of the account at once, on this node and in the store, so its access
    /// tokens stop working on the next request; login then answers 403 `account_disabled`.
    ///
    /// Errors: `Forbidden` (403) unless `actor` may administer, `Validation` (400) for
    /// disabling one's own account, `NotFound` (404) for an unknown user, `LastAdmin` (409)
    /// for disabling the last enabled administrator.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        target: &UserId,
        disabled: bool,
        client: &ClientInfo,
    ) -> Result<User, AuthError> {
        self.require_admin(actor).await?;
        if disabled && actor.user_id() == Some(target) {
            return Err(AuthError::field(
                "id",
                "an administrator cannot disable their own account",
            ));
        }
        let record = self.managed_user(target).await?;
        let guard = if disabled && record.disabled_at.is_none() {
            Some(self.keep_an_admin(&record).await?)
        } else {
            None
        };
        let now = self.now();
        let at = disabled.then_some(now);
        let changed = self.inner.store.set_disabled(target, at).await;
        drop(guard);
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
        let by = actor.by();
        self.audit(kind, client).user(target).detail(&by).record();
        Ok(self.managed_user(target).await?.user)
    }

    /// `Forbidden` unless `actor` is the operator or a user who is an administrator now.
    pub(super) async fn require_admin(&self, actor: &Actor) -> Result<(), AuthError> {
        let Actor::User(who) = actor else {
            return Ok(());
        };
        let user = self.me(who).await?;
        if user.role.as_str() == Role::ADMIN {
            Ok(())
        } else {
            Err(AuthError::Forbidden("Administrator role required"))
        }
    }

    /// The stored user `id`, or `NotFound("No such user")`.
    pub(super) async fn managed_user(&self, id: &UserId) -> Result<UserRecord, AuthError> {
        self.inner
            .store
            .find_user_by_id(id)
            .await?
            .ok_or(AuthError::NotFound("No such user"))
    }

    /// `LastAdmin` if `record` is an enabled administrator and no other one is enabled: the
    /// one check before demoting, disabling or deleting an account. Hold the returned guard
    /// until the write is done: while it lives, no other such change in this process can
    /// count the administrators, so two administrators demoting each other at once cannot
    /// both pass. (Several nodes on one database still could, in the same instant; the CLI
    /// can always appoint a new administrator, so that cannot lock the operator out.)
    pub(super) async fn keep_an_admin(
        &self,
        record: &UserRecord,
    ) -> Result<AdminCountGuard<'_>, AuthError> {
        if record.user.role != Role::ADMIN || record.disabled_at.is_some() {
            return Ok(AdminCountGuard { _held: None });
        }
        let guard = self.inner.admin_changes.lock().await;
        let admins = self
            .inner
            .store
            .count_enabled_with_role(Role::ADMIN)
            .await?;
        if admins <= 1 {
            return Err(AuthError::LastAdmin);
        }
        Ok(AdminCountGuard { _held: Some(guard) })
    }
}

/// Keeps other changes that could remove an administrator waiting (see
/// [`AuthService::keep_an_admin`]); dropped once the change is written.
#[must_use = "hold it until the change is written"]
pub(super) struct AdminCountGuard<'a> {
    _held: Option<tokio::sync::MutexGuard<'a, ()>>,
}
