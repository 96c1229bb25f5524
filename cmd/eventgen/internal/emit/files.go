package emit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// subjects prints the subject and service constants and Subjects.
func (e *emitter) subjects() *jen.File {
	f := e.newFile(e.m.Sources)

	// const ( SubjectX = "x.y.z" ... )
	f.Comment("Subjects of the events of the catalog.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for i, ev := range e.m.Events {
			if i > 0 {
				g.Line()
			}
			first := fmt.Sprintf("%s is the subject of %s, published by %s.", ev.Const, ev.Payload.Name, ev.Publisher.Name)
			doc(g, paragraphs([]string{first}, lines(ev.Description))...)
			g.Id(ev.Const).Op("=").Lit(ev.Subject)
		}
	})
	f.Line()

	// var Subjects = []string{SubjectX, ...}
	f.Comment("Subjects lists the subject of every event of the catalog, sorted.")
	f.Var().Id("Subjects").Op("=").Index().String().CustomFunc(multiLine, func(g *jen.Group) {
		for _, ev := range e.m.Events {
			g.Id(ev.Const)
		}
	})
	f.Line()

	// const ( ServiceX = "x" ... )
	f.Comment("Names of the services of the catalog.")
	f.Const().DefsFunc(func(g *jen.Group) {
		for i, s := range e.m.Services {
			if i > 0 {
				g.Line()
			}
			var about []string
			if s.External {
				about = append(about, "external")
			}
			if s.Owner != "" {
				about = append(about, "owner: "+s.Owner)
			}
			first := fmt.Sprintf("%s names the service %q", s.Const, s.Name)
			if len(about) > 0 {
				first += " (" + strings.Join(about, ", ") + ")"
			}
			doc(g, paragraphs([]string{first + "."}, lines(s.Description))...)
			g.Id(s.Const).Op("=").Lit(s.Name)
		}
	})
	return f
}

// multiLine is a composite literal's braces with one element per line.
var multiLine = jen.Options{Open: "{", Close: "}", Separator: ",", Multi: true}

// groups prints one file per schema group (a folder of schemas/): its
// types, with their checks and encoders, and the raw functions of its
// schemas that no other group uses.
func (e *emitter) groups(v *validators) map[string]*jen.File {
	types := map[string][]*model.Type{}
	walkers := map[string][]*walker{}
	var order []string
	note := func(g string) {
		if _, ok := types[g]; !ok {
			if _, ok := walkers[g]; !ok {
				order = append(order, g)
			}
		}
	}
	for _, t := range e.m.Types {
		g := schemaGroup(t.File)
		note(g)
		types[g] = append(types[g], t)
	}
	// The functions between an event's versions go with its current type.
	events := map[string][]*model.Event{}
	for _, ev := range e.m.Events {
		if len(ev.Versions) > 1 || ev.Downcast != nil || ev.Decode != "" {
			g := schemaGroup(ev.Payload.File)
			events[g] = append(events[g], ev)
		}
	}
	for _, w := range v.walkers {
		if !w.share {
			note(w.group)
			walkers[w.group] = append(walkers[w.group], w)
		}
	}
	files := map[string]*jen.File{}
	for _, g := range order {
		var sources []string
		for _, t := range types[g] {
			sources = append(sources, t.File)
		}
		for _, w := range walkers[g] {
			for _, n := range w.nodes {
				sources = append(sources, n.File)
			}
		}
		slices.Sort(sources)
		f := e.newFile(slices.Compact(sources))
		for i, t := range types[g] {
			if i > 0 {
				f.Line()
			}
			e.typeDecl(f, t)
			if ver := t.Version; ver != nil && ver.Payload == t {
				f.Line()
				e.payloadMethods(f, v, ver)
			}
			if m := v.typedMethod(t); m != nil {
				f.Line()
				for _, c := range m {
					f.Add(c)
				}
			}
			if t.Kind != model.Enum {
				f.Line()
				for _, c := range e.appendMethod(t) {
					f.Add(c)
				}
			}
			if m := e.decodeMethod(t); m != nil {
				f.Line()
				for _, c := range m {
					f.Add(c)
				}
			}
		}
		for _, ev := range events[g] {
			e.versionFuncs(f, ev)
		}
		for _, w := range walkers[g] {
			f.Line()
			for _, c := range v.walkerFunc(w) {
				f.Add(c)
			}
		}
		files[goFileName("payloads", g)] = f
	}
	return files
}

