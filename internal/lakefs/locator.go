package lakefs

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
)

// Table layouts (config tables.layout).
const (
	LayoutPointer = "pointer"
	LayoutHadoop  = "hadoop"
)

const (
	pointerFile     = "metadata.json"
	namespaceMarker = "_namespace.json"
	versionHintFile = "version-hint.text"
)

// TableRef names a table at a lakeFS reference.
type TableRef struct {
	Repository string
	Reference  string // branch, tag or commit id
	Namespace  []string
	Table      string
}

// String is the table's dotted name, for messages.
func (r TableRef) String() string {
	return strings.Join(append(slices.Clone(r.Namespace), r.Table), ".")
}

// TableState is a table as read at a reference.
type TableState struct {
	Layout string
	// Path is the lakeFS path of the object that holds the current metadata: the pointer
	// (pointer layout) or v<N>.metadata.json (hadoop layout).
	Path string
	// MetadataLocation is that object's physical address: the metadata file in the object store.
	MetadataLocation string
	// ResolvedCommit is the commit id the reference resolved to (a branch's head; reading a
	// branch also sees its staged changes).
	ResolvedCommit string
	IsBranch       bool
	SizeBytes      int64
	Checksum       string
	Mtime          time.Time

	TableUUID         string // "" for format v1 metadata without table-uuid (optional in v1)
	CurrentSnapshotID *int64
	FormatVersion     int
	Metadata          table.Metadata
	// MetadataLog lists the previous metadata files recorded in the metadata, oldest first.
	MetadataLog []string
	// Version is N of v<N>.metadata.json (hadoop layout; 0 for pointer).
	Version int

	// CommitChecked tells that LocateCommitted compared the reference's state with its
	// commit's: CommittedLocation is the table's metadata location in ResolvedCommit ("" when
	// the table is not in that commit), and Committed that the state located is that very
	// object (always, at a tag or commit id). A committed table is read at the commit.
	CommitChecked     bool
	Committed         bool
	CommittedLocation string
}

// Locator reads and writes Iceberg tables stored in lakeFS repositories.
type Locator struct {
	c         *Client
	layoutFor func(repo string) config.TablesLayout
	// resetTimeout bounds the clean-up after a failed write (which runs even when the
	// caller's context is done, so that nothing is left staged).
	resetTimeout time.Duration
	limits       *metafile.Limits
}

// WithLimits makes the locator read metadata files under lim (size cap and shared buffer
// budget; share one with the object-store reader). It returns l.
func (l *Locator) WithLimits(lim *metafile.Limits) *Locator {
	l.limits = lim
	return l
}

// NewLocator returns a locator. layoutFor gives the layout of a repository
// (config.Config.LayoutFor).
func NewLocator(c *Client, layoutFor func(repo string) config.TablesLayout) *Locator {
	if layoutFor == nil {
		layoutFor = func(string) config.TablesLayout { return config.TablesLayout{Layout: LayoutPointer} }
	}
	return &Locator{c: c, layoutFor: layoutFor, resetTimeout: 30 * time.Second, limits: metafile.NewLimits(0, 0)}
}

// GetRepository returns a repository (see Client.GetRepository).
func (l *Locator) GetRepository(ctx context.Context, repo string) (*Repository, error) {
	return l.c.GetRepository(ctx, repo)
}

// ResolveRef resolves a reference (see Client.ResolveRef).
func (l *Locator) ResolveRef(ctx context.Context, repo, ref string) (*ResolvedRef, error) {
	return l.c.ResolveRef(ctx, repo, ref)
}
