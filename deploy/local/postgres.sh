#!/usr/bin/env bash
# PostgreSQL from Debian's package, in a cluster directory of the project's own, loopback only.
# usage: postgres.sh install | start <run-dir> <port> | stop <run-dir>
# initdb/pg_ctl refuse to run as root, so as root they run as the package's `postgres` user.
# Authentication is SCRAM (no `trust`): the superuser's random password is in <run-dir>/password
# (mode 600), read by `make` and the tests (onward.db.local_server_url); each service connects as
# its own role, which `onward prepare` creates (onward/db.py).
set -euo pipefail

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }; done
  return 1
}

install() {
  pg_bin >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then echo "postgres.sh: PostgreSQL is missing; run as root or: apt-get install -y postgresql" >&2; exit 1; fi
  echo "postgres.sh: installing Debian's postgresql package" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  pg_bin >/dev/null || { echo "postgres.sh: install failed" >&2; exit 1; }
}

as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  local dir=$1 port=$2 bin
  install; bin=$(pg_bin)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  [ -s "$dir/password" ] || new_password "$dir/password"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    local pwfile; pwfile=$(mktemp); cp "$dir/password" "$pwfile"; chmod 644 "$pwfile"
    as_owner "$bin/initdb" -D "$dir/data" -A scram-sha-256 --pwfile="$pwfile" -U postgres -E UTF8 --locale=C.UTF-8 \
      >"$dir/initdb.log" 2>&1 || { rm -f "$pwfile"; cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$pwfile"
  fi
  if as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    echo "postgres.sh: already running on $port" >&2; return 0
  fi
  # fsync stays on: the tests claim durability, so they run with it. PG_OPTS adds server options
  # (e.g. PG_OPTS="-c shared_preload_libraries=pg_stat_statements" to profile a benchmark).
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB ${PG_OPTS:-}" start >/dev/null \
    || { echo "postgres.sh: failed to start; last log lines:" >&2; tail -20 "$dir/postgres.log" >&2; exit 1; }
  if grep -qE '^(local|host)[[:space:]].*trust[[:space:]]*$' "$dir/data/pg_hba.conf"; then
    to_scram "$dir" "$port" "$bin"
  fi
  echo "postgres.sh: ready on 127.0.0.1:$port" >&2
}

new_password() {  # letters and digits only, so that it sits in a URL as it is
  ( umask 077; head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$1" )
}

to_scram() {  # a cluster made before SCRAM (initdb -A trust): set the password, then require it
  local dir=$1 port=$2 bin=$3
  as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 \
    -c "alter role postgres password '$(cat "$dir/password")'" >/dev/null
  as_owner sed -i -E 's/^((local|host)[[:space:]].*)trust[[:space:]]*$/\1scram-sha-256/' "$dir/data/pg_hba.conf"
  as_owner "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
  echo "postgres.sh: switched $dir to SCRAM password authentication" >&2
}

stop() {
  local dir=$1 bin
  bin=$(pg_bin) || return 0
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  install) install ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) echo "usage: $0 install | start <run-dir> <port> | stop <run-dir>" >&2; exit 2 ;;
esac
