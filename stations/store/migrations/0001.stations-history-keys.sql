-- Stations, their history and the office keys (yoyo-migrations applies this once).
-- The text fields live in one json column (json keeps the text as written: the exact GeoJSON
-- properties the API serves, so a replica loads them without re-encoding), and a new field of
-- the schema needs no table change.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE stations (
    id text PRIMARY KEY,
    properties json NOT NULL,
    amenities text[] NOT NULL,
    amenity_bits integer NOT NULL,
    geom geometry(Point, 4326) NOT NULL,
    version integer NOT NULL CHECK (version > 0),
    digest text NOT NULL
);
CREATE INDEX stations_geom ON stations USING gist (geom);
CREATE INDEX stations_city ON stations ((properties ->> 'city'));

-- One row: the last history number and the XOR of the stations' digest bits (data_version).
-- Writers update it last, just before commit, so history numbers follow commit order.
CREATE TABLE store_state (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    sequence bigint NOT NULL,
    version_bits bigint NOT NULL
);
INSERT INTO store_state VALUES (true, 0, 0);

CREATE TABLE history (
    id bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    who text NOT NULL,
    action text NOT NULL,
    note text NOT NULL DEFAULT '',
    revert_of bigint REFERENCES history (id),
    changes jsonb NOT NULL
);
CREATE TABLE history_stations (
    history_id bigint NOT NULL REFERENCES history (id),
    station_id text NOT NULL,
    PRIMARY KEY (station_id, history_id)
);
CREATE INDEX history_stations_entry ON history_stations (history_id);

CREATE TABLE office_keys (
    key_id text PRIMARY KEY,
    office text NOT NULL,
    division text NOT NULL,
    province text NOT NULL,
    city text NOT NULL,
    district text NOT NULL,
    created_at text NOT NULL,
    revoked_at text NOT NULL DEFAULT '',
    secret_hash text NOT NULL
);
