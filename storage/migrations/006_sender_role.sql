-- Which instance holds the sender role, and since when, for `civicpulse status`.
-- The role itself is a lock the database or the kernel keeps (storage/coordination.py):
-- this row only says who took it last, so it is written once per taking, never renewed.
CREATE TABLE sender_role (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    instance TEXT NOT NULL,
    since TEXT NOT NULL
);
