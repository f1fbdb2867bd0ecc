-- The PostgreSQL backend's queries, one per name (see store/queries.py); $n are asyncpg
-- parameters. Queries whose WHERE clause depends on which filters a call gives (event and run
-- pages, waits, subscriptions) are composed in Python from the same columns. Every claim locks
-- the rows it takes with FOR UPDATE SKIP LOCKED, so concurrent claims of several processes
-- divide the rows between them without waiting for each other.

-- name: latest_workflow
SELECT * FROM workflows WHERE id = $1 ORDER BY revision DESC LIMIT 1;

-- name: workflow_revision
SELECT * FROM workflows WHERE id = $1 AND revision = $2;

-- name: insert_workflow
INSERT INTO workflows (id, revision, namespace, name, version, media_type, document,
                       definition, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
RETURNING *;

-- name: latest_workflows
SELECT * FROM (SELECT DISTINCT ON (id) * FROM workflows ORDER BY id, revision DESC) latest
ORDER BY namespace, name, id;

-- name: workflow_named
SELECT id FROM workflows w
WHERE namespace = $1 AND name = $2
  AND revision = (SELECT max(revision) FROM workflows WHERE id = w.id)
ORDER BY id LIMIT 1;

-- name: workflow_versions
SELECT * FROM workflows WHERE id = $1 ORDER BY revision;

-- name: delete_workflow
WITH gone AS (DELETE FROM workflows WHERE id = $1 RETURNING 1),
     schedules_gone AS (DELETE FROM schedules WHERE workflow_id = $1),
     subscriptions_gone AS (DELETE FROM subscriptions WHERE emitter_id = $1 OR listener_id = $1)
SELECT count(*) FROM gone;

-- name: put_subscription
-- One statement: a new triple is inserted; a triple that exists (or that a concurrent put
-- inserted first) keeps its row, id and creation time, and takes the new filters.
INSERT INTO subscriptions (id, emitter_id, event_name, listener_id, filters, created_at)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (emitter_id, event_name, listener_id) DO UPDATE SET filters = excluded.filters
RETURNING *;

-- name: delete_subscription
DELETE FROM subscriptions WHERE emitter_id = $1 AND event_name = $2 AND listener_id = $3;

-- name: match_subscriptions
SELECT * FROM subscriptions WHERE emitter_id = ANY($1::text[]) AND event_name = $2 ORDER BY seq;

-- name: put_schedule
INSERT INTO schedules (workflow_id, kind, spec, next_due_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (workflow_id, kind) DO UPDATE SET spec = excluded.spec,
    next_due_at = excluded.next_due_at, lease_until = NULL;

-- name: claim_schedules
-- Each due schedule goes to one claimer per tick: it stays leased until put again.
UPDATE schedules s SET lease_until = $1
FROM (SELECT workflow_id, kind FROM schedules
      WHERE next_due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
      ORDER BY next_due_at, workflow_id, kind LIMIT $3
      FOR UPDATE SKIP LOCKED) due
WHERE s.workflow_id = due.workflow_id AND s.kind = due.kind
RETURNING s.*;

-- name: create_runs
-- Several runs in one statement (one round trip, its own transaction), created in the order
-- given (seq follows n). A run with a dedupe key is created only if its key goes into
-- run_starts: the first to insert a key creates the run, a concurrent one waits for it on the
-- primary key and then inserts nothing. The answer: the runs created; one not created (its key
-- was taken) is looked up after, with started_run.
WITH given AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[],
                         $7::text[], $8::int[], $9::text[], $10::bigint[], $11::text[],
                         $12::text[]) WITH ORDINALITY
         AS g (id, workflow_id, workflow_revision, status, input, context, trigger, hops,
               lease_owner, lease_until, key_source, key_event_id, n)
), starts AS (
    INSERT INTO run_starts (workflow_id, source, event_id, run_id)
    SELECT workflow_id, key_source, key_event_id, id FROM given
    WHERE key_source IS NOT NULL ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING run_id
)
INSERT INTO runs (id, workflow_id, workflow_revision, status, input, context, trigger, hops,
                  created_at, lease_owner, lease_until)
SELECT id, workflow_id, workflow_revision, status, input, context, trigger, hops, $13,
       lease_owner, lease_until
FROM given
WHERE key_source IS NULL OR id IN (SELECT run_id FROM starts)
ORDER BY n
RETURNING *;

-- name: started_run
SELECT runs.* FROM run_starts JOIN runs ON runs.id = run_starts.run_id
WHERE run_starts.workflow_id = $1 AND run_starts.source = $2 AND run_starts.event_id = $3;

