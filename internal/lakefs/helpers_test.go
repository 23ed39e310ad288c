package lakefs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
)

const (
	testRepo    = "repo"
	aliceKey    = "AKIAALICE"
	aliceSecret = "alice-secret"
	bobKey      = "AKIABOB" // read-only
	bobSecret   = "bob-secret"
	eveKey      = "AKIAEVE" // denied
	eveSecret   = "eve-secret"
)

type env struct {
	srv *lakefstest.Server
	c   *Client
}

// testHTTPClient is the production HTTP client policy with test-sized timings.
func testHTTPClient(timeout time.Duration, retries int) *http.Client {
	return httpclient.New(httpclient.Options{Policy: httpclient.Policy{Timeout: timeout, MaxRetries: retries,
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}})
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := lakefstest.NewServer(t, lakefstest.Options{})
	srv.AddUser("alice", aliceKey, aliceSecret, lakefstest.FullAccess)
	srv.AddUser("bob", bobKey, bobSecret, lakefstest.ReadOnly)
	srv.AddUser("eve", eveKey, eveSecret, lakefstest.Deny)
	srv.CreateRepository(testRepo, "s3://bucket/repo", "main")
	return &env{srv: srv, c: newClient(t, srv, ServiceCredentials(aliceKey, aliceSecret))}
}

func newClient(t *testing.T, srv *lakefstest.Server, creds Credentials) *Client {
	t.Helper()
	c, err := New(config.LakeFS{Endpoint: srv.URL(), Timeout: 5 * time.Second, MaxRetries: 3}, creds, testHTTPClient(5*time.Second, 3))
	require.NoError(t, err)
	return c
}

func requireStatus(t *testing.T, err error, status int) *apperr.Error {
	t.Helper()
	require.Error(t, err)
	var ae *apperr.Error
	require.ErrorAs(t, err, &ae, "want *apperr.Error, got %T: %v", err, err)
	require.Equal(t, status, ae.Status, "error: %v", err)
	return ae
}

// newMetadata builds real table metadata with iceberg-go (format v2).
func newMetadata(t *testing.T, location string) table.Metadata {
	t.Helper()
	md, err := table.NewMetadata(catalogtest.TestSchema, iceberg.UnpartitionedSpec, table.UnsortedSortOrder,
		location, iceberg.Properties{"format-version": "2"})
	require.NoError(t, err)
	return md
}

// withSnapshot derives metadata with one more snapshot, recording prevFile in the metadata log.
func withSnapshot(t *testing.T, md table.Metadata, prevFile string, snapshotID int64) table.Metadata {
	t.Helper()
	b, err := table.MetadataBuilderFromBase(md, prevFile)
	require.NoError(t, err)
	schemaID := 0
	require.NoError(t, b.AddSnapshot(&table.Snapshot{
		SnapshotID: snapshotID, SequenceNumber: md.LastSequenceNumber() + 1, TimestampMs: time.Now().UnixMilli(),
		ManifestList: md.Location() + "/metadata/snap-" + uuid.NewString() + ".avro",
		Summary:      &table.Summary{Operation: table.OpAppend}, SchemaID: &schemaID,
	}))
	require.NoError(t, b.SetSnapshotRef("main", snapshotID, table.BranchRef))
	out, err := b.Build()
	require.NoError(t, err)
	return out
}

func marshal(t *testing.T, md table.Metadata) []byte {
	t.Helper()
	raw, err := json.Marshal(md)
	require.NoError(t, err)
	return raw
}

func gz(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(raw)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func checksum(b []byte) string {
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

// link writes content to a physical address in the stand-in's object store and links it
// into path on a branch through the client (stageObject).
func (e *env) link(t *testing.T, branch, path, physicalAddress string, content []byte) {
	t.Helper()
	e.srv.PutBlock(physicalAddress, content)
	_, err := e.c.StageObject(context.Background(), testRepo, branch, path, physicalAddress, int64(len(content)), checksum(content), "application/json")
	require.NoError(t, err)
}

// linkHadoop writes content to the object store and stages it as dir+name on hadoopRepo's
// main branch, returning its physical address.
func (e *env) linkHadoop(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	addr := "s3://bucket/hrepo/" + dir + name
	e.srv.PutBlock(addr, content)
	_, err := e.c.StageObject(context.Background(), hadoopRepo, "main", dir+name, addr, int64(len(content)), checksum(content), "")
	require.NoError(t, err)
	return addr
}
