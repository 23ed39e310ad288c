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

func TestAutoPushRefusedAtStart(t *testing.T) {
	for name, tc := range map[string]struct{ sub, key, msg string }{
		"two tables to one destination": {`{repository: r, branch: main, namespace: "sales", table: "*", destination_table: "all"}`,
			"auto_push[0].destination_namespace", "{table}"},
		"two branches to one destination": {`{repository: r, branch: "etl-*", namespace: "sales", table: "*"}`,
			"auto_push[0].destination_namespace", "{branch}"},
		"unknown placeholder":  {`{repository: r, branch: main, namespace: "a", table: t, destination_table: "{user}"}`, "auto_push[0].destination_table", "{user}"},
		"bad namespace glob":   {`{repository: r, branch: main, namespace: "a.[", table: t}`, "auto_push[0].namespace", "a.["},
		"bad table glob":       {`{repository: r, branch: main, namespace: a, table: "[x"}`, "auto_push[0].table", "[x"},
		"dot in a listed name": {`{repository: r, branch: main, namespace: ["a.b"], table: t}`, "auto_push", "a.b"},
		"on_branch_delete":     {`{repository: r, branch: main, namespace: a, table: t, on_branch_delete: drop}`, "auto_push[0].on_branch_delete", "drop"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(writeFile(t, subscribed+"        - "+tc.sub+"\n"), nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.key)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}
