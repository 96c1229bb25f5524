package compat

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// comparer compares the payload schemas of one event.
type comparer struct {
	old, new  *side
	subject   string
	consumers []string
	active    map[string]bool // pairs of schemas compared or being compared
	out       []Finding
	errs      []error
}

// root compares the payload schema files oldPath and newPath.
func (c *comparer) root(oldPath, newPath string) {
	o, ok1 := c.rootView(c.old, oldPath)
	n, ok2 := c.rootView(c.new, newPath)
	if ok1 && ok2 {
		c.schema(o, n, "", "")
	}
}

func (c *comparer) rootView(s *side, path string) (view, bool) {
	f, ok := s.cat.Schemas[path]
	if !ok {
		c.errs = append(c.errs, fmt.Errorf("%s: the schema of %s was not loaded", path, c.subject))
		return view{}, false
	}
	n := docRoot(f.Node)
	return c.view(s, loc{file: path, line: n.Line}, n)
}

func (c *comparer) view(s *side, at loc, n *yaml.Node) (view, bool) {
	v, err := resolveView(s, at, n)
	if err != nil {
		c.errs = append(c.errs, err)
		return v, false
	}
	return v, true
}

// sub returns the view of the schema of keyword name of v, followed by
// the path tokens (properties, NAME), or the absent schema.
func (c *comparer) sub(s *side, v view, name string, tokens ...string) (view, bool) {
	k, ok := v.kws[name]
	if !ok {
		return view{origin: v.at.child(append([]string{name}, tokens...)...), at: v.at, kws: map[string]kw{}}, true
	}
	at := k.at.child(name)
	n := k.val
	for _, t := range tokens {
		n = member(n, t)
		at = at.child(t)
		if n == nil {
			return view{origin: at, at: v.at, kws: map[string]kw{}}, true
		}
	}
	at.line = n.Line
	return c.view(s, at, n)
}

// add records a finding.
func (c *comparer) add(change Change, pos catalog.Pos, ptr, field, what, why, via string) {
	if via != "" {
		what += " (" + via + ")"
	}
	c.out = append(c.out, Finding{
		Subject: c.subject, Change: change, Pos: pos, Pointer: ptr,
		Field: field, What: what, Why: why, Consumers: c.consumers,
	})
}

// at returns where keyword name of the new schema n is, or where it would
// be: the schema itself.
func at(n view, name string) (catalog.Pos, string) {
	if k, ok := n.kws[name]; ok {
		return k.where(name)
	}
	return n.at.pos(), n.at.child(name).ptr
}

// schema compares the schemas o (old) and n (new) of the payload field
// field. via describes a $ref that differs above them.
func (c *comparer) schema(o, n view, field, via string) {
	pair := o.origin.key() + "|" + n.origin.key()
	if c.active[pair] {
		return
	}
	c.active[pair] = true
	if via == "" {
		via = refChange(o, n)
	}

	if o.boolean == "false" || n.boolean == "false" {
		if o.boolean != n.boolean {
			pos, ptr := n.at.pos(), n.at.ptr
			if n.boolean == "false" {
				c.add(SchemaChanged, pos, ptr, field, "schema changed to false, which accepts no value", whyNarrowed, via)
			} else {
				c.add(SchemaChanged, pos, ptr, field, "schema changed from false, which accepted no value", whyWidened, via)
			}
		}
		return
	}
	if !c.types(o, n, field, via) {
		return // the rest compares values of different types
	}
	c.enum(o, n, field, via)
	c.constant(o, n, field, via)
	integer := isInteger(o) && isInteger(n)
	c.bound(o, n, field, via, integer, true)
	c.bound(o, n, field, via, integer, false)
	for _, l := range []string{"minLength", "minItems", "minProperties"} {
		c.limit(o, n, field, via, l, true)
	}
	for _, l := range []string{"maxLength", "maxItems", "maxProperties"} {
		c.limit(o, n, field, via, l, false)
	}
	c.multipleOf(o, n, field, via, integer)
	c.text(o, n, field, via, "pattern", PatternAdded, PatternRemoved, PatternChanged)
	c.text(o, n, field, via, "format", FormatAdded, FormatRemoved, FormatChanged)
	c.uniqueItems(o, n, field, via)
	c.object(o, n, field, via)
	c.items(o, n, field, via)
	c.others(o, n, field, via)
}

