-- The office console: staff accounts, their sign-in sessions and the sheet review each session
-- has pending.  Portable SQL: the same file is the schema of console.sqlite beside a GeoPackage.
-- Times are UTC ISO 8601 text, as the office keys' are.
CREATE TABLE IF NOT EXISTS staff (
    username text PRIMARY KEY,
    office text NOT NULL,
    scope text NOT NULL,
    password text NOT NULL,
    failures integer NOT NULL DEFAULT 0,
    locked_until text NOT NULL DEFAULT '',
    disabled integer NOT NULL DEFAULT 0,
    created_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash text PRIMARY KEY,
    username text NOT NULL REFERENCES staff (username),
    csrf text NOT NULL,
    expires_at text NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS sheet_reviews (
    token_hash text PRIMARY KEY REFERENCES sessions (token_hash) ON DELETE CASCADE,
    created_at text NOT NULL,
    body text NOT NULL
);
