package restcat

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Nessie API is taken from what Nessie's /v1/config advertises (its overrides, as
// Nessie 0.99 sends them), only on the REST endpoint's own scheme and host, at the branch
// the REST prefix names.
func TestNessieFromConfig(t *testing.T) {
	root, err := url.Parse("http://127.0.0.1:19120/iceberg/")
	require.NoError(t, err)
	props := func(kv ...string) map[string]string {
		m := map[string]string{
			"nessie.is-nessie-catalog":   "true",
			"nessie.core-base-uri":       "http://127.0.0.1:19120/api/",
			"nessie.default-branch.name": "main",
			"nessie.prefix-pattern":      "{ref}|{warehouse}",
			"prefix":                     "main",
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	n := nessieFrom(&session{}, props(), root)
	require.NotNil(t, n)
	assert.Equal(t, "http://127.0.0.1:19120/api/v2", n.api.String())
	assert.Equal(t, "main", n.ref)

	for prefix, ref := range map[string]string{
		"dev|warehouse": "dev", "dev%7Cwarehouse": "dev", "dev@1234abcd|warehouse": "dev", "|warehouse": "main", "": "main",
	} {
		n := nessieFrom(&session{}, props("prefix", prefix), root)
		require.NotNil(t, n, prefix)
		assert.Equal(t, ref, n.ref, prefix)
	}

	for name, p := range map[string]map[string]string{
		"not Nessie":       props("nessie.is-nessie-catalog", ""),
		"another host":     props("nessie.core-base-uri", "http://nessie.example.com/api/"),
		"another scheme":   props("nessie.core-base-uri", "https://127.0.0.1:19120/api/"),
		"another port":     props("nessie.core-base-uri", "http://127.0.0.1:19121/api/"),
		"no branch at all": props("nessie.default-branch.name", "", "prefix", ""),
	} {
		assert.Nil(t, nessieFrom(&session{}, p, root), name)
	}
}

func TestCELString(t *testing.T) {
	for in, want := range map[string]string{
		"analytics.events": `"analytics.events"`,
		`a"b\c`:            `"a\"b\\c"`,
	} {
		got, ok := celString(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	_, ok := celString("a\nb")
	assert.False(t, ok, "a control character is not filtered on")
}

// A history walk is bounded by the options, or by 100 entries a page and 1,000 in all.
func TestHistoryBounds(t *testing.T) {
	assert.Equal(t, historyBounds{page: nessiePageSize, limit: nessieHistoryLimit}, boundsOf(Options{}))
	assert.Equal(t, historyBounds{page: 100, limit: 1000}, boundsOf(Options{}))
	assert.Equal(t, historyBounds{page: 1, limit: 3}, boundsOf(Options{HistoryPageSize: 1, HistoryLimit: 3}))
}
