package remotes

import (
	"context"
	"strings"

	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
)

// lakeFSBackend implements LakeFS with the lakeFS client and the table locator.
type lakeFSBackend struct {
	*lakefs.Locator
	client *lakefs.Client
}

// NewLakeFS returns the LakeFS backend over a lakeFS client and its table locator.
func NewLakeFS(c *lakefs.Client, l *lakefs.Locator) LakeFS {
	return &lakeFSBackend{Locator: l, client: c}
}

func (b *lakeFSBackend) ResolveRef(ctx context.Context, repo, ref string) (*lakefs.ResolvedRef, error) {
	return b.client.ResolveRef(ctx, repo, ref)
}

// tableChanges splits the branch's uncommitted changes into the table's own and others.
func (b *lakeFSBackend) tableChanges(ctx context.Context, ref lakefs.TableRef) (own, other []string, err error) {
	path, err := b.TablePath(ref)
	if err != nil {
		return nil, nil, err
	}
	changes, err := b.client.DiffBranchUncommitted(ctx, ref.Repository, ref.Reference)
	if err != nil {
		return nil, nil, err
	}
	// Pointer layout: the table's own paths are the pointer and its namespace's marker (a
	// pull with create_namespace stages both in one commit); hadoop: the metadata folder.
	marker := ""
	if strings.HasSuffix(path, "/metadata.json") {
		tableDir := strings.TrimSuffix(path, "/metadata.json")
		marker = tableDir[:strings.LastIndex(tableDir, "/")+1] + "_namespace.json"
	}
	for _, ch := range changes {
		if ch.Path == path || ch.Path == marker || (strings.HasSuffix(path, "/") && strings.HasPrefix(ch.Path, path)) {
			own = append(own, ch.Path)
		} else {
			other = append(other, ch.Path)
		}
	}
	return own, other, nil
}

func (b *lakeFSBackend) StagedTable(ctx context.Context, ref lakefs.TableRef) (bool, error) {
	own, _, err := b.tableChanges(ctx, ref)
	return len(own) > 0, err
}

func (b *lakeFSBackend) DiscardStagedTable(ctx context.Context, ref lakefs.TableRef) error {
	own, _, err := b.tableChanges(ctx, ref)
	if err != nil {
		return err
	}
	for _, p := range own {
		if err := b.client.ResetObject(ctx, ref.Repository, ref.Reference, p); err != nil {
			return err
		}
	}
	return nil
}

func (b *lakeFSBackend) UnrelatedChanges(ctx context.Context, ref lakefs.TableRef) (string, error) {
	_, other, err := b.tableChanges(ctx, ref)
	if err != nil || len(other) == 0 {
		return "", err
	}
	return other[0], nil
}
