package emit

// The decoders: for each named type a decodeJSON method that reads a JSON
// value into it with a payload.JSONScanner, without encoding/json or
// reflection, and for each version of an event decodeXJSON, which ParseX
// and the consumers' route decoder call on bytes the validator accepted.
//
// Decoding is a second pass over the checked bytes rather than part of the
// validator's walk: the walkers are shared between schema nodes of equal
// constraints and re-read values for $ref and allOf, so they cannot fill
// one Go type; and once the bytes are known to pass the schema, the decoder
// only reads each value into its Go type and refuses only what the type
// cannot hold.
//
//	func (p *X) decodeJSON(s *payload.JSONScanner) error {
//		*p = X{}
//		if ok, err := payload.DecodeObject(s); !ok { return err }
//		for s.MemberIn(fieldsX) {
//			switch s.Key() {
//			case "a": if err := payload.DecodeString(&p.A, s); err != nil { return payload.InMember("a", err) }
//			default: s.Skip()
//			}
//		}
//		return nil
//	}
//
// fieldsX, a payload.Keys of the fields' JSON names beside the method,
// lets the scanner recognise a key by its bytes.

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// decodeMethod returns decodeJSON of t with its doc comment.
func (e *emitter) decodeMethod(t *model.Type) []jen.Code {
	s := func() *jen.Statement { return jen.Id("s") }
	var body, out []jen.Code
	fields := "fields" + t.Name
	switch t.Kind {
	case model.Struct:
		// var fieldsX = payload.NewKeys("a", "b")
		var names []jen.Code
		for _, f := range t.Fields {
			names = append(names, jen.Lit(f.JSONName))
		}
		out = append(out,
			jen.Comment(fmt.Sprintf("%s are the JSON names of %s's fields, which decodeJSON looks for.", fields, t.Name)),
			jen.Var().Id(fields).Op("=").Qual(e.payload, "NewKeys").Call(names...),
			jen.Line())
		body = append(body,
			jen.Op("*").Id("p").Op("=").Id(t.Name).Values(),
			// if ok, err := payload.DecodeObject(s); !ok { return err }
			jen.If(jen.List(jen.Id("ok"), jen.Err()).Op(":=").Qual(e.payload, "DecodeObject").Call(s()), jen.Op("!").Id("ok")).Block(
				jen.Return(jen.Err()),
			),
			jen.For(jen.Id("s").Dot("MemberIn").Call(jen.Id(fields))).Block(
				jen.Switch(jen.Id("s").Dot("Key").Call()).BlockFunc(func(g *jen.Group) {
					for _, f := range t.Fields {
						g.Case(jen.Lit(f.JSONName)).Block(
							jen.If(jen.Err().Op(":=").Add(e.decodeCall(f.Type, jen.Id("p").Dot(f.Name))), jen.Err().Op("!=").Nil()).Block(
								jen.Return(jen.Qual(e.payload, "InMember").Call(jen.Lit(f.JSONName), jen.Err())),
							),
						)
					}
					g.Default().Block(jen.Id("s").Dot("Skip").Call())
				}),
			),
			jen.Return(jen.Nil()),
		)
	default:
		return nil
	}
	out = append(out, comment(fmt.Sprintf("decodeJSON reads the next JSON value of s, one that passed the schema of %s, into p. It returns a *payload.DecodeError only for a value %s cannot hold.", t.Name, t.Name))...)
	return append(out, jen.Func().Params(jen.Id("p").Op("*").Id(t.Name)).Id("decodeJSON").
		Params(jen.Id("s").Op("*").Qual(e.payload, "JSONScanner")).Error().Block(body...))
}

