package emit

// The validators: for each event, Go code compiled from its JSON Schema
// that checks raw JSON bytes (validateXJSON, which ParseX and the catalog's
// ValidateJSON use) and typed values ((*X).Validate). Both give the verdict
// jsonschema/v5 gives, with formats asserted, on the same JSON; the
// compiled jsonschema/v5 schema remains in the package for the one case
// the generated code hands to it (a payload that repeats an object key).
//
// Raw JSON: one function per schema node that checks something, named
// jsonX, reading the document with a bus.JSONScanner:
//
//	func jsonX(s *bus.JSONScanner, at *bus.Path) {
//		start := s.Pos()
//		switch s.Value() {
//		case bus.JSONString: str := s.Str(); ...string keywords...
//		case bus.JSONObject: for s.Member() { switch s.Key() { case "a": ... } } ...
//		default: s.TypeError(at, "string or object"); return
//		}
//		end := s.Pos(); s.Seek(start); jsonRef(s, at); s.Seek(end) // $ref, allOf
//	}
//
// Typed values: a validateAt method per struct and enum type checks what
// the value's JSON encoding would be, field by field, without encoding it;
// a value whose Go type cannot carry its schema's constraints (an untyped
// value, a const object...) is encoded and checked by the raw functions.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/cmd/eventgen/internal/naming"
	"github.com/giia/events/sdk/bus"
)

// Import paths the validators use, besides sdk/bus.
const (
	utf8Path = "unicode/utf8"
	mathPath = "math"
)

// validators holds what is being generated for the validators of a model.
type validators struct {
	e       *emitter
	trivial map[*model.SchemaNode]bool
	typeOf  map[*model.SchemaNode]*model.Type // the type made from a node
	funcs   map[*model.SchemaNode]string      // the raw function of a node, once needed
	names   map[string]bool                   // function names taken
	queue   []*model.SchemaNode               // nodes whose raw function is still to write

	patterns map[string]string // regular expression -> package variable (a *bus.Pattern)
	numbers  map[string]string // number text -> package variable
	vars     []jen.Code        // the package variables, in order of first use
}

func newValidators(e *emitter) *validators {
	v := &validators{
		e:        e,
		trivial:  map[*model.SchemaNode]bool{},
		typeOf:   map[*model.SchemaNode]*model.Type{},
		funcs:    map[*model.SchemaNode]string{},
		names:    map[string]bool{},
		patterns: map[string]string{},
		numbers:  map[string]string{},
	}
	for _, t := range e.m.Types {
		if t.Node == nil {
			continue
		}
		if old, ok := v.typeOf[t.Node]; !ok || old.Kind == model.Defined && t.Kind != model.Defined {
			v.typeOf[t.Node] = t
		}
	}
	return v
}

// file prints validators.go: the raw functions, the typed methods, and the
// package variables they share.
func (v *validators) file() *jen.File {
	var sources []string
	for _, s := range v.e.m.Schemas {
		sources = append(sources, s.Path)
	}
	f := v.e.newFile(sources)

	var typed []jen.Code
	for _, t := range v.e.m.Types {
		switch t.Kind {
		case model.Struct:
			typed = append(typed, v.structMethod(t)...)
		case model.Enum:
			typed = append(typed, v.enumMethod(t)...)
		case model.Defined:
			typed = append(typed, v.definedMethod(t)...)
		}
	}
	for _, ev := range v.e.m.Events {
		v.need(ev.Node)
	}
	// Writing a function may need others: drain the queue, then print in
	// the order of the nodes.
	bodies := map[*model.SchemaNode][]jen.Code{}
	for len(v.queue) > 0 {
		n := v.queue[0]
		v.queue = v.queue[1:]
		bodies[n] = v.rawFunc(n)
	}
	if len(v.vars) > 0 {
		f.Comment("Regular expressions and numbers of the schemas, compiled and parsed once.")
		f.Var().Defs(v.vars...)
		f.Line()
	}
	for _, n := range v.e.m.Nodes {
		for _, c := range bodies[n] {
			f.Add(c)
		}
	}
	for _, c := range typed {
		f.Add(c)
	}
	return f
}

