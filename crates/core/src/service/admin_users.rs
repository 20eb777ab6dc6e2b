//! Administration of accounts: finding them, looking at one, changing its role, name or
//! verified flag, and erasing it.

use chrono::{DateTime, Utc};

use super::admin::Actor;
use super::AuthService;
use crate::audit::AuditKind;
use crate::cursor::{self, CursorKind};
use crate::domain::{ClientInfo, PersonName, Role, User, UserId, UserRecord, MAX_EMAIL_LEN};
use crate::error::AuthError;
use crate::store::{UserErasure, UserPatch, UserSearch};

/// Largest page of any administrative list.
pub const MAX_PAGE: u32 = 100;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: u32 = 50;

/// A user as an administrator sees it: the public view and whether it is disabled.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedUser {
    /// The user as `/me` shows it.
    pub user: User,
    /// When the account was disabled, if it is.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<UserRecord> for ManagedUser {
    fn from(r: UserRecord) -> Self {
        ManagedUser {
            user: r.user,
            disabled_at: r.disabled_at,
        }
    }
}

/// One user with their live session count (the last login is on the user).
#[derive(Debug, Clone, PartialEq)]
pub struct UserDetail {
    /// The user.
    pub user: ManagedUser,
    /// Live sessions (devices signed in) now.
    pub session_count: u64,
}

/// The user list's filters and page, as a client sent them (validated by the flow).
#[derive(Debug, Clone, Default)]
pub struct UserListQuery {
    /// Prefix of the email or username, any case.
    pub query: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// Only disabled (`true`) or enabled (`false`) accounts.
    pub disabled: Option<bool>,
    /// The previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 50).
    pub limit: Option<u32>,
}

/// A page of users.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// Users by id (creation order).
    pub users: Vec<ManagedUser>,
    /// Pass as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// What an administrator may change on an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct AdminUserChange {
    /// A role from the known roles (`AUTHGATE_ROLES`).
    pub role: Option<String>,
    /// A display name.
    pub name: Option<String>,
    /// Marks the email verified or not.
    pub email_verified: Option<bool>,
}

/// A page size as asked for: 1 to 100, 50 when not given.
pub(super) fn page_size(limit: Option<u32>) -> Result<u32, AuthError> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(AuthError::field("limit", "must be between 1 and 100")),
    }
}

/// The search a list query asks for.
fn user_search(q: &UserListQuery) -> Result<UserSearch, AuthError> {
    let prefix = q
        .query
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    if prefix
        .as_ref()
        .is_some_and(|p| p.chars().count() > MAX_EMAIL_LEN)
    {
        return Err(AuthError::field("query", "must be at most 254 characters"));
    }
    let role = match q.role.as_deref() {
        Some(r) => Some(
            Role::parse(r)
                .map_err(|p| AuthError::field("role", p))?
                .as_str()
                .to_owned(),
        ),
        None => None,
    };
    let after = match q.cursor.as_deref() {
        Some(c) => Some(UserId::from_string(cursor::decode(CursorKind::Users, c)?)),
        None => None,
    };
    Ok(UserSearch {
        prefix,
        role,
        disabled: q.disabled,
        after,
        limit: page_size(q.limit)?,
    })
}

impl AuthService {
    /// Users matching `query`, a page at a time, in a stable order (creation).
    pub async fn admin_list_users(
        &self,
        actor: &Actor,
        query: &UserListQuery,
    ) -> Result<UserPage, AuthError> {
        self.require_admin(actor).await?;
        let search = user_search(query)?;
        let found = self.inner.store.search_users(&search).await?;
        let full = found.len() == search.limit as usize;
        let next_cursor = found
            .last()
            .filter(|_| full)
            .map(|r| cursor::encode(CursorKind::Users, r.user.id.as_str()));
        Ok(UserPage {
            users: found.into_iter().map(ManagedUser::from).collect(),
            next_cursor,
        })
    }

    /// One user with their live session count.
    pub async fn admin_show_user(
        &self,
        actor: &Actor,
        id: &UserId,
    ) -> Result<UserDetail, AuthError> {
        self.require_admin(actor).await?;
        let record = self.managed_user(id).await?;
        let session_count = self.inner.store.count_live_sessions(id, self.now()).await?;
        Ok(UserDetail {
            user: record.into(),
            session_count,
        })
    }

