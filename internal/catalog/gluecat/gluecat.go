// Package gluecat is the catalog.Adapter for AWS Glue Data Catalog remotes (type "glue").
//
// It talks to Glue through aws-sdk-go-v2's Glue client directly rather than through
// iceberg-go's Glue catalog: iceberg-go's RegisterTable reads the metadata file itself (it
// needs object-store access the service does not have for every remote, docs/design.md section 11),
// while registering a table in Glue only needs CreateTable/UpdateTable with the Iceberg
// parameters Java's GlueCatalog, pyiceberg and iceberg-go all read:
// table_type=ICEBERG, metadata_location and previous_metadata_location.
//
// Re-pointing (ReplaceTable) is a compare-and-swap built on Glue's own optimistic lock:
// UpdateTable carries the VersionId read by GetTable, so a concurrent writer makes Glue answer
// ConcurrentModificationException (409) instead of a lost update.
//
// Glue namespaces are databases, which are one level deep: a multi-level namespace is a 400.
package gluecat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
)

// Table parameter keys shared by the Iceberg Glue catalogs (Java, Python, Go).
const (
	ParamTableType                = "table_type"
	ParamMetadataLocation         = "metadata_location"
	ParamPreviousMetadataLocation = "previous_metadata_location"
	IcebergTableType              = "ICEBERG"
	// glueTableType is the Glue TableType Iceberg catalogs create tables with.
	glueTableType = "EXTERNAL_TABLE"
)

// Options tune an adapter; zero values pick defaults.
type Options struct {
	// Name is the remote id, used in error messages ("glue remote %q ...").
	Name string
	// Policy bounds each HTTP attempt of a Glue API call by Policy.Timeout and repeats a
	// failed attempt at most Policy.MaxRetries times (0: never), with the policy's backoff,
	// as httpclient's Failure rule allows (see newRetryer).
	Policy httpclient.Policy
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
	// HTTPClient overrides the SDK's HTTP client (tests, custom TLS).
	HTTPClient aws.HTTPClient
}

// Adapter is a Glue Data Catalog remote. Safe for concurrent use.
type Adapter struct {
	client      *glue.Client
	name        string
	catalogID   *string
	skipArchive bool
	timeout     time.Duration // a whole call, all attempts (see call)
	logger      *slog.Logger

	idempotentRetryer aws.Retryer // see (*Adapter).idempotent
}

var _ catalog.Adapter = (*Adapter)(nil)

// New builds an adapter from a glue remote's configuration. Static keys (with an optional
// session token) are used when set; otherwise the SDK's default credential chain
// (environment, shared config, web identity, container/instance roles). New does not call
// Glue: use Ping to check reachability and credentials.
func New(ctx context.Context, cfg config.GlueRemote, opts Options) (*Adapter, error) {
	if cfg.Region == "" {
		return nil, apperr.BadRequest("glue remote %q: region must not be empty", opts.Name)
	}
	if (cfg.AccessKeyID == "") != (cfg.SecretAccessKey == "") {
		return nil, apperr.BadRequest("glue remote %q: access_key_id and secret_access_key go together", opts.Name)
	}
	policy := opts.Policy.Normalized()
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	loadOpts := []func(*awsconfig.LoadOptions) error{
		awsconfig.WithRegion(cfg.Region),
		awsconfig.WithRetryer(func() aws.Retryer { return newRetryer(policy, false) }),
	}
	if cfg.AccessKeyID != "" {
		loadOpts = append(loadOpts, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	if opts.HTTPClient != nil {
		loadOpts = append(loadOpts, awsconfig.WithHTTPClient(opts.HTTPClient))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		// The error can quote shared-config contents but never static keys, which are not
		// part of what LoadDefaultConfig parses.
		return nil, apperr.Wrap(http.StatusBadGateway, err, "glue remote %q: loading AWS configuration failed", opts.Name)
	}
	// The SDK's own client, once the configuration has applied AWS_CA_BUNDLE and the like to
	// it (that needs the SDK's client type), or the caller's; each HTTP exchange, an
	// attempt, is bounded by the policy's timeout.
	if awsCfg.HTTPClient == nil {
		awsCfg.HTTPClient = awshttp.NewBuildableClient()
	}
	awsCfg.HTTPClient = attemptTimeout{next: awsCfg.HTTPClient, policy: policy}
	client := glue.NewFromConfig(awsCfg, func(o *glue.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
	})
	a := &Adapter{
		client:      client,
		name:        opts.Name,
		skipArchive: cfg.SkipArchive,
		timeout:     policy.Timeout*time.Duration(policy.Attempts()) + policy.MaxBackoff*time.Duration(policy.MaxRetries),
		logger:      logger,

		idempotentRetryer: newRetryer(policy, true),
	}
	if cfg.CatalogID != "" {
		a.catalogID = aws.String(cfg.CatalogID)
	}
	return a, nil
}

// Type returns "glue".
func (a *Adapter) Type() string { return "glue" }

// Close releases nothing: the SDK client holds no resources beyond pooled connections.
func (a *Adapter) Close() error { return nil }

// call bounds one Glue API call as a whole by what its policy allows (every attempt's
// timeout and the longest waits between them): a safety net, each attempt has its own
// timeout (see New).
func (a *Adapter) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.timeout)
}

