package asyncapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/cmd/eventgen/internal/asyncapi"
	"github.com/giia/events/cmd/eventgen/internal/catalog"
	"github.com/giia/events/cmd/eventgen/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// moduleRoot is the folder of go.mod, four levels up.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", "..", "..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(root, "go.mod"))
	return root
}

// richRoot is the module-like folder of the rich test catalog.
func richRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("testdata", "rich"))
	require.NoError(t, err)
	return root
}

// load loads the catalog under root and its model.
func load(t *testing.T, root string) (*catalog.Catalog, *model.Model) {
	t.Helper()
	cat, err := catalog.Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	m, err := model.Build(cat, model.Options{Package: "events", SDKImport: "github.com/giia/events/sdk"})
	require.NoError(t, err)
	return cat, m
}

func generate(t *testing.T, root string) []byte {
	t.Helper()
	cat, m := load(t, root)
	doc, err := asyncapi.Generate(cat, m, asyncapi.Options{})
	require.NoError(t, err)
	return doc
}

var (
	specOnce sync.Once
	spec     *jsonschema.Schema
	specErr  error
)

// asyncAPISchema compiles the official AsyncAPI 3.0.0 JSON Schema (draft-07,
// bundled) from the shared test data, without the network.
func asyncAPISchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	specOnce.Do(func() {
		path := filepath.Join(moduleRoot(t), "..", "shared", "testdata", "asyncapi", "asyncapi-3.0.0.schema.json")
		data, err := os.ReadFile(path)
		if err != nil {
			specErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.LoadURL = func(s string) (io.ReadCloser, error) { return nil, fmt.Errorf("no network in tests: %s", s) }
		const url = "file:///asyncapi-3.0.0.schema.json"
		if specErr = c.AddResource(url, bytes.NewReader(data)); specErr != nil {
			return
		}
		spec, specErr = c.Compile(url)
	})
	require.NoError(t, specErr)
	return spec
}

// jsonValue decodes the YAML document into the values encoding/json
// gives, which the validator takes.
func jsonValue(t *testing.T, doc []byte) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal(doc, &v))
	data, err := json.Marshal(v)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	require.NoError(t, dec.Decode(&out))
	return out
}

func validate(t *testing.T, v any) error {
	t.Helper()
	return asyncAPISchema(t).Validate(v)
}

// TestRealCatalogIsValidAsyncAPI: the document of the module's catalog
// passes the official AsyncAPI 3.0.0 schema.
func TestRealCatalogIsValidAsyncAPI(t *testing.T) {
	doc := generate(t, moduleRoot(t))
	assert.True(t, bytes.HasPrefix(doc, []byte(asyncapi.Header+"\n")))
	require.NoError(t, validate(t, jsonValue(t, doc)))
	assert.Equal(t, doc, generate(t, moduleRoot(t)), "deterministic")
}

