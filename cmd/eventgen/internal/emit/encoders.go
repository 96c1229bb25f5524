package emit

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/sdk/payload"
)

// Import paths the encoders use.
const (
	strconvPath = "strconv"
	mapsPath    = "maps"
	slicesPath  = "slices"
)

// encoder writes the body of one AppendJSON method. Literal text is held
// back until code that is not literal follows, so that runs of it are
// written by one append: {"a": ... ,"b": ... }.
type encoder struct {
	e       *emitter
	body    []jen.Code
	pending string // literal text not yet written
	usesErr bool   // the body assigns err: declare it
	depth   int    // nesting of loops, for their variables' names
}

// appendMethod returns AppendJSON of t with its doc comment.
func (e *emitter) appendMethod(t *model.Type) []jen.Code {
	g := &encoder{e: e}
	x := id("x")
	switch t.Kind {
	case model.Struct:
		g.object(x, t.Fields)
		if twin := e.twin(e.appenders, t, g.body); twin != nil {
			// return Twin(x).AppendJSON(dst)
			return methodDecl(t, []jen.Code{jen.Return(jen.Id(twin.Name).Call(x()).Dot("AppendJSON").Call(jen.Id("dst")))})
		}
	case model.Defined:
		if u := t.Underlying; u.Kind == model.Named && u.Named.Kind != model.Enum {
			// return U(x).AppendJSON(dst)
			g.add(jen.Return(converted(e, x, u)().Dot("AppendJSON").Call(jen.Id("dst"))))
			return methodDecl(t, g.body)
		}
		g.value(converted(e, x, t.Underlying), t.Underlying)
	}
	body := g.body
	if g.usesErr {
		body = append([]jen.Code{jen.Var().Id("err").Error()}, body...)
	}
	if g.pending == "" {
		body = append(body, jen.Return(jen.Id("dst"), jen.Nil()))
	} else {
		// return append(dst, '}'), nil
		body = append(body, jen.Return(appendLit(g.pending), jen.Nil()))
	}
	return methodDecl(t, body)
}

// twin returns the struct type printed before t whose method has the same
// code as body and whose fields are the same (or the enum type, whose
// values are strings too), so that t's method can convert to it and call
// it; nil when there is none, and then body is recorded in seen (by its
// code) as t's.
func (e *emitter) twin(seen map[string]*model.Type, t *model.Type, body []jen.Code) *model.Type {
	if seen == nil {
		return nil
	}
	key := renderBody(body)
	if other := seen[key]; other != nil && (sameFields(other, t) || other.Kind == model.Enum && t.Kind == model.Enum) {
		return other
	}
	if _, ok := seen[key]; !ok {
		seen[key] = t
	}
	return nil
}

// sameFields reports whether a value of struct type a converts to b: the
// same fields, of the same types, in the same order.
func sameFields(a, b *model.Type) bool {
	if a.Kind != model.Struct || b.Kind != model.Struct || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i, f := range a.Fields {
		g := b.Fields[i]
		if f.Name != g.Name || f.Type.String() != g.Type.String() {
			return false
		}
	}
	return true
}

// methodDecl returns the declaration of AppendJSON of t, with its doc.
func methodDecl(t *model.Type, body []jen.Code) []jen.Code {
	out := comment("AppendJSON appends the JSON encoding of x to dst, the bytes json.Marshal(x) gives, and returns the extended buffer.")
	return append(out,
		jen.Func().Params(jen.Id("x").Id(t.Name)).Id("AppendJSON").Params(jen.Id("dst").Index().Byte()).
			Params(jen.Index().Byte(), jen.Error()).Block(body...),
	)
}

// converted returns x, of a defined type on u, as a value that the
// encoding of u applies to: U(x) for a named or scalar u (whose methods and
// helpers want that type), x itself for a slice or a map (ranged over
// as it is).
func converted(e *emitter, x expr, u *model.GoType) expr {
	switch u.Kind {
	case model.Slice, model.Map:
		return x
	}
	return func() *jen.Statement { return e.goType(u).Call(x()) }
}

