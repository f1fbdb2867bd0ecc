-- 0001: the first schema of the emitflow store.
-- Times are integer microseconds since the epoch (UTC); JSON values are TEXT (NULL for null).

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- The highest event position given out before events were deleted: positions never repeat,
-- even when the newest events are gone (the live maximum is max(events.pos)).
INSERT INTO store_meta (key, value) VALUES ('last_position', 0);

-- Workflows: one row per version; the id (p_…) is kept across versions.
CREATE TABLE workflows (
    id         TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    namespace  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    definition TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (id, revision)
);

-- Runs: seq is the creation order, which the newest-first listing walks.
CREATE TABLE runs (
    seq               INTEGER PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    workflow_id       TEXT    NOT NULL,
    workflow_revision INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    input             TEXT,
    output            TEXT,
    error             TEXT,
    context           TEXT,
    trigger           TEXT,
    hops              INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    ended_at          INTEGER
);
CREATE INDEX runs_by_workflow ON runs (workflow_id, seq);
-- Only the few runs in flight are in this index, so status changes of finished runs skip it.
CREATE INDEX runs_in_flight ON runs (seq) WHERE status IN ('pending', 'running');

CREATE TABLE tasks (
    run_id     TEXT    NOT NULL,
    sequence   INTEGER NOT NULL,
    reference  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    input      TEXT,
    output     TEXT,
    error      TEXT,
    emits      TEXT    NOT NULL,
    log        TEXT,
    started_at INTEGER,
    ended_at   INTEGER,
    PRIMARY KEY (run_id, sequence)
);

-- Listener-start dedupe: a workflow starts one run per CloudEvent (source, id).
CREATE TABLE run_starts (
    workflow_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    PRIMARY KEY (workflow_id, source, event_id)
) WITHOUT ROWID;

-- The event log. pos is the position "<epoch_ms>-<seq>" as epoch_ms << 20 | seq: the table is
-- stored in position order, so time ranges are rowid range scans.
CREATE TABLE events (
    pos        INTEGER PRIMARY KEY,
    emitter_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    source     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    subject    TEXT,
    event      TEXT NOT NULL,
    metadata   TEXT NOT NULL
);
-- Each event is stored once per (emitter, CloudEvent source, id): redelivery is harmless.
CREATE UNIQUE INDEX events_dedupe ON events (emitter_id, source, event_id);
-- A page of one emitter (all channels, or one channel) is a range scan of one of these.
CREATE INDEX events_by_emitter ON events (emitter_id, pos);
CREATE INDEX events_by_channel ON events (emitter_id, channel, pos);
-- Queries across emitters.
CREATE INDEX events_by_type ON events (type, pos);
CREATE INDEX events_by_source ON events (source, pos);
CREATE INDEX events_by_subject ON events (subject, pos) WHERE subject IS NOT NULL;

-- Per-stream totals, kept by triggers, so page_info.total_count never counts rows.
CREATE TABLE event_counts (
    emitter_id TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (emitter_id, channel)
) WITHOUT ROWID;

CREATE TRIGGER events_counted AFTER INSERT ON events
BEGIN
    INSERT INTO event_counts (emitter_id, channel, n) VALUES (NEW.emitter_id, NEW.channel, 1)
    ON CONFLICT (emitter_id, channel) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER events_uncounted AFTER DELETE ON events
BEGIN
    UPDATE event_counts SET n = n - 1
    WHERE emitter_id = OLD.emitter_id AND channel = OLD.channel;
END;

-- The outbox. AUTOINCREMENT: ids are never reused, so a late mark_done cannot hit a newer row.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    emitter_id  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER
);

CREATE TABLE subscriptions (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    emitter_id  TEXT    NOT NULL,
    listener_id TEXT    NOT NULL,
    event_name  TEXT    NOT NULL,
    filters     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (emitter_id, event_name, listener_id)
);
CREATE INDEX subscriptions_by_listener ON subscriptions (listener_id);

CREATE TABLE waits (
    seq         INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL,
    reference   TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    state       TEXT,
    expires_at  INTEGER,
    lease_until INTEGER,
    UNIQUE (run_id, reference)
);
CREATE INDEX waits_by_workflow ON waits (workflow_id);
CREATE INDEX waits_by_expiry ON waits (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE schedules (
    workflow_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    spec        TEXT,
    next_due_at INTEGER,
    lease_until INTEGER,
    PRIMARY KEY (workflow_id, kind)
);
CREATE INDEX schedules_by_due ON schedules (next_due_at) WHERE next_due_at IS NOT NULL;
