package emit

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/sdk/payload"
)

// expr produces a fresh Go expression (jennifer statements are never
// reused).
type expr func() *jen.Statement

func id(name string) expr { return func() *jen.Statement { return jen.Id(name) } }

// jsonPath is the JSON pointer of a value in generated code: the at parameter
// (a *payload.Path), or a local payload.Path variable.
type jsonPath string

const atParam jsonPath = ""

// ptr returns the *payload.Path.
func (p jsonPath) ptr() *jen.Statement {
	if p == atParam {
		return jen.Id("at")
	}
	return jen.Op("&").Id(string(p))
}

// base returns what Member and Item are called on.
func (p jsonPath) base() *jen.Statement {
	if p == atParam {
		return jen.Id("at")
	}
	return jen.Id(string(p))
}

// typed writes the checks of typed values: what their JSON encoding would
// be, against a schema node, without encoding them.
type typed struct {
	v    *validators
	vars int // locals declared so far, for unique names
}

func (g *typed) local(prefix string) string {
	g.vars++
	return prefix + strconv.Itoa(g.vars)
}

func (g *typed) pkg(name string) *jen.Statement { return jen.Qual(g.v.e.payload, name) }

// add returns vs.Add(at, msg).
func add(at jsonPath, msg string) jen.Code {
	return jen.Id("vs").Dot("Add").Call(at.ptr(), jen.Lit(msg))
}

// structMethod writes validateAt of a struct type.
func (v *validators) structMethod(t *model.Type) []jen.Code {
	g := &typed{v: v}
	var body []jen.Code
	g.structChecks(&body, t, atParam)
	out := comment(fmt.Sprintf("validateAt checks the JSON encoding of p against %s, recording what breaks it in vs.", where(t.Node)))
	if twin := v.e.twin(v.twins, t, body); twin != nil {
		// (*Twin)(p).validateAt(vs, at)
		out = comment(fmt.Sprintf("validateAt checks the JSON encoding of p against %s, recording what breaks it in vs: the checks of %s, whose fields and schema are the same.", where(t.Node), twin.Name))
		body = []jen.Code{jen.Parens(jen.Op("*").Id(twin.Name)).Call(jen.Id("p")).Dot("validateAt").Call(jen.Id("vs"), jen.Id("at"))}
	}
	return append(out,
		jen.Func().Params(jen.Id("p").Op("*").Id(t.Name)).Id("validateAt").Params(
			jen.Id("vs").Op("*").Qual(v.e.payload, "Violations"), jen.Id("at").Op("*").Qual(v.e.payload, "Path"),
		).Block(body...),
		jen.Line())
}

// enumMethod writes validateAt of an enum type.
func (v *validators) enumMethod(t *model.Type) []jen.Code {
	g := &typed{v: v}
	var body []jen.Code
	x := func() *jen.Statement { return jen.String().Call(jen.Id("x")) }
	g.check(&body, x, &model.GoType{Kind: model.String}, t.Node, atParam)
	out := comment(fmt.Sprintf("validateAt checks x against %s, recording what breaks it in vs.", where(t.Node)))
	if twin := v.e.twin(v.enumTwins, t, body); twin != nil {
		// Twin(x).validateAt(vs, at)
		out = comment(fmt.Sprintf("validateAt checks x against %s, recording what breaks it in vs: the checks of %s, whose values and schema are the same.", where(t.Node), twin.Name))
		body = []jen.Code{jen.Id(twin.Name).Call(jen.Id("x")).Dot("validateAt").Call(jen.Id("vs"), jen.Id("at"))}
	}
	return append(out,
		jen.Func().Params(jen.Id("x").Id(t.Name)).Id("validateAt").Params(
			jen.Id("vs").Op("*").Qual(v.e.payload, "Violations"), jen.Id("at").Op("*").Qual(v.e.payload, "Path"),
		).Block(body...),
		jen.Line())
}

