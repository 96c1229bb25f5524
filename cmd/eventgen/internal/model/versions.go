package model

import (
	"fmt"
	"strconv"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/compat"
)

// Versions of an event.
//
// Each older version the catalog lists ("versions:") gets the names of the
// current one suffixed with V and its number: the payload type
// SalesOrderCreatedV1, ParseSalesOrderCreatedV1, and so on. The named types
// of the version's own schema file are suffixed too (SalesOrderLineV1), so
// that nothing collides with the current version's; the types of files that
// other schemas share (schemas/common) are the same types in every version.
//
// Each step from one version to the next has an upcaster,
// upcastSalesOrderCreatedV1(SalesOrderCreatedV1) (SalesOrderCreatedV2,
// error), and a pinned publish version a downcaster,
// downcastSalesOrderCreated(SalesOrderCreated) (SalesOrderCreatedV1,
// error). The generator writes a caster when eventgen check (package compat)
// finds no breaking change from the one schema to the other, so that every
// payload of the first is one of the second; otherwise the event's owner
// writes it (see Caster).

// versionSuffix is the suffix of the names of version n.
func versionSuffix(n int) string { return "V" + strconv.Itoa(n) }

// versions declares the names of every version of e, made of goName, and of
// the functions between them; declared says whether the payload type's
// name was free (names made from a clashing one are not declared: one error
// is enough). The types are resolved by versionPayloads.
func (b *builder) versions(ce *catalog.Event, e *Event, goName string, declared bool) {
	what := fmt.Sprintf("event %q", ce.Subject)
	current := &Version{
		Event:        e,
		Number:       ce.Version,
		Schema:       e.Schema,
		Pos:          ce.Pos,
		SchemaPos:    ce.SchemaPos,
		Payload:      e.Payload,
		Parse:        e.Parse,
		ValidateJSON: "validate" + goName + "JSON",
		DecodeJSON:   "decode" + goName + "JSON",
		SchemaVar:    e.SchemaVar,
	}
	e.Payload.Version = current
	if !declared {
		e.Versions = []*Version{current}
		e.Sends = current
		return
	}
	b.declare(current.ValidateJSON, "the raw check of "+what, ce.Pos, "")
	b.declare(current.DecodeJSON, "the decoder of "+what, ce.Pos, "")

	for _, cv := range ce.Versions {
		name := goName + versionSuffix(cv.Version)
		v := &Version{
			Event:        e,
			Number:       cv.Version,
			Schema:       b.schemas[cv.Schema],
			Pos:          cv.Pos,
			SchemaPos:    cv.SchemaPos,
			Parse:        "Parse" + name,
			ValidateJSON: "validate" + name + "JSON",
			DecodeJSON:   "decode" + name + "JSON",
			SchemaVar:    "schema" + name,
		}
		if v.Schema == nil || b.cat.Schemas[cv.Schema].Node == nil {
			b.errorf(cv.SchemaPos, "", "schema %q of version %d was not loaded", cv.Schema, cv.Version)
			continue
		}
		if cv.Version >= ce.Version {
			b.errorf(cv.Pos, "", "version %d of %q is not below its current version %d", cv.Version, ce.Subject, ce.Version)
			continue
		}
		vwhat := fmt.Sprintf("version %d of %s", cv.Version, what)
		v.Payload = &Type{Name: name, Version: v} // resolved by versionPayload
		if b.declare(name, "the payload type of "+vwhat, cv.Pos, "") {
			b.declare(v.Parse, "the parse function of "+vwhat, cv.Pos, "")
			b.declare(v.ValidateJSON, "the raw check of "+vwhat, cv.Pos, "")
			b.declare(v.DecodeJSON, "the decoder of "+vwhat, cv.Pos, "")
			b.declare(v.SchemaVar, "the compiled schema of "+vwhat, cv.Pos, "")
		}
		if _, ok := b.versionFiles[cv.Schema]; !ok {
			b.versionFiles[cv.Schema] = v
		}
		e.Versions = append(e.Versions, v)
	}
	e.Versions = append(e.Versions, current)

	for i, v := range e.Versions[:len(e.Versions)-1] {
		next := e.Versions[i+1]
		v.Upcast = &Caster{Name: "upcast" + v.Payload.Name, From: v, To: next, File: UpcastersFile, Pos: v.Pos}
		b.declare(v.Upcast.Name, fmt.Sprintf("the upcaster of version %d of %s", v.Number, what), v.Pos, "")
	}

	e.Sends = current
	if pin := ce.PublishVersion; pin != 0 && pin != ce.Version {
		e.Sends = nil
		for _, v := range e.Versions {
			if v.Number == pin {
				e.Sends = v
			}
		}
		if e.Sends == nil {
			b.errorf(ce.PublishVersionPos, "", "publish_version %d of %q is not one of its versions (%s)", pin, ce.Subject, versionList(e))
			e.Sends = current
		} else {
			e.Downcast = &Caster{Name: "downcast" + goName, From: current, To: e.Sends, File: DowncastersFile, Pos: ce.PublishVersionPos}
			b.declare(e.Downcast.Name, "the downcaster of "+what, ce.PublishVersionPos, "")
		}
	}

	if len(e.Consumers) > 0 {
		e.Decode = "decode" + goName
		b.declare(e.Decode, "the route decoder of "+what, ce.Pos, "")
	}
}

