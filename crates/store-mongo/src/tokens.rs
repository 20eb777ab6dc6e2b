//! [`OneTimeTokenStore`] for MongoDB: email-verification and password-reset tokens, written
//! together with the mail that carries them.
//!
//! A token document: `_id` (SHA-256 hex), `user_id`, `purpose`, `email`, `created_at`,
//! `expires_at` (a TTL index deletes the token then) and `used_at` (`null` while usable; an
//! invalidated token is marked used).

use async_trait::async_trait;
use authgate_core::domain::UserId;
use authgate_core::secret::TokenHash;
use authgate_core::store::{
    ConsumedToken, NewOneTimeToken, OneTimeTokenStore, OutgoingMail, StoreResult, TokenPurpose,
    UnexpiredToken,
};
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::ClientSession;

use crate::atomic::{in_session, Atomic, Done};
use crate::codec::{date, string};
use crate::collections::{MAIL_QUEUE, ONE_TIME_TOKENS};
use crate::error::db_err;
use crate::mail::mail_doc;
use crate::MongoStore;

/// The filter of the token `hash` if it is usable for `purpose` at `now`.
fn usable(hash: &TokenHash, purpose: TokenPurpose, now: DateTime<Utc>) -> Document {
    doc! {
        "_id": hash.to_hex(),
        "purpose": purpose.as_str(),
        "used_at": Bson::Null,
        "expires_at": { "$gt": date(now) },
    }
}

/// The owner and address of a token document.
fn consumed(d: &Document) -> StoreResult<ConsumedToken> {
    Ok(ConsumedToken {
        user_id: UserId::from_string(string(d, "user_id")?),
        email: string(d, "email")?,
    })
}

/// `OneTimeTokenStore::create_one_time_token` as a unit of writes. Without a transaction the
/// order is: supersede the older tokens, store the new one, queue its mail. An interruption
/// leaves at worst a user with no usable token or a token that was never mailed, and the user
/// asks again.
struct CreateToken<'a> {
    token: &'a NewOneTimeToken,
    mail: &'a OutgoingMail,
    supersede: bool,
}

impl Atomic for CreateToken<'_> {
    type Output = ();

    async fn run(
        &self,
        store: &MongoStore,
        mut session: Option<&mut ClientSession>,
    ) -> mongodb::error::Result<Done<()>> {
        let (t, tokens) = (self.token, store.collection(ONE_TIME_TOKENS));
        let queue = store.collection(MAIL_QUEUE);
        if self.supersede {
            in_session!(
                tokens.update_many(
                    doc! { "user_id": t.user_id.as_str(), "purpose": t.purpose.as_str(), "used_at": Bson::Null },
                    doc! { "$set": { "used_at": date(t.created_at) } },
                ),
                session
            )
            .await?;
        }
        let token_doc = doc! {
            "_id": t.hash.to_hex(),
            "user_id": t.user_id.as_str(),
            "purpose": t.purpose.as_str(),
            "email": &t.email,
            "created_at": date(t.created_at),
            "expires_at": date(t.expires_at),
            "used_at": Bson::Null,
        };
        in_session!(tokens.insert_one(token_doc), session).await?;
        let mail = mail_doc(self.mail, t.created_at);
        in_session!(queue.insert_one(mail), session).await?;
        Ok(Done::Commit(()))
    }
}

#[async_trait]
impl OneTimeTokenStore for MongoStore {
    #[tracing::instrument(skip_all, fields(user_id = %token.user_id, purpose = token.purpose.as_str(), supersede))]
    async fn create_one_time_token(
        &self,
        token: &NewOneTimeToken,
        mail: &OutgoingMail,
        supersede: bool,
    ) -> StoreResult<()> {
        self.atomically(&CreateToken {
            token,
            mail,
            supersede,
        })
        .await
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn find_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>> {
        let found = self
            .collection(ONE_TIME_TOKENS)
            .find_one(usable(hash, purpose, now))
            .projection(doc! { "user_id": 1, "email": 1 })
            .await
            .map_err(db_err)?;
        found.as_ref().map(consumed).transpose()
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn find_unexpired_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<UnexpiredToken>> {
        // The TTL index deletes a token some time after it expired: `expires_at` decides.
        let filter = doc! {
            "_id": hash.to_hex(),
            "purpose": purpose.as_str(),
            "expires_at": { "$gt": date(now) },
        };
        let found = self
            .collection(ONE_TIME_TOKENS)
            .find_one(filter)
            .projection(doc! { "user_id": 1, "email": 1, "used_at": 1 })
            .await
            .map_err(db_err)?;
        found
            .map(|d| {
                let owner = consumed(&d)?;
                Ok(UnexpiredToken {
                    user_id: owner.user_id,
                    email: owner.email,
                    used: !matches!(d.get("used_at"), None | Some(Bson::Null)),
                })
            })
            .transpose()
    }

    #[tracing::instrument(skip_all, fields(purpose = purpose.as_str()))]
    async fn consume_one_time_token(
        &self,
        hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ConsumedToken>> {
        // One guarded update: of concurrent callers, only the first finds `used_at: null`.
        let found = self
            .collection(ONE_TIME_TOKENS)
            .find_one_and_update(
                usable(hash, purpose, now),
                doc! { "$set": { "used_at": date(now) } },
            )
            .projection(doc! { "user_id": 1, "email": 1 })
            .await
            .map_err(db_err)?;
        found.as_ref().map(consumed).transpose()
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, purpose = purpose.as_str()))]
    async fn invalidate_one_time_tokens(
        &self,
        user_id: &UserId,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = self
            .collection(ONE_TIME_TOKENS)
            .update_many(
                doc! { "user_id": user_id.as_str(), "purpose": purpose.as_str(), "used_at": Bson::Null },
                doc! { "$set": { "used_at": date(now) } },
            )
            .await
            .map_err(db_err)?;
        Ok(done.modified_count)
    }
}
