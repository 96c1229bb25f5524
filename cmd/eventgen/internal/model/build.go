package model

import (
	"fmt"
	"go/token"
	"sort"
	"strings"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/naming"
)

// Build resolves cat into a Model. It reports every problem it finds, as
// Errors sorted by position.
func Build(cat *catalog.Catalog, opts Options) (*Model, error) {
	b := newBuilder(cat)
	if !token.IsIdentifier(opts.Package) || token.IsKeyword(opts.Package) {
		b.errorf(catalog.Pos{}, "", "package name %q is not a Go identifier", opts.Package)
	}
	m := &Model{
		Package:   opts.Package,
		SDKImport: opts.SDKImport,
		Sources:   cat.Files,
		Stream: Stream{
			Name:             cat.Stream.Name,
			Subjects:         cat.Stream.Subjects,
			Duplicates:       cat.Stream.Duplicates,
			MaxAge:           cat.Stream.MaxAge,
			Replicas:         cat.Stream.Replicas,
			DeadLetterStream: cat.Stream.DeadLetterStream,
			DeadLetterPrefix: cat.Stream.DeadLetterPrefix,
		},
	}
	for _, p := range sortedKeys(cat.Schemas) {
		s := &Schema{Path: p, Raw: cat.Schemas[p].Raw}
		m.Schemas = append(m.Schemas, s)
		b.schemas[p] = s
	}

	// Package-level names that do not come from the catalog.
	for _, name := range []string{"Subjects", "Catalog", "ValidateJSON", "schemaFiles", "validate", "validator"} {
		b.declare(name, "a name eventgen reserves", catalog.Pos{}, "")
	}

	services := map[string]*Service{}
	for _, cs := range cat.Services {
		s := b.service(cs)
		services[s.Name] = s
		m.Services = append(m.Services, s)
	}
	sort.Slice(m.Services, func(i, j int) bool { return m.Services[i].Name < m.Services[j].Name })

	events := make([]*catalog.Event, len(cat.Events))
	for i := range cat.Events {
		events[i] = &cat.Events[i]
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Subject < events[j].Subject })
	for _, ce := range events {
		e := b.event(ce, services)
		if e != nil {
			m.Events = append(m.Events, e)
		}
	}
	for _, e := range m.Events {
		if e.Publisher != nil {
			e.Publisher.Publishes = append(e.Publisher.Publishes, e)
		}
		for _, c := range e.Consumers {
			c.Consumes = append(c.Consumes, e)
		}
	}

	b.checkFacadeMethods(m.Services)

	// Payload types: first the root of each event's schema, so that a file
	// that is a payload keeps the payload's name when another one refers to it.
	for _, e := range m.Events {
		b.payload(e)
	}
	for _, e := range m.Events {
		b.versionPayloads(e)
	}
	b.checkInPlaceCycles()
	m.Nodes = b.sortedNodes()
	m.Types = b.types
	sort.SliceStable(m.Types, func(i, j int) bool {
		a, c := m.Types[i], m.Types[j]
		switch {
		case a.File != c.File:
			return a.File < c.File
		case a.Pos.Line != c.Pos.Line:
			return a.Pos.Line < c.Pos.Line
		case a.Pos.Col != c.Pos.Col:
			return a.Pos.Col < c.Pos.Col
		}
		return a.Name < c.Name
	})

	if len(b.errs) > 0 {
		b.errs.sort()
		return nil, b.errs
	}
	return m, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// declaration is what first took a package-level Go name.
type declaration struct {
	what string // "the type of /properties/lines/items", "the payload type of event \"a.b.c\""
	pos  catalog.Pos
}

func (d declaration) String() string {
	if d.pos.File == "" {
		return d.what
	}
	return d.what + " at " + posString(d.pos)
}