func (a *Adapter) database(ns []string) (string, error) {
	if len(ns) != 1 {
		return "", apperr.BadRequest("glue remote %q: Glue databases are single-level; namespace %q has %d levels",
			a.name, strings.Join(ns, "."), len(ns))
	}
	if ns[0] == "" {
		return "", apperr.BadRequest("glue remote %q: namespace must not be empty", a.name)
	}
	return ns[0], nil
}

// NamespaceExists reports whether the Glue database exists.
func (a *Adapter) NamespaceExists(ctx context.Context, ns []string) (bool, error) {
	db, err := a.database(ns)
	if err != nil {
		return false, err
	}
	c, cancel := a.call(ctx)
	defer cancel()
	_, err = a.client.GetDatabase(c, &glue.GetDatabaseInput{CatalogId: a.catalogID, Name: aws.String(db)}, a.idempotent)
	if err != nil {
		if errorCode(err) == "EntityNotFoundException" {
			return false, nil
		}
		return false, a.mapErr(ctx, err, "getting database %q", db)
	}
	return true, nil
}

// CreateNamespace creates the Glue database; an existing one is fine.
func (a *Adapter) CreateNamespace(ctx context.Context, ns []string) error {
	db, err := a.database(ns)
	if err != nil {
		return err
	}
	c, cancel := a.call(ctx)
	defer cancel()
	_, err = a.client.CreateDatabase(c, &glue.CreateDatabaseInput{
		CatalogId:     a.catalogID,
		DatabaseInput: &types.DatabaseInput{Name: aws.String(db)},
	}, a.idempotent)
	if err != nil && errorCode(err) != "AlreadyExistsException" {
		return a.mapErr(ctx, err, "creating database %q", db)
	}
	return nil
}

// getIcebergTable reads a table and checks that it is an Iceberg table.
func (a *Adapter) getIcebergTable(ctx context.Context, db string, id catalog.Ident) (*types.Table, string, error) {
	c, cancel := a.call(ctx)
	defer cancel()
	out, err := a.client.GetTable(c, &glue.GetTableInput{
		CatalogId: a.catalogID, DatabaseName: aws.String(db), Name: aws.String(id.Table),
	}, a.idempotent)
	if err != nil {
		return nil, "", a.mapErr(ctx, err, "getting table %s", id)
	}
	if out.Table == nil {
		return nil, "", apperr.New(http.StatusBadGateway, "glue remote %q: GetTable %s returned no table", a.name, id)
	}
	loc, err := a.icebergLocation(out.Table, id)
	if err != nil {
		return nil, "", err
	}
	return out.Table, loc, nil
}

// icebergLocation returns the metadata location of an Iceberg table. A Glue table that is not
// an Iceberg table (Hive, Delta, a view...) exists under that name but cannot be loaded or
// re-pointed: that is a conflict with the remote's state (409), not a malformed request.
func (a *Adapter) icebergLocation(t *types.Table, id catalog.Ident) (string, error) {
	if !strings.EqualFold(t.Parameters[ParamTableType], IcebergTableType) {
		return "", apperr.Conflict("glue remote %q: table %s exists but is not an Iceberg table (table_type=%q)",
			a.name, id, t.Parameters[ParamTableType])
	}
	loc := t.Parameters[ParamMetadataLocation]
	if loc == "" {
		return "", apperr.Conflict("glue remote %q: Iceberg table %s has no metadata_location", a.name, id)
	}
	return loc, nil
}

