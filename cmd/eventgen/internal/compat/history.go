package compat

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// HistoryFile is the name of the schema history in the catalog directory.
// The catalog loader reads only *.yaml files, so it never takes the
// history for a catalog file.
const HistoryFile = "schema-history.json"

// DeployMargin is added to the stream's max_age when judging whether the
// events of a schema may still be in the stream: the history records when
// "eventgen history" saw a schema replaced, which is before the change was
// deployed and the old schema stopped being published.
const DeployMargin = 7 * 24 * time.Hour

// historyComment is the first member of the file, for whoever opens it.
const historyComment = "Written by eventgen history (go generate ./...): for each event and version, every schema it had " +
	"whose events may still be in the stream, and the property names removed from it (reserved: they may come back " +
	"only with the type they had). eventgen check compares the catalog with all of them. Do not edit."

// History is the schema history of the catalog (catalog/schema-history.json):
// for each event and version, every schema the version had while its
// events may still be in the stream, when each stopped being current, and
// the property names removed from it. Record keeps it up to date; Check
// compares the catalog with every revision it retains.
type History struct {
	Comment string         `json:"comment"`
	Events  []HistoryEvent `json:"events"`
	// Files holds the text of every schema file a revision names, compact,
	// by its content hash ("sha256:...").
	Files map[string]json.RawMessage `json:"files"`

	sides map[string]*side // parsed revisions, by revision key
}

// HistoryEvent is the history of one event.
type HistoryEvent struct {
	Subject  string           `json:"subject"`
	Versions []HistoryVersion `json:"versions"` // ascending
}

// HistoryVersion is the history of one version of an event.
type HistoryVersion struct {
	Version int `json:"version"`
	// Superseded is when the version stopped being the one publishers send
	// (a higher one became current or pinned, or the version left the
	// catalog); nil while publishers send it or have not sent it yet.
	Superseded *time.Time `json:"superseded,omitempty"`
	Revisions  []Revision `json:"revisions"` // oldest first
	Reserved   []Reserved `json:"reserved,omitempty"`
}

// Revision is one schema of a version: its payload schema and every file
// that schema reaches through $ref.
type Revision struct {
	Recorded time.Time         `json:"recorded"`
	Replaced *time.Time        `json:"replaced,omitempty"` // when the next revision was recorded
	Schema   string            `json:"schema"`             // the payload schema's module-relative path
	Files    map[string]string `json:"files"`              // module-relative path -> content hash
}

// Reserved is a property removed from a version's schema: its name may come
// back only with the JSON types it had.
type Reserved struct {
	Field   string    `json:"field"`           // as findings name it: "lines[].note"
	Types   []string  `json:"types,omitempty"` // sorted; "null" included; empty: any type
	Removed time.Time `json:"removed"`
}

func (r Revision) key() string {
	var b strings.Builder
	b.WriteString(r.Schema)
	for _, p := range slices.Sorted(maps.Keys(r.Files)) {
		fmt.Fprintf(&b, "|%s=%s", p, r.Files[p])
	}
	return b.String()
}

// end returns when the revision's events stopped being published, or nil
// when they may still be.
func (r Revision) end(v *HistoryVersion) *time.Time {
	switch {
	case r.Replaced != nil && v.Superseded != nil && v.Superseded.Before(*r.Replaced):
		return v.Superseded
	case r.Replaced != nil:
		return r.Replaced
	}
	return v.Superseded
}

// ParseHistory reads a schema history; file is its path as shown in
// messages.
func ParseHistory(file string, data []byte) (*History, error) {
	h := &History{}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(h); err != nil {
		return nil, fmt.Errorf("%s: not a schema history (%v): restore it from git, or delete it and run eventgen history to start a new one", file, err)
	}
	if h.Files == nil {
		h.Files = map[string]json.RawMessage{}
	}
	for _, e := range h.Events {
		for _, v := range e.Versions {
			for _, r := range v.Revisions {
				for p, hash := range r.Files {
					if _, ok := h.Files[hash]; !ok {
						return nil, fmt.Errorf("%s: %s version %d names file %s as %s, which the history does not hold", file, e.Subject, v.Version, p, hash)
					}
				}
			}
		}
	}
	return h, nil
}

// Marshal returns the history as written to its file: indented JSON,
// events by subject, versions ascending.
func (h *History) Marshal() []byte {
	h.Comment = historyComment
	if h.Files == nil {
		h.Files = map[string]json.RawMessage{}
	}
	if h.Events == nil {
		h.Events = []HistoryEvent{}
	}
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		panic(err) // only plain values and valid RawMessages
	}
	return append(data, '\n')
}

