-- Publication health and GC protection (issue 13): when the table last synced successfully,
-- the public message of the last failure after an intent (cleared by a success), and the
-- lakeFS branch that protects the published commit from lakeFS's garbage collector.
-- last_success_at is Unix microseconds (UTC) like every other time; 0 = never.
-- +goose Up
ALTER TABLE remote_sync_records ADD COLUMN last_success_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE remote_sync_records ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE remote_sync_records ADD COLUMN protected_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX remote_sync_records_status ON remote_sync_records (status);

-- +goose Down
DROP INDEX remote_sync_records_status;
ALTER TABLE remote_sync_records DROP COLUMN protected_ref;
ALTER TABLE remote_sync_records DROP COLUMN last_error;
ALTER TABLE remote_sync_records DROP COLUMN last_success_at;