// LoadTable returns the table's metadata_location.
func (a *Adapter) LoadTable(ctx context.Context, id catalog.Ident) (string, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return "", err
	}
	_, loc, err := a.getIcebergTable(ctx, db, id)
	return loc, err
}

// RegisterTable creates an Iceberg table in Glue pointing at metadataLocation.
func (a *Adapter) RegisterTable(ctx context.Context, id catalog.Ident, metadataLocation string, prov catalog.Provenance) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	params := prov.Apply(map[string]string{
		ParamTableType:        IcebergTableType,
		ParamMetadataLocation: metadataLocation,
	})
	in := &types.TableInput{
		Name:       aws.String(id.Table),
		TableType:  aws.String(glueTableType),
		Parameters: params,
	}
	if loc := tableLocation(metadataLocation); loc != "" {
		// Engines that list a table's files (Athena's console, Lake Formation) look at the
		// storage descriptor; Iceberg readers ignore it and follow metadata_location.
		in.StorageDescriptor = &types.StorageDescriptor{Location: aws.String(loc)}
	}
	c, cancel := a.call(ctx)
	defer cancel()
	_, err = a.client.CreateTable(c, &glue.CreateTableInput{
		CatalogId: a.catalogID, DatabaseName: aws.String(db), TableInput: in,
	}, a.idempotent)
	if err == nil {
		return nil
	}
	if errorCode(err) != "AlreadyExistsException" {
		return a.mapErr(ctx, err, "creating table %s", id)
	}
	_, cur, gerr := a.getIcebergTable(ctx, db, id)
	if gerr != nil {
		return gerr
	}
	if cur != metadataLocation {
		return apperr.Conflict("glue remote %q: table %s already exists at another metadata location", a.name, id)
	}
	return nil
}

// ReplaceTable re-points the table from expectedLocation to metadataLocation using Glue's
// VersionId optimistic lock; always atomic.
func (a *Adapter) ReplaceTable(ctx context.Context, id catalog.Ident, expectedLocation, metadataLocation string, prov catalog.Provenance) (bool, error) {
	db, err := a.database(id.Namespace)
	if err != nil {
		return true, err
	}
	t, cur, err := a.getIcebergTable(ctx, db, id)
	if err != nil {
		return true, err
	}
	if cur != expectedLocation {
		return true, apperr.Conflict("glue remote %q: table %s changed: its metadata location is not the expected one", a.name, id)
	}
	// UpdateTable replaces the whole definition: carry everything over and change only the
	// Iceberg pointers and the provenance. Old provenance keys are removed so that a commit
	// id from a previous push never sticks to the new metadata.
	params := catalog.RepointedParameters(t.Parameters, prov, ParamMetadataLocation, ParamPreviousMetadataLocation,
		metadataLocation, expectedLocation)
	in := &types.TableInput{
		Name:              t.Name,
		Description:       t.Description,
		Owner:             t.Owner,
		Retention:         t.Retention,
		StorageDescriptor: t.StorageDescriptor,
		PartitionKeys:     t.PartitionKeys,
		TableType:         t.TableType,
		TargetTable:       t.TargetTable,
		ViewOriginalText:  t.ViewOriginalText,
		ViewExpandedText:  t.ViewExpandedText,
		Parameters:        params,
	}
	if in.TableType == nil {
		in.TableType = aws.String(glueTableType)
	}
	c, cancel := a.call(ctx)
	defer cancel()
	_, err = a.client.UpdateTable(c, &glue.UpdateTableInput{
		CatalogId:    a.catalogID,
		DatabaseName: aws.String(db),
		TableInput:   in,
		VersionId:    t.VersionId,
		SkipArchive:  aws.Bool(a.skipArchive),
	})
	if err != nil {
		if errorCode(err) == "ConcurrentModificationException" {
			return true, apperr.Wrap(http.StatusConflict, err,
				"glue remote %q: table %s was changed concurrently; re-pointing refused", a.name, id)
		}
		return true, a.mapErr(ctx, err, "updating table %s", id)
	}
	return true, nil
}