func (h *History) event(subject string) *HistoryEvent {
	i, ok := slices.BinarySearchFunc(h.Events, subject, func(e HistoryEvent, s string) int { return strings.Compare(e.Subject, s) })
	if !ok {
		return nil
	}
	return &h.Events[i]
}

func (h *History) addEvent(subject string) *HistoryEvent {
	if e := h.event(subject); e != nil {
		return e
	}
	i, _ := slices.BinarySearchFunc(h.Events, subject, func(e HistoryEvent, s string) int { return strings.Compare(e.Subject, s) })
	h.Events = slices.Insert(h.Events, i, HistoryEvent{Subject: subject})
	return &h.Events[i]
}

func (e *HistoryEvent) version(v int) *HistoryVersion {
	i, ok := slices.BinarySearchFunc(e.Versions, v, func(hv HistoryVersion, v int) int { return hv.Version - v })
	if !ok {
		return nil
	}
	return &e.Versions[i]
}

func (e *HistoryEvent) addVersion(v int) *HistoryVersion {
	if hv := e.version(v); hv != nil {
		return hv
	}
	i, _ := slices.BinarySearchFunc(e.Versions, v, func(hv HistoryVersion, v int) int { return hv.Version - v })
	e.Versions = slices.Insert(e.Versions, i, HistoryVersion{Version: v})
	return &e.Versions[i]
}

// Version returns the history of version v of subject, or nil.
func (h *History) Version(subject string, v int) *HistoryVersion {
	if e := h.event(subject); e != nil {
		return e.version(v)
	}
	return nil
}

// versionsOf returns the versions the catalog lists for e, ascending, with
// their payload schemas.
func versionsOf(e *catalog.Event) []catalog.EventVersion {
	out := slices.Clone(e.Versions)
	return append(out, catalog.EventVersion{Version: e.Version, Schema: e.Schema})
}

// sends returns the version the publisher of e sends.
func sends(e *catalog.Event) int {
	if e.PublishVersion != 0 {
		return e.PublishVersion
	}
	return e.Version
}

// listed reports whether the catalog lists version v of e.
func listed(e *catalog.Event, v int) bool {
	return e.Version == v || slices.ContainsFunc(e.Versions, func(ev catalog.EventVersion) bool { return ev.Version == v })
}

// hashJSON returns the content hash of a schema file's compacted text.
func hashJSON(raw []byte) (string, json.RawMessage) {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw) // the loader parsed it: cannot happen
	}
	sum := sha256.Sum256(b.Bytes())
	return "sha256:" + hex.EncodeToString(sum[:]), json.RawMessage(b.Bytes())
}

// closure returns the revision of the schema at path in cat: the files it
// reaches through $ref, with their hashes and texts.
func closure(s *side, path string) (Revision, map[string]json.RawMessage) {
	r := Revision{Schema: path, Files: map[string]string{}}
	texts := map[string]json.RawMessage{}
	queue := []string{path}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if _, done := r.Files[p]; done {
			continue
		}
		f, ok := s.cat.Schemas[p]
		if !ok {
			continue
		}
		hash, text := hashJSON(f.Raw)
		r.Files[p] = hash
		texts[hash] = text
		for _, ref := range refsOf(docRoot(f.Node)) {
			if target, _, err := s.resolve(p, ref); err == nil {
				queue = append(queue, target.file)
			}
		}
	}
	return r, texts
}

// refsOf returns every "$ref" string value under n.
func refsOf(n *yaml.Node) []string {
	var out []string
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if k, v := n.Content[i], n.Content[i+1]; k.Value == "$ref" && v.Kind == yaml.ScalarNode {
					out = append(out, v.Value)
				} else {
					walk(v)
				}
			}
		case yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(n)
	return out
}

