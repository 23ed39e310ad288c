// Package names validates the user-supplied names of the remotes API (docs/design.md section 2):
// namespace levels, table names, lakeFS repository ids and references. Invalid input is a
// 400 with a message naming the field.
package names

import (
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/iceberg-remotes/iceberg-remotes/internal/apperr"
)

// MaxNameBytes bounds a namespace level or table name.
const MaxNameBytes = 255

// Name checks one namespace level or table name: non-empty, at most 255 bytes of valid
// UTF-8, no '/', no NUL or other control character, not "." or "..".
func Name(field, name string) error {
	if problem := nameProblem(name); problem != "" {
		return apperr.BadRequest("%s: %s", field, problem)
	}
	return nil
}

// nameProblem says what is wrong with a name ("" for nothing), so that a caller names the
// field only when there is something to report.
func nameProblem(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > MaxNameBytes:
		return fmt.Sprintf("longer than %d bytes", MaxNameBytes)
	case !utf8.ValidString(name):
		return "not valid UTF-8"
	case name == "." || name == "..":
		return fmt.Sprintf("%q is not a valid name", name)
	}
	for _, r := range name {
		if r == '/' {
			return fmt.Sprintf("must not contain '/' (got %q)", name)
		}
		if unicode.IsControl(r) {
			return fmt.Sprintf("must not contain control characters (got %q)", name)
		}
	}
	return ""
}

// Namespace checks every level of a namespace; it must have at least one level.
func Namespace(field string, ns []string) error {
	if len(ns) == 0 {
		return apperr.BadRequest("%s: must have at least one level", field)
	}
	for i, level := range ns {
		if problem := nameProblem(level); problem != "" {
			return apperr.BadRequest("%s[%d]: %s", field, i, problem)
		}
	}
	return nil
}

// repositoryRE is lakeFS's repository id rule.
var repositoryRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{2,62}$`)

// Repository checks a lakeFS repository id.
func Repository(field, id string) error {
	if !repositoryRE.MatchString(id) {
		return apperr.BadRequest("%s: invalid repository id %q (3-63 characters: lowercase letters, digits and '-', not starting with '-')", field, id)
	}
	return nil
}

// Reference checks a lakeFS reference (branch, tag or commit id, optionally with ~/^
// modifiers as lakeFS accepts): non-empty, printable, at most 1024 bytes, no spaces.
func Reference(field, ref string) error {
	if ref == "" {
		return apperr.BadRequest("%s: must not be empty", field)
	}
	if len(ref) > 1024 || !utf8.ValidString(ref) {
		return apperr.BadRequest("%s: invalid reference", field)
	}
	for _, r := range ref {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return apperr.BadRequest("%s: invalid reference %q", field, ref)
		}
	}
	return nil
}