// refChange describes how the $refs of o and n differ, or returns "".
func refChange(o, n view) string {
	switch {
	case slices.Equal(o.refs, n.refs):
		return ""
	case len(n.refs) == 0:
		return fmt.Sprintf("now written inline, was $ref %q", o.refs[0])
	case len(o.refs) == 0:
		return fmt.Sprintf("through $ref %q, was written inline", n.refs[0])
	}
	return fmt.Sprintf("through $ref %q, was $ref %q", n.refs[0], o.refs[0])
}

// typeSet is what a "type" keyword allows.
type typeSet struct {
	any   bool     // no "type": every type
	types []string // sorted, without "null"
	null  bool
	text  string // as written
}

// typesOf returns the types the schema v allows: those of its "type"
// keyword, narrowed to the types of the values of its enum or const, so
// that an enum of strings with or without "type": "string" is one type.
func typesOf(v view) typeSet {
	ts := typeSet{any: true, null: true, text: "no type (any value)"}
	if k, ok := v.kws["type"]; ok {
		ts = typeSet{text: display(k.val)}
		var names []string
		switch k.val.Kind {
		case yaml.ScalarNode:
			names = []string{k.val.Value}
		case yaml.SequenceNode:
			for _, n := range k.val.Content {
				names = append(names, n.Value)
			}
		}
		for _, name := range names {
			ts.add(name)
		}
	}
	var values []*yaml.Node
	if k, ok := v.kws["enum"]; ok && k.val.Kind == yaml.SequenceNode {
		values = k.val.Content
	}
	if k, ok := v.kws["const"]; ok {
		values = []*yaml.Node{k.val}
	}
	if values == nil {
		return ts
	}
	of := typeSet{text: ts.text}
	for _, val := range values {
		switch t := jsonType(val); {
		case t == "null" && ts.null, t != "null" && ts.accepts(t):
			of.add(t)
		}
	}
	return of
}

func (ts *typeSet) add(name string) {
	if name == "null" {
		ts.null = true
	} else if !slices.Contains(ts.types, name) {
		ts.types = append(ts.types, name)
		slices.Sort(ts.types)
	}
}

// jsonType returns the JSON Schema type of a value: a number without a
// fraction is an integer.
func jsonType(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "object"
	case yaml.SequenceNode:
		return "array"
	}
	switch n.Tag {
	case "!!str":
		return "string"
	case "!!bool":
		return "boolean"
	case "!!null":
		return "null"
	}
	if r, ok := new(big.Rat).SetString(n.Value); ok && r.IsInt() {
		return "integer"
	}
	return "number"
}

// accepts reports whether the set allows values of JSON type t.
func (ts typeSet) accepts(t string) bool {
	return ts.any || slices.Contains(ts.types, t) || t == "integer" && slices.Contains(ts.types, "number")
}

// within reports whether every non-null value of ts is allowed by other.
func (ts typeSet) within(other typeSet) bool {
	if other.any {
		return true
	}
	if ts.any {
		return false
	}
	for _, t := range ts.types {
		if !other.accepts(t) {
			return false
		}
	}
	return true
}

func isInteger(v view) bool {
	ts := typesOf(v)
	return !ts.any && slices.Equal(ts.types, []string{"integer"})
}

// types compares the "type" keywords; it returns false when the non-null
// types differ.
func (c *comparer) types(o, n view, field, via string) bool {
	ot, nt := typesOf(o), typesOf(n)
	pos, ptr := at(n, "type")
	if narrower, wider := nt.within(ot), ot.within(nt); !narrower || !wider {
		switch {
		case narrower && !wider:
			c.add(TypeChanged, pos, ptr, field, fmt.Sprintf("type narrowed from %s to %s", ot.text, nt.text), whyNarrowed, via)
		case wider && !narrower:
			c.add(TypeChanged, pos, ptr, field, fmt.Sprintf("type widened from %s to %s", ot.text, nt.text), whyWidened, via)
		default:
			c.add(TypeChanged, pos, ptr, field, fmt.Sprintf("type changed from %s to %s", ot.text, nt.text), whyBoth, via)
		}
		return false
	}
	switch {
	case ot.null && !nt.null:
		c.add(NullRemoved, pos, ptr, field, fmt.Sprintf("null no longer allowed (type %s, was %s)", nt.text, ot.text), whyNarrowed, via)
	case !ot.null && nt.null:
		c.add(NullAdded, pos, ptr, field, fmt.Sprintf("null now allowed (type %s, was %s)", nt.text, ot.text), whyWidened, via)
	}
	return true
}

