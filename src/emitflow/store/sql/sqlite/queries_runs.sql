-- Runs, task records and waits of the SQLite backend, one query per name (see store/queries.py);
-- ? and ?n are sqlite3 parameters. The literal IN list ('pending', 'running') is the one of the
-- partial index runs_in_flight, so the index serves the queries that repeat it. Queries whose
-- shape depends on the call (run pages, IN lists of n ids, optional filters) are composed in
-- store/sqlite/statements.py.

-- name: insert_run
INSERT INTO runs (id, workflow_id, workflow_revision, status, input, context, trigger, hops,
                  created_at, lease_owner, lease_until)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: insert_run_start
INSERT INTO run_starts (workflow_id, source, event_id, run_id) VALUES (?, ?, ?, ?);

-- name: started_run
SELECT runs.* FROM run_starts JOIN runs ON runs.id = run_starts.run_id
WHERE run_starts.workflow_id = ? AND source = ? AND event_id = ?;

-- name: get_run
SELECT * FROM runs WHERE id = ?;

-- name: run_exists
SELECT 1 FROM runs WHERE id = ?;

-- name: run_lease
-- A fenced commit's check: the run's lease holder ('' for none).
SELECT coalesce(lease_owner, '') FROM runs WHERE id = ?;

-- name: run_seq
SELECT seq FROM runs WHERE id = ?;

-- name: runs_in_flight
SELECT * FROM runs WHERE status IN ('pending', 'running') ORDER BY seq;

-- name: claim_runs
-- In-flight runs whose lease is free or over, oldest first.
UPDATE runs SET lease_owner = ?1, lease_until = ?2
WHERE seq IN (
    SELECT seq FROM runs
    WHERE status IN ('pending', 'running') AND (lease_until IS NULL OR lease_until <= ?3)
    ORDER BY seq LIMIT ?4)
RETURNING *;

-- name: update_run
UPDATE runs SET status = ?, input = ?, output = ?, error = ?, context = ?, trigger = ?, hops = ?,
                started_at = ?, ended_at = ?
WHERE id = ?
RETURNING seq;

-- name: task_rows
SELECT * FROM tasks WHERE run_id = ? ORDER BY sequence;

-- name: task_batches
SELECT records FROM task_batches WHERE run_id = ? ORDER BY first_sequence;

-- name: delete_tasks
DELETE FROM tasks WHERE run_id = ?;

-- name: delete_task_batches
DELETE FROM task_batches WHERE run_id = ?;

-- name: insert_task_batch
INSERT INTO task_batches (run_id, first_sequence, records) VALUES (?, ?, ?);

-- name: upsert_task
INSERT INTO tasks (run_id, sequence, reference, name, status, input, output, error, emits, log,
                   started_at, ended_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (run_id, sequence) DO UPDATE SET
    reference = excluded.reference, name = excluded.name, status = excluded.status,
    input = excluded.input, output = excluded.output, error = excluded.error,
    emits = excluded.emits, log = excluded.log, started_at = excluded.started_at,
    ended_at = excluded.ended_at;

-- name: upsert_wait
-- Upsert, not REPLACE: the row keeps its seq, so waits stay in the order first put.
INSERT INTO waits (run_id, reference, workflow_id, state, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (run_id, reference) DO UPDATE SET
    workflow_id = excluded.workflow_id, state = excluded.state,
    expires_at = excluded.expires_at, lease_until = NULL;

-- name: delete_waits_of_run
DELETE FROM waits WHERE run_id = ?;

-- name: delete_wait
DELETE FROM waits WHERE run_id = ? AND reference = ?;

-- name: claim_waits
UPDATE waits SET lease_until = ?1
WHERE seq IN (
    SELECT seq FROM waits
    WHERE expires_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)
    ORDER BY expires_at, seq LIMIT ?3)
RETURNING *;
