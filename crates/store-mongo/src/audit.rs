//! [`AuditStore`] for MongoDB: the audit trail.
//!
//! An event document: `_id` (the event id, UUIDv7 text, so ids order by time), `at`, `kind`,
//! `outcome`, `user_id`, `session_id`, `ip`, `user_agent`, `request_id`, `detail` (absent
//! values as `null`). Events are only ever inserted, never `$set`, so `at` stays a BSON date
//! even on nx-27017; reading still goes through the codec, which accepts both.

use async_trait::async_trait;
use authgate_core::domain::{SessionId, UserId};
use authgate_core::store::{AuditRecord, AuditStore, StoreResult};
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Bson, Document};

use crate::codec::{date, opt_str, opt_string, string, time};
use crate::collections::AUDIT_EVENTS;
use crate::error::db_err;
use crate::MongoStore;

/// The event a stored document describes.
pub(crate) fn audit_record(d: &Document) -> StoreResult<AuditRecord> {
    Ok(AuditRecord {
        id: string(d, "_id")?,
        at: time(d, "at")?,
        kind: string(d, "kind")?,
        outcome: string(d, "outcome")?,
        user_id: opt_string(d, "user_id")?.map(UserId::from_string),
        session_id: opt_string(d, "session_id")?.map(SessionId::from_string),
        ip: opt_string(d, "ip")?,
        user_agent: opt_string(d, "user_agent")?,
        request_id: opt_string(d, "request_id")?,
        detail: opt_string(d, "detail")?,
    })
}

/// The document storing `e`.
fn audit_doc(e: &AuditRecord) -> Document {
    doc! {
        "_id": &e.id,
        "at": date(e.at),
        "kind": &e.kind,
        "outcome": &e.outcome,
        "user_id": opt_str(e.user_id.as_ref().map(|u| u.as_str())),
        "session_id": opt_str(e.session_id.as_ref().map(|s| s.as_str())),
        "ip": opt_str(e.ip.as_deref()),
        "user_agent": opt_str(e.user_agent.as_deref()),
        "request_id": opt_str(e.request_id.as_deref()),
        "detail": opt_str(e.detail.as_deref()),
    }
}

#[async_trait]
impl AuditStore for MongoStore {
    #[tracing::instrument(skip_all, fields(kind = %event.kind))]
    async fn record_audit(&self, event: &AuditRecord) -> StoreResult<()> {
        self.collection(AUDIT_EVENTS)
            .insert_one(audit_doc(event))
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(user_id = %user_id, limit))]
    async fn list_audit(
        &self,
        user_id: &UserId,
        before: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuditRecord>> {
        // A limit of 0 means "no limit" to MongoDB; to the contract it means nothing.
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut filter = doc! { "user_id": user_id.as_str() };
        if let Some(before) = before {
            filter.insert("_id", doc! { "$lt": before });
        }
        // Newest first: ids are UUIDv7 text, so they order by time.
        let mut cursor = self
            .collection(AUDIT_EVENTS)
            .find(filter)
            .sort(doc! { "_id": -1 })
            .limit(i64::from(limit))
            .await
            .map_err(db_err)?;
        let mut events = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            events.push(audit_record(
                &cursor.deserialize_current().map_err(db_err)?,
            )?);
        }
        Ok(events)
    }

    #[tracing::instrument(skip_all)]
    async fn prune_audit(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        // nx-27017 does not compare every date with `$lt` as MongoDB does, so candidates
        // (older dates, and any time held as text) are checked here, then deleted by id.
        let events = self.collection(AUDIT_EVENTS);
        let mut cursor = events
            .find(doc! { "$or": [
                { "at": { "$lt": date(before) } },
                { "at": { "$type": "string" } },
            ] })
            .projection(doc! { "_id": 1, "at": 1 })
            .await
            .map_err(db_err)?;
        let mut ids = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            let d = cursor.deserialize_current().map_err(db_err)?;
            if time(&d, "at")? < before {
                ids.push(Bson::String(string(&d, "_id")?));
            }
        }
        let mut pruned = 0;
        for batch in ids.chunks(500) {
            pruned += events
                .delete_many(doc! { "_id": { "$in": batch.to_vec() } })
                .await
                .map_err(db_err)?
                .deleted_count;
        }
        Ok(pruned)
    }
}
