package selector

import (
	"fmt"
	"strings"
)

// Placeholders a template may use.
const (
	Repository = "repository"
	Branch     = "branch"
	Tag        = "tag" // a tag subscription's ref, in place of {branch}
	Namespace  = "namespace"
	Table      = "table"
)

// Vars are the values a template is rendered with. Namespace is joined with "." in the
// rendered text.
type Vars struct {
	Repository string
	Branch     string
	Tag        string
	Namespace  []string
	Table      string
}

func (v Vars) value(name string) (string, error) {
	switch name {
	case Repository:
		return v.Repository, nil
	case Branch:
		return v.Branch, nil
	case Tag:
		return v.Tag, nil
	case Namespace:
		for _, level := range v.Namespace {
			if strings.Contains(level, ".") {
				return "", fmt.Errorf("namespace level %q contains '.', which a template cannot render unambiguously", level)
			}
		}
		return strings.Join(v.Namespace, "."), nil
	case Table:
		return v.Table, nil
	}
	return "", fmt.Errorf("unknown placeholder {%s}", name)
}

// Template is a validated destination template: literal text and {placeholder}s.
type Template struct {
	raw   string
	parts []part
}

type part struct {
	text string // literal text, or the placeholder's name when ph is set
	ph   bool
}

// ParseTemplate validates a template whose placeholders are among allowed. "" parses to
// the empty template (IsZero), which callers read as "the same name as the source".
func ParseTemplate(raw string, allowed ...string) (Template, error) {
	t := Template{raw: raw}
	rest := raw
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, part{text: rest})
			break
		}
		if rest[open] == '}' {
			return Template{}, fmt.Errorf("invalid template %q: '}' without '{'", raw)
		}
		if open > 0 {
			t.parts = append(t.parts, part{text: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return Template{}, fmt.Errorf("invalid template %q: '{' without '}'", raw)
		}
		name := rest[open+1 : open+end]
		if !contains(allowed, name) {
			return Template{}, fmt.Errorf("invalid template %q: unknown placeholder {%s} (allowed: %s)", raw, name, braced(allowed))
		}
		t.parts = append(t.parts, part{text: name, ph: true})
		rest = rest[open+end+1:]
	}
	return t, nil
}

// IsZero reports whether the template is empty.
func (t Template) IsZero() bool { return t.raw == "" }

// String returns the template as written.
func (t Template) String() string { return t.raw }

// Uses reports whether the template contains the placeholder.
func (t Template) Uses(name string) bool {
	for _, p := range t.parts {
		if p.ph && p.text == name {
			return true
		}
	}
	return false
}

// Render substitutes the placeholders.
func (t Template) Render(v Vars) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.ph {
			b.WriteString(p.text)
			continue
		}
		s, err := v.value(p.text)
		if err != nil {
			return "", err
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// RenderNamespace renders a namespace template and splits the result into levels; an
// empty level (a leading, trailing or doubled '.') is an error.
func (t Template) RenderNamespace(v Vars) ([]string, error) {
	s, err := t.Render(v)
	if err != nil {
		return nil, err
	}
	levels := strings.Split(s, ".")
	for _, l := range levels {
		if l == "" {
			return nil, fmt.Errorf("template %q renders the namespace %q, which has an empty level", t.raw, s)
		}
	}
	return levels, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func braced(names []string) string {
	b := make([]string, len(names))
	for i, n := range names {
		b[i] = "{" + n + "}"
	}
	return strings.Join(b, ", ")
}
