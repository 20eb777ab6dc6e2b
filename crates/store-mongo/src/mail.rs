//! [`MailQueue`] for MongoDB: a durable queue with leases.
//!
//! A mail document: `_id` (mail id), `to`, `subject`, `text_body`, `html_body`, `created_at`,
//! `next_attempt_at`, `attempts` and `last_error`. A claim moves `next_attempt_at` to the end
//! of the lease: the mail stays invisible to other workers until then, and comes back by itself
//! if its worker dies. A delivered mail is deleted (its body may carry a one-time token).

use async_trait::async_trait;
use authgate_core::store::{MailQueue, OutgoingMail, QueuedMail, StoreResult};
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;

use crate::codec::{date, int, string, time};
use crate::collections::MAIL_QUEUE;
use crate::error::db_err;
use crate::MongoStore;

/// Longest stored `last_error`, in characters.
const MAX_ERROR_CHARS: usize = 1000;

/// The document queued for `mail`, due at `now`.
pub(crate) fn mail_doc(mail: &OutgoingMail, now: DateTime<Utc>) -> Document {
    doc! {
        "_id": &mail.id,
        "to": &mail.to,
        "subject": &mail.subject,
        "text_body": &mail.text_body,
        "html_body": &mail.html_body,
        "created_at": date(now),
        "next_attempt_at": date(now),
        "attempts": 0_i64,
        "last_error": Bson::Null,
    }
}

/// A claimed mail and when it was queued.
fn claimed(d: &Document) -> StoreResult<(DateTime<Utc>, QueuedMail)> {
    let mail = OutgoingMail {
        id: string(d, "_id")?,
        to: string(d, "to")?,
        subject: string(d, "subject")?,
        text_body: string(d, "text_body")?,
        html_body: string(d, "html_body")?,
    };
    let attempts = u32::try_from(int(d, "attempts")?).unwrap_or(u32::MAX);
    let queued_at = time(d, "created_at")?;
    Ok((
        queued_at,
        QueuedMail {
            mail,
            attempts,
            queued_at,
        },
    ))
}

#[async_trait]
impl MailQueue for MongoStore {
    #[tracing::instrument(skip_all, fields(mail_id = %mail.id))]
    async fn enqueue_mail(&self, mail: &OutgoingMail, now: DateTime<Utc>) -> StoreResult<()> {
        self.collection(MAIL_QUEUE)
            .insert_one(mail_doc(mail, now))
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(limit))]
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<QueuedMail>> {
        // Each claim is one atomic update of one mail, so two workers never hold the same mail.
        // A claimed mail is due again only if its lease ends before `now`; stop there.
        let queue = self.collection(MAIL_QUEUE);
        let mut out: Vec<(DateTime<Utc>, QueuedMail)> = Vec::new();
        while out.len() < limit as usize {
            let next = queue
                .find_one_and_update(
                    doc! { "next_attempt_at": { "$lte": date(now) } },
                    doc! {
                        "$set": { "next_attempt_at": date(lease_until) },
                        "$inc": { "attempts": 1_i64 },
                    },
                )
                .sort(doc! { "next_attempt_at": 1, "_id": 1 })
                .return_document(ReturnDocument::After)
                .await
                .map_err(db_err)?;
            let Some(doc) = next else { break };
            let (created_at, mail) = claimed(&doc)?;
            if out.iter().any(|(_, held)| held.mail.id == mail.mail.id) {
                break;
            }
            out.push((created_at, mail));
        }
        out.sort_by(|(a, x), (b, y)| (a, &x.mail.id).cmp(&(b, &y.mail.id)));
        Ok(out.into_iter().map(|(_, mail)| mail).collect())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn mark_mail_sent(&self, id: &str, _at: DateTime<Utc>) -> StoreResult<()> {
        self.collection(MAIL_QUEUE)
            .delete_one(doc! { "_id": id })
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn mark_mail_failed(
        &self,
        id: &str,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
        self.collection(MAIL_QUEUE)
            .update_one(
                doc! { "_id": id },
                doc! { "$set": { "last_error": error, "next_attempt_at": date(retry_at) } },
            )
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(mail_id = %id))]
    async fn discard_mail(&self, id: &str) -> StoreResult<()> {
        self.collection(MAIL_QUEUE)
            .delete_one(doc! { "_id": id })
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn mail_queue_depth(&self) -> StoreResult<u64> {
        self.collection(MAIL_QUEUE)
            .count_documents(doc! {})
            .await
            .map_err(db_err)
    }
}