// TestGolden compares the document of testdata/rich with
// want/asyncapi.yaml; go test -update rewrites it.
func TestGolden(t *testing.T) {
	root := richRoot(t)
	cat, m := load(t, root)
	doc, err := asyncapi.Generate(cat, m, asyncapi.Options{Title: "Shop", Version: "2.1.0", Host: "nats.shop.example:4222"})
	require.NoError(t, err)
	golden := filepath.Join(root, "want", "asyncapi.yaml")
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
		require.NoError(t, os.WriteFile(golden, doc, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(doc))
	require.NoError(t, validate(t, jsonValue(t, doc)))
}

// TestGoldenVersions: an event with an older version and a rollout pin
// has a message per version, each with its Giia-Version header; its
// publisher sends the pinned version, its consumers receive both.
// go test -update rewrites want/asyncapi.yaml.
func TestGoldenVersions(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("testdata", "versions"))
	require.NoError(t, err)
	doc := generate(t, root)
	golden := filepath.Join(root, "want", "asyncapi.yaml")
	if *update {
		require.NoError(t, os.WriteFile(golden, doc, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(doc))
	v := jsonValue(t, doc)
	require.NoError(t, validate(t, v))

	assert.Equal(t, map[string]any{
		"OrderPlaced":   map[string]any{"$ref": "#/components/messages/OrderPlaced"},
		"OrderPlacedV1": map[string]any{"$ref": "#/components/messages/OrderPlacedV1"},
	}, path(v, "channels", "shop.order.placed", "messages"))
	for msg, version := range map[string]string{"OrderPlaced": "2", "OrderPlacedV1": "1"} {
		assert.Equal(t, version, path(v, "components", "messages", msg, "headers", "properties", "Giia-Version", "const"), msg)
		assert.Equal(t, version, path(v, "components", "messages", msg, "examples", "0", "headers", "Giia-Version"), msg)
		assert.Equal(t, "orders", path(v, "components", "messages", msg, "headers", "properties", "Giia-Source", "const"), msg)
	}
	assert.Equal(t, "#/components/schemas/OrderPlacedV1", path(v, "components", "messages", "OrderPlacedV1", "payload", "properties", "payload", "$ref"))
	assert.Equal(t, []any{map[string]any{"$ref": "#/channels/shop.order.placed/messages/OrderPlacedV1"}}, path(v, "operations", "orders.sendOrderPlaced", "messages"))
	assert.Len(t, path(v, "operations", "stock.receiveOrderPlaced", "messages"), 2)
}

// path returns the value at the dot-separated keys of v (a key may hold
// dots when given as one element).
func path(v any, keys ...string) any {
	for _, k := range keys {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			fmt.Sscanf(k, "%d", &i)
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestInvalidDocumentsFail: the validation is real: each broken copy of a
// valid document is refused.
func TestInvalidDocumentsFail(t *testing.T) {
	doc := generate(t, moduleRoot(t))
	for name, breakIt := range map[string]func(d map[string]any){
		"asyncapi 2 version": func(d map[string]any) { d["asyncapi"] = "2.6.0" },
		"no info":            func(d map[string]any) { delete(d, "info") },
		"server without host": func(d map[string]any) {
			delete(path(d, "servers", "nats").(map[string]any), "host")
		},
		"publish action of AsyncAPI 2": func(d map[string]any) {
			path(d, "operations", "execution.sendPurchaseOrderCreated").(map[string]any)["action"] = "publish"
		},
		"operation without channel": func(d map[string]any) {
			delete(path(d, "operations", "ddmrp.receivePurchaseOrderCreated").(map[string]any), "channel")
		},
		"unknown channel field": func(d map[string]any) {
			path(d, "channels", "execution.purchase_order.created").(map[string]any)["topic"] = "x"
		},
		"schema type not a type name": func(d map[string]any) {
			path(d, "components", "schemas", "Quantity").(map[string]any)["type"] = json.Number("5")
		},
		"example without payload or headers": func(d map[string]any) {
			ex := path(d, "components", "messages", "PurchaseOrderCreated", "examples", "0").(map[string]any)
			delete(ex, "payload")
			delete(ex, "headers")
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := jsonValue(t, doc).(map[string]any)
			breakIt(d)
			assert.Error(t, validate(t, d))
		})
	}
}

// TestExamplesMatchMessagePayloads reads the document as a JSON Schema
// (draft-07, as AsyncAPI Schema Objects are) and validates each message's
// examples against its payload: the conversion of the catalog's schemas
// keeps what they accept, and refuses what they refuse.
func TestExamplesMatchMessagePayloads(t *testing.T) {
	for _, root := range []string{moduleRoot(t), richRoot(t)} {
		doc := jsonValue(t, generate(t, root))
		data, err := json.Marshal(doc)
		require.NoError(t, err)
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft7
		c.LoadURL = func(s string) (io.ReadCloser, error) { return nil, fmt.Errorf("no network in tests: %s", s) }
		const url = "file:///asyncapi.json"
		require.NoError(t, c.AddResource(url, bytes.NewReader(data)))

		messages := path(doc, "components", "messages").(map[string]any)
		require.NotEmpty(t, messages)
		for name, msg := range messages {
			payload, err := c.Compile(url + "#/components/messages/" + name + "/payload")
			require.NoError(t, err, name)
			headers, err := c.Compile(url + "#/components/messages/" + name + "/headers")
			require.NoError(t, err, name)
			examples := path(msg, "examples").([]any)
			require.NotEmpty(t, examples, name)
			for _, ex := range examples {
				assert.NoError(t, payload.Validate(path(ex, "payload")), name)
				assert.NoError(t, headers.Validate(path(ex, "headers")), name)

				env := path(ex, "payload").(map[string]any)
				env["subject"] = "other.subject.name"
				assert.Error(t, payload.Validate(env), "%s: the subject is fixed", name)
				env["subject"] = path(msg, "payload", "properties", "subject", "const")
				env["payload"] = map[string]any{"unexpected": true}
				assert.Error(t, payload.Validate(env), "%s: the payload schema applies", name)
			}
		}
	}
}

// TestRefsResolve: every $ref of the document points at something in it.
func TestRefsResolve(t *testing.T) {
	for _, root := range []string{moduleRoot(t), richRoot(t)} {
		doc := jsonValue(t, generate(t, root))
		var walk func(v any)
		count := 0
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if r, ok := x["$ref"].(string); ok {
					count++
					require.True(t, strings.HasPrefix(r, "#/"), r)
					assert.NotNil(t, path(doc, strings.Split(r[2:], "/")...), "%s resolves", r)
				}
				for _, c := range x {
					walk(c)
				}
			case []any:
				for _, c := range x {
					walk(c)
				}
			}
		}
		walk(doc)
		assert.Greater(t, count, 10)
	}
}

// TestConversion checks how the rich catalog's schemas come out.
func TestConversion(t *testing.T) {
	doc := jsonValue(t, generate(t, richRoot(t)))
	schemas := path(doc, "components", "schemas").(map[string]any)
	names := make([]string, 0, len(schemas))
	for n := range schemas {
		names = append(names, n)
	}
	assert.ElementsMatch(t, []string{"OrderArchived", "Line", "SKU", "SKU2", "Quantity", "Unit", "Node", "LevelChanged", "Level"}, names,
		"Go names for types; two different sku schemas get SKU and SKU2")

	order := schemas["OrderArchived"].(map[string]any)
	assert.Nil(t, order["$schema"])
	assert.Nil(t, order["$defs"], "definitions become components")
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/Line"}, path(order, "properties", "lines", "items"))
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/Node"}, path(order, "properties", "node"), "a lone $ref stays a $ref")
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/Node"}, path(schemas, "Node", "properties", "children", "items"), "recursion")
	assert.Equal(t, map[string]any{
		"description": "The line's SKU.",
		"allOf":       []any{map[string]any{"$ref": "#/components/schemas/SKU"}},
	}, path(schemas, "Line", "properties", "sku"), "a $ref with siblings is an allOf")
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/Level"}, schemas["LevelChanged"])
	assert.Equal(t, map[string]any{"$ref": "#/components/schemas/SKU2"}, path(schemas, "Level", "properties", "sku"))
	assert.Equal(t, map[string]any{}, path(order, "properties", "anything"), "{} stays the empty schema")

	// Both events of order_placed.json carry the one schema.
	for _, msg := range []string{"OrderPlaced", "OrderArchived"} {
		assert.Equal(t, "#/components/schemas/OrderArchived", path(doc, "components", "messages", msg, "payload", "properties", "payload", "$ref"), msg)
	}
	assert.Equal(t, json.Number("2"), path(doc, "components", "messages", "OrderPlaced", "payload", "properties", "version", "const"))
	assert.Equal(t, "orders", path(doc, "components", "messages", "OrderPlaced", "payload", "properties", "source", "const"))

	ops := path(doc, "operations").(map[string]any)
	assert.Len(t, ops, 3+5, "a send per event, a receive per consumer")
	assert.Equal(t, "receive", path(ops, "orders.receiveOrderPlaced", "action"), "a publisher consuming its own event")
	assert.Equal(t, "end-service", path(ops, "end.receiveLevelChanged", "x-jetstream", "durable"))
	assert.Equal(t, "#/channels/stock.level.changed/messages/LevelChanged", path(ops, "stock.sendLevelChanged", "messages", "0", "$ref"))
}

func TestGenerateErrors(t *testing.T) {
	root := richRoot(t)

	cat, m := load(t, root)
	quantity := cat.Schemas["schemas/common/quantity.json"].Node.Content[0]
	ref := quantity.Content[len(quantity.Content)-1].Content[3] // properties.unit
	ref.Content[1].Value = "missing.json"
	_, err := asyncapi.Generate(cat, m, asyncapi.Options{})
	assert.ErrorContains(t, err, `schemas/common/quantity.json: /properties/unit/$ref: cannot resolve $ref "missing.json"`)

	cat, m = load(t, root)
	delete(cat.Schemas, "schemas/stock/level_changed.json")
	_, err = asyncapi.Generate(cat, m, asyncapi.Options{})
	assert.ErrorContains(t, err, `schema schemas/stock/level_changed.json of "stock.level.changed" was not loaded`)

	cat, m = load(t, root)
	for i := range cat.Events {
		cat.Events[i].Examples = []json.RawMessage{json.RawMessage("{")}
	}
	doc, err := asyncapi.Generate(cat, m, asyncapi.Options{})
	require.NoError(t, err)
	assert.NotContains(t, string(doc), "examples:", "an example that is not JSON is left out")
}
