//! Settings for several instances on one database: where the rate limits and login blocks
//! are counted.

use super::build::Reader;
use super::DatabaseKind;

/// Where rate-limit and login-block state lives (`AUTHGATE_SHARED_LIMITS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedLimitsMode {
    /// In the database on PostgreSQL, in memory on SQLite and MongoDB.
    Auto,
    /// In this process's memory: each instance counts alone.
    Memory,
    /// In the database, shared by every instance on it (PostgreSQL only).
    Database,
}

impl SharedLimitsMode {
    /// Whether the limits are counted in the database `kind`.
    pub fn in_database(self, kind: DatabaseKind) -> bool {
        match self {
            SharedLimitsMode::Auto => kind == DatabaseKind::Postgres,
            SharedLimitsMode::Memory => false,
            SharedLimitsMode::Database => true,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SharedLimitsMode::Auto => "auto",
            SharedLimitsMode::Memory => "memory",
            SharedLimitsMode::Database => "database",
        }
    }
}

/// The settings of a scaled-out deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScaleSettings {
    /// Where the limits are counted (`AUTHGATE_SHARED_LIMITS`).
    pub shared_limits: SharedLimitsMode,
}

impl ScaleSettings {
    /// `key=value` pairs for the configuration summary, with what `auto` means on `kind`.
    pub(super) fn summary(&self, kind: DatabaseKind) -> Vec<(&'static str, String)> {
        let place = if self.shared_limits.in_database(kind) {
            "database"
        } else {
            "memory"
        };
        let limits = match self.shared_limits {
            SharedLimitsMode::Auto => format!("auto ({place})"),
            mode => mode.as_str().to_owned(),
        };
        vec![("shared_limits", limits)]
    }

    /// Records a problem when the settings ask for what the database `kind` cannot do.
    pub(super) fn check(&self, kind: DatabaseKind, r: &mut Reader<'_>) {
        if self.shared_limits == SharedLimitsMode::Database && kind != DatabaseKind::Postgres {
            r.problem(
                "shared_limits",
                "database needs a PostgreSQL AUTHGATE_DATABASE_URL (SQLite serves one instance, \
                 MongoDB keeps the limits in memory); use auto or memory"
                    .into(),
            );
        }
    }
}

/// Reads the scale-out settings.
pub(super) fn read(r: &mut Reader<'_>) -> ScaleSettings {
    ScaleSettings {
        shared_limits: r.get("shared_limits", shared_limits_mode),
    }
}

/// `auto`, `memory` or `database`.
fn shared_limits_mode(s: &str) -> Result<SharedLimitsMode, String> {
    match s.to_ascii_lowercase().as_str() {
        "auto" => Ok(SharedLimitsMode::Auto),
        "memory" => Ok(SharedLimitsMode::Memory),
        "database" => Ok(SharedLimitsMode::Database),
        _ => Err(format!("{s:?} is not one of auto, memory, database")),
    }
}
