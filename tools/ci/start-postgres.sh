#!/usr/bin/env bash
# Starts the local PostgreSQL 15 cluster and creates the test role and
# database (idempotent). Used by .ci/run and by developers.
set -euo pipefail
pg_ctlcluster 15 main start 2>/dev/null || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432
as_postgres() { su postgres -c "psql -v ON_ERROR_STOP=1 -qAt -c \"$1\""; }
[ "$(as_postgres "SELECT 1 FROM pg_roles WHERE rolname='membrane'")" = "1" ] ||
  as_postgres "CREATE ROLE membrane LOGIN PASSWORD 'membrane' CREATEDB"
[ "$(as_postgres "SELECT 1 FROM pg_database WHERE datname='membrane_test'")" = "1" ] ||
  as_postgres "CREATE DATABASE membrane_test OWNER membrane"
