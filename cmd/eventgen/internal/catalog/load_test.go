package catalog

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/sdk/bus"
)

// The base catalog of the tests: valid as it is; each case edits it.
const (
	platformYAML = `stream:
  name: GIIA
  subjects: ["execution.>", "ddmrp.>"]
  duplicates: 2m
  max_age: 720h
services:
  execution: {description: Execution service, owner: team-execution}
  ddmrp: {description: DDMRP service}
  analytics: {description: Analytics, external: true}
`
	executionYAML = `events:
  - subject: execution.order.created
    version: 1
    publisher: execution
    consumers: [ddmrp, analytics]
    schema: ../schemas/execution/order_created.json
    description: An order was created.
    examples:
      - {order_id: o-1, quantity: {value: 5, unit: EA}}
`
	orderCreatedJSON = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id", "quantity"],
  "properties": {
    "order_id": {"type": "string"},
    "quantity": {"$ref": "../common/quantity.json"}
  }
}
`
	quantityJSON = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["value", "unit"],
  "properties": {
    "value": {"type": "number", "minimum": 0},
    "unit": {"$ref": "unit.json"}
  }
}
`
	unitJSON = `{"type": "string", "enum": ["EA", "KG"]}
`
)

// An older version of execution.order.created: an order id only.
const orderV1JSON = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "required": ["order_id"],
  "properties": {"order_id": {"type": "string"}}
}
`

const (
	orderV1File   = "schemas/execution/order_created_v1.json"
	platformFile  = "catalog/platform.yaml"
	executionFile = "catalog/execution.yaml"
	orderFile     = "schemas/execution/order_created.json"
	quantityFile  = "schemas/common/quantity.json"
	unitFile      = "schemas/common/unit.json"
)

func baseFiles() map[string]string {
	return map[string]string{
		platformFile:  platformYAML,
		executionFile: executionYAML,
		orderFile:     orderCreatedJSON,
		quantityFile:  quantityJSON,
		unitFile:      unitJSON,
	}
}

// edit replaces old, which must occur, by new in s.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Contains(t, s, old, "the edit must apply")
	return strings.Replace(s, old, new, 1)
}

// withVersions returns the base execution.yaml with "version: 1" replaced
// by version (the event's version and more keys) and the list entries
// under "versions:", from line 10 (11 with one key more), added.
func withVersions(t *testing.T, version, entries string) string {
	t.Helper()
	return edit(t, executionYAML, "version: 1", version) + "    versions:\n" + entries
}

// writeTree writes the base files with the overrides (an empty text
// deletes the file) into a fresh module root and returns it.
func writeTree(t *testing.T, overrides map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := baseFiles()
	for name, text := range overrides {
		files[name] = text
	}
	for name, text := range files {
		if text == "" {
			continue
		}
		path := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	return root
}

// diagLines loads the catalog and returns its diagnostics, one per line.
func diagLines(t *testing.T, root, dir string) []string {
	t.Helper()
	cat, err := Load(root, dir)
	require.Error(t, err)
	assert.Nil(t, cat)
	var ds Diagnostics
	require.True(t, errors.As(err, &ds), "want Diagnostics, got %T: %v", err, err)
	return strings.Split(err.Error(), "\n")
}

func TestLoadDiagnostics(t *testing.T) {
	const wantEventKeys = `(want one of "consumers", "description", "examples", "go_name", "publish_version", "publisher", "schema", "self_consume", "subject", "version", "versions")`
	const wantServices = `(want one of "analytics", "ddmrp", "execution")`
	tests := []struct {
		name  string
		files func(t *testing.T) map[string]string
		want  []string
	}{
		{
			name: "unknown key in event",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "consumers: [ddmrp, analytics]", "consumer: [ddmrp]")}
			},
			want: []string{`catalog/execution.yaml:5:5: unknown key "consumer" in event ` + wantEventKeys},
		},
		{
			name: "unknown keys in stream, dead_letter, service and at the top level",
			files: func(t *testing.T) map[string]string {
				p := edit(t, platformYAML, "max_age: 720h", "max_age: 720h\n  replica: 3\n  dead_letter: {stream: DL, prefixes: x}")
				p = edit(t, p, "ddmrp: {description: DDMRP service}", "ddmrp: {description: DDMRP service, team: planning}")
				return map[string]string{platformFile: p + "event: []\n"}
			},
			want: []string{
				`catalog/platform.yaml:6:3: unknown key "replica" in stream (want one of "dead_letter", "duplicates", "max_age", "name", "replicas", "subjects")`,
				`catalog/platform.yaml:7:29: unknown key "prefixes" in dead_letter (want one of "prefix", "stream")`,
				`catalog/platform.yaml:10:39: unknown key "team" in service "ddmrp" (want one of "description", "external", "owner")`,
				`catalog/platform.yaml:12:1: unknown key "event" at the top level (want one of "events", "services", "stream")`,
			},
		},
		{
			name: "consumer is not a declared service",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "[ddmrp, analytics]", "[ddmpr, analytics]")}
			},
			want: []string{`catalog/execution.yaml:5:17: consumer "ddmpr" is not a declared service ` + wantServices},
		},
		{
			name: "publisher is not a declared service",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "publisher: execution", "publisher: exec")}
			},
			want: []string{`catalog/execution.yaml:4:16: publisher "exec" is not a declared service ` + wantServices},
		},
		{
			name: "no services at all",
			files: func(t *testing.T) map[string]string {
				return map[string]string{platformFile: strings.Split(platformYAML, "services:")[0]}
			},
			want: []string{
				`catalog/execution.yaml:4:16: publisher "execution" is not a declared service (no services are declared)`,
				`catalog/execution.yaml:5:17: consumer "ddmrp" is not a declared service (no services are declared)`,
				`catalog/execution.yaml:5:24: consumer "analytics" is not a declared service (no services are declared)`,
			},
		},
		{
			name: "duplicate subject names the first definition",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"catalog/more.yaml": executionYAML}
			},
			want: []string{`catalog/more.yaml:2:14: duplicate subject "execution.order.created" (first defined at catalog/execution.yaml:2:14)`},
		},
		{
			name: "subject outside the stream",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "execution.order.created", "billing.invoice.created")}
			},
			want: []string{`catalog/execution.yaml:2:14: subject "billing.invoice.created" is outside the stream "GIIA" (subjects "execution.>", "ddmrp.>")`},
		},
		{
			name: "wildcard subject",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "execution.order.created", "execution.*.created")}
			},
			want: []string{`catalog/execution.yaml:2:14: subject "execution.*.created" has a wildcard; event subjects must be concrete`},
		},
		{
			name: "full wildcard subject",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "execution.order.created", `"execution.>"`)}
			},
			want: []string{`catalog/execution.yaml:2:14: subject "execution.>" has a wildcard; event subjects must be concrete`},
		},
		{
			name: "malformed subjects",
			files: func(t *testing.T) map[string]string {
				more := edit(t, executionYAML, "execution.order.created", "execution")
				more += edit(t, executionYAML, "execution.order.created", "Execution.Order-Created")[len("events:\n"):]
				return map[string]string{executionFile: more}
			},
			want: []string{
				`catalog/execution.yaml:2:14: subject "execution" has one token (want at least two, such as "execution.purchase_order.created")`,
				`catalog/execution.yaml:10:14: subject "Execution.Order-Created" is not valid (want lower-case dot-separated tokens of a-z, 0-9 and "_", each starting with a letter, such as "execution.purchase_order.created")`,
			},
		},
		{
			name: "publisher consuming itself",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "[ddmrp, analytics]", "[ddmrp, execution]")}
			},
			want: []string{`catalog/execution.yaml:5:24: publisher "execution" consumes its own event "execution.order.created" (set "self_consume: true" if it should)`},
		},
		{
			name: "self_consume without the publisher among the consumers",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "    schema:", "    self_consume: true\n    schema:")}
			},
			want: []string{`catalog/execution.yaml:6:19: self_consume is true but the publisher "execution" is not among the consumers`},
		},
		{
			name: "duplicate consumer",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "[ddmrp, analytics]", "[ddmrp, analytics, ddmrp]")}
			},
			want: []string{`catalog/execution.yaml:5:35: duplicate consumer "ddmrp" (first listed at catalog/execution.yaml:5:17)`},
		},
		{
			name: "schema file not found",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "order_created.json", "order_creatd.json")}
			},
			want: []string{`catalog/execution.yaml:6:13: schema "../schemas/execution/order_creatd.json" not found`},
		},
		{
			name: "schema outside the module",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: edit(t, executionYAML, "../schemas/execution", "../../../elsewhere")}
			},
			want: []string{`catalog/execution.yaml:6:13: schema "../../../elsewhere/order_created.json" is outside the module root`},
		},
		{
			name: "schema that breaks the meta-schema",
			files: func(t *testing.T) map[string]string {
				return map[string]string{orderFile: edit(t, orderCreatedJSON, `"order_id": {"type": "string"}`, `"order_id": {"type": "strin"}`)}
			},
			want: []string{`catalog/execution.yaml:6:13: schema "../schemas/execution/order_created.json" does not compile: schemas/execution/order_created.json:7:26: /properties/order_id/type: value must be one of "array", "boolean", "integer", "null", "number", "object", "string"`},
		},
		{
			name: "schema with a dangling local $ref in a referenced file",
			files: func(t *testing.T) map[string]string {
				return map[string]string{quantityFile: edit(t, quantityJSON, `"unit.json"`, `"unit.json#/$defs/unit"`)}
			},
			want: []string{`catalog/execution.yaml:6:13: schema "../schemas/execution/order_created.json" does not compile: schemas/common/unit.json#/$defs/unit not found`},
		},
		{
			name: "$ref to a missing file",
			files: func(t *testing.T) map[string]string {
				return map[string]string{quantityFile: edit(t, quantityJSON, `"unit.json"`, `"units.json#/$defs/unit"`)}
			},
			want: []string{`schemas/common/quantity.json:8:22: $ref "units.json#/$defs/unit" not found (no file schemas/common/units.json)`},
		},
		{
			name: "$ref that is not a relative file path",
			files: func(t *testing.T) map[string]string {
				q := edit(t, quantityJSON, `"unit.json"`, `"https://example.com/unit.json"`)
				q = edit(t, q, `"minimum": 0}`, `"minimum": 0, "not": {"$ref": "/abs/unit.json"}}`)
				return map[string]string{quantityFile: q}
			},
			want: []string{
				`schemas/common/quantity.json:7:63: $ref "/abs/unit.json" must be a relative file path (want e.g. "../common/quantity.json" or "../common/product.json#/$defs/product_ref")`,
				`schemas/common/quantity.json:8:22: $ref "https://example.com/unit.json" must be a relative file path (want e.g. "../common/quantity.json" or "../common/product.json#/$defs/product_ref")`,
			},
		},
		{
			name: "$ref outside the module",
			files: func(t *testing.T) map[string]string {
				return map[string]string{quantityFile: edit(t, quantityJSON, `"unit.json"`, `"../../../unit.json"`)}
			},
			want: []string{`schemas/common/quantity.json:8:22: $ref "../../../unit.json" points outside the module root`},
		},
		{
			name: "schema that is not JSON",
			files: func(t *testing.T) map[string]string {
				return map[string]string{unitFile: "{\"type\": \"string\",\n\t\"enum\": [\"EA\", \"KG\",]}\n"}
			},
			want: []string{`schemas/common/unit.json:2:22: invalid JSON: invalid character ']' looking for beginning of value`},
		},
		{
			name: "schema with a repeated key and the wrong draft",
			files: func(t *testing.T) map[string]string {
				return map[string]string{unitFile: `{"$schema": "http://json-schema.org/draft-07/schema#", "type": "string", "type": "number"}`}
			},
			want: []string{
				`schemas/common/unit.json:1:13: "$schema" must be "https://json-schema.org/draft/2020-12/schema" (found "http://json-schema.org/draft-07/schema#")`,
				`schemas/common/unit.json:1:74: duplicate key "type" (first defined at schemas/common/unit.json:1:56)`,
			},
		},
		{
			name: "invalid examples",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: executionYAML +
					"      - {order_id: o-2, quantity: {value: -1, unit: EA}}\n" +
					"      - order_id: 3\n" +
					"        quantity: {value: 1, unit: LB}\n" +
					"        note: extra\n"}
			},
			want: []string{
				`catalog/execution.yaml:10:9: example 2 of "execution.order.created" is invalid: /quantity/value: must be >= 0 but found -1`,
				`catalog/execution.yaml:11:9: example 3 of "execution.order.created" is invalid: /: additionalProperties 'note' not allowed`,
				`catalog/execution.yaml:11:9: example 3 of "execution.order.created" is invalid: /order_id: expected string, but got number`,
				`catalog/execution.yaml:11:9: example 3 of "execution.order.created" is invalid: /quantity/unit: value must be one of "EA", "KG"`,
			},
		},
		{
			name: "example with no JSON form",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: executionYAML +
					"      - {order_id: o-2, quantity: {value: .inf, unit: EA}}\n" +
					"      - {order_id: !!binary aGVsbG8=, quantity: {value: 1, unit: EA}}\n" +
					"      - {? [a]: b}\n" +
					"      - {order_id: a, order_id: b}\n"}
			},
			want: []string{
				`catalog/execution.yaml:10:43: example 2 of "execution.order.created" cannot be written as JSON: ".inf" is not a JSON number`,
				`catalog/execution.yaml:11:20: example 3 of "execution.order.created" cannot be written as JSON: value "aGVsbG8=" tagged !!binary has no JSON form`,
				`catalog/execution.yaml:12:12: example 4 of "execution.order.created" cannot be written as JSON: keys must be strings (found a list)`,
				`catalog/execution.yaml:13:23: example 5 of "execution.order.created" cannot be written as JSON: duplicate key "order_id" (first at line 13)`,
			},
		},
		{
			name: "no examples",
			files: func(t *testing.T) map[string]string {
				two := edit(t, executionYAML, "      - {order_id: o-1, quantity: {value: 5, unit: EA}}\n", "")
				two += edit(t, executionYAML, "execution.order.created", "execution.order.updated")[len("events:\n"):]
				two = edit(t, two, "examples:\n      - {order_id: o-1, quantity: {value: 5, unit: EA}}", "examples: []")
				two += edit(t, executionYAML, "execution.order.created", "execution.order.deleted")[len("events:\n"):]
				two = edit(t, two, "examples:\n      - {order_id: o-1, quantity: {value: 5, unit: EA}}", "examples: {order_id: o-1}")
				return map[string]string{executionFile: two}
			},
			want: []string{
				`catalog/execution.yaml:8:5: event "execution.order.created" has no examples (want at least one example payload under "examples")`,
				`catalog/execution.yaml:15:5: event "execution.order.updated" has no examples (want at least one example payload under "examples")`,
				`catalog/execution.yaml:22:15: "examples" must be a list of example payloads (found a mapping)`,
			},
		},
		{
			name: "stream defined twice",
			files: func(t *testing.T) map[string]string {
				return map[string]string{"catalog/streams.yaml": "stream: {name: OTHER, subjects: [\"other.>\"]}\n"}
			},
			want: []string{`catalog/streams.yaml:1:1: stream is already defined at catalog/platform.yaml:1:1`},
		},
		{
			name: "services defined twice and a duplicate service",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					platformFile:             platformYAML + "  ddmrp: {}\n",
					"catalog/services2.yaml": "\n\nservices:\n  other: {}\n",
				}
			},
			want: []string{
				`catalog/platform.yaml:10:3: duplicate service "ddmrp" (first defined at catalog/platform.yaml:8:3)`,
				`catalog/services2.yaml:3:1: services are already defined at catalog/platform.yaml:6:1`,
			},
		},
		{
			name: "no stream",
			files: func(t *testing.T) map[string]string {
				return map[string]string{platformFile: "services:" + strings.Split(platformYAML, "services:")[1]}
			},
			want: []string{`catalog: no stream is defined (want a "stream:" section in one of the catalog files)`},
		},
		{
			name: "bad duration",
			files: func(t *testing.T) map[string]string {
				p := edit(t, platformYAML, "duplicates: 2m", "duplicates: 2 minutes")
				p = edit(t, p, "max_age: 720h", "max_age: -1h")
				return map[string]string{platformFile: p}
			},
			want: []string{
				`catalog/platform.yaml:4:15: "duplicates" must be a duration such as "2m" or "720h" (found "2 minutes")`,
				`catalog/platform.yaml:5:12: "max_age" must be a duration such as "2m" or "720h" (found "-1h")`,
			},
		},
		{
			name: "missing required keys",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					executionFile: edit(t, executionYAML, "    description: An order was created.\n", ""),
					platformFile:  edit(t, platformYAML, "  name: GIIA\n", ""),
				}
			},
			want: []string{
				`catalog/execution.yaml:2:5: event "execution.order.created" is missing required key "description"`,
				`catalog/platform.yaml:2:3: stream is missing required key "name"`,
			},
		},
		{
			name: "event with nothing but unknown keys",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: "events:\n  - {name: x}\n  - just a string\n"}
			},
			want: []string{
				`catalog/execution.yaml:2:5: event has no examples (want at least one example payload under "examples")`,
				`catalog/execution.yaml:2:5: event is missing required key "description"`,
				`catalog/execution.yaml:2:5: event is missing required key "publisher"`,
				`catalog/execution.yaml:2:5: event is missing required key "schema"`,
				`catalog/execution.yaml:2:5: event is missing required key "subject"`,
				`catalog/execution.yaml:2:5: event is missing required key "version"`,
				`catalog/execution.yaml:2:6: unknown key "name" in event ` + wantEventKeys,
				`catalog/execution.yaml:3:5: an event must be a mapping (found "just a string")`,
			},
		},
		{
			name: "wrong types",
			files: func(t *testing.T) map[string]string {
				e := edit(t, executionYAML, "version: 1", "version: one")
				e = edit(t, e, "publisher: execution", "publisher: [execution]")
				e = edit(t, e, "consumers: [ddmrp, analytics]", "consumers: ddmrp\n    self_consume: yes please\n    go_name: order_created")
				e = edit(t, e, "description: An order was created.", `description: "  "`)
				p := edit(t, platformYAML, "max_age: 720h", "max_age: 720h\n  replicas: 9")
				p = edit(t, p, "external: true", "external: 1")
				p = edit(t, p, "name: GIIA", "name: 42")
				return map[string]string{executionFile: e, platformFile: p}
			},
			want: []string{
				`catalog/execution.yaml:3:14: "version" must be an integer >= 1 (found "one")`,
				`catalog/execution.yaml:4:16: "publisher" must be a string (found a list)`,
				`catalog/execution.yaml:5:16: "consumers" must be a list of service names (found "ddmrp")`,
				`catalog/execution.yaml:6:19: "self_consume" must be true or false (found "yes please")`,
				`catalog/execution.yaml:7:14: go_name "order_created" is not an exported Go identifier (want a name such as "PurchaseOrderCreated")`,
				`catalog/execution.yaml:9:18: "description" must not be empty`,
				`catalog/platform.yaml:2:9: "name" must be a string (found "42")`,
				`catalog/platform.yaml:6:13: "replicas" must be an integer from 1 to 5 (found "9")`,
				`catalog/platform.yaml:10:49: "external" must be true or false (found "1")`,
			},
		},
		{
			name: "bad stream settings",
			files: func(t *testing.T) map[string]string {
				p := edit(t, platformYAML, "name: GIIA", "name: GIIA.EVENTS")
				p = edit(t, p, `subjects: ["execution.>", "ddmrp.>"]`, `subjects: ["execution.>", "ddmrp.>", "ddmrp.>", "a..b", "deadletter.*.x", 7]`)
				p = edit(t, p, "max_age: 720h", "max_age: 720h\n  dead_letter: {stream: GIIA.DL, prefix: Dead-Letter}")
				return map[string]string{platformFile: p}
			},
			want: []string{
				`catalog/platform.yaml:2:9: stream name "GIIA.EVENTS" is not valid (want letters, digits, "_" or "-")`,
				`catalog/platform.yaml:3:40: duplicate stream subject "ddmrp.>" (first at catalog/platform.yaml:3:29)`,
				`catalog/platform.yaml:3:51: stream subject "a..b" is not a valid NATS subject filter (want dot-separated tokens, "*" for one token, ">" as the last)`,
				`catalog/platform.yaml:3:59: stream subject "deadletter.*.x" overlaps the dead-letter subjects "deadletter.>" (set dead_letter.prefix to another token)`,
				`catalog/platform.yaml:3:77: "subjects" must be a list of subject filters (found "7")`,
				`catalog/platform.yaml:6:25: dead-letter stream name "GIIA.DL" is not valid (want letters, digits, "_" or "-")`,
				`catalog/platform.yaml:6:42: dead-letter prefix "Dead-Letter" is not valid (want lower-case dot-separated tokens such as "deadletter")`,
			},
		},
		{
			name: "dead-letter stream equal to the stream, prefix inside the stream",
			files: func(t *testing.T) map[string]string {
				p := edit(t, platformYAML, "max_age: 720h", "max_age: 720h\n  dead_letter: {stream: GIIA, prefix: execution.dead}")
				return map[string]string{platformFile: p}
			},
			want: []string{
				`catalog/platform.yaml:3:14: stream subject "execution.>" overlaps the dead-letter subjects "execution.dead.>" (set dead_letter.prefix to another token)`,
				`catalog/platform.yaml:6:25: dead-letter stream "GIIA" must differ from the stream "GIIA"`,
			},
		},
		{
			name: "empty subjects and wrong section kinds",
			files: func(t *testing.T) map[string]string {
				p := edit(t, platformYAML, `subjects: ["execution.>", "ddmrp.>"]`, `subjects: []`)
				p = strings.Split(p, "services:")[0] + "services: [a, b]\n"
				return map[string]string{platformFile: p, executionFile: "events: {subject: x}\n"}
			},
			want: []string{
				`catalog/execution.yaml:1:9: "events" must be a list of events (found a mapping)`,
				`catalog/platform.yaml:3:13: "subjects" must list at least one subject filter`,
				`catalog/platform.yaml:6:11: "services" must be a mapping of service names to {description, owner, external} (found a list)`,
			},
		},
		{
			name: "bad service entries",
			files: func(t *testing.T) map[string]string {
				return map[string]string{platformFile: platformYAML + "  Billing: {}\n  erp: plain\n  ? [x]\n  : {}\n"}
			},
			want: []string{
				`catalog/platform.yaml:10:3: service name "Billing" is not valid (want lower-case letters, digits, "_" or "-", starting with a letter)`,
				`catalog/platform.yaml:11:8: service "erp" must be a mapping (found "plain")`,
				`catalog/platform.yaml:12:5: service name "" is not valid (want lower-case letters, digits, "_" or "-", starting with a letter)`,
			},
		},
		{
			name: "yaml problems",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					"catalog/a.yaml": "stream: [\n",
					"catalog/b.yaml": "- 1\n",
					"catalog/c.yaml": "events: []\n---\nevents: []\n",
					"catalog/d.yaml": "events: []\nevents: []\n? {a: 1}\n: x\n",
					"catalog/e.yml":  "",
					"catalog/f.yaml": "stream: null\n",
				}
			},
			want: []string{
				`catalog/a.yaml:1: invalid YAML: did not find expected node content`,
				`catalog/b.yaml:1:1: a catalog file must be a mapping (found a list)`,
				`catalog/c.yaml:2:1: a catalog file holds one YAML document (found another)`,
				`catalog/d.yaml:2:1: duplicate key "events" at the top level (first defined at catalog/d.yaml:1:1)`,
				`catalog/d.yaml:3:3: keys at the top level must be plain names (found a mapping)`,
				`catalog/f.yaml:1:9: stream must be a mapping (found null)`,
				`catalog/platform.yaml:1:1: stream is already defined at catalog/f.yaml:1:1`,
			},
		},
		{
			name: "older versions with bad entries",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					orderV1File: orderV1JSON,
					executionFile: withVersions(t, "version: 3", ""+
						"      - {version: 1, schema: ../schemas/execution/order_created_v1.json, examples: [{order_id: 7}]}\n"+
						"      - {version: 3, schema: ../schemas/execution/order_created_v1.json, examples: [{order_id: a}]}\n"+
						"      - {version: 1, schema: ../schemas/execution/order_created_v1.json, examples: [{order_id: b}]}\n"+
						"      - {version: 0, schema: 7, example: []}\n"+
						"      - {version: 2, schema: ../schemas/execution/order_created_v0.json, examples: []}\n"+
						"      - just a string\n"),
				}
			},
			want: []string{
				`catalog/execution.yaml:11:85: example 1 of "execution.order.created" version 1 is invalid: /order_id: expected string, but got number`,
				`catalog/execution.yaml:12:9: version 3 of event "execution.order.created" is not below its version 3 (list only older versions under "versions"; the current one is "version" and "schema")`,
				`catalog/execution.yaml:13:9: duplicate version 1 of event "execution.order.created" (first listed at catalog/execution.yaml:11:9)`,
				`catalog/execution.yaml:14:9: event "execution.order.created" has no examples (want at least one example payload under "examples")`,
				`catalog/execution.yaml:14:19: "version" must be an integer >= 1 (found "0")`,
				`catalog/execution.yaml:14:30: "schema" must be a string (found "7")`,
				`catalog/execution.yaml:14:33: unknown key "example" in a version of event "execution.order.created" (want one of "examples", "schema", "version")`,
				`catalog/execution.yaml:15:30: schema "../schemas/execution/order_created_v0.json" not found`,
				`catalog/execution.yaml:15:74: event "execution.order.created" version 2 has no examples (want at least one example payload under "examples")`,
				`catalog/execution.yaml:16:9: a version of event "execution.order.created" must be a mapping (found "just a string")`,
			},
		},
		{
			name: "publish_version that is no version of the event",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					orderV1File:   orderV1JSON,
					executionFile: withVersions(t, "version: 3\n    publish_version: 2", "      - {version: 1, schema: ../schemas/execution/order_created_v1.json, examples: [{order_id: a}]}\n"),
				}
			},
			want: []string{`catalog/execution.yaml:4:22: publish_version 2 of event "execution.order.created" is not a version of the event (want 1, 3: "version", or one listed under "versions")`},
		},
		{
			name: "versions that are not a list, a publish_version that is not a number",
			files: func(t *testing.T) map[string]string {
				e := edit(t, executionYAML, "version: 1", "version: 2\n    publish_version: two\n    versions: {version: 1}")
				return map[string]string{executionFile: e}
			},
			want: []string{
				`catalog/execution.yaml:4:22: "publish_version" must be an integer >= 1 (found "two")`,
				`catalog/execution.yaml:5:15: "versions" must be a list of older versions {version, schema, examples} (found a mapping)`,
			},
		},
		{
			name: "older version missing its keys",
			files: func(t *testing.T) map[string]string {
				return map[string]string{executionFile: withVersions(t, "version: 2", "      - {examples: [{order_id: a}]}\n")}
			},
			want: []string{
				`catalog/execution.yaml:11:9: a version of event "execution.order.created" is missing required key "schema"`,
				`catalog/execution.yaml:11:9: a version of event "execution.order.created" is missing required key "version"`,
			},
		},
		{
			name: "older version whose schema is missing or broken",
			files: func(t *testing.T) map[string]string {
				return map[string]string{
					orderV1File: edit(t, orderV1JSON, `"type": "string"`, `"type": "strin"`),
					executionFile: withVersions(t, "version: 3", ""+
						"      - {version: 1, schema: ../schemas/execution/order_created_v1.json, examples: [{order_id: a}]}\n"+
						"      - {version: 2, schema: ../schemas/execution/order_created_v2.json, examples: [{order_id: a}]}\n"),
				}
			},
			want: []string{
				`catalog/execution.yaml:11:30: schema "../schemas/execution/order_created_v1.json" does not compile: schemas/execution/order_created_v1.json:5:39: /properties/order_id/type: value must be one of "array", "boolean", "integer", "null", "number", "object", "string"`,
				`catalog/execution.yaml:12:30: schema "../schemas/execution/order_created_v2.json" not found`,
			},
		},
		{
			name: "several problems across two files, sorted",
			files: func(t *testing.T) map[string]string {
				e := edit(t, executionYAML, "version: 1", "version: 0")
				e = edit(t, e, "[ddmrp, analytics]", "[ddmrp, analytic]")
				e += "  - subject: ddmrp.buffer.*\n    version: 1\n    publisher: ddmrp\n    schema: ../schemas/ddmrp/buffer.json\n    description: A buffer.\n    examples: [{}]\n"
				p := edit(t, platformYAML, "duplicates: 2m", "duplicates: 2")
				p = edit(t, p, "ddmrp: {description: DDMRP service}", "ddmrp: {description: DDMRP service, owners: x}")
				return map[string]string{executionFile: e, platformFile: p}
			},
			want: []string{
				`catalog/execution.yaml:3:14: "version" must be an integer >= 1 (found "0")`,
				`catalog/execution.yaml:5:24: consumer "analytic" is not a declared service ` + wantServices,
				`catalog/execution.yaml:10:14: subject "ddmrp.buffer.*" has a wildcard; event subjects must be concrete`,
				`catalog/execution.yaml:13:13: schema "../schemas/ddmrp/buffer.json" not found`,
				`catalog/platform.yaml:4:15: "duplicates" must be a duration such as "2m" or "720h" (found "2")`,
				`catalog/platform.yaml:8:39: unknown key "owners" in service "ddmrp" (want one of "description", "external", "owner")`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := writeTree(t, tt.files(t))
			assert.Equal(t, tt.want, diagLines(t, root, "catalog"))
		})
	}
}