// versionList spells the versions of e for messages: "1, 2 and 3".
func versionList(e *Event) string {
	s := ""
	for i, v := range e.Versions {
		switch {
		case i == 0:
		case i == len(e.Versions)-1:
			s += " and "
		default:
			s += ", "
		}
		s += strconv.Itoa(v.Number)
	}
	return s
}

// versionPayloads resolves the payload types of e's older versions, and
// decides which casters the generator writes.
func (b *builder) versionPayloads(e *Event) {
	for _, v := range e.Versions {
		if v.Current() {
			continue
		}
		b.versionPayload(v)
	}
	for _, v := range e.Versions {
		if v.Upcast != nil {
			b.judge(v.Upcast)
		}
	}
	if e.Downcast != nil {
		b.judge(e.Downcast)
	}
}

// versionPayload resolves the type of an older version's payload, as
// payload does the current one's.
func (b *builder) versionPayload(v *Version) {
	name := v.Payload.Name
	file := b.cat.Schemas[v.Schema.Path]
	at := location{file: v.Schema.Path}
	root := documentRoot(file.Node)
	v.Node = b.node(at, root)
	// The root of the version's own file takes its name through the suffix.
	base := v.Event.Payload.Name
	if b.versionFiles[at.file] != v {
		base = name
	}
	t := b.goType(at, root, base)
	if t == nil {
		return
	}
	if t.Kind == Named && t.Named.Name == name && t.Named.Version == nil {
		t.Named.Version = v
		v.Payload = t.Named
		return
	}
	switch t.Kind {
	case Pointer, Any:
		b.errorf(nodePos(at.file, root), "", "the payload of version %d of %q must not be nullable or untyped: a payload schema needs one type", v.Number, v.Event.Subject)
		return
	}
	p := &Type{
		Name:       name,
		Kind:       Defined,
		Doc:        descriptionOf(root),
		File:       at.file,
		Pos:        nodePos(at.file, root),
		Version:    v,
		Underlying: t,
		Node:       v.Node,
	}
	v.Payload = p
	b.types = append(b.types, p)
}

// suffixOf returns the suffix of the named types of a schema file: that of
// the older version whose own file it is, "" for any other.
func (b *builder) suffixOf(file string) string {
	if v := b.versionFiles[file]; v != nil && b.payloads[file] == nil {
		return versionSuffix(v.Number)
	}
	return ""
}

// judge decides whether the generator writes c: when compat finds no
// breaking change from c.From's schema to c.To's.
func (b *builder) judge(c *Caster) {
	if c.From.Node == nil || c.To.Node == nil {
		return // not resolved: reported
	}
	findings, err := b.compare(c.From, c.To)
	if err != nil {
		b.errorf(c.From.SchemaPos, "", "cannot compare the schema of version %d of %q with that of version %d: %v",
			c.From.Number, c.From.Event.Subject, c.To.Number, err)
		return
	}
	c.Generated = len(findings) == 0
	for _, f := range findings {
		pos := f.Pos
		pos.Col = 0
		c.Why = append(c.Why, fmt.Sprintf("%s: %s: %s", pos, f.PointerText(), f.What))
	}
}

// compare returns the breaking changes, by eventgen check's rules, from a
// payload of version from to one of version to: the catalog's event with
// each version's schema, compared as two catalogs that differ in nothing
// else.
func (b *builder) compare(from, to *Version) ([]compat.Finding, error) {
	ce, ok := b.cat.Event(from.Event.Subject)
	if !ok {
		return nil, fmt.Errorf("no event %q", from.Event.Subject)
	}
	side := func(v *Version) *catalog.Catalog {
		ev := *ce
		ev.Schema = v.Schema.Path
		ev.Version = ce.Version
		ev.Versions, ev.PublishVersion = nil, 0
		c := *b.cat
		c.Events = []catalog.Event{ev}
		return &c
	}
	return compat.Compare(side(from), side(to))
}

// HandWritten returns the casters that the owners of the events write by
// hand, in the order of the events, each event's upcasters first.
func (m *Model) HandWritten() []*Caster {
	var out []*Caster
	for _, e := range m.Events {
		for _, v := range e.Versions {
			if c := v.Upcast; c != nil && !c.Generated {
				out = append(out, c)
			}
		}
		if c := e.Downcast; c != nil && !c.Generated {
			out = append(out, c)
		}
	}
	return out
}
