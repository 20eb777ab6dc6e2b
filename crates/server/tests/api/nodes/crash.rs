//! A node killed with SIGKILL under a mixed load: the others keep answering, clients that
//! retry elsewhere succeed, and nothing a node acknowledged is lost.

use tempfile::TempDir;

use super::load::{lost_writes, Load, OnNoAnswer, LOAD_SETTINGS};
use super::{on_postgres, three_nodes_on_postgres};
use crate::helpers::{database_url_for, Backend};

#[tokio::test]
async fn killing_one_of_three_nodes_under_load_loses_no_acknowledged_write() {
    if !on_postgres("a node killed under load") {
        return;
    }
    let (url, _db) = database_url_for(Backend::Postgres).await;
    let dir = TempDir::new().expect("a temporary directory");
    let mut nodes = three_nodes_on_postgres(&dir, &url, &LOAD_SETTINGS).await;
    let targets: Vec<String> = nodes.iter().map(|n| n.base.clone()).collect();
    let load = Load::start(&targets, 6, OnNoAnswer::RetryElsewhere);
    load.run_for_requests(150).await;

    nodes[1].kill_9();
    load.run_for_requests(300).await;
    let ledger = load.stop().await;

    assert!(
        ledger.failures.is_empty(),
        "{} requests went wrong, e.g. {:?}",
        ledger.failures.len(),
        &ledger.failures[..ledger.failures.len().min(5)]
    );
    assert!(
        !ledger.retries.is_empty(),
        "no request needed a retry: the killed node was never asked again"
    );
    assert!(
        ledger.retries.iter().all(|&node| node == 1),
        "a live node left a request unanswered: {:?}",
        ledger.retries
    );
    let lost = lost_writes(&nodes[0].base, &ledger).await;
    assert!(
        lost.is_empty(),
        "{} of {} users and {} sessions lost ({} requests cut on an open connection), e.g. {:?}",
        lost.len(),
        ledger.users.len(),
        ledger.refresh_tokens.len(),
        ledger.cut_mid_request,
        &lost[..lost.len().min(5)]
    );
}
