package remotes_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/catalog"
	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/httpclient"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs"
	"github.com/iceberg-remotes/iceberg-remotes/internal/lakefs/lakefstest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/metafile"
	"github.com/iceberg-remotes/iceberg-remotes/internal/objstore"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes"
	"github.com/iceberg-remotes/iceberg-remotes/internal/remotes/remotestest"
	"github.com/iceberg-remotes/iceberg-remotes/internal/state"
)

const (
	testRepo   = "example"
	testRemote = "warehouse"
)

var (
	localNS  = []string{"accounting"}
	remoteNS = []string{"analytics"}
)

// core is the push/pull service over the lakeFS stand-in (through the real client and
// locator), an in-memory remote catalog, the real object-store reader on file:// and a
// SQLite state store: every rule of internal/remotes without the end-to-end build.
type core struct {
	t       *testing.T
	dir     string
	lake    *lakefstest.Server
	client  *lakefs.Client
	locator *lakefs.Locator
	remote  *remotes.Remote
	cat     *remotestest.Catalog
	store   state.Store
	svc     *remotes.Service
	layout  string
	uuid    string
	// before, when set, runs before each metadata read; reads counts them.
	before func(location string)
	reads  atomic.Int64
}

type hookedReader struct {
	c    *core
	next remotes.MetadataReader
}

func (h hookedReader) ReadMetadata(ctx context.Context, location string) (*remotes.RemoteMetadata, error) {
	h.c.reads.Add(1)
	if h.c.before != nil {
		h.c.before(location)
	}
	return h.next.ReadMetadata(ctx, location)
}

func ctxT(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func readFile(_ context.Context, physicalAddress string) ([]byte, error) {
	p, ok := strings.CutPrefix(physicalAddress, "file://")
	if !ok {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(p)
}

// newCore starts the backends, commits table accounting.events on main at v1 (snapshot 1)
// and returns the service. The remote trusts file:// locations under the test's directory
// (where the test writes its metadata files); mutate may change its configuration.
func newCore(t *testing.T, layout string, mutate func(*config.Remote)) *core {
	t.Helper()
	return newCoreWith(t, layout, mutate, config.ObjectStore{}, nil)
}

// newCoreWith is newCore reading the object store through objCfg under lim (nil: defaults).
func newCoreWith(t *testing.T, layout string, mutate func(*config.Remote), objCfg config.ObjectStore, lim *metafile.Limits) *core {
	t.Helper()
	c := &core{t: t, dir: t.TempDir(), layout: layout, uuid: uuid.NewString()}
	c.lake = lakefstest.NewServer(t, lakefstest.Options{ReadPhysical: readFile})
	c.lake.AddUser("svc", "AKIASVC", "svc-secret", lakefstest.FullAccess)
	c.lake.CreateRepository(testRepo, "file://"+filepath.Join(c.dir, "repo"), "main")
	var err error
	c.client, err = lakefs.New(config.LakeFS{Endpoint: c.lake.URL(), Timeout: 10 * time.Second},
		lakefs.ServiceCredentials("AKIASVC", "svc-secret"), nil)
	require.NoError(t, err)
	lay := config.TablesLayout{Layout: layout, PointerPrefix: "_lakefs_tables/iceberg", WarehousePrefix: "warehouse"}
	c.locator = lakefs.NewLocator(c.client, func(string) config.TablesLayout { return lay })
	c.store, err = state.OpenSQLite(ctxT(t), filepath.Join(c.dir, "state.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.store.Close() })
	objects, err := objstore.New(objCfg, objstore.Options{Policy: httpclient.Policy{Timeout: 30 * time.Second}})
	require.NoError(t, err)
	c.cat = remotestest.NewCatalog()
	rc := config.Remote{ID: testRemote, Type: "memory", AllowFileLocations: true,
		AllowedLocations: []string{"file://" + c.dir + "/"}}
	if mutate != nil {
		mutate(&rc)
	}
	c.remote = &remotes.Remote{Config: rc, Adapter: catalog.WithLocationMap(c.cat, rc.LocationMap)}
	c.svc = remotes.New(remotes.Options{
		Remotes: []*remotes.Remote{c.remote},
		LakeFS:  c.locator,
		Reader:  hookedReader{c: c, next: remotes.NewMetadataReader(objects, lim)},
		Store:   c.store,
	})
	c.link("main", c.version(1, nil, 1), 1)
	_, err = c.client.Commit(ctxT(t), testRepo, "main", "add table", nil)
	require.NoError(t, err)
	return c
}

func (c *core) ref(branch string) lakefs.TableRef {
	return lakefs.TableRef{Repository: testRepo, Reference: branch, Namespace: localNS, Table: "events"}
}

func (c *core) remoteID() catalog.Ident { return catalog.Ident{Namespace: remoteNS, Table: "events"} }

// version writes metadata file n of the table (snapshots 1..snaps, metadata log prev) and
// returns its location.
func (c *core) version(n int, prev []string, snaps int) string {
	var ids []int64
	for i := 1; i <= snaps; i++ {
		ids = append(ids, int64(i))
	}
	return remotestest.WriteMetadata(c.t, c.dir, "table/metadata/"+pad(n)+"-"+uuid.NewString()+".metadata.json",
		remotestest.Version{TableUUID: c.uuid, Location: "file://" + filepath.Join(c.dir, "table"), Snapshots: ids, Previous: prev})
}

func pad(n int) string {
	s := "0000" + string(rune('0'+n%10))
	return s[len(s)-5:]
}

// link stages location as the table's state on branch (hadoop: as v<version>).
func (c *core) link(branch, location string, version int) {
	c.linkTable(branch, "events", location, version)
}

// linkTable stages location as table accounting.<table>'s state on branch (hadoop: as
// v<version>).
func (c *core) linkTable(branch, table, location string, version int) {
	t := c.t
	raw, err := readFile(context.Background(), location)
	require.NoError(t, err)
	sum := md5.Sum(raw)
	path := "_lakefs_tables/iceberg/accounting/" + table + "/metadata.json"
	if c.layout == lakefs.LayoutHadoop {
		dir := "warehouse/accounting/" + table + "/metadata/"
		path = dir + "v" + string(rune('0'+version)) + ".metadata.json"
		_, err := c.client.UploadObject(ctxT(t), testRepo, branch, dir+"version-hint.text", []byte(string(rune('0'+version))), false)
		require.NoError(t, err)
	}
	_, err = c.client.StageObject(ctxT(t), testRepo, branch, path, location, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
	require.NoError(t, err)
}

func (c *core) push() {
	c.t.Helper()
	_, err := c.svc.Push(ctxT(c.t), remotes.PushRequest{Catalog: testRemote, Source: c.ref("main"),
		Destination: c.remoteID(), CreateNamespace: true})
	require.NoError(c.t, err)
}

func (c *core) pull(force, dryRun bool) (*remotes.Plan, error) {
	return c.svc.Pull(ctxT(c.t), remotes.PullRequest{Catalog: testRemote, Source: c.remoteID(),
		Destination: c.ref("main"), ForceUpdate: force, DryRun: dryRun})
}

func (c *core) lakeLocation(ref string) string {
	c.t.Helper()
	st, err := c.locator.ReadTable(ctxT(c.t), c.ref(ref))
	require.NoError(c.t, err)
	return st.MetadataLocation
}

// filter keeps the calls named in keep, in order.
func filter(calls []string, keep ...string) []string {
	var out []string
	for _, c := range calls {
		if slices.Contains(keep, c) {
			out = append(out, c)
		}
	}
	return out
}
