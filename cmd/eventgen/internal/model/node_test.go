package model_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/model"
)

// nodeAt returns the node of thingPath at pointer.
func nodeAt(t *testing.T, m *model.Model, file, pointer string) *model.SchemaNode {
	t.Helper()
	for _, n := range m.Nodes {
		if n.File == file && n.Pointer == pointer {
			return n
		}
	}
	require.Failf(t, "no node", "%s#%s", file, pointer)
	return nil
}

func TestNodesKeepEveryConstraint(t *testing.T) {
	schema := `{
  "type": "object",
  "additionalProperties": false,
  "required": ["s", "n"],
  "minProperties": 1,
  "maxProperties": 9,
  "properties": {
    "s": {"type": "string", "minLength": 1, "maxLength": 2.0, "pattern": "^a", "format": "email", "const": "ab"},
    "n": {"type": ["integer", "null"], "minimum": 1.5, "maximum": 1e3, "exclusiveMinimum": -1, "exclusiveMaximum": 1E4, "multipleOf": 0.5},
    "e": {"type": "string", "enum": ["x", "y"]},
    "a": {"type": "array", "prefixItems": [{"type": "integer"}, true], "items": {"$ref": "#/$defs/d"}, "minItems": 1, "maxItems": 3, "uniqueItems": true},
    "m": {"type": "object", "additionalProperties": {"allOf": [{"maximum": 3}, {"$ref": "#/$defs/d"}]}},
    "big": {"type": "number", "maximum": 1e9999999},
    "c": {"allOf": [{"const": {"k": [1, 2.50, true, null, "v"]}}]}
  },
  "$defs": {"d": {"type": "integer", "description": "An integer."}}
}`
	m, err := build(t, schema, nil)
	require.NoError(t, err)

	root := nodeAt(t, m, thingPath, "")
	assert.Same(t, root, m.Events[0].Node)
	assert.Same(t, root, m.Events[0].Payload.Node)
	assert.Equal(t, []string{"object"}, root.Types)
	assert.Equal(t, []string{"s", "n"}, root.Required)
	assert.Equal(t, 1, *root.MinProperties)
	assert.Equal(t, 9, *root.MaxProperties)
	require.NotNil(t, root.AdditionalProperties.Bool)
	assert.False(t, *root.AdditionalProperties.Bool)
	var names []string
	for _, p := range root.Properties {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"s", "n", "e", "a", "m", "big", "c"}, names)

	s := nodeAt(t, m, thingPath, "/properties/s")
	assert.Same(t, s, m.Events[0].Payload.Fields[0].Node)
	assert.Equal(t, 1, *s.MinLength)
	assert.Equal(t, 2, *s.MaxLength)
	assert.Equal(t, "^a", *s.Pattern)
	assert.Equal(t, "email", s.Format)
	assert.Equal(t, `"ab"`, *s.Const)

	n := nodeAt(t, m, thingPath, "/properties/n")
	assert.Equal(t, []string{"integer", "null"}, n.Types)
	assert.Equal(t, "1.5", *n.Minimum)
	assert.Equal(t, "1e3", *n.Maximum)
	assert.Equal(t, "-1", *n.ExclusiveMinimum)
	assert.Equal(t, "1E4", *n.ExclusiveMaximum)
	assert.Equal(t, "0.5", *n.MultipleOf)
	assert.True(t, n.HasType("integer"))
	assert.True(t, n.HasType("null"))
	assert.False(t, n.HasType("number"))

	e := nodeAt(t, m, thingPath, "/properties/e")
	assert.Equal(t, []string{`"x"`, `"y"`}, e.Enum)
	for _, ty := range m.Types {
		if ty.Name == "ThingCreatedE" {
			assert.Same(t, e, ty.Node)
		}
	}

	a := nodeAt(t, m, thingPath, "/properties/a")
	require.Len(t, a.PrefixItems, 2)
	assert.Equal(t, []string{"integer"}, a.PrefixItems[0].Types)
	assert.True(t, *a.PrefixItems[1].Bool)
	d := nodeAt(t, m, thingPath, "/$defs/d")
	assert.Same(t, d, a.Items.Ref)
	assert.Equal(t, "schemas/execution/thing.json#/$defs/d", d.Location())
	assert.True(t, a.UniqueItems)
	assert.Equal(t, 1, *a.MinItems)
	assert.Equal(t, 3, *a.MaxItems)
	assert.Equal(t, "[]any", m.Events[0].Payload.Fields[3].Type.String(), "a tuple holds any value")

	mv := nodeAt(t, m, thingPath, "/properties/m/additionalProperties")
	require.Len(t, mv.AllOf, 2)
	assert.Same(t, d, mv.AllOf[1].Ref)
	assert.Equal(t, []*model.SchemaNode{mv.AllOf[0], mv.AllOf[1]}, mv.InPlace())
	assert.Equal(t, []*model.SchemaNode{d}, mv.AllOf[1].InPlace())

	assert.Nil(t, nodeAt(t, m, thingPath, "/properties/big").Maximum, "beyond math/big: ignored, as jsonschema/v5 does")
	c := nodeAt(t, m, thingPath, "/properties/c/allOf/0")
	assert.Equal(t, `{"k":[1,2.50,true,null,"v"]}`, *c.Const)
	assert.True(t, nodeAt(t, m, thingPath, "/properties/c").HasType("string"), "no type: any")

	// Sorted by file, then pointer.
	for i := 1; i < len(m.Nodes); i++ {
		a, b := m.Nodes[i-1], m.Nodes[i]
		assert.True(t, a.File < b.File || a.File == b.File && a.Pointer < b.Pointer, "%s before %s", a.Location(), b.Location())
	}
}

