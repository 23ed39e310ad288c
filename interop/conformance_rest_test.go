package interop

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/catalogtest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat"
	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog/restcat/resttest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/interop/peers"
)

// restPeer is one real Iceberg REST server, what it is expected to answer, and the stand-in
// settings that imitate it.
type restPeer struct {
	name  string
	start func(t testing.TB, s3 *peers.S3) *peers.REST
	// javaStyle: the metadata files the peer is given are worded as Iceberg's Java writer
	// words them (see s3MetadataFiles).
	javaStyle bool
	// nessie: the server is Nessie, whose own API the adapter uses for the table's history
	// (catalog.History) and to re-point atomically.
	nessie  bool
	caps    restCapabilities
	standIn resttest.Options
}

// atomic reports whether the adapter re-points the suite's tables atomically (register with
// overwrite). The suite's metadata files have no snapshot, which a Nessie re-point leaves to
// the register path too (nessie_test.go covers Nessie's atomic re-point of tables that have
// one).
func (p restPeer) atomic() bool { return p.caps.OverwriteStatus == http.StatusOK }

var restPeers = []restPeer{
	{
		name:  "apache-rest",
		start: peers.StartApacheREST,
		caps: restCapabilities{
			RegisterInMissingNamespace: http.StatusOK, // its JDBC catalog derives namespaces from tables
			OverwriteStatus:            http.StatusNotAcceptable,
			OverwriteErrorType:         "UnsupportedOperationException",
			NestedNamespace:            http.StatusOK,
			NestedWithoutParent:        http.StatusOK,
			DropWithoutPurgeKeepsFile:  true,
			RegisterSnapshotless:       http.StatusOK,
		},
		standIn: resttest.Options{Overwrite: resttest.OverwriteUnsupported, ImplicitNamespaces: true},
	},
	{
		name:      "nessie",
		start:     peers.StartNessie,
		javaStyle: true,
		nessie:    true,
		caps: restCapabilities{
			RegisterInMissingNamespace: http.StatusNotFound,
			OverwriteStatus:            http.StatusConflict, // the field is ignored: the table exists
			OverwriteErrorType:         "AlreadyExistsException",
			NestedNamespace:            http.StatusOK,
			NestedWithoutParent:        http.StatusNotFound,
			DropWithoutPurgeKeepsFile:  true,
			// Nessie cannot parse metadata without current-snapshot-id (a 500).
			RegisterSnapshotless: http.StatusInternalServerError,
		},
		standIn: resttest.Options{Overwrite: resttest.OverwriteIgnored, RequireParentNamespace: true, RequireCurrentSnapshotID: true},
	},
}

// Each real REST server, and the stand-in set up to imitate it, answer the protocol
// questions the adapter depends on the same way (the compatibility matrix in
// interop/README.md), and both pass the adapter conformance suite through restcat with
// metadata in the shared S3. A stand-in that drifts from its real server fails here.
func TestREST(t *testing.T) {
	for _, peer := range restPeers {
		t.Run(peer.name, func(t *testing.T) {
			s3 := peers.StartS3(t, "interop")
			real := peer.start(t, s3)
			t.Run("capabilities", func(t *testing.T) {
				require.Equal(t, peer.caps, probeREST(t, s3, real.URI, peer.javaStyle))
			})
			t.Run("conformance", func(t *testing.T) {
				began := time.Now()
				restConformance(t, s3, peer, func(t *testing.T) config.RESTRemote {
					emptyREST(t, real.URI)
					return config.RESTRemote{URI: real.URI}
				})
				peers.Logf(t, "conformance on %s %s took %s (re-point: %s)", real.Name, real.Version,
					time.Since(began).Round(10*time.Millisecond), map[bool]string{true: "atomic register overwrite", false: "drop-and-register fallback"}[peer.atomic()])
			})
			t.Run("state survives a restart", func(t *testing.T) {
				emptyREST(t, real.URI)
				a := restAdapter(t, s3, config.RESTRemote{URI: real.URI})
				c := testCtx(t)
				loc := s3MetadataFiles(s3, "restart/"+peer.name, peer.javaStyle)(t, 1)[0]
				checkSurvivesRestart(t, c, a, real.Proc, loc)
			})
			t.Run("native api", func(t *testing.T) {
				emptyREST(t, real.URI)
				a := restAdapter(t, s3, config.RESTRemote{URI: real.URI})
				if !peer.nessie {
					require.Nil(t, a.History(), "only a server whose history the adapter reads offers one")
					return
				}
				checkNessieHistory(t, s3, real, a)
			})
			standIn := func(t *testing.T) *resttest.Server {
				o := peer.standIn
				o.IOProps = s3IOProps(s3)
				return resttest.New(t, o)
			}
			t.Run("stand-in capabilities", func(t *testing.T) {
				require.Equal(t, peer.caps, probeREST(t, s3, standIn(t).URL, peer.javaStyle))
			})
			t.Run("stand-in conformance", func(t *testing.T) {
				restConformance(t, s3, peer, func(t *testing.T) config.RESTRemote {
					return config.RESTRemote{URI: standIn(t).URL}
				})
			})
		})
	}
}

// restConformance runs catalogtest through restcat on the remote newRemote returns (empty).
func restConformance(t *testing.T, s3 *peers.S3, peer restPeer, newRemote func(t *testing.T) config.RESTRemote) {
	catalogtest.Run(t, catalogtest.Options{
		NestedNamespaces: true,
		NonAtomicReplace: !peer.atomic(),
		MetadataFiles:    s3MetadataFiles(s3, "conformance/"+t.Name(), peer.javaStyle),
		Exists:           s3Exists(s3),
		New: func(t *testing.T) catalog.Adapter {
			return restAdapter(t, s3, newRemote(t))
		},
	})
}

// restAdapter is the adapter for cfg as the service builds it, reading metadata files from
// the shared S3 as the service would (a Nessie re-point needs them).
func restAdapter(t *testing.T, s3 *peers.S3, cfg config.RESTRemote) *restcat.Adapter {
	a, err := restcat.New(testCtx(t), cfg, restcat.Options{Name: "interop", Policy: httpclient.Policy{Timeout: 20 * time.Second, MaxRetries: 1},
		ReadMetadata: s3ReadMetadata(t, s3)})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func testCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// checkSurvivesRestart registers a table at loc through a, stops the peer (the adapter then
// gets no answer), starts it again and expects the table still there: the scenarios' "remote
// unreachable" step relies on a peer keeping its catalog across Stop and Restart.
func checkSurvivesRestart(t *testing.T, c context.Context, a catalog.Adapter, proc *peers.Process, loc string) {
	t.Helper()
	id := catalog.Ident{Namespace: []string{"restart"}, Table: "t"}
	require.NoError(t, a.CreateNamespace(c, id.Namespace))
	require.NoError(t, a.RegisterTable(c, id, loc, catalog.Provenance{}))
	proc.Stop()
	_, err := a.LoadTable(c, id)
	require.Error(t, err, "a stopped peer does not answer")
	proc.Restart()
	got, err := a.LoadTable(c, id)
	require.NoError(t, err)
	require.Equal(t, loc, got)
}
