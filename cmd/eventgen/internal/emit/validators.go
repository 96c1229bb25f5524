package emit

// The validators: for each event, Go code compiled from its JSON Schema
// that checks raw JSON bytes (validateXJSON, which ParseX and the catalog's
// ValidateJSON use) and typed values ((*X).Validate). Both give the verdict
// jsonschema/v5 gives, with formats asserted, on the same JSON; the
// compiled jsonschema/v5 schema remains in the package for the one case
// the generated code hands to it (a payload that repeats an object key).
//
// Raw JSON: one function per schema node that checks something, named
// jsonX, reading the document with a payload.JSONScanner:
//
//	func jsonX(s *payload.JSONScanner, at *payload.Path) {
//		start := s.Pos()
//		switch s.Value() {
//		case payload.JSONString: str := s.Str(); ...string keywords...
//		case payload.JSONObject: for s.MemberIn(keysX) { switch s.Key() { case "a": ... } } ...
//		default: s.TypeError(at, "string or object"); return
//		}
//		end := s.Pos(); s.Seek(start); jsonRef(s, at); s.Seek(end) // $ref, allOf
//	}
//
// A string whose one check is the uuid format is first tried with the
// scanner's fast path: if s.PlainUUID() { return }.
//
// Typed values: a validateAt method per struct and enum type checks what
// the value's JSON encoding would be, field by field, without encoding it;
// a value whose Go type cannot carry its schema's constraints (an untyped
// value, a const object...) is encoded and checked by the raw functions.

import (
	"fmt"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dave/jennifer/jen"

	"github.com/giia/events/cmd/eventgen/internal/model"
	"github.com/giia/events/cmd/eventgen/internal/naming"
	"github.com/giia/events/sdk/payload"
)

// Import paths the validators use, besides sdk/payload.
const (
	utf8Path = "unicode/utf8"
	mathPath = "math"
)

// validators holds what is being generated for the validators of a model.
type validators struct {
	e       *emitter
	trivial map[*model.SchemaNode]bool
	typeOf  map[*model.SchemaNode]*model.Type // the type made from a node

	// The raw functions: plan finds the nodes that need one, merges the
	// nodes that would get the same code into one walker, and names it.
	mode    planMode
	found   map[*model.SchemaNode]bool    // discovering: the nodes that need a function
	queue   []*model.SchemaNode           // discovering: nodes whose code is still to read
	class   map[*model.SchemaNode]int     // classifying: the node's walker, by number
	walkers []*walker                     // printing: in the order of their first node
	byNode  map[*model.SchemaNode]*walker // printing

	twins     map[string]*model.Type // printing: the struct whose validateAt has this code
	enumTwins map[string]*model.Type // printing: the enum whose validateAt has this code

	patterns map[string]string   // regular expression -> package variable (a *payload.Pattern)
	numbers  map[string]string   // number text -> package variable
	keySets  map[string][]string // a walker's *payload.Keys variable -> its keys
	vars     []jen.Code          // the package variables, in order of first use
}

// planMode is what need does: record, compare or name.
type planMode int

const (
	discovering planMode = iota
	classifying
	printing
)

// walker is one raw function: it checks a JSON value against any of nodes,
// schemas that the same code checks.
type walker struct {
	name  string
	nodes []*model.SchemaNode // in model order; nodes[0] is the one printed
	about string              // what it checks, in words, when the name says it
	group string              // the schema group whose file holds it
	share bool                // used by several groups: in validate.go
}

