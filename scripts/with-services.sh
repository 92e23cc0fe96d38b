#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis on loopback, run the given command against them, stop them.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
PGPORT=${PGPORT:-54329}
REDISPORT=${REDISPORT:-6390}
TMPROOT=$(mktemp -d)
chmod 755 "$TMPROOT"
chown postgres:postgres "$TMPROOT" 2>/dev/null || true
cleanup() {
  runuser -u postgres -- $PGBIN/pg_ctl -D "$TMPROOT/data" -m fast stop >/dev/null 2>&1 || true
  redis-cli -p "$REDISPORT" shutdown nosave >/dev/null 2>&1 || true
  rm -rf "$TMPROOT"
}
trap cleanup EXIT
runuser -u postgres -- $PGBIN/initdb -D "$TMPROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
runuser -u postgres -- $PGBIN/pg_ctl -D "$TMPROOT/data" -l "$TMPROOT/pg.log" -w -t 30 \
  -o "-p $PGPORT -c listen_addresses=127.0.0.1 -k $TMPROOT -c fsync=off -c max_connections=200" start >/dev/null
mkdir -p "$TMPROOT/redis"
redis-server --bind 127.0.0.1 --port "$REDISPORT" --save '' --appendonly no --dir "$TMPROOT/redis" --daemonize yes >/dev/null
for _ in $(seq 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
echo "PostgreSQL on 127.0.0.1:$PGPORT, Redis on 127.0.0.1:$REDISPORT"
export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/cpts"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export DEBUG=1
"$@"
