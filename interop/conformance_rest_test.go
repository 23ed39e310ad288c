package interop

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// restConformance is what the REST conformance runs share: the S3 the metadata lives in and
// what the peer is expected to support.
type restConformance struct {
	s3     *peers.S3
	nested bool // multi-level namespaces
	atomic bool // register with "overwrite" (an atomic re-point)
}

func (c restConformance) run(t *testing.T, newRemote func(t *testing.T) config.RESTRemote) {
	catalogtest.Run(t, catalogtest.Options{
		NestedNamespaces: c.nested,
		NonAtomicReplace: !c.atomic,
		MetadataFiles:    s3MetadataFiles(c.s3, "conformance/"+t.Name()),
		Exists:           s3Exists(c.s3),
		New: func(t *testing.T) catalog.Adapter {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			a, err := restcat.New(ctx, newRemote(t), restcat.Options{Name: "interop", Timeout: 20 * time.Second, MaxRetries: 1})
			require.NoError(t, err)
			t.Cleanup(func() { _ = a.Close() })
			return a
		},
	})
}

// Apache Iceberg's reference REST server: the conformance suite through restcat.
func TestConformanceRESTApache(t *testing.T) {
	s3 := peers.StartS3(t, "interop")
	peer := peers.StartApacheREST(t, s3)
	began := time.Now()
	// Its JDBC catalog refuses register with overwrite (406): re-points drop and register.
	restConformance{s3: s3, nested: true, atomic: false}.run(t, func(t *testing.T) config.RESTRemote {
		emptyREST(t, peer.URI)
		return config.RESTRemote{URI: peer.URI}
	})
	peers.Logf(t, "conformance on %s %s took %s", peer.Name, peer.Version, time.Since(began).Round(10*time.Millisecond))
}

// The REST stand-in over the same S3 metadata, in the mode that answers like each real
// server, with that server's expectations: a stand-in that drifts from them fails here.
func TestConformanceRESTStandIn(t *testing.T) {
	s3 := peers.StartS3(t, "interop")
	for name, c := range map[string]struct {
		mode   resttest.OverwriteMode
		atomic bool
	}{
		"as apache-rest": {resttest.OverwriteUnsupported, false},
	} {
		t.Run(name, func(t *testing.T) {
			restConformance{s3: s3, nested: true, atomic: c.atomic}.run(t, func(t *testing.T) config.RESTRemote {
				s := resttest.New(t, resttest.Options{IOProps: s3IOProps(s3), Overwrite: c.mode})
				return config.RESTRemote{URI: s.URL}
			})
		})
	}
}