// enum compares the "enum" keywords as sets of JSON values.
func (c *comparer) enum(o, n view, field, via string) {
	ok, oHas := o.kws["enum"]
	nk, nHas := n.kws["enum"]
	pos, ptr := at(n, "enum")
	switch {
	case !oHas && !nHas:
		return
	case !oHas:
		c.add(EnumAdded, pos, ptr, field, fmt.Sprintf("enum %s added", display(nk.val)), whyNarrowed, via)
		return
	case !nHas:
		c.add(EnumRemoved, pos, ptr, field, fmt.Sprintf("enum %s removed", display(ok.val)), whyWidened, via)
		return
	case ok.val.Kind != yaml.SequenceNode || nk.val.Kind != yaml.SequenceNode:
		if canon(ok.val) != canon(nk.val) {
			c.add(KeywordChanged, pos, ptr, field, fmt.Sprintf("enum changed from %s to %s", display(ok.val), display(nk.val)), whyBoth, via)
		}
		return
	}
	values := func(k kw) map[string]bool {
		m := map[string]bool{}
		for _, v := range k.val.Content {
			m[canon(v)] = true
		}
		return m
	}
	oldValues, newValues := values(ok), values(nk)
	for _, v := range ok.val.Content {
		if !newValues[canon(v)] {
			c.add(EnumValueRemoved, pos, ptr, field, fmt.Sprintf("enum value %s removed", display(v)), whyNarrowed, via)
		}
	}
	for i, v := range nk.val.Content {
		if !oldValues[canon(v)] {
			c.add(EnumValueAdded, catalog.Pos{File: nk.at.file, Line: v.Line}, nk.at.child("enum", strconv.Itoa(i)).ptr, field,
				fmt.Sprintf("enum value %s added", display(v)), whyWidened+", whose enums are closed", via)
		}
	}
}

// constant compares the "const" keywords.
func (c *comparer) constant(o, n view, field, via string) {
	ok, oHas := o.kws["const"]
	nk, nHas := n.kws["const"]
	pos, ptr := at(n, "const")
	switch {
	case oHas && nHas:
		if canon(ok.val) != canon(nk.val) {
			c.add(ConstChanged, pos, ptr, field, fmt.Sprintf("const changed from %s to %s", display(ok.val), display(nk.val)), whyBoth, via)
		}
	case nHas:
		c.add(ConstChanged, pos, ptr, field, fmt.Sprintf("const %s added", display(nk.val)), whyNarrowed, via)
	case oHas:
		c.add(ConstChanged, pos, ptr, field, fmt.Sprintf("const %s removed", display(ok.val)), whyWidened, via)
	}
}

// limitBound is the tightest lower or upper bound of a numeric schema.
type limitBound struct {
	name string   // the keyword that sets it
	text string   // its value as written
	v    *big.Rat // normalised: inclusive for integer schemas
	excl bool
}

// boundOf returns the lower (or upper) bound of v, or nil. For integer
// schemas the bound is made inclusive, so that exclusiveMinimum 0 and
// minimum 1 are one bound.
func boundOf(v view, lower, integer bool) *limitBound {
	incl, excl := "maximum", "exclusiveMaximum"
	if lower {
		incl, excl = "minimum", "exclusiveMinimum"
	}
	var b *limitBound
	if k, ok := v.kws[incl]; ok {
		if r := number(k); r != nil {
			b = &limitBound{name: incl, text: k.val.Value, v: r}
		}
	}
	if k, ok := v.kws[excl]; ok {
		if r := number(k); r != nil && (b == nil || lower && r.Cmp(b.v) >= 0 || !lower && r.Cmp(b.v) <= 0) {
			b = &limitBound{name: excl, text: k.val.Value, v: r, excl: true}
		}
	}
	if b != nil && integer {
		num, den := b.v.Num(), b.v.Denom()
		q := new(big.Int)
		m := new(big.Int)
		q.DivMod(num, den, m) // floor division: den > 0
		exact := m.Sign() == 0
		switch {
		case lower && b.excl:
			q.Add(q, big.NewInt(1))
		case lower && !exact:
			q.Add(q, big.NewInt(1)) // ceiling
		case !lower && b.excl && exact:
			q.Sub(q, big.NewInt(1))
		}
		b.v, b.excl = new(big.Rat).SetInt(q), false
	}
	return b
}

