//! Several instances on one database: where the limits are counted.

use super::*;
use crate::config::SharedLimitsMode;

const PG: (&str, &str) = ("AUTHGATE_DATABASE_URL", "postgres://u:p@localhost/authgate");

#[test]
fn auto_counts_limits_in_postgresql_and_in_memory_on_sqlite() {
    let pg = load(&[PG]).unwrap();
    assert_eq!(pg.scale.shared_limits, SharedLimitsMode::Auto);
    assert!(pg.scale.shared_limits.in_database(pg.database_url.kind()));
    assert!(
        pg.summary().contains("shared_limits=auto (database)"),
        "{}",
        pg.summary()
    );
    let sqlite = load(&[]).unwrap();
    assert!(!sqlite
        .scale
        .shared_limits
        .in_database(sqlite.database_url.kind()));
    assert!(sqlite.summary().contains("shared_limits=auto (memory)"));
}

#[test]
fn memory_keeps_the_limits_per_instance_even_on_postgresql() {
    let c = load(&[PG, ("AUTHGATE_SHARED_LIMITS", "memory")]).unwrap();
    assert!(!c.scale.shared_limits.in_database(c.database_url.kind()));
}

#[test]
fn database_limits_on_sqlite_or_a_bad_word_stop_start_up_naming_the_variable() {
    let p = problems(&[("AUTHGATE_SHARED_LIMITS", "database")]);
    assert!(
        p[0].starts_with("AUTHGATE_SHARED_LIMITS: database needs a PostgreSQL"),
        "{p:?}"
    );
    let p = problems(&[("AUTHGATE_SHARED_LIMITS", "redis")]);
    assert!(p[0].starts_with("AUTHGATE_SHARED_LIMITS: "), "{p:?}");
}
