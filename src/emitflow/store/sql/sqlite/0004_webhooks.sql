-- 0004: webhook listeners (wh_…) and the deliveries of events to them. A delivery is pending
-- until a POST succeeds (delivered) or its last attempt fails (dead: the dead-letter record).
-- next_attempt_at is also the lease of a claimed delivery.
CREATE TABLE webhooks (
    id          TEXT    PRIMARY KEY,
    url         TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    mode        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    failures    INTEGER NOT NULL,
    last_error  TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       TEXT    NOT NULL,
    event_source     TEXT    NOT NULL,
    event_id         TEXT    NOT NULL,
    position         TEXT    NOT NULL,
    event            TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    attempts         INTEGER NOT NULL,
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    UNIQUE (webhook_id, event_source, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, id);
