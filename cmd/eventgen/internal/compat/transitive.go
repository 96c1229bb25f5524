package compat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// The changes only the history tells (see the package documentation,
// "Every retained version"). No version raise accepts them: only the
// allow-list.
const (
	VersionRemoved   Change = "version-removed"
	PropertyReserved Change = "property-reserved"
)

// fieldInfo is a property of a schema: its JSON types and where it is.
type fieldInfo struct {
	types []string // typeKey
	pos   catalog.Pos
	ptr   string
}

// typeKey returns the JSON types a schema allows, sorted, "null"
// included; nil for any type.
func typeKey(v view) []string {
	ts := typesOf(v)
	if ts.any {
		return nil
	}
	out := slices.Clone(ts.types)
	if ts.null {
		out = append(out, "null")
	}
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// fieldTypes returns every property reachable in the payload schema at
// path of s, by field name as findings print it ("lines[].note"), with its
// types: through properties, items and the schema of additionalProperties
// ("attributes.*"), following $refs, each recursive schema once per path.
func fieldTypes(s *side, path string) (map[string]fieldInfo, error) {
	c := &comparer{old: s, new: s, active: map[string]bool{}}
	root, ok := c.rootView(s, path)
	if !ok {
		return nil, fmt.Errorf("compat: %w", c.errs[0])
	}
	out := map[string]fieldInfo{}
	open := map[string]bool{}
	var walk func(v view, field string)
	walk = func(v view, field string) {
		if open[v.at.key()] {
			return
		}
		open[v.at.key()] = true
		defer delete(open, v.at.key())
		for _, name := range propertyNames(v) {
			p, ok := c.sub(s, v, "properties", name)
			if !ok {
				continue
			}
			f := joinField(field, name)
			pos, ptr := propertyAt(v, name, nil)
			out[f] = fieldInfo{types: typeKey(p), pos: pos, ptr: ptr}
			walk(p, f)
		}
		if _, has := v.kws["items"]; has {
			if items, ok := c.sub(s, v, "items"); ok {
				walk(items, field+"[]")
			}
		}
		if addl, ok := c.sub(s, v, "additionalProperties"); ok && opennessOf(addl) == mapped {
			walk(addl, joinField(field, "*"))
		}
	}
	walk(root, "")
	return out, nil
}

// typesText prints a typeKey for a message.
func typesText(types []string) string {
	switch len(types) {
	case 0:
		if types == nil {
			return "any type"
		}
		return "no type"
	case 1:
		return types[0]
	}
	return strings.Join(types, " or ")
}

// transitive returns the findings of new against everything the stream
// may still hold: each version new lists against every retained revision
// of that version (in the history hist, and as the base old lists it), the
// reserved property names of each version, and the versions old lists that
// new dropped while their events may still be retained.
func transitive(old, new *catalog.Catalog, hist *History, opts Options) ([]Finding, error) {
	keep := retention(old, new)
	after := newSide(new)
	before := newSide(old)
	var out []Finding
	var errs []error
	for i := range new.Events {
		ne := &new.Events[i]
		oe, inOld := old.Event(ne.Subject)
		consumers := slices.Clone(ne.Consumers)
		for _, ev := range versionsOf(ne) {
			hv := hist.Version(ne.Subject, ev.Version)
			var found []Finding
			compare := func(s *side, oldPath, against string) {
				c := &comparer{old: s, new: after, subject: ne.Subject, consumers: consumers, active: map[string]bool{}}
				c.root(oldPath, ev.Schema)
				for _, f := range c.out {
					f.Version, f.Against = ev.Version, against
					found = append(found, f)
				}
				errs = append(errs, c.errs...)
			}
			// The base's own schema of the version: it is being published,
			// or readable, now.
			seen := map[string]bool{}
			if inOld {
				for _, ov := range versionsOf(oe) {
					if ov.Version == ev.Version {
						rev, _ := closure(before, ov.Schema)
						seen[rev.key()] = true
						compare(before, ov.Schema, fmt.Sprintf("version %d in %s", ev.Version, opts.baseLabel()))
					}
				}
			}
			if hv != nil {
				for _, r := range hv.Revisions {
					if seen[r.key()] || !retained(r.end(hv), keep, opts.Now) {
						continue
					}
					seen[r.key()] = true
					s, err := hist.side(r)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %s version %d: %w", opts.historyFile(), ne.Subject, ev.Version, err))
						continue
					}
					from := len(found)
					compare(s, r.Schema, fmt.Sprintf("version %d as recorded %s in %s", ev.Version, r.Recorded.Format(time.RFC3339), opts.historyFile()))
					for k := from; k < len(found); k++ {
						if found[k].InOld { // a position in the history's copy of a file: name the history
							found[k].Pos, found[k].InOld = catalog.Pos{File: opts.historyFile()}, false
						}
					}
				}
				out = append(out, reserved(ne, ev, hv, after, found, consumers, opts, &errs)...)
			}
			out = append(out, found...)
		}
		if inOld {
			out = append(out, removedVersions(oe, ne, hist, keep, maxAge(old, new), consumers, opts)...)
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("compat: %w", errors.Join(errs...))
	}
	return out, nil
}

// reserved returns a finding for each property of version ev of ne whose
// name the history reserves with other types, unless the comparison with
// a retained revision already reported the field's type.
func reserved(ne *catalog.Event, ev catalog.EventVersion, hv *HistoryVersion, after *side, found []Finding, consumers []string, opts Options, errs *[]error) []Finding {
	if len(hv.Reserved) == 0 {
		return nil
	}
	fields, err := fieldTypes(after, ev.Schema)
	if err != nil {
		*errs = append(*errs, err)
		return nil
	}
	var out []Finding
	for _, r := range hv.Reserved {
		f, ok := fields[r.Field]
		if !ok || slices.Equal(f.types, r.Types) {
			continue
		}
		if slices.ContainsFunc(found, func(x Finding) bool { return x.Field == r.Field && x.Change == TypeChanged }) {
			continue
		}
		out = append(out, Finding{
			Subject: ne.Subject, Change: PropertyReserved, Pos: f.pos, Pointer: f.ptr, Field: r.Field, Version: ev.Version,
			What: fmt.Sprintf("property %q was removed from version %d on %s as %s and comes back as %s",
				r.Field, ev.Version, r.Removed.Format(time.DateOnly), typesText(r.Types), typesText(f.types)),
			Why:       fmt.Sprintf("a removed name stays reserved (%s): readers, stores and replays that kept events carrying it read it with the wrong type", opts.historyFile()),
			Consumers: consumers,
		})
	}
	return out
}

// removedVersions returns a finding for each version oe lists that ne does
// not, while events of it may still be in the stream.
func removedVersions(oe, ne *catalog.Event, hist *History, keep, age time.Duration, consumers []string, opts Options) []Finding {
	var out []Finding
	for _, ov := range versionsOf(oe) {
		if listed(ne, ov.Version) {
			continue
		}
		since := "it is published now"
		if ov.Version != sends(oe) {
			since = "the history does not say when it stopped being published"
			if hv := hist.Version(oe.Subject, ov.Version); hv != nil && hv.Superseded != nil {
				if !retained(hv.Superseded, keep, opts.Now) {
					continue // the stream holds none of its events any more
				}
				since = "it stopped being published " + hv.Superseded.Format(time.RFC3339)
			}
		}
		what := fmt.Sprintf("version %d removed from \"versions\"", ov.Version)
		if ov.Version == oe.Version && ne.Version > oe.Version {
			what = fmt.Sprintf("version raised from %d to %d without listing version %d under \"versions\"", oe.Version, ne.Version, ov.Version)
		}
		out = append(out, Finding{
			Subject: ne.Subject, Change: VersionRemoved, Pos: ne.Pos, Pointer: fmt.Sprintf("/versions/%d", ov.Version), Version: ov.Version,
			What: what,
			Why: fmt.Sprintf("its events may still be in the stream (%s; max_age %s), and consumers validate and decode each event with the schema of its version: list it under \"versions\" with its schema",
				since, durationText(age)),
			Consumers: consumers,
		})
	}
	return out
}

// maxAge returns the longer max_age of the two catalogs' stream, 0
// (unlimited) when either is.
func maxAge(old, new *catalog.Catalog) time.Duration {
	a, b := old.Stream.MaxAge, new.Stream.MaxAge
	if a == 0 && old.Stream.Name != "" || b == 0 {
		return 0
	}
	return max(a, b)
}
