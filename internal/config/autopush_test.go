package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/iceberg-remotes/iceberg-remotes/internal/config"
	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

const subscribed = `
lakefs: {access_key_id: AKIA, secret_access_key: s}
iceberg_catalog:
  remotes:
    - id: c
      type: sql
      sql: {driver: sqlite, dsn: "file:c.db"}
      auto_push:
`

// Selectors are globs and destinations templates; the older list/literal form still loads
// and means the same.
func TestAutoPushSelectorsAndTemplates(t *testing.T) {
	cfg, err := config.Load(writeFile(t, subscribed+`
        - {repository: lake, branch: "etl-*", namespace: "sales.*", table: "*", destination_namespace: "{branch}_{namespace}", on_branch_delete: unpublish}
        - {repository: lake, branch: "main", namespace: [accounting, eu], table: events, destination_namespace: [analytics], destination_table: events}
`), nil)
	require.NoError(t, err)
	subs := cfg.IcebergCatalog.Remotes[0].AutoPush
	s0, err := subs[0].Parse()
	require.NoError(t, err)
	assert.True(t, s0.Branch.Match("etl-7"))
	assert.False(t, s0.Branch.Match("main"))
	assert.True(t, s0.Tables.Match([]string{"sales", "eu"}, "orders"))
	assert.False(t, s0.Tables.Match([]string{"sales"}, "orders"))
	ns, tbl, err := s0.Destination.Render(selector.Vars{Repository: "lake", Branch: "etl-7", Namespace: []string{"sales", "eu"}, Table: "orders"})
	require.NoError(t, err)
	assert.Equal(t, []string{"etl-7_sales", "eu"}, ns)
	assert.Equal(t, "orders", tbl)
	assert.Equal(t, config.OnBranchDeleteUnpublish, s0.OnBranchDelete)

	s1, err := subs[1].Parse()
	require.NoError(t, err)
	assert.Equal(t, config.DottedOrList("accounting.eu"), subs[1].Namespace, "the list form is joined")
	assert.True(t, s1.Tables.Match([]string{"accounting", "eu"}, "events"))
	assert.False(t, s1.Tables.Match([]string{"accounting", "eu"}, "other"))
	ns, tbl, err = s1.Destination.Render(selector.Vars{Branch: "main", Namespace: []string{"accounting", "eu"}, Table: "events"})
	require.NoError(t, err)
	assert.Equal(t, []string{"analytics"}, ns)
	assert.Equal(t, "events", tbl)
	assert.Equal(t, config.OnBranchDeleteKeep, s1.OnBranchDelete, "keep is the default")
}

// A tag entry selects tags with a glob, renders {tag}, and keeps its publications when the
// tag is deleted unless on_tag_delete says unpublish.
func TestAutoPushSelectsTags(t *testing.T) {
	cfg, err := config.Load(writeFile(t, subscribed+`
        - {repository: lake, tag: "v*", namespace: "*", table: "*", destination_namespace: "rel_{tag}_{namespace}", on_tag_delete: unpublish}
        - {repository: lake, tag: "nightly", namespace: sales, table: orders}
`), nil)
	require.NoError(t, err)
	subs := cfg.IcebergCatalog.Remotes[0].AutoPush
	s0, err := subs[0].Parse()
	require.NoError(t, err)
	assert.True(t, s0.Tags)
	assert.True(t, s0.MatchesRef("v1", true))
	assert.False(t, s0.MatchesRef("v1", false), "a tag entry never selects a branch of the same name")
	assert.False(t, s0.MatchesRef("main", true))
	ns, _, err := s0.Destination.Render(selector.Vars{Tag: "v1", Namespace: []string{"sales"}, Table: "orders"})
	require.NoError(t, err)
	assert.Equal(t, []string{"rel_v1_sales"}, ns)
	assert.Equal(t, config.OnBranchDeleteUnpublish, s0.OnTagDelete)
	assert.Empty(t, s0.OnBranchDelete)

	s1, err := subs[1].Parse()
	require.NoError(t, err)
	assert.Equal(t, config.OnBranchDeleteKeep, s1.OnTagDelete, "keep is the default")
	assert.True(t, s1.MatchesRef("nightly", true))

	branch, err := config.AutoPush{Repository: "lake", Branch: "v*", Namespace: "a", Table: "t"}.Parse()
	require.NoError(t, err)
	assert.False(t, branch.MatchesRef("v1", true), "a branch entry never selects a tag")
	assert.True(t, branch.MatchesRef("v1", false))
}

func TestAutoPushRefusedAtStart(t *testing.T) {
	for name, tc := range map[string]struct{ sub, key, msg string }{
		"two tables to one destination": {`{repository: r, branch: main, namespace: "sales", table: "*", destination_table: "all"}`,
			"auto_push[0].destination_namespace", "{table}"},
		"two branches to one destination": {`{repository: r, branch: "etl-*", namespace: "sales", table: "*"}`,
			"auto_push[0].destination_namespace", "{branch}"},
		"unknown placeholder":    {`{repository: r, branch: main, namespace: "a", table: t, destination_table: "{user}"}`, "auto_push[0].destination_table", "{user}"},
		"bad namespace glob":     {`{repository: r, branch: main, namespace: "a.[", table: t}`, "auto_push[0].namespace", "a.["},
		"bad table glob":         {`{repository: r, branch: main, namespace: a, table: "[x"}`, "auto_push[0].table", "[x"},
		"dot in a listed name":   {`{repository: r, branch: main, namespace: ["a.b"], table: t}`, "auto_push", "a.b"},
		"on_branch_delete":       {`{repository: r, branch: main, namespace: a, table: t, on_branch_delete: drop}`, "auto_push[0].on_branch_delete", "drop"},
		"branches and tags":      {`{repository: r, branch: main, tag: "v*", namespace: a, table: t}`, "auto_push[0].tag", "not both"},
		"neither branch nor tag": {`{repository: r, namespace: a, table: t}`, "auto_push[0].branch", "tag"},
		"bad tag glob":           {`{repository: r, tag: "v[", namespace: a, table: t}`, "auto_push[0].tag", "v["},
		"on_tag_delete":          {`{repository: r, tag: "v*", namespace: a, table: "*", destination_namespace: "{tag}", on_tag_delete: drop}`, "auto_push[0].on_tag_delete", "drop"},
		"on_tag_delete on a branch entry": {`{repository: r, branch: main, namespace: a, table: t, on_tag_delete: unpublish}`,
			"auto_push[0].on_tag_delete", "branch entry"},
		"on_branch_delete on a tag entry": {`{repository: r, tag: v1, namespace: a, table: t, on_branch_delete: unpublish}`,
			"auto_push[0].on_branch_delete", "tag entry"},
		"two tags to one destination": {`{repository: r, tag: "v*", namespace: "sales", table: "*"}`,
			"auto_push[0].destination_namespace", "{tag}"},
		"{branch} in a tag entry": {`{repository: r, tag: "v*", namespace: "*", table: "*", destination_namespace: "{branch}_{namespace}"}`,
			"auto_push[0].destination_namespace", "unknown placeholder {branch}"},
		"{tag} in a branch entry": {`{repository: r, branch: "etl-*", namespace: "*", table: "*", destination_namespace: "{tag}_{namespace}"}`,
			"auto_push[0].destination_namespace", "unknown placeholder {tag}"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, subscribed+"        - "+tc.sub+"\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}