// typeDoc is the doc comment of a named type.
func typeDoc(t *model.Type) []string {
	var first string
	switch {
	case t.Event != nil && len(t.Event.Versions) > 1:
		first = fmt.Sprintf("%s is the payload of %q, version %d, the current one.", t.Name, t.Event.Subject, t.Event.Version)
	case t.Event != nil:
		first = fmt.Sprintf("%s is the payload of %q.", t.Name, t.Event.Subject)
	case t.Version != nil:
		ev := t.Version.Event
		first = fmt.Sprintf("%s is the payload of %q, version %d, an older version whose events the stream may still hold.", t.Name, ev.Subject, t.Version.Number)
		if ev.Decode != "" {
			first += fmt.Sprintf(" Consumers receive them as %s: %s upcasts them.", ev.Payload.Name, ev.Decode)
		}
	case t.Pointer == "":
		first = fmt.Sprintf("%s is defined by %s.", t.Name, t.File)
	default:
		first = fmt.Sprintf("%s is defined by %s#%s.", t.Name, t.File, t.Pointer)
	}
	text := t.Doc
	if len(text) == 0 && t.Event != nil {
		text = lines(t.Event.Description)
	}
	return paragraphs([]string{first}, text)
}

func (e *emitter) typeDecl(f *jen.File, t *model.Type) {
	fileDoc(f, typeDoc(t)...)
	switch t.Kind {
	case model.Struct:
		// type X struct { F T `json:"f"` ... }
		f.Type().Id(t.Name).StructFunc(func(g *jen.Group) {
			for i, fd := range t.Fields {
				// A documented field stands apart from its neighbours.
				if i > 0 && (len(fd.Doc) > 0 || len(t.Fields[i-1].Doc) > 0) {
					g.Line()
				}
				doc(g, fd.Doc...)
				tag := fd.JSONName
				if !fd.Required {
					tag += ",omitempty"
				}
				g.Id(fd.Name).Add(e.goType(fd.Type)).Tag(map[string]string{"json": tag})
			}
		})
	case model.Enum:
		// type X string; const ( XA X = "a" ... )
		f.Type().Id(t.Name).String()
		f.Line()
		f.Commentf("Values of %s.", t.Name)
		f.Const().DefsFunc(func(g *jen.Group) {
			for _, v := range t.Values {
				g.Id(v.Name).Id(t.Name).Op("=").Lit(v.Value)
			}
		})
	case model.Defined:
		f.Type().Id(t.Name).Add(e.goType(t.Underlying))
	}
}