// decodeNamed returns the call that reads the next value into *ptr, of the
// named type t: a struct's decodeJSON; an enum or a defined type has no
// method (their bodies would repeat): an enum is read by payload.DecodeEnum
// with its values, a defined type as its underlying type.
func (e *emitter) decodeNamed(t *model.Type, ptr *jen.Statement) *jen.Statement {
	switch t.Kind {
	case model.Enum:
		// payload.DecodeEnum(ptr, s, XA, XB): a value of the enum is
		// stored as its constant, without allocating.
		args := []jen.Code{ptr, jen.Id("s")}
		for _, v := range t.Values {
			args = append(args, jen.Id(v.Name))
		}
		return jen.Qual(e.payload, "DecodeEnum").Call(args...)
	case model.Defined:
		// (*U)(ptr).decodeJSON(s), or the function of U
		return e.decodeCallPtr(t.Underlying, jen.Parens(jen.Op("*").Add(e.goType(t.Underlying))).Call(ptr))
	}
	return ptr.Dot("decodeJSON").Call(jen.Id("s"))
}

// decodeCall returns the call that reads the next value into target, an
// addressable expression of type t.
func (e *emitter) decodeCall(t *model.GoType, target *jen.Statement) *jen.Statement {
	if t.Kind == model.Named && t.Named.Kind == model.Struct {
		return target.Dot("decodeJSON").Call(jen.Id("s"))
	}
	return e.decodeCallPtr(t, jen.Op("&").Add(target))
}

// decodeCallPtr is decodeCall with a pointer to the target.
func (e *emitter) decodeCallPtr(t *model.GoType, ptr *jen.Statement) *jen.Statement {
	switch t.Kind {
	case model.Named:
		return e.decodeNamed(t.Named, ptr)
	case model.Pointer:
		return jen.Qual(e.payload, "DecodePointer").Call(ptr, jen.Id("s"), e.decodeFunc(t.Elem))
	case model.Slice:
		return jen.Qual(e.payload, "DecodeSlice").Call(ptr, jen.Id("s"), e.decodeFunc(t.Elem))
	case model.Map:
		return jen.Qual(e.payload, "DecodeMap").Call(ptr, jen.Id("s"), e.decodeFunc(t.Elem))
	}
	return jen.Qual(e.payload, scalarDecoder(t)).Call(ptr, jen.Id("s"))
}

// decodeFunc returns a func(*T, *payload.JSONScanner) error for t.
func (e *emitter) decodeFunc(t *model.GoType) jen.Code {
	switch t.Kind {
	case model.Named:
		if t.Named.Kind == model.Struct {
			// (*T).decodeJSON
			return jen.Parens(jen.Op("*").Id(t.Named.Name)).Dot("decodeJSON")
		}
		// func(p *T, s *payload.JSONScanner) error { return payload.DecodeString((*string)(p), s) }
		return jen.Func().Params(jen.Id("p").Op("*").Add(e.goType(t)), jen.Id("s").Op("*").Qual(e.payload, "JSONScanner")).Error().Block(
			jen.Return(e.decodeNamed(t.Named, jen.Id("p"))),
		)
	case model.Pointer, model.Slice, model.Map:
		// func(p *T, s *payload.JSONScanner) error { return payload.DecodeSlice(p, s, ...) }
		return jen.Func().Params(jen.Id("p").Op("*").Add(e.goType(t)), jen.Id("s").Op("*").Qual(e.payload, "JSONScanner")).Error().Block(
			jen.Return(e.decodeCallPtr(t, jen.Id("p"))),
		)
	}
	return jen.Qual(e.payload, scalarDecoder(t))
}

func scalarDecoder(t *model.GoType) string {
	switch t.Kind {
	case model.String:
		return "DecodeString"
	case model.Int64:
		return "DecodeInt64"
	case model.Float64:
		return "DecodeFloat64"
	case model.Bool:
		return "DecodeBool"
	case model.Time:
		return "DecodeTime"
	case model.UUID:
		return "DecodeUUID"
	case model.Date:
		return "DecodeDate"
	}
	return "DecodeAny"
}