// definedMethod writes validateAt of a payload type defined on another
// type (type X Quantity, type X map[string]Y...).
func (v *validators) definedMethod(t *model.Type) []jen.Code {
	g := &typed{v: v}
	var body []jen.Code
	u := t.Underlying
	switch {
	case u.Kind == model.Named && u.Named.Kind == model.Struct:
		// (*Quantity)(p)
		g.check(&body, func() *jen.Statement { return jen.Parens(jen.Op("*").Id(u.Named.Name)).Call(jen.Id("p")) }, u, t.Node, atParam)
	default:
		// value := U(*p)
		g.checkValue(&body, id("value"), u, t.Node, atParam)
		if len(body) > 0 {
			body = append([]jen.Code{jen.Id("value").Op(":=").Add(v.e.goType(u)).Call(jen.Op("*").Id("p"))}, body...)
		}
	}
	out := comment(fmt.Sprintf("validateAt checks the JSON encoding of p against %s, recording what breaks it in vs.", where(t.Node)))
	return append(out,
		jen.Func().Params(jen.Id("p").Op("*").Id(t.Name)).Id("validateAt").Params(
			jen.Id("vs").Op("*").Qual(v.e.payload, "Violations"), jen.Id("at").Op("*").Qual(v.e.payload, "Path"),
		).Block(body...),
		jen.Line())
}

// nullViolations returns the messages of what null breaks in n.
func (v *validators) nullViolations(n *model.SchemaNode) []string {
	if v.isTrivial(n) {
		return nil
	}
	if n.Bool != nil {
		return []string{falseMessage}
	}
	if n.Types != nil && !slices.Contains(n.Types, "null") {
		return []string{typeMessage(n, "null")}
	}
	var out []string
	if n.Const != nil && *n.Const != "null" {
		out = append(out, constMessage(n))
	}
	if n.Enum != nil && !slices.Contains(n.Enum, "null") {
		out = append(out, enumMessage(n))
	}
	for _, c := range n.InPlace() {
		out = append(out, v.nullViolations(c)...)
	}
	return out
}

// fallback checks the JSON encoding of x with the raw function of n.
func (g *typed) fallback(out *[]jen.Code, x expr, n *model.SchemaNode, at jsonPath) {
	name := g.v.need(n)
	if name == "" {
		return
	}
	*out = append(*out, comment(fmt.Sprintf("The Go type cannot carry every constraint of %s: its JSON encoding is checked.", where(n)))...)
	*out = append(*out, jen.Id("vs").Dot("CheckEncoded").Call(at.ptr(), x(), jen.Id(name)))
}

// checkValue checks a value held by a field, an item or a map value: a
// nil pointer is null, a float must be finite.
func (g *typed) checkValue(out *[]jen.Code, x expr, t *model.GoType, n *model.SchemaNode, at jsonPath) {
	switch t.Kind {
	case model.Pointer:
		var null, value []jen.Code
		for _, msg := range g.v.nullViolations(n) {
			null = append(null, add(at, msg))
		}
		elem := derefOf(x, t.Elem)
		g.checkValue(&value, elem, t.Elem, n, at)
		switch {
		case len(null) == 0 && len(value) == 0:
		case len(value) == 0:
			*out = append(*out, jen.If(x().Op("==").Nil()).Block(null...))
		case len(null) == 0:
			*out = append(*out, jen.If(x().Op("!=").Nil()).Block(value...))
		default:
			*out = append(*out, jen.If(x().Op("==").Nil()).Block(null...).Else().Block(value...))
		}
	case model.Slice, model.Map:
		// A nil slice or map is encoded as null.
		var null, value []jen.Code
		for _, msg := range g.v.nullViolations(n) {
			null = append(null, add(at, msg))
		}
		g.check(&value, x, t, n, at)
		switch {
		case len(null) == 0 && len(value) == 0:
		case len(null) == 0:
			*out = append(*out, jen.If(x().Op("!=").Nil()).Block(value...))
		case len(value) == 0:
			*out = append(*out, jen.If(x().Op("==").Nil()).Block(null...))
		default:
			*out = append(*out, jen.If(x().Op("==").Nil()).Block(null...).Else().Block(value...))
		}
	case model.Float64:
		var value []jen.Code
		g.check(&value, x, t, n, at)
		check := jen.If(jen.Op("!").Add(g.pkg("IsFinite")).Call(x())).Block(
			add(at, "is not a finite number (NaN or infinite)"))
		if len(value) > 0 {
			check.Else().Block(value...)
		}
		*out = append(*out, check)
	default:
		g.check(out, x, t, n, at)
	}
}

