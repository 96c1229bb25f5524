package docs

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// row is one line of an event's field table.
type row struct {
	path        string // "product/sku", "lines[]/quantity", "attributes/*"
	jsonType    string // "string (uuid)", "array of object", "number or null"
	goType      string
	required    string // "yes", "no", or "" for items and map values
	constraints []string
	description string
}

// schemaAt is a schema and the file it is written in, against which its
// $ref resolves.
type schemaAt struct {
	file string
	node *yaml.Node
}

// maxRefs bounds a chain of $refs; the loader has checked that they end.
const maxRefs = 32

// chain returns s followed by the schemas its $ref leads to, one by one.
func (g *gen) chain(s schemaAt) []schemaAt {
	out := []schemaAt{s}
	for len(out) < maxRefs {
		ref := model.Member(s.node, "$ref")
		if ref == nil {
			break
		}
		r, err := g.res.Resolve(s.file, ref.Value)
		if err != nil {
			break
		}
		s = schemaAt{file: r.File, node: r.Node}
		out = append(out, s)
	}
	return out
}

// payloadRows returns the field table of e's payload: the model gives the
// fields, their order, Go types and whether they are required; the
// schemas, through their $refs, the JSON types, constraints and
// descriptions.
func (g *gen) payloadRows(e *model.Event) []row { return g.rowsOf(e.Schema.Path, e.Payload) }

// rowsOf returns the rows of a payload of Go type t whose schema is the
// file at schemaPath: the current version's, or an older one's.
func (g *gen) rowsOf(schemaPath string, t *model.Type) []row {
	root, _ := g.res.Lookup(schemaPath, "")
	var rows []row
	payload := &model.GoType{Kind: model.Named, Named: t}
	g.children(&rows, "", payload, g.chain(schemaAt{file: schemaPath, node: root}), map[*model.Type]bool{})
	return rows
}

// children appends the rows of what lies inside a value of type t, at
// path, whose schema is the chain c: the fields of a struct, the items of
// an array, the values of a map.
func (g *gen) children(rows *[]row, path string, t *model.GoType, c []schemaAt, open map[*model.Type]bool) {
	for t.Kind == model.Pointer {
		t = t.Elem
	}
	last := c[len(c)-1]
	switch t.Kind {
	case model.Named:
		switch n := t.Named; n.Kind {
		case model.Struct:
			if open[n] {
				if len(*rows) > 0 {
					r := &(*rows)[len(*rows)-1]
					r.constraints = append(r.constraints, fmt.Sprintf("recursive: the fields of `%s` above", n.Name))
				}
				return
			}
			open[n] = true
			defer delete(open, n)
			g.structRows(rows, path, n, open)
		case model.Defined:
			g.children(rows, path, n.Underlying, c, open)
		}
	case model.Slice:
		g.elemRows(rows, path+"[]", t.Elem, last, "items", open)
	case model.Map:
		g.elemRows(rows, path+"/*", t.Elem, last, "additionalProperties", open)
	}
}

// elemRows appends the rows of the items (or map values) of the schema
// s, found under its keyword: a row of their own when they have
// constraints or a description, then what lies inside them.
func (g *gen) elemRows(rows *[]row, path string, t *model.GoType, s schemaAt, keyword string, open map[*model.Type]bool) {
	n := model.Member(s.node, keyword)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	c := g.chain(schemaAt{file: s.file, node: n})
	if r := g.row(path, t, "", c); !isStruct(t) && (len(r.constraints) > 0 || r.description != "") {
		*rows = append(*rows, r)
	}
	g.children(rows, path, t, c, open)
}

func isStruct(t *model.GoType) bool {
	for t.Kind == model.Pointer {
		t = t.Elem
	}
	return t.Kind == model.Named && t.Named.Kind == model.Struct
}

// structRows appends a row per field of the struct type t, then what lies
// inside each.
func (g *gen) structRows(rows *[]row, path string, t *model.Type, open map[*model.Type]bool) {
	prefix := ""
	if path != "" {
		prefix = path + "/"
	}
	for _, f := range t.Fields {
		node, _ := g.res.Lookup(t.File, t.Pointer+"/properties/"+model.EscapePointer(f.JSONName))
		c := g.chain(schemaAt{file: t.File, node: node})
		required := "no"
		if f.Required {
			required = "yes"
		}
		*rows = append(*rows, g.row(prefix+f.JSONName, f.Type, required, c))
		g.children(rows, prefix+f.JSONName, f.Type, c, open)
	}
}

