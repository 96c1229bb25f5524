package compat

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
)

const (
	subject   = "shop.order.placed"
	payload   = "schemas/orders/order_placed.json"
	payloadV1 = "schemas/orders/order_placed_v1.json"
)

// schemaFile parses a JSON schema the way the loader keeps it.
func schemaFile(t *testing.T, path, text string) *catalog.SchemaFile {
	t.Helper()
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal([]byte(text), &doc), path)
	return &catalog.SchemaFile{Path: path, Raw: []byte(text), Node: &doc}
}

// catalogOf returns a catalog of events and schema files.
func catalogOf(t *testing.T, events []catalog.Event, files map[string]string) *catalog.Catalog {
	t.Helper()
	c := &catalog.Catalog{Dir: "catalog", Events: events, Schemas: map[string]*catalog.SchemaFile{}}
	for p, text := range files {
		c.Schemas[p] = schemaFile(t, p, text)
	}
	return c
}

// event is the one event of the table's catalogs.
func event(version int) catalog.Event {
	return catalog.Event{
		Subject: subject, Version: version, Publisher: "orders", Consumers: []string{"billing", "shipping"},
		Schema: payload, Pos: catalog.Pos{File: "catalog/orders.yaml", Line: 3, Col: 5},
	}
}

// base is the payload schema most cases edit: a closed object.
const base = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Order placed",
  "type": "object",
  "additionalProperties": false,
  "required": ["id", "qty"],
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "qty": {"type": "integer", "minimum": 1},
    "note": {"type": "string", "maxLength": 100},
    "status": {"type": "string", "enum": ["open", "closed"]}
  }
}`

// openBase is base without additionalProperties: false.
var openBase = strings.Replace(base, `"additionalProperties": false,`, "", 1)

// edit applies replacements to s, each of which must apply.
func edit(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, s, pairs[i])
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// want is one expected finding.
type want struct {
	change  Change
	pointer string // as printed
	text    string // a part of the message
}

func TestCompareSchemas(t *testing.T) {
	quantity := `{
  "type": "object",
  "additionalProperties": false,
  "required": ["value"],
  "properties": {"value": {"type": "number", "minimum": 0}}
}`
	withQuantity := edit(t, base, `"note": {"type": "string", "maxLength": 100},`,
		`"note": {"type": "string", "maxLength": 100}, "quantity": {"$ref": "../common/quantity.json"},`)
	lines := `{
  "type": "object",
  "properties": {
    "lines": {"type": "array", "minItems": 1, "maxItems": 50, "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    "attrs": {"type": "object", "additionalProperties": {"type": "string"}}
  }
}`

	tests := []struct {
		name     string
		old, new string
		oldFiles map[string]string // besides the payload
		newFiles map[string]string
		want     []want
	}{
		{name: "identical", old: base, new: base},
		{name: "annotations edited", old: base, new: edit(t, base,
			`"title": "Order placed",`, `"title": "An order was placed", "description": "New text.", "$comment": "x", "examples": [{}],`,
			`"id": {"type": "string", "format": "uuid"}`, `"id": {"type": "string", "format": "uuid", "description": "The id.", "deprecated": true}`)},
		{name: "property and enum order changed", old: base, new: edit(t, base,
			`"status": {"type": "string", "enum": ["open", "closed"]}`, `"status": {"enum": ["closed", "open"], "type": "string"}`,
			`"required": ["id", "qty"]`, `"required": ["qty", "id"]`)},
		{name: "required property removed", old: base, new: edit(t, base,
			`"id": {"type": "string", "format": "uuid"},`, ``, `"required": ["id", "qty"]`, `"required": ["qty"]`),
			want: []want{{PropertyRemoved, "/properties/id", `required property "id" removed: new events lack it and old readers require it`}}},
		{name: "optional property removed from a closed object", old: base, new: edit(t, base,
			`"note": {"type": "string", "maxLength": 100},`, ``),
			want: []want{{PropertyRemoved, "/properties/note", `optional property "note" removed: retained old events that carry it fail new readers`}}},
		{name: "optional property removed from an open object", old: openBase, new: edit(t, openBase,
			`"note": {"type": "string", "maxLength": 100},`, ``)},
		{name: "optional property added to an open object", old: openBase, new: edit(t, openBase,
			`"note": {`, `"extra": {"type": "boolean"}, "note": {`)},
		{name: "optional property added to a closed object", old: base, new: edit(t, base,
			`"note": {`, `"extra": {"type": "boolean"}, "note": {`),
			want: []want{{PropertyAdded, "/properties/extra", `optional property "extra" added: new events that carry it fail old readers`}}},
		{name: "required property added to an open object", old: openBase, new: edit(t, openBase,
			`"note": {`, `"extra": {"type": "boolean"}, "note": {`, `"required": ["id", "qty"]`, `"required": ["id", "qty", "extra"]`),
			want: []want{{PropertyAdded, "/properties/extra", `required property "extra" added: retained old events lack it`}}},
		{name: "property made required", old: base, new: edit(t, base, `"required": ["id", "qty"]`, `"required": ["id", "qty", "note"]`),
			want: []want{{PropertyNowRequired, "/required/2", `property "note" is now required`}}},
		{name: "property made optional", old: base, new: edit(t, base, `"required": ["id", "qty"]`, `"required": ["id"]`),
			want: []want{{PropertyNowOptional, "/required", `property "qty" is no longer required: new events may omit it`}}},
		{name: "optional property renamed in a closed object", old: base, new: edit(t, base, `"note":`, `"remark":`),
			want: []want{{PropertyRenamed, "/properties/remark", `property "note" renamed to "remark": old readers reject "remark"`}}},
		{name: "optional property renamed in an open object", old: openBase, new: edit(t, openBase, `"note":`, `"remark":`)},
		{name: "required property renamed", old: openBase, new: edit(t, openBase, `"qty":`, `"quantity":`, `"required": ["id", "qty"]`, `"required": ["id", "quantity"]`),
			want: []want{{PropertyRenamed, "/properties/quantity", `property "qty" renamed to "quantity": new events lack "qty"`}}},
		{name: "type changed", old: base, new: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": {"type": "integer"}`),
			want: []want{{TypeChanged, "/properties/note/type", `field "note": type changed from "string" to "integer"`}}},
		{name: "type widened from integer to number", old: base, new: edit(t, base, `"qty": {"type": "integer"`, `"qty": {"type": "number"`),
			want: []want{{TypeChanged, "/properties/qty/type", `type widened from "integer" to "number": new events can fail old readers`}}},
		{name: "type narrowed from number to integer", old: edit(t, base, `"qty": {"type": "integer"`, `"qty": {"type": "number"`), new: base,
			want: []want{{TypeChanged, "/properties/qty/type", `type narrowed from "number" to "integer": retained old events can fail new readers`}}},
		{name: "type given where there was none", old: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": {}`), new: base,
			want: []want{{TypeChanged, "/properties/note/type", `type narrowed from no type (any value) to "string"`}}},
		{name: "null allowed", old: base, new: edit(t, base, `"note": {"type": "string"`, `"note": {"type": ["string", "null"]`),
			want: []want{{NullAdded, "/properties/note/type", `null now allowed`}}},
		{name: "null no longer allowed", old: edit(t, base, `"note": {"type": "string"`, `"note": {"type": ["null", "string"]`), new: base,
			want: []want{{NullRemoved, "/properties/note/type", `null no longer allowed`}}},
		{name: "enum value removed", old: base, new: edit(t, base, `["open", "closed"]`, `["open"]`),
			want: []want{{EnumValueRemoved, "/properties/status/enum", `enum value "closed" removed: retained old events can fail new readers`}}},
		{name: "enum value added", old: base, new: edit(t, base, `["open", "closed"]`, `["open", "closed", "cancelled"]`),
			want: []want{{EnumValueAdded, "/properties/status/enum/2", `enum value "cancelled" added: new events can fail old readers, whose enums are closed`}}},
		{name: "enum added", old: base, new: edit(t, base, `"note": {"type": "string"`, `"note": {"type": "string", "enum": ["a", "b"]`),
			want: []want{{EnumAdded, "/properties/note/enum", `enum ["a","b"] added`}}},
		{name: "enum removed", old: base, new: edit(t, base, `, "enum": ["open", "closed"]`, ``),
			want: []want{{EnumRemoved, "/properties/status/enum", `enum ["open","closed"] removed: new events can fail old readers`}}},
		{name: "const changed", old: edit(t, base, `"status": {"type": "string", "enum": ["open", "closed"]}`, `"status": {"const": "open"}`),
			new:  edit(t, base, `"status": {"type": "string", "enum": ["open", "closed"]}`, `"status": {"const": "closed"}`),
			want: []want{{ConstChanged, "/properties/status/const", `const changed from "open" to "closed"`}}},
		{name: "equal numbers in const and enum", old: edit(t, base, `"status": {"type": "string", "enum": ["open", "closed"]}`, `"status": {"const": 1, "enum": [1, 2.5]}`),
			new: edit(t, base, `"status": {"type": "string", "enum": ["open", "closed"]}`, `"status": {"const": 1.0, "enum": [2.50, 1e0]}`)},
		{name: "enum without type is the typed enum", old: edit(t, base, `"status": {"type": "string", "enum"`, `"status": {"enum"`), new: base},
		{name: "type list reordered", old: edit(t, base, `"note": {"type": "string"`, `"note": {"type": ["string", "null"]`), new: edit(t, base, `"note": {"type": "string"`, `"note": {"type": ["null", "string"]`)},
		{name: "integer enum typed number or integer", old: edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "number", "enum": [1, 2.0]}`),
			new: edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "integer", "enum": [2, 1]}`)},
		{name: "null const allowed", old: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": {"const": "x"}`),
			new:  edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": {"type": ["string", "null"], "enum": ["x", null]}`),
			want: []want{{ConstChanged, "/properties/note/const", `const "x" removed`}, {EnumAdded, "/properties/note/enum", `enum ["x",null] added`}, {NullAdded, "/properties/note/type", `null now allowed`}}},
		{name: "minimum raised", old: base, new: edit(t, base, `"minimum": 1`, `"minimum": 2`),
			want: []want{{"minimum-raised", "/properties/qty/minimum", `minimum raised from 1 to 2: retained old events can fail new readers`}}},
		{name: "minimum lowered", old: base, new: edit(t, base, `"minimum": 1`, `"minimum": 0`),
			want: []want{{"minimum-lowered", "/properties/qty/minimum", `minimum lowered from 1 to 0: new events can fail old readers`}}},
		{name: "minimum removed", old: base, new: edit(t, base, `, "minimum": 1`, ``),
			want: []want{{"minimum-removed", "/properties/qty/minimum", `minimum 1 removed`}}},
		{name: "maximum added", old: base, new: edit(t, base, `"minimum": 1`, `"minimum": 1, "maximum": 1000`),
			want: []want{{"maximum-added", "/properties/qty/maximum", `maximum 1000 added: retained old events can fail new readers`}}},
		{name: "maximum raised", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "maximum": 10`), new: edit(t, base, `"minimum": 1`, `"minimum": 1, "exclusiveMaximum": 100`),
			want: []want{{"maximum-raised", "/properties/qty/exclusiveMaximum", `upper bound raised from maximum 10 to exclusiveMaximum 100: new events can fail old readers`}}},
		{name: "integer bounds written differently", old: edit(t, base, `"minimum": 1`, `"minimum": 0.5, "exclusiveMaximum": 10`), new: edit(t, base, `"minimum": 1`, `"exclusiveMinimum": 0.5, "maximum": 9.5`)},
		{name: "upper bound lowered", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "maximum": 10`), new: edit(t, base, `"minimum": 1`, `"minimum": 1, "maximum": 9`),
			want: []want{{"maximum-lowered", "/properties/qty/maximum", `maximum lowered from 10 to 9: retained old events can fail new readers`}}},
		{name: "upper bound removed", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "maximum": 10`), new: base,
			want: []want{{"maximum-removed", "/properties/qty/maximum", `maximum 10 removed: new events can fail old readers`}}},
		{name: "number maximum made exclusive", old: edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "number", "maximum": 5}`),
			new:  edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "number", "maximum": 5, "exclusiveMaximum": 5}`),
			want: []want{{"maximum-lowered", "/properties/qty/exclusiveMaximum", `upper bound lowered from maximum 5 to exclusiveMaximum 5`}}},
		{name: "minimum added", old: edit(t, base, `, "minimum": 1`, ``), new: base,
			want: []want{{"minimum-added", "/properties/qty/minimum", `minimum 1 added: retained old events can fail new readers`}}},
		{name: "maxItems lowered and raised", old: edit(t, lines, `"maxItems": 50`, `"maxItems": 50, "maxProperties": 3`), new: edit(t, lines, `"maxItems": 50`, `"maxItems": 40, "maxProperties": 4`),
			want: []want{{"maxItems-lowered", "/properties/lines/maxItems", `maxItems lowered from 50 to 40`}, {"maxProperties-raised", "/properties/lines/maxProperties", `maxProperties raised from 3 to 4`}}},
		{name: "minProperties added", old: base, new: edit(t, base, `"title": "Order placed",`, `"minProperties": 2,`),
			want: []want{{"minProperties-added", "/minProperties", `minProperties 2 added`}}},
		{name: "multipleOf removed", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 5`), new: base,
			want: []want{{MultipleOfChanged, "/properties/qty/multipleOf", `multipleOf 5 removed: new events can fail old readers`}}},
		{name: "multipleOf made coarser", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 5`), new: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 10`),
			want: []want{{MultipleOfChanged, "/properties/qty/multipleOf", `multipleOf changed from 5 to 10: retained old events can fail new readers`}}},
		{name: "multipleOf changed across", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 2`), new: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 3`),
			want: []want{{MultipleOfChanged, "/properties/qty/multipleOf", `multipleOf changed from 2 to 3: new events can fail old readers and retained old events can fail new readers`}}},
		{name: "schema no longer false", old: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": false`), new: base,
			want: []want{{SchemaChanged, "/properties/note", `schema changed from false`}}},
		{name: "true schema equals an empty one", old: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": true`), new: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": {"description": "anything"}`)},
		{name: "unmodelled keyword removed", old: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "not": {"const": "x"}`), new: base,
			want: []want{{KeywordChanged, "/properties/note/not", `keyword "not" removed`}}},
		{name: "enum no longer a list", old: base, new: edit(t, base, `"enum": ["open", "closed"]`, `"enum": "open"`),
			want: []want{{KeywordChanged, "/properties/status/enum", `enum changed from ["open","closed"] to "open"`}}},
		{name: "map closed", old: lines, new: edit(t, lines, `"additionalProperties": {"type": "string"}`, `"additionalProperties": false`),
			want: []want{{AdditionalPropsClosed, "/properties/attrs/additionalProperties", `field "attrs": additionalProperties closed`}}},
		{name: "map property removed", old: edit(t, lines, `"additionalProperties": {"type": "string"}`, `"additionalProperties": {"type": "string"}, "properties": {"size": {"type": "integer"}}`), new: lines,
			want: []want{{TypeChanged, "/properties/attrs/additionalProperties/type", `field "attrs.size": type changed from "integer" to "string"`}}},
		{name: "required-only name becomes a property", old: edit(t, openBase, `"required": ["id", "qty"]`, `"required": ["id", "qty", "extra"]`),
			new:  edit(t, openBase, `"note": {`, `"extra": {"type": "boolean"}, "note": {`, `"required": ["id", "qty"]`, `"required": ["id", "qty", "extra"]`),
			want: []want{{TypeChanged, "/properties/extra/type", `field "extra": type narrowed from no type (any value) to "boolean"`}}},
		{name: "required name without a property added", old: openBase, new: edit(t, openBase, `"required": ["id", "qty"]`, `"required": ["id", "qty", "extra"]`),
			want: []want{{PropertyAdded, "/required/2", `required property "extra" added`}}},
		{name: "ambiguous renames are removals and additions", old: edit(t, base, `"note": {"type": "string", "maxLength": 100},`, `"a": {"type": "boolean"}, "b": {"type": "boolean"},`),
			new: edit(t, base, `"note": {"type": "string", "maxLength": 100},`, `"c": {"type": "boolean"}, "d": {"type": "boolean"},`),
			want: []want{
				{PropertyRemoved, "/properties/a", `optional property "a" removed`},
				{PropertyRemoved, "/properties/b", `optional property "b" removed`},
				{PropertyAdded, "/properties/c", `optional property "c" added`},
				{PropertyAdded, "/properties/d", `optional property "d" added`},
			}},
		{name: "integer exclusiveMinimum rewritten as minimum", old: edit(t, base, `"minimum": 1`, `"exclusiveMinimum": 0`), new: base},
		{name: "number minimum made exclusive", old: edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "number", "minimum": 0}`),
			new:  edit(t, base, `"qty": {"type": "integer", "minimum": 1}`, `"qty": {"type": "number", "exclusiveMinimum": 0}`),
			want: []want{{"minimum-raised", "/properties/qty/exclusiveMinimum", `lower bound raised from minimum 0 to exclusiveMinimum 0`}}},
		{name: "maxLength lowered", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 50`),
			want: []want{{"maxLength-lowered", "/properties/note/maxLength", `maxLength lowered from 100 to 50: retained old events can fail new readers`}}},
		{name: "maxLength raised", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 200`),
			want: []want{{"maxLength-raised", "/properties/note/maxLength", `maxLength raised from 100 to 200: new events can fail old readers`}}},
		{name: "maxLength removed", old: base, new: edit(t, base, `, "maxLength": 100`, ``),
			want: []want{{"maxLength-removed", "/properties/note/maxLength", `maxLength 100 removed`}}},
		{name: "minLength added", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "minLength": 1`),
			want: []want{{"minLength-added", "/properties/note/minLength", `minLength 1 added`}}},
		{name: "minLength 0 added is no change", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "minLength": 0`)},
		{name: "minLength lowered and removed", old: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "minLength": 2`, `"format": "uuid"`, `"format": "uuid", "minLength": 36`),
			new: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "minLength": 1`),
			want: []want{
				{"minLength-removed", "/properties/id/minLength", `minLength 36 removed: new events can fail old readers`},
				{"minLength-lowered", "/properties/note/minLength", `minLength lowered from 2 to 1`},
			}},
		{name: "array limits and items", old: lines, new: edit(t, lines, `"minItems": 1, "maxItems": 50`, `"minItems": 2`, `"sku": {"type": "string"}`, `"sku": {"type": "integer"}`),
			want: []want{
				{TypeChanged, "/properties/lines/items/properties/sku/type", `field "lines[].sku": type changed`},
				{"maxItems-removed", "/properties/lines/maxItems", `field "lines": maxItems 50 removed`},
				{"minItems-raised", "/properties/lines/minItems", `minItems raised from 1 to 2`},
			}},
		{name: "uniqueItems turned on", old: lines, new: edit(t, lines, `"minItems": 1,`, `"minItems": 1, "uniqueItems": true,`),
			want: []want{{UniqueItemsAdded, "/properties/lines/uniqueItems", `uniqueItems turned on`}}},
		{name: "uniqueItems turned off", old: edit(t, lines, `"minItems": 1,`, `"minItems": 1, "uniqueItems": true,`), new: lines,
			want: []want{{UniqueItemsRemoved, "/properties/lines/uniqueItems", `uniqueItems turned off`}}},
		{name: "map values changed", old: lines, new: edit(t, lines, `"additionalProperties": {"type": "string"}`, `"additionalProperties": {"type": "string", "maxLength": 10}`),
			want: []want{{"maxLength-added", "/properties/attrs/additionalProperties/maxLength", `field "attrs.*": maxLength 10 added`}}},
		{name: "map key added as a property", old: lines, new: edit(t, lines, `"additionalProperties": {"type": "string"}`, `"additionalProperties": {"type": "string"}, "properties": {"size": {"type": "integer"}}`),
			want: []want{{TypeChanged, "/properties/attrs/properties/size/type", `field "attrs.size": type changed from "string" to "integer"`}}},
		{name: "pattern changed", old: edit(t, base, `"maxLength": 100`, `"pattern": "^[a-z]+$"`), new: edit(t, base, `"maxLength": 100`, `"pattern": "^[a-z0-9]+$"`),
			want: []want{{PatternChanged, "/properties/note/pattern", `pattern changed from "^[a-z]+$" to "^[a-z0-9]+$"`}}},
		{name: "pattern removed", old: edit(t, base, `"maxLength": 100`, `"pattern": "^[a-z]+$"`), new: edit(t, base, `, "maxLength": 100`, ``),
			want: []want{{PatternRemoved, "/properties/note/pattern", `pattern "^[a-z]+$" removed`}}},
		{name: "format added", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "format": "email"`),
			want: []want{{FormatAdded, "/properties/note/format", `format "email" added`}}},
		{name: "format changed", old: base, new: edit(t, base, `"format": "uuid"`, `"format": "uri"`),
			want: []want{{FormatChanged, "/properties/id/format", `format changed from "uuid" to "uri"`}}},
		{name: "format removed", old: base, new: edit(t, base, `, "format": "uuid"`, ``),
			want: []want{{FormatRemoved, "/properties/id/format", `format "uuid" removed`}}},
		{name: "multipleOf added", old: base, new: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 5`),
			want: []want{{MultipleOfChanged, "/properties/qty/multipleOf", `multipleOf 5 added: retained old events can fail new readers`}}},
		{name: "multipleOf 1 on an integer is no change", old: base, new: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 1`)},
		{name: "multipleOf made finer", old: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 10`), new: edit(t, base, `"minimum": 1`, `"minimum": 1, "multipleOf": 5`),
			want: []want{{MultipleOfChanged, "/properties/qty/multipleOf", `multipleOf changed from 10 to 5: new events can fail old readers`}}},
		{name: "additionalProperties closed", old: openBase, new: base,
			want: []want{{AdditionalPropsClosed, "/additionalProperties", `shop.order.placed: additionalProperties closed (false): retained old events that carry undeclared properties fail new readers`}}},
		{name: "additionalProperties opened", old: base, new: openBase,
			want: []want{{AdditionalPropsOpened, "/additionalProperties", `additionalProperties opened (was false)`}}},
		{name: "schema made false", old: base, new: edit(t, base, `"note": {"type": "string", "maxLength": 100}`, `"note": false`),
			want: []want{{SchemaChanged, "/properties/note", `schema changed to false`}}},
		{name: "unmodelled keyword changed", old: edit(t, base, `"maxLength": 100`, `"oneOf": [{"minLength": 1}]`), new: edit(t, base, `"maxLength": 100`, `"oneOf": [{"minLength": 2}]`),
			want: []want{{KeywordChanged, "/properties/note/oneOf", `keyword "oneOf" changed: eventgen cannot tell`}}},
		{name: "unmodelled keyword added", old: base, new: edit(t, base, `"maxLength": 100`, `"maxLength": 100, "not": {"const": "x"}`),
			want: []want{{KeywordChanged, "/properties/note/not", `keyword "not" added`}}},
		{name: "shared definition changed behind a $ref", old: withQuantity, new: withQuantity,
			oldFiles: map[string]string{"schemas/common/quantity.json": quantity},
			newFiles: map[string]string{"schemas/common/quantity.json": edit(t, quantity, `"minimum": 0`, `"minimum": 0, "maximum": 1e6`)},
			want:     []want{{"maximum-added", "/properties/value/maximum", `field "quantity.value": maximum 1e6 added`}}},
		{name: "definition moved inline is no change", old: withQuantity,
			new: edit(t, base, `"note": {"type": "string", "maxLength": 100},`,
				`"note": {"type": "string", "maxLength": 100}, "quantity": {"type": "object", "additionalProperties": false, "required": ["value"], "properties": {"value": {"type": "number", "minimum": 0}}},`),
			oldFiles: map[string]string{"schemas/common/quantity.json": quantity}},
		{name: "$ref moved to another definition", old: withQuantity, new: edit(t, withQuantity, `"../common/quantity.json"`, `"../common/amount.json#/$defs/amount"`),
			oldFiles: map[string]string{"schemas/common/quantity.json": quantity},
			newFiles: map[string]string{"schemas/common/amount.json": `{"$defs": {"amount": ` + edit(t, quantity, `"required": ["value"]`, `"required": []`) + `}}`},
			want:     []want{{PropertyNowOptional, "/$defs/amount/required", `property "value" is no longer required (through $ref "../common/amount.json#/$defs/amount", was $ref "../common/quantity.json")`}}},
		{name: "local $defs edited but unused", old: edit(t, base, `"title"`, `"$defs": {"x": {"type": "string"}}, "title"`), new: edit(t, base, `"title"`, `"$defs": {"x": {"type": "integer"}}, "title"`)},
		{name: "recursive schema unchanged", old: `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`,
			new: `{"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}}`},
		{name: "recursive schema changed", old: `{"type": "object", "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}}}`,
			new:  `{"type": "object", "properties": {"name": {"type": "string", "minLength": 1}, "children": {"type": "array", "items": {"$ref": "#"}}}}`,
			want: []want{{"minLength-added", "/properties/name/minLength", `field "name": minLength 1 added`}}},
	}
	require.GreaterOrEqual(t, len(tests), 30)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldFiles := map[string]string{payload: tt.old}
			for p, s := range tt.oldFiles {
				oldFiles[p] = s
			}
			newFiles := map[string]string{payload: tt.new}
			for p, s := range tt.newFiles {
				newFiles[p] = s
			}
			for p, s := range tt.oldFiles {
				if _, ok := newFiles[p]; !ok {
					newFiles[p] = s
				}
			}
			old := catalogOf(t, []catalog.Event{event(1)}, oldFiles)
			cur := catalogOf(t, []catalog.Event{event(1)}, newFiles)
			got, err := Compare(old, cur)
			require.NoError(t, err)
			var gotWant []want
			for _, f := range got {
				gotWant = append(gotWant, want{f.Change, f.PointerText(), f.String()})
			}
			require.Len(t, gotWant, len(tt.want), "findings: %v", got)
			for i, w := range tt.want {
				assert.Equal(t, w.change, gotWant[i].change)
				assert.Equal(t, w.pointer, gotWant[i].pointer)
				assert.Contains(t, gotWant[i].text, w.text)
				assert.Contains(t, gotWant[i].text, "; affects consumers billing, shipping")
			}
		})
	}
}