// derefOf returns the value a pointer x to a value of type elem points
// to, as the checks of elem use it: the pointer itself for a struct, whose
// validateAt takes a pointer.
func derefOf(x expr, elem *model.GoType) expr {
	switch {
	case elem.Kind == model.Named && elem.Named.Kind == model.Struct:
		return x
	case elem.Kind == model.Named && elem.Named.Kind == model.Enum:
		return func() *jen.Statement { return jen.Parens(jen.Op("*").Add(x())) } // (*x).validateAt
	}
	return func() *jen.Statement { return jen.Op("*").Add(x()) }
}

// jsonType returns the JSON type of the encoding of a non-pointer Go type,
// and the name jsonschema/v5 gives it in messages.
func jsonType(t *model.GoType) (typ, name string) {
	switch t.Kind {
	case model.String, model.Time, model.UUID, model.Date:
		return "string", "string"
	case model.Int64:
		return "integer", "number"
	case model.Float64:
		return "number", "number"
	case model.Bool:
		return "boolean", "boolean"
	case model.Slice:
		return "array", "array"
	case model.Map:
		return "object", "object"
	case model.Named:
		switch t.Named.Kind {
		case model.Struct:
			return "object", "object"
		case model.Enum:
			return "string", "string"
		}
		return jsonType(t.Named.Underlying)
	}
	return "", ""
}

func objectKeywords(v *validators, n *model.SchemaNode) bool {
	return n.Properties != nil || n.Required != nil || n.MinProperties != nil || n.MaxProperties != nil ||
		n.AdditionalProperties != nil && !v.isTrivial(n.AdditionalProperties)
}

// natural reports whether the typed checks can check n's own keywords on a
// value of Go type t without encoding it.
func (g *typed) natural(t *model.GoType, n *model.SchemaNode) bool {
	stringOnly := func(format string) bool {
		return !valueCheck(n) && n.MinLength == nil && n.MaxLength == nil && n.Pattern == nil && (n.Format == "" || n.Format == format)
	}
	switch t.Kind {
	case model.String, model.Bool:
		return true
	case model.Int64, model.Float64, model.Map:
		return !valueCheck(n)
	case model.UUID:
		return stringOnly("uuid")
	case model.Time:
		return stringOnly("date-time")
	case model.Date:
		return stringOnly("date")
	case model.Slice:
		return !valueCheck(n) && (!n.UniqueItems || comparable(t.Elem))
	case model.Named:
		switch t.Named.Kind {
		case model.Enum:
			return true
		case model.Struct:
			return n == t.Named.Node || !valueCheck(n) && !objectKeywords(g.v, n)
		}
	}
	return false
}

// comparable reports whether Go's == on values of t is the equality of
// their JSON encodings.
func comparable(t *model.GoType) bool {
	switch t.Kind {
	case model.String, model.Int64, model.Float64, model.Bool, model.UUID:
		return true
	case model.Named:
		return t.Named.Kind == model.Enum
	}
	return false
}

// check checks x, a value of Go type t (not a pointer), against n and its
// in-place subschemas.
func (g *typed) check(out *[]jen.Code, x expr, t *model.GoType, n *model.SchemaNode, at jsonPath) {
	v := g.v
	if v.isTrivial(n) {
		return
	}
	if t.Kind == model.Pointer {
		g.checkValue(out, x, t, n, at)
		return
	}
	if n.Bool != nil {
		*out = append(*out, add(at, falseMessage))
		return
	}
	if t.Kind == model.Any || !g.natural(t, n) {
		g.fallback(out, x, n, at)
		return
	}
	if t.Kind == model.Named && t.Named.Kind == model.Struct && n == t.Named.Node {
		*out = append(*out, x().Dot("validateAt").Call(jen.Id("vs"), at.ptr()))
		return
	}
	// An enum's own checks see the string; its in-place subschemas, the
	// enum value, so that the enum's schema is its validateAt.
	ox, ot := x, t
	if t.Kind == model.Named && t.Named.Kind == model.Enum {
		if n == t.Named.Node {
			*out = append(*out, x().Dot("validateAt").Call(jen.Id("vs"), at.ptr()))
			return
		}
		ox = func() *jen.Statement { return jen.String().Call(x()) }
		ot = &model.GoType{Kind: model.String}
	}

	typ, name := jsonType(t)
	var rest []jen.Code
	g.own(&rest, ox, ot, n, at)
	for _, c := range n.InPlace() {
		g.check(&rest, x, t, c, at)
	}
	switch {
	case n.Types == nil || n.HasType(typ) && (typ != "number" || !integerOnly(n)):
		*out = append(*out, rest...)
	case typ == "number" && n.HasType("integer"):
		// A float is an integer when it has no fraction.
		*out = append(*out, jen.If(x().Op("!=").Qual(mathPath, "Trunc").Call(x())).Block(
			add(at, typeMessage(n, name)),
		).Else().Block(rest...))
	default:
		*out = append(*out, add(at, typeMessage(n, name)))
	}
}

