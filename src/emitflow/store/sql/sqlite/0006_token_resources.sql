-- 0005: a token may be limited to some workflows (a JSON list of ids; '[]' = every one), and
-- records when it was last used (NULL until then).
ALTER TABLE tokens ADD COLUMN resources TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
