package emit

import (
	"fmt"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// The functions between the versions of an event: the upcasters and the
// downcaster the generator writes (model.Caster.Generated), and the decoder
// of its consumers' routes. They go in the file of the event's current type.

// versionFuncs prints the generated casters of ev and its decoder.
func (e *emitter) versionFuncs(f *jen.File, ev *model.Event) {
	for _, ver := range ev.Versions {
		if c := ver.Upcast; c != nil && c.Generated {
			f.Line()
			e.casterFunc(f, c, fmt.Sprintf("%s turns a payload of version %d of %q into one of version %d. It is generated: by the rules of eventgen check every payload of version %d is one of version %d.",
				c.Name, c.From.Number, ev.Subject, c.To.Number, c.From.Number, c.To.Number))
		}
	}
	if c := ev.Downcast; c != nil && c.Generated {
		f.Line()
		e.casterFunc(f, c, fmt.Sprintf("%s turns a payload of the current version of %q, %d, into one of version %d, the version the catalog pins its publishers to. It is generated: by the rules of eventgen check every payload of version %d is one of version %d.",
			c.Name, ev.Subject, c.From.Number, c.To.Number, c.From.Number, c.To.Number))
	}
	if ev.Decode != "" {
		f.Line()
		e.decoder(f, ev)
	}
}

// casterFunc prints a generated caster: a conversion where the two types
// hold the same fields, else the value's JSON encoding parsed as the other
// version, which checks it against that version's schema.
func (e *emitter) casterFunc(f *jen.File, c *model.Caster, text string) {
	from, to := c.From.Payload, c.To.Payload
	var body []jen.Code
	if convertible(from, to) {
		// return To(v), nil
		body = []jen.Code{jen.Return(jen.Id(to.Name).Call(jen.Id("v")), jen.Nil())}
	} else {
		// data, err := v.AppendJSON(nil); if err != nil { return To{}, err }; return ParseTo(data)
		body = []jen.Code{
			jen.List(jen.Id("data"), jen.Err()).Op(":=").Id("v").Dot("AppendJSON").Call(jen.Nil()),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Return(jen.Id(to.Name).Values(), jen.Err())),
			jen.Return(jen.Id(c.To.Parse).Call(jen.Id("data"))),
		}
	}
	fileDoc(f, text)
	f.Func().Id(c.Name).Params(jen.Id("v").Id(from.Name)).Params(jen.Id(to.Name), jen.Error()).Block(body...)
}

// convertible reports whether a value of a converts to b with the meaning
// of its JSON encoding: one is a defined type of the other, or both are
// structs of the same fields (Go name, type, JSON key and requiredness).
func convertible(a, b *model.Type) bool {
	switch {
	case a.Kind == model.Defined && a.Underlying.Kind == model.Named && a.Underlying.Named == b,
		b.Kind == model.Defined && b.Underlying.Kind == model.Named && b.Underlying.Named == a:
		return true
	case a.Kind == model.Defined && b.Kind == model.Defined:
		return a.Underlying.String() == b.Underlying.String()
	case a.Kind != model.Struct || b.Kind != model.Struct || len(a.Fields) != len(b.Fields):
		return false
	}
	for i, f := range a.Fields {
		g := b.Fields[i]
		if f.Name != g.Name || f.JSONName != g.JSONName || f.Required != g.Required || f.Type.String() != g.Type.String() {
			return false
		}
	}
	return true
}

// decoder prints decodeX, the bus.Decoder of ev's routes.
func (e *emitter) decoder(f *jen.File, ev *model.Event) {
	cur := ev.Payload.Name
	zero := func() *jen.Statement { return jen.Id(cur).Values() }
	var known []string
	for _, v := range ev.Versions {
		known = append(known, strconv.Itoa(v.Number))
	}
	fileDoc(f, fmt.Sprintf("%s decodes a payload of %q published as the given version, already checked against that version's schema, into %s with the generated decoder of that version, without encoding/json; it runs the upcasters of the versions in between. It is the bus.Decoder of the consumers' routes; an error dead-letters the event.", ev.Decode, ev.Subject, cur))

	// switch version { case 1: v1, err := decodeXV1JSON(data); v2, err := upcastXV1(v1) ...; return vN, nil }
	sw := jen.Switch(jen.Id("version")).BlockFunc(func(g *jen.Group) {
		for i, v := range ev.Versions {
			name := "v" + strconv.Itoa(v.Number)
			g.Case(jen.Lit(v.Number)).BlockFunc(func(g *jen.Group) {
				g.List(jen.Id(name), jen.Err()).Op(":=").Id(v.DecodeJSON).Call(jen.Id("data"))
				g.If(jen.Err().Op("!=").Nil()).Block(
					jen.Return(zero(), jen.Err()),
				)
				for _, step := range ev.Versions[i:] {
					c := step.Upcast
					if c == nil {
						break
					}
					next := "v" + strconv.Itoa(c.To.Number)
					g.List(jen.Id(next), jen.Err()).Op(":=").Id(c.Name).Call(jen.Id(name))
					g.If(jen.Err().Op("!=").Nil()).Block(
						jen.Return(zero(), jen.Qual("fmt", "Errorf").Call(jen.Lit(fmt.Sprintf("upcast to version %d: %%w", c.To.Number)), jen.Err())),
					)
					name = next
				}
				g.Return(jen.Id(name), jen.Nil())
			})
		}
	})
	f.Func().Id(ev.Decode).Params(jen.Id("version").Int(), jen.Id("data").Index().Byte()).Params(jen.Id(cur), jen.Error()).Block(
		sw,
		jen.Return(zero(), jen.Qual("fmt", "Errorf").Call(
			jen.Lit(fmt.Sprintf("%%w: version %%d of %%q (the catalog keeps %s)", joinAnd(known))),
			jen.Qual(e.bus, "ErrUnknownVersion"), jen.Id("version"), jen.Id(ev.Const),
		)),
	)
}

// downcast returns what a publisher facade of ev hands to the bus, &payload
// or the pinned version's value, and the statements that make the latter;
// zero is the facade's first result on an error.
func (e *emitter) downcast(ev *model.Event, zero jen.Code) (jen.Code, []jen.Code) {
	c := ev.Downcast
	if c == nil {
		return jen.Op("&").Id("payload"), nil
	}
	name := "v" + strconv.Itoa(c.To.Number)
	// vN, err := downcastX(payload); if err != nil { return nil, fmt.Errorf("%w for %q: downcast to version N: %w", ...) }
	return jen.Op("&").Id(name), []jen.Code{
		jen.List(jen.Id(name), jen.Err()).Op(":=").Id(c.Name).Call(jen.Id("payload")),
		jen.If(jen.Err().Op("!=").Nil()).Block(
			jen.Return(zero, jen.Qual("fmt", "Errorf").Call(
				jen.Lit(fmt.Sprintf("%%w for %%q: downcast to version %d: %%w", c.To.Number)),
				jen.Qual(e.bus, "ErrInvalidPayload"), jen.Id(ev.Const), jen.Err(),
			)),
		),
	}
}

// pinDoc is the paragraph of a publisher facade's doc about a pinned
// version; nil when the catalog pins none.
func pinDoc(ev *model.Event) []string {
	c := ev.Downcast
	if c == nil {
		return nil
	}
	return []string{fmt.Sprintf("The catalog pins the version publishers send to %d (publish_version), for a rollout: %s makes the %s sent from payload, and its error is returned wrapping bus.ErrInvalidPayload.",
		c.To.Number, c.Name, c.To.Payload.Name)}
}
