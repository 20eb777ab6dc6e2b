-- Periodic jobs several instances on one file could share: the instance that moves a job's
-- `next_run_at` (ms since the epoch) forward runs it, the others skip that period.
CREATE TABLE housekeeping (
    job         TEXT PRIMARY KEY,
    next_run_at INTEGER NOT NULL
);
