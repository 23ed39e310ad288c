package catalog

import "context"

// History is a remote's own record of how a table moved from one metadata file to the next,
// kept apart from the metadata files. A pull proves that the remote's state descends from
// the synced one from the metadata file itself (its metadata log or its snapshots); a remote
// that rewrites the metadata on every commit without either (Nessie) leaves that proof to
// its history. Locations are the remote's, or lakeFS's through WithLocationMap.
type History interface {
	// Descends reports whether table id, whose current metadata location is current, got
	// there from the state at from without the table being dropped or replaced on the way:
	// the history, newest first, shows current, then (older) from, and every entry of the
	// table between them is the same table. false when the history does not show that
	// within the remote's bound; an error only when the history could not be read.
	Descends(ctx context.Context, id Ident, from, current string) (bool, error)
}

// HistorySource is implemented by adapters that may offer a History: a REST adapter does
// when its server is Nessie. HistoryOf is how callers ask.
type HistorySource interface {
	// History returns the remote's history, or nil when the remote keeps none this
	// adapter can read.
	History() History
}

// HistoryOf returns a's History, or nil when it has none.
func HistoryOf(a Adapter) History {
	if s, ok := a.(HistorySource); ok {
		return s.History()
	}
	return nil
}

// MappedHistory returns h speaking lakeFS-side locations (m maps them to the remote's form).
// An empty map or a nil history returns h unchanged.
func MappedHistory(h History, m LocationMap) History {
	if h == nil || len(m) == 0 {
		return h
	}
	return mappedHistory{h: h, m: m}
}

type mappedHistory struct {
	h History
	m LocationMap
}

func (h mappedHistory) Descends(ctx context.Context, id Ident, from, current string) (bool, error) {
	return h.h.Descends(ctx, id, h.m.ToRemote(from), h.m.ToRemote(current))
}
