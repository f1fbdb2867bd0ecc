-- 0005: secrets set through the API (PUT /v1/secrets/{name}). Only the sealed value is kept
-- (Fernet, under the key file beside the store), so the database alone does not reveal them.
CREATE TABLE secrets (
    name        TEXT    PRIMARY KEY,
    sealed      TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