// validate prints validate.go: ValidateJSON, what the raw and typed checks
// share (the package's compiled patterns and numbers, the raw functions
// that several groups use), and the one note that explains them.
func (e *emitter) validate(v *validators) *jen.File {
	sources := append([]string(nil), e.m.Sources...)
	var shared []*walker
	for _, w := range v.walkers {
		if w.share {
			shared = append(shared, w)
			for _, n := range w.nodes {
				sources = append(sources, n.File)
			}
		}
	}
	slices.Sort(sources[len(e.m.Sources):])
	f := e.newFile(slices.Compact(sources))

	// func ValidateJSON(subject string, data []byte) error { e, ok := Catalog.Event(subject) ... }
	fileDoc(f, "ValidateJSON checks data, one JSON document, against the schema of the event with the given subject: the check a consumer applies to an incoming payload. It returns a *payload.ValidationError naming every failing JSON pointer, or an error matching bus.ErrUnknownSubject.")
	f.Func().Id("ValidateJSON").Params(jen.Id("subject").String(), jen.Id("data").Index().Byte()).Error().Block(
		jen.List(jen.Id("e"), jen.Id("ok")).Op(":=").Id("Catalog").Dot("Event").Call(jen.Id("subject")),
		jen.If(jen.Op("!").Id("ok")).Block(
			jen.Return(jen.Qual("fmt", "Errorf").Call(jen.Lit("%w: %q"), jen.Qual(e.bus, "ErrUnknownSubject"), jen.Id("subject"))),
		),
		jen.Return(jen.Id("e").Dot("ValidateJSON").Call(jen.Id("data"))),
	)
	f.Line()
	for _, c := range comment(paragraphs(
		[]string{"How the checks and encoders of the payload types work."},
		[]string{"The Catalog's check of an event's raw JSON, validateXJSON, runs code generated from the event's schema, formats included, with the verdict of the compiled schema schemaX. A document that repeats an object key is the one case handed to schemaX, which keeps the last value of the key as encoding/json does. The generated code is one json* function per distinct set of constraints, named by what it checks (jsonUUID) or by the type or schema it checks (jsonQuantity), reading the document once with a payload.JSONScanner."},
		[]string{"Validate and validateAt check a value as its JSON encoding would be checked, without encoding it; a field whose Go type cannot carry its schema's constraints is encoded and checked by the raw code. ParseX checks data against the schema first, which catches what the struct cannot see (missing required keys, unknown keys, nulls), then decodes it with decodeXJSON: generated decodeJSON methods read the checked bytes once more with a payload.JSONScanner, without encoding/json or reflection, and the decoded value is checked again, so that a number Go cannot hold exactly (1e-400 decodes to 0) is an error rather than a wrong value. The consumers' routes decode with decodeX, which calls decodeXJSON of the version the event was published as."},
		typedValueDoc,
		[]string{"AppendJSON writes the bytes json.Marshal gives for the value, without reflection. Its value receiver puts it in the method set of both T and *T, so that *T is a payload.Payload and a T marshals the same way."},
	)...) {
		f.Add(c)
	}
	if len(v.vars) > 0 {
		f.Line()
		f.Comment("Regular expressions and numbers of the schemas, compiled and parsed once.")
		f.Var().Defs(v.vars...)
	}
	for _, w := range shared {
		f.Line()
		for _, c := range v.walkerFunc(w) {
			f.Add(c)
		}
	}
	return f
}

