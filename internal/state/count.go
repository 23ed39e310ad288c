package state

import "context"

// CountSyncRecordsByStatus is one grouped query over the status index (migration 4), so
// its cost does not depend on what the records hold; the publications gauge calls it.
func (s *sqlStore) CountSyncRecordsByStatus(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM remote_sync_records GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}
