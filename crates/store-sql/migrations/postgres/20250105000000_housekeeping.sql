-- Periodic jobs several instances share (issue 17): the instance that moves a job's
-- `next_run_at` forward runs it, the others skip that period. "Now" is passed in by the caller.
CREATE TABLE housekeeping (
    job TEXT PRIMARY KEY,
    next_run_at TIMESTAMPTZ NOT NULL
);