    /// Changes an account's role, name or verified flag and returns it.
    ///
    /// A role change takes effect at once: every check that asks authgate (`GET /me`,
    /// introspection, forward-auth, the admin API) reads the account's current role, and
    /// this node forgets its cached copy of the user now. The user's access tokens stay
    /// valid; their `role` claim is the old one until they expire, which matters only to a
    /// service that verifies tokens itself.
    ///
    /// Errors: `Forbidden`, `NotFound`, `Validation` (unknown role, bad name), `LastAdmin`
    /// for demoting the last enabled administrator.
    pub async fn admin_update_user(
        &self,
        actor: &Actor,
        id: &UserId,
        change: &AdminUserChange,
        client: &ClientInfo,
    ) -> Result<ManagedUser, AuthError> {
        self.require_admin(actor).await?;
        let record = self.managed_user(id).await?;
        let patch = self.admin_patch(change)?;
        let demotes = patch.role.as_deref().is_some_and(|r| r != Role::ADMIN);
        let guard = if demotes {
            Some(self.keep_an_admin(&record).await?)
        } else {
            None
        };
        let updated = self.inner.store.update_user(id, &patch).await;
        drop(guard);
        self.user_changed(id, updated)?;
        let detail = change_detail(&record.user, &patch, actor);
        self.audit(AuditKind::UserUpdated, client)
            .user(id)
            .detail(&detail)
            .record();
        Ok(self.managed_user(id).await?.into())
    }

    /// The store patch an administrator's change asks for, validated.
    fn admin_patch(&self, change: &AdminUserChange) -> Result<UserPatch, AuthError> {
        let role = match change.role.as_deref() {
            Some(r) => {
                let role = Role::parse(r).map_err(|p| AuthError::field("role", p))?;
                if !self.inner.config.is_known_role(role.as_str()) {
                    return Err(AuthError::field(
                        "role",
                        "is not a known role (AUTHGATE_ROLES)",
                    ));
                }
                Some(role.as_str().to_owned())
            }
            None => None,
        };
        let name = match change.name.as_deref() {
            Some(n) => Some(Some(
                PersonName::parse(n)
                    .map_err(|p| AuthError::field("name", p))?
                    .into_inner(),
            )),
            None => None,
        };
        let now = self.now();
        Ok(UserPatch {
            role,
            name,
            email_verified_at: change.email_verified.map(|v| v.then_some(now)),
            ..UserPatch::default()
        })
    }

    /// Erases an account and everything tied to it (sessions, tokens, mail) in one store
    /// transaction; its access tokens die on the next request. Audit events stay, naming
    /// the user by id only.
    ///
    /// Errors: `Forbidden`, `NotFound`, `Validation` for one's own account (use
    /// `DELETE /me`), `LastAdmin`.
    pub async fn admin_delete_user(
        &self,
        actor: &Actor,
        id: &UserId,
        client: &ClientInfo,
    ) -> Result<(), AuthError> {
        self.require_admin(actor).await?;
        if actor.user_id() == Some(id) {
            return Err(AuthError::field(
                "id",
                "an administrator cannot delete their own account here",
            ));
        }
        let record = self.managed_user(id).await?;
        let guard = self.keep_an_admin(&record).await?;
        self.erase(&record, None).await?;
        drop(guard);
        let by = actor.by();
        self.audit(AuditKind::UserDeleted, client)
            .user(id)
            .detail(&by)
            .record();
        Ok(())
    }

    /// Erases `record` in the store, queueing `confirmation`, and forgets it on this node.
    pub(super) async fn erase(
        &self,
        record: &UserRecord,
        confirmation: Option<crate::store::OutgoingMail>,
    ) -> Result<(), AuthError> {
        let id = &record.user.id;
        let mut mail_to: Vec<String> = record.user.email.iter().cloned().collect();
        if let Some(lower) = record.user.email.as_deref().map(str::to_lowercase) {
            if !mail_to.contains(&lower) {
                mail_to.push(lower);
            }
        }
        let queued = confirmation.is_some();
        let erasure = UserErasure {
            user_id: id.clone(),
            mail_to,
            confirmation,
            at: self.now(),
        };
        let erased = self.inner.store.erase_user(&erasure).await;
        self.forget_sessions_of(id);
        if !self.user_changed(id, erased)? {
            return Err(AuthError::NotFound("No such user"));
        }
        if queued {
            self.inner.mail_ready.notify_one();
        }
        Ok(())
    }
}

/// The audit detail of a change: what changed (a role from and to), and by whom.
fn change_detail(before: &User, patch: &UserPatch, actor: &Actor) -> String {
    let mut parts = Vec::new();
    if let Some(role) = &patch.role {
        parts.push(format!("role {} -> {role}", before.role));
    }
    if patch.name.is_some() {
        parts.push("name".to_owned());
    }
    if let Some(v) = &patch.email_verified_at {
        parts.push(format!("email verified {}", v.is_some()));
    }
    parts.push(actor.by());
    parts.join(", ")
}