// tighter compares two lower bounds (or two upper bounds): > 0 when a
// allows fewer values than b.
func tighter(a, b *limitBound, lower bool) int {
	c := a.v.Cmp(b.v)
	if !lower {
		c = -c
	}
	if c == 0 && a.excl != b.excl {
		if a.excl {
			return 1
		}
		return -1
	}
	return c
}

// bound compares the lower (or upper) bounds.
func (c *comparer) bound(o, n view, field, via string, integer, lower bool) {
	ob, nb := boundOf(o, lower, integer), boundOf(n, lower, integer)
	kind, what := "maximum", "upper bound"
	if lower {
		kind, what = "minimum", "lower bound"
	}
	name := kind
	switch {
	case nb != nil:
		name = nb.name
	case ob != nil:
		name = ob.name
	}
	pos, ptr := at(n, name)
	switch {
	case ob == nil && nb == nil:
	case ob == nil:
		c.add(Change(kind+"-added"), pos, ptr, field, fmt.Sprintf("%s %s added", nb.name, nb.text), whyNarrowed, via)
	case nb == nil:
		c.add(Change(kind+"-removed"), pos, ptr, field, fmt.Sprintf("%s %s removed", ob.name, ob.text), whyWidened, via)
	default:
		t := tighter(nb, ob, lower)
		if t == 0 {
			return
		}
		why := whyWidened
		if t > 0 {
			why = whyNarrowed
		}
		dir := "lowered"
		if lower == (t > 0) {
			dir = "raised"
		}
		text := fmt.Sprintf("%s %s from %s to %s", ob.name, dir, ob.text, nb.text)
		if ob.name != nb.name {
			text = fmt.Sprintf("%s %s from %s %s to %s %s", what, dir, ob.name, ob.text, nb.name, nb.text)
		}
		c.add(Change(kind+"-"+dir), pos, ptr, field, text, why, via)
	}
}

// limit compares a minLength-like (lower) or maxLength-like keyword.
func (c *comparer) limit(o, n view, field, via, name string, lower bool) {
	ok, oHas := o.kws[name]
	nk, nHas := n.kws[name]
	var ov, nv *big.Rat
	if oHas {
		ov = number(ok)
	}
	if nHas {
		nv = number(nk)
	}
	if lower { // absent is 0
		if ov == nil {
			ov = new(big.Rat)
		}
		if nv == nil {
			nv = new(big.Rat)
		}
	}
	pos, ptr := at(n, name)
	switch {
	case ov == nil && nv == nil:
	case ov == nil:
		c.add(Change(name+"-added"), pos, ptr, field, fmt.Sprintf("%s %s added", name, nv.RatString()), whyNarrowed, via)
	case nv == nil:
		c.add(Change(name+"-removed"), pos, ptr, field, fmt.Sprintf("%s %s removed", name, ov.RatString()), whyWidened, via)
	default:
		d := nv.Cmp(ov)
		switch {
		case d == 0:
		case lower && !oHas:
			c.add(Change(name+"-added"), pos, ptr, field, fmt.Sprintf("%s %s added", name, nv.RatString()), whyNarrowed, via)
		case lower && !nHas:
			c.add(Change(name+"-removed"), pos, ptr, field, fmt.Sprintf("%s %s removed", name, ov.RatString()), whyWidened, via)
		case d > 0:
			why := whyWidened
			if lower {
				why = whyNarrowed
			}
			c.add(Change(name+"-raised"), pos, ptr, field, fmt.Sprintf("%s raised from %s to %s", name, ov.RatString(), nv.RatString()), why, via)
		default:
			why := whyNarrowed
			if lower {
				why = whyWidened
			}
			c.add(Change(name+"-lowered"), pos, ptr, field, fmt.Sprintf("%s lowered from %s to %s", name, ov.RatString(), nv.RatString()), why, via)
		}
	}
}

