-- Webhooks and their deliveries of the SQLite backend (conventions: queries_runs.sql).

-- name: put_webhook
INSERT INTO webhooks (id, url, name, mode, state, failures, last_error, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET url = excluded.url, name = excluded.name, mode = excluded.mode,
    state = excluded.state, failures = excluded.failures, last_error = excluded.last_error,
    updated_at = excluded.updated_at;

-- name: get_webhook
SELECT * FROM webhooks WHERE id = ?;

-- name: list_webhooks
SELECT * FROM webhooks ORDER BY created_at, id;

-- name: delete_webhook
DELETE FROM webhooks WHERE id = ?;

-- name: delete_webhook_subscriptions
DELETE FROM subscriptions WHERE listener_id = ?;

-- name: delete_webhook_deliveries
DELETE FROM webhook_deliveries WHERE webhook_id = ?;

-- name: add_delivery
INSERT OR IGNORE INTO webhook_deliveries
    (webhook_id, event_source, event_id, position, event, status, attempts, next_attempt_at)
VALUES (?, ?, ?, ?, ?, 'pending', 0, ?);

-- name: claim_deliveries
SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
ORDER BY next_attempt_at, id LIMIT ?;

-- name: claim_deliveries_of
SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'
    AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?;

-- name: head_of_deliveries
SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = 'pending'
ORDER BY id LIMIT ?;

-- name: lease_delivery
UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?;

-- name: due_webhook_ids
SELECT DISTINCT webhook_id FROM webhook_deliveries
WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY webhook_id;

-- name: finish_delivery
UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?
WHERE id = ?;

-- name: list_deliveries
SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?;

-- name: list_deliveries_of_status
SELECT * FROM webhook_deliveries WHERE webhook_id = ? AND status = ? ORDER BY id DESC LIMIT ?;
