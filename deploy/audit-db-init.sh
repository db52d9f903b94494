#!/bin/sh
# The audit database's two roles. Runs once, as the cluster's superuser, when the audit
# PostgreSQL starts on an empty volume (mounted into /docker-entrypoint-initdb.d by
# docker-compose.yml); on an existing server run the same SQL by hand as a superuser.
#
#   verzuim_audit_owner  owns the database, its schema and (through migrations) the tables.
#                        Used only by `manage.py migrate --database audit_owner`
#                        (AUDIT_MIGRATE_DATABASE_URL), never by the web application or workers.
#   verzuim_audit_app    the application (AUDIT_DATABASE_URL): may connect and use the schema;
#                        audit migration 0003 grants it INSERT and SELECT on the records and
#                        USAGE on their id sequence, nothing else. Not a superuser, not the owner,
#                        no member of it: it cannot update, delete, truncate or switch the
#                        append-only trigger off.
set -eu
: "${AUDIT_OWNER_PASSWORD:?AUDIT_OWNER_PASSWORD is required}"
: "${AUDIT_APP_PASSWORD:?AUDIT_APP_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v db="$POSTGRES_DB" \
    -v owner_password="$AUDIT_OWNER_PASSWORD" \
    -v app_password="$AUDIT_APP_PASSWORD" <<'SQL'
CREATE ROLE verzuim_audit_owner LOGIN PASSWORD :'owner_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE verzuim_audit_app LOGIN PASSWORD :'app_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT;
ALTER DATABASE :"db" OWNER TO verzuim_audit_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"db" TO verzuim_audit_app;
ALTER SCHEMA public OWNER TO verzuim_audit_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO verzuim_audit_app;
SQL
