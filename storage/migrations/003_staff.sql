-- Staff held in the database: who may administer, in which role, for which regions.
-- ADMIN_IDS stay federal without a row here; `civicpulse staff add|remove` edits this
-- table, and a running bot reads it on every update, so a change needs no restart.
--   role       federal (every region, every action), regional (plans, sees and cancels
--              waves of its regions, reads their results) or analyst (reads results only)
--   regions    comma-separated region codes; NULL for every region (federal always,
--              an analyst optionally; a regional member always has a list)
--   microdata  an analyst may also receive the answers file (federal and regional staff
--              may by their role)
--   name       how the operator knows them; optional
CREATE TABLE staff (
    telegram_id INTEGER PRIMARY KEY,
    role        TEXT    NOT NULL CHECK (role IN ('federal', 'regional', 'analyst')),
    regions     TEXT,
    microdata   INTEGER NOT NULL DEFAULT 0 CHECK (microdata IN (0, 1)),
    name        TEXT,
    added_at    TEXT    NOT NULL,
    added_by    TEXT    NOT NULL,
    CHECK (role != 'federal' OR regions IS NULL),
    CHECK (role != 'regional' OR regions IS NOT NULL)
);

-- The audit log names the actor's role and the regions the action concerned ('all' for
-- every region); both are NULL for the command line and for records made before roles.
ALTER TABLE audit_log ADD COLUMN role TEXT;
ALTER TABLE audit_log ADD COLUMN regions TEXT;
CREATE INDEX audit_log_by_actor ON audit_log (actor, at);