// own writes the checks of n's own keywords on x.
func (g *typed) own(out *[]jen.Code, x expr, t *model.GoType, n *model.SchemaNode, at jsonPath) {
	switch t.Kind {
	case model.String:
		g.stringChecks(out, x, n, at)
	case model.Int64:
		g.intChecks(out, x, n, at)
	case model.Float64:
		g.floatChecks(out, x, n, at)
	case model.Bool:
		g.boolChecks(out, x, n, at)
	case model.Time:
		if n.Format == "date-time" {
			*out = append(*out, jen.If(jen.Op("!").Add(g.pkg("ValidTime")).Call(x())).Block(
				add(at, "is not a valid date-time: its year must be within 0 to 9999 and its zone offset within a day")))
		}
	case model.Date:
		if n.Format == "date" {
			*out = append(*out, jen.If(jen.Op("!").Add(g.pkg("ValidDate")).Call(x())).Block(
				add(at, "is not a valid date: its year must be within 0 to 9999")))
		}
	case model.Slice:
		g.sliceChecks(out, x, t, n, at)
	case model.Map:
		g.mapChecks(out, x, t, n, at)
	}
}

func (g *typed) stringChecks(out *[]jen.Code, x expr, n *model.SchemaNode, at jsonPath) {
	fail := func(values []string, msg string) {
		var conds []jen.Code
		for _, val := range values {
			if jsonKind(val) == payload.JSONString {
				conds = append(conds, x().Op("==").Lit(unquote(val)))
			}
		}
		if len(conds) == 0 {
			*out = append(*out, add(at, msg))
			return
		}
		*out = append(*out, jen.If(jen.Op("!").Parens(orJoin(conds))).Block(add(at, msg)))
	}
	if n.Const != nil {
		fail([]string{*n.Const}, constMessage(n))
	}
	if n.Enum != nil {
		fail(n.Enum, enumMessage(n))
	}
	if n.Format != "" {
		*out = append(*out, jen.If(jen.Op("!").Add(g.pkg(formatFuncs[n.Format])).Call(x())).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit("%q is not a valid "+n.Format), x())))
	}
	if n.MinLength != nil || n.MaxLength != nil {
		l := g.local("n")
		var checks []jen.Code
		if n.MinLength != nil {
			checks = append(checks, jen.If(jen.Id(l).Op("<").Lit(*n.MinLength)).Block(
				jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must be at least %d characters long, got %%d", *n.MinLength)), jen.Id(l))))
		}
		if n.MaxLength != nil {
			checks = append(checks, jen.If(jen.Id(l).Op(">").Lit(*n.MaxLength)).Block(
				jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must be at most %d characters long, got %%d", *n.MaxLength)), jen.Id(l))))
		}
		// { n1 := utf8.RuneCountInString(x); if n1 < 1 {...} }
		*out = append(*out, jen.Block(append([]jen.Code{jen.Id(l).Op(":=").Qual(utf8Path, "RuneCountInString").Call(x())}, checks...)...))
	}
	if n.Pattern != nil {
		*out = append(*out, jen.If(jen.Op("!").Id(g.v.pattern(*n.Pattern)).Dot("MatchString").Call(x())).Block(
			add(at, patternMessage(*n.Pattern))))
	}
}

// intBound returns the bound as an int64 when it is an integer that fits.
func intBound(text string) (int64, bool) {
	r, ok := new(big.Rat).SetString(text)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

// floatBound returns the bound as a float64 when comparing floats with it
// is exact: it is the shortest decimal of a float64.
func floatBound(text string) (float64, bool) {
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	a, _ := new(big.Rat).SetString(text)
	b, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	return f, a.Cmp(b) == 0
}

func (g *typed) intChecks(out *[]jen.Code, x expr, n *model.SchemaNode, at jsonPath) {
	for _, b := range bounds(n) {
		var cond *jen.Statement
		if i, ok := intBound(b.text); ok {
			cond = x().Op(b.fail).Lit(i)
		} else {
			cond = g.pkg("CompareInt").Call(x(), jen.Id(g.v.number(b.text))).Op(b.fail).Lit(0)
		}
		*out = append(*out, jen.If(cond).Block(add(at, b.msg)))
	}
	if n.MultipleOf != nil {
		var cond *jen.Statement
		if m, ok := intBound(*n.MultipleOf); ok {
			cond = x().Op("%").Lit(m).Op("!=").Lit(0)
		} else {
			cond = jen.Op("!").Add(g.pkg("IntIsMultipleOf")).Call(x(), jen.Id(g.v.number(*n.MultipleOf)))
		}
		*out = append(*out, jen.If(cond).Block(add(at, multipleMessage(n))))
	}
}

func (g *typed) floatChecks(out *[]jen.Code, x expr, n *model.SchemaNode, at jsonPath) {
	for _, b := range bounds(n) {
		var cond *jen.Statement
		if f, ok := floatBound(b.text); ok {
			cond = x().Op(b.fail).Lit(f)
		} else {
			cond = g.pkg("CompareFloat").Call(x(), jen.Id(g.v.number(b.text))).Op(b.fail).Lit(0)
		}
		*out = append(*out, jen.If(cond).Block(add(at, b.msg)))
	}
	if n.MultipleOf != nil {
		*out = append(*out, jen.If(jen.Op("!").Add(g.pkg("FloatIsMultipleOf")).Call(x(), jen.Id(g.v.number(*n.MultipleOf)))).Block(
			add(at, multipleMessage(n))))
	}
}

func (g *typed) boolChecks(out *[]jen.Code, x expr, n *model.SchemaNode, at jsonPath) {
	fail := func(values []string, msg string) {
		hasTrue, hasFalse := slices.Contains(values, "true"), slices.Contains(values, "false")
		switch {
		case hasTrue && hasFalse:
		case hasTrue:
			*out = append(*out, jen.If(jen.Op("!").Add(x())).Block(add(at, msg)))
		case hasFalse:
			*out = append(*out, jen.If(x()).Block(add(at, msg)))
		default:
			*out = append(*out, add(at, msg))
		}
	}
	if n.Const != nil {
		fail([]string{*n.Const}, constMessage(n))
	}
	if n.Enum != nil {
		fail(n.Enum, enumMessage(n))
	}
}

func (g *typed) sliceChecks(out *[]jen.Code, x expr, t *model.GoType, n *model.SchemaNode, at jsonPath) {
	if n.MinItems != nil {
		*out = append(*out, jen.If(jen.Len(x()).Op("<").Lit(*n.MinItems)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at least %d items, got %%d", *n.MinItems)), jen.Len(x()))))
	}
	if n.MaxItems != nil {
		*out = append(*out, jen.If(jen.Len(x()).Op(">").Lit(*n.MaxItems)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at most %d items, got %%d", *n.MaxItems)), jen.Len(x()))))
	}
	if n.UniqueItems {
		// if i, j, ok := payload.DuplicateItems(x); ok { vs.Addf(at, "items %d and %d are equal", i, j) }
		*out = append(*out, jen.If(jen.List(jen.Id("i"), jen.Id("j"), jen.Id("ok")).Op(":=").Add(g.pkg("DuplicateItems")).Call(x()), jen.Id("ok")).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit("items %d and %d are equal"), jen.Id("i"), jen.Id("j"))))
	}
	for j, p := range n.PrefixItems {
		var body []jen.Code
		e := g.local("e")
		g.checkValue(&body, func() *jen.Statement { return x().Index(jen.Lit(j)) }, t.Elem, p, jsonPath(e))
		if len(body) > 0 {
			// if len(x) > j { e1 := at.Item(j); ... }
			*out = append(*out, jen.If(jen.Len(x()).Op(">").Lit(j)).Block(
				append([]jen.Code{jen.Id(e).Op(":=").Add(at.base()).Dot("Item").Call(jen.Lit(j))}, body...)...))
		}
	}
	if n.Items != nil {
		var body []jen.Code
		i, e := g.local("i"), g.local("e")
		g.checkValue(&body, func() *jen.Statement { return x().Index(jen.Id(i)) }, t.Elem, n.Items, jsonPath(e))
		if len(body) > 0 {
			body = append([]jen.Code{jen.Id(e).Op(":=").Add(at.base()).Dot("Item").Call(jen.Id(i))}, body...)
			if len(n.PrefixItems) == 0 {
				// for i1 := range x { e2 := at.Item(i1); ... }
				*out = append(*out, jen.For(jen.Id(i).Op(":=").Range().Add(x())).Block(body...))
			} else {
				*out = append(*out, jen.For(jen.Id(i).Op(":=").Lit(len(n.PrefixItems)), jen.Id(i).Op("<").Len(x()), jen.Id(i).Op("++")).Block(body...))
			}
		}
	}
}

func (g *typed) mapChecks(out *[]jen.Code, x expr, t *model.GoType, n *model.SchemaNode, at jsonPath) {
	if n.MinProperties != nil {
		*out = append(*out, jen.If(jen.Len(x()).Op("<").Lit(*n.MinProperties)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at least %d properties, got %%d", *n.MinProperties)), jen.Len(x()))))
	}
	if n.MaxProperties != nil {
		*out = append(*out, jen.If(jen.Len(x()).Op(">").Lit(*n.MaxProperties)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at most %d properties, got %%d", *n.MaxProperties)), jen.Len(x()))))
	}
	if len(n.Required) > 0 {
		missing := g.local("missing")
		block := []jen.Code{jen.Var().Id(missing).Index().String()}
		for _, r := range uniqueStrings(n.Required) {
			block = append(block, jen.If(jen.List(jen.Id("_"), jen.Id("ok")).Op(":=").Add(x()).Index(jen.Lit(r)), jen.Op("!").Id("ok")).Block(
				jen.Id(missing).Op("=").Append(jen.Id(missing), jen.Lit(r))))
		}
		block = append(block, jen.If(jen.Len(jen.Id(missing)).Op(">").Lit(0)).Block(
			jen.Id("vs").Dot("Add").Call(at.ptr(), jen.Lit("missing required properties: ").Op("+").Add(g.pkg("QuoteList")).Call(jen.Id(missing)))))
		*out = append(*out, jen.Block(block...))
	}
	var names []string
	for _, p := range n.Properties {
		if slices.Contains(names, p.Name) {
			continue
		}
		names = append(names, p.Name)
		var body []jen.Code
		val, e := g.local("x"), g.local("e")
		g.checkValue(&body, id(val), t.Elem, p.Schema, jsonPath(e))
		if len(body) > 0 {
			// if x1, ok := x["a"]; ok { e2 := at.Member("a"); ... }
			*out = append(*out, jen.If(jen.List(jen.Id(val), jen.Id("ok")).Op(":=").Add(x()).Index(jen.Lit(p.Name)), jen.Id("ok")).Block(
				append([]jen.Code{jen.Id(e).Op(":=").Add(at.base()).Dot("Member").Call(jen.Lit(p.Name))}, body...)...))
		}
	}
	addl := n.AdditionalProperties
	if addl == nil || g.v.isTrivial(addl) {
		return
	}
	k, val, e := g.local("k"), g.local("x"), g.local("e")
	isProperty := func() []jen.Code {
		if len(names) == 0 {
			return nil
		}
		var conds []jen.Code
		for _, nm := range names {
			conds = append(conds, jen.Id(k).Op("==").Lit(nm))
		}
		return []jen.Code{jen.If(orJoin(conds)).Block(jen.Continue())}
	}
	if addl.Bool != nil {
		// var unknown []string; for k := range x { ...; unknown = append(unknown, k) }; if len(unknown) > 0 { sort; vs.Add }
		unknown := g.local("unknown")
		loop := append(isProperty(), jen.Id(unknown).Op("=").Append(jen.Id(unknown), jen.Id(k)))
		*out = append(*out, jen.Block(
			jen.Var().Id(unknown).Index().String(),
			jen.For(jen.Id(k).Op(":=").Range().Add(x())).Block(loop...),
			jen.If(jen.Len(jen.Id(unknown)).Op(">").Lit(0)).Block(
				jen.Qual("slices", "Sort").Call(jen.Id(unknown)),
				jen.Id("vs").Dot("Add").Call(at.ptr(), jen.Lit("properties not allowed: ").Op("+").Add(g.pkg("QuoteList")).Call(jen.Id(unknown)))),
		))
		return
	}
	var body []jen.Code
	g.checkValue(&body, id(val), t.Elem, addl, jsonPath(e))
	if len(body) == 0 {
		return
	}
	loop := append(isProperty(), jen.Id(e).Op(":=").Add(at.base()).Dot("Member").Call(jen.Id(k)))
	loop = append(loop, body...)
	*out = append(*out, jen.For(jen.List(jen.Id(k), jen.Id(val)).Op(":=").Range().Add(x())).Block(loop...))
}

// structChecks writes the body of a struct's validateAt: p's fields against
// the properties of the struct's schema, then its in-place subschemas.
func (g *typed) structChecks(out *[]jen.Code, t *model.Type, at jsonPath) {
	n := t.Node
	self := &model.GoType{Kind: model.Named, Named: t}
	if valueCheck(n) {
		g.fallback(out, id("p"), n, at)
		return
	}
	if n.Types != nil && !n.HasType("object") {
		*out = append(*out, add(at, typeMessage(n, "object")))
		return
	}
	counting := n.MinProperties != nil || n.MaxProperties != nil
	if counting {
		required := 0
		for _, f := range t.Fields {
			if f.Required {
				required++
			}
		}
		*out = append(*out, jen.Id("count").Op(":=").Lit(required))
	}
	for _, f := range t.Fields {
		field := func() *jen.Statement { return jen.Id("p").Dot(f.Name) }
		e := g.local("f")
		var body []jen.Code
		present := jen.Null()
		switch {
		case f.Required:
			g.checkValue(&body, field, f.Type, f.Node, jsonPath(e))
		case f.Type.Kind == model.Pointer:
			present = field().Op("!=").Nil()
			elem := derefOf(field, f.Type.Elem)
			g.checkValue(&body, elem, f.Type.Elem, f.Node, jsonPath(e))
		case f.Type.Kind == model.Slice || f.Type.Kind == model.Map:
			present = jen.Len(field()).Op(">").Lit(0)
			g.check(&body, field, f.Type, f.Node, jsonPath(e))
		default: // any
			present = field().Op("!=").Nil()
			g.fallback(&body, field, f.Node, jsonPath(e))
		}
		if len(body) > 0 {
			body = append([]jen.Code{jen.Id(e).Op(":=").Add(at.base()).Dot("Member").Call(jen.Lit(f.JSONName))}, body...)
		}
		switch {
		case f.Required && len(body) > 0:
			*out = append(*out, jen.Block(body...))
		case !f.Required && (len(body) > 0 || counting):
			if counting {
				body = append([]jen.Code{jen.Id("count").Op("++")}, body...)
			}
			*out = append(*out, jen.If(present).Block(body...))
		}
	}
	if n.MinProperties != nil {
		*out = append(*out, jen.If(jen.Id("count").Op("<").Lit(*n.MinProperties)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at least %d properties, got %%d", *n.MinProperties)), jen.Id("count"))))
	}
	if n.MaxProperties != nil {
		*out = append(*out, jen.If(jen.Id("count").Op(">").Lit(*n.MaxProperties)).Block(
			jen.Id("vs").Dot("Addf").Call(at.ptr(), jen.Lit(fmt.Sprintf("must have at most %d properties, got %%d", *n.MaxProperties)), jen.Id("count"))))
	}
	for _, c := range n.InPlace() {
		g.check(out, id("p"), self, c, at)
	}
}
