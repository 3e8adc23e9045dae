-- Survey waves at run time: the invitation outbox the broadcaster drains, the admin's
-- progress message, and the audit log of administrators' actions.

-- When the outbox of an open wave was filled. Filling happens once, in one transaction
-- with this mark, so a crash between opening and filling is healed by the next sweep and
-- someone who registers later is offered the wave after onboarding instead.
ALTER TABLE waves ADD COLUMN invited_at TEXT;

-- One row per message owed to a respondent: the wave's invitation and, later, at most one
-- reminder. UNIQUE (wave_id, respondent_id, kind) makes filling idempotent; `state` is the
-- record of what happened to the message:
--   pending     waiting to be sent at or after next_attempt_at (new, or retry after an error)
--   claimed     reserved by the broadcaster a moment ahead; its request has NOT started
--               (after a crash: back to pending)
--   sending     committed immediately before its request started; it may be in flight
--               (after a crash: unconfirmed, never sent again)
--   delivered   Telegram accepted it (message_id, sent_at)
--   unconfirmed the request started (sent_at) but the process died before the answer was
--               recorded; most likely delivered, and never sent again, so nobody gets a
--               message twice (counted as delivered; README.md)
--   blocked     403: the respondent blocked the bot; never retried
--   failed      a permanent error or too many transient ones (error says which)
--   skipped     no longer due: wave closed or cancelled, reminder after completion, inactive
-- region_code is the respondent's region when the wave opened, for per-region figures.
CREATE TABLE invitations (
    id              INTEGER PRIMARY KEY,
    wave_id         INTEGER NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    respondent_id   INTEGER NOT NULL REFERENCES respondents (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('invitation', 'reminder')),
    region_code     TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'claimed', 'sending', 'delivered',
                                     'unconfirmed', 'blocked', 'failed', 'skipped')),
    next_attempt_at TEXT    NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    message_id      INTEGER,
    sent_at         TEXT,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    UNIQUE (wave_id, respondent_id, kind)
);
CREATE INDEX invitations_due ON invitations (state, next_attempt_at);
CREATE INDEX invitations_by_wave ON invitations (wave_id, kind, state);
CREATE INDEX invitations_by_respondent ON invitations (respondent_id);

-- The one message per wave in which the administrator who created it watches the sending;
-- kept here so that a restart goes on editing the same message.
CREATE TABLE wave_progress (
    wave_id    INTEGER PRIMARY KEY REFERENCES waves (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    finished   INTEGER NOT NULL DEFAULT 0 CHECK (finished IN (0, 1))
);

-- Who did what and when, from the admin chat (actor: Telegram id) or the command line
-- (actor: the operating-system user). detail is JSON.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('chat', 'cli')),
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_log_by_time ON audit_log (at);