func TestLoadDirectoryProblems(t *testing.T) {
	root := t.TempDir()
	assert.Equal(t, []string{"catalog: catalog directory does not exist"}, diagLines(t, root, "catalog"))

	require.NoError(t, os.WriteFile(filepath.Join(root, "file"), nil, 0o644))
	assert.Equal(t, []string{"file: catalog path is not a directory"}, diagLines(t, root, "file"))

	require.NoError(t, os.Mkdir(filepath.Join(root, "empty"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "empty", "README.md"), nil, 0o644))
	assert.Equal(t, []string{"empty: no catalog files (*.yaml) in the catalog directory"}, diagLines(t, root, filepath.Join(root, "empty")))

	outside := t.TempDir()
	assert.Equal(t, []string{filepath.ToSlash(outside) + ": no catalog files (*.yaml) in the catalog directory"}, diagLines(t, root, outside))
}

func TestLoadUnreadableCatalogFile(t *testing.T) {
	root := writeTree(t, nil)
	require.NoError(t, os.Mkdir(filepath.Join(root, "catalog", "dir.yaml"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "catalog", "dir.yaml", "x.yaml"), []byte("bad: key"), 0o644))
	_, err := Load(root, "catalog")
	require.NoError(t, err, "directories are not catalog files")

	require.NoError(t, os.Symlink("nowhere.yaml", filepath.Join(root, "catalog", "broken.yaml")))
	lines := diagLines(t, root, "catalog")
	require.Len(t, lines, 1)
	assert.Regexp(t, `^catalog/broken\.yaml: cannot read catalog file: open .*no such file or directory$`, lines[0])
}

