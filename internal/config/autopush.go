package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// AutoPush subscribes a remote to lakeFS events: the tables of the branches it selects are
// published, and follow their branch (docs/design.md section 15); an entry that selects
// tags instead publishes each tag's tables once, at the tag's commit. Parse gives its
// selectors and templates; validation runs it at start.
type AutoPush struct {
	Repository string `yaml:"repository"`
	Branch     string `yaml:"branch"` // glob pattern
	// Tag selects tags instead of branches (a glob pattern); an entry sets one of the two.
	Tag string `yaml:"tag"`
	// Namespace is a dotted glob, one pattern per level ("sales.*"); the older list form
	// ([sales, eu]) is accepted and means the same as "sales.eu".
	Namespace DottedOrList `yaml:"namespace"`
	Table     string       `yaml:"table"` // glob pattern
	// DestinationNamespace and DestinationTable are templates over {repository}, {branch}
	// (a tag entry: {tag}), {namespace}, {table} ("" keeps the source's name); the list
	// form is literal levels.
	DestinationNamespace DottedOrList `yaml:"destination_namespace"`
	DestinationTable     string       `yaml:"destination_table"`
	CreateNamespace      bool         `yaml:"create_namespace"`
	// OnBranchDelete says what post-delete-branch does with the branch's publications:
	// keep (the default) or unpublish.
	OnBranchDelete string `yaml:"on_branch_delete"`
	// OnTagDelete is the same for a tag entry and post-delete-tag.
	OnTagDelete string `yaml:"on_tag_delete"`
}

// on_branch_delete and on_tag_delete values.
const (
	OnBranchDeleteKeep      = "keep"
	OnBranchDeleteUnpublish = "unpublish"
)

// DottedOrList is a namespace written either as a dotted string ("sales.eu", possibly a
// pattern or a template) or as a YAML list of levels ([sales, eu]), which is joined with
// "."; a listed level cannot contain ".".
type DottedOrList string

// UnmarshalYAML accepts both forms.
func (d *DottedOrList) UnmarshalYAML(unmarshal func(any) error) error {
	var list []string
	if err := unmarshal(&list); err == nil {
		joined, err := DottedNamespace(list)
		if err != nil {
			return err
		}
		*d = DottedOrList(joined)
		return nil
	}
	var s string
	if err := unmarshal(&s); err != nil {
		return fmt.Errorf("must be a dotted string or a list of names")
	}
	*d = DottedOrList(s)
	return nil
}

// DottedNamespace joins namespace levels with "." (the list form of DottedOrList).
func DottedNamespace(levels []string) (string, error) {
	for _, l := range levels {
		if l == "" || strings.Contains(l, ".") {
			return "", fmt.Errorf("auto_push namespace level %q: a listed level must be non-empty and without '.' (write a dotted string instead)", l)
		}
	}
	return strings.Join(levels, "."), nil
}

// Subscription is a parsed AutoPush: its selectors and destination templates.
type Subscription struct {
	Repository string
	// Tags says the entry selects tags (Tag) rather than branches (Branch).
	Tags            bool
	Branch          selector.Pattern
	Tag             selector.Pattern
	Tables          selector.Tables
	Destination     selector.Destination
	CreateNamespace bool
	// OnBranchDelete applies to a branch entry's branches, OnTagDelete to a tag entry's
	// tags; the other is "".
	OnBranchDelete string
	OnTagDelete    string
}

// MatchesRef reports whether the subscription selects the named tag (tag true) or
// branch.
func (s Subscription) MatchesRef(name string, tag bool) bool {
	if tag != s.Tags {
		return false
	}
	if tag {
		return s.Tag.Match(name)
	}
	return s.Branch.Match(name)
}