// builder collects the model and its errors.
type builder struct {
	cat     *catalog.Catalog
	errs    Errors
	scope   map[string]declaration // package-level identifiers
	schemas map[string]*Schema     // by path
	types   []*Type

	named        map[string]*Type       // named types by schema location (file#pointer)
	nodes        map[string]*SchemaNode // schema nodes by location
	visiting     map[string]bool        // locations being resolved, against $ref cycles
	payloads     map[string]*Event      // the first event whose payload is a file, by path
	versionFiles map[string]*Version    // the first older version whose payload is a file, by path
	bases        map[string]string      // schema file path -> base URI
	byURI        map[string]string      // base URI (and file:/// URI) -> schema file path
}

func newBuilder(cat *catalog.Catalog) *builder {
	b := &builder{
		cat:          cat,
		scope:        map[string]declaration{},
		schemas:      map[string]*Schema{},
		named:        map[string]*Type{},
		nodes:        map[string]*SchemaNode{},
		visiting:     map[string]bool{},
		payloads:     map[string]*Event{},
		versionFiles: map[string]*Version{},
		bases:        map[string]string{},
		byURI:        map[string]string{},
	}
	b.indexSchemaURIs()
	return b
}

// errorf records a problem; the same problem found again, from another
// path through the schemas, is recorded once.
func (b *builder) errorf(pos catalog.Pos, pointer, format string, args ...any) {
	e := &Error{Pos: pos, Pointer: pointer, Message: fmt.Sprintf(format, args...)}
	for _, f := range b.errs {
		if *f == *e {
			return
		}
	}
	b.errs = append(b.errs, e)
}

// declare takes a package-level Go name for what is at pos (and pointer,
// in a schema). A name already taken is an error at pos that names the
// first declaration too.
func (b *builder) declare(name, what string, pos catalog.Pos, pointer string) bool {
	if first, ok := b.scope[name]; ok {
		hint := ""
		if strings.HasPrefix(what, "the payload type") || strings.HasPrefix(first.what, "the payload type") {
			hint = "; set go_name on an event to rename its payload type"
		}
		b.errorf(pos, pointer, "Go name %q (%s) is already used by %s%s", name, what, first, hint)
		return false
	}
	b.scope[name] = declaration{what: what, pos: pos}
	return true
}

func (b *builder) service(cs catalog.Service) *Service {
	name := naming.CamelCase(cs.Name)
	s := &Service{
		Name:         cs.Name,
		Description:  cs.Description,
		Owner:        cs.Owner,
		External:     cs.External,
		Pos:          cs.Pos,
		Const:        "Service" + name,
		Publisher:    name + "Publisher",
		NewPublisher: "New" + name + "Publisher",
		Outbox:       name + "Outbox",
		NewOutbox:    "New" + name + "Outbox",
		Handlers:     name + "Handlers",
		Consume:      "Consume" + name,
	}
	if !naming.Exported(name) {
		b.errorf(cs.Pos, "", "cannot make a Go name from service name %q", cs.Name)
		return s
	}
	what := fmt.Sprintf("service %q", cs.Name)
	for _, n := range []string{s.Const, s.Publisher, s.NewPublisher, s.Outbox, s.NewOutbox, s.Handlers, s.Consume} {
		b.declare(n, what, cs.Pos, "")
	}
	return s
}

