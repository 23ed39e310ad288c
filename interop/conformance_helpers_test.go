package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go"
	icecatalog "github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// s3MetadataFiles returns a catalogtest.Options.MetadataFiles that writes real metadata files
// (iceberg-go's, for empty tables under prefix) into the shared in-process S3, where the
// Java peers' S3FileIO reads them.
//
// javaStyle adds "current-snapshot-id": -1, which Iceberg's Java writer (Spark, Flink, Trino)
// always writes and iceberg-go omits for a table without snapshots; Nessie refuses the
// metadata without it (see TestNessieRefusesSnapshotlessIcebergGoMetadata).
func s3MetadataFiles(s3 *peers.S3, prefix string, javaStyle bool) func(t *testing.T, n int) []string {
	return func(t *testing.T, n int) []string {
		out := make([]string, n)
		for i := range out {
			dir := fmt.Sprintf("%s/table-%d-%s", prefix, i, uuid.NewString()[:8])
			md := catalogtest.MetadataJSON(t, s3.Warehouse(dir))
			if javaStyle {
				md = withCurrentSnapshotID(t, md)
			}
			out[i] = s3.Put(t, fmt.Sprintf("%s/metadata/00000-%s.metadata.json", dir, uuid.NewString()), md)
		}
		return out
	}
}

// withCurrentSnapshotID sets current-snapshot-id to -1 (no snapshot) where it is absent.
func withCurrentSnapshotID(t *testing.T, md []byte) []byte {
	var m map[string]any
	require.NoError(t, json.Unmarshal(md, &m))
	if _, ok := m["current-snapshot-id"]; !ok {
		m["current-snapshot-id"] = -1
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// s3Exists is catalogtest.Options.Exists for s3:// locations in the shared S3.
func s3Exists(s3 *peers.S3) func(t *testing.T, loc string) bool {
	return func(t *testing.T, loc string) bool {
		key, ok := strings.CutPrefix(loc, "s3://"+s3.Bucket+"/")
		require.True(t, ok, "not in the shared bucket: %s", loc)
		return s3.Exists(key)
	}
}

// s3ReadMetadata reads metadata files from the shared S3 the way the service does (its
// object-store reader and metadata parser): restcat.Options.ReadMetadata.
func s3ReadMetadata(t *testing.T, s3 *peers.S3) func(ctx context.Context, location string) (table.Metadata, error) {
	objects, err := objstore.New(config.ObjectStore{S3: config.S3Store{Endpoint: s3.Endpoint, Region: s3.Region,
		AccessKeyID: s3.AccessKeyID, SecretAccessKey: s3.SecretAccessKey, ForcePathStyle: true}},
		objstore.Options{Policy: httpclient.Policy{Timeout: 20 * time.Second, MaxRetries: 1}})
	require.NoError(t, err)
	reader := remotes.NewMetadataReader(objects, nil)
	return func(ctx context.Context, location string) (table.Metadata, error) {
		md, err := reader.ReadMetadata(ctx, location)
		if err != nil {
			return nil, err
		}
		return md.Metadata, nil
	}
}

// s3IOProps are the iceberg-go FileIO properties for the shared S3.
func s3IOProps(s3 *peers.S3) iceberg.Properties {
	return iceberg.Properties{
		"s3.endpoint":                 s3.Endpoint,
		"s3.region":                   s3.Region,
		"s3.access-key-id":            s3.AccessKeyID,
		"s3.secret-access-key":        s3.SecretAccessKey,
		"s3.force-virtual-addressing": "false",
	}
}

// emptyREST drops every table (without purge) and every namespace of a REST catalog, so that
// each conformance subtest starts from an empty remote without restarting the peer.
func emptyREST(t *testing.T, uri string, opts ...rest.Option) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cat, err := rest.NewCatalog(ctx, "cleanup", uri, opts...)
	require.NoError(t, err)
	var drop func(parent table.Identifier)
	drop = func(parent table.Identifier) {
		children, err := cat.ListNamespaces(ctx, parent)
		if errors.Is(err, icecatalog.ErrNoSuchNamespace) {
			return // listed by a server that lets a child exist without its parent
		}
		require.NoError(t, err)
		for _, ns := range children {
			drop(ns)
			for id, err := range cat.ListTables(ctx, ns) {
				if errors.Is(err, icecatalog.ErrNoSuchNamespace) {
					break // a parent that only exists as the prefix of its child
				}
				require.NoError(t, err)
				require.NoError(t, cat.DropTable(ctx, id), "drop %v", id)
			}
			// A namespace that only existed implicitly (Apache's JDBC catalog derives
			// namespaces from tables) is gone with its last table.
			if err := cat.DropNamespace(ctx, ns); err != nil && !errors.Is(err, icecatalog.ErrNoSuchNamespace) {
				require.NoError(t, err, "drop namespace %v", ns)
			}
		}
	}
	drop(nil)
}
