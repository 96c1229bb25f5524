package compat

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// Change names a kind of breaking change. Allow-list entries name it.
type Change string

// The kinds of change; the package documentation gives the rule of each.
const (
	EventRemoved     Change = "event-removed"
	SubjectChanged   Change = "subject-changed"
	PublisherChanged Change = "publisher-changed"
	VersionLowered   Change = "version-lowered"

	SchemaChanged Change = "schema-changed" // to or from the schema false
	TypeChanged   Change = "type-changed"
	NullAdded     Change = "null-added"
	NullRemoved   Change = "null-removed"

	EnumAdded        Change = "enum-added"
	EnumRemoved      Change = "enum-removed"
	EnumValueAdded   Change = "enum-value-added"
	EnumValueRemoved Change = "enum-value-removed"
	ConstChanged     Change = "const-changed"

	PropertyRemoved       Change = "property-removed"
	PropertyAdded         Change = "property-added"
	PropertyRenamed       Change = "property-renamed"
	PropertyNowRequired   Change = "property-now-required"
	PropertyNowOptional   Change = "property-now-optional"
	AdditionalPropsClosed Change = "additional-properties-closed"
	AdditionalPropsOpened Change = "additional-properties-opened"

	MultipleOfChanged  Change = "multipleOf-changed"
	UniqueItemsAdded   Change = "uniqueItems-added"
	UniqueItemsRemoved Change = "uniqueItems-removed"
	PatternAdded       Change = "pattern-added"
	PatternRemoved     Change = "pattern-removed"
	PatternChanged     Change = "pattern-changed"
	FormatAdded        Change = "format-added"
	FormatRemoved      Change = "format-removed"
	FormatChanged      Change = "format-changed"
	KeywordChanged     Change = "keyword-changed"
)

// limitKeywords are the keywords of the bound changes: for each, the
// changes "<keyword>-raised", "-lowered", "-added" and "-removed".
// minimum and maximum stand for the lower and upper bound, exclusive or not.
var limitKeywords = []string{
	"minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
}

// Changes lists every kind of change, sorted.
func Changes() []Change {
	cs := []Change{
		EventRemoved, SubjectChanged, PublisherChanged, VersionLowered,
		SchemaChanged, TypeChanged, NullAdded, NullRemoved,
		EnumAdded, EnumRemoved, EnumValueAdded, EnumValueRemoved, ConstChanged,
		PropertyRemoved, PropertyAdded, PropertyRenamed, PropertyNowRequired, PropertyNowOptional,
		AdditionalPropsClosed, AdditionalPropsOpened,
		MultipleOfChanged, UniqueItemsAdded, UniqueItemsRemoved,
		PatternAdded, PatternRemoved, PatternChanged, FormatAdded, FormatRemoved, FormatChanged,
		KeywordChanged, VersionRemoved, PropertyReserved,
		StreamRenamed, MaxAgeLowered, DuplicatesLowered, DeadLettersMoved,
	}
	for _, k := range limitKeywords {
		for _, d := range []string{"raised", "lowered", "added", "removed"} {
			cs = append(cs, Change(k+"-"+d))
		}
	}
	slices.Sort(cs)
	return cs
}

// Why a change breaks.
const (
	whyNarrowed = "retained old events can fail new readers"
	whyWidened  = "new events can fail old readers"
	whyBoth     = "new events can fail old readers and retained old events can fail new readers"
)

// Finding is one breaking change.
type Finding struct {
	Subject string // the event it breaks
	Change  Change

	// Pos is where the change is: in the new version's files, or in the
	// old version's (InOld) when what changed is gone.
	Pos   catalog.Pos
	InOld bool

	// Pointer is the JSON pointer of the change in Pos.File: a schema
	// keyword, or a key of the event's catalog entry ("/publisher"); "" is
	// the whole event.
	Pointer string

	Field     string   // the payload field, "a.b[].c"; "" for the payload itself or the event
	What      string   // what changed
	Why       string   // why it breaks
	Consumers []string // the services it breaks: the event's consumers
	Accepted  string   // why Check accepted it, or ""

	// Version is the version of the event the change is in (the current
	// one for a comparison with the base's current schema); 0 for the
	// stream. Against names the older schema compared with, when it is not
	// the base's current one: "version 1 as recorded ... in ...".
	Version int
	Against string

	transitive bool // found against the history or an older version: no version raise accepts it
}

// Transitive reports whether the finding was found against the history
// or an older version of the event, or is a version removed or a reserved
// name: a raised version does not accept it, only the allow-list.
func (f Finding) Transitive() bool { return f.transitive }

// PointerText is the pointer as printed: "/" for the whole document.
func (f Finding) PointerText() string {
	if f.Pointer == "" {
		return "/"
	}
	return f.Pointer
}

