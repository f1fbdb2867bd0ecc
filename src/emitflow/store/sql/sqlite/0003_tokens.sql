-- 0003: API tokens. Only a SHA-256 digest of each secret is kept (the secret is 256 random
-- bits, so a fast digest is enough); the secret itself is shown once, when it is created.
CREATE TABLE tokens (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL,
    digest      TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
