//! [`KeyStore`] for MongoDB: token signing keys.
//!
//! A key document: `_id` (kid), `algorithm`, `private_der`, `public_key`, `created_at`,
//! `retired_at`.

use async_trait::async_trait;
use authgate_core::store::{KeyStore, StoreResult, StoredKey};
use chrono::{DateTime, Utc};
use mongodb::bson::{doc, Document};

use crate::codec::{binary, bytes, date, opt_date, opt_time, string, time};
use crate::collections::SIGNING_KEYS;
use crate::error::db_err;
use crate::MongoStore;

/// The key a stored document describes.
fn stored_key(d: &Document) -> StoreResult<StoredKey> {
    Ok(StoredKey {
        kid: string(d, "_id")?,
        algorithm: string(d, "algorithm")?,
        private_der: bytes(d, "private_der")?,
        public_key: bytes(d, "public_key")?,
        created_at: time(d, "created_at")?,
        retired_at: opt_time(d, "retired_at")?,
    })
}

#[async_trait]
impl KeyStore for MongoStore {
    #[tracing::instrument(skip_all)]
    async fn signing_keys(&self) -> StoreResult<Vec<StoredKey>> {
        let mut cursor = self
            .collection(SIGNING_KEYS)
            .find(doc! {})
            .await
            .map_err(db_err)?;
        let mut keys = Vec::new();
        while cursor.advance().await.map_err(db_err)? {
            keys.push(stored_key(&cursor.deserialize_current().map_err(db_err)?)?);
        }
        // Oldest first. Sorted here: there are a handful of keys.
        keys.sort_by(|a, b| (a.created_at, &a.kid).cmp(&(b.created_at, &b.kid)));
        Ok(keys)
    }

    #[tracing::instrument(skip_all, fields(kid = %key.kid))]
    async fn insert_signing_key(&self, key: &StoredKey) -> StoreResult<()> {
        let d = doc! {
            "_id": &key.kid,
            "algorithm": &key.algorithm,
            "private_der": binary(&key.private_der),
            "public_key": binary(&key.public_key),
            "created_at": date(key.created_at),
            "retired_at": opt_date(key.retired_at),
        };
        self.collection(SIGNING_KEYS)
            .insert_one(d)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(kid = %kid))]
    async fn retire_signing_keys_except(&self, kid: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let keys = self.collection(SIGNING_KEYS);
        // A key's creation time never changes, so reading it first races with nothing.
        let Some(current) = keys
            .find_one(doc! { "_id": kid })
            .projection(doc! { "created_at": 1 })
            .await
            .map_err(db_err)?
        else {
            return Ok(());
        };
        // Only keys older than `kid`: a newer key another instance just added keeps signing.
        keys.update_many(
            doc! {
                "_id": { "$ne": kid },
                "retired_at": mongodb::bson::Bson::Null,
                "created_at": { "$lt": date(time(&current, "created_at")?) },
            },
            doc! { "$set": { "retired_at": date(at) } },
        )
        .await
        .map_err(db_err)?;
        Ok(())
    }
}