// FieldError is a subscription error that names its field (validation prefixes the key).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Parse validates the subscription's patterns and templates. A destination that can map
// two selected tables (or, with a branch or tag glob, two refs' tables) to one remote table is
// refused, except in the single-table form (literal namespace and table), where several
// branches may publish to one fixed destination as before (the latest event wins).
func (a AutoPush) Parse() (Subscription, error) {
	fieldErr := func(field string, err error) (Subscription, error) {
		return Subscription{}, &FieldError{Field: field, Err: err}
	}
	sub := Subscription{Repository: a.Repository, CreateNamespace: a.CreateNamespace, Tags: a.Tag != ""}
	if a.Repository == "" {
		return fieldErr("repository", errors.New("must not be empty"))
	}
	var err error
	refs, refPlaceholder := &sub.Branch, selector.Branch
	switch {
	case a.Branch != "" && a.Tag != "":
		return fieldErr("tag", errors.New("an entry selects either branches or tags, not both: write two entries"))
	case a.Tag != "":
		if sub.Tag, err = selector.ParsePattern(a.Tag); err != nil {
			return fieldErr("tag", err)
		}
		refs, refPlaceholder = &sub.Tag, selector.Tag
		if a.OnBranchDelete != "" {
			return fieldErr("on_branch_delete", errors.New("applies to branch entries: a tag entry says on_tag_delete"))
		}
		if sub.OnTagDelete, err = onDelete(a.OnTagDelete); err != nil {
			return fieldErr("on_tag_delete", err)
		}
	case a.Branch != "":
		if sub.Branch, err = selector.ParsePattern(a.Branch); err != nil {
			return fieldErr("branch", err)
		}
		if a.OnTagDelete != "" {
			return fieldErr("on_tag_delete", errors.New("applies to tag entries: a branch entry says on_branch_delete"))
		}
		if sub.OnBranchDelete, err = onDelete(a.OnBranchDelete); err != nil {
			return fieldErr("on_branch_delete", err)
		}
	default:
		return fieldErr("branch", errors.New(`must not be empty (a branch name or a glob such as "release-*"; or set tag to select tags)`))
	}
	if a.Namespace == "" {
		return fieldErr("namespace", errors.New(`must not be empty (a dotted glob such as "sales.*", or a list of names)`))
	}
	if sub.Tables.Namespace, err = selector.ParseNamespacePattern(string(a.Namespace)); err != nil {
		return fieldErr("namespace", err)
	}
	if a.Table == "" {
		return fieldErr("table", errors.New(`must not be empty (a table name or a glob such as "*")`))
	}
	if sub.Tables.Table, err = selector.ParsePattern(a.Table); err != nil {
		return fieldErr("table", err)
	}
	all := []string{selector.Repository, refPlaceholder, selector.Namespace, selector.Table}
	if sub.Destination.Namespace, err = selector.ParseTemplate(string(a.DestinationNamespace), all...); err != nil {
		return fieldErr("destination_namespace", err)
	}
	if sub.Destination.Table, err = selector.ParseTemplate(a.DestinationTable, all...); err != nil {
		return fieldErr("destination_table", err)
	}
	if sub.Tables.Namespace.Literal() && sub.Tables.Table.Literal() {
		refs = nil
	}
	if err := sub.Destination.CheckInjective(sub.Tables, refs, refPlaceholder); err != nil {
		return fieldErr("destination_namespace", err)
	}
	return sub, nil
}

// onDelete checks an on_branch_delete / on_tag_delete value ("" is keep).
func onDelete(v string) (string, error) {
	switch v {
	case "":
		return OnBranchDeleteKeep, nil
	case OnBranchDeleteKeep, OnBranchDeleteUnpublish:
		return v, nil
	}
	return "", fmt.Errorf("must be %q or %q (got %q)", OnBranchDeleteKeep, OnBranchDeleteUnpublish, v)
}

// Publications configures the workers that deliver lakeFS events (every replica runs
// them). Zero values take the defaults below.
type Publications struct {
	Workers        int           `yaml:"workers"`
	MaxAttempts    int           `yaml:"max_attempts"`
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	MaxBackoff     time.Duration `yaml:"max_backoff"`
	// Lease is how long a worker holds an event without renewing it; a crashed worker's
	// event is taken over after it.
	Lease        time.Duration `yaml:"lease"`
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Publication defaults.
const (
	DefaultPublicationWorkers = 2
	DefaultMaxAttempts        = 10
	DefaultInitialBackoff     = time.Second
	DefaultMaxBackoff         = 5 * time.Minute
	DefaultLease              = 2 * time.Minute
	DefaultPollInterval       = time.Second
)

// WithDefaults fills the zero values.
func (p Publications) WithDefaults() Publications {
	set := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if p.Workers == 0 {
		p.Workers = DefaultPublicationWorkers
	}
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	set(&p.InitialBackoff, DefaultInitialBackoff)
	set(&p.MaxBackoff, DefaultMaxBackoff)
	set(&p.Lease, DefaultLease)
	set(&p.PollInterval, DefaultPollInterval)
	return p
}

func validatePublications(p Publications, bad func(key, format string, args ...any)) {
	const key = "iceberg_catalog.publications"
	if p.Workers < 0 {
		bad(key+".workers", "must not be negative")
	}
	if p.MaxAttempts < 0 {
		bad(key+".max_attempts", "must not be negative")
	}
	for name, d := range map[string]time.Duration{"initial_backoff": p.InitialBackoff, "max_backoff": p.MaxBackoff, "lease": p.Lease, "poll_interval": p.PollInterval} {
		if d < 0 {
			bad(key+"."+name, "must not be negative")
		}
	}
}

// validateAutoPush checks one subscription at start (Parse names the field) and that the
// service has its own lakeFS key (events are processed with it; without it every event
// would fail).
func validateAutoPush(key string, sub AutoPush, lakeFS LakeFS, bad func(key, format string, args ...any)) {
	if _, err := sub.Parse(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			bad(key+"."+fe.Field, "%v", fe.Err)
		} else {
			bad(key, "%v", err)
		}
	}
	if lakeFS.AccessKeyID == "" || lakeFS.SecretAccessKey == "" {
		bad(key, "automatic pushes read lakeFS with the service's own key: set lakefs.access_key_id and lakefs.secret_access_key")
	}
}