// add writes code, after the literal text held back.
func (g *encoder) add(code ...jen.Code) {
	if g.pending != "" {
		g.body = append(g.body, jen.Id("dst").Op("=").Add(appendLit(g.pending)))
		g.pending = ""
	}
	g.body = append(g.body, code...)
}

// lit writes literal text.
func (g *encoder) lit(text string) { g.pending += text }

// nested returns the statements that write does, for a block.
func (g *encoder) nested(write func()) []jen.Code {
	g.add()
	outer := g.body
	g.body = nil
	write()
	g.add()
	inner := g.body
	g.body = outer
	return inner
}

// raw returns dst = append(dst, text...).
func raw(text string) jen.Code { return jen.Id("dst").Op("=").Add(appendLit(text)) }

// appendLit returns append(dst, text...), or '…' for one byte. Text with
// quotes reads better as a raw string literal.
func appendLit(text string) *jen.Statement {
	if len(text) == 1 {
		return jen.Append(jen.Id("dst"), jen.LitRune(rune(text[0])))
	}
	lit := jen.Lit(text)
	if strings.Contains(text, `"`) && !strings.ContainsAny(text, "`\r") && utf8.ValidString(text) {
		lit = jen.Id("`" + text + "`")
	}
	return jen.Append(jen.Id("dst"), lit.Op("..."))
}

// fallible returns: if dst, err = call; err != nil { return nil, err }
func (g *encoder) fallible(call *jen.Statement) jen.Code {
	g.usesErr = true
	return jen.If(
		jen.List(jen.Id("dst"), jen.Id("err")).Op("=").Add(call),
		jen.Err().Op("!=").Nil(),
	).Block(jen.Return(jen.Nil(), jen.Err()))
}

// object writes the members of a struct x. A member before the first
// required one may be absent, so the comma before the next one is decided
// at run time, by whether anything was written after the brace.
func (g *encoder) object(x expr, fields []*model.Field) {
	g.lit("{")
	written := false // a member is surely written before the current one
	maybe := false   // one may be: open is the length after the brace
	used := false    // open is used, declared at body[at]
	at := 0
	comma := func() {
		switch {
		case written:
			g.lit(",")
		case maybe:
			used = true
			g.add(jen.If(jen.Len(jen.Id("dst")).Op(">").Id("open")).Block(raw(",")))
		}
	}
	for _, f := range fields {
		fx := func() *jen.Statement { return x().Dot(f.Name) }
		key := string(payload.AppendJSONString(nil, f.JSONName)) + ":"
		if f.Required {
			comma()
			g.lit(key)
			g.value(fx, f.Type)
			written = true
			continue
		}
		// Optional: written unless json's omitempty drops it.
		declare := !written && !maybe
		member := g.nested(func() {
			comma()
			g.lit(key)
			switch f.Type.Kind { // present: neither nil nor empty
			case model.Pointer:
				g.value(deref(fx, f.Type.Elem), f.Type.Elem)
			case model.Slice, model.Map:
				g.elements(fx, f.Type)
			default:
				g.value(fx, f.Type)
			}
		})
		if declare {
			g.add() // the brace, written before open is taken
			at = len(g.body)
			maybe = true
		}
		g.add(jen.If(present(fx, f.Type)).Block(member...))
	}
	if used {
		// open := len(dst), where the first optional member begins
		g.body = slices.Insert(g.body, at, jen.Code(jen.Id("open").Op(":=").Len(jen.Id("dst"))))
	}
	g.lit("}")
}

// present is the condition under which json's omitempty keeps a field of
// type t: a non-nil pointer or interface, a non-empty slice or map.
func present(x expr, t *model.GoType) *jen.Statement {
	switch t.Kind {
	case model.Slice, model.Map:
		return jen.Len(x()).Op(">").Lit(0)
	}
	return x().Op("!=").Nil()
}

