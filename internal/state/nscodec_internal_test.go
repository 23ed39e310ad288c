package state

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeNS gives what encoding/json gives, for every stored form and any other input: the
// split fast path only takes the forms it decodes the same.
func FuzzDecodeNS(f *testing.F) {
	for _, seed := range []string{
		`[]`, `["a"]`, `["a","b","c"]`, `[""]`, `["",""]`, `["a\"b"]`, `["a\\b"]`, `["\u00e9t\u00e9"]`,
		`["été","日本"]`, `["a", "b"]`, `[ "a"]`, `["a",]`, `["a""b"]`, `["a","b"`, `"a"`, `null`, ``,
		`["a\u0001"]`, "[\"a\x01\"]", "[\"\xff\"]", `["<&>"]`, `["a","b","c\"","d"]`, `[","]`, `["\",\""]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want []string
		_ = json.Unmarshal([]byte(s), &want)
		if ns, ok := splitPlainNS(s); ok {
			require.NoError(t, json.Unmarshal([]byte(s), &want), "the fast path took invalid JSON %q", s)
			assert.Equal(t, want, ns, "%q", s)
		}
		assert.Equal(t, want, decodeNS(s), "%q", s)
	})
}

// What encodeNS writes, decodeNS reads back, and plain namespaces take the fast path.
func TestNamespaceRoundTrip(t *testing.T) {
	for _, ns := range [][]string{{}, {"a"}, {"analytics", "finance"}, {""}, {"a\"b", `c\d`}, {"é", "x\ny"}, {"<&>"}, {`","`}} {
		assert.Equal(t, ns, decodeNS(encodeNS(ns)), "%q", ns)
	}
	assert.Equal(t, []string{}, decodeNS(encodeNS(nil)))
	_, ok := splitPlainNS(encodeNS([]string{"analytics", "finance"}))
	assert.True(t, ok)
	plain := encodeNS([]string{"analytics", "finance"})
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = decodeNS(plain) }))
}

// encodeNS writes what json.Marshal writes, for any levels (the fuzzed string is split at
// '|' into levels).
func FuzzEncodeNS(f *testing.F) {
	for _, seed := range []string{"", "a", "a|b|c", "|", "a\"b", `a\b`, "<&>", "été|日本", "a\x01", "\xff", "\u2028", "a\x7f"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ns := strings.Split(s, "|")
		want, err := json.Marshal(ns)
		require.NoError(t, err)
		assert.Equal(t, string(want), encodeNS(ns), "%q", ns)
	})
}

func TestEncodeNS(t *testing.T) {
	assert.Equal(t, `[]`, encodeNS(nil))
	assert.Equal(t, `[]`, encodeNS([]string{}))
	plain := []string{"analytics", "finance"}
	assert.Equal(t, `["analytics","finance"]`, encodeNS(plain))
	assert.Equal(t, 1.0, testing.AllocsPerRun(100, func() { _ = encodeNS(plain) }))
}
