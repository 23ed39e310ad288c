-- Sync records and audit log (DESIGN section 7). table_key uses the "C" collation so that
-- pagination orders keys bytewise as SQLite does. Times are Unix microseconds (UTC).
-- +goose Up
CREATE TABLE remote_sync_records (
    catalog          TEXT    NOT NULL,
    table_key        TEXT    COLLATE "C" NOT NULL,
    remote_namespace TEXT    NOT NULL,
    remote_table     TEXT    NOT NULL,
    repository       TEXT    NOT NULL,
    reference        TEXT    NOT NULL,
    local_namespace  TEXT    NOT NULL,
    local_table      TEXT    NOT NULL,
    resolved_commit  TEXT    NOT NULL DEFAULT '',
    pushed_location  TEXT    NOT NULL DEFAULT '',
    remote_location  TEXT    NOT NULL DEFAULT '',
    lakefs_location  TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL,
    pending          TEXT    NOT NULL DEFAULT '',
    notes            TEXT    NOT NULL DEFAULT '',
    updated_by       TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    version          BIGINT  NOT NULL,
    PRIMARY KEY (catalog, table_key)
);

CREATE TABLE remote_operations (
    id                BIGSERIAL PRIMARY KEY,
    catalog           TEXT    NOT NULL,
    operation         TEXT    NOT NULL,
    user_id           TEXT    NOT NULL,
    request_id        TEXT    NOT NULL,
    remote_namespace  TEXT    NOT NULL,
    remote_table      TEXT    NOT NULL,
    repository        TEXT    NOT NULL,
    reference         TEXT    NOT NULL,
    local_namespace   TEXT    NOT NULL,
    local_table       TEXT    NOT NULL,
    request           TEXT    NOT NULL,
    status_code       BIGINT  NOT NULL DEFAULT 0,
    outcome           TEXT    NOT NULL,
    error             TEXT    NOT NULL DEFAULT '',
    lakefs_commit     TEXT    NOT NULL DEFAULT '',
    metadata_location TEXT    NOT NULL DEFAULT '',
    started_at        BIGINT  NOT NULL,
    finished_at       BIGINT  NOT NULL DEFAULT 0,
    duration_ms       BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX remote_operations_catalog_id ON remote_operations (catalog, id);

-- +goose Down
DROP TABLE remote_operations;
DROP TABLE remote_sync_records;
