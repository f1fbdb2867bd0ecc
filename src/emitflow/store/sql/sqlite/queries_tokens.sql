-- API tokens of the SQLite backend (conventions: queries_runs.sql).

-- name: insert_token
INSERT INTO tokens (id, name, scopes, digest, created_at, resources, last_used_at)
VALUES (?, ?, ?, ?, ?, ?, ?);

-- name: find_token
SELECT * FROM tokens WHERE digest = ?;

-- name: list_tokens
SELECT * FROM tokens ORDER BY created_at, id;

-- name: delete_token
DELETE FROM tokens WHERE id = ?;

-- name: touch_token
UPDATE tokens SET last_used_at = ? WHERE id = ?;