func (g *gen) row(path string, t *model.GoType, required string, c []schemaAt) row {
	r := row{path: path, jsonType: g.jsonType(c), goType: t.String(), required: required}
	for _, s := range c {
		r.constraints = append(r.constraints, constraints(s.node)...)
		if r.description == "" {
			if d := model.Member(s.node, "description"); d != nil {
				r.description = d.Value
			}
		}
	}
	return r
}

// jsonType describes the JSON value of the schema chain c: its type, the
// format of a string, the items of an array, the values of a map, and
// "or null" when null is allowed too.
func (g *gen) jsonType(c []schemaAt) string {
	s := c[len(c)-1]
	types := typeNames(s.node)
	nullable := false
	base := ""
	for _, t := range types {
		if t == "null" {
			nullable = true
		} else {
			base = t
		}
	}
	if base == "" && !nullable {
		base = impliedType(s.node)
	}
	text := base
	switch base {
	case "string":
		if f := model.Member(s.node, "format"); f != nil {
			text = fmt.Sprintf("string (%s)", f.Value)
		}
	case "array":
		if items := model.Member(s.node, "items"); items != nil && items.Kind == yaml.MappingNode {
			text = "array of " + g.jsonType(g.chain(schemaAt{file: s.file, node: items}))
		}
	case "object":
		addl := model.Member(s.node, "additionalProperties")
		props := model.Member(s.node, "properties")
		if (props == nil || len(props.Content) == 0) && addl != nil && addl.Kind == yaml.MappingNode && len(addl.Content) > 0 {
			text = "map of " + g.jsonType(g.chain(schemaAt{file: s.file, node: addl}))
		}
	}
	if nullable {
		return text + " or null"
	}
	return text
}

// typeNames returns the names of the schema's "type" keyword.
func typeNames(n *yaml.Node) []string {
	t := model.Member(n, "type")
	switch {
	case t == nil:
		return nil
	case t.Kind == yaml.SequenceNode:
		names := make([]string, len(t.Content))
		for i, c := range t.Content {
			names[i] = c.Value
		}
		return names
	}
	return []string{t.Value}
}

// impliedType is the type of a schema without "type", as the model reads
// it: a string for an enum (only its values are accepted), else any value
// (object or array keywords alone do not keep out the other kinds).
func impliedType(n *yaml.Node) string {
	has := func(keys ...string) bool {
		for _, k := range keys {
			if model.Member(n, k) != nil {
				return true
			}
		}
		return false
	}
	if has("enum") {
		return "string"
	}
	return "any"
}

// constraintKeywords are printed in this order, as "keyword value".
var constraintKeywords = []string{
	"minLength", "maxLength", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum",
	"multipleOf", "minItems", "maxItems", "minProperties", "maxProperties",
}

// constraints returns what the schema n checks besides its type, one
// entry per keyword, ready for a table cell.
func constraints(n *yaml.Node) []string {
	var out []string
	if e := model.Member(n, "enum"); e != nil && e.Kind == yaml.SequenceNode {
		values := make([]string, len(e.Content))
		for i, v := range e.Content {
			values[i] = code(value(v))
		}
		out = append(out, "one of "+strings.Join(values, ", "))
	}
	if c := model.Member(n, "const"); c != nil {
		out = append(out, "always "+code(value(c)))
	}
	if p := model.Member(n, "pattern"); p != nil {
		out = append(out, "pattern "+code(p.Value))
	}
	for _, k := range constraintKeywords {
		if v := model.Member(n, k); v != nil {
			out = append(out, k+" "+v.Value)
		}
	}
	for _, k := range []string{"uniqueItems", "deprecated", "readOnly", "writeOnly"} {
		if v := model.Member(n, k); v != nil && v.Value == "true" {
			out = append(out, k)
		}
	}
	if d := model.Member(n, "default"); d != nil {
		out = append(out, "default "+code(value(d)))
	}
	return out
}

// value returns the JSON text of n, a string without its quotes.
func value(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	data, err := json.Marshal(v)
	if err != nil {
		return n.Value
	}
	return string(data)
}

// code returns text as a Markdown code span that fits a table cell.
func code(text string) string {
	text = strings.ReplaceAll(text, "|", `\|`)
	fence := "`"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") {
		return fence + " " + text + " " + fence
	}
	return fence + text + fence
}