// Record brings the history up to date with the catalog cat at time now:
// a new revision for each listed version whose schema differs from the
// last one recorded (the removed property names reserved), and the
// Superseded time of each version publishers no longer send. It reports
// whether anything changed.
func (h *History) Record(cat *catalog.Catalog, now time.Time) bool {
	before := h.Marshal()
	now = now.UTC().Truncate(time.Second)
	if h.Files == nil {
		h.Files = map[string]json.RawMessage{}
	}
	s := newSide(cat)
	for i := range cat.Events {
		e := &cat.Events[i]
		he := h.addEvent(e.Subject)
		for _, ev := range versionsOf(e) {
			hv := he.addVersion(ev.Version)
			rev, texts := closure(s, ev.Schema)
			var last *Revision
			if n := len(hv.Revisions); n > 0 {
				last = &hv.Revisions[n-1]
			}
			if last == nil || last.key() != rev.key() {
				if last != nil {
					h.reserve(hv, *last, s, ev.Schema, now)
					if last.Replaced == nil {
						last.Replaced = &now
					}
				}
				rev.Recorded = now
				hv.Revisions = append(hv.Revisions, rev)
				maps.Copy(h.Files, texts)
			}
			switch p := sends(e); {
			case ev.Version == p:
				hv.Superseded = nil
			case ev.Version < p && hv.Superseded == nil:
				hv.Superseded = &now
			}
		}
	}
	// Versions and events no longer in the catalog are no longer sent.
	for i := range h.Events {
		he := &h.Events[i]
		e, _ := cat.Event(he.Subject)
		for j := range he.Versions {
			hv := &he.Versions[j]
			if (e == nil || !listed(e, hv.Version)) && hv.Superseded == nil {
				hv.Superseded = &now
			}
		}
	}
	return !bytes.Equal(before, h.Marshal())
}

// reserve records the properties of the revision last that the schema at
// path of the side s no longer has.
func (h *History) reserve(hv *HistoryVersion, last Revision, s *side, path string, now time.Time) {
	old, err := h.side(last)
	if err != nil {
		return
	}
	was, err := fieldTypes(old, last.Schema)
	if err != nil {
		return
	}
	is, err := fieldTypes(s, path)
	if err != nil {
		return
	}
	for _, name := range slices.Sorted(maps.Keys(was)) {
		if _, kept := is[name]; kept {
			continue
		}
		r := Reserved{Field: name, Types: was[name].types, Removed: now}
		if i := slices.IndexFunc(hv.Reserved, func(r Reserved) bool { return r.Field == name }); i >= 0 {
			hv.Reserved[i] = r
		} else {
			hv.Reserved = append(hv.Reserved, r)
		}
	}
	slices.SortFunc(hv.Reserved, func(a, b Reserved) int { return strings.Compare(a.Field, b.Field) })
}

// side returns the catalog side of a revision: its files, parsed.
func (h *History) side(r Revision) (*side, error) {
	key := r.key()
	if s, ok := h.sides[key]; ok {
		return s, nil
	}
	cat := &catalog.Catalog{Schemas: map[string]*catalog.SchemaFile{}}
	for p, hash := range r.Files {
		text, ok := h.Files[hash]
		if !ok {
			return nil, fmt.Errorf("the history does not hold %s (%s)", p, hash)
		}
		f, err := catalog.ParseSchemaFile(p, text)
		if err != nil {
			return nil, err
		}
		cat.Schemas[p] = f
	}
	s := newSide(cat)
	if h.sides == nil {
		h.sides = map[string]*side{}
	}
	h.sides[key] = s
	return s, nil
}

// retention is how long after a schema stopped being published its events
// may still be in the stream: 0 is forever.
func retention(cats ...*catalog.Catalog) time.Duration {
	var d time.Duration
	for _, c := range cats {
		if c == nil || c.Stream.Name == "" {
			continue
		}
		if c.Stream.MaxAge == 0 {
			return 0
		}
		d = max(d, c.Stream.MaxAge)
	}
	if d == 0 {
		return 0
	}
	return d + DeployMargin
}

// retained reports whether events published until end may still be in the
// stream at now; a nil end is not over.
func retained(end *time.Time, keep time.Duration, now time.Time) bool {
	return end == nil || keep == 0 || now.Before(end.Add(keep))
}

// Prune drops the revisions whose events cannot be in the stream any more
// (keep after they stopped being published; 0 keeps all), the versions
// left with no revision and no reserved name, and the files no revision
// names. Reserved names stay.
func (h *History) Prune(keep time.Duration, now time.Time) {
	if keep > 0 {
		for i := range h.Events {
			he := &h.Events[i]
			for j := range he.Versions {
				hv := &he.Versions[j]
				hv.Revisions = slices.DeleteFunc(hv.Revisions, func(r Revision) bool { return !retained(r.end(hv), keep, now) })
			}
			he.Versions = slices.DeleteFunc(he.Versions, func(hv HistoryVersion) bool { return len(hv.Revisions) == 0 && len(hv.Reserved) == 0 })
		}
		h.Events = slices.DeleteFunc(h.Events, func(he HistoryEvent) bool { return len(he.Versions) == 0 })
	}
	used := map[string]bool{}
	for _, he := range h.Events {
		for _, hv := range he.Versions {
			for _, r := range hv.Revisions {
				for _, hash := range r.Files {
					used[hash] = true
				}
			}
		}
	}
	maps.DeleteFunc(h.Files, func(hash string, _ json.RawMessage) bool { return !used[hash] })
	h.sides = nil
}

