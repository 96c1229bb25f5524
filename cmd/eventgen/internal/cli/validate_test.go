package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validateModule is a small module with a catalog of one event whose
// schema reaches a second file through $ref.
var validateModule = map[string]string{
	"go.mod": "module example.com/shop\n\ngo 1.26\n",
	"catalog/catalog.yaml": `stream: {name: SHOP, subjects: ["shop.>"]}
services:
  orders: {description: Orders}
  billing: {description: Billing}
events:
  - subject: shop.order.placed
    version: 1
    publisher: orders
    consumers: [billing]
    schema: ../schemas/orders/order_placed.json
    description: An order was placed.
    examples:
      - {order_id: o-1, quantity: {value: 2}}
`,
	"schemas/orders/order_placed.json": `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id", "quantity"],
  "properties": {
    "order_id": {"type": "string", "minLength": 1},
    "quantity": {"$ref": "../common/quantity.json"}
  }
}
`,
	"schemas/common/quantity.json": `{
  "type": "object",
  "required": ["value"],
  "properties": {"value": {"type": "number", "minimum": 0}}
}
`,
	"payloads/good.json":    `{"order_id": "o-1", "quantity": {"value": 3}}`,
	"payloads/good2.json":   `{"order_id": "o-2", "quantity": {"value": 0.5}}`,
	"payloads/bad.json":     `{"order_id": "", "quantity": {"value": -1}, "note": "x"}`,
	"payloads/missing.json": `{"quantity": {}}`,
	"payloads/notjson.json": `{"order_id": `,
	"payloads/array.json":   `[]`,
}

