-- The event log and the outbox of the SQLite backend (see queries_runs.sql for the conventions).

-- name: last_position
-- Positions are given out after the newest stored event and after any deleted one
-- (store_meta): this is the last one given out. A write transaction holds the database, so it
-- stays true until the INSERT that follows in the same operation.
SELECT max(coalesce((SELECT max(pos) FROM events), 0),
           (SELECT value FROM store_meta WHERE key = 'last_position'));

-- name: append_event
-- A duplicate is skipped, and its position left unused (positions need not be consecutive).
INSERT INTO events (pos, emitter_id, channel, source, event_id, type, subject, event, metadata)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (emitter_id, source, event_id) DO NOTHING;

-- name: inserted_since
SELECT pos FROM events WHERE pos >= ?;

-- name: existing_event
SELECT * FROM events WHERE emitter_id = ? AND source = ? AND event_id = ?;

-- name: keep_high_water
-- Before deleting events, remember the newest position so that it is never given out again.
UPDATE store_meta SET value = max(value, coalesce((SELECT max(pos) FROM events), 0))
WHERE key = 'last_position';

-- name: count_events
-- Kept by triggers on events: a page never counts rows.
SELECT sum(n) FROM event_counts WHERE emitter_id = ?;

-- name: count_channel_events
SELECT sum(n) FROM event_counts WHERE emitter_id = ? AND channel = ?;

-- name: delete_events_before
DELETE FROM events WHERE pos < ?;

-- name: long_streams
SELECT emitter_id, channel FROM event_counts WHERE n > ?;

-- name: delete_stream
DELETE FROM events WHERE emitter_id = ? AND channel = ?;

-- name: trim_stream
-- Everything older than the keep-th newest event of the stream.
DELETE FROM events WHERE emitter_id = ?1 AND channel = ?2 AND pos < (
    SELECT pos FROM events WHERE emitter_id = ?1 AND channel = ?2
    ORDER BY pos DESC LIMIT 1 OFFSET ?3);

-- name: insert_outbox
INSERT INTO outbox (emitter_id, channel, event, metadata, created_at) VALUES (?, ?, ?, ?, ?);

-- name: last_insert_rowid
SELECT last_insert_rowid();

-- name: claim_outbox
UPDATE outbox SET attempts = attempts + 1, lease_until = ?1
WHERE id IN (
    SELECT id FROM outbox WHERE lease_until IS NULL OR lease_until <= ?2 ORDER BY id LIMIT ?3)
RETURNING *;