func TestNodeErrors(t *testing.T) {
	supported := strings.Join(model.Supported, ", ")
	tests := []struct {
		name   string
		schema string
		at     string
		want   string
	}{
		{
			"unsupported keyword inside allOf",
			`{"type": "object", "properties": {"a": {"allOf": [{"not": {}}]}}}`,
			`"not"`,
			`/properties/a/allOf/0/not: keyword "not" is not supported (supported: ` + supported + `)`,
		},
		{
			"format without a type",
			`{"type": "object", "properties": {"a": {"format": "ipv4"}}}`,
			`"ipv4"`,
			`/properties/a/format: format "ipv4" is not supported (supported: date-time, date, uuid, email, uri)`,
		},
		{
			"pattern Go cannot compile",
			`{"type": "object", "properties": {"a": {"type": "string", "pattern": "(?=x)"}}}`,
			`"(?=x)"`,
			`/properties/a/pattern: pattern "(?=x)" is not a Go regular expression: error parsing regexp: invalid or unsupported Perl syntax: ` + "`(?=`",
		},
		{
			"allOf cycle",
			`{"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "object", "allOf": [{"$ref": "#/$defs/x"}]}}}`,
			`{"type": "object", "allOf"`,
			`/$defs/x: $ref cycle: the schema refers to itself without an object in between`,
		},
		{
			"negative count",
			`{"type": "object", "properties": {"a": {"type": "string", "minLength": -1}}}`,
			`-1`,
			`/properties/a/minLength: want a non-negative integer, got -1`,
		},
		{
			"fractional count",
			`{"type": "object", "properties": {"a": {"type": "string", "maxLength": 1.5}}}`,
			`1.5`,
			`/properties/a/maxLength: want a non-negative integer, got 1.5`,
		},
		{
			"bound not a number",
			`{"type": "object", "properties": {"a": {"type": "number", "minimum": "1"}}}`,
			`"1"`,
			`/properties/a/minimum: want a number, got "1"`,
		},
		{
			"multipleOf zero",
			`{"type": "object", "properties": {"a": {"type": "number", "multipleOf": 0}}}`,
			`0}`,
			`/properties/a/multipleOf: multipleOf must be greater than 0`,
		},
		{
			"empty allOf",
			`{"type": "object", "properties": {"a": {"allOf": []}}}`,
			`[]`,
			`/properties/a/allOf: allOf must be a non-empty array of schemas`,
		},
		{
			"schema in allOf not an object",
			`{"type": "object", "properties": {"a": {"allOf": [3]}}}`,
			`3]`,
			`/properties/a/allOf/0: a schema must be an object or a boolean`,
		},
		{
			"bad type in allOf",
			`{"type": "object", "properties": {"a": {"allOf": [{"type": ["string", "text"]}]}}}`,
			`["string", "text"]`,
			`/properties/a/allOf/0/type: type "text" is not a JSON Schema type`,
		},
		{
			"bad $ref in allOf",
			`{"type": "object", "properties": {"a": {"allOf": [{"$ref": "#/nowhere"}, {"$ref": 1}]}}}`,
			`"#/nowhere"`,
			`/properties/a/allOf/0/$ref: cannot resolve $ref "#/nowhere": schemas/execution/thing.json has nothing at /nowhere`,
		},
		{
			"nested $id in prefixItems",
			`{"type": "object", "properties": {"a": {"prefixItems": [{"$id": "x.json"}]}}}`,
			`"$id"`,
			`/properties/a/prefixItems/0/$id: keyword "$id" is only supported at the root of a schema file`,
		},
		{
			"properties not an object in allOf",
			`{"type": "object", "properties": {"a": {"allOf": [{"properties": 1}]}}}`,
			`1}]`,
			`/properties/a/allOf/0/properties: properties must be an object`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := build(t, tt.schema, nil)
			require.Error(t, err)
			var errs model.Errors
			require.ErrorAs(t, err, &errs)
			assert.Equal(t, thingPath+":"+posOf(t, tt.schema, tt.at)+": "+tt.want, errs[0].Error())
		})
	}
}

func TestErrorsFoundTwiceAreReportedOnce(t *testing.T) {
	// The $defs entry is reached from two properties, and by both the Go
	// types and the constraints.
	schema := `{"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}, "b": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "string", "format": "ipv6", "oneOf": []}}}`
	_, err := build(t, schema, nil)
	require.Error(t, err)
	var errs model.Errors
	require.ErrorAs(t, err, &errs)
	assert.Len(t, errs, 2, "%v", err)
}

func TestValuesAsJSON(t *testing.T) {
	// Values are kept as compact JSON: strings escaped, numbers as written.
	schema := `{"type": "object", "properties": {"a": {"allOf": [{"enum": ["q\"uote", -0, 1.50e+2, false, [], {}, {"x": {"y": null}}]}]}}}`
	m, err := build(t, schema, nil)
	require.NoError(t, err)
	n := nodeAt(t, m, thingPath, "/properties/a/allOf/0")
	assert.Equal(t, []string{`"q\"uote"`, `-0`, `1.50e+2`, `false`, `[]`, `{}`, `{"x":{"y":null}}`}, n.Enum)
}
