-- Publications that follow lakeFS (DESIGN section 15): the durable queue of lakeFS events,
-- the last commit of each branch whose changes were all published (the diff base of the
-- branch's next event), and which branch each automatically published remote table
-- follows (branch deletion un-publishes by it). Times are Unix microseconds.
-- +goose Up
CREATE TABLE remote_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_type      TEXT   NOT NULL,
    repository      TEXT   NOT NULL,
    branch          TEXT   NOT NULL DEFAULT '',
    commit_id       TEXT   NOT NULL DEFAULT '',
    source_ref      TEXT   NOT NULL DEFAULT '',
    state           TEXT   NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT   NOT NULL DEFAULT '',
    results         TEXT   NOT NULL DEFAULT '',
    received_at     INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT   NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0,
    finished_at     INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX remote_events_state ON remote_events (state, next_attempt_at);
CREATE INDEX remote_events_branch ON remote_events (repository, branch, id);

CREATE TABLE remote_branch_cursors (
    repository TEXT   NOT NULL,
    branch     TEXT   NOT NULL,
    commit_id  TEXT   NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (repository, branch)
);

CREATE TABLE remote_publications (
    catalog          TEXT   NOT NULL,
    table_key        TEXT   NOT NULL,
    remote_namespace TEXT   NOT NULL,
    remote_table     TEXT   NOT NULL,
    repository       TEXT   NOT NULL,
    branch           TEXT   NOT NULL,
    commit_id        TEXT   NOT NULL,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (catalog, table_key)
);

CREATE INDEX remote_publications_branch ON remote_publications (repository, branch);

-- +goose Down
DROP TABLE remote_publications;
DROP TABLE remote_branch_cursors;
DROP TABLE remote_events;
