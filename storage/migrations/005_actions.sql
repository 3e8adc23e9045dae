-- What a region is doing about its results: actions recorded by its staff, shown to its
-- citizens and on the public site.
--   municipality_code  NULL for the whole region
--   topic, situation   the survey topic and/or life situation the action addresses (ids as
--                      in the survey files); either, both or neither
--   title_*, description_*  Russian required, English optional; plain text as typed, escaped
--                      wherever it is shown
--   status, since      planned | in_progress | done, and the date (YYYY-MM-DD) it took that
--                      status, if given
--   link               an https:// address or NULL
CREATE TABLE actions (
    id                INTEGER PRIMARY KEY,
    region_code       TEXT    NOT NULL,
    municipality_code TEXT,
    topic             TEXT,
    situation         TEXT,
    title_ru          TEXT    NOT NULL,
    title_en          TEXT,
    description_ru    TEXT,
    description_en    TEXT,
    status            TEXT    NOT NULL DEFAULT 'planned'
                      CHECK (status IN ('planned', 'in_progress', 'done')),
    since             TEXT,
    link              TEXT    CHECK (link IS NULL OR link LIKE 'https://%'),
    created_by        TEXT    NOT NULL,
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL
);
CREATE INDEX actions_by_area ON actions (region_code, municipality_code);
