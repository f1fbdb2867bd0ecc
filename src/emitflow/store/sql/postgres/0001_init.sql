-- 0001: the emitflow store on PostgreSQL, in the schema first on the connection's search_path.
-- The columns are those of the SQLite schema (store/sql/sqlite), so a record's row codec can be
-- shared: times are BIGINT microseconds since the epoch (UTC), JSON values are TEXT (NULL for
-- null), an event position is one BIGINT (epoch_ms << 20 | seq, see store/codec.py). JSON stays
-- TEXT, not JSONB: the store never queries inside a JSON value, TEXT gives back the text
-- written (JSONB reorders keys), and JSONB measured slower to write and to read (BENCHMARKS.md).

-- The last event position given out: the append transaction locks this row, allocates its
-- positions after it and writes the last one back, so appends commit in position order.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('last_position', 0);

CREATE TABLE workflows (
    id         TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    namespace  TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    version    TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    document   TEXT    NOT NULL,
    definition TEXT,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (id, revision)
);

-- seq is the creation order, which the newest-first listing walks.
CREATE TABLE runs (
    seq               BIGSERIAL PRIMARY KEY,
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
    created_at        BIGINT  NOT NULL,
    started_at        BIGINT,
    ended_at          BIGINT,
    lease_owner       TEXT,
    lease_until       BIGINT
);
CREATE INDEX runs_by_workflow ON runs (workflow_id, seq);
-- Only the runs in flight are in this index: claim_runs and list_runs_in_flight scan it.
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
    started_at BIGINT,
    ended_at   BIGINT,
    PRIMARY KEY (run_id, sequence)
);

-- Task records many to a row (see store/sqlite/task_batches.py): a run's whole list at its end.
CREATE TABLE task_batches (
    run_id         TEXT    NOT NULL,
    first_sequence INTEGER NOT NULL,
    records        TEXT    NOT NULL,
    PRIMARY KEY (run_id, first_sequence)
);

-- Listener-start dedupe: a workflow starts one run per CloudEvent (source, id), across every
-- process, by this primary key and INSERT … ON CONFLICT DO NOTHING (never check-then-insert).
CREATE TABLE run_starts (
    workflow_id TEXT NOT NULL,
    source      TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    PRIMARY KEY (workflow_id, source, event_id)
);

CREATE TABLE events (
    pos        BIGINT PRIMARY KEY,
    emitter_id TEXT NOT NULL,
    channel    TEXT NOT NULL,
    source     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    type       TEXT NOT NULL,
    subject    TEXT,
    event      TEXT NOT NULL,
    metadata   TEXT NOT NULL
);
CREATE UNIQUE INDEX events_dedupe ON events (emitter_id, source, event_id);
CREATE INDEX events_by_emitter ON events (emitter_id, pos);
CREATE INDEX events_by_channel ON events (emitter_id, channel, pos);
CREATE INDEX events_by_type ON events (type, pos);
CREATE INDEX events_by_source ON events (source, pos);
CREATE INDEX events_by_subject ON events (subject, pos) WHERE subject IS NOT NULL;

-- Per-stream totals, kept by statement-level triggers (one upsert per stream and statement).
CREATE TABLE event_counts (
    emitter_id TEXT   NOT NULL,
    channel    TEXT   NOT NULL,
    n          BIGINT NOT NULL,
    PRIMARY KEY (emitter_id, channel)
);

CREATE FUNCTION emitflow_events_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_counts (emitter_id, channel, n)
    SELECT emitter_id, channel, count(*) FROM new_rows GROUP BY emitter_id, channel
    ORDER BY emitter_id, channel
    ON CONFLICT (emitter_id, channel) DO UPDATE SET n = event_counts.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION emitflow_events_uncounted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_counts c SET n = c.n - gone.n
    FROM (SELECT emitter_id, channel, count(*) AS n FROM old_rows
          GROUP BY emitter_id, channel) gone
    WHERE c.emitter_id = gone.emitter_id AND c.channel = gone.channel;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_counted AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_events_counted();
CREATE TRIGGER events_uncounted AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_events_uncounted();

-- Ids come from a sequence: never reused, so a late mark_done cannot hit a newer row.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    emitter_id  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    metadata    TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_until BIGINT
);

CREATE TABLE subscriptions (
    seq         BIGSERIAL PRIMARY KEY,
    id          TEXT   NOT NULL UNIQUE,
    emitter_id  TEXT   NOT NULL,
    listener_id TEXT   NOT NULL,
    event_name  TEXT   NOT NULL,
    filters     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (emitter_id, event_name, listener_id)
);
CREATE INDEX subscriptions_by_listener ON subscriptions (listener_id);

CREATE TABLE waits (
    seq         BIGSERIAL PRIMARY KEY,
    run_id      TEXT NOT NULL,
    reference   TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    state       TEXT,
    expires_at  BIGINT,
    lease_until BIGINT,
    UNIQUE (run_id, reference)
);
CREATE INDEX waits_by_workflow ON waits (workflow_id);
CREATE INDEX waits_by_expiry ON waits (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE schedules (
    workflow_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    spec        TEXT,
    next_due_at BIGINT,
    lease_until BIGINT,
    PRIMARY KEY (workflow_id, kind)
);
CREATE INDEX schedules_by_due ON schedules (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE tokens (
    id           TEXT   PRIMARY KEY,
    name         TEXT   NOT NULL,
    scopes       TEXT   NOT NULL,
    digest       TEXT   NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    resources    TEXT   NOT NULL DEFAULT '[]',
    last_used_at BIGINT
);

CREATE TABLE webhooks (
    id         TEXT    PRIMARY KEY,
    url        TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    mode       TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    failures   INTEGER NOT NULL,
    last_error TEXT,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- next_attempt_at is also the lease of a claimed delivery.
CREATE TABLE webhook_deliveries (
    id              BIGSERIAL PRIMARY KEY,
    webhook_id      TEXT    NOT NULL,
    event_source    TEXT    NOT NULL,
    event_id        TEXT    NOT NULL,
    position        TEXT    NOT NULL,
    event           TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at BIGINT  NOT NULL,
    last_error      TEXT,
    UNIQUE (webhook_id, event_source, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at, id)
    WHERE status = 'pending';
CREATE INDEX webhook_deliveries_of ON webhook_deliveries (webhook_id, id);

CREATE TABLE secrets (
    name       TEXT   PRIMARY KEY,
    sealed     TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Change reports for other processes (ChangeFeed.on_change): a NOTIFY per statement and topic
-- (per row for runs), on the channel of this schema ('emitflow.<schema>'). NOTIFY folds the
-- identical notifications of one transaction into one, and delivers them at commit.
CREATE FUNCTION emitflow_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(left('emitflow.' || current_schema(), 63), TG_ARGV[0]);
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_notify('outbox');
-- Only runs created free are news: a run created leased is executed by its creator.
CREATE TRIGGER runs_notify AFTER INSERT ON runs
    FOR EACH ROW WHEN (NEW.lease_owner IS NULL) EXECUTE FUNCTION emitflow_notify('runs');
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_notify('events');
CREATE TRIGGER waits_notify AFTER INSERT ON waits
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_notify('waits');
CREATE TRIGGER schedules_notify AFTER INSERT ON schedules
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_notify('schedules');
CREATE TRIGGER deliveries_notify AFTER INSERT ON webhook_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION emitflow_notify('deliveries');
