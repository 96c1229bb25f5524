package model_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/model"
)

const thingPath = "schemas/execution/thing.json"

// newCatalog returns a catalog of the services execution, ddmrp and
// analytics (external) with the given schema files and events; an event
// without a publisher gets execution, without a schema thingPath.
func newCatalog(t *testing.T, schemas map[string]string, events ...catalog.Event) *catalog.Catalog {
	t.Helper()
	cat := &catalog.Catalog{
		Dir:   "catalog",
		Files: []string{"catalog/events.yaml"},
		Stream: catalog.Stream{
			Name: "GIIA", Subjects: []string{"execution.>"}, Duplicates: 2 * time.Minute,
			MaxAge: 720 * time.Hour, Replicas: 1, DeadLetterStream: "GIIA_DEAD_LETTERS", DeadLetterPrefix: "deadletter",
		},
		Services: []catalog.Service{
			{Name: "analytics", External: true, Pos: catalog.Pos{File: "catalog/events.yaml", Line: 3, Col: 3}},
			{Name: "ddmrp", Owner: "planning", Pos: catalog.Pos{File: "catalog/events.yaml", Line: 4, Col: 3}},
			{Name: "execution", Description: "Orders.", Pos: catalog.Pos{File: "catalog/events.yaml", Line: 5, Col: 3}},
		},
		Schemas: map[string]*catalog.SchemaFile{},
	}
	for p, src := range schemas {
		var n yaml.Node
		require.NoError(t, yaml.Unmarshal([]byte(src), &n), p)
		cat.Schemas[p] = &catalog.SchemaFile{Path: p, Raw: []byte(src), Node: &n}
	}
	for i, e := range events {
		if e.Publisher == "" {
			e.Publisher = "execution"
		}
		if e.Schema == "" {
			e.Schema = thingPath
		}
		if e.Version == 0 {
			e.Version = 1
		}
		if e.Pos.File == "" {
			e.Pos = catalog.Pos{File: "catalog/events.yaml", Line: 10 + 10*i, Col: 5}
		}
		e.SchemaPos = catalog.Pos{File: e.Pos.File, Line: e.Pos.Line + 1, Col: 13}
		cat.Events = append(cat.Events, e)
	}
	return cat
}

var opts = model.Options{Package: "events", SDKImport: "github.com/giia/events/sdk"}

// build resolves one event, execution.thing.created, whose schema is
// thingPath with the given text, plus the other schema files.
func build(t *testing.T, schema string, others map[string]string) (*model.Model, error) {
	t.Helper()
	files := map[string]string{thingPath: schema}
	for p, s := range others {
		files[p] = s
	}
	cat := newCatalog(t, files, catalog.Event{Subject: "execution.thing.created", Consumers: []string{"ddmrp"}})
	return model.Build(cat, opts)
}

// posOf returns the 1-based line and column of the first occurrence of
// needle in text.
func posOf(t *testing.T, text, needle string) string {
	t.Helper()
	i := strings.Index(text, needle)
	require.GreaterOrEqual(t, i, 0, "%q not in text", needle)
	line := strings.Count(text[:i], "\n") + 1
	col := i - strings.LastIndex(text[:i], "\n")
	return fmt.Sprintf("%d:%d", line, col)
}

func typeNamed(m *model.Model, name string) *model.Type {
	for _, t := range m.Types {
		if t.Name == name {
			return t
		}
	}
	return nil
}