func TestLoadSchemaPathIsDirectory(t *testing.T) {
	root := writeTree(t, map[string]string{
		executionFile: edit(t, executionYAML, "order_created.json", ""),
		quantityFile:  edit(t, quantityJSON, `"unit.json"`, `"."`),
	})
	lines := diagLines(t, root, "catalog")
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `catalog/execution.yaml:6:13: schema "../schemas/execution/" cannot be read: `)

	root = writeTree(t, map[string]string{quantityFile: edit(t, quantityJSON, `"unit.json"`, `"./"`)})
	lines = diagLines(t, root, "catalog")
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], `schemas/common/quantity.json:8:22: $ref "./" cannot be read: `)
}

func TestLoadGood(t *testing.T) {
	files := map[string]string{
		platformFile: edit(t, platformYAML, "max_age: 720h", "max_age: 720h\n  replicas: 3"),
		executionFile: executionYAML +
			"  - subject: execution.order.audited\n" +
			"    version: 2\n" +
			"    publisher: execution\n" +
			"    consumers: [execution, analytics]\n" +
			"    self_consume: true\n" +
			"    go_name: OrderAudit\n" +
			"    schema: ../schemas/execution/order_created.json\n" +
			"    description: |\n      An order was audited.\n      Twice.\n" +
			"    examples:\n" +
			"      - &ex\n        order_id: \"<a&b>\"\n        quantity: {value: 1.5e0, unit: KG}\n" +
			"      - *ex\n",
		"catalog/ddmrp.yml": "events:\n",
		"catalog/notes.txt": "not a catalog file",
	}
	root := writeTree(t, files)

	cat, err := Load(root, "catalog")
	require.NoError(t, err)
	require.NotNil(t, cat)

	assert.Equal(t, "catalog", cat.Dir)
	assert.Equal(t, []string{"catalog/ddmrp.yml", "catalog/execution.yaml", "catalog/platform.yaml"}, cat.Files)
	assert.Equal(t, Stream{
		Name:             "GIIA",
		Subjects:         []string{"execution.>", "ddmrp.>"},
		Duplicates:       2 * 60e9,
		MaxAge:           720 * 3600e9,
		Replicas:         3,
		DeadLetterStream: "GIIA_DEAD_LETTERS",
		DeadLetterPrefix: "deadletter",
		Pos:              Pos{File: platformFile, Line: 2, Col: 3},
	}, cat.Stream)
	assert.Equal(t, []Service{
		{Name: "analytics", Description: "Analytics", External: true, Pos: Pos{File: platformFile, Line: 10, Col: 3}},
		{Name: "ddmrp", Description: "DDMRP service", Pos: Pos{File: platformFile, Line: 9, Col: 3}},
		{Name: "execution", Description: "Execution service", Owner: "team-execution", Pos: Pos{File: platformFile, Line: 8, Col: 3}},
	}, cat.Services)

	require.Len(t, cat.Events, 2)
	audited, created := cat.Events[0], cat.Events[1]
	assert.Equal(t, "execution.order.audited", audited.Subject)
	assert.Equal(t, "execution.order.created", created.Subject)

	assert.Equal(t, Event{
		Subject:     "execution.order.created",
		Version:     1,
		Publisher:   "execution",
		Consumers:   []string{"analytics", "ddmrp"},
		Description: "An order was created.",
		Schema:      orderFile,
		SchemaURL:   "../schemas/execution/order_created.json",
		Examples:    []json.RawMessage{json.RawMessage(`{"order_id":"o-1","quantity":{"value":5,"unit":"EA"}}`)},
		Pos:         Pos{File: executionFile, Line: 2, Col: 5},
		SchemaPos:   Pos{File: executionFile, Line: 6, Col: 13},
		ExamplesPos: []Pos{{File: executionFile, Line: 9, Col: 9}},
	}, created)

	assert.Equal(t, 2, audited.Version)
	assert.Equal(t, []string{"analytics", "execution"}, audited.Consumers)
	assert.True(t, audited.SelfConsume)
	assert.Equal(t, "OrderAudit", audited.GoName)
	assert.Equal(t, "An order was audited.\nTwice.\n", audited.Description)
	want := json.RawMessage(`{"order_id":"<a&b>","quantity":{"value":1.5e0,"unit":"KG"}}`)
	assert.Equal(t, []json.RawMessage{want, want}, audited.Examples)
	assert.Equal(t, []Pos{{File: executionFile, Line: 21, Col: 9}, {File: executionFile, Line: 21, Col: 9}}, audited.ExamplesPos)

	// Every file reached, through $ref too, with its text and node tree.
	require.Len(t, cat.Schemas, 3)
	for path, text := range map[string]string{orderFile: orderCreatedJSON, quantityFile: quantityJSON, unitFile: unitJSON} {
		s := cat.Schemas[path]
		require.NotNil(t, s, path)
		assert.Equal(t, path, s.Path)
		assert.Equal(t, text, string(s.Raw))
		require.Equal(t, yaml.DocumentNode, s.Node.Kind)
		assert.Equal(t, yaml.MappingNode, s.Node.Content[0].Kind)
	}
	props := cat.Schemas[orderFile].Node.Content[0].Content[9]
	require.Equal(t, yaml.MappingNode, props.Kind)
	assert.Equal(t, "order_id", props.Content[0].Value)
	assert.Equal(t, "quantity", props.Content[2].Value)
	assert.Equal(t, [2]int{8, 5}, [2]int{props.Content[2].Line, props.Content[2].Column})

	assert.Equal(t, map[string]string{orderFile: orderCreatedJSON, quantityFile: quantityJSON, unitFile: unitJSON}, cat.Resources())

	e, ok := cat.Event("execution.order.created")
	require.True(t, ok)
	assert.Same(t, &cat.Events[1], e)
	_, ok = cat.Event("execution.order.deleted")
	assert.False(t, ok)

	s, err := cat.Compile("execution.order.created")
	require.NoError(t, err)
	assert.Equal(t, orderFile, s.Path())
	assert.NoError(t, s.ValidateJSON(created.Examples[0]))
	err = s.ValidateJSON([]byte(`{"order_id":"o","quantity":{"value":1,"unit":"LB"}}`))
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)

	_, err = cat.Compile("execution.order.deleted")
	assert.EqualError(t, err, `catalog: unknown subject "execution.order.deleted"`)

	broken := *cat
	broken.Schemas = map[string]*SchemaFile{orderFile: cat.Schemas[orderFile]}
	_, err = broken.Compile("execution.order.created")
	assert.ErrorContains(t, err, "catalog: schema schemas/execution/order_created.json: ")
}

