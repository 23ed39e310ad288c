package state

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// encodeNS is the stored form of a namespace: a JSON array of its levels. Levels of
// printable ASCII that encoding/json writes as they are (no quote, backslash, <, > or &) are
// written directly, in one allocation; any other namespace goes through json.Marshal.
func encodeNS(ns []string) string {
	n := 2
	for _, level := range ns {
		if !plainJSON(level) {
			raw, _ := json.Marshal(ns)
			return string(raw)
		}
		n += len(level) + 3
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteByte('[')
	for i, level := range ns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(level)
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return b.String()
}

// plainJSON reports whether encoding/json writes s between quotes byte for byte.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// decodeNS reads encodeNS's form. Every record read decodes two namespaces, so the common
// form, levels with nothing escaped, is split in place (the levels are substrings of s, one
// allocation); anything else is left to encoding/json, which gives the same result for both.
func decodeNS(s string) []string {
	if ns, ok := splitPlainNS(s); ok {
		return ns
	}
	var ns []string
	_ = json.Unmarshal([]byte(s), &ns)
	return ns
}

// splitPlainNS splits `["a","b"]` when no level holds an escape, a quote, a control
// character or invalid UTF-8 (whose JSON decoding differs from their bytes), and the array
// has no whitespace; ok is false for anything else.
func splitPlainNS(s string) (ns []string, ok bool) {
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' || !utf8.ValidString(s) {
		return nil, false
	}
	body := s[1 : len(s)-1]
	if body == "" {
		return []string{}, true
	}
	if len(body) < 2 || body[0] != '"' || body[len(body)-1] != '"' {
		return nil, false
	}
	for i := 0; i < len(body); i++ {
		if c := body[i]; c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	// With no escapes a level holds no quote, so `","` can only separate two levels.
	inner := body[1 : len(body)-1]
	ns = make([]string, 0, strings.Count(inner, `","`)+1)
	for {
		level, rest, more := strings.Cut(inner, `","`)
		if strings.IndexByte(level, '"') >= 0 {
			return nil, false
		}
		ns = append(ns, level)
		if !more {
			return ns, true
		}
		inner = rest
	}
}
