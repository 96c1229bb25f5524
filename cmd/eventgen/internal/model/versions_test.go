package model_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/model"
)

const (
	thingV1Path = "schemas/execution/thing.v1.json"
	thingV2Path = "schemas/execution/thing.v2.json"
)

// versioned returns a catalog of execution.thing.created at version 3,
// with thingPath as its schema and the older versions 1 and 2.
func versioned(t *testing.T, v1, v2, v3 string, pin int) *catalog.Catalog {
	t.Helper()
	schemas := map[string]string{
		thingPath:                     v3,
		thingV1Path:                   v1,
		thingV2Path:                   v2,
		"schemas/common/unit.json":    `{"type": "string", "enum": ["EA", "KG"]}`,
		"schemas/common/product.json": `{"$defs": {"product_ref": {"type": "object", "properties": {"sku": {"type": "string"}}}}}`,
	}
	at := func(line int) catalog.Pos { return catalog.Pos{File: "catalog/events.yaml", Line: line, Col: 9} }
	cat := newCatalog(t, schemas, catalog.Event{
		Subject:   "execution.thing.created",
		Version:   3,
		Consumers: []string{"ddmrp"},
		Versions: []catalog.EventVersion{
			{Version: 1, Schema: thingV1Path, Pos: at(13), SchemaPos: at(14)},
			{Version: 2, Schema: thingV2Path, Pos: at(15), SchemaPos: at(16)},
		},
		PublishVersion:    pin,
		PublishVersionPos: at(12),
	})
	return cat
}

const lineSchema = `{
  "type": "object",
  "required": ["lines"],
  "properties": {
    "lines": {"type": "array", "items": {"$ref": "#/$defs/thing_line"}},
    "status": {"enum": ["open", "done"]},
    "unit": {"$ref": "../common/unit.json"},
    "product": {"$ref": "../common/product.json#/$defs/product_ref"}
  },
  "$defs": {"thing_line": {"type": "object", "properties": {"n": {"type": "integer"}}}}
}`

func TestVersionNames(t *testing.T) {
	// Version 2 adds an optional property to version 1 (compatible), version
	// 3 makes it required (not compatible).
	v1 := lineSchema
	v2 := `{"type": "object", "required": ["lines"], "properties": {"lines": {"type": "array"}, "note": {"type": "string"}}}`
	v3 := `{"type": "object", "required": ["lines", "note"], "properties": {"lines": {"type": "array"}, "note": {"type": "string"}}}`
	m, err := model.Build(versioned(t, v1, v2, v3, 0), opts)
	require.NoError(t, err)
	e := m.Events[0]
	require.Len(t, e.Versions, 3)
	assert.Equal(t, e.Current(), e.Versions[2])
	assert.Same(t, e.Payload, e.Current().Payload)
	assert.Same(t, e.Sends, e.Current())
	assert.Nil(t, e.Downcast)
	assert.Equal(t, "decodeThingCreated", e.Decode)

	old := e.Versions[0]
	assert.Equal(t, 1, old.Number)
	assert.False(t, old.Current())
	assert.Equal(t, "ThingCreatedV1", old.Payload.Name)
	assert.Same(t, old, old.Payload.Version)
	assert.Equal(t, "ParseThingCreatedV1", old.Parse)
	assert.Equal(t, "validateThingCreatedV1JSON", old.ValidateJSON)
	assert.Equal(t, "schemaThingCreatedV1", old.SchemaVar)
	assert.Equal(t, "validateThingCreatedJSON", e.Current().ValidateJSON)

	// The version's own types are suffixed; the shared files' are not.
	for _, name := range []string{"ThingLineV1", "ThingCreatedStatusV1", "Unit", "ProductRef"} {
		assert.NotNil(t, typeNamed(m, name), name)
	}
	assert.Equal(t, "ThingCreatedStatusV1Open", typeNamed(m, "ThingCreatedStatusV1").Values[0].Name)
	assert.Equal(t, "[]ThingLineV1", old.Payload.Fields[0].Type.String())

	up := old.Upcast
	require.NotNil(t, up)
	assert.Equal(t, "upcastThingCreatedV1", up.Name)
	assert.Equal(t, "func upcastThingCreatedV1(v ThingCreatedV1) (ThingCreatedV2, error)", up.Signature())
	assert.False(t, up.Generated, "version 2 drops the properties status, unit and product")
	up2 := e.Versions[1].Upcast
	assert.Equal(t, "func upcastThingCreatedV2(v ThingCreatedV2) (ThingCreated, error)", up2.Signature())
	assert.False(t, up2.Generated)
	assert.Equal(t, model.UpcastersFile, up2.File)
	require.NotEmpty(t, up2.Why)
	assert.Contains(t, up2.Why[0], `property "note" is now required`)
	assert.Nil(t, e.Current().Upcast)
	assert.Equal(t, []*model.Caster{up, up2}, m.HandWritten())
}