// String formats the finding as
// "path:line: /json/pointer: subject: field: what: why; affects ...".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.Pos.File)
	if f.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d", f.Pos.Line)
	}
	fmt.Fprintf(&b, ": %s: %s: ", f.PointerText(), f.Subject)
	if f.Field != "" {
		fmt.Fprintf(&b, "field %q: ", f.Field)
	}
	b.WriteString(f.What)
	if f.Against != "" {
		fmt.Fprintf(&b, " (against %s)", f.Against)
	}
	fmt.Fprintf(&b, ": %s; ", f.Why)
	if len(f.Consumers) == 0 {
		b.WriteString("no consumer is declared, but any reader of the subject is affected")
	} else {
		fmt.Fprintf(&b, "affects consumers %s", strings.Join(f.Consumers, ", "))
	}
	return b.String()
}

// Compare returns every breaking change from old to new, sorted by
// position, whatever the versions and allow-lists say (Check judges them).
// An error means a schema of a loaded catalog could not be walked, such as
// a $ref to a pointer that is not there.
func Compare(old, new *catalog.Catalog) ([]Finding, error) {
	before, after := newSide(old), newSide(new)
	var out []Finding
	var errs []error
	for _, oe := range old.Events {
		ne, ok := new.Event(oe.Subject)
		if !ok {
			out = append(out, removed(old, new, oe))
			continue
		}
		consumers := slices.Clone(ne.Consumers)
		if oe.Publisher != ne.Publisher {
			out = append(out, Finding{
				Subject: oe.Subject, Change: PublisherChanged, Pos: ne.Pos, Pointer: "/publisher",
				What:      fmt.Sprintf("publisher changed from %q to %q", oe.Publisher, ne.Publisher),
				Why:       fmt.Sprintf("consumers expect events from %q, whose publisher facade loses the event", oe.Publisher),
				Consumers: consumers,
			})
		}
		if ne.Version < oe.Version {
			out = append(out, Finding{
				Subject: oe.Subject, Change: VersionLowered, Pos: ne.Pos, Pointer: "/version",
				What:      fmt.Sprintf("version lowered from %d to %d", oe.Version, ne.Version),
				Why:       "readers that dispatch on the version see an older schema's number for newer events",
				Consumers: consumers,
			})
		}
		c := &comparer{old: before, new: after, subject: oe.Subject, consumers: consumers, active: map[string]bool{}}
		c.root(oe.Schema, ne.Schema)
		out = append(out, c.out...)
		errs = append(errs, c.errs...)
	}
	out = append(out, compareStream(old, new)...)
	out = dedupe(out)
	slices.SortStableFunc(out, compareFindings)
	if len(errs) > 0 {
		return out, fmt.Errorf("compat: %w", errors.Join(errs...))
	}
	return out, nil
}

// removed reports an event of old that new lacks: a subject changed when
// exactly one new subject, unknown to old, uses its schema file, else an
// event removed.
func removed(old, new *catalog.Catalog, oe catalog.Event) Finding {
	var renamed []catalog.Event
	for _, ne := range new.Events {
		if _, known := old.Event(ne.Subject); !known && ne.Schema == oe.Schema {
			renamed = append(renamed, ne)
		}
	}
	consumers := slices.Clone(oe.Consumers)
	if len(renamed) == 1 {
		ne := renamed[0]
		return Finding{
			Subject: oe.Subject, Change: SubjectChanged, Pos: ne.Pos, Pointer: "/subject",
			What:      fmt.Sprintf("subject changed from %q to %q", oe.Subject, ne.Subject),
			Why:       "consumers subscribed to the old subject no longer receive the event",
			Consumers: consumers,
		}
	}
	return Finding{
		Subject: oe.Subject, Change: EventRemoved, Pos: oe.Pos, InOld: true,
		What:      "event removed from the catalog",
		Why:       "its consumers no longer receive it and their generated handlers disappear",
		Consumers: consumers,
	}
}

// dedupe drops the repeats of one change reached through several paths of
// one event (a shared definition used twice), keeping the first.
func dedupe(fs []Finding) []Finding {
	type key struct {
		subject  string
		change   Change
		file     string
		line     int
		inOld    bool
		pointer  string
		whatText string
		version  int
	}
	seen := map[key]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := key{f.Subject, f.Change, f.Pos.File, f.Pos.Line, f.InOld, f.Pointer, f.What, f.Version}
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Pos.File, b.Pos.File),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pointer, b.Pointer),
		cmp.Compare(a.Subject, b.Subject),
		cmp.Compare(a.Change, b.Change),
		cmp.Compare(a.What, b.What),
	)
}
