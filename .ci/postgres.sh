#!/usr/bin/env bash
# A local PostgreSQL server for the ledger's integration tests; prints its URL on stdout.
#
#   export COMPLIANCE_TEST_POSTGRES_URL="$(bash .ci/postgres.sh)"
#
# Idempotent, safe to run again: installs Debian's `postgresql` package when no server is
# installed, creates the cluster when there is none, starts it when it is down, creates the
# role and the database when they are missing. Needs root (CI and the developers' machines
# run as root). Everything but the URL goes to stderr. The server listens on localhost only
# and the role's password is a throwaway: this is a test server, never a real ledger.
# Override with COMPLIANCE_PG_ROLE, COMPLIANCE_PG_PASSWORD, COMPLIANCE_PG_DATABASE.
set -euo pipefail

ROLE=${COMPLIANCE_PG_ROLE:-compliance}
PASSWORD=${COMPLIANCE_PG_PASSWORD:-compliance-test}
DATABASE=${COMPLIANCE_PG_DATABASE:-compliance_test}
CLUSTER=main

log() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root (it installs and starts a server)"
  exit 1
fi

# Names go into SQL and URLs unquoted: keep them to safe characters.
for value in "$ROLE" "$PASSWORD" "$DATABASE"; do
  if ! [[ $value =~ ^[A-Za-z0-9_-]+$ ]]; then
    log "role, password and database may hold only letters, digits, '_' and '-'"
    exit 1
  fi
done

installed_version() {
  ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1
}

if [ -z "$(installed_version)" ] || ! command -v pg_ctlcluster >/dev/null 2>&1; then
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
VERSION=$(installed_version)
if [ -z "$VERSION" ]; then
  log "no PostgreSQL server under /usr/lib/postgresql after installing"
  exit 1
fi

cluster_field() {  # cluster_field N: column N of `pg_lsclusters` for VERSION/main
  pg_lsclusters --no-header | awk -v v="$VERSION" -v c="$CLUSTER" -v f="$1" \
    '$1 == v && $2 == c { print $f }'
}

if [ -z "$(cluster_field 1)" ]; then
  log "creating cluster $VERSION/$CLUSTER"
  pg_createcluster "$VERSION" "$CLUSTER" >&2
fi
# /var/run is a tmpfs on many machines: the socket folder may be gone after a restart.
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
if [ "$(cluster_field 4)" != online ]; then
  log "starting cluster $VERSION/$CLUSTER"
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
PORT=$(cluster_field 3)

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    break
  fi
  sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
  log "the server on 127.0.0.1:$PORT did not come up; see /var/log/postgresql/"
  exit 1
fi

as_postgres() {  # from /, so psql never warns about an unreadable working folder
  (cd / && runuser -u postgres -- "$@")
}
psql_admin() {
  as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"
}

if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  log "creating role $ROLE"
  psql_admin -c "CREATE ROLE \"$ROLE\" LOGIN"
fi
psql_admin -c "ALTER ROLE \"$ROLE\" WITH LOGIN PASSWORD '$PASSWORD'"
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != 1 ]; then
  log "creating database $DATABASE"
  psql_admin -c "CREATE DATABASE \"$DATABASE\" OWNER \"$ROLE\""
fi

echo "postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