-- name: started_runs
SELECT k.workflow_id AS key_workflow_id, k.source AS key_source, k.event_id AS key_event_id,
       runs.*
FROM unnest($1::text[], $2::text[], $3::text[]) AS k (workflow_id, source, event_id)
JOIN run_starts s ON s.workflow_id = k.workflow_id AND s.source = k.source
                 AND s.event_id = k.event_id
JOIN runs ON runs.id = s.run_id;

-- name: get_run
SELECT * FROM runs WHERE id = $1;

-- name: run_exists
SELECT 1 FROM runs WHERE id = $1;

-- name: lock_run_lease
-- A fenced commit's check: the run's lease holder ('' for none), the row locked to the commit.
SELECT coalesce(lease_owner, '') FROM runs WHERE id = $1 FOR UPDATE;

-- name: run_seq
SELECT seq FROM runs WHERE id = $1;

-- name: runs_in_flight
SELECT * FROM runs WHERE status IN ('pending', 'running') ORDER BY seq;

-- name: claim_runs
-- In-flight runs whose lease is free or over, oldest first; rows another claimer holds are
-- skipped, so concurrent claims never return the same run.
UPDATE runs r SET lease_owner = $1, lease_until = $2
FROM (SELECT seq FROM runs
      WHERE status IN ('pending', 'running') AND (lease_until IS NULL OR lease_until <= $3)
      ORDER BY seq LIMIT $4
      FOR UPDATE SKIP LOCKED) free
WHERE r.seq = free.seq
RETURNING r.*;

-- name: renew_runs
UPDATE runs SET lease_until = $1
WHERE id = ANY($2::text[]) AND lease_owner = $3 AND status IN ('pending', 'running')
RETURNING id;

-- name: update_run
UPDATE runs SET status = $1, input = $2, output = $3, error = $4, context = $5, trigger = $6,
                hops = $7, started_at = $8, ended_at = $9
WHERE id = $10
RETURNING seq;

-- name: end_fresh_run
-- The end of a run that has no task, batch or wait row (see store/bare.py), in one statement
-- (one round trip, its own transaction): the run's row locked, its lease holder compared with
-- the committer's ($11; NULL: not fenced), and only if they agree the run updated and its
-- task batches inserted. The answer: the holder ('' for none; no row when the run does not
-- exist) and whether the run was written.
WITH fence AS (
    SELECT coalesce(lease_owner, '') AS holder FROM runs WHERE id = $10 FOR UPDATE
), moved AS (
    UPDATE runs SET status = $1, input = $2, output = $3, error = $4, context = $5, trigger = $6,
                    hops = $7, started_at = $8, ended_at = $9
    WHERE id = $10 AND ($11::text IS NULL OR (SELECT holder FROM fence) = $11)
    RETURNING seq
), batches AS (
    INSERT INTO task_batches (run_id, first_sequence, records)
    SELECT $10, first, records FROM unnest($12::int[], $13::text[]) AS b (first, records)
    WHERE EXISTS (SELECT 1 FROM moved)
)
SELECT holder, EXISTS (SELECT 1 FROM moved) AS moved FROM fence;

-- name: task_rows
SELECT * FROM tasks WHERE run_id = $1 ORDER BY sequence;

-- name: task_batches
SELECT records FROM task_batches WHERE run_id = $1 ORDER BY first_sequence;

-- name: delete_tasks
DELETE FROM tasks WHERE run_id = $1;

-- name: delete_task_batches
DELETE FROM task_batches WHERE run_id = $1;

-- name: insert_task_batches
INSERT INTO task_batches (run_id, first_sequence, records)
SELECT $1, first, records FROM unnest($2::int[], $3::text[]) AS b (first, records);

