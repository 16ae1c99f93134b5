-- API tokens. Only the SHA-256 of each token is stored (see backend/tokens.py for why not bcrypt):
-- a copy of this file does not let anyone call the API.
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    token_sha256  TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('admin','road','farmer','public')),
    field_ids     TEXT NOT NULL DEFAULT '[]',  -- JSON list: the fields a farmer token may see and change
    label         TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,
    revoked_at    TEXT
);
