#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 with a role the tests and local
# development use (gatehouse / gatehouse, LOGIN CREATEDB). Idempotent: every step checks first.
# Run as root (it may install packages and act as the postgres OS user):
#   sudo ./scripts/postgres-up.sh
# Then: GATEHOUSE_TEST_DB=postgres go test ./...
set -euo pipefail

PGPORT="${PGPORT:-5432}"
ROLE="${GATEHOUSE_PG_ROLE:-gatehouse}"
PASSWORD="${GATEHOUSE_PG_PASSWORD:-gatehouse}"
WAIT_SECONDS="${GATEHOUSE_PG_WAIT:-60}"

log() { echo "postgres-up: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  log "run as root (installs packages, starts the cluster as the postgres user)"
  exit 1
fi

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  else
    # su takes one command string; quote every argument.
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  log "PostgreSQL is not installed; installing it with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y postgresql
fi

# The cluster on our port, or the newest installed version's "main" if none exists yet.
cluster="$(pg_lsclusters --no-header | awk -v port="$PGPORT" '$3 == port {print $1, $2; exit}')"
if [ -z "$cluster" ]; then
  version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  if [ -z "$version" ]; then
    log "no PostgreSQL server binaries under /usr/lib/postgresql"
    exit 1
  fi
  log "creating cluster $version/main on port $PGPORT"
  pg_createcluster --port "$PGPORT" "$version" main
  cluster="$version main"
fi
read -r version name <<<"$cluster"

status="$(pg_lsclusters --no-header "$version" "$name" | awk '{print $4}')"
if [ "$status" != "online" ]; then
  log "starting cluster $version/$name"
  # Containers often lack the socket directory that /etc/init.d would have made.
  install -d -o postgres -g postgres -m 2775 /var/run/postgresql
  pg_ctlcluster "$version" "$name" start
fi

deadline=$((SECONDS + WAIT_SECONDS))
until pg_isready -q -h 127.0.0.1 -p "$PGPORT"; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "PostgreSQL did not become ready on 127.0.0.1:$PGPORT within ${WAIT_SECONDS}s"
    log "see /var/log/postgresql/postgresql-$version-$name.log"
    exit 1
  fi
  sleep 0.5
done

exists="$(as_postgres psql -p "$PGPORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")"
if [ "$exists" != "1" ]; then
  log "creating role $ROLE"
  as_postgres psql -p "$PGPORT" -v ON_ERROR_STOP=1 -q \
    -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi

log "ready: postgres://$ROLE:***@127.0.0.1:$PGPORT/postgres?sslmode=disable"