func TestLoadVersions(t *testing.T) {
	root := writeTree(t, map[string]string{
		orderV1File: orderV1JSON,
		executionFile: withVersions(t, "version: 3\n    publish_version: 1", ""+
			"      - version: 2\n        schema: ../schemas/execution/order_created.json\n        examples: [{order_id: o-2, quantity: {value: 1, unit: KG}}]\n"+
			"      - version: 1\n        schema: ../schemas/execution/order_created_v1.json\n        examples:\n          - {order_id: o-1}\n          - {order_id: o-0}\n"),
	})
	cat, err := Load(root, "catalog")
	require.NoError(t, err)
	e, ok := cat.Event("execution.order.created")
	require.True(t, ok)
	assert.Equal(t, 3, e.Version)
	assert.Equal(t, 1, e.PublishVersion)
	assert.Equal(t, Pos{File: executionFile, Line: 4, Col: 22}, e.PublishVersionPos)
	assert.Equal(t, []EventVersion{
		{
			Version: 1, Schema: orderV1File, SchemaURL: "../schemas/execution/order_created_v1.json",
			Examples:    []json.RawMessage{json.RawMessage(`{"order_id":"o-1"}`), json.RawMessage(`{"order_id":"o-0"}`)},
			Pos:         Pos{File: executionFile, Line: 15, Col: 9},
			SchemaPos:   Pos{File: executionFile, Line: 16, Col: 17},
			ExamplesPos: []Pos{{File: executionFile, Line: 18, Col: 13}, {File: executionFile, Line: 19, Col: 13}},
		},
		{
			Version: 2, Schema: orderFile, SchemaURL: "../schemas/execution/order_created.json",
			Examples:    []json.RawMessage{json.RawMessage(`{"order_id":"o-2","quantity":{"value":1,"unit":"KG"}}`)},
			Pos:         Pos{File: executionFile, Line: 12, Col: 9},
			SchemaPos:   Pos{File: executionFile, Line: 13, Col: 17},
			ExamplesPos: []Pos{{File: executionFile, Line: 14, Col: 20}},
		},
	}, e.Versions, "sorted by version")
	assert.Contains(t, cat.Schemas, orderV1File, "the schemas of older versions are loaded too")
	assert.Len(t, cat.Schemas, 4)
}

