package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/iceberg-remotes/iceberg-remotes/internal/api/apigen"
	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// handlers implements the generated strict server interface. Schema validation already
// ran; the handlers check what the schema cannot express (names) and call the service.
// Errors returned here are written by the strict server's ResponseErrorHandlerFunc.
type handlers struct {
	svc Service
}

var _ apigen.StrictServerInterface = (*handlers)(nil)

// DefaultPageSize is the page size when a listing does not ask for one (lakeFS's default).
const DefaultPageSize = 100

type dryRunKey struct{}

// dryRunFlag reads the dry_run query parameter (our addition to lakeFS's push and pull,
// which cannot appear in their lakeFS-identical spec) onto the context.
func dryRunFlag(next apigen.StrictHandlerFunc, _ string) apigen.StrictHandlerFunc {
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request, req any) (any, error) {
		on, set, err := queryBool(r, "dry_run")
		if err != nil {
			return nil, err
		}
		if set {
			ctx = context.WithValue(ctx, dryRunKey{}, on)
		}
		return next(ctx, w, r, req)
	}
}

// queryBool reads a true/false query parameter (set is false when it is absent or empty);
// a request without a query string is not parsed.
func queryBool(r *http.Request, name string) (on, set bool, err error) {
	if r.URL.RawQuery == "" {
		return false, false, nil
	}
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, false, nil
	}
	if on, err = strconv.ParseBool(v); err != nil {
		return false, false, apperr.BadRequest("%s: must be true or false (got %q)", name, v)
	}
	return on, true, nil
}

func isDryRun(ctx context.Context) bool {
	on, _ := ctx.Value(dryRunKey{}).(bool)
	return on
}

// planResponse answers a dry run: 200 with the plan.
type planResponse struct{ plan *apigen.IcebergPlan }

func (p planResponse) write(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(p.plan)
}

func (p planResponse) VisitPushIcebergTableResponse(w http.ResponseWriter) error { return p.write(w) }
func (p planResponse) VisitPullIcebergTableResponse(w http.ResponseWriter) error { return p.write(w) }

func (h *handlers) PushIcebergTable(ctx context.Context, req apigen.PushIcebergTableRequestObject) (apigen.PushIcebergTableResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if err := validatePush(req.Body); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("push is not available: no service configured")
	}
	dry := isDryRun(ctx)
	plan, err := h.svc.Push(ctx, req.Catalog, *req.Body, dry)
	if dry && plan != nil {
		return planResponse{plan}, nil
	}
	if err != nil {
		return nil, err
	}
	return apigen.PushIcebergTable204Response{}, nil
}

func (h *handlers) PullIcebergTable(ctx context.Context, req apigen.PullIcebergTableRequestObject) (apigen.PullIcebergTableResponseObject, error) {
	if req.Body == nil {
		return nil, apperr.BadRequest("missing request body")
	}
	if err := validatePull(req.Body); err != nil {
		return nil, err
	}
	if h.svc == nil {
		return nil, apperr.NotImplemented("pull is not available: no service configured")
	}
	dry := isDryRun(ctx)
	plan, err := h.svc.Pull(ctx, req.Catalog, *req.Body, dry)
	if dry && plan != nil {
		return planResponse{plan}, nil
	}
	if err != nil {
		return nil, err
	}
	return apigen.PullIcebergTable204Response{}, nil
}

func (h *handlers) ListIcebergRemotes(ctx context.Context, _ apigen.ListIcebergRemotesRequestObject) (apigen.ListIcebergRemotesResponseObject, error) {
	if h.svc == nil {
		return nil, apperr.NotImplemented("no service configured")
	}
	remotes, err := h.svc.ListRemotes(ctx)
	if err != nil {
		return nil, err
	}
	return apigen.ListIcebergRemotes200JSONResponse{Results: remotes}, nil
}

func (h *handlers) ListIcebergRemoteTables(ctx context.Context, req apigen.ListIcebergRemoteTablesRequestObject) (apigen.ListIcebergRemoteTablesResponseObject, error) {
	if h.svc == nil {
		return nil, apperr.NotImplemented("no service configured")
	}
	list, err := h.svc.ListTables(ctx, req.Catalog, req.Params.After, pageSize(req.Params.Amount),
		req.Params.Repository, string(req.Params.State))
	if err != nil {
		return nil, err
	}
	return apigen.ListIcebergRemoteTables200JSONResponse(list), nil
}

func (h *handlers) ListIcebergRemoteOperations(ctx context.Context, req apigen.ListIcebergRemoteOperationsRequestObject) (apigen.ListIcebergRemoteOperationsResponseObject, error) {
	if h.svc == nil {
		return nil, apperr.NotImplemented("no service configured")
	}
	if req.Params.After != "" {
		if _, err := strconv.ParseInt(req.Params.After, 10, 64); err != nil {
			return nil, apperr.BadRequest("after: must be an operation id from next_offset (got %q)", req.Params.After)
		}
	}
	list, err := h.svc.ListOperations(ctx, req.Catalog, req.Params.After, pageSize(req.Params.Amount))
	if err != nil {
		return nil, err
	}
	return apigen.ListIcebergRemoteOperations200JSONResponse(list), nil
}

// pageSize applies lakeFS's amount rules: absent or 0 → 100, -1 → the maximum (1000).
func pageSize(amount int) int {
	switch {
	case amount == 0:
		return DefaultPageSize
	case amount < 0 || amount > 1000:
		return 1000
	}
	return amount
}

func validatePush(b *apigen.IcebergPushRequest) error {
	if err := validateLocal("source", b.Source); err != nil {
		return err
	}
	return validateRemote("destination", b.Destination)
}

func validatePull(b *apigen.IcebergPullRequest) error {
	if err := validateRemote("source", b.Source); err != nil {
		return err
	}
	return validateLocal("destination", b.Destination)
}

func validateLocal(field string, t apigen.IcebergLocalTable) error {
	err := names.Repository("repository_id", t.RepositoryId)
	if err == nil {
		err = names.Reference("reference_id", t.ReferenceId)
	}
	if err == nil {
		err = names.Namespace("namespace", t.Namespace)
	}
	if err == nil {
		err = names.Name("table", t.Table)
	}
	return inField(field, err)
}

func validateRemote(field string, t apigen.IcebergRemoteTable) error {
	err := names.Namespace("namespace", t.Namespace)
	if err == nil {
		err = names.Name("table", t.Table)
	}
	return inField(field, err)
}

// inField puts a name check's 400, whose message names the field inside field, under it
// ("table: ..." becomes "source.table: ..."): the full field names are built only for an
// error, not for every request.
func inField(field string, err error) error {
	if err == nil {
		return nil
	}
	return apperr.BadRequest("%s.%s", field, apperr.PublicMessage(err))
}