func (b *builder) event(ce *catalog.Event, services map[string]*Service) *Event {
	e := &Event{
		Subject:     ce.Subject,
		Version:     ce.Version,
		Publisher:   services[ce.Publisher],
		Description: ce.Description,
		Schema:      b.schemas[ce.Schema],
		Pos:         ce.Pos,
		Const:       "Subject" + naming.CamelCase(ce.Subject),
	}
	if e.Publisher == nil {
		b.errorf(ce.Pos, "", "publisher %q is not a declared service", ce.Publisher)
	}
	for _, c := range ce.Consumers {
		s := services[c]
		if s == nil {
			b.errorf(ce.Pos, "", "consumer %q is not a declared service", c)
			continue
		}
		e.Consumers = append(e.Consumers, s)
	}
	sort.Slice(e.Consumers, func(i, j int) bool { return e.Consumers[i].Name < e.Consumers[j].Name })
	if e.Schema == nil || b.cat.Schemas[ce.Schema].Node == nil {
		b.errorf(ce.SchemaPos, "", "schema %q was not loaded", ce.Schema)
		return nil
	}

	goName := ce.GoName
	if goName == "" {
		tokens := strings.Split(ce.Subject, ".")
		goName = naming.CamelCase(strings.Join(tokens[max(0, len(tokens)-2):], "_"))
	}
	if !naming.Exported(goName) {
		b.errorf(ce.Pos, "", "cannot make a Go type name from %q; set go_name to an exported Go identifier", goName)
		return nil
	}
	what := fmt.Sprintf("event %q", ce.Subject)
	b.declare(e.Const, "the subject constant of "+what, ce.Pos, "")
	e.Parse = "Parse" + goName
	e.SchemaVar = "schema" + goName
	declared := b.declare(goName, "the payload type of "+what, ce.Pos, "")
	if declared {
		// Names made from a clashing one would clash too: one error is enough.
		b.declare(e.Parse, "the parse function of "+what, ce.Pos, "")
		b.declare(e.SchemaVar, "the compiled schema of "+what, ce.Pos, "")
	}
	e.Payload = &Type{Name: goName, Event: e} // resolved by payload
	if _, ok := b.payloads[e.Schema.Path]; !ok {
		b.payloads[e.Schema.Path] = e
	}
	b.versions(ce, e, goName, declared)
	return e
}

// payload resolves the type of e's payload, whose name e.event reserved.
func (b *builder) payload(e *Event) {
	name := e.Payload.Name
	file := b.cat.Schemas[e.Schema.Path]
	at := location{file: e.Schema.Path}
	root := documentRoot(file.Node)
	e.Node = b.node(at, root)
	t := b.goType(at, root, name)
	if t == nil {
		return
	}
	if t.Kind == Named && t.Named.Name == name {
		t.Named.Event = e
		t.Named.Version = e.Payload.Version
		e.Payload = t.Named
		e.Current().Payload = t.Named
		e.Current().Node = e.Node
		return
	}
	switch t.Kind {
	case Pointer, Any:
		b.errorf(nodePos(at.file, root), "", "the payload of %q must not be nullable or untyped: a payload schema needs one type", e.Subject)
		return
	}
	// The schema is a $ref, a second event's use of a file, a map...: a
	// defined type gives the payload its own name and methods.
	p := &Type{
		Name:       name,
		Kind:       Defined,
		Doc:        descriptionOf(root),
		File:       at.file,
		Pos:        nodePos(at.file, root),
		Event:      e,
		Version:    e.Payload.Version,
		Underlying: t,
		Node:       e.Node,
	}
	e.Payload = p
	e.Current().Payload = p
	e.Current().Node = e.Node
	b.types = append(b.types, p)
}

// checkFacadeMethods reports the events whose publisher facade methods
// would clash: each event owned by a service gives its facade a method
// named after the event and its Async twin, and the facade has Flush.
func (b *builder) checkFacadeMethods(services []*Service) {
	for _, s := range services {
		made := map[string]*Event{}
		for _, e := range s.Publishes {
			if e.Payload == nil {
				continue
			}
			for _, name := range []string{e.Payload.Name, e.Payload.Name + "Async"} {
				if name == "Flush" {
					b.errorf(e.Pos, "", "event %q would give %s a method Flush, which clashes with its Flush (give the event a go_name)", e.Subject, s.Publisher)
					continue
				}
				if first := made[name]; first != nil {
					b.errorf(e.Pos, "", "event %q would give %s a method %s, which event %q at %s makes too (give one a go_name)",
						e.Subject, s.Publisher, name, first.Subject, posString(first.Pos))
					continue
				}
				made[name] = e
			}
		}
	}
}
