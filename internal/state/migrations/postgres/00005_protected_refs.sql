-- One protecting branch per published commit, shared by every table published at it
-- (issue 13): the branches this service created and has not deleted (written under the
-- branch's lock, so a publisher finds an existing branch without a lakeFS call), and an
-- index to count the records that claim a branch.
-- +goose Up
CREATE TABLE remote_protected_refs (
    repository TEXT NOT NULL,
    name       TEXT NOT NULL,
    PRIMARY KEY (repository, name)
);
CREATE INDEX remote_sync_records_protected_ref ON remote_sync_records (repository, protected_ref);

-- +goose Down
DROP INDEX remote_sync_records_protected_ref;
DROP TABLE remote_protected_refs;
