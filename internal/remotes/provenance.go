package remotes

import (
	"context"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/requestctx"
)

// ServiceIdentity is the lakefs.pushed_by of pushes the service makes on its own behalf
// (automatic pushes from lakeFS events, under WithServiceIdentity): no user asked for them.
const ServiceIdentity = "iceberg-remotes"

// pushProvenance is what a push records in the remote where the catalog keeps table
// parameters (catalog.Provenance): the source, the commit it resolved to, and who pushed.
func pushProvenance(ctx context.Context, src PushRequest, commit string) catalog.Provenance {
	by := requestctx.User(ctx)
	if IsServiceIdentity(ctx) {
		by = ServiceIdentity
	}
	return catalog.Provenance{
		Repository: src.Source.Repository,
		Reference:  src.Source.Reference,
		Commit:     commit,
		Table:      catalog.Ident{Namespace: src.Source.Namespace, Table: src.Source.Table}.String(),
		PushedBy:   by,
	}
}