// DropTable deletes the table from Glue; Glue never deletes data or metadata files.
func (a *Adapter) DropTable(ctx context.Context, id catalog.Ident) error {
	db, err := a.database(id.Namespace)
	if err != nil {
		return err
	}
	c, cancel := a.call(ctx)
	defer cancel()
	_, err = a.client.DeleteTable(c, &glue.DeleteTableInput{
		CatalogId: a.catalogID, DatabaseName: aws.String(db), Name: aws.String(id.Table),
	})
	if err != nil {
		return a.mapErr(ctx, err, "deleting table %s", id)
	}
	return nil
}

// Ping lists at most one database: it proves the endpoint answers and the credentials are
// accepted and allowed to read the catalog.
func (a *Adapter) Ping(ctx context.Context) error {
	c, cancel := a.call(ctx)
	defer cancel()
	_, err := a.client.GetDatabases(c, &glue.GetDatabasesInput{CatalogId: a.catalogID, MaxResults: aws.Int32(1)}, a.idempotent)
	if err != nil {
		return a.mapErr(ctx, err, "listing databases")
	}
	return nil
}

// tableLocation derives the table location from Iceberg's layout
// <table>/metadata/<file>.metadata.json; "" when the location does not follow it.
func tableLocation(metadataLocation string) string {
	i := strings.LastIndex(metadataLocation, "/")
	if i < 0 {
		return ""
	}
	dir := metadataLocation[:i]
	if !strings.HasSuffix(dir, "/metadata") {
		return ""
	}
	return strings.TrimSuffix(dir, "/metadata")
}

// errorCode returns the Glue error code ("EntityNotFoundException", ...) or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// mapErr turns an SDK error into the *apperr.Error the caller sees. The SDK's messages are
// kept only as the wrapped cause (logs); caller-visible messages name the remote and the
// operation, never credentials.
func (a *Adapter) mapErr(ctx context.Context, err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	code := errorCode(err)
	a.logger.DebugContext(ctx, "glue call failed", "remote", a.name, "op", what, "code", code, "error", err)
	switch code {
	case "EntityNotFoundException":
		return apperr.Wrap(http.StatusNotFound, err, "glue remote %q: %s: not found", a.name, what)
	case "AlreadyExistsException":
		return apperr.Wrap(http.StatusConflict, err, "glue remote %q: %s: already exists", a.name, what)
	case "ConcurrentModificationException":
		return apperr.Wrap(http.StatusConflict, err, "glue remote %q: %s: concurrent modification", a.name, what)
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"IncompleteSignatureException", "MissingAuthenticationTokenException", "ExpiredTokenException",
		"InvalidClientTokenId", "SignatureDoesNotMatch":
		return apperr.Wrap(http.StatusBadGateway, err, "glue remote %q: %s: the remote refused the configured credentials (%s)", a.name, what, code)
	case "ThrottlingException":
		return apperr.Wrap(http.StatusTooManyRequests, err, "glue remote %q: %s: throttled by the remote", a.name, what)
	case "ServiceUnavailable", "ServiceUnavailableException", "InternalServiceException", "InternalFailure":
		return apperr.Wrap(http.StatusServiceUnavailable, err, "glue remote %q: %s: remote unavailable", a.name, what)
	case "InvalidInputException", "ValidationException":
		return apperr.Wrap(http.StatusBadRequest, err, "glue remote %q: %s: invalid input: %s", a.name, what, apiMessage(err))
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return apperr.Wrap(http.StatusGatewayTimeout, err, "glue remote %q: %s: timed out", a.name, what)
	}
	if errors.Is(err, context.Canceled) {
		return apperr.Wrap(http.StatusServiceUnavailable, err, "glue remote %q: %s: cancelled", a.name, what)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return apperr.Wrap(http.StatusGatewayTimeout, err, "glue remote %q: %s: timed out", a.name, what)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		// An unmodelled HTTP error: 5xx is the remote's problem, anything else unexpected.
		if sc := re.HTTPStatusCode(); sc >= 500 {
			return apperr.Wrap(http.StatusServiceUnavailable, err, "glue remote %q: %s: remote answered %d", a.name, what, sc)
		}
	}
	return apperr.Wrap(http.StatusBadGateway, err, "glue remote %q: %s failed", a.name, what)
}

// apiMessage returns the remote's message for validation errors (it names the bad field and
// never contains credentials).
func apiMessage(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}