// payloadMethods prints what makes the payload type of ver a
// payload.Payload, and its raw check and parser.
func (e *emitter) payloadMethods(f *jen.File, v *validators, ver *model.Version) {
	ev := ver.Event
	t := ver.Payload.Name
	entry := ver.ValidateJSON
	about := fmt.Sprintf("%q", ev.Subject)
	if !ver.Current() {
		about = fmt.Sprintf("version %d of %q", ver.Number, ev.Subject)
	}

	// func (p *X) EventSubject() string { return SubjectX }
	fileDoc(f, fmt.Sprintf("EventSubject returns %s, the subject of the events whose payload p is.", ev.Const))
	f.Func().Params(jen.Id("p").Op("*").Id(t)).Id("EventSubject").Params().String().Block(
		jen.Return(jen.Id(ev.Const)),
	)
	f.Line()

	// func (p *X) EventVersion() int { return 2 }
	if ver.Current() {
		fileDoc(f, fmt.Sprintf("EventVersion returns %d, the current version of %q.", ver.Number, ev.Subject))
	} else {
		fileDoc(f, fmt.Sprintf("EventVersion returns %d, the older version of %q that %s follows (the current one is %d).", ver.Number, ev.Subject, t, ev.Version))
	}
	f.Func().Params(jen.Id("p").Op("*").Id(t)).Id("EventVersion").Params().Int().Block(
		jen.Return(jen.Lit(ver.Number)),
	)
	f.Line()

	// func (p *X) Validate() error { var vs payload.Violations; p.validateAt(&vs, nil); return vs.Err(SubjectX) }
	fileDoc(f, fmt.Sprintf("Validate checks p against the schema of %s without encoding it. It returns nil or a *payload.ValidationError naming each failing JSON pointer; a nil p is not a JSON object.", about))
	var null []jen.Code
	for _, msg := range v.nullViolations(ver.Node) {
		null = append(null, jen.Id("vs").Dot("Add").Call(jen.Nil(), jen.Lit(msg)))
	}
	if len(null) == 0 {
		// The schema accepts null, but no event's payload is anything else
		// than a JSON object.
		null = append(null, jen.Id("vs").Dot("Add").Call(jen.Nil(), jen.Lit("payload must be a JSON object")))
	}
	f.Func().Params(jen.Id("p").Op("*").Id(t)).Id("Validate").Params().Error().Block(
		jen.Var().Id("vs").Qual(e.payload, "Violations"),
		jen.If(jen.Id("p").Op("==").Nil()).Block(null...).Else().Block(
			jen.Id("p").Dot("validateAt").Call(jen.Op("&").Id("vs"), jen.Nil()),
		),
		jen.Return(jen.Id("vs").Dot("Err").Call(jen.Id(ev.Const))),
	)
	f.Line()

	// func ParseX(data []byte) (X, error) { if err := validateXJSON(data); err != nil { ... }; return decodeXJSON(data) }
	fileDoc(f, fmt.Sprintf("%s decodes a payload of %s, checked against the schema before decoding (%s) and after (%s). A payload that breaks the schema is a *payload.ValidationError; one that passes it always decodes, but for a value its Go type cannot hold, an error matching payload.ErrUnrepresentable.", ver.Parse, about, entry, ver.DecodeJSON))
	f.Func().Id(ver.Parse).Params(jen.Id("data").Index().Byte()).Params(jen.Id(t), jen.Error()).Block(
		jen.If(jen.Err().Op(":=").Id(entry).Call(jen.Id("data")), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id(t).Values(), jen.Err()),
		),
		jen.Return(jen.Id(ver.DecodeJSON).Call(jen.Id("data"))),
	)
	f.Line()
	e.decodeVersion(f, ver)
	f.Line()

	// func validateXJSON(data []byte) error { var s payload.JSONScanner; s.Reset(data); jsonX(&s, nil); return s.Finish(...) }
	fileDoc(f, fmt.Sprintf("%s checks data, one JSON document, against the schema of %s: the Catalog's check.", entry, about))
	var check jen.Code = jen.Id("s").Dot("Skip").Call()
	if name := v.need(ver.Node); name != "" {
		check = jen.Id(name).Call(jen.Op("&").Id("s"), jen.Nil())
	}
	f.Func().Id(entry).Params(jen.Id("data").Index().Byte()).Error().Block(
		jen.Var().Id("s").Qual(e.payload, "JSONScanner"),
		jen.Id("s").Dot("Reset").Call(jen.Id("data")),
		check,
		jen.Return(jen.Id("s").Dot("Finish").Call(jen.Id(ev.Const), jen.Id(ver.SchemaVar))),
	)
}

// schemas prints the schema files and the compiled schema of each event.
func (e *emitter) schemas() *jen.File {
	var sources []string
	for _, s := range e.m.Schemas {
		sources = append(sources, s.Path)
	}
	f := e.newFile(sources)

	// var schemaFiles = map[string]string{"schemas/x.json": `...`, ...}
	fileDoc(f, "schemaFiles holds every JSON Schema file of the catalog as written, by module-relative path; the $refs between them resolve within this set.")
	f.Var().Id("schemaFiles").Op("=").Map(jen.String()).String().CustomFunc(multiLine, func(g *jen.Group) {
		for _, s := range e.m.Schemas {
			g.Lit(s.Path).Op(":").Add(stringLit(s.Raw))
		}
	})
	if len(e.m.Events) == 0 {
		return f
	}
	f.Line()

	// var ( schemaX = payload.MustCompileSchema("schemas/x.json", schemaFiles) ... )
	f.Comment("The compiled schema of each event's payload.")
	f.Var().DefsFunc(func(g *jen.Group) {
		for _, ev := range e.m.Events {
			for _, ver := range ev.Versions {
				g.Id(ver.SchemaVar).Op("=").Qual(e.payload, "MustCompileSchema").Call(jen.Lit(ver.Schema.Path), jen.Id("schemaFiles"))
			}
		}
	})
	return f
}

// stringLit is a Go string literal of s that reads as s is written: a raw
// string, with each backquote spliced in as "`". Text a raw string cannot
// hold (carriage returns, NUL, a byte-order mark, invalid UTF-8) is quoted.
func stringLit(s []byte) jen.Code {
	str := string(s)
	if !utf8.ValidString(str) || strings.ContainsAny(str, "\r\x00\ufeff") {
		return jen.Op(strconv.Quote(str))
	}
	parts := strings.Split(str, "`")
	for i, p := range parts {
		parts[i] = "`" + p + "`"
	}
	return jen.Op(strings.Join(parts, " + \"`\" + "))
}