-- name: upsert_task
INSERT INTO tasks (run_id, sequence, reference, name, status, input, output, error, emits, log,
                   started_at, ended_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT (run_id, sequence) DO UPDATE SET
    reference = excluded.reference, name = excluded.name, status = excluded.status,
    input = excluded.input, output = excluded.output, error = excluded.error,
    emits = excluded.emits, log = excluded.log, started_at = excluded.started_at,
    ended_at = excluded.ended_at;

-- name: upsert_wait
-- Upsert, not delete and insert: the row keeps its seq, so waits stay in the order first put.
INSERT INTO waits (run_id, reference, workflow_id, state, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run_id, reference) DO UPDATE SET
    workflow_id = excluded.workflow_id, state = excluded.state,
    expires_at = excluded.expires_at, lease_until = NULL;

-- name: delete_waits_of_run
DELETE FROM waits WHERE run_id = $1;

-- name: delete_wait
DELETE FROM waits WHERE run_id = $1 AND reference = $2;

-- name: claim_waits
UPDATE waits w SET lease_until = $1
FROM (SELECT seq FROM waits
      WHERE expires_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
      ORDER BY expires_at, seq LIMIT $3
      FOR UPDATE SKIP LOCKED) due
WHERE w.seq = due.seq
RETURNING w.*;

-- name: lock_positions
-- Taken by every append (and delete) until it commits: appends run one at a time, so they
-- commit in position order and a reader never sees a position appear behind one it has read.
SELECT value FROM store_meta WHERE key = 'last_position' FOR UPDATE;

-- name: append_events
-- One statement, so one round trip and its own transaction: it locks the last position (held
-- to its commit, so appends commit in position order), numbers the events after it, never
-- below the floor $1 (the n-th gets greatest(floor + n - 1, last + n): each one more than the
-- one before, and at least the floor), inserts them and writes the last position back. A
-- duplicate (emitter, source, id) is skipped and its position left unused. The answer: the
-- last position before, and the positions inserted.
WITH last AS (
    SELECT value FROM store_meta WHERE key = 'last_position' FOR UPDATE
), given AS (
    SELECT greatest($1::bigint + g.n - 1, last.value + g.n) AS pos, g.*
    FROM last, unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                      $8::text[], $9::text[]) WITH ORDINALITY
         AS g (emitter_id, channel, source, event_id, type, subject, event, metadata, n)
), moved AS (
    UPDATE store_meta SET value = (SELECT max(pos) FROM given) WHERE key = 'last_position'
), inserted AS (
    INSERT INTO events (pos, emitter_id, channel, source, event_id, type, subject, event,
                        metadata)
    SELECT pos, emitter_id, channel, source, event_id, type, subject, event, metadata
    FROM given ORDER BY n
    ON CONFLICT (emitter_id, source, event_id) DO NOTHING
    RETURNING pos
)
SELECT (SELECT value FROM last) AS last, array(SELECT pos FROM inserted) AS inserted;

-- name: existing_event
SELECT * FROM events WHERE emitter_id = $1 AND source = $2 AND event_id = $3;

-- name: delete_events_before
DELETE FROM events WHERE pos < $1;

-- name: long_streams
SELECT emitter_id, channel FROM event_counts WHERE n > $1 ORDER BY emitter_id, channel;

-- name: delete_stream
DELETE FROM events WHERE emitter_id = $1 AND channel = $2;

-- name: trim_stream
-- Everything older than the ($3 + 1)-th newest event of the stream.
DELETE FROM events WHERE emitter_id = $1 AND channel = $2 AND pos < (
    SELECT pos FROM events WHERE emitter_id = $1 AND channel = $2
    ORDER BY pos DESC LIMIT 1 OFFSET $3);

-- name: insert_outbox
-- Ids come from the sequence in row order, so sorted ids follow the rows given.
INSERT INTO outbox (emitter_id, channel, event, metadata, created_at)
SELECT emitter_id, channel, event, metadata, $5
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY
     AS o (emitter_id, channel, event, metadata, n)
ORDER BY n
RETURNING id;

-- name: claim_outbox
-- Committed without waiting for the WAL flush (set_config(…, true): this statement's own
-- transaction only): a claim lost with a server crash leaves the row to be claimed again, and
-- the dispatcher's work is redone safely (appends dedupe, listener starts dedupe).
UPDATE outbox o SET attempts = o.attempts + 1, lease_until = $1
FROM (SELECT id FROM outbox WHERE lease_until IS NULL OR lease_until <= $2
      ORDER BY id LIMIT $3
      FOR UPDATE SKIP LOCKED) free
WHERE o.id = free.id AND set_config('synchronous_commit', 'off', true) IS NOT NULL
RETURNING o.*;

-- name: mark_outbox_done
-- Not waiting for the WAL flush either: a removal lost with a server crash only routes the
-- row again.
DELETE FROM outbox
WHERE id = ANY($1::bigint[]) AND set_config('synchronous_commit', 'off', true) IS NOT NULL;