// Update records the catalog in the history and prunes what the stream
// cannot hold any more: what "eventgen history" writes.
func (h *History) Update(cat *catalog.Catalog, now time.Time) {
	h.Record(cat, now)
	h.Prune(retention(cat), now)
}

// Stale returns the subjects whose entry in the history does not record
// the catalog as it is: a schema not recorded yet, or a version sent or
// superseded since. Nothing is pruned: a history is not stale because time
// passed.
func (h *History) Stale(cat *catalog.Catalog) []string {
	c := h.clone()
	c.Record(cat, time.Unix(0, 0))
	var out []string
	for _, ce := range c.Events {
		he := h.event(ce.Subject)
		if he == nil || !bytes.Equal(mustJSON(ce), mustJSON(*he)) {
			out = append(out, ce.Subject)
		}
	}
	return out
}

func (h *History) clone() *History {
	var c History
	if err := json.Unmarshal(h.Marshal(), &c); err != nil {
		panic(err)
	}
	if c.Files == nil {
		c.Files = map[string]json.RawMessage{}
	}
	return &c
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// merge returns the union of histories: every revision and reserved name
// of either, and for each version the more cautious Superseded (nil, or
// the later time). Nil histories are skipped.
func merge(hs ...*History) *History {
	out := &History{Files: map[string]json.RawMessage{}}
	for _, h := range hs {
		if h == nil {
			continue
		}
		maps.Copy(out.Files, h.Files)
		for _, he := range h.Events {
			oe := out.addEvent(he.Subject)
			for _, hv := range he.Versions {
				ov := oe.version(hv.Version)
				if ov == nil {
					oe.addVersion(hv.Version)
					ov = oe.version(hv.Version)
					ov.Superseded = hv.Superseded
				} else if ov.Superseded != nil && (hv.Superseded == nil || hv.Superseded.After(*ov.Superseded)) {
					ov.Superseded = hv.Superseded
				}
				for _, r := range hv.Revisions {
					i := slices.IndexFunc(ov.Revisions, func(o Revision) bool { return o.key() == r.key() })
					switch {
					case i < 0:
						ov.Revisions = append(ov.Revisions, r)
					case ov.Revisions[i].Replaced != nil && (r.Replaced == nil || r.Replaced.After(*ov.Revisions[i].Replaced)):
						ov.Revisions[i].Replaced = r.Replaced
					}
				}
				for _, r := range hv.Reserved {
					if !slices.ContainsFunc(ov.Reserved, func(o Reserved) bool { return o.Field == r.Field }) {
						ov.Reserved = append(ov.Reserved, r)
					}
				}
			}
		}
	}
	return out
}

// lost returns a message for each revision and reserved name of base
// whose events may still be in the stream and that cur no longer holds:
// the history only grows until the stream forgets.
func lost(base, cur *History, file, label string, keep time.Duration, now time.Time) catalog.Diagnostics {
	var out catalog.Diagnostics
	if base == nil {
		return nil
	}
	if cur == nil {
		cur = &History{}
	}
	at := catalog.Pos{File: file}
	for _, he := range base.Events {
		for _, hv := range he.Versions {
			cv := cur.Version(he.Subject, hv.Version)
			for _, r := range hv.Revisions {
				if !retained(r.end(&hv), keep, now) {
					continue
				}
				if cv == nil || !slices.ContainsFunc(cv.Revisions, func(c Revision) bool { return c.key() == r.key() }) {
					out = append(out, catalog.Diagnostic{Pos: at, Message: fmt.Sprintf(
						"the history lost the schema of %s version %d recorded %s, which %s has and whose events may still be in the stream (restore the entry: the history only grows)",
						he.Subject, hv.Version, r.Recorded.Format(time.RFC3339), label)})
				}
			}
			for _, r := range hv.Reserved {
				if cv == nil || !slices.ContainsFunc(cv.Reserved, func(c Reserved) bool { return c.Field == r.Field }) {
					out = append(out, catalog.Diagnostic{Pos: at, Message: fmt.Sprintf(
						"the history lost the reserved property %q of %s version %d, which %s has (restore the entry: removed names stay reserved)",
						r.Field, he.Subject, hv.Version, label)})
				}
			}
		}
	}
	return out
}