// catalog prints the Catalog registry.
func (e *emitter) catalog() *jen.File {
	f := e.newFile(e.m.Sources)
	st := e.m.Stream

	// var Catalog = &spec.Catalog{Stream: spec.Stream{...}, Services: ..., Events: ...}
	fileDoc(f, "Catalog describes every event of the catalog: the stream that carries them, the services, and each event's subject, version, publisher, consumers, schema and payload check. sdk/bus reads it to set up the stream and the consumers and to check what is consumed, and what is published untyped.")
	f.Var().Id("Catalog").Op("=").Op("&").Qual(e.spec, "Catalog").Custom(multiLine,
		jen.Id("Stream").Op(":").Qual(e.spec, "Stream").Custom(multiLine,
			jen.Id("Name").Op(":").Lit(st.Name),
			jen.Id("Subjects").Op(":").Index().String().ValuesFunc(func(g *jen.Group) {
				for _, s := range st.Subjects {
					g.Lit(s)
				}
			}),
			jen.Id("Duplicates").Op(":").Add(duration(st.Duplicates)),
			jen.Id("MaxAge").Op(":").Add(duration(st.MaxAge)),
			jen.Id("Replicas").Op(":").Lit(st.Replicas),
			jen.Id("DeadLetterStream").Op(":").Lit(st.DeadLetterStream),
			jen.Id("DeadLetterPrefix").Op(":").Lit(st.DeadLetterPrefix),
		),
		jen.Id("Services").Op(":").Index().Qual(e.spec, "Service").CustomFunc(multiLine, func(g *jen.Group) {
			for _, s := range e.m.Services {
				g.CustomFunc(multiLine, func(g *jen.Group) {
					g.Id("Name").Op(":").Id(s.Const)
					if s.Description != "" {
						g.Id("Description").Op(":").Lit(s.Description)
					}
					if s.Owner != "" {
						g.Id("Owner").Op(":").Lit(s.Owner)
					}
					if s.External {
						g.Id("External").Op(":").True()
					}
				})
			}
		}),
		jen.Id("Events").Op(":").Index().Qual(e.spec, "Event").CustomFunc(multiLine, func(g *jen.Group) {
			for _, ev := range e.m.Events {
				g.CustomFunc(multiLine, func(g *jen.Group) {
					g.Id("Subject").Op(":").Id(ev.Const)
					g.Id("Version").Op(":").Lit(ev.Version)
					g.Id("Publisher").Op(":").Id(ev.Publisher.Const)
					if len(ev.Consumers) > 0 {
						g.Id("Consumers").Op(":").Index().String().ValuesFunc(func(g *jen.Group) {
							for _, c := range ev.Consumers {
								g.Id(c.Const)
							}
						})
					}
					if ev.Description != "" {
						g.Id("Description").Op(":").Lit(ev.Description)
					}
					g.Id("Schema").Op(":").Id("schemaFiles").Index(jen.Lit(ev.Schema.Path))
					g.Id("ValidateJSON").Op(":").Id(ev.Current().ValidateJSON)
					if ev.Sends != ev.Current() {
						g.Id("PublishVersion").Op(":").Lit(ev.Sends.Number)
					}
					if len(ev.Versions) > 1 {
						// Older: []spec.EventVersion{{Version: 1, Schema: ..., ValidateJSON: ...}, ...}
						g.Id("Older").Op(":").Index().Qual(e.spec, "EventVersion").CustomFunc(multiLine, func(g *jen.Group) {
							for _, ver := range ev.Versions[:len(ev.Versions)-1] {
								g.CustomFunc(multiLine, func(g *jen.Group) {
									g.Id("Version").Op(":").Lit(ver.Number)
									g.Id("Schema").Op(":").Id("schemaFiles").Index(jen.Lit(ver.Schema.Path))
									g.Id("ValidateJSON").Op(":").Id(ver.ValidateJSON)
								})
							}
						})
					}
				})
			}
		}),
	)
	return f
}