// TestFindingPosition checks the path:line of findings: the new file's
// keyword, the new file's properties when a property is gone, and a line
// of a shared file reached through $ref.
func TestFindingPosition(t *testing.T) {
	quantity := "{\n  \"type\": \"object\",\n  \"properties\": {\n    \"value\": {\n      \"type\": \"number\",\n      \"minimum\": 0\n    }\n  }\n}"
	files := func(q string) map[string]string {
		return map[string]string{payload: base, "schemas/common/quantity.json": q}
	}
	oldPayload := edit(t, base, `"note": {"type": "string", "maxLength": 100},`, `"note": {"type": "string", "maxLength": 100}, "q": {"$ref": "../common/quantity.json"},`)
	old := catalogOf(t, []catalog.Event{event(1)}, files(quantity))
	old.Schemas[payload] = schemaFile(t, payload, oldPayload)
	cur := catalogOf(t, []catalog.Event{event(1)}, files(edit(t, quantity, `"minimum": 0`, `"minimum": 5`)))
	cur.Schemas[payload] = schemaFile(t, payload, edit(t, oldPayload, `"maxLength": 100`, `"maxLength": 99`))

	got, err := Compare(old, cur)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "schemas/common/quantity.json:6: /properties/value/minimum: shop.order.placed: field \"q.value\": minimum raised from 0 to 5: retained old events can fail new readers; affects consumers billing, shipping", got[0].String())
	assert.Equal(t, "schemas/orders/order_placed.json:10: /properties/note/maxLength: shop.order.placed: field \"note\": maxLength lowered from 100 to 99: retained old events can fail new readers; affects consumers billing, shipping", got[1].String())

	// A removed property points at the new file's properties keyword.
	cur.Schemas[payload] = schemaFile(t, payload, edit(t, oldPayload, `"note": {"type": "string", "maxLength": 100},`, ``))
	cur.Schemas["schemas/common/quantity.json"] = schemaFile(t, "schemas/common/quantity.json", quantity)
	got, err = Compare(old, cur)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, catalog.Pos{File: payload, Line: 7}, got[0].Pos)
	assert.Equal(t, "/properties/note", got[0].Pointer)
}