// value writes the encoding of x, of type t.
func (g *encoder) value(x expr, t *model.GoType) {
	pkgFn := func(name string) *jen.Statement { return jen.Qual(g.e.payload, name) }
	set := func(call *jen.Statement) jen.Code { return jen.Id("dst").Op("=").Add(call) }
	switch t.Kind {
	case model.Named:
		if t.Named.Kind == model.Enum {
			g.add(set(pkgFn("AppendJSONString").Call(jen.Id("dst"), jen.String().Call(x()))))
			return
		}
		g.add(g.fallible(x().Dot("AppendJSON").Call(jen.Id("dst"))))
	case model.String:
		g.add(set(pkgFn("AppendJSONString").Call(jen.Id("dst"), x())))
	case model.Int64:
		g.add(set(jen.Qual(strconvPath, "AppendInt").Call(jen.Id("dst"), x(), jen.Lit(10))))
	case model.Bool:
		g.add(set(jen.Qual(strconvPath, "AppendBool").Call(jen.Id("dst"), x())))
	case model.Float64:
		g.add(g.fallible(pkgFn("AppendJSONFloat").Call(jen.Id("dst"), x())))
	case model.Time:
		g.add(g.fallible(pkgFn("AppendJSONTime").Call(jen.Id("dst"), x())))
	case model.UUID:
		g.add(set(pkgFn("AppendJSONUUID").Call(jen.Id("dst"), x())))
	case model.Date:
		g.add(set(pkgFn("AppendJSONDate").Call(jen.Id("dst"), x())))
	case model.Any:
		g.add(g.fallible(pkgFn("AppendJSONValue").Call(jen.Id("dst"), x())))
	case model.Pointer:
		g.nilOr(x, func() { g.value(deref(x, t.Elem), t.Elem) })
	case model.Slice, model.Map:
		g.nilOr(x, func() { g.elements(x, t) })
	}
}

// elements writes the encoding of x, a slice or a map that is not nil.
func (g *encoder) elements(x expr, t *model.GoType) {
	if t.Kind == model.Slice {
		i, v := g.loopVars("i", "v")
		g.lit("[")
		elem := g.nested(func() {
			g.add(jen.If(jen.Id(i).Op(">").Lit(0)).Block(raw(",")))
			g.depth++
			g.value(id(v), t.Elem)
			g.depth--
		})
		g.add(jen.For(jen.List(jen.Id(i), jen.Id(v)).Op(":=").Range().Add(x())).Block(elem...))
		g.lit("]")
		return
	}
	// Members in the order of their keys, as encoding/json writes them.
	i, k := g.loopVars("i", "k")
	g.lit("{")
	member := g.nested(func() {
		g.add(
			jen.If(jen.Id(i).Op(">").Lit(0)).Block(raw(",")),
			jen.Id("dst").Op("=").Qual(g.e.payload, "AppendJSONString").Call(jen.Id("dst"), jen.Id(k)),
		)
		g.lit(":")
		g.depth++
		g.value(func() *jen.Statement { return x().Index(jen.Id(k)) }, t.Elem)
		g.depth--
	})
	sorted := jen.Qual(slicesPath, "Sorted").Call(jen.Qual(mapsPath, "Keys").Call(x()))
	g.add(jen.For(jen.List(jen.Id(i), jen.Id(k)).Op(":=").Range().Add(sorted)).Block(member...))
	g.lit("}")
}

// deref returns *x, for a pointer x to a value of type elem, or x itself
// when elem's AppendJSON is called on it (a method of the value, called
// through the pointer).
func deref(x expr, elem *model.GoType) expr {
	if elem.Kind == model.Named && elem.Named.Kind != model.Enum {
		return x
	}
	return func() *jen.Statement { return jen.Op("*").Add(x()) }
}

// nilOr writes: if x == nil { null } else { what write writes }.
func (g *encoder) nilOr(x expr, write func()) {
	then := g.nested(write)
	g.add(jen.If(x().Op("==").Nil()).Block(raw("null")).Else().Block(then...))
}

// loopVars returns the names of a loop's variables: i and v at the top,
// i2 and v2 inside it, and so on.
func (g *encoder) loopVars(a, b string) (string, string) {
	if g.depth == 0 {
		return a, b
	}
	n := strconv.Itoa(g.depth + 1)
	return a + n, b + n
}