-- name: put_webhook
INSERT INTO webhooks (id, url, name, mode, state, failures, last_error, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (id) DO UPDATE SET url = excluded.url, name = excluded.name, mode = excluded.mode,
    state = excluded.state, failures = excluded.failures, last_error = excluded.last_error,
    updated_at = excluded.updated_at;

-- name: get_webhook
SELECT * FROM webhooks WHERE id = $1;

-- name: list_webhooks
SELECT * FROM webhooks ORDER BY created_at, id;

-- name: delete_webhook
WITH gone AS (DELETE FROM webhooks WHERE id = $1 RETURNING id),
     subscriptions_gone AS (DELETE FROM subscriptions WHERE listener_id IN (SELECT id FROM gone)),
     deliveries_gone AS (DELETE FROM webhook_deliveries
                         WHERE webhook_id IN (SELECT id FROM gone))
SELECT count(*) FROM gone;

-- name: add_deliveries
-- In queue order; an event already queued for a webhook is not queued again.
INSERT INTO webhook_deliveries
    (webhook_id, event_source, event_id, position, event, status, attempts, next_attempt_at)
SELECT webhook_id, source, event_id, position, event, 'pending', 0, $6
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY
     AS d (webhook_id, source, event_id, position, event, n)
ORDER BY n
ON CONFLICT (webhook_id, event_source, event_id) DO NOTHING;

-- name: claim_deliveries
UPDATE webhook_deliveries d SET next_attempt_at = $1
FROM (SELECT id, next_attempt_at AS was FROM webhook_deliveries
      WHERE status = 'pending' AND next_attempt_at <= $2
      ORDER BY next_attempt_at, id LIMIT $3
      FOR UPDATE SKIP LOCKED) due
WHERE d.id = due.id
RETURNING d.*, due.was;

-- name: claim_deliveries_of
UPDATE webhook_deliveries d SET next_attempt_at = $1
FROM (SELECT id, next_attempt_at AS was FROM webhook_deliveries
      WHERE webhook_id = $4 AND status = 'pending' AND next_attempt_at <= $2
      ORDER BY next_attempt_at, id LIMIT $3
      FOR UPDATE SKIP LOCKED) due
WHERE d.id = due.id
RETURNING d.*, due.was;

-- name: head_of_deliveries
-- The head of a webhook's queue, locked and waited for (not skipped): an in-order claim must
-- not take a later delivery while another claimer holds an earlier one.
SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND status = 'pending'
ORDER BY id LIMIT $2
FOR UPDATE;

-- name: lease_deliveries
UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = ANY($2::bigint[]);

-- name: due_webhook_ids
SELECT DISTINCT webhook_id FROM webhook_deliveries
WHERE status = 'pending' AND next_attempt_at <= $1 ORDER BY webhook_id;

-- name: finish_deliveries
UPDATE webhook_deliveries d SET status = f.status, attempts = f.attempts,
    next_attempt_at = f.next_attempt_at, last_error = f.last_error
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::bigint[], $5::text[])
     AS f (id, status, attempts, next_attempt_at, last_error)
WHERE d.id = f.id;

-- name: list_deliveries
SELECT * FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2;

-- name: list_deliveries_of_status
SELECT * FROM webhook_deliveries WHERE webhook_id = $1 AND status = $2 ORDER BY id DESC LIMIT $3;

-- name: insert_token
INSERT INTO tokens (id, name, scopes, digest, created_at, resources, last_used_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: find_token
SELECT * FROM tokens WHERE digest = $1;

-- name: list_tokens
SELECT * FROM tokens ORDER BY created_at, id;

-- name: delete_token
DELETE FROM tokens WHERE id = $1;

-- name: touch_token
UPDATE tokens SET last_used_at = $1 WHERE id = $2;

-- name: put_secret
INSERT INTO secrets (name, sealed, updated_at) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at;

-- name: list_secrets
SELECT name, sealed FROM secrets ORDER BY name;

-- name: delete_secret
DELETE FROM secrets WHERE name = $1;

-- name: list_schedules
SELECT * FROM schedules ORDER BY workflow_id, kind;

-- name: schedules_of
SELECT * FROM schedules WHERE workflow_id = $1 ORDER BY kind;

-- name: delete_schedules
DELETE FROM schedules WHERE workflow_id = $1;

-- name: delete_schedule_kind
DELETE FROM schedules WHERE workflow_id = $1 AND kind = $2;

-- name: lock_workflow
-- Versions of one workflow are numbered one at a time, whichever process deploys them.
SELECT pg_advisory_xact_lock(hashtext('emitflow.workflow.' || $1));

-- name: change_channel
-- The NOTIFY channel of the schema the connection works in (see emitflow_notify, 0001).
SELECT left('emitflow.' || current_schema(), 63);

-- name: migration_lock_key
-- One key per schema: processes migrating other schemas of the database do not wait.
SELECT hashtext('emitflow.migrate.' || current_schema())::bigint;

-- name: lock_migrations
SELECT pg_advisory_lock($1);

-- name: unlock_migrations
SELECT pg_advisory_unlock($1);

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at BIGINT  NOT NULL
);

-- name: schema_version
SELECT coalesce(max(version), 0) FROM schema_migrations;

-- name: record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3);
