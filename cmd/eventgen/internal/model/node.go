package model

import (
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

// SchemaNode is one schema of a schema file with every constraint it puts
// on a JSON value: what the generated validators check, for any JSON
// value, whatever Go type holds it. Annotations (title, description,
// examples, default, ...) are not kept; $defs are reached through $ref.
//
// A keyword absent from the schema is a nil pointer, a nil slice or an
// empty string.
type SchemaNode struct {
	File    string      // module-relative slash path of the schema file
	Pointer string      // JSON pointer of the schema in File; "" is the root
	Pos     catalog.Pos // the schema's position

	// Bool is the value of a boolean schema, true accepting every value and
	// false none; nil for a schema object.
	Bool *bool

	Types  []string // "type": the JSON types allowed, in schema order
	Enum   []string // "enum": each allowed value as compact JSON text
	Const  *string  // "const": the value as compact JSON text
	Format string   // "format": one of Formats

	MinLength *int    // "minLength", in Unicode code points
	MaxLength *int    // "maxLength"
	Pattern   *string // "pattern": a Go regular expression, as jsonschema/v5 reads it

	// Number constraints, as JSON number text as written. A bound that
	// math/big cannot hold (such as 1e9999999) is ignored, as jsonschema/v5
	// ignores it.
	Minimum          *string
	Maximum          *string
	ExclusiveMinimum *string
	ExclusiveMaximum *string
	MultipleOf       *string

	PrefixItems []*SchemaNode // "prefixItems"
	Items       *SchemaNode   // "items": each item after PrefixItems
	MinItems    *int
	MaxItems    *int
	UniqueItems bool

	Properties           []*PropertyNode // "properties", in schema order
	Required             []string        // "required", in schema order
	AdditionalProperties *SchemaNode     // "additionalProperties": each property not in Properties
	MinProperties        *int
	MaxProperties        *int

	// In-place subschemas: each applies to the same value as this one.
	Ref   *SchemaNode   // "$ref", resolved
	AllOf []*SchemaNode // "allOf"
}

// PropertyNode is one entry of "properties".
type PropertyNode struct {
	Name   string
	Schema *SchemaNode
}

// Location returns where the schema is: file#pointer.
func (n *SchemaNode) Location() string { return n.File + "#" + n.Pointer }

// HasType reports whether "type" allows t ("string", "integer"...): true
// when the schema has no "type". An "integer" instance is a "number" too.
func (n *SchemaNode) HasType(t string) bool {
	return n.Types == nil || slices.Contains(n.Types, t) || t == "integer" && slices.Contains(n.Types, "number")
}

// InPlace returns the subschemas that apply to the same value as n: its
// $ref target, then its allOf members.
func (n *SchemaNode) InPlace() []*SchemaNode {
	var out []*SchemaNode
	if n.Ref != nil {
		out = append(out, n.Ref)
	}
	return append(out, n.AllOf...)
}

// node returns the SchemaNode of the schema n at at, building it and the
// schemas it reaches (through properties, items, $ref, allOf...) once.
// It reports the keywords that are not supported, in every schema it
// reaches, including those that have no Go type of their own (the members
// of allOf and prefixItems).
func (b *builder) node(at location, n *yaml.Node) *SchemaNode {
	key := at.key()
	if sn := b.nodes[key]; sn != nil {
		return sn
	}
	sn := &SchemaNode{File: at.file, Pointer: at.pointer, Pos: nodePos(at.file, n)}
	b.nodes[key] = sn
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		v := n.Value == "true"
		sn.Bool = &v
		return sn
	}
	if n.Kind != yaml.MappingNode {
		b.errorf(sn.Pos, at.pointer, "a schema must be an object or a boolean")
		return sn
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		kat := at.child(k.Value)
		vpos := nodePos(at.file, v)
		switch k.Value {
		case "type":
			sn.Types = b.nodeTypes(kat, v)
		case "enum":
			for _, c := range v.Content {
				sn.Enum = append(sn.Enum, jsonText(c))
			}
		case "const":
			c := jsonText(v)
			sn.Const = &c
		case "format":
			if slices.Contains(Formats, v.Value) {
				sn.Format = v.Value
			} else {
				b.errorf(vpos, kat.pointer, "format %q is not supported (supported: %s)", v.Value, strings.Join(Formats, ", "))
			}
		case "pattern":
			if _, err := regexp.Compile(v.Value); err != nil {
				b.errorf(vpos, kat.pointer, "pattern %q is not a Go regular expression: %v", v.Value, err)
				continue
			}
			p := v.Value
			sn.Pattern = &p
		case "minLength":
			sn.MinLength = b.count(kat, v)
		case "maxLength":
			sn.MaxLength = b.count(kat, v)
		case "minItems":
			sn.MinItems = b.count(kat, v)
		case "maxItems":
			sn.MaxItems = b.count(kat, v)
		case "minProperties":
			sn.MinProperties = b.count(kat, v)
		case "maxProperties":
			sn.MaxProperties = b.count(kat, v)
		case "minimum":
			sn.Minimum = b.number(kat, v)
		case "maximum":
			sn.Maximum = b.number(kat, v)
		case "exclusiveMinimum":
			sn.ExclusiveMinimum = b.number(kat, v)
		case "exclusiveMaximum":
			sn.ExclusiveMaximum = b.number(kat, v)
		case "multipleOf":
			sn.MultipleOf = b.number(kat, v)
			if sn.MultipleOf != nil {
				if r, _ := new(big.Rat).SetString(*sn.MultipleOf); r.Sign() <= 0 {
					b.errorf(vpos, kat.pointer, "multipleOf must be greater than 0")
					sn.MultipleOf = nil
				}
			}
		case "uniqueItems":
			sn.UniqueItems = v.Value == "true"
		case "items":
			sn.Items = b.node(kat, v)
		case "prefixItems":
			for j, c := range v.Content {
				sn.PrefixItems = append(sn.PrefixItems, b.node(kat.child(strconv.Itoa(j)), c))
			}
		case "allOf":
			for j, c := range v.Content {
				sn.AllOf = append(sn.AllOf, b.node(kat.child(strconv.Itoa(j)), c))
			}
			if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
				b.errorf(vpos, kat.pointer, "allOf must be a non-empty array of schemas")
			}
		case "properties":
			if v.Kind != yaml.MappingNode {
				b.errorf(vpos, kat.pointer, "properties must be an object")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				name := v.Content[j].Value
				sn.Properties = append(sn.Properties, &PropertyNode{Name: name, Schema: b.node(kat.child(name), v.Content[j+1])})
			}
		case "required":
			for _, c := range v.Content {
				sn.Required = append(sn.Required, c.Value)
			}
		case "additionalProperties":
			sn.AdditionalProperties = b.node(kat, v)
		case "$ref":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" {
				b.errorf(vpos, kat.pointer, "$ref must be a string")
				continue
			}
			target, tn, _, err := b.resolve(at.file, v.Value)
			if err != nil {
				b.errorf(vpos, kat.pointer, "cannot resolve $ref %q: %v", v.Value, err)
				continue
			}
			sn.Ref = b.node(target, tn)
		case "$id":
			if at.pointer != "" {
				b.errorf(nodePos(at.file, k), kat.pointer, "keyword \"$id\" is only supported at the root of a schema file")
			}
		default:
			if !supported[k.Value] {
				b.errorf(nodePos(at.file, k), kat.pointer,
					"keyword %q is not supported (supported: %s)", k.Value, strings.Join(Supported, ", "))
			}
		}
	}
	return sn
}