func TestFieldTypes(t *testing.T) {
	common := map[string]string{
		"schemas/common/quantity.json": `{"type": "object", "required": ["value"], "properties": {"value": {"type": "number"}}}`,
		"schemas/common/defs.json": `{"$defs": {
			"location_id": {"type": "string", "format": "uuid"},
			"product_ref": {"type": "object", "properties": {"sku": {"type": "string"}}},
			"zone": {"enum": ["red", "green"]}}}`,
	}
	tests := []struct {
		name     string
		schema   string // the property's schema
		required bool
		want     string // Go type
		wantTag  string
	}{
		{"string", `{"type": "string"}`, true, "string", `x`},
		{"optional string", `{"type": "string"}`, false, "*string", `x,omitempty`},
		{"integer", `{"type": "integer", "minimum": 1}`, true, "int64", `x`},
		{"number", `{"type": "number", "multipleOf": 0.5}`, true, "float64", `x`},
		{"boolean", `{"type": "boolean"}`, true, "bool", `x`},
		{"optional boolean", `{"type": "boolean"}`, false, "*bool", `x,omitempty`},
		{"date-time", `{"type": "string", "format": "date-time"}`, true, "time.Time", `x`},
		{"date", `{"type": "string", "format": "date"}`, true, "payload.Date", `x`},
		{"uuid", `{"type": "string", "format": "uuid"}`, true, "uuid.UUID", `x`},
		{"optional uuid", `{"type": "string", "format": "uuid"}`, false, "*uuid.UUID", `x,omitempty`},
		{"email", `{"type": "string", "format": "email"}`, true, "string", `x`},
		{"uri", `{"type": "string", "format": "uri", "maxLength": 200}`, true, "string", `x`},
		{"pattern", `{"type": "string", "pattern": "^[A-Z]+$", "minLength": 1}`, true, "string", `x`},
		{"const", `{"type": "string", "const": "v1"}`, true, "string", `x`},
		{"nullable required", `{"type": ["string", "null"]}`, true, "*string", `x`},
		{"nullable optional", `{"type": ["string", "null"]}`, false, "*string", `x,omitempty`},
		{"null first", `{"type": ["null", "integer"]}`, true, "*int64", `x`},
		{"nullable uuid", `{"type": ["string", "null"], "format": "uuid"}`, true, "*uuid.UUID", `x`},
		{"array", `{"type": "array", "items": {"type": "string"}, "minItems": 1, "uniqueItems": true}`, true, "[]string", `x`},
		{"optional array", `{"type": "array", "items": {"type": "integer"}}`, false, "[]int64", `x,omitempty`},
		{"nullable array", `{"type": ["array", "null"], "items": {"type": "integer"}}`, true, "[]int64", `x`},
		{"array of nullable", `{"type": "array", "items": {"type": ["number", "null"]}}`, true, "[]*float64", `x`},
		{"array without items", `{"type": "array", "maxItems": 3}`, true, "[]any", `x`},
		{"array of objects", `{"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}}`, true, "[]ThingCreatedX", `x`},
		{"map", `{"type": "object", "additionalProperties": {"type": "integer"}, "maxProperties": 5}`, true, "map[string]int64", `x`},
		{"optional map", `{"type": "object", "additionalProperties": {"type": "integer"}}`, false, "map[string]int64", `x,omitempty`},
		{"map of objects", `{"type": "object", "additionalProperties": {"type": "object", "properties": {"a": {"type": "string"}}}}`, true, "map[string]ThingCreatedXValue", `x`},
		{"free object", `{"type": "object"}`, true, "map[string]any", `x`},
		{"free object true", `{"type": "object", "additionalProperties": true, "minProperties": 1}`, true, "map[string]any", `x`},
		{"empty object", `{"type": "object", "additionalProperties": false}`, true, "ThingCreatedX", `x`},
		{"nested object", `{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}`, true, "ThingCreatedX", `x`},
		{"optional nested object", `{"type": "object", "properties": {"a": {"type": "string"}}}`, false, "*ThingCreatedX", `x,omitempty`},
		{"nullable object", `{"type": ["object", "null"], "properties": {"a": {"type": "string"}}}`, true, "*ThingCreatedX", `x`},
		{"object", `{"type": "object", "properties": {"a": {"type": "string"}}}`, true, "ThingCreatedX", `x`},
		{"array", `{"type": "array", "items": {"type": "string"}}`, true, "[]string", `x`},
		// Without "type" these accept every other kind of value too.
		{"properties without type", `{"properties": {"a": {"type": "string"}}}`, true, "any", `x`},
		{"items without type", `{"items": {"type": "string"}}`, true, "any", `x`},
		{"enum", `{"type": "string", "enum": ["a", "b"]}`, true, "ThingCreatedX", `x`},
		{"enum without type", `{"enum": ["a", "b"]}`, true, "ThingCreatedX", `x`},
		{"nullable enum", `{"type": ["string", "null"], "enum": ["a", "b", null]}`, true, "*ThingCreatedX", `x`},
		{"optional enum", `{"type": "string", "enum": ["a"]}`, false, "*ThingCreatedX", `x,omitempty`},
		{"true", `true`, true, "any", `x`},
		{"optional true", `true`, false, "any", `x,omitempty`},
		{"empty schema", `{"description": "anything"}`, true, "any", `x`},
		{"untyped constraint", `{"minLength": 2}`, true, "any", `x`},
		{"ref to object def", `{"$ref": "../common/defs.json#/$defs/product_ref"}`, true, "ProductRef", `x`},
		{"ref to uuid def", `{"$ref": "../common/defs.json#/$defs/location_id", "description": "Where."}`, true, "uuid.UUID", `x`},
		{"optional ref to uuid def", `{"$ref": "../common/defs.json#/$defs/location_id"}`, false, "*uuid.UUID", `x,omitempty`},
		{"ref to enum def", `{"$ref": "../common/defs.json#/$defs/zone"}`, true, "Zone", `x`},
		{"ref to file", `{"$ref": "../common/quantity.json"}`, true, "Quantity", `x`},
		{"absolute ref to file", `{"$ref": "/schemas/common/quantity.json"}`, true, "Quantity", `x`},
		{"ref to local def", `{"$ref": "#/$defs/local"}`, true, "Local", `x`},
		{"array of refs", `{"type": "array", "items": {"$ref": "../common/quantity.json"}}`, true, "[]Quantity", `x`},
		{"annotations", `{"type": "string", "title": "X", "$comment": "c", "examples": ["a"], "default": "a", "deprecated": true, "readOnly": false, "writeOnly": false}`, true, "string", `x`},
		{"number bounds", `{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1, "maximum": 1}`, true, "float64", `x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := ""
			if tt.required {
				req = `"required": ["x"],`
			}
			schema := `{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", ` + req + `
				"properties": {"x": ` + tt.schema + `},
				"$defs": {"local": {"type": "object", "properties": {"b": {"type": "integer"}}}}}`
			m, err := build(t, schema, common)
			require.NoError(t, err)
			p := typeNamed(m, "ThingCreated")
			require.NotNil(t, p)
			require.Len(t, p.Fields, 1)
			f := p.Fields[0]
			assert.Equal(t, "X", f.Name)
			assert.Equal(t, "x", f.JSONName)
			assert.Equal(t, tt.want, f.Type.String())
			tag := f.JSONName
			if !f.Required {
				tag += ",omitempty"
			}
			assert.Equal(t, tt.wantTag, tag)
		})
	}
}

func TestPayloadAndNestedTypes(t *testing.T) {
	schema := `{
  "type": "object",
  "description": "A thing was created.\nSecond line.",
  "additionalProperties": false,
  "required": ["thing_id", "lines", "status"],
  "properties": {
    "thing_id": {"type": "string", "format": "uuid", "description": "The thing's id."},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
    "status": {"type": "string", "enum": ["draft", "in-progress", "cycle_count"]},
    "categories": {"type": "array", "items": {"enum": ["a"]}}
  }
}`
	m, err := build(t, schema, nil)
	require.NoError(t, err)

	require.Len(t, m.Events, 1)
	ev := m.Events[0]
	assert.Equal(t, "SubjectExecutionThingCreated", ev.Const)
	assert.Equal(t, "ParseThingCreated", ev.Parse)
	assert.Equal(t, "schemaThingCreated", ev.SchemaVar)
	assert.Equal(t, "ThingCreated", ev.Payload.Name)
	assert.Same(t, ev, ev.Payload.Event)
	assert.Equal(t, []string{"A thing was created.", "Second line."}, ev.Payload.Doc)

	var names []string
	for _, f := range ev.Payload.Fields {
		names = append(names, f.Name+" "+f.Type.String())
	}
	assert.Equal(t, []string{
		"ThingID uuid.UUID",
		"Lines []ThingCreatedLine",
		"Status ThingCreatedStatus",
		"Categories []ThingCreatedCategory",
	}, names, "fields in schema order")
	assert.Equal(t, []string{"The thing's id."}, ev.Payload.Fields[0].Doc)

	status := typeNamed(m, "ThingCreatedStatus")
	require.NotNil(t, status)
	assert.Equal(t, model.Enum, status.Kind)
	assert.Equal(t, "/properties/status", status.Pointer)
	var values []string
	for _, v := range status.Values {
		values = append(values, v.Name+"="+v.Value)
	}
	assert.Equal(t, []string{
		"ThingCreatedStatusDraft=draft",
		"ThingCreatedStatusInProgress=in-progress",
		"ThingCreatedStatusCycleCount=cycle_count",
	}, values)

	line := typeNamed(m, "ThingCreatedLine")
	require.NotNil(t, line)
	assert.Equal(t, "/properties/lines/items", line.Pointer)
	assert.Equal(t, model.Struct, line.Kind)

	// Types are sorted by file and position.
	var order []string
	for _, ty := range m.Types {
		order = append(order, ty.Name)
	}
	assert.Equal(t, []string{"ThingCreated", "ThingCreatedLine", "ThingCreatedStatus", "ThingCreatedCategory"}, order)
}

func TestModelServicesAndStream(t *testing.T) {
	schemas := map[string]string{
		thingPath:                      `{"type": "object", "properties": {}}`,
		"schemas/ddmrp/buffer.json":    `{"type": "object"}`,
		"schemas/execution/other.json": `{"type": "object", "properties": {"a": {"type": "string"}}}`,
	}
	cat := newCatalog(t, schemas,
		catalog.Event{Subject: "execution.thing.created", Consumers: []string{"ddmrp", "analytics"}, Description: "Created."},
		catalog.Event{Subject: "ddmrp.buffer.calculated", Publisher: "ddmrp", Schema: "schemas/ddmrp/buffer.json", Consumers: []string{"execution"}},
		catalog.Event{Subject: "execution.other.done", Schema: "schemas/execution/other.json", GoName: "OtherThingDone"},
	)
	m, err := model.Build(cat, opts)
	require.NoError(t, err)
	assert.Equal(t, "events", m.Package)
	assert.Equal(t, "github.com/giia/events/sdk", m.SDKImport)
	assert.Equal(t, []string{"catalog/events.yaml"}, m.Sources)
	assert.Equal(t, "GIIA", m.Stream.Name)
	assert.Equal(t, 2*time.Minute, m.Stream.Duplicates)
	assert.Equal(t, "deadletter", m.Stream.DeadLetterPrefix)

	var subjects []string
	for _, e := range m.Events {
		subjects = append(subjects, e.Subject+" "+e.Payload.Name)
	}
	assert.Equal(t, []string{
		"ddmrp.buffer.calculated BufferCalculated",
		"execution.other.done OtherThingDone",
		"execution.thing.created ThingCreated",
	}, subjects)

	require.Len(t, m.Services, 3)
	exe := m.Services[2]
	assert.Equal(t, "execution", exe.Name)
	assert.Equal(t, "ServiceExecution", exe.Const)
	assert.Equal(t, "ExecutionPublisher", exe.Publisher)
	assert.Equal(t, "NewExecutionPublisher", exe.NewPublisher)
	assert.Equal(t, "ExecutionOutbox", exe.Outbox)
	assert.Equal(t, "NewExecutionOutbox", exe.NewOutbox)
	assert.Equal(t, "ExecutionHandlers", exe.Handlers)
	assert.Equal(t, "ConsumeExecution", exe.Consume)
	require.Len(t, exe.Publishes, 2)
	assert.Equal(t, "execution.other.done", exe.Publishes[0].Subject)
	require.Len(t, exe.Consumes, 1)
	assert.Equal(t, "ddmrp.buffer.calculated", exe.Consumes[0].Subject)

	ddmrp := m.Services[1]
	assert.Equal(t, "DDMRPPublisher", ddmrp.Publisher)
	assert.Equal(t, "ConsumeDDMRP", ddmrp.Consume)
	thing := m.Events[2]
	require.Len(t, thing.Consumers, 2)
	assert.Equal(t, "analytics", thing.Consumers[0].Name, "consumers sorted by name")

	// A payload that is a map is a defined type.
	buf := m.Events[0].Payload
	assert.Equal(t, model.Defined, buf.Kind)
	assert.Equal(t, "map[string]any", buf.Underlying.String())

	require.Len(t, m.Schemas, 3)
	assert.Equal(t, "schemas/ddmrp/buffer.json", m.Schemas[0].Path)
}

func TestSharedDefinitionsMakeOneType(t *testing.T) {
	quantity := `{"type": "object", "required": ["value", "unit"], "properties": {"value": {"type": "number"}, "unit": {"$ref": "unit.json"}}}`
	schemas := map[string]string{
		"schemas/common/quantity.json": quantity,
		"schemas/common/unit.json":     `{"type": "string", "enum": ["EA", "KG", "BOX"]}`,
		thingPath:                      `{"type": "object", "properties": {"q": {"$ref": "../common/quantity.json"}, "r": {"$ref": "../common/quantity.json#"}}}`,
		"schemas/ddmrp/other.json":     `{"type": "object", "properties": {"q": {"$ref": "../common/quantity.json"}}}`,
	}
	cat := newCatalog(t, schemas,
		catalog.Event{Subject: "execution.thing.created"},
		catalog.Event{Subject: "ddmrp.other.created", Publisher: "ddmrp", Schema: "schemas/ddmrp/other.json"},
	)
	m, err := model.Build(cat, opts)
	require.NoError(t, err)
	var names []string
	for _, ty := range m.Types {
		names = append(names, ty.File+" "+ty.Name)
	}
	assert.Equal(t, []string{
		"schemas/common/quantity.json Quantity",
		"schemas/common/unit.json Unit",
		"schemas/ddmrp/other.json OtherCreated",
		"schemas/execution/thing.json ThingCreated",
	}, names)
	unit := typeNamed(m, "Unit")
	var values []string
	for _, v := range unit.Values {
		values = append(values, v.Name)
	}
	assert.Equal(t, []string{"UnitEA", "UnitKG", "UnitBox"}, values)
	thing := typeNamed(m, "ThingCreated")
	assert.Same(t, typeNamed(m, "Quantity"), thing.Fields[0].Type.Elem.Named)
	assert.Same(t, typeNamed(m, "Quantity"), thing.Fields[1].Type.Elem.Named)
}

func TestPayloadRefAndSharedFile(t *testing.T) {
	schemas := map[string]string{
		"schemas/common/quantity.json":  `{"type": "object", "properties": {"value": {"type": "number"}}}`,
		thingPath:                       `{"type": "object", "properties": {"a": {"type": "string"}}}`,
		"schemas/execution/alias.json":  `{"$ref": "../common/quantity.json", "description": "Just a quantity."}`,
		"schemas/execution/parent.json": `{"type": "object", "properties": {"child": {"$ref": "thing.json"}}}`,
	}
	cat := newCatalog(t, schemas,
		catalog.Event{Subject: "execution.thing.created"},
		catalog.Event{Subject: "execution.thing.copied", GoName: "ThingCopy"}, // same schema file
		catalog.Event{Subject: "execution.amount.set", Schema: "schemas/execution/alias.json"},
		catalog.Event{Subject: "execution.parent.made", Schema: "schemas/execution/parent.json"},
	)
	m, err := model.Build(cat, opts)
	require.NoError(t, err)

	amount := typeNamed(m, "AmountSet")
	require.NotNil(t, amount)
	assert.Equal(t, model.Defined, amount.Kind)
	assert.Equal(t, "Quantity", amount.Underlying.String())
	assert.Equal(t, []string{"Just a quantity."}, amount.Doc)

	// The first event of a file (by subject) names its type; the second
	// gets a defined type of it.
	// execution.thing.copied comes before execution.thing.created.
	cp := typeNamed(m, "ThingCreated")
	require.NotNil(t, cp)
	assert.Equal(t, model.Defined, cp.Kind)
	assert.Equal(t, "ThingCopy", cp.Underlying.String())
	assert.NotNil(t, cp.Event)
	assert.Equal(t, model.Struct, typeNamed(m, "ThingCopy").Kind)

	// A payload file referred to from another keeps the payload's name.
	parent := typeNamed(m, "ParentMade")
	require.NotNil(t, parent)
	assert.Equal(t, "*ThingCopy", parent.Fields[0].Type.String())
	assert.Nil(t, typeNamed(m, "Thing"))
}

func TestRecursiveType(t *testing.T) {
	schema := `{"type": "object", "properties": {"root": {"$ref": "#/$defs/node"}},
		"$defs": {"node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}}}`
	m, err := build(t, schema, nil)
	require.NoError(t, err)
	node := typeNamed(m, "Node")
	require.NotNil(t, node)
	assert.Equal(t, "[]Node", node.Fields[0].Type.String())
}

func TestIDResolution(t *testing.T) {
	schemas := map[string]string{
		"schemas/common/money.json":    `{"$id": "https://giia.example/schemas/money.json", "type": "object", "properties": {"cur": {"$ref": "currency.json"}}}`,
		"schemas/common/currency.json": `{"$id": "https://giia.example/schemas/currency.json", "type": "string", "enum": ["USD"]}`,
		thingPath:                      `{"type": "object", "properties": {"price": {"$ref": "https://giia.example/schemas/money.json"}}}`,
	}
	cat := newCatalog(t, schemas, catalog.Event{Subject: "execution.thing.created"})
	m, err := model.Build(cat, opts)
	require.NoError(t, err)
	money := typeNamed(m, "Money")
	require.NotNil(t, money)
	assert.Equal(t, "*Currency", money.Fields[0].Type.String())
}

func TestGoNameOverride(t *testing.T) {
	schemas := map[string]string{
		thingPath:                  `{"type": "object"}`,
		"schemas/ddmrp/thing.json": `{"type": "object"}`,
	}
	// Without go_name, execution.thing.created and ddmrp.thing.created
	// both want ThingCreated.
	cat := newCatalog(t, schemas,
		catalog.Event{Subject: "execution.thing.created"},
		catalog.Event{Subject: "ddmrp.thing.created", Publisher: "ddmrp", Schema: "schemas/ddmrp/thing.json"},
	)
	_, err := model.Build(cat, opts)
	require.Error(t, err)
	assert.Equal(t,
		`catalog/events.yaml:10:5: Go name "ThingCreated" (the payload type of event "execution.thing.created") is already used by the payload type of event "ddmrp.thing.created" at catalog/events.yaml:20:5; set go_name on an event to rename its payload type`,
		err.Error())

	cat.Events[1].GoName = "DDMRPThingCreated"
	m, err := model.Build(cat, opts)
	require.NoError(t, err)
	assert.Equal(t, "DDMRPThingCreated", m.Events[0].Payload.Name)
	assert.Equal(t, "ParseDDMRPThingCreated", m.Events[0].Parse)
	assert.Equal(t, "ThingCreated", m.Events[1].Payload.Name)
}

// TestFacadeMethodCollisions: an event's Async twin, or Flush, must not
// collide with another method of its publisher facade.
func TestFacadeMethodCollisions(t *testing.T) {
	schemas := map[string]string{
		thingPath:                       `{"type": "object"}`,
		"schemas/execution/thing2.json": `{"type": "object"}`,
	}
	cat := newCatalog(t, schemas,
		catalog.Event{Subject: "execution.thing.created"},
		catalog.Event{Subject: "execution.thing.other", GoName: "ThingCreatedAsync", Schema: "schemas/execution/thing2.json"},
	)
	_, err := model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(),
		`event "execution.thing.other" would give ExecutionPublisher a method ThingCreatedAsync, which event "execution.thing.created" at catalog/events.yaml:10:5 makes too (give one a go_name)`)

	cat.Events[1].GoName = "Flush"
	_, err = model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `event "execution.thing.other" would give ExecutionPublisher a method Flush, which clashes with its Flush (give the event a go_name)`)
}

func TestNameCollisions(t *testing.T) {
	a := `{
  "type": "object",
  "properties": {
    "foo": {"$ref": "../common/b.json#/$defs/foo"},
    "bar": {"$ref": "#/$defs/foo"}
  },
  "$defs": {
    "foo": {"type": "object", "properties": {"x": {"type": "string"}}}
  }
}`
	b := `{
  "$defs": {
    "foo": {"type": "object", "properties": {"y": {"type": "string"}}}
  }
}`
	_, err := build(t, a, map[string]string{"schemas/common/b.json": b})
	require.Error(t, err)
	assert.Equal(t,
		"schemas/execution/thing.json:"+posOf(t, a, `{"type": "object", "properties": {"x"`)+": /$defs/foo: "+
			`Go name "Foo" (the type of /$defs/foo) is already used by the type of /$defs/foo at schemas/common/b.json:`+
			posOf(t, b, `{"type": "object"`),
		err.Error())
}

func TestFieldCollision(t *testing.T) {
	schema := `{
  "type": "object",
  "properties": {
    "order_id": {"type": "string"},
    "orderId": {"type": "string"}
  }
}`
	_, err := build(t, schema, nil)
	require.Error(t, err)
	assert.Equal(t,
		"schemas/execution/thing.json:"+posOf(t, schema, `"orderId"`)+": /properties/orderId: "+
			`Go field name "OrderID" of property "orderId" is already used by property "order_id" at schemas/execution/thing.json:`+
			posOf(t, schema, `"order_id"`),
		err.Error())
}

func TestEnumConstantCollision(t *testing.T) {
	schema := `{"type": "object", "properties": {"s": {"enum": ["in-progress", "in_progress"]}}}`
	_, err := build(t, schema, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `/properties/s/enum/1: Go name "ThingCreatedSInProgress" (the constant of enum value "in_progress" of /properties/s) is already used by the constant of enum value "in-progress" of /properties/s at schemas/execution/thing.json:1:`)
}

func TestReservedNameCollision(t *testing.T) {
	schema := `{"type": "object", "properties": {"c": {"$ref": "#/$defs/catalog"}}, "$defs": {"catalog": {"type": "object", "properties": {"x": {"type": "string"}}}}}`
	_, err := build(t, schema, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `/$defs/catalog: Go name "Catalog" (the type of /$defs/catalog) is already used by a name eventgen reserves`)
}

func TestServiceCollision(t *testing.T) {
	cat := newCatalog(t, map[string]string{thingPath: `{"type": "object"}`}, catalog.Event{Subject: "execution.thing.created"})
	cat.Services = append(cat.Services,
		catalog.Service{Name: "ai-hub", Pos: catalog.Pos{File: "catalog/events.yaml", Line: 6, Col: 3}},
		catalog.Service{Name: "ai_hub", Pos: catalog.Pos{File: "catalog/events.yaml", Line: 7, Col: 3}},
		catalog.Service{Name: "--", Pos: catalog.Pos{File: "catalog/events.yaml", Line: 8, Col: 3}},
	)
	_, err := model.Build(cat, opts)
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `catalog/events.yaml:7:3: Go name "ServiceAIHub" (service "ai_hub") is already used by service "ai-hub" at catalog/events.yaml:6:3`)
	assert.Contains(t, msg, `catalog/events.yaml:8:3: cannot make a Go name from service name "--"`)
}

func TestSchemaErrors(t *testing.T) {
	supported := strings.Join(model.Supported, ", ")
	tests := []struct {
		name   string
		schema string
		at     string // needle whose position the error has
		want   string // the error after the position
	}{
		{
			"unsupported keyword",
			`{"type": "object", "properties": {"lines": {"type": "array", "items": {"oneOf": [{"type": "string"}]}}}}`,
			`"oneOf"`,
			`/properties/lines/items/oneOf: keyword "oneOf" is not supported (supported: ` + supported + `)`,
		},
		{
			"unsupported root keyword",
			`{"type": "object", "patternProperties": {}}`,
			`"patternProperties"`,
			`/patternProperties: keyword "patternProperties" is not supported (supported: ` + supported + `)`,
		},
		{
			"format",
			`{"type": "object", "properties": {"ip": {"type": "string", "format": "ipv4"}}}`,
			`"ipv4"`,
			`/properties/ip/format: format "ipv4" is not supported (supported: date-time, date, uuid, email, uri)`,
		},
		{
			"two types",
			`{"type": "object", "properties": {"v": {"type": ["string", "integer"]}}}`,
			`["string", "integer"]`,
			`/properties/v/type: type ["string", "integer"] is not supported (want one type, or one type and "null")`,
		},
		{
			"null type",
			`{"type": "object", "properties": {"v": {"type": "null"}}}`,
			`"null"`,
			`/properties/v/type: type "null" is not supported (want one type, or one type and "null")`,
		},
		{
			"unknown type",
			`{"type": "object", "properties": {"v": {"type": "text"}}}`,
			`"text"`,
			`/properties/v/type: type "text" is not a JSON Schema type`,
		},
		{
			"integer enum",
			`{"type": "object", "properties": {"v": {"type": "string", "enum": ["a", 2]}}}`,
			`2]`,
			`/properties/v/enum/1: enum value "2" is not a string (only string enums are supported)`,
		},
		{
			"empty enum",
			`{"type": "object", "properties": {"v": {"enum": []}}}`,
			`[]`,
			`/properties/v/enum: enum must be a non-empty array of strings`,
		},
		{
			"unnamable enum value",
			`{"type": "object", "properties": {"v": {"enum": ["+"]}}}`,
			`"+"`,
			`/properties/v/enum/0: cannot make a Go constant name from enum value "+"`,
		},
		{
			"additionalProperties schema next to properties",
			`{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "string"}}`,
			`"additionalProperties"`,
			`/additionalProperties: additionalProperties as a schema next to properties is not supported (want false, true, or no properties)`,
		},
		{
			"type next to $ref",
			`{"type": "object", "properties": {"a": {"$ref": "#/$defs/x", "type": "string"}}, "$defs": {"x": {"type": "string"}}}`,
			`"type": "string"}}, "$defs"`,
			`/properties/a/type: keyword "type" next to "$ref" is not supported (move it into the referenced schema)`,
		},
		{
			"missing ref",
			`{"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}}`,
			`"#/$defs/nope"`,
			`/properties/a/$ref: cannot resolve $ref "#/$defs/nope": schemas/execution/thing.json has nothing at /$defs/nope`,
		},
		{
			"missing file",
			`{"type": "object", "properties": {"a": {"$ref": "other.json"}}}`,
			`"other.json"`,
			`/properties/a/$ref: cannot resolve $ref "other.json": no schema file schemas/execution/other.json was loaded`,
		},
		{
			"anchor",
			`{"type": "object", "properties": {"a": {"$ref": "#here"}}}`,
			`"#here"`,
			`/properties/a/$ref: cannot resolve $ref "#here": fragment "here" is not a JSON pointer (anchors are not supported)`,
		},
		{
			"ref not a string",
			`{"type": "object", "properties": {"a": {"$ref": 3}}}`,
			`3}`,
			`/properties/a/$ref: $ref must be a string`,
		},
		{
			"bad ref",
			`{"type": "object", "properties": {"a": {"$ref": "%zz"}}}`,
			`"%zz"`,
			`/properties/a/$ref: cannot resolve $ref "%zz": parse "%zz": invalid URL escape "%zz"`,
		},
		{
			"required not a property",
			`{"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "string"}}}`,
			`"b"]`,
			`/required/1: required property "b" is not among the properties`,
		},
		{
			"field Validate",
			`{"type": "object", "properties": {"validate": {"type": "string"}}}`,
			`"validate"`,
			`/properties/validate: property "validate" would be the Go field Validate, which clashes with the method Validate`,
		},
		{
			"field AppendJSON",
			`{"type": "object", "properties": {"append_json": {"type": "string"}}}`,
			`"append_json"`,
			`/properties/append_json: property "append_json" would be the Go field AppendJSON, which clashes with the method AppendJSON`,
		},
		{
			"unnamable field",
			`{"type": "object", "properties": {"1st": {"type": "string"}}}`,
			`"1st"`,
			`/properties/1st: cannot make a Go field name from property "1st"`,
		},
		{
			"false schema",
			`{"type": "object", "properties": {"never": false}}`,
			`false`,
			`/properties/never: the schema false accepts no value and has no Go type`,
		},
		{
			"schema not an object",
			`{"type": "object", "properties": {"odd": 3}}`,
			`3`,
			`/properties/odd: a schema must be an object or a boolean`,
		},
		{
			"properties not an object",
			`{"type": "object", "properties": [1]}`,
			`[1]`,
			`/properties: properties must be an object`,
		},
		{
			"nested $id",
			`{"type": "object", "properties": {"a": {"$id": "x.json", "type": "string"}}}`,
			`"$id"`,
			`/properties/a/$id: keyword "$id" is only supported at the root of a schema file`,
		},
		{
			"ref cycle",
			`{"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"$ref": "#/$defs/y"}, "y": {"$ref": "#/$defs/x"}}}`,
			`{"$ref": "#/$defs/y"}`,
			`/$defs/x: $ref cycle: the schema refers to itself without an object in between`,
		},
		{
			"nullable payload",
			`{"type": ["object", "null"], "properties": {"a": {"type": "string"}}}`,
			`{`,
			`the payload of "execution.thing.created" must not be nullable or untyped: a payload schema needs one type`,
		},
		{
			"unnamable def",
			`{"type": "object", "properties": {"a": {"$ref": "#/$defs/9x"}}, "$defs": {"9x": {"type": "object"}}}`,
			`"#/$defs/9x"`,
			`/properties/a/$ref: cannot make a Go type name from $ref "#/$defs/9x"`,
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

func TestErrorsAreSortedAndAllReported(t *testing.T) {
	schema := `{
  "type": "object",
  "properties": {
    "b": {"type": "string", "format": "ipv6"},
    "a": {"anyOf": []}
  }
}`
	_, err := build(t, schema, nil)
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], "/properties/b/format")
	assert.Contains(t, lines[1], "/properties/a/anyOf")
}

func TestEventErrors(t *testing.T) {
	cat := newCatalog(t, map[string]string{thingPath: `{"type": "object"}`},
		catalog.Event{Subject: "execution.thing.created", GoName: "thing"},
		catalog.Event{Subject: "execution.other.created", Publisher: "nobody", Consumers: []string{"ghost"}},
		catalog.Event{Subject: "execution.missing.created", Schema: "schemas/missing.json"},
	)
	_, err := model.Build(cat, model.Options{Package: "func", SDKImport: opts.SDKImport})
	require.Error(t, err)
	assert.Equal(t, strings.Join([]string{
		`package name "func" is not a Go identifier`,
		`catalog/events.yaml:10:5: cannot make a Go type name from "thing"; set go_name to an exported Go identifier`,
		`catalog/events.yaml:20:5: publisher "nobody" is not a declared service`,
		`catalog/events.yaml:20:5: consumer "ghost" is not a declared service`,
		`catalog/events.yaml:31:13: schema "schemas/missing.json" was not loaded`,
	}, "\n"), err.Error())
}

func TestGoTypeString(t *testing.T) {
	named := &model.Type{Name: "X"}
	tests := []struct {
		t    *model.GoType
		want string
	}{
		{&model.GoType{Kind: model.Named, Named: named}, "X"},
		{&model.GoType{Kind: model.Pointer, Elem: &model.GoType{Kind: model.Time}}, "*time.Time"},
		{&model.GoType{Kind: model.Map, Elem: &model.GoType{Kind: model.Date}}, "map[string]payload.Date"},
		{&model.GoType{Kind: model.Slice, Elem: &model.GoType{Kind: model.UUID}}, "[]uuid.UUID"},
		{&model.GoType{Kind: model.Kind(99)}, "GoType(99)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.t.String())
	}
}

func TestErrorFormat(t *testing.T) {
	assert.Equal(t, "a.json: m", (&model.Error{Pos: catalog.Pos{File: "a.json"}, Message: "m"}).Error())
	assert.Equal(t, "m", (&model.Error{Message: "m"}).Error())
	assert.Equal(t, "a.json:3: m", (&model.Error{Pos: catalog.Pos{File: "a.json", Line: 3}, Message: "m"}).Error())
	assert.Equal(t, "a.json:3:4: /x: m", (&model.Error{Pos: catalog.Pos{File: "a.json", Line: 3, Col: 4}, Pointer: "/x", Message: "m"}).Error())
}
