#!/bin/sh
# Runs once, when the primary's data folder is created (the postgres image runs
# /docker-entrypoint-initdb.d/*): a role the standby streams WAL with, allowed to connect for
# replication from the compose network.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$REPLICATION_PASSWORD" <<'SQL'
create role replicator with replication login password :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
