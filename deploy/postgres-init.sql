-- Databases for iceberg-remotes' state and for the "warehouse_db" SQL remote catalog
-- (lakeFS uses the default "lakefs" database).
CREATE DATABASE iceberg_remotes OWNER lakefs;
CREATE DATABASE warehouse_catalog OWNER lakefs;
