package e2e

import (
	"bufio"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// hadoopRepo is the second repository of the bulk tests, configured with the hadoop layout
// (the layout is chosen per repository, so one bulk call reads one layout).
const hadoopRepo = "hwarehouse"

// lakeFSReadOps and lakeFSWriteOps are every lakeFS operation the service calls; their
// counts are its lakeFS round trips.
var lakeFSOps = []string{"getRepository", "getBranch", "getCommit", "statObject", "getObject", "listObjects",
	"uploadObject", "stageObject", "diffBranch", "commit", "resetBranch", "getCurrentUser", "createBranch", "deleteBranch"}

func (e *env) lakeFSCalls() int {
	n := 0
	for _, op := range lakeFSOps {
		n += e.lake.Calls(op)
	}
	return n
}

// seedTables links n tables into repository repoID on main and commits them: namespaces
// b0..b9, tables t0000..., each pointing at its own copy of the iceberg-go table's metadata
// file. layout is the repository's ("pointer", or "hadoop" with a version hint). It returns
// each table's metadata location by dotted name.
func (e *env) seedTables(repoID, layout string, n int) map[string]string {
	t := e.t
	raw, err := readFile(ctx(t), e.m1)
	require.NoError(t, err)
	sum := md5.Sum(raw)
	dir := filepath.Join(e.dir, "seed-"+repoID)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	out := make(map[string]string, n)
	for i := 0; i < n; i++ {
		ns, name := fmt.Sprintf("b%d", i%10), fmt.Sprintf("t%04d", i)
		file := filepath.Join(dir, fmt.Sprintf("%05d-%s.metadata.json", i, uuid.NewString()))
		require.NoError(t, os.WriteFile(file, raw, 0o644))
		loc := "file://" + file
		path := "_lakefs_tables/iceberg/" + ns + "/" + name + "/metadata.json"
		if layout == "hadoop" {
			folder := "warehouse/" + ns + "/" + name + "/metadata/"
			path = folder + "v1.metadata.json"
			_, err := e.client.UploadObject(ctx(t), repoID, "main", folder+"version-hint.text", []byte("1"), false)
			require.NoError(t, err)
		}
		_, err := e.client.StageObject(ctx(t), repoID, "main", path, loc, int64(len(raw)), hex.EncodeToString(sum[:]), "application/json")
		require.NoError(t, err)
		out[ns+"."+name] = loc
	}
	_, err = e.client.Commit(ctx(t), repoID, "main", "seed tables", nil)
	require.NoError(t, err)
	return out
}

// bulkLine is one line (or result) of a bulk answer: a table or the totals.
type bulkLine struct {
	Type   string `json:"type"`
	Source struct {
		Namespace []string `json:"namespace"`
		Table     string   `json:"table"`
	} `json:"source"`
	Destination struct {
		Namespace []string `json:"namespace"`
		Table     string   `json:"table"`
	} `json:"destination"`
	Status  int    `json:"status"`
	Outcome string `json:"outcome"`
	Message string `json:"message"`
	// totals
	Total, Changed, Unchanged, Failed, Blocked int
	CommitID                                   string `json:"commit_id"`
}

type bulkAnswer struct {
	Results []bulkLine `json:"results"`
	Totals  bulkLine   `json:"totals"`
}

// bulkPush calls the bulk push (200 expected) and returns its answer.
func (e *env) bulkPush(body map[string]any, dryRun bool) bulkAnswer {
	e.t.Helper()
	path := "/api/v1/iceberg/remotes/" + remoteID + "/bulk/push"
	if dryRun {
		path += "?dry_run=true"
	}
	r := e.call("POST", path, body)
	require.Equal(e.t, 200, r.Status, r.Body)
	var a bulkAnswer
	require.NoError(e.t, json.Unmarshal([]byte(r.Body), &a))
	require.Len(e.t, a.Results, a.Totals.Total)
	return a
}

// bulkPushStream calls the bulk push asking for NDJSON and calls line with each line as it
// is read off the connection.
func (e *env) bulkPushStream(body map[string]any, line func(bulkLine)) {
	t := e.t
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	req, err := http.NewRequest("POST", e.api.URL+"/api/v1/iceberg/remotes/"+remoteID+"/bulk/push", strings.NewReader(string(raw)))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/x-ndjson")
	res, err := e.api.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "application/x-ndjson", res.Header.Get("Content-Type"))
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		var l bulkLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), sc.Text())
		line(l)
	}
	require.NoError(t, sc.Err())
}

func bulkBody(repoID, nsGlob, tableGlob, destNS, destTable string, createNS, force bool) map[string]any {
	return map[string]any{
		"source":           map[string]any{"repository_id": repoID, "reference_id": "main", "namespace": nsGlob, "table": tableGlob},
		"destination":      map[string]any{"namespace": destNS, "table": destTable},
		"create_namespace": createNS, "force_update": force,
	}
}