// decodeVersion prints decodeXJSON of ver: the typed decoder of bytes that
// passed the version's schema, checked again once decoded.
func (e *emitter) decodeVersion(f *jen.File, ver *model.Version) {
	ev := ver.Event
	t := ver.Payload.Name
	prefix := e.pkg + ": "
	about := fmt.Sprintf("%q", ev.Subject)
	decodeWhat := "%s"
	if !ver.Current() {
		about = fmt.Sprintf("version %d of %q", ver.Number, ev.Subject)
		decodeWhat = fmt.Sprintf("%%s version %d", ver.Number)
	}
	fileDoc(f, fmt.Sprintf("%s decodes data, a payload that passed the schema of %s, into a %s, and checks the value again, so that a payload the Go type cannot hold exactly (see \"What a typed value holds\" in validate.go) is an error matching payload.ErrUnrepresentable rather than a wrong value. An object that repeats a key is read with the last value of each key, as the schema checked it.", ver.DecodeJSON, about, t))
	// var s payload.JSONScanner; s.Reset(data); var p X
	// if p.decodeJSON(&s) != nil { s.Reset(payload.WithoutRepeatedKeys(data)); p.decodeJSON(&s) }; p.Validate()
	f.Func().Id(ver.DecodeJSON).Params(jen.Id("data").Index().Byte()).Params(jen.Id(t), jen.Error()).Block(
		jen.Var().Id("scanner").Qual(e.payload, "JSONScanner"),
		jen.Id("s").Op(":=").Op("&").Id("scanner"),
		jen.Id("s").Dot("Reset").Call(jen.Id("data")),
		jen.Var().Id("p").Id(t),
		jen.If(e.decodeCall(&model.GoType{Kind: model.Named, Named: ver.Payload}, jen.Id("p")).Op("!=").Nil()).BlockFunc(func(g *jen.Group) {
			doc(g, "Every decoder keeps the last value of a repeated key, so data as it is reads into the value the schema checked, unless an earlier value of a repeated key is one the Go type cannot hold. Before calling it an error, read the document again with only the last value of each key; the common case, a payload that decodes, costs one pass.")
			g.Id("s").Dot("Reset").Call(jen.Qual(e.payload, "WithoutRepeatedKeys").Call(jen.Id("data")))
			g.If(jen.Err().Op(":=").Add(e.decodeCall(&model.GoType{Kind: model.Named, Named: ver.Payload}, jen.Id("p"))), jen.Err().Op("!=").Nil()).Block(
				jen.Return(jen.Id("p"), jen.Qual("fmt", "Errorf").Call(jen.Lit(prefix+"decode "+decodeWhat+": %w"), jen.Id(ev.Const), jen.Err())),
			)
		}),
		jen.If(jen.Err().Op(":=").Id("p").Dot("Validate").Call(), jen.Err().Op("!=").Nil()).Block(
			jen.Return(jen.Id("p"), jen.Qual("fmt", "Errorf").Call(jen.Lit(prefix+"decode "+decodeWhat+": %w: the decoded value differs from the payload: %w"), jen.Id(ev.Const), jen.Qual(e.payload, "ErrUnrepresentable"), jen.Err())),
		),
		jen.Return(jen.Id("p"), jen.Nil()),
	)
}

// typedValueDoc is the paragraph of validate.go on what a typed value
// holds where Go cannot hold the JSON exactly.
var typedValueDoc = []string{
	"What a typed value holds. The decoders (decodeXJSON, which ParseX and the consumers' routes use) read every payload the schema accepts, without encoding/json. An integer is any JSON number of integral value (12, 12.0, 1.2e1, -0); one beyond int64 (where the schema does not bound it) is an error matching payload.ErrUnrepresentable, as is a number beyond float64's range. Other numbers are rounded to the nearest float64 (1e-400 becomes 0; when the rounded value breaks the schema, the decoder's second check makes it an ErrUnrepresentable error). A date-time is a time.Time: 't' and 'z' are read in either case, fractions beyond nanoseconds are truncated, an offset of +00:00 or -00:00 is UTC and another a time.FixedZone, and a leap second (23:59:60 UTC) is the second after it. A uuid is a uuid.UUID (written back in lower case), a date a payload.Date. An untyped value (any) holds map[string]any, []any, string, bool, nil and json.Number, the number's exact text. Unknown keys are dropped and, of a repeated key, the last value is kept, the one the schema checks. Every decoded value encodes back (AppendJSON) to JSON that passes the schema.",
}
