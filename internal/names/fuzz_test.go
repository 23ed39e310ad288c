package names_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
	"github.com/iceberg-remotes/iceberg-remotes/internal/names"
)

// is400 fails unless err is nil or a 400 apperr naming the field.
func is400(t *testing.T, field string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("%s: want a 400 *apperr.Error, got %T %v", field, err, err)
	}
	if !strings.HasPrefix(ae.Message, field+":") && !strings.HasPrefix(ae.Message, field+"[") {
		t.Fatalf("message %q does not name the field %q", ae.Message, field)
	}
}

// FuzzNames checks every name rule against its definition: a name is accepted exactly when
// it satisfies the documented rule, and a refusal is always a 400 naming the field.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"events", "tax", "a.b", ".", "..", "", "a/b", "a\x00b", "ünïcødé", "repo-1", "main~2", "main^", "a b", strings.Repeat("x", 256)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := names.Name("table", s)
		is400(t, "table", err)
		valid := s != "" && len(s) <= names.MaxNameBytes && utf8.ValidString(s) && s != "." && s != ".." &&
			!strings.ContainsFunc(s, func(r rune) bool { return r == '/' || unicode.IsControl(r) })
		if valid != (err == nil) {
			t.Fatalf("Name(%q): valid=%v but err=%v", s, valid, err)
		}

		err = names.Namespace("namespace", strings.Split(s, "."))
		is400(t, "namespace", err)

		err = names.Repository("repository_id", s)
		is400(t, "repository_id", err)
		if err == nil && (len(s) < 3 || len(s) > 63 || s[0] == '-' || strings.ContainsFunc(s, func(r rune) bool {
			return (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-'
		})) {
			t.Fatalf("Repository(%q) accepted an id lakeFS refuses", s)
		}

		err = names.Reference("reference_id", s)
		is400(t, "reference_id", err)
		if err == nil && (s == "" || len(s) > 1024 || !utf8.ValidString(s) ||
			strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) })) {
			t.Fatalf("Reference(%q) accepted an invalid reference", s)
		}
	})
}
