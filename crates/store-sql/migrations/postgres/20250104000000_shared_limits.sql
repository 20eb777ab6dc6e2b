-- Rate-limit and login-block state shared by every instance on this database (issue 17).
-- UNLOGGED: never written to the WAL, so a counted request costs no WAL flush; a crash of the
-- server empties these tables (every counter and block starts afresh, as when a single
-- instance restarts) and standbys do not have them. "Now" is always passed in by the caller.

-- GCRA per key (`ip:<action>:<ip>`, `forgot:<email>`, `resend:<account>`): the theoretical
-- arrival time, in microseconds since the epoch.
CREATE UNLOGGED TABLE limit_buckets (
    key TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL
);

-- One row per login name (`email:...`, `username:...`): failures within the window and the
-- block. Every change to an account's rows takes this row's lock first.
CREATE UNLOGGED TABLE login_accounts (
    account TEXT PRIMARY KEY,
    failures INTEGER NOT NULL DEFAULT 0,
    window_start_ms BIGINT,
    blocked_until_ms BIGINT
);

-- Per (account, IP): the streak of consecutive failures and whether the IP is trusted (it
-- logged in to the account before).
CREATE UNLOGGED TABLE login_account_ips (
    account TEXT NOT NULL REFERENCES login_accounts (account) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    consecutive INTEGER NOT NULL DEFAULT 0,
    last_ms BIGINT NOT NULL DEFAULT 0,
    trusted BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (account, ip)
);

-- Counts one password attempt from p_ip on each of p_accounts, unless one of them refuses it
-- now; then nothing is counted and (wait_ms, lim) say why. wait_ms = 0: counted. One call is
-- one statement, so one transaction: the accounts' rows are locked (in a fixed order, so two
-- callers never deadlock) before anything is read.
CREATE FUNCTION authgate_begin_attempts(
    p_accounts TEXT[],
    p_ip TEXT,
    p_now BIGINT,
    p_free INTEGER,
    p_max_failures INTEGER,
    p_block_ms BIGINT,
    p_window_ms BIGINT,
    p_max_backoff_ms BIGINT,
    OUT wait_ms BIGINT,
    OUT lim INTEGER
) LANGUAGE plpgsql AS $$
DECLARE
    acc login_accounts%ROWTYPE;
    rec login_account_ips%ROWTYPE;
    backoff BIGINT;
BEGIN
    wait_ms := 0;
    lim := 0;
    INSERT INTO login_accounts (account)
        SELECT DISTINCT a FROM unnest(p_accounts) AS a ORDER BY a
        ON CONFLICT (account) DO NOTHING;
    PERFORM 1 FROM login_accounts WHERE account = ANY (p_accounts) ORDER BY account FOR UPDATE;
    FOR acc IN SELECT * FROM login_accounts WHERE account = ANY (p_accounts) ORDER BY account LOOP
        rec := NULL;
        SELECT * INTO rec FROM login_account_ips WHERE account = acc.account AND ip = p_ip;
        IF acc.blocked_until_ms > p_now AND NOT COALESCE(rec.trusted, FALSE) THEN
            wait_ms := acc.blocked_until_ms - p_now;
            lim := p_max_failures;
            RETURN;
        END IF;
        IF rec.consecutive > 0 AND rec.consecutive >= p_free THEN
            backoff := LEAST((1::BIGINT << LEAST(rec.consecutive - p_free, 20)) * 1000,
                             p_max_backoff_ms);
            IF rec.last_ms + backoff > p_now THEN
                wait_ms := rec.last_ms + backoff - p_now;
                lim := p_free;
                RETURN;
            END IF;
        END IF;
    END LOOP;
    UPDATE login_accounts SET
        failures = CASE WHEN window_start_ms IS NULL OR p_now - window_start_ms > p_window_ms
                        THEN 1 ELSE failures + 1 END,
        window_start_ms = CASE WHEN window_start_ms IS NULL OR p_now - window_start_ms > p_window_ms
                               THEN p_now ELSE window_start_ms END
        WHERE account = ANY (p_accounts);
    UPDATE login_accounts SET blocked_until_ms = p_now + p_block_ms
        WHERE account = ANY (p_accounts) AND failures >= p_max_failures;
    INSERT INTO login_account_ips (account, ip, consecutive, last_ms)
        SELECT DISTINCT a, p_ip, 1, p_now FROM unnest(p_accounts) AS a
        ON CONFLICT (account, ip) DO UPDATE
        SET consecutive = login_account_ips.consecutive + 1, last_ms = p_now;
END
$$;
