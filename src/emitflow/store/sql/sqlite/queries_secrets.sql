-- Sealed secrets of the SQLite backend (conventions: queries_runs.sql).

-- name: put_secret
INSERT INTO secrets (name, sealed, updated_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at;

-- name: list_secrets
SELECT name, sealed FROM secrets ORDER BY name;

-- name: delete_secret
DELETE FROM secrets WHERE name = ?;
