-- Workflows, subscriptions and schedules of the SQLite backend (conventions: queries_runs.sql).

-- name: latest_workflow
SELECT * FROM workflows WHERE id = ? ORDER BY revision DESC LIMIT 1;

-- name: workflow_revision
SELECT * FROM workflows WHERE id = ? AND revision = ?;

-- name: insert_workflow
INSERT INTO workflows (id, revision, namespace, name, version, media_type, document,
                       definition, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: latest_workflows
SELECT * FROM workflows w
WHERE revision = (SELECT max(revision) FROM workflows WHERE id = w.id)
ORDER BY namespace, name, id;

-- name: workflow_named
SELECT id FROM workflows w
WHERE namespace = ? AND name = ?
  AND revision = (SELECT max(revision) FROM workflows WHERE id = w.id)
ORDER BY id LIMIT 1;

-- name: workflow_versions
SELECT * FROM workflows WHERE id = ? ORDER BY revision;

-- name: delete_workflow
DELETE FROM workflows WHERE id = ?;

-- name: delete_workflow_schedules
DELETE FROM schedules WHERE workflow_id = ?;

-- name: delete_workflow_subscriptions
DELETE FROM subscriptions WHERE emitter_id = ?1 OR listener_id = ?1;

-- name: update_subscription
UPDATE subscriptions SET filters = ?
WHERE emitter_id = ? AND event_name = ? AND listener_id = ?
RETURNING *;

-- name: insert_subscription
INSERT INTO subscriptions (id, emitter_id, event_name, listener_id, filters, created_at)
VALUES (?, ?, ?, ?, ?, ?)
RETURNING *;

-- name: delete_subscription
DELETE FROM subscriptions WHERE emitter_id = ? AND event_name = ? AND listener_id = ?;

-- name: put_schedule
INSERT INTO schedules (workflow_id, kind, spec, next_due_at) VALUES (?, ?, ?, ?)
ON CONFLICT (workflow_id, kind) DO UPDATE SET spec = excluded.spec,
    next_due_at = excluded.next_due_at, lease_until = NULL;

-- name: list_schedules
SELECT * FROM schedules ORDER BY workflow_id, kind;

-- name: schedules_of
SELECT * FROM schedules WHERE workflow_id = ? ORDER BY workflow_id, kind;

-- name: delete_schedules
DELETE FROM schedules WHERE workflow_id = ?;

-- name: delete_schedule_kind
DELETE FROM schedules WHERE workflow_id = ? AND kind = ?;

-- name: claim_schedules
-- Each due schedule goes to one claimer per tick: it stays leased until put again.
UPDATE schedules SET lease_until = ?1
WHERE (workflow_id, kind) IN (
    SELECT workflow_id, kind FROM schedules
    WHERE next_due_at <= ?2 AND (lease_until IS NULL OR lease_until <= ?2)
    ORDER BY next_due_at, workflow_id, kind LIMIT ?3)
RETURNING *;

-- name: create_schema_migrations
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);

-- name: schema_version
SELECT max(version) FROM schema_migrations;

-- name: migration_applied
SELECT 1 FROM schema_migrations WHERE version = ?;

-- name: record_migration
INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?);
