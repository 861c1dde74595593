#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer for the test suite: use running servers, else start
# installed ones, else install them with apt (root on Debian/Ubuntu), else say what to install.
set -uo pipefail

PG_HOST=${PGHOST:-127.0.0.1}
PG_PORT=${PGPORT:-5432}
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

pg_answers() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -U postgres
  else
    (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null
  fi
}

redis_answers() {
  if command -v redis-cli >/dev/null; then
    [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
  else
    (exec 3<>"/dev/tcp/$REDIS_HOST/$REDIS_PORT") 2>/dev/null
  fi
}

can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; }

apt_install() {
  echo "Installing $* with apt-get..."
  if [ -z "${APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql/*/main >/dev/null 2>&1; then
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
      || pg_ctlcluster "$version" main start 2>/dev/null || true
  fi
}

wait_for() {
  local what=$1 check=$2
  for _ in $(seq 1 30); do
    $check && return 0
    sleep 1
  done
  echo "$what did not start in 30 s." >&2
  return 1
}

if ! pg_answers; then
  start_postgres
  if ! pg_answers; then
    if ! command -v pg_ctlcluster >/dev/null; then
      if can_apt; then
        apt_install postgresql
        start_postgres
      else
        echo "PostgreSQL is not running and not installed. Install PostgreSQL 15 (Debian:" >&2
        echo "  sudo apt-get install postgresql) and allow user 'postgres' from 127.0.0.1," >&2
        echo "or set DATABASE_URL to a server you have." >&2
        exit 1
      fi
    fi
    wait_for PostgreSQL pg_answers || exit 1
  fi
fi

# The tests connect as postgres over TCP without a password, as on CI; a fresh apt install
# asks for one, so trust loopback connections there.
if ! psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -Atc "select 1" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && ls /etc/postgresql/*/main/pg_hba.conf >/dev/null 2>&1; then
    for hba in /etc/postgresql/*/main/pg_hba.conf; do
      grep -q "pathwise-test" "$hba" || sed -i '1i host all postgres 127.0.0.1/32 trust # pathwise-test\nhost all postgres ::1/128 trust # pathwise-test' "$hba"
    done
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null \
      || pg_ctlcluster "$version" main reload 2>/dev/null || true
    sleep 1
  fi
fi
echo "PostgreSQL answers on $PG_HOST:$PG_PORT."

if ! redis_answers; then
  if ! command -v redis-server >/dev/null; then
    if can_apt; then
      apt_install redis-server
    else
      echo "Redis is not running and not installed. Install Redis 7 (Debian:" >&2
      echo "  sudo apt-get install redis-server) or set REDIS_URL to a server you have." >&2
      exit 1
    fi
  fi
  mkdir -p /tmp/pathwise-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /tmp/pathwise-redis --logfile /tmp/pathwise-redis/redis.log
  wait_for Redis redis_answers || exit 1
fi
echo "Redis answers on $REDIS_HOST:$REDIS_PORT."