// writeModule writes the files into a fresh folder, overriding or (with an
// empty text) leaving out some, and makes it the current folder.
func writeModule(t *testing.T, overrides map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{}
	for name, text := range validateModule {
		files[name] = text
	}
	for name, text := range overrides {
		files[name] = text
	}
	for name, text := range files {
		if text == "" {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
	t.Chdir(root)
	return root
}

// validate runs "eventgen validate args..." in-process.
func validate(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runValidate(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestValidateValid(t *testing.T) {
	writeModule(t, nil)
	code, stdout, stderr := validate("shop.order.placed", "payloads/good.json", "payloads/good2.json")
	assert.Equal(t, 0, code)
	assert.Equal(t, "payloads/good.json: ok\npayloads/good2.json: ok\n", stdout)
	assert.Empty(t, stderr)
}

func TestValidateInvalid(t *testing.T) {
	writeModule(t, nil)
	code, stdout, stderr := validate("shop.order.placed",
		"payloads/good.json", "payloads/bad.json", "payloads/missing.json", "payloads/notjson.json", "payloads/array.json", "payloads/absent.json")
	assert.Equal(t, 1, code)
	assert.Equal(t, "payloads/good.json: ok\n", stdout)
	assert.Equal(t, strings.Join([]string{
		`payloads/bad.json: /: additionalProperties 'note' not allowed`,
		`payloads/bad.json: /order_id: length must be >= 1, but got 0`,
		`payloads/bad.json: /quantity/value: must be >= 0 but found -1`,
		`payloads/missing.json: /: missing properties: 'order_id'`,
		`payloads/missing.json: /quantity: missing properties: 'value'`,
		`payloads/notjson.json: /: not valid JSON: unexpected EOF`,
		`payloads/array.json: /: expected object, but got array`,
		`payloads/absent.json: cannot read the file: no such file or directory`,
	}, "\n")+"\n", stderr)
}

func TestValidateThroughRun(t *testing.T) {
	writeModule(t, nil)
	var stdout, stderr bytes.Buffer
	code := Run([]string{"validate", "shop.order.placed", "payloads/good.json"}, &stdout, &stderr)
	assert.Equal(t, 0, code)
	assert.Equal(t, "payloads/good.json: ok\n", stdout.String())
	assert.Empty(t, stderr.String())
}

func TestValidateUnknownSubject(t *testing.T) {
	writeModule(t, nil)
	code, stdout, stderr := validate("shop.order.cancelled", "payloads/good.json")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "eventgen validate: unknown subject \"shop.order.cancelled\": the catalog catalog has no such event\n", stderr)
}

func TestValidateInvalidCatalog(t *testing.T) {
	writeModule(t, map[string]string{
		"catalog/catalog.yaml": strings.Replace(validateModule["catalog/catalog.yaml"], "consumers: [billing]", "consumers: [biling]\n    owner: x", 1),
	})
	code, stdout, stderr := validate("shop.order.placed", "payloads/good.json")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t,
		`catalog/catalog.yaml:9:17: consumer "biling" is not a declared service (want one of "billing", "orders")`+"\n"+
			`catalog/catalog.yaml:10:5: unknown key "owner" in event (want one of "consumers", "description", "examples", "go_name", "publish_version", "publisher", "schema", "self_consume", "subject", "version", "versions")`+"\n",
		stderr)
}

func TestValidateCatalogFlag(t *testing.T) {
	root := writeModule(t, map[string]string{
		"catalog/catalog.yaml": "",
		"alt/catalog.yaml":     validateModule["catalog/catalog.yaml"],
	})
	code, _, stderr := validate("shop.order.placed", "payloads/good.json")
	assert.Equal(t, 1, code)
	assert.Equal(t, "catalog: catalog directory does not exist\n", stderr)

	// Relative to the current folder, and flags may follow the arguments.
	t.Chdir(filepath.Join(root, "payloads"))
	for _, args := range [][]string{
		{"--catalog", "../alt", "shop.order.placed", "good.json"},
		{"shop.order.placed", "good.json", "--catalog=../alt"},
		{"-catalog", filepath.Join(root, "alt"), "--", "shop.order.placed", "good.json"},
		{"shop.order.placed", "--catalog", "../alt", "--", "good.json"},
	} {
		code, stdout, stderr := validate(args...)
		assert.Equal(t, 0, code, args)
		assert.Equal(t, "good.json: ok\n", stdout, args)
		assert.Empty(t, stderr, args)
	}

	// After "--" everything is an argument, a flag-like name too.
	code, _, stderr = validate("--catalog", "../alt", "--", "shop.order.placed", "--catalog")
	assert.Equal(t, 1, code)
	assert.Equal(t, "--catalog: cannot read the file: no such file or directory\n", stderr)
}

func TestValidateUsage(t *testing.T) {
	writeModule(t, nil)
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no arguments", nil, "eventgen validate: missing SUBJECT and FILE arguments\nRun \"eventgen validate --help\" for usage.\n"},
		{"no file", []string{"shop.order.placed"}, "eventgen validate: missing FILE arguments after the subject \"shop.order.placed\"\nRun \"eventgen validate --help\" for usage.\n"},
		{"unknown flag", []string{"--strict", "shop.order.placed", "x.json"}, "eventgen validate: flag provided but not defined: -strict\n" + validateHelp},
		{"flag without value", []string{"shop.order.placed", "x.json", "--catalog"}, "eventgen validate: flag needs an argument: -catalog\n" + validateHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := validate(tt.args...)
			assert.Equal(t, 2, code)
			assert.Empty(t, stdout)
			assert.True(t, strings.HasPrefix(stderr, tt.stderr), "stderr:\n%s", stderr)
		})
	}
}

func TestValidateHelp(t *testing.T) {
	for _, arg := range []string{"--help", "-h", "-help"} {
		code, stdout, stderr := validate(arg)
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr)
		assert.True(t, strings.HasPrefix(stdout, "usage: eventgen validate [--catalog DIR] SUBJECT FILE...\n"), stdout)
		assert.Contains(t, stdout, "-catalog DIR\n")
	}
}

func TestValidateOutsideModule(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := validate("shop.order.placed", "x.json")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, "eventgen validate: no go.mod in "+dir+" or any folder above it\n", stderr)
}

func TestValidateFindRoot(t *testing.T) {
	root := writeModule(t, nil)
	sub := filepath.Join(root, "schemas", "common")
	got, err := validateFindRoot(sub)
	require.NoError(t, err)
	assert.Equal(t, root, got)

	// A folder named go.mod is not a module.
	require.NoError(t, os.Mkdir(filepath.Join(sub, "go.mod"), 0o755))
	got, err = validateFindRoot(sub)
	require.NoError(t, err)
	assert.Equal(t, root, got)
}
