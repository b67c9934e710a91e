#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer at their local default addresses.
# Starts them where they are installed but down; installs them with apt-get
# when we are root and they are missing. Exits non-zero, saying why, otherwise.
set -u

PG_HOST=${PG_HOST:-127.0.0.1}
PG_PORT=${PG_PORT:-5432}
REDIS_HOST=${REDIS_HOST:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6379}
want=${1:-all}   # all | redis | postgres

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

redis_up() { python3 - "$REDIS_HOST" "$REDIS_PORT" <<'PY'
import socket, sys
try:
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1)
    s.sendall(b"PING\r\n"); ok = s.recv(16).startswith(b"+PONG")
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
}

pg_up() { python3 - "$PG_HOST" "$PG_PORT" <<'PY'
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close(); ok = True
except OSError:
    ok = False
sys.exit(0 if ok else 1)
PY
}

ensure_redis() {
    redis_up && return 0
    command -v redis-server >/dev/null || { echo "Redis is not installed; installing redis-server…"; apt_install redis-server; }
    if command -v redis-server >/dev/null; then
        echo "Redis is not answering on $REDIS_HOST:$REDIS_PORT; starting a local one…"
        redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
        for _ in $(seq 20); do redis_up && return 0; sleep 0.25; done
    fi
    echo "Redis is not answering on $REDIS_HOST:$REDIS_PORT and could not be started." >&2
    echo "Start one with: redis-server --daemonize yes --bind 127.0.0.1 --port $REDIS_PORT --save '' --appendonly no" >&2
    return 1
}

ensure_postgres() {
    pg_up && return 0
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "PostgreSQL is not installed; installing postgresql…"; apt_install postgresql
    fi
    if ls /etc/postgresql/*/main >/dev/null 2>&1; then
        echo "PostgreSQL is not answering on $PG_HOST:$PG_PORT; starting the local cluster…"
        for v in $(ls /etc/postgresql); do as_root pg_ctlcluster --skip-systemctl-redirect "$v" main start >/dev/null 2>&1; done
        for _ in $(seq 40); do pg_up && break; sleep 0.25; done
        if pg_up; then
            # A fresh Debian cluster: let local TCP clients in as postgres without a password.
            if ! PGCONNECT_TIMEOUT=2 psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -c 'select 1' postgres >/dev/null 2>&1; then
                for hba in /etc/postgresql/*/main/pg_hba.conf; do
                    grep -q "broadcast-console" "$hba" || as_root sed -i '1i host all postgres 127.0.0.1/32 trust # broadcast-console' "$hba"
                done
                for v in $(ls /etc/postgresql); do as_root pg_ctlcluster --skip-systemctl-redirect "$v" main reload >/dev/null 2>&1; done
                sleep 1
            fi
            return 0
        fi
    fi
    echo "PostgreSQL is not answering on $PG_HOST:$PG_PORT and could not be started." >&2
    echo "Start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start" >&2
    return 1
}

case "$want" in
    redis) ensure_redis ;;
    postgres) ensure_postgres ;;
    all) ensure_postgres && ensure_redis ;;
esac