// duration spells d as a Go expression: 2 * time.Minute, 720 * time.Hour.
func duration(d time.Duration) jen.Code {
	units := []struct {
		d    time.Duration
		name string
	}{
		{time.Hour, "Hour"}, {time.Minute, "Minute"}, {time.Second, "Second"},
		{time.Millisecond, "Millisecond"}, {time.Microsecond, "Microsecond"},
	}
	if d == 0 {
		return jen.Lit(0)
	}
	for _, u := range units {
		if d%u.d == 0 {
			if d == u.d {
				return jen.Qual(timePath, u.name)
			}
			return jen.Op(strconv.FormatInt(int64(d/u.d), 10)).Op("*").Qual(timePath, u.name)
		}
	}
	return jen.Op(strconv.FormatInt(int64(d), 10))
}

// services prints, per service, its publisher and outbox facades (when it
// publishes) and its handlers and consume function (when it consumes).
func (e *emitter) services() map[string]*jen.File {
	files := map[string]*jen.File{}
	for _, s := range e.m.Services {
		if len(s.Publishes) == 0 && len(s.Consumes) == 0 {
			continue
		}
		f := e.newFile(e.m.Sources)
		if len(s.Publishes) > 0 {
			e.publisher(f, s)
			f.Line()
			e.outboxFacade(f, s)
		}
		if len(s.Publishes) > 0 && len(s.Consumes) > 0 {
			f.Line()
		}
		if len(s.Consumes) > 0 {
			e.consumer(f, s)
		}
		files[goFileName("service", fileStem(s.Name))] = f
	}
	return files
}

func (e *emitter) publisher(f *jen.File, s *model.Service) {
	// type XPublisher struct { publisher }
	text := fmt.Sprintf("%s publishes the events of the service %q, and only those: one method per event it owns. Each validates its payload against the event's schema before publishing it.", s.Publisher, s.Name)
	fileDoc(f, text)
	f.Type().Id(s.Publisher).Struct(jen.Id("publisher"))
	f.Line()

	// func NewXPublisher(c *bus.Conn, opts ...bus.PublisherOption) (*XPublisher, error)
	fileDoc(f, fmt.Sprintf("%s returns the publisher of the service %q.", s.NewPublisher, s.Name))
	f.Func().Id(s.NewPublisher).Params(
		jen.Id("c").Op("*").Qual(e.bus, "Conn"),
		jen.Id("opts").Op("...").Qual(e.bus, "PublisherOption"),
	).Params(jen.Op("*").Id(s.Publisher), jen.Error()).Block(
		jen.List(jen.Id("p"), jen.Err()).Op(":=").Qual(e.bus, "NewPublisher").Call(
			jen.Id("c"), jen.Id("Catalog"), jen.Id(s.Const), jen.Id("opts").Op("..."),
		),
		jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Nil(), jen.Err())),
		jen.Return(jen.Op("&").Id(s.Publisher).Values(jen.Id("publisher").Values(jen.Id("p"))), jen.Nil()),
	)
	for _, ev := range s.Publishes {
		f.Line()
		// func (p *XPublisher) Event(ctx, payload Event, opts ...bus.PublishOption) (*bus.PublishAck, error)
		first := fmt.Sprintf("%s publishes payload on %q.", ev.Payload.Name, ev.Subject)
		fileDoc(f, paragraphs([]string{first}, lines(sentence(ev.Description)), pinDoc(ev))...)
		arg, body := e.downcast(ev, jen.Nil())
		f.Func().Params(jen.Id("p").Op("*").Id(s.Publisher)).Id(ev.Payload.Name).Params(
			jen.Id("ctx").Qual("context", "Context"),
			jen.Id("payload").Id(ev.Payload.Name),
			jen.Id("opts").Op("...").Qual(e.bus, "PublishOption"),
		).Params(jen.Op("*").Qual(e.bus, "PublishAck"), jen.Error()).Block(append(body,
			jen.Return(jen.Id("p").Dot("p").Dot("PublishPayload").Call(
				jen.Id("ctx"), arg, jen.Id("opts").Op("..."),
			)),
		)...)
	}
	for _, ev := range s.Publishes {
		f.Line()
		// func (p *XPublisher) EventAsync(ctx, payload Event, opts ...bus.PublishOption) (*bus.PublishFuture, error)
		fileDoc(f, fmt.Sprintf("%sAsync publishes payload on %q without waiting for the stream's ack: the future reports the outcome. The payload is checked, and refused, as %s does; see bus.Publisher.PublishPayloadAsync.", ev.Payload.Name, ev.Subject, ev.Payload.Name))
		arg, body := e.downcast(ev, jen.Nil())
		f.Func().Params(jen.Id("p").Op("*").Id(s.Publisher)).Id(ev.Payload.Name+"Async").Params(
			jen.Id("ctx").Qual("context", "Context"),
			jen.Id("payload").Id(ev.Payload.Name),
			jen.Id("opts").Op("...").Qual(e.bus, "PublishOption"),
		).Params(jen.Op("*").Qual(e.bus, "PublishFuture"), jen.Error()).Block(append(body,
			jen.Return(jen.Id("p").Dot("p").Dot("PublishPayloadAsync").Call(
				jen.Id("ctx"), arg, jen.Id("opts").Op("..."),
			)),
		)...)
	}
}