func TestGeneratedUpcaster(t *testing.T) {
	v1 := `{"type": "object", "properties": {"a": {"type": "string"}}}`
	v2 := `{"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}`
	m, err := model.Build(versioned(t, v1, v2, v2, 2), opts)
	require.NoError(t, err)
	e := m.Events[0]
	assert.True(t, e.Versions[0].Upcast.Generated, "an optional property added to an open object")
	assert.Empty(t, e.Versions[0].Upcast.Why)
	assert.True(t, e.Versions[1].Upcast.Generated, "the same schema")

	require.NotNil(t, e.Downcast)
	assert.Equal(t, "func downcastThingCreated(v ThingCreated) (ThingCreatedV2, error)", e.Downcast.Signature())
	assert.Same(t, e.Versions[1], e.Sends)
	assert.True(t, e.Downcast.Generated)
	assert.Equal(t, model.DowncastersFile, e.Downcast.File)
	assert.Equal(t, 12, e.Downcast.Pos.Line)
	assert.Empty(t, m.HandWritten())
}

func TestHandWrittenDowncaster(t *testing.T) {
	v1 := `{"type": "object", "properties": {"a": {"type": "string"}}}`
	v3 := `{"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}`
	m, err := model.Build(versioned(t, v1, v1, v3, 1), opts)
	require.NoError(t, err)
	e := m.Events[0]
	assert.Same(t, e.Versions[0], e.Sends)
	assert.False(t, e.Downcast.Generated)
	assert.Equal(t, []*model.Caster{e.Versions[1].Upcast, e.Downcast}, m.HandWritten())

	// Pinned to the current version: no downcaster.
	m, err = model.Build(versioned(t, v1, v1, v3, 3), opts)
	require.NoError(t, err)
	assert.Nil(t, m.Events[0].Downcast)
}

func TestVersionErrors(t *testing.T) {
	obj := `{"type": "object"}`
	cat := versioned(t, obj, obj, obj, 7)
	_, err := model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `catalog/events.yaml:12:9: publish_version 7 of "execution.thing.created" is not one of its versions (1, 2 and 3)`)

	cat = versioned(t, obj, obj, obj, 0)
	cat.Events[0].Versions[1].Version = 3
	_, err = model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `catalog/events.yaml:15:9: version 3 of "execution.thing.created" is not below its current version 3`)

	cat = versioned(t, obj, obj, obj, 0)
	cat.Events[0].Versions[0].Schema = "schemas/nowhere.json"
	_, err = model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `catalog/events.yaml:14:9: schema "schemas/nowhere.json" of version 1 was not loaded`)

	// A type of the version's file that takes a name already used.
	cat = versioned(t, obj, obj, obj, 0)
	cat.Schemas[thingV1Path] = newCatalog(t, map[string]string{thingV1Path: `{"type": "object", "properties": {"other": {"$ref": "#/$defs/thing_created_x"}}, "$defs": {"thing_created_x": {"type": "object", "properties": {"z": {"type": "string"}}}}}`}).Schemas[thingV1Path]
	cat.Schemas[thingPath] = newCatalog(t, map[string]string{thingPath: `{"type": "object", "properties": {"x": {"$ref": "#/$defs/thing_created_x_v1"}}, "$defs": {"thing_created_x_v1": {"type": "object", "properties": {"z": {"type": "string"}}}}}`}).Schemas[thingPath]
	_, err = model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `Go name "ThingCreatedXV1" (the type of /$defs/thing_created_x) is already used by the type of /$defs/thing_created_x_v1 at schemas/execution/thing.json:1:`)

	// The payload type of a version clashes with a type of the catalog.
	cat = versioned(t, obj, obj, `{"type": "object", "properties": {"v1": {"type": "object", "properties": {"z": {"type": "string"}}}}}`, 0)
	_, err = model.Build(cat, opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `schemas/execution/thing.json:1:41: /properties/v1: Go name "ThingCreatedV1" (the type of /properties/v1) is already used by the payload type of version 1 of event "execution.thing.created" at catalog/events.yaml:13:9`)
}

func TestVersionOfSharedFile(t *testing.T) {
	// Version 1 had the schema file of the current version (the version was
	// raised for what the payload means, not its shape): its type is
	// defined on the current one's, and the upcaster converts.
	obj := `{"type": "object", "properties": {"a": {"type": "string"}}}`
	cat := versioned(t, obj, obj, obj, 0)
	cat.Events[0].Versions[0].Schema = thingPath
	m, err := model.Build(cat, opts)
	require.NoError(t, err)
	v1 := m.Events[0].Versions[0].Payload
	assert.Equal(t, "ThingCreatedV1", v1.Name)
	assert.Equal(t, model.Defined, v1.Kind)
	assert.Equal(t, "ThingCreated", v1.Underlying.String())
	assert.True(t, m.Events[0].Versions[0].Upcast.Generated)
}
