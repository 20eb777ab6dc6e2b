//! Stores audit events off the request path, several per write.
//!
//! Each event used to be its own insert, and on SQLite each insert is a write transaction
//! that queues for the single writer behind the flows' own writes. One background task now
//! takes every event waiting in the queue and stores them together with
//! [`AuditStore::record_audit_batch`](crate::store::AuditStore::record_audit_batch).
//! Events are never dropped: if the queue is full, the event is stored by a task of its own.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};

use crate::store::{AuditRecord, Store};

/// Events the queue holds before callers fall back to one task per event.
const QUEUE: usize = 4096;
/// Most events stored in one batch.
const BATCH: usize = 256;

enum Message {
    Event(Box<AuditRecord>),
    /// Answered once every event queued before it is stored.
    Flush(oneshot::Sender<()>),
}

/// The queue in front of the store's audit table. The writer task starts with the first
/// event, inside the runtime that produced it.
pub(super) struct AuditWriter {
    store: Arc<dyn Store>,
    queue: OnceLock<mpsc::Sender<Message>>,
}

impl AuditWriter {
    pub(super) fn new(store: Arc<dyn Store>) -> Self {
        AuditWriter {
            store,
            queue: OnceLock::new(),
        }
    }

    /// Queues `record` for storing; never blocks, never loses it.
    pub(super) fn record(&self, record: AuditRecord) {
        let queue = self.queue.get_or_init(|| self.start());
        if let Err(err) = queue.try_send(Message::Event(Box::new(record))) {
            let Message::Event(record) = err.into_inner() else {
                return;
            };
            let store = self.store.clone();
            tokio::spawn(async move { store_batch(store.as_ref(), &[*record]).await });
        }
    }

    /// Waits until every event queued so far is stored (or failed to be).
    pub(super) async fn flush(&self) {
        let Some(queue) = self.queue.get() else {
            return;
        };
        let (done, stored) = oneshot::channel();
        if queue.send(Message::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }

    fn start(&self) -> mpsc::Sender<Message> {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(self.store.clone(), rx));
        tx
    }
}

async fn run(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Message>) {
    let mut messages = Vec::with_capacity(BATCH);
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while rx.recv_many(&mut messages, BATCH).await > 0 {
        for message in messages.drain(..) {
            match message {
                Message::Event(record) => batch.push(*record),
                Message::Flush(done) => flushes.push(done),
            }
        }
        if !batch.is_empty() {
            store_batch(store.as_ref(), &batch).await;
            batch.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

/// A failed write is logged, never fails a flow.
async fn store_batch(store: &dyn Store, batch: &[AuditRecord]) {
    if let Err(e) = store.record_audit_batch(batch).await {
        tracing::warn!(error = %e, events = batch.len(), "could not store audit events");
    }
}
