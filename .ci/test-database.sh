# Sourced by .ci/run: a throw-away PostgreSQL + PostGIS cluster for the tests marked postgis.
# start_test_database installs Debian's packages when missing, starts a cluster owned by an
# unprivileged user in a temporary folder, listening only on a Unix socket there, and exports
# its URL as STATIONS_TEST_DATABASE; stop_test_database stops it and removes the folder.

PG_BIN=/usr/lib/postgresql/15/bin
PG_DIR=""

_as_cluster_owner() {
    if [ "$(id -u)" = "0" ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start_test_database() {
    if [ ! -x "$PG_BIN/initdb" ] || [ ! -f /usr/share/postgresql/15/extension/postgis.control ]; then
        if [ "$(id -u)" = "0" ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi
        export DEBIAN_FRONTEND=noninteractive
        $apt_get update -qq
        $apt_get install -y -qq postgresql-15 postgresql-15-postgis-3 >/dev/null
    fi
    PG_DIR="$(mktemp -d /tmp/stations-pg.XXXXXX)"
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" = "0" ]; then chown nobody "$PG_DIR"; fi
    _as_cluster_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U stations --auth=trust -E UTF8 \
        --locale=C.UTF-8 >/dev/null
    # No durability needed for a cluster that lives as long as one test run.
    _as_cluster_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -s \
        -o "-c listen_addresses='' -c unix_socket_directories=$PG_DIR -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start
    export STATIONS_TEST_DATABASE="postgresql://stations@/postgres?host=$PG_DIR"
}

stop_test_database() {
    if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
        _as_cluster_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -s stop || true
        rm -rf "$PG_DIR"
    fi
}