// ownChecks reports whether n checks something itself, leaving aside its
// in-place subschemas.
func (v *validators) ownChecks(n *model.SchemaNode) bool {
	if n.Bool != nil {
		return !*n.Bool
	}
	return n.Types != nil || v.stringWork(n) || v.numberWork(n) || v.arrayWork(n) || v.objectWork(n) || valueCheck(n)
}

// isTrivial reports whether n accepts every value.
func (v *validators) isTrivial(n *model.SchemaNode) bool {
	if t, ok := v.trivial[n]; ok {
		return t
	}
	v.trivial[n] = false // an in-place cycle is an error of the model; be safe
	t := !v.ownChecks(n)
	for _, c := range n.InPlace() {
		t = t && v.isTrivial(c)
	}
	v.trivial[n] = t
	return t
}

// resolve returns the node whose raw function checks what n checks: nil
// when n accepts everything, the target of a $ref (or the one allOf member)
// that is all n has.
func (v *validators) resolve(n *model.SchemaNode) *model.SchemaNode {
	if v.isTrivial(n) {
		return nil
	}
	if !v.ownChecks(n) {
		if in := v.inPlace(n); len(in) == 1 {
			return v.resolve(in[0])
		}
	}
	return n
}

// inPlace returns the in-place subschemas of n that check something,
// resolved, without repeats.
func (v *validators) inPlace(n *model.SchemaNode) []*model.SchemaNode {
	var out []*model.SchemaNode
	for _, c := range n.InPlace() {
		if r := v.resolve(c); r != nil && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func valueCheck(n *model.SchemaNode) bool { return n.Enum != nil || n.Const != nil }

func (v *validators) stringWork(n *model.SchemaNode) bool {
	return n.Format != "" || n.MinLength != nil || n.MaxLength != nil || n.Pattern != nil || valueCheck(n)
}

func integerOnly(n *model.SchemaNode) bool {
	return slices.Contains(n.Types, "integer") && !slices.Contains(n.Types, "number")
}

func (v *validators) numberWork(n *model.SchemaNode) bool {
	return integerOnly(n) || n.Minimum != nil || n.Maximum != nil || n.ExclusiveMinimum != nil ||
		n.ExclusiveMaximum != nil || n.MultipleOf != nil || valueCheck(n)
}

func (v *validators) arrayWork(n *model.SchemaNode) bool {
	if n.MinItems != nil || n.MaxItems != nil || n.UniqueItems || valueCheck(n) {
		return true
	}
	if n.Items != nil && !v.isTrivial(n.Items) {
		return true
	}
	for _, p := range n.PrefixItems {
		if !v.isTrivial(p) {
			return true
		}
	}
	return false
}

func (v *validators) objectWork(n *model.SchemaNode) bool {
	if n.Required != nil || n.MinProperties != nil || n.MaxProperties != nil || valueCheck(n) {
		return true
	}
	if n.AdditionalProperties != nil && !v.isTrivial(n.AdditionalProperties) {
		return true
	}
	for _, p := range n.Properties {
		if !v.isTrivial(p.Schema) {
			return true
		}
	}
	return false
}

// need returns the name of the raw function that checks n, queueing it
// for writing the first time; "" when n accepts every value.
func (v *validators) need(n *model.SchemaNode) string {
	r := v.resolve(n)
	if r == nil {
		return ""
	}
	if name, ok := v.funcs[r]; ok {
		return name
	}
	name := v.funcName(r)
	v.funcs[r] = name
	v.queue = append(v.queue, r)
	return name
}

// funcName names the raw function of n: json + the name of the type made
// from n, or of the schema file and the path to n.
func (v *validators) funcName(n *model.SchemaNode) string {
	var base string
	if t := v.typeOf[n]; t != nil {
		base = "json" + t.Name
	} else {
		stem := n.File[strings.LastIndex(n.File, "/")+1:]
		stem = strings.TrimSuffix(stem, ".json")
		base = "json" + identPart(stem)
		for _, tok := range strings.Split(n.Pointer, "/")[1:] {
			tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
			switch tok {
			case "properties", "$defs":
				continue
			case "items":
				tok = "item"
			case "additionalProperties":
				tok = "value"
			}
			base += identPart(tok)
		}
	}
	name := base
	for i := 2; v.names[name]; i++ {
		name = base + strconv.Itoa(i)
	}
	v.names[name] = true
	return name
}

// identPart turns a name into a part of a Go identifier: CamelCase, with
// ASCII letters and digits only.
func identPart(s string) string {
	var b strings.Builder
	for _, r := range naming.CamelCase(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

// where names a schema node in comments: its file, and its JSON pointer
// unless it is the file's root.
func where(n *model.SchemaNode) string {
	if n.Pointer == "" {
		return n.File
	}
	return n.Location()
}

// pattern returns the package variable holding the compiled expression.
func (v *validators) pattern(expr string) string {
	if name, ok := v.patterns[expr]; ok {
		return name
	}
	name := "pattern" + strconv.Itoa(len(v.patterns))
	v.patterns[expr] = name
	v.vars = append(v.vars, jen.Id(name).Op("=").Qual(v.e.bus, "MustPattern").Call(jen.Lit(expr)))
	return name
}

// number returns the package variable holding the parsed number.
func (v *validators) number(text string) string {
	if name, ok := v.numbers[text]; ok {
		return name
	}
	name := "number" + strconv.Itoa(len(v.numbers))
	v.numbers[text] = name
	v.vars = append(v.vars, jen.Id(name).Op("=").Qual(v.e.bus, "MustNumber").Call(jen.Lit(text)))
	return name
}

// Messages of violations, the same from the raw and the typed validators.

func typeMessage(n *model.SchemaNode, got string) string {
	return "want " + strings.Join(n.Types, " or ") + ", got " + got
}

func constMessage(n *model.SchemaNode) string { return "must be " + *n.Const }

func enumMessage(n *model.SchemaNode) string { return "must be one of " + strings.Join(n.Enum, ", ") }

const falseMessage = "no value is allowed here"

// jsonKind returns the kind of a JSON value's text.
func jsonKind(text string) bus.JSONKind {
	switch c := text[0]; {
	case c == '"':
		return bus.JSONString
	case c == '{':
		return bus.JSONObject
	case c == '[':
		return bus.JSONArray
	case c == 't' || c == 'f':
		return bus.JSONBool
	case c == 'n':
		return bus.JSONNull
	}
	return bus.JSONNumber
}

// unquote returns the string a JSON string's text holds.
func unquote(text string) string {
	var s bus.JSONScanner
	s.Reset([]byte(text))
	s.Value()
	return strings.Clone(s.Str())
}

// canonical returns the canonical text of a JSON value of a schema.
func canonical(text string) string {
	c, err := bus.CanonicalJSON([]byte(text))
	if err != nil {
		panic(fmt.Sprintf("emit: schema value %s: %v", text, err)) // the model wrote it
	}
	return c
}

// kindNames lists the JSON kinds a raw function dispatches on, in order.
var kindNames = []struct {
	kind bus.JSONKind
	id   string
	json string // the JSON Schema type name
}{
	{bus.JSONNull, "JSONNull", "null"},
	{bus.JSONBool, "JSONBool", "boolean"},
	{bus.JSONNumber, "JSONNumber", "number"},
	{bus.JSONString, "JSONString", "string"},
	{bus.JSONArray, "JSONArray", "array"},
	{bus.JSONObject, "JSONObject", "object"},
}

// rawFunc writes the raw function of n.
func (v *validators) rawFunc(n *model.SchemaNode) []jen.Code {
	name := v.funcs[n]
	var body []jen.Code
	s := func() *jen.Statement { return jen.Id("s") }
	at := func() *jen.Statement { return jen.Id("at") }
	if n.Bool != nil {
		// s.Fail(at, "no value is allowed here"); s.Skip()
		body = append(body, s().Dot("Fail").Call(at(), jen.Lit(falseMessage)), s().Dot("Skip").Call())
	} else {
		in := v.inPlace(n)
		if len(in) > 0 || v.needsStart(n) {
			body = append(body, jen.Id("start").Op(":=").Add(s()).Dot("Pos").Call())
		}
		body = append(body, v.dispatch(n, len(in) > 0))
		if len(in) > 0 {
			// end := s.Pos(); s.Seek(start); jsonRef(s, at); ...; s.Seek(end)
			body = append(body, jen.Id("end").Op(":=").Add(s()).Dot("Pos").Call())
			for _, c := range in {
				body = append(body,
					s().Dot("Seek").Call(jen.Id("start")),
					jen.Id(v.need(c)).Call(s(), at()))
			}
			body = append(body, s().Dot("Seek").Call(jen.Id("end")))
		}
	}
	what := []string{fmt.Sprintf("%s checks a JSON value against %s.", name, where(n))}
	if in := v.inPlace(n); len(in) > 0 {
		var names []string
		for _, c := range in {
			names = append(names, v.need(c))
		}
		what = append(what, fmt.Sprintf("The value is read again for its in-place subschemas ($ref, allOf): %s.", strings.Join(names, ", ")))
	}
	out := comment(paragraphs(what)...)
	out = append(out,
		jen.Func().Id(name).Params(jen.Id("s").Op("*").Qual(v.e.bus, "JSONScanner"), jen.Id("at").Op("*").Qual(v.e.bus, "Path")).Block(body...),
		jen.Line())
	return out
}

// needsStart reports whether n compares whole objects or arrays, for
// which it needs the value's offset.
func (v *validators) needsStart(n *model.SchemaNode) bool {
	for _, t := range v.values(n) {
		if k := jsonKind(t); k == bus.JSONObject || k == bus.JSONArray {
			return true
		}
	}
	return false
}

// values returns the const value and the enum values of n.
func (v *validators) values(n *model.SchemaNode) []string {
	var out []string
	if n.Const != nil {
		out = append(out, *n.Const)
	}
	return append(out, n.Enum...)
}

// dispatch writes the switch on the kind of the value.
func (v *validators) dispatch(n *model.SchemaNode, more bool) jen.Code {
	s := func() *jen.Statement { return jen.Id("s") }
	restricted := n.Types != nil
	var cases []jen.Code
	for _, k := range kindNames {
		allowed := !restricted || n.HasType(k.json) || k.kind == bus.JSONNumber && n.HasType("integer")
		if !allowed {
			continue
		}
		stmts := v.kindChecks(n, k.kind)
		if stmts == nil && !restricted && k.kind != bus.JSONObject && k.kind != bus.JSONArray {
			continue // the default case reads scalars
		}
		if stmts == nil && (k.kind == bus.JSONObject || k.kind == bus.JSONArray) {
			stmts = []jen.Code{s().Dot("SkipContainer").Call()}
		}
		cases = append(cases, jen.Case(jen.Qual(v.e.bus, k.id)).Block(stmts...))
	}
	if restricted {
		// default: s.TypeError(at, "string"); return
		def := []jen.Code{s().Dot("TypeError").Call(jen.Id("at"), jen.Lit(strings.Join(n.Types, " or ")))}
		if more {
			def = append(def, jen.Return()) // jsonschema/v5 checks nothing more
		}
		cases = append(cases, jen.Default().Block(def...))
	}
	return jen.Switch(s().Dot("Value").Call()).Block(cases...)
}

// kindChecks returns the statements that check a value of kind k that
// Value just read; nil when there is nothing to check.
func (v *validators) kindChecks(n *model.SchemaNode, k bus.JSONKind) []jen.Code {
	switch k {
	case bus.JSONString:
		return v.stringChecks(n)
	case bus.JSONNumber:
		return v.numberChecks(n)
	case bus.JSONArray:
		return v.arrayChecks(n)
	case bus.JSONObject:
		return v.objectChecks(n)
	}
	return v.valueChecks(n, k)
}

// valueChecks checks const and enum for a value of kind k, read whole.
func (v *validators) valueChecks(n *model.SchemaNode, k bus.JSONKind) []jen.Code {
	var out []jen.Code
	check := func(values []string, msg string) {
		var conds []jen.Code
		always := false
		for _, t := range values {
			if jsonKind(t) != k {
				continue
			}
			switch k {
			case bus.JSONNull:
				always = true
			case bus.JSONBool:
				if t == "true" {
					conds = append(conds, jen.Id("s").Dot("Bool").Call())
				} else {
					conds = append(conds, jen.Op("!").Id("s").Dot("Bool").Call())
				}
			case bus.JSONString:
				conds = append(conds, jen.Id("str").Op("==").Lit(unquote(t)))
			case bus.JSONNumber:
				conds = append(conds, jen.Qual(v.e.bus, "CompareNumber").Call(jen.Id("num"), jen.Id(v.number(t))).Op("==").Lit(0))
			default:
				conds = append(conds, jen.Id("c").Op("==").Lit(canonical(t)))
			}
		}
		fail := jen.Id("s").Dot("Fail").Call(jen.Id("at"), jen.Lit(msg))
		switch {
		case always:
		case len(conds) == 0:
			out = append(out, fail)
		default:
			out = append(out, jen.If(jen.Op("!").Parens(orJoin(conds))).Block(fail))
		}
	}
	if n.Const != nil {
		check([]string{*n.Const}, constMessage(n))
	}
	if n.Enum != nil {
		check(n.Enum, enumMessage(n))
	}
	if len(out) > 0 && (k == bus.JSONObject || k == bus.JSONArray) && v.needsCanonical(n, k) {
		out = append([]jen.Code{jen.Id("c").Op(":=").Id("s").Dot("Canonical").Call(jen.Id("start"))}, out...)
	}
	return out
}

// orJoin joins conditions with ||.
func orJoin(conds []jen.Code) jen.Code {
	st := jen.Null()
	for i, c := range conds {
		if i > 0 {
			st.Op("||")
		}
		st.Add(c)
	}
	return st
}

// needsCanonical reports whether a const or enum value of n is of kind k.
func (v *validators) needsCanonical(n *model.SchemaNode, k bus.JSONKind) bool {
	for _, t := range v.values(n) {
		if jsonKind(t) == k {
			return true
		}
	}
	return false
}

func (v *validators) stringChecks(n *model.SchemaNode) []jen.Code {
	if !v.stringWork(n) {
		return nil
	}
	s := func() *jen.Statement { return jen.Id("s") }
	str := func() *jen.Statement { return jen.Id("str") }
	var out []jen.Code
	if n.Format != "" || n.MinLength != nil || n.MaxLength != nil || n.Pattern != nil || v.needsCanonical(n, bus.JSONString) {
		out = append(out, str().Op(":=").Add(s()).Dot("Str").Call())
	}
	out = append(out, v.valueChecks(n, bus.JSONString)...)
	if n.Format != "" {
		// if !bus.IsUUID(str) { s.Failf(at, "%q is not a valid uuid", str) }
		out = append(out, jen.If(jen.Op("!").Qual(v.e.bus, formatFuncs[n.Format]).Call(str())).Block(
			s().Dot("Failf").Call(jen.Id("at"), jen.Lit("%q is not a valid "+n.Format), str())))
	}
	if n.MinLength != nil || n.MaxLength != nil {
		// if n := utf8.RuneCountInString(str); n < 1 { s.Failf(...) }
		out = append(out, jen.Id("n").Op(":=").Qual(utf8Path, "RuneCountInString").Call(str()))
		if n.MinLength != nil {
			out = append(out, jen.If(jen.Id("n").Op("<").Lit(*n.MinLength)).Block(
				s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must be at least %d characters long, got %%d", *n.MinLength)), jen.Id("n"))))
		}
		if n.MaxLength != nil {
			out = append(out, jen.If(jen.Id("n").Op(">").Lit(*n.MaxLength)).Block(
				s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must be at most %d characters long, got %%d", *n.MaxLength)), jen.Id("n"))))
		}
	}
	if n.Pattern != nil {
		out = append(out, jen.If(jen.Op("!").Id(v.pattern(*n.Pattern)).Dot("MatchString").Call(str())).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit(patternMessage(*n.Pattern)))))
	}
	return out
}

func patternMessage(p string) string { return "must match the pattern " + strconv.Quote(p) }

// formatFuncs are the checkers of sdk/bus for each format of model.Formats.
var formatFuncs = map[string]string{
	"date-time": "IsDateTime",
	"date":      "IsDate",
	"uuid":      "IsUUID",
	"email":     "IsEmail",
	"uri":       "IsURI",
}

// bounds lists the number bounds of a schema: the keyword, the comparison
// that fails (of the value against the bound), and the message.
func bounds(n *model.SchemaNode) []struct {
	text string
	fail string // < 0: "<"; <= 0: "<="...
	msg  string
} {
	type bound = struct {
		text string
		fail string
		msg  string
	}
	var out []bound
	if n.Minimum != nil {
		out = append(out, bound{*n.Minimum, "<", "must be >= " + *n.Minimum})
	}
	if n.ExclusiveMinimum != nil {
		out = append(out, bound{*n.ExclusiveMinimum, "<=", "must be > " + *n.ExclusiveMinimum})
	}
	if n.Maximum != nil {
		out = append(out, bound{*n.Maximum, ">", "must be <= " + *n.Maximum})
	}
	if n.ExclusiveMaximum != nil {
		out = append(out, bound{*n.ExclusiveMaximum, ">=", "must be < " + *n.ExclusiveMaximum})
	}
	return out
}

func multipleMessage(n *model.SchemaNode) string { return "must be a multiple of " + *n.MultipleOf }

func (v *validators) numberChecks(n *model.SchemaNode) []jen.Code {
	if !v.numberWork(n) {
		return nil
	}
	s := func() *jen.Statement { return jen.Id("s") }
	num := func() *jen.Statement { return jen.Id("num") }
	var out []jen.Code
	if integerOnly(n) || len(bounds(n)) > 0 || n.MultipleOf != nil || v.needsCanonical(n, bus.JSONNumber) {
		out = append(out, num().Op(":=").Add(s()).Dot("Num").Call())
	}
	if integerOnly(n) {
		// if !bus.IsInteger(num) { s.TypeError(at, "integer"); return }
		out = append(out, jen.If(jen.Op("!").Qual(v.e.bus, "IsInteger").Call(num())).Block(
			s().Dot("TypeError").Call(jen.Id("at"), jen.Lit(strings.Join(n.Types, " or "))),
			jen.Return()))
	}
	out = append(out, v.valueChecks(n, bus.JSONNumber)...)
	for _, b := range bounds(n) {
		out = append(out, jen.If(jen.Qual(v.e.bus, "CompareNumber").Call(num(), jen.Id(v.number(b.text))).Op(b.fail).Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit(b.msg))))
	}
	if n.MultipleOf != nil {
		out = append(out, jen.If(jen.Op("!").Qual(v.e.bus, "IsMultipleOf").Call(num(), jen.Id(v.number(*n.MultipleOf)))).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit(multipleMessage(n)))))
	}
	return out
}

// call returns the statement that checks the value the scanner is on
// with the schema n: its raw function, or Skip.
func (v *validators) call(n *model.SchemaNode, at jen.Code) jen.Code {
	if name := v.need(n); name != "" {
		return jen.Id(name).Call(jen.Id("s"), at)
	}
	return jen.Id("s").Dot("Skip").Call()
}

func (v *validators) arrayChecks(n *model.SchemaNode) []jen.Code {
	if !v.arrayWork(n) {
		return nil
	}
	s := func() *jen.Statement { return jen.Id("s") }
	items := n.Items != nil && !v.isTrivial(n.Items)
	prefix := false
	for _, p := range n.PrefixItems {
		prefix = prefix || !v.isTrivial(p)
	}
	count := items || prefix || n.MinItems != nil || n.MaxItems != nil

	var out []jen.Code
	if n.UniqueItems {
		out = append(out, jen.Id("mark").Op(":=").Add(s()).Dot("ItemMark").Call())
	}
	if count {
		out = append(out, jen.Id("i").Op(":=").Lit(0))
	}

	// for s.Element() { p := at.Item(i); jsonItem(s, &p); i++ }
	var loop []jen.Code
	if n.UniqueItems {
		loop = append(loop, jen.Id("st").Op(":=").Add(s()).Dot("Pos").Call())
	}
	p := func() jen.Code { return jen.Op("&").Id("p") }
	if items || prefix {
		loop = append(loop, jen.Id("p").Op(":=").Id("at").Dot("Item").Call(jen.Id("i")))
	}
	switch {
	case prefix:
		var cases []jen.Code
		for i, ps := range n.PrefixItems {
			cases = append(cases, jen.Case(jen.Lit(i)).Block(v.call(ps, p())))
		}
		var def jen.Code = jen.Id("s").Dot("Skip").Call()
		if items {
			def = v.call(n.Items, p())
		}
		cases = append(cases, jen.Default().Block(def))
		loop = append(loop, jen.Switch(jen.Id("i")).Block(cases...))
	case items && len(n.PrefixItems) > 0:
		loop = append(loop, jen.If(jen.Id("i").Op("<").Lit(len(n.PrefixItems))).Block(s().Dot("Skip").Call()).
			Else().Block(v.call(n.Items, p())))
	case items:
		loop = append(loop, v.call(n.Items, p()))
	default:
		loop = append(loop, s().Dot("Skip").Call())
	}
	if n.UniqueItems {
		loop = append(loop, s().Dot("NoteItem").Call(jen.Id("st")))
	}
	if count {
		loop = append(loop, jen.Id("i").Op("++"))
	}
	out = append(out, jen.For(s().Dot("Element").Call()).Block(loop...))

	if n.MinItems != nil {
		out = append(out, jen.If(jen.Id("i").Op("<").Lit(*n.MinItems)).Block(
			s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must have at least %d items, got %%d", *n.MinItems)), jen.Id("i"))))
	}
	if n.MaxItems != nil {
		out = append(out, jen.If(jen.Id("i").Op(">").Lit(*n.MaxItems)).Block(
			s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must have at most %d items, got %%d", *n.MaxItems)), jen.Id("i"))))
	}
	if n.UniqueItems {
		out = append(out, s().Dot("UniqueItems").Call(jen.Id("at"), jen.Id("mark")))
	}
	return append(out, v.valueChecks(n, bus.JSONArray)...)
}

// tracked returns the keys an object walk must recognize: the properties
// that check something (all of them when additionalProperties does), and
// the required ones.
func (v *validators) tracked(n *model.SchemaNode) []string {
	addl := n.AdditionalProperties != nil && !v.isTrivial(n.AdditionalProperties)
	var keys []string
	for _, p := range n.Properties {
		if (addl || !v.isTrivial(p.Schema) || slices.Contains(n.Required, p.Name)) && !slices.Contains(keys, p.Name) {
			keys = append(keys, p.Name)
		}
	}
	for _, r := range n.Required {
		if !slices.Contains(keys, r) {
			keys = append(keys, r)
		}
	}
	return keys
}

func (v *validators) property(n *model.SchemaNode, name string) *model.SchemaNode {
	for _, p := range n.Properties {
		if p.Name == name {
			return p.Schema // the first, as jsonschema/v5 keeps one per name
		}
	}
	return nil
}

func (v *validators) objectChecks(n *model.SchemaNode) []jen.Code {
	if !v.objectWork(n) {
		return nil
	}
	s := func() *jen.Statement { return jen.Id("s") }
	keys := v.tracked(n)
	addl := n.AdditionalProperties
	if addl != nil && v.isTrivial(addl) {
		addl = nil
	}
	closed := addl != nil && addl.Bool != nil && !*addl.Bool
	counting := n.MinProperties != nil || n.MaxProperties != nil
	noteKeys := !closed && (addl != nil || counting)

	var out []jen.Code
	if noteKeys {
		out = append(out, jen.Id("mark").Op(":=").Add(s()).Dot("KeyMark").Call())
	}
	if len(keys) > 0 {
		out = append(out, jen.Var().Id("seen").Index(jen.Lit(len(keys))).Bool())
	}
	if counting {
		out = append(out, jen.Id("count").Op(":=").Lit(0))
	}
	if closed {
		out = append(out, jen.Var().Id("unknown").Index().String())
	}

	// The members that are not among the tracked keys.
	var other []jen.Code
	if noteKeys {
		other = append(other, s().Dot("NoteKey").Call(jen.Id("mark"), s().Dot("Key").Call()))
	}
	switch {
	case closed:
		other = append(other,
			jen.Id("unknown").Op("=").Append(jen.Id("unknown"), s().Dot("Key").Call()),
			s().Dot("Skip").Call())
	case addl != nil:
		other = append(other,
			jen.Id("p").Op(":=").Id("at").Dot("Member").Call(s().Dot("Key").Call()),
			v.call(addl, jen.Op("&").Id("p")))
	default:
		other = append(other, s().Dot("Skip").Call())
	}

	var loop []jen.Code
	if counting {
		loop = append(loop, jen.Id("count").Op("++"))
	}
	if len(keys) == 0 {
		loop = append(loop, other...)
	} else {
		var cases []jen.Code
		for i, k := range keys {
			// case "a": s.Seen(&seen[0]); p := at.Member("a"); jsonA(s, &p)
			c := []jen.Code{s().Dot("Seen").Call(jen.Op("&").Id("seen").Index(jen.Lit(i)))}
			ps := v.property(n, k)
			switch {
			case ps != nil && !v.isTrivial(ps):
				c = append(c,
					jen.Id("p").Op(":=").Id("at").Dot("Member").Call(jen.Lit(k)),
					v.call(ps, jen.Op("&").Id("p")))
			case ps == nil && closed:
				// Required, but not among the properties.
				c = append(c,
					jen.Id("unknown").Op("=").Append(jen.Id("unknown"), jen.Lit(k)),
					s().Dot("Skip").Call())
			case ps == nil && addl != nil:
				c = append(c,
					jen.Id("p").Op(":=").Id("at").Dot("Member").Call(jen.Lit(k)),
					v.call(addl, jen.Op("&").Id("p")))
			default:
				c = append(c, s().Dot("Skip").Call())
			}
			cases = append(cases, jen.Case(jen.Lit(k)).Block(c...))
		}
		cases = append(cases, jen.Default().Block(other...))
		loop = append(loop, jen.Switch(s().Dot("Key").Call()).Block(cases...))
	}
	out = append(out, jen.For(s().Dot("Member").Call()).Block(loop...))
	if noteKeys {
		out = append(out, s().Dot("ReleaseKeys").Call(jen.Id("mark")))
	}
	if n.MinProperties != nil {
		out = append(out, jen.If(jen.Id("count").Op("<").Lit(*n.MinProperties)).Block(
			s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must have at least %d properties, got %%d", *n.MinProperties)), jen.Id("count"))))
	}
	if n.MaxProperties != nil {
		out = append(out, jen.If(jen.Id("count").Op(">").Lit(*n.MaxProperties)).Block(
			s().Dot("Failf").Call(jen.Id("at"), jen.Lit(fmt.Sprintf("must have at most %d properties, got %%d", *n.MaxProperties)), jen.Id("count"))))
	}
	if len(n.Required) > 0 {
		// var missing []string; if !seen[0] { missing = append(missing, "a") }; ...
		out = append(out, jen.Var().Id("missing").Index().String())
		for _, r := range uniqueStrings(n.Required) {
			i := slices.Index(keys, r)
			out = append(out, jen.If(jen.Op("!").Id("seen").Index(jen.Lit(i))).Block(
				jen.Id("missing").Op("=").Append(jen.Id("missing"), jen.Lit(r))))
		}
		out = append(out, jen.If(jen.Len(jen.Id("missing")).Op(">").Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit("missing required properties: ").Op("+").Qual(v.e.bus, "QuoteList").Call(jen.Id("missing")))))
	}
	if closed {
		out = append(out, jen.If(jen.Len(jen.Id("unknown")).Op(">").Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit("properties not allowed: ").Op("+").Qual(v.e.bus, "QuoteList").Call(jen.Id("unknown")))))
	}
	return append(out, v.valueChecks(n, bus.JSONObject)...)
}

func uniqueStrings(ss []string) []string {
	var out []string
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