// sharedPublisher prints publisher.go: what every service's publisher
// holds and does the same way; nil when no service publishes.
func (e *emitter) sharedPublisher() *jen.File {
	publishes := false
	for _, s := range e.m.Services {
		publishes = publishes || len(s.Publishes) > 0
	}
	if !publishes {
		return nil
	}
	f := e.newFile(e.m.Sources)
	// type publisher struct { p *bus.Publisher }
	fileDoc(f, "publisher is the part of every service's publisher that does not depend on the events it owns.")
	f.Type().Id("publisher").Struct(jen.Id("p").Op("*").Qual(e.bus, "Publisher"))
	f.Line()
	// func (p *publisher) Flush(ctx context.Context) error
	fileDoc(f, "Flush waits until every event published asynchronously has its outcome; call it before closing the connection. See bus.Publisher.Flush.")
	f.Func().Params(jen.Id("p").Op("*").Id("publisher")).Id("Flush").Params(
		jen.Id("ctx").Qual("context", "Context"),
	).Error().Block(jen.Return(jen.Id("p").Dot("p").Dot("Flush").Call(jen.Id("ctx"))))
	return f
}

func (e *emitter) outboxFacade(f *jen.File, s *model.Service) {
	// type XOutbox struct { o *outbox.Outbox }
	text := fmt.Sprintf("%s adds the events of the service %q, and only those, to a transactional outbox, in the caller's transaction: one method per event it owns. Each validates its payload against the event's schema before adding it.", s.Outbox, s.Name)
	fileDoc(f, text)
	f.Type().Id(s.Outbox).Struct(jen.Id("o").Op("*").Qual(e.outbox, "Outbox"))
	f.Line()

	// func NewXOutbox(o *outbox.Outbox) (*XOutbox, error)
	text = fmt.Sprintf("%s returns the outbox facade of the service %q over o, an outbox whose publisher is the service's. A nil o returns an error wrapping bus.ErrInvalidOption, an outbox of another service one wrapping bus.ErrNotPublisher.", s.NewOutbox, s.Name)
	fileDoc(f, text)
	f.Func().Id(s.NewOutbox).Params(
		jen.Id("o").Op("*").Qual(e.outbox, "Outbox"),
	).Params(jen.Op("*").Id(s.Outbox), jen.Error()).Block(
		jen.If(jen.Id("o").Op("==").Nil()).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(
				jen.Lit("%w: nil outbox"), jen.Qual(e.bus, "ErrInvalidOption"),
			)),
		),
		jen.If(jen.Id("o").Dot("Service").Call().Op("!=").Id(s.Const)).Block(
			jen.Return(jen.Nil(), jen.Qual("fmt", "Errorf").Call(
				jen.Lit("%w: the outbox publishes for %q, not %q"), jen.Qual(e.bus, "ErrNotPublisher"),
				jen.Id("o").Dot("Service").Call(), jen.Id(s.Const),
			)),
		),
		jen.Return(jen.Op("&").Id(s.Outbox).Values(jen.Id("o").Op(":").Id("o")), jen.Nil()),
	)
	for _, ev := range s.Publishes {
		f.Line()
		// func (o *XOutbox) Event(ctx, tx *sql.Tx, payload Event, opts ...bus.PublishOption) (uuid.UUID, error)
		first := fmt.Sprintf("%s adds payload, to be published on %q once tx commits, and returns the event id.", ev.Payload.Name, ev.Subject)
		fileDoc(f, paragraphs([]string{first}, lines(sentence(ev.Description)), pinDoc(ev))...)
		arg, body := e.downcast(ev, jen.Qual(uuidPath, "Nil"))
		f.Func().Params(jen.Id("o").Op("*").Id(s.Outbox)).Id(ev.Payload.Name).Params(
			jen.Id("ctx").Qual("context", "Context"),
			jen.Id("tx").Op("*").Qual("database/sql", "Tx"),
			jen.Id("payload").Id(ev.Payload.Name),
			jen.Id("opts").Op("...").Qual(e.bus, "PublishOption"),
		).Params(jen.Qual(uuidPath, "UUID"), jen.Error()).Block(append(body,
			jen.Return(jen.Id("o").Dot("o").Dot("AddPayload").Call(
				jen.Id("ctx"), jen.Id("tx"), arg, jen.Id("opts").Op("..."),
			)),
		)...)
	}
}