func TestCompareEvents(t *testing.T) {
	schema := `{"type": "object", "properties": {"id": {"type": "string"}}}`
	other := `{"type": "object", "properties": {"n": {"type": "integer"}}}`
	ev := func(subject, publisher, schema string, version int, consumers ...string) catalog.Event {
		return catalog.Event{Subject: subject, Version: version, Publisher: publisher, Consumers: consumers, Schema: schema,
			Pos: catalog.Pos{File: "catalog/" + publisher + ".yaml", Line: 4}}
	}
	files := map[string]string{"schemas/a.json": schema, "schemas/b.json": other, "schemas/c.json": schema}
	old := catalogOf(t, []catalog.Event{
		ev("shop.a.done", "orders", "schemas/a.json", 1, "billing"),
		ev("shop.b.done", "orders", "schemas/b.json", 2, "billing", "shipping"),
		ev("shop.c.done", "orders", "schemas/c.json", 1, "shipping"),
		ev("shop.d.done", "orders", "schemas/a.json", 1),
	}, files)

	t.Run("compatible", func(t *testing.T) {
		cur := catalogOf(t, []catalog.Event{
			ev("shop.a.done", "orders", "schemas/a.json", 1, "billing", "shipping"), // consumer added
			ev("shop.b.done", "orders", "schemas/b.json", 2, "billing"),             // consumer removed
			ev("shop.c.done", "orders", "schemas/c.json", 1, "shipping"),
			ev("shop.d.done", "orders", "schemas/a.json", 1),
			ev("shop.e.done", "billing", "schemas/b.json", 1, "orders"), // a new event
		}, files)
		got, err := Compare(old, cur)
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("breaking", func(t *testing.T) {
		cur := catalogOf(t, []catalog.Event{
			ev("shop.a.done", "billing", "schemas/a.json", 1, "shipping"), // publisher changed
			ev("shop.b.done", "orders", "schemas/b.json", 1, "billing"),   // version lowered
			ev("shop.c.finished", "orders", "schemas/c.json", 1, "shipping"),
			// shop.d.done removed
		}, files)
		got, err := Compare(old, cur)
		require.NoError(t, err)
		var lines []string
		for _, f := range got {
			lines = append(lines, f.String())
		}
		assert.Equal(t, []string{
			`catalog/billing.yaml:4: /publisher: shop.a.done: publisher changed from "orders" to "billing": consumers expect events from "orders", whose publisher facade loses the event; affects consumers shipping`,
			`catalog/orders.yaml:4: /: shop.d.done: event removed from the catalog: its consumers no longer receive it and their generated handlers disappear; no consumer is declared, but any reader of the subject is affected`,
			`catalog/orders.yaml:4: /subject: shop.c.done: subject changed from "shop.c.done" to "shop.c.finished": consumers subscribed to the old subject no longer receive the event; affects consumers shipping`,
			`catalog/orders.yaml:4: /version: shop.b.done: version lowered from 2 to 1: readers that dispatch on the version see an older schema's number for newer events; affects consumers billing`,
		}, lines)
		for _, f := range got {
			assert.Equal(t, f.Change == EventRemoved, f.InOld, f.String())
		}
	})
}

func TestCompareStream(t *testing.T) {
	files := map[string]string{"schemas/a.json": `{"type": "object"}`}
	events := []catalog.Event{
		{Subject: "shop.a.done", Version: 1, Publisher: "orders", Consumers: []string{"shipping", "billing"}, Schema: "schemas/a.json"},
		{Subject: "shop.b.done", Version: 1, Publisher: "billing", Consumers: []string{"orders"}, Schema: "schemas/a.json"},
	}
	stream := catalog.Stream{Name: "SHOP", Subjects: []string{"shop.>"}, Duplicates: 2 * time.Minute, MaxAge: 720 * time.Hour,
		Replicas: 1, DeadLetterStream: "SHOP_DEAD_LETTERS", DeadLetterPrefix: "deadletter", Pos: catalog.Pos{File: "catalog/platform.yaml", Line: 5}}
	with := func(edit func(*catalog.Stream)) *catalog.Catalog {
		c := catalogOf(t, events, files)
		c.Stream = stream
		edit(&c.Stream)
		return c
	}
	old := with(func(*catalog.Stream) {})

	t.Run("compatible", func(t *testing.T) {
		got, err := Compare(old, with(func(s *catalog.Stream) {
			s.Subjects = append(s.Subjects, "more.>")
			s.MaxAge, s.Duplicates, s.Replicas = 0, 5*time.Minute, 3 // unlimited age, a longer window
		}))
		require.NoError(t, err)
		assert.Empty(t, got)
	})

	t.Run("breaking", func(t *testing.T) {
		got, err := Compare(old, with(func(s *catalog.Stream) {
			s.Name, s.MaxAge, s.Duplicates, s.DeadLetterPrefix = "SHOP2", 24*time.Hour, 30*time.Second, "dlq"
		}))
		require.NoError(t, err)
		var lines []string
		for _, f := range got {
			lines = append(lines, f.String())
		}
		assert.Equal(t, []string{
			`catalog/platform.yaml:5: /stream/dead_letter: stream SHOP2: dead letters moved from deadletter.* in "SHOP_DEAD_LETTERS" to dlq.* in "SHOP_DEAD_LETTERS": dead letters already stored stay where replay no longer looks, and the services' permissions name the old subjects; affects consumers billing, orders, shipping`,
			`catalog/platform.yaml:5: /stream/duplicates: stream SHOP2: duplicates window lowered from 2m0s to 30s: a publisher's retry after a shorter outage or restart is stored twice (the window must cover 2·T + B + M + R, see the README); affects consumers billing, orders, shipping`,
			`catalog/platform.yaml:5: /stream/max_age: stream SHOP2: max_age lowered from 720h0m0s to 24h0m0s: events are kept for less time: a consumer down or behind for longer loses events it has not read; affects consumers billing, orders, shipping`,
			`catalog/platform.yaml:5: /stream/name: stream SHOP2: stream renamed from "SHOP" to "SHOP2": the retained events and the consumers' durables stay in the old stream; the new one starts empty, so what consumers had not read yet is not delivered; affects consumers billing, orders, shipping`,
		}, lines)

		// Only the allow-list accepts them.
		allow := []Allow{{Subject: "stream SHOP2", Pointer: "/stream/max_age", Change: MaxAgeLowered, Reason: "r", Pos: catalog.Pos{File: "a.yaml", Line: 1}}}
		r, err := Check(old, with(func(s *catalog.Stream) { s.MaxAge = time.Hour; s.Name = "SHOP2" }), Options{Allow: allow})
		require.NoError(t, err)
		require.Len(t, r.Accepted, 1)
		assert.Equal(t, MaxAgeLowered, r.Accepted[0].Change)
		require.Len(t, r.Breaking, 1)
		assert.Equal(t, StreamRenamed, r.Breaking[0].Change)

		got, err = Compare(with(func(s *catalog.Stream) { s.MaxAge = 0 }), old)
		require.NoError(t, err)
		require.Len(t, got, 1)
		assert.Equal(t, "max_age lowered from unlimited to 720h0m0s", got[0].What)
	})
}

func TestCompareErrors(t *testing.T) {
	good := `{"type": "object", "properties": {"a": {"$ref": "#/$defs/a"}}, "$defs": {"a": {"type": "string"}}}`
	for name, bad := range map[string]string{
		"missing pointer":  `{"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}}`,
		"missing file":     `{"type": "object", "properties": {"a": {"$ref": "other.json"}}}`,
		"anchor":           `{"type": "object", "properties": {"a": {"$ref": "#anchor"}}}`,
		"not a schema":     `{"type": "object", "properties": {"a": 12}}`,
		"$ref cycle":       `{"type": "object", "properties": {"a": {"$ref": "#/$defs/b"}}, "$defs": {"b": {"$ref": "#/$defs/b"}}}`,
		"invalid ref":      `{"type": "object", "properties": {"a": {"$ref": "%zz"}}}`,
		"pointer in array": `{"type": "object", "properties": {"a": {"$ref": "#/$defs/list/5"}}, "$defs": {"list": [{}]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			old := catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: good})
			cur := catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: bad})
			_, err := Compare(old, cur)
			require.Error(t, err)
			assert.Contains(t, err.Error(), payload)
		})
	}
	t.Run("schema not loaded", func(t *testing.T) {
		old := catalogOf(t, []catalog.Event{event(1)}, map[string]string{payload: good})
		cur := catalogOf(t, []catalog.Event{event(1)}, nil)
		_, err := Compare(old, cur)
		require.ErrorContains(t, err, "was not loaded")
		_, err = Check(old, cur, Options{})
		require.Error(t, err)
	})
}

// TestRefResolution covers $id bases and refs into arrays.
func TestRefResolution(t *testing.T) {
	oldFiles := map[string]string{
		payload:                    `{"$id": "https://giia.example/orders/placed.json", "type": "object", "properties": {"u": {"$ref": "../common/unit.json"}, "v": {"$ref": "#/$defs/list/0"}}, "$defs": {"list": [{"type": "string"}]}}`,
		"schemas/common/unit.json": `{"$id": "https://giia.example/common/unit.json", "enum": ["EA", "KG"]}`,
	}
	newFiles := map[string]string{
		payload:                    oldFiles[payload],
		"schemas/common/unit.json": `{"$id": "https://giia.example/common/unit.json", "enum": ["EA"]}`,
	}
	got, err := Compare(catalogOf(t, []catalog.Event{event(1)}, oldFiles), catalogOf(t, []catalog.Event{event(1)}, newFiles))
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, EnumValueRemoved, got[0].Change)
	assert.Equal(t, "schemas/common/unit.json", got[0].Pos.File)
}

func TestChanges(t *testing.T) {
	cs := Changes()
	assert.Contains(t, cs, PropertyRemoved)
	assert.Contains(t, cs, Change("maxLength-lowered"))
	assert.IsIncreasing(t, cs)
}
