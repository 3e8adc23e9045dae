-- Citizens, the survey versions they were asked, waves and their answers.
-- Times are ISO 8601 UTC text, which sorts and compares correctly as text.

CREATE TABLE respondents (
    id                INTEGER PRIMARY KEY,
    telegram_id       INTEGER NOT NULL UNIQUE,
    language          TEXT    NOT NULL CHECK (language IN ('ru', 'en')),
    region_code       TEXT,
    municipality_code TEXT,
    age_band          TEXT,
    consent_version   TEXT    NOT NULL,
    consented_at      TEXT    NOT NULL,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX respondents_by_region ON respondents (region_code, active);

CREATE TABLE survey_versions (
    id          INTEGER PRIMARY KEY,
    survey_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint TEXT    NOT NULL,
    definition  TEXT    NOT NULL,
    stored_at   TEXT    NOT NULL,
    UNIQUE (survey_id, version)
);

CREATE TABLE waves (
    id                 INTEGER PRIMARY KEY,
    survey_version_id  INTEGER NOT NULL REFERENCES survey_versions (id),
    starts_at          TEXT    NOT NULL,
    ends_at            TEXT    NOT NULL,
    all_regions        INTEGER NOT NULL CHECK (all_regions IN (0, 1)),
    tracks             TEXT    NOT NULL CHECK (tracks IN ('all', 'youth', 'general')),
    remind_after_hours REAL,
    state              TEXT    NOT NULL DEFAULT 'scheduled'
                       CHECK (state IN ('scheduled', 'open', 'closed', 'cancelled')),
    created_by         INTEGER,
    created_at         TEXT    NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX waves_by_state ON waves (state, starts_at);

CREATE TABLE wave_regions (
    wave_id     INTEGER NOT NULL REFERENCES waves (id) ON DELETE CASCADE,
    region_code TEXT    NOT NULL,
    PRIMARY KEY (wave_id, region_code)
) WITHOUT ROWID;

-- The respondent's region, municipality and age band are copied here when they start,
-- so a later profile change never moves answers that were already given.
CREATE TABLE responses (
    id                INTEGER PRIMARY KEY,
    wave_id           INTEGER NOT NULL REFERENCES waves (id),
    respondent_id     INTEGER NOT NULL REFERENCES respondents (id) ON DELETE CASCADE,
    survey_version_id INTEGER NOT NULL REFERENCES survey_versions (id),
    region_code       TEXT    NOT NULL,
    municipality_code TEXT,
    age_band          TEXT    NOT NULL,
    track             TEXT    NOT NULL CHECK (track IN ('youth', 'general')),
    started_at        TEXT    NOT NULL,
    completed_at      TEXT,
    UNIQUE (wave_id, respondent_id)
);
CREATE INDEX responses_by_respondent ON responses (respondent_id);

-- value is JSON (NULL when an optional question was skipped); score is the 0-100 score
-- of a scored answer, computed once when it is stored so aggregation needs no survey.
CREATE TABLE answers (
    response_id INTEGER NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    question_id TEXT    NOT NULL,
    topic       TEXT    NOT NULL,
    value       TEXT,
    score       REAL CHECK (score BETWEEN 0 AND 100),
    answered_at TEXT    NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

CREATE TABLE fsm_states (
    storage_key TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL,
    state       TEXT,
    data        TEXT NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE INDEX fsm_states_by_user ON fsm_states (user_id);