// multipleOf compares the "multipleOf" keywords. On integer schemas a
// divisor of 1 is no constraint.
func (c *comparer) multipleOf(o, n view, field, via string, integer bool) {
	get := func(v view) (*big.Rat, string) {
		k, ok := v.kws["multipleOf"]
		if !ok {
			return nil, ""
		}
		r := number(k)
		if r == nil || r.Sign() <= 0 {
			return nil, ""
		}
		if integer && new(big.Rat).Inv(r).IsInt() {
			return nil, ""
		}
		return r, k.val.Value
	}
	ov, ot := get(o)
	nv, nt := get(n)
	pos, ptr := at(n, "multipleOf")
	switch {
	case ov == nil && nv == nil:
	case ov == nil:
		c.add(MultipleOfChanged, pos, ptr, field, fmt.Sprintf("multipleOf %s added", nt), whyNarrowed, via)
	case nv == nil:
		c.add(MultipleOfChanged, pos, ptr, field, fmt.Sprintf("multipleOf %s removed", ot), whyWidened, via)
	case ov.Cmp(nv) != 0:
		why := whyBoth
		switch {
		case new(big.Rat).Quo(nv, ov).IsInt():
			why = whyNarrowed
		case new(big.Rat).Quo(ov, nv).IsInt():
			why = whyWidened
		}
		c.add(MultipleOfChanged, pos, ptr, field, fmt.Sprintf("multipleOf changed from %s to %s", ot, nt), why, via)
	}
}

// text compares a keyword with a string value: pattern or format.
func (c *comparer) text(o, n view, field, via, name string, added, removed, changed Change) {
	ok, oHas := o.kws[name]
	nk, nHas := n.kws[name]
	pos, ptr := at(n, name)
	switch {
	case oHas && nHas:
		if canon(ok.val) != canon(nk.val) {
			c.add(changed, pos, ptr, field, fmt.Sprintf("%s changed from %s to %s", name, display(ok.val), display(nk.val)), whyBoth, via)
		}
	case nHas:
		c.add(added, pos, ptr, field, fmt.Sprintf("%s %s added", name, display(nk.val)), whyNarrowed, via)
	case oHas:
		c.add(removed, pos, ptr, field, fmt.Sprintf("%s %s removed", name, display(ok.val)), whyWidened, via)
	}
}

func (c *comparer) uniqueItems(o, n view, field, via string) {
	on := func(v view) bool {
		k, ok := v.kws["uniqueItems"]
		return ok && k.val.Kind == yaml.ScalarNode && k.val.Value == "true"
	}
	pos, ptr := at(n, "uniqueItems")
	switch ov, nv := on(o), on(n); {
	case !ov && nv:
		c.add(UniqueItemsAdded, pos, ptr, field, "uniqueItems turned on", whyNarrowed, via)
	case ov && !nv:
		c.add(UniqueItemsRemoved, pos, ptr, field, "uniqueItems turned off", whyWidened, via)
	}
}

// items compares the schemas of array items.
func (c *comparer) items(o, n view, field, via string) {
	_, oHas := o.kws["items"]
	_, nHas := n.kws["items"]
	if !oHas && !nHas {
		return
	}
	oi, ok1 := c.sub(c.old, o, "items")
	ni, ok2 := c.sub(c.new, n, "items")
	if ok1 && ok2 {
		c.schema(oi, ni, field+"[]", via)
	}
}

// handled are the keywords compared by meaning; others, but annotations,
// compare by their JSON text.
var handled = map[string]bool{
	"type": true, "enum": true, "const": true, "minimum": true, "exclusiveMinimum": true,
	"maximum": true, "exclusiveMaximum": true, "minLength": true, "maxLength": true,
	"minItems": true, "maxItems": true, "minProperties": true, "maxProperties": true,
	"multipleOf": true, "pattern": true, "format": true, "uniqueItems": true,
	"properties": true, "required": true, "additionalProperties": true, "items": true,
}

// others compares the keywords eventgen does not model by their text.
func (c *comparer) others(o, n view, field, via string) {
	var names []string
	for name := range o.kws {
		names = append(names, name)
	}
	for name := range n.kws {
		if _, ok := o.kws[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	const why = "eventgen cannot tell whether it accepts more or fewer values, so " + whyBoth
	for _, name := range names {
		if handled[name] || annotations[name] {
			continue
		}
		ok, oHas := o.kws[name]
		nk, nHas := n.kws[name]
		pos, ptr := at(n, name)
		switch {
		case oHas && nHas:
			if canon(ok.val) != canon(nk.val) {
				c.add(KeywordChanged, pos, ptr, field, fmt.Sprintf("keyword %q changed", name), why, via)
			}
		case nHas:
			c.add(KeywordChanged, pos, ptr, field, fmt.Sprintf("keyword %q added", name), why, via)
		default:
			c.add(KeywordChanged, pos, ptr, field, fmt.Sprintf("keyword %q removed", name), why, via)
		}
	}
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
