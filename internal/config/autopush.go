package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iceberg-remotes/iceberg-remotes/internal/selector"
)

// AutoPush subscribes a remote to lakeFS events: the tables of the branches it selects are
// published, and follow their branch (docs/design.md section 15). Parse gives its
// selectors and templates; validation runs it at start.
type AutoPush struct {
	Repository string `yaml:"repository"`
	Branch     string `yaml:"branch"` // glob pattern
	// Namespace is a dotted glob, one pattern per level ("sales.*"); the older list form
	// ([sales, eu]) is accepted and means the same as "sales.eu".
	Namespace DottedOrList `yaml:"namespace"`
	Table     string       `yaml:"table"` // glob pattern
	// DestinationNamespace and DestinationTable are templates over {repository}, {branch},
	// {namespace}, {table} ("" keeps the source's name); the list form is literal levels.
	DestinationNamespace DottedOrList `yaml:"destination_namespace"`
	DestinationTable     string       `yaml:"destination_table"`
	CreateNamespace      bool         `yaml:"create_namespace"`
	// OnBranchDelete says what post-delete-branch does with the branch's publications:
	// keep (the default) or unpublish.
	OnBranchDelete string `yaml:"on_branch_delete"`
}

// on_branch_delete values.
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
	Repository      string
	Branch          selector.Pattern
	Tables          selector.Tables
	Destination     selector.Destination
	CreateNamespace bool
	OnBranchDelete  string
}

// FieldError is a subscription error that names its field (validation prefixes the key).
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Parse validates the subscription's patterns and templates. A destination that can map
// two selected tables (or, with a branch glob, two branches' tables) to one remote table is
// refused, except in the single-table form (literal namespace and table), where several
// branches may publish to one fixed destination as before (the latest event wins).
func (a AutoPush) Parse() (Subscription, error) {
	fieldErr := func(field string, err error) (Subscription, error) {
		return Subscription{}, &FieldError{Field: field, Err: err}
	}
	sub := Subscription{Repository: a.Repository, CreateNamespace: a.CreateNamespace, OnBranchDelete: a.OnBranchDelete}
	if a.Repository == "" {
		return fieldErr("repository", errors.New("must not be empty"))
	}
	if a.Branch == "" {
		return fieldErr("branch", errors.New(`must not be empty (a branch name or a glob such as "release-*")`))
	}
	var err error
	if sub.Branch, err = selector.ParsePattern(a.Branch); err != nil {
		return fieldErr("branch", err)
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
	all := []string{selector.Repository, selector.Branch, selector.Namespace, selector.Table}
	if sub.Destination.Namespace, err = selector.ParseTemplate(string(a.DestinationNamespace), all...); err != nil {
		return fieldErr("destination_namespace", err)
	}
	if sub.Destination.Table, err = selector.ParseTemplate(a.DestinationTable, all...); err != nil {
		return fieldErr("destination_table", err)
	}
	branches := &sub.Branch
	if sub.Tables.Namespace.Literal() && sub.Tables.Table.Literal() {
		branches = nil
	}
	if err := sub.Destination.CheckInjective(sub.Tables, branches); err != nil {
		return fieldErr("destination_namespace", err)
	}
	switch a.OnBranchDelete {
	case "":
		sub.OnBranchDelete = OnBranchDeleteKeep
	case OnBranchDeleteKeep, OnBranchDeleteUnpublish:
	default:
		return fieldErr("on_branch_delete", fmt.Errorf("must be %q or %q (got %q)", OnBranchDeleteKeep, OnBranchDeleteUnpublish, a.OnBranchDelete))
	}
	return sub, nil
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