func (e *emitter) consumer(f *jen.File, s *model.Service) {
	var text string
	// type XHandlers struct { Event bus.Handler[Event] ... }
	text = fmt.Sprintf("%s holds a handler for each event the service %q consumes. A nil handler acknowledges its events once they pass their schema.", s.Handlers, s.Name)
	fileDoc(f, text)
	f.Type().Id(s.Handlers).StructFunc(func(g *jen.Group) {
		for i, ev := range s.Consumes {
			if i > 0 {
				g.Line()
			}
			about := fmt.Sprintf("%s handles %q, published by %s.", ev.Payload.Name, ev.Subject, ev.Publisher.Name)
			if len(ev.Versions) > 1 {
				about += fmt.Sprintf(" An event published as an older version (Metadata.Version) arrives upcast to %s.", ev.Payload.Name)
			}
			doc(g, about)
			g.Id(ev.Payload.Name).Qual(e.bus, "Handler").Types(jen.Id(ev.Payload.Name))
		}
	})
	f.Line()

	// func ConsumeX(ctx, c *bus.Conn, h XHandlers, opts ...bus.ConsumerOption) (*bus.Subscription, error)
	fileDoc(f, fmt.Sprintf("%s starts the durable consumer of the service %q and dispatches each event to its handler in h.", s.Consume, s.Name),
		"", "The options are bus.Consume's. bus.WithMiddleware wraps every handler of h in one chain, for timeouts, logging or metrics; the first middleware given is the outermost.")
	f.Func().Id(s.Consume).Params(
		jen.Id("ctx").Qual("context", "Context"),
		jen.Id("c").Op("*").Qual(e.bus, "Conn"),
		jen.Id("h").Id(s.Handlers),
		jen.Id("opts").Op("...").Qual(e.bus, "ConsumerOption"),
	).Params(jen.Op("*").Qual(e.bus, "Subscription"), jen.Error()).Block(
		jen.Id("routes").Op(":=").Index().Qual(e.bus, "Route").CustomFunc(multiLine, func(g *jen.Group) {
			for _, ev := range s.Consumes {
				if ev.Decode != "" {
					g.Qual(e.bus, "NewDecodedRoute").Call(jen.Id(ev.Const), jen.Id("h").Dot(ev.Payload.Name), jen.Id(ev.Decode))
					continue
				}
				g.Qual(e.bus, "NewRoute").Call(jen.Id(ev.Const), jen.Id("h").Dot(ev.Payload.Name))
			}
		}),
		jen.Return(jen.Qual(e.bus, "Consume").Call(
			jen.Id("ctx"), jen.Id("c"), jen.Id("Catalog"), jen.Id(s.Const), jen.Id("routes"), jen.Id("opts").Op("..."),
		)),
	)
}

// fileDoc adds a doc comment to f: text wrapped, one Comment per line.
func fileDoc(f *jen.File, text ...string) {
	for _, c := range comment(text...) {
		f.Add(c)
	}
}
