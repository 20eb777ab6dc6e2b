//! The server's periodic work: deleting what has expired, and picking up new signing keys.

use std::time::Duration;

use authgate_core::keys::KEY_RELOAD_INTERVAL;
use authgate_core::AuthService;

/// How often expired state is deleted.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(3600);
/// How long a dead session is kept before it is deleted.
const KEEP_DEAD_SESSIONS_FOR: chrono::Duration = chrono::Duration::days(1);

/// Every hour (and once at start), deletes what no longer counts. What the instances on one
/// store share is pruned by the one that claims the hour (the others skip it); limits
/// counted in this process's memory are pruned here every hour regardless.
pub(crate) async fn delete_expired_state(service: AuthService, audit_retention: chrono::Duration) {
    let mut tick = tokio::time::interval(HOUSEKEEPING_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let period =
        chrono::Duration::from_std(HOUSEKEEPING_EVERY).unwrap_or(chrono::Duration::hours(1));
    loop {
        tick.tick().await;
        if !service.limiter().is_shared() {
            service.limiter().prune().await;
        }
        match service.claim_housekeeping(period).await {
            Ok(true) => {
                tracing::info!("pruning expired state: this instance's turn this hour");
                prune_shared(&service, audit_retention).await;
            }
            Ok(false) => tracing::info!("another instance prunes expired state this hour"),
            Err(e) => tracing::warn!(error = %e, "cannot claim this hour's pruning; will retry"),
        }
    }
}

/// Deletes what the store holds for every instance: shared rate-limit state that limits
/// nothing any more, audit events past `audit_retention`, and sessions that died more than a
/// day ago.
async fn prune_shared(service: &AuthService, audit_retention: chrono::Duration) {
    if service.limiter().is_shared() {
        service.limiter().prune().await;
    }
    let now = service.clock().now();
    match service.prune_audit(now - audit_retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(pruned = n, "deleted audit events past their retention"),
        Err(e) => tracing::warn!(error = %e, "pruning audit events failed; will retry"),
    }
    match service.prune_sessions(now - KEEP_DEAD_SESSIONS_FOR).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(pruned = n, "deleted expired and revoked sessions"),
        Err(e) => tracing::warn!(error = %e, "pruning sessions failed; will retry"),
    }
}

/// Every [`KEY_RELOAD_INTERVAL`], reads the signing keys again so that a rotation (`authgate
/// keys rotate`, or another instance) takes effect here without a restart.
pub(crate) async fn reload_signing_keys(service: AuthService) {
    let mut tick = tokio::time::interval(KEY_RELOAD_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await; // the first tick is immediate, and the keys were just loaded
    loop {
        tick.tick().await;
        if let Err(e) = service.reload_signing_keys().await {
            tracing::warn!(error = %e, "reloading the signing keys failed; will retry");
        }
    }
}
