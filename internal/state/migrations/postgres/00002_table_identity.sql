-- The pushed table's identity, so that pull can tell a descendant of what was pushed from an
-- unrelated table that replaced it in the remote (DESIGN section 6, step 4).
-- +goose Up
ALTER TABLE remote_sync_records ADD COLUMN table_uuid TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_sync_records ADD COLUMN snapshot_id TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE remote_sync_records DROP COLUMN snapshot_id;
ALTER TABLE remote_sync_records DROP COLUMN table_uuid;
