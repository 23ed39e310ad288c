package lakefs

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
)

const hadoopRepo = "hrepo"

// layouts: testRepo uses the default pointer layout with a custom prefix, hadoopRepo the
// hadoop layout under a warehouse prefix.
func testLayouts() func(string) config.TablesLayout {
	cfg := &config.Config{Tables: config.Tables{
		Layout: "pointer", PointerPrefix: "_lakefs_tables/iceberg",
		Repositories: map[string]config.TablesLayout{hadoopRepo: {Layout: "hadoop", WarehousePrefix: "warehouse"}},
	}}
	return cfg.LayoutFor
}

func newLocatorEnv(t *testing.T) (*env, *Locator) {
	e := newEnv(t)
	e.srv.CreateRepository(hadoopRepo, "s3://bucket/hrepo", "main")
	return e, NewLocator(e.c, testLayouts())
}

// metadataFile writes a real metadata file (iceberg-go) to the object store and returns
// its location, content and metadata.
func metadataFile(t *testing.T, e *env, tableLoc string, snapshot int64) (string, []byte) {
	md := newMetadata(t, tableLoc)
	if snapshot != 0 {
		md = withSnapshot(t, md, tableLoc+"/metadata/00000-prev.metadata.json", snapshot)
	}
	raw := marshal(t, md)
	loc := fmt.Sprintf("%s/metadata/00001-%s.metadata.json", tableLoc, uuid.NewString())
	e.srv.PutBlock(loc, raw)
	return loc, raw
}