func newValidators(e *emitter) *validators {
	v := &validators{
		e:        e,
		trivial:  map[*model.SchemaNode]bool{},
		typeOf:   map[*model.SchemaNode]*model.Type{},
		found:    map[*model.SchemaNode]bool{},
		byNode:   map[*model.SchemaNode]*walker{},
		patterns: map[string]string{},
		numbers:  map[string]string{},
		keySets:  map[string][]string{},
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

// typedMethod returns validateAt of t, nil for a type that has none.
func (v *validators) typedMethod(t *model.Type) []jen.Code {
	switch t.Kind {
	case model.Struct:
		return v.structMethod(t)
	case model.Enum:
		return v.enumMethod(t)
	case model.Defined:
		return v.definedMethod(t)
	}
	return nil
}

// plan decides the raw functions before anything is printed. It writes
// the code once to find every node that needs a function, then splits the
// nodes into classes of equal code, refining them until a class's members
// call the same classes (two nodes are one walker when their code is the
// same but for the functions it calls, and those are one walker too), and
// names each class by what it checks.
func (v *validators) plan() {
	for _, t := range v.e.m.Types {
		v.typedMethod(t)
	}
	for _, ev := range v.e.m.Events {
		for _, ver := range ev.Versions {
			v.need(ver.Node)
		}
	}
	var discovered []*model.SchemaNode
	for len(v.queue) > 0 {
		n := v.queue[0]
		v.queue = v.queue[1:]
		discovered = append(discovered, n)
		v.rawBody(n)
	}
	var nodes []*model.SchemaNode
	inModel := map[*model.SchemaNode]bool{}
	for _, n := range v.e.m.Nodes {
		inModel[n] = true
		if v.found[n] {
			nodes = append(nodes, n)
		}
	}
	for _, n := range discovered {
		if !inModel[n] {
			nodes = append(nodes, n)
		}
	}

	v.mode = classifying
	v.class = map[*model.SchemaNode]int{}
	for count := 1; ; {
		keys := map[string]int{}
		next := map[*model.SchemaNode]int{}
		for _, n := range nodes {
			k := strconv.Itoa(v.class[n]) + "\n" + renderBody(v.rawBody(n))
			id, ok := keys[k]
			if !ok {
				id = len(keys)
				keys[k] = id
			}
			next[n] = id
		}
		v.class = next
		if len(keys) == count {
			break
		}
		count = len(keys)
	}

	byClass := map[int]*walker{}
	for _, n := range nodes {
		w := byClass[v.class[n]]
		if w == nil {
			w = &walker{}
			byClass[v.class[n]] = w
			v.walkers = append(v.walkers, w)
		}
		w.nodes = append(w.nodes, n)
		v.byNode[n] = w
	}
	v.nameWalkers()
	v.mode = printing
	v.twins = map[string]*model.Type{}
	v.enumTwins = map[string]*model.Type{}
}

// renderBody prints code for comparison, unformatted.
func renderBody(body []jen.Code) string {
	f := jen.NewFile("x")
	f.NoFormat = true
	f.Func().Id("f").Params().Block(body...)
	var b strings.Builder
	if err := f.Render(&b); err != nil {
		panic(fmt.Sprintf("emit: render a raw function: %v", err)) // a bug of the emitter
	}
	return b.String()
}

// nameWalkers names each walker: json and the name of the type made from
// one of its nodes; else what its checks are, when a few words say it
// (jsonUUID, jsonNonNegativeNumber); else the schema file and the path to
// its first node, as the only name left. It also places each walker in a
// file.
func (v *validators) nameWalkers() {
	taken := map[string]bool{}
	claim := func(w *walker, name string) bool {
		if name == "" || taken[name] {
			return false
		}
		taken[name] = true
		w.name = name
		return true
	}
	var rest []*walker
	for _, w := range v.walkers {
		if t := v.walkerType(w); t != nil && claim(w, "json"+t.Name) {
			continue
		}
		rest = append(rest, w)
	}
	var last []*walker
	for _, w := range rest {
		if name, about, ok := describe(w.nodes[0]); ok {
			if claim(w, "json"+name) {
				w.about = about
				continue
			}
		}
		last = append(last, w)
	}
	for _, w := range last {
		base := locationName(w.nodes[0])
		name := base
		for i := 2; taken[name]; i++ {
			name = base + strconv.Itoa(i)
		}
		claim(w, name)
	}
	for _, w := range v.walkers {
		groups := map[string]bool{}
		if t := v.walkerType(w); t != nil {
			groups[schemaGroup(t.File)] = true
		} else {
			for _, n := range w.nodes {
				groups[schemaGroup(n.File)] = true
			}
		}
		w.group = schemaGroup(w.nodes[0].File)
		if t := v.walkerType(w); t != nil {
			w.group = schemaGroup(t.File)
		}
		w.share = len(groups) > 1
	}
}

// walkerType returns the first named type made from a node of w.
func (v *validators) walkerType(w *walker) *model.Type {
	for _, n := range w.nodes {
		if t := v.typeOf[n]; t != nil {
			return t
		}
	}
	return nil
}

// need returns the name of the raw function that checks n; "" when n
// accepts every value.
func (v *validators) need(n *model.SchemaNode) string {
	r := v.resolve(n)
	if r == nil {
		return ""
	}
	switch v.mode {
	case discovering:
		if !v.found[r] {
			v.found[r] = true
			v.queue = append(v.queue, r)
		}
		return "jsonPlanned"
	case classifying:
		return "class" + strconv.Itoa(v.class[r])
	}
	w := v.byNode[r]
	if w == nil {
		panic("emit: no raw function was planned for " + r.Location()) // a bug of plan
	}
	return w.name
}

// locationName names the raw function of n by where n is: json + the
// schema file's name and the path to n.
func locationName(n *model.SchemaNode) string {
	stem := n.File[strings.LastIndex(n.File, "/")+1:]
	stem = strings.TrimSuffix(stem, ".json")
	base := "json" + identPart(stem)
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
	return base
}

// formatNames are the Go name parts and the words of each format.
var formatNames = map[string][2]string{
	"date-time": {"DateTime", "a date-time string (RFC 3339)"},
	"date":      {"Date", "a full-date string (RFC 3339)"},
	"uuid":      {"UUID", "a UUID string"},
	"email":     {"Email", "an email address string"},
	"uri":       {"URI", "a URI string"},
}

// describe names what a scalar schema checks, when a few words say all of
// it: a string with a format and a length, a number or an integer with
// simple bounds, a boolean; each or null. The name part goes after json;
// about is the sentence's end: "checks that a JSON value is " + about.
func describe(n *model.SchemaNode) (name, about string, ok bool) {
	if n.Bool != nil || valueCheck(n) || n.Ref != nil || len(n.AllOf) > 0 {
		return "", "", false
	}
	var kind string
	null := false
	for _, t := range n.Types {
		switch {
		case t == "null" && !null:
			null = true
		case kind == "" && t != "null":
			kind = t
		default:
			return "", "", false
		}
	}
	if kind == "" || n.Pattern != nil || n.MultipleOf != nil ||
		(kind != "string" && (n.Format != "" || n.MinLength != nil || n.MaxLength != nil)) ||
		(kind != "number" && kind != "integer" && len(bounds(n)) > 0) {
		return "", "", false
	}
	switch kind {
	case "string":
		name, about = "String", "a string"
		if n.Format != "" {
			f, known := formatNames[n.Format]
			if !known {
				return "", "", false
			}
			name, about = f[0], f[1]
		}
		switch {
		case n.MinLength != nil && n.MaxLength != nil:
			name += fmt.Sprintf("%dTo%d", *n.MinLength, *n.MaxLength)
			about += fmt.Sprintf(" of %d to %d characters", *n.MinLength, *n.MaxLength)
		case n.MinLength != nil:
			name += fmt.Sprintf("Min%d", *n.MinLength)
			about += fmt.Sprintf(" of at least %d characters", *n.MinLength)
		case n.MaxLength != nil:
			name += fmt.Sprintf("Max%d", *n.MaxLength)
			about += fmt.Sprintf(" of at most %d characters", *n.MaxLength)
		}
	case "number", "integer":
		base := map[string]string{"number": "Number", "integer": "Integer"}[kind]
		about = "a" + map[string]string{"number": " number", "integer": "n integer"}[kind]
		lo, hi := n.Minimum, n.Maximum
		switch {
		case n.ExclusiveMinimum != nil || n.ExclusiveMaximum != nil:
			if lo != nil || hi != nil || n.ExclusiveMaximum != nil || *n.ExclusiveMinimum != "0" {
				return "", "", false
			}
			name, about = "Positive"+base, about+" > 0"
		case lo == nil && hi == nil:
			name = base
		case lo != nil && hi == nil && *lo == "0":
			name, about = "NonNegative"+base, about+" >= 0"
		case lo != nil && hi == nil && *lo == "1" && kind == "integer":
			name, about = "PositiveInteger", about+" >= 1"
		case !smallInt(lo) || !smallInt(hi):
			return "", "", false
		case lo != nil && hi != nil:
			name, about = base+*lo+"To"+*hi, about+" from "+*lo+" to "+*hi
		case lo != nil:
			name, about = base+"Min"+*lo, about+" >= "+*lo
		default:
			name, about = base+"Max"+*hi, about+" <= "+*hi
		}
	case "boolean":
		name, about = "Bool", "a boolean"
	default:
		return "", "", false
	}
	if null {
		name, about = name+"OrNull", about+", or null"
	}
	return name, about, true
}

// smallInt reports whether a bound is absent or a small natural number,
// written as one in a Go name.
func smallInt(text *string) bool {
	if text == nil {
		return true
	}
	if len(*text) == 0 || len(*text) > 9 || (*text)[0] == '0' && *text != "0" {
		return false
	}
	for _, c := range *text {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
	v.vars = append(v.vars, jen.Id(name).Op("=").Qual(v.e.payload, "MustPattern").Call(jen.Lit(expr)))
	return name
}

// number returns the package variable holding the parsed number.
func (v *validators) number(text string) string {
	if name, ok := v.numbers[text]; ok {
		return name
	}
	name := "number" + strconv.Itoa(len(v.numbers))
	v.numbers[text] = name
	v.vars = append(v.vars, jen.Id(name).Op("=").Qual(v.e.payload, "MustNumber").Call(jen.Lit(text)))
	return name
}

// keySet returns the package variable holding the tracked keys of the
// object walk of n, a *payload.Keys that walkerFunc declares above the
// walker: keys and the walker's name without json. While planning, the
// walker has no name yet, and the code of two walks with the same keys is
// the same.
func (v *validators) keySet(n *model.SchemaNode, keys []string) string {
	if v.mode != printing {
		return "keys"
	}
	name := "keys" + strings.TrimPrefix(v.byNode[n].name, "json")
	v.keySets[name] = keys
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
func jsonKind(text string) payload.JSONKind {
	switch c := text[0]; {
	case c == '"':
		return payload.JSONString
	case c == '{':
		return payload.JSONObject
	case c == '[':
		return payload.JSONArray
	case c == 't' || c == 'f':
		return payload.JSONBool
	case c == 'n':
		return payload.JSONNull
	}
	return payload.JSONNumber
}

// unquote returns the string a JSON string's text holds.
func unquote(text string) string {
	var s payload.JSONScanner
	s.Reset([]byte(text))
	s.Value()
	return strings.Clone(s.Str())
}

// canonical returns the canonical text of a JSON value of a schema.
func canonical(text string) string {
	c, err := payload.CanonicalJSON([]byte(text))
	if err != nil {
		panic(fmt.Sprintf("emit: schema value %s: %v", text, err)) // the model wrote it
	}
	return c
}

// kindNames lists the JSON kinds a raw function dispatches on, in order.
var kindNames = []struct {
	kind payload.JSONKind
	id   string
	json string // the JSON Schema type name
}{
	{payload.JSONNull, "JSONNull", "null"},
	{payload.JSONBool, "JSONBool", "boolean"},
	{payload.JSONNumber, "JSONNumber", "number"},
	{payload.JSONString, "JSONString", "string"},
	{payload.JSONArray, "JSONArray", "array"},
	{payload.JSONObject, "JSONObject", "object"},
}

// rawBody writes the statements of the raw function of n.
func (v *validators) rawBody(n *model.SchemaNode) []jen.Code {
	var body []jen.Code
	s := func() *jen.Statement { return jen.Id("s") }
	at := func() *jen.Statement { return jen.Id("at") }
	if n.Bool != nil {
		// s.Fail(at, "no value is allowed here"); s.Skip()
		return append(body, s().Dot("Fail").Call(at(), jen.Lit(falseMessage)), s().Dot("Skip").Call())
	}
	in := v.inPlace(n)
	if len(in) == 0 && plainUUID(n) {
		// if s.PlainUUID() { return }
		body = append(body, jen.If(s().Dot("PlainUUID").Call()).Block(jen.Return()))
	}
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
	return body
}

// plainUUID reports whether a string that holds a UUID without escapes
// meets all of n, its in-place subschemas aside: n allows strings, and its
// one string keyword is the uuid format. Its raw function then first tries
// the scanner's PlainUUID, which reads such a string and nothing else.
func plainUUID(n *model.SchemaNode) bool {
	return n.Format == "uuid" && (n.Types == nil || n.HasType("string")) &&
		n.MinLength == nil && n.MaxLength == nil && n.Pattern == nil && !valueCheck(n)
}

// walkerFunc writes the raw function w with its doc comment.
func (v *validators) walkerFunc(w *walker) []jen.Code {
	n := w.nodes[0]
	var what []string
	if w.about != "" {
		what = append(what, fmt.Sprintf("%s checks that a JSON value is %s.", w.name, w.about))
	} else {
		first := fmt.Sprintf("%s checks a JSON value against %s", w.name, where(n))
		if len(w.nodes) > 1 {
			var others []string
			for _, o := range w.nodes[1:] {
				others = append(others, where(o))
			}
			first += ", and against " + joinAnd(others) + ", which say the same"
		}
		what = append(what, first+".")
	}
	if in := v.inPlace(n); len(in) > 0 {
		var names []string
		for _, c := range in {
			names = append(names, v.need(c))
		}
		what = append(what, fmt.Sprintf("The value is read again for its in-place subschemas ($ref, allOf): %s.", strings.Join(names, ", ")))
	}
	body := v.rawBody(n)
	var out []jen.Code
	keys := "keys" + strings.TrimPrefix(w.name, "json")
	if list, ok := v.keySets[keys]; ok {
		// var keysX = payload.NewKeys("a", "b")
		var lits []jen.Code
		for _, k := range list {
			lits = append(lits, jen.Lit(k))
		}
		out = append(out,
			jen.Comment(fmt.Sprintf("%s are the keys %s looks for.", keys, w.name)),
			jen.Var().Id(keys).Op("=").Qual(v.e.payload, "NewKeys").Call(lits...),
			jen.Line())
	}
	out = append(out, comment(paragraphs(what)...)...)
	return append(out,
		jen.Func().Id(w.name).Params(jen.Id("s").Op("*").Qual(v.e.payload, "JSONScanner"), jen.Id("at").Op("*").Qual(v.e.payload, "Path")).Block(body...),
		jen.Line())
}

// joinAnd joins items as a list in a sentence: "a, b and c".
func joinAnd(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// needsStart reports whether n compares whole objects or arrays, for
// which it needs the value's offset.
func (v *validators) needsStart(n *model.SchemaNode) bool {
	for _, t := range v.values(n) {
		if k := jsonKind(t); k == payload.JSONObject || k == payload.JSONArray {
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
		allowed := !restricted || n.HasType(k.json) || k.kind == payload.JSONNumber && n.HasType("integer")
		if !allowed {
			continue
		}
		stmts := v.kindChecks(n, k.kind)
		if stmts == nil && !restricted && k.kind != payload.JSONObject && k.kind != payload.JSONArray {
			continue // the default case reads scalars
		}
		if stmts == nil && (k.kind == payload.JSONObject || k.kind == payload.JSONArray) {
			stmts = []jen.Code{s().Dot("SkipContainer").Call()}
		}
		cases = append(cases, jen.Case(jen.Qual(v.e.payload, k.id)).Block(stmts...))
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
func (v *validators) kindChecks(n *model.SchemaNode, k payload.JSONKind) []jen.Code {
	switch k {
	case payload.JSONString:
		return v.stringChecks(n)
	case payload.JSONNumber:
		return v.numberChecks(n)
	case payload.JSONArray:
		return v.arrayChecks(n)
	case payload.JSONObject:
		return v.objectChecks(n)
	}
	return v.valueChecks(n, k)
}

// valueChecks checks const and enum for a value of kind k, read whole.
func (v *validators) valueChecks(n *model.SchemaNode, k payload.JSONKind) []jen.Code {
	var out []jen.Code
	check := func(values []string, msg string) {
		var conds []jen.Code
		always := false
		for _, t := range values {
			if jsonKind(t) != k {
				continue
			}
			switch k {
			case payload.JSONNull:
				always = true
			case payload.JSONBool:
				if t == "true" {
					conds = append(conds, jen.Id("s").Dot("Bool").Call())
				} else {
					conds = append(conds, jen.Op("!").Id("s").Dot("Bool").Call())
				}
			case payload.JSONString:
				conds = append(conds, jen.Id("str").Op("==").Lit(unquote(t)))
			case payload.JSONNumber:
				conds = append(conds, jen.Qual(v.e.payload, "CompareNumber").Call(jen.Id("num"), jen.Id(v.number(t))).Op("==").Lit(0))
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
	if len(out) > 0 && (k == payload.JSONObject || k == payload.JSONArray) && v.needsCanonical(n, k) {
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
func (v *validators) needsCanonical(n *model.SchemaNode, k payload.JSONKind) bool {
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
	if n.Format != "" || n.MinLength != nil || n.MaxLength != nil || n.Pattern != nil || v.needsCanonical(n, payload.JSONString) {
		out = append(out, str().Op(":=").Add(s()).Dot("Str").Call())
	}
	out = append(out, v.valueChecks(n, payload.JSONString)...)
	if n.Format != "" {
		// if !payload.IsUUID(str) { s.Failf(at, "%q is not a valid uuid", str) }
		out = append(out, jen.If(jen.Op("!").Qual(v.e.payload, formatFuncs[n.Format]).Call(str())).Block(
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

// formatFuncs are the checkers of sdk/payload for each format of model.Formats.
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
	if integerOnly(n) || len(bounds(n)) > 0 || n.MultipleOf != nil || v.needsCanonical(n, payload.JSONNumber) {
		out = append(out, num().Op(":=").Add(s()).Dot("Num").Call())
	}
	if integerOnly(n) {
		// if !payload.IsInteger(num) { s.TypeError(at, "integer"); return }
		out = append(out, jen.If(jen.Op("!").Qual(v.e.payload, "IsInteger").Call(num())).Block(
			s().Dot("TypeError").Call(jen.Id("at"), jen.Lit(strings.Join(n.Types, " or "))),
			jen.Return()))
	}
	out = append(out, v.valueChecks(n, payload.JSONNumber)...)
	for _, b := range bounds(n) {
		out = append(out, jen.If(jen.Qual(v.e.payload, "CompareNumber").Call(num(), jen.Id(v.number(b.text))).Op(b.fail).Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit(b.msg))))
	}
	if n.MultipleOf != nil {
		out = append(out, jen.If(jen.Op("!").Qual(v.e.payload, "IsMultipleOf").Call(num(), jen.Id(v.number(*n.MultipleOf)))).Block(
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
	return append(out, v.valueChecks(n, payload.JSONArray)...)
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
	fields := seenFields(keys)
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
		// var seen struct{ orderID, lines bool }
		out = append(out, jen.Var().Id("seen").Add(seenStruct(fields)))
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
			// case "a": s.Seen(&seen.a); p := at.Member("a"); jsonA(s, &p)
			c := []jen.Code{s().Dot("Seen").Call(jen.Op("&").Id("seen").Dot(fields[i]))}
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
	// for s.MemberIn(keysX) { ... }: the tracked keys are read by their bytes.
	member := s().Dot("Member").Call()
	if len(keys) > 0 {
		member = s().Dot("MemberIn").Call(jen.Id(v.keySet(n, keys)))
	}
	out = append(out, jen.For(member).Block(loop...))
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
		// var missing []string; if !seen.a { missing = append(missing, "a") }; ...
		out = append(out, jen.Var().Id("missing").Index().String())
		for _, r := range uniqueStrings(n.Required) {
			i := slices.Index(keys, r)
			out = append(out, jen.If(jen.Op("!").Id("seen").Dot(fields[i])).Block(
				jen.Id("missing").Op("=").Append(jen.Id("missing"), jen.Lit(r))))
		}
		out = append(out, jen.If(jen.Len(jen.Id("missing")).Op(">").Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit("missing required properties: ").Op("+").Qual(v.e.payload, "QuoteList").Call(jen.Id("missing")))))
	}
	if closed {
		out = append(out, jen.If(jen.Len(jen.Id("unknown")).Op(">").Lit(0)).Block(
			s().Dot("Fail").Call(jen.Id("at"), jen.Lit("properties not allowed: ").Op("+").Qual(v.e.payload, "QuoteList").Call(jen.Id("unknown")))))
	}
	return append(out, v.valueChecks(n, payload.JSONObject)...)
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

// seenFields names the fields of an object walk's seen struct, one per
// key: the key in lower camel case (purchase_order_id is purchaseOrderID),
// made a Go identifier and unique.
func seenFields(keys []string) []string {
	taken := map[string]bool{}
	out := make([]string, len(keys))
	for i, k := range keys {
		base := lowerCamel(identPart(k))
		if base[0] >= '0' && base[0] <= '9' {
			base = "key" + base
		}
		if token.IsKeyword(base) {
			base += "_"
		}
		name := base
		for j := 2; taken[name]; j++ {
			name = base + strconv.Itoa(j)
		}
		taken[name] = true
		out[i] = name
	}
	return out
}

// lowerCamel lowers the first word of a CamelCase name, an initialism
// whole: ID is id, URLPath urlPath, PurchaseOrderID purchaseOrderID.
func lowerCamel(s string) string {
	r := []rune(s)
	upper := 0
	for upper < len(r) && unicode.IsUpper(r[upper]) {
		upper++
	}
	switch {
	case upper == 0:
		return s
	case upper == len(r) || upper == 1:
		// all upper, or one capital before lower case
	case unicode.IsLower(r[upper]):
		upper-- // the last capital starts the next word
	}
	for i := 0; i < upper; i++ {
		r[i] = unicode.ToLower(r[i])
	}
	return string(r)
}

// seenStruct is the type struct{ a, b, c bool }, its names on lines of
// about the same length.
func seenStruct(fields []string) jen.Code {
	width := 0
	for _, f := range fields {
		width += len(f) + 2
	}
	lines := (width + 63) / 64
	per := (len(fields) + lines - 1) / lines
	return jen.StructFunc(func(g *jen.Group) {
		for i := 0; i < len(fields); i += per {
			var names []jen.Code
			for _, f := range fields[i:min(i+per, len(fields))] {
				names = append(names, jen.Id(f))
			}
			g.List(names...).Bool()
		}
	})
}