func TestLoadAbsoluteDirAndDeadLetterSettings(t *testing.T) {
	root := writeTree(t, map[string]string{
		platformFile: edit(t, platformYAML, "max_age: 720h", "max_age: 720h\n  dead_letter: {stream: DLQ, prefix: dead.letters}"),
		executionFile: executionYAML +
			"  - subject: ddmrp.buffer.updated\n" +
			"    version: 1\n" +
			"    publisher: ddmrp\n" +
			"    consumers: ~\n" +
			"    schema: ../schemas/execution/order_created.json\n" +
			"    description: A buffer was updated.\n" +
			"    examples: [{order_id: \"1\", quantity: {value: 0, unit: EA}}]\n",
	})
	cat, err := Load(root, filepath.Join(root, "catalog"))
	require.NoError(t, err)
	assert.Equal(t, "DLQ", cat.Stream.DeadLetterStream)
	assert.Equal(t, "dead.letters", cat.Stream.DeadLetterPrefix)
	assert.Equal(t, 1, cat.Stream.Replicas)
	require.Len(t, cat.Events, 2)
	assert.Empty(t, cat.Events[0].Consumers)
	assert.Equal(t, "ddmrp.buffer.updated", cat.Events[0].Subject)
}

// TestLoadRepositoryCatalog loads the catalog of this repository: it must
// be valid, every example included.
func TestLoadRepositoryCatalog(t *testing.T) {
	root, err := filepath.Abs("../../../..")
	require.NoError(t, err)
	cat, err := Load(root, "catalog")
	require.NoError(t, err)
	assert.Equal(t, "GIIA", cat.Stream.Name)
	assert.NotEmpty(t, cat.Events)
	for _, e := range cat.Events {
		s, err := cat.Compile(e.Subject)
		require.NoError(t, err, e.Subject)
		for i, ex := range e.Examples {
			assert.NoError(t, s.ValidateJSON(ex), "%s example %d", e.Subject, i+1)
		}
	}
}

func TestDiagnosticString(t *testing.T) {
	assert.Equal(t, "a.yaml:3:7: m", Diagnostic{Pos{"a.yaml", 3, 7}, "m"}.String())
	assert.Equal(t, "a.yaml:3: m", Diagnostic{Pos{"a.yaml", 3, 0}, "m"}.String())
	assert.Equal(t, "a.yaml: m", Diagnostic{Pos{"a.yaml", 0, 0}, "m"}.String())

	ds := Diagnostics{
		{Pos{"b.yaml", 1, 1}, "z"},
		{Pos{"a.yaml", 10, 1}, "y"},
		{Pos{"a.yaml", 2, 5}, "x"},
		{Pos{"a.yaml", 2, 5}, "w"},
		{Pos{"a.yaml", 2, 0}, "v"},
	}
	assert.Equal(t, "a.yaml:2: v\na.yaml:2:5: w\na.yaml:2:5: x\na.yaml:10:1: y\nb.yaml:1:1: z", ds.Error())
	assert.Equal(t, "z", ds[0].Message, "Error sorts a copy")
	var err error = ds
	var got Diagnostics
	require.True(t, errors.As(err, &got))
	assert.Len(t, got, 5)
}