func (b *builder) nodeTypes(at location, v *yaml.Node) []string {
	names := []string{v.Value}
	if v.Kind == yaml.SequenceNode {
		names = names[:0]
		for _, c := range v.Content {
			names = append(names, c.Value)
		}
	}
	for _, n := range names {
		switch n {
		case "string", "integer", "number", "boolean", "array", "object", "null":
		default:
			b.errorf(nodePos(at.file, v), at.pointer, "type %q is not a JSON Schema type", n)
		}
	}
	return names
}

// count reads a non-negative integer keyword, as jsonschema/v5 does (1.0 is
// 1).
func (b *builder) count(at location, v *yaml.Node) *int {
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || f < 0 || f != float64(int64(f)) {
		b.errorf(nodePos(at.file, v), at.pointer, "want a non-negative integer, got %s", jsonText(v))
		return nil
	}
	i := int(f)
	return &i
}

// number reads a number keyword.
func (b *builder) number(at location, v *yaml.Node) *string {
	if !isNumber(v) {
		b.errorf(nodePos(at.file, v), at.pointer, "want a number, got %s", jsonText(v))
		return nil
	}
	if _, ok := new(big.Rat).SetString(v.Value); !ok {
		return nil // jsonschema/v5 cannot hold it, and ignores it
	}
	s := v.Value
	return &s
}

// jsonText returns the compact JSON text of a value of a schema file.
func jsonText(n *yaml.Node) string {
	var b strings.Builder
	writeJSON(&b, n)
	return b.String()
}

func writeJSON(b *strings.Builder, n *yaml.Node) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			writeJSON(b, n.Content[0])
		}
	case yaml.MappingNode:
		b.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, n.Content[i].Value)
			b.WriteByte(':')
			writeJSON(b, n.Content[i+1])
		}
		b.WriteByte('}')
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, c)
		}
		b.WriteByte(']')
	case yaml.AliasNode:
		writeJSON(b, n.Alias)
	default:
		switch {
		case isNumber(n), n.ShortTag() == "!!bool" && json.Valid([]byte(n.Value)):
			b.WriteString(n.Value)
		case n.ShortTag() == "!!null":
			b.WriteString("null")
		default:
			writeJSONString(b, n.Value)
		}
	}
}

// isNumber reports whether n is a JSON number: an unquoted scalar written
// as one (whatever tag YAML gives 1e9999999).
func isNumber(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || n.Value == "" {
		return false
	}
	if c := n.Value[0]; c != '-' && (c < '0' || c > '9') {
		return false
	}
	return json.Valid([]byte(n.Value))
}

func writeJSONString(b *strings.Builder, s string) {
	data, _ := json.Marshal(s) // a string always marshals
	b.Write(data)
}

// checkInPlaceCycles reports the schemas that apply themselves to the same
// value through $ref and allOf only, which no validator could check: it
// would never reach a smaller value.
func (b *builder) checkInPlaceCycles() {
	const (
		unseen = iota
		open
		done
	)
	state := map[*SchemaNode]int{}
	var visit func(n *SchemaNode)
	visit = func(n *SchemaNode) {
		state[n] = open
		for _, c := range n.InPlace() {
			switch state[c] {
			case open:
				b.errorf(c.Pos, c.Pointer, "$ref cycle: the schema refers to itself without an object in between")
			case unseen:
				visit(c)
			}
		}
		state[n] = done
	}
	for _, n := range b.sortedNodes() {
		if state[n] == unseen {
			visit(n)
		}
	}
}

// sortedNodes returns every node built, sorted by file, then pointer.
func (b *builder) sortedNodes() []*SchemaNode {
	out := make([]*SchemaNode, 0, len(b.nodes))
	for _, n := range b.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Pointer < out[j].Pointer
	})
	return out
}
