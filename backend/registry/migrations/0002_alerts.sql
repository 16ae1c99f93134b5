-- Alerts: one row per condition episode (raised .. cleared), and an outbox of notifications.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    site        TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL,
    message_ja  TEXT NOT NULL,
    message_en  TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}',
    raised_at   TEXT NOT NULL,
    cleared_at  TEXT
);
-- At most one open alert per (rule, subject): the deduplication key.
CREATE UNIQUE INDEX alerts_open ON alerts(rule, subject) WHERE cleared_at IS NULL;
CREATE INDEX alerts_raised ON alerts(raised_at);

CREATE TABLE deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id      INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    event         TEXT NOT NULL CHECK (event IN ('raised','cleared')),
    sender        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending','sent','failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    sent_at       TEXT
);
CREATE INDEX deliveries_pending ON deliveries(status);
