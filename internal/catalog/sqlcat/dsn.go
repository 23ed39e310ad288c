package sqlcat

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// sqliteBusyTimeoutMS is how long a SQLite connection waits for another writer (another
// connection of this pool, or another process sharing the catalog file) before SQLITE_BUSY.
const sqliteBusyTimeoutMS = 10000

// prepareSQLiteDSN makes a configured SQLite DSN ready to open:
//
//   - the database file's parent directory is created (SQLite creates the file, not its
//     directory; the default remote's DSN is "file:data/local-catalog.db");
//   - a busy timeout is added unless the DSN sets one, so concurrent writers wait instead of
//     failing at once;
//   - _txlock=immediate is added unless the DSN sets a lock mode, so that a transaction that
//     reads and then inserts takes the write lock up front: a deferred transaction upgrading
//     its lock would fail with SQLITE_BUSY without waiting.
//
// inMemory reports a ":memory:" database, which exists once per connection.
func prepareSQLiteDSN(dsn string) (out string, inMemory bool, err error) {
	if dsn == "" {
		return "", false, nil
	}
	path, query, _ := strings.Cut(dsn, "?")
	params, err := url.ParseQuery(query)
	if err != nil {
		return "", false, fmt.Errorf("parsing the dsn's parameters: %w", err)
	}
	isURI := strings.HasPrefix(path, "file:")
	if isURI {
		path = strings.TrimPrefix(path, "file:")
		if rest, ok := strings.CutPrefix(path, "//"); ok {
			// file://host/path: SQLite accepts only an empty host or "localhost".
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				path = rest[i:]
			} else {
				path = ""
			}
		}
		if p, err := url.PathUnescape(path); err == nil {
			path = p
		}
	}
	inMemory = path == "" || path == ":memory:" || params.Get("mode") == "memory"
	if !inMemory {
		if dir := filepath.Dir(path); dir != "." && dir != "" {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return "", false, fmt.Errorf("creating the database directory: %w", err)
			}
		}
	}

	var add []string
	if !hasBusyTimeout(params) {
		add = append(add, fmt.Sprintf("_pragma=busy_timeout(%d)", sqliteBusyTimeoutMS))
	}
	if params.Get("_txlock") == "" {
		add = append(add, "_txlock=immediate")
	}
	if len(add) == 0 {
		return dsn, inMemory, nil
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + strings.Join(add, "&"), inMemory, nil
}

func hasBusyTimeout(params url.Values) bool {
	if params.Get("_busy_timeout") != "" || params.Get("_timeout") != "" {
		return true
	}
	for _, p := range params["_pragma"] {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(p)), "busy_timeout") {
			return true
		}
	}
	return false
}
