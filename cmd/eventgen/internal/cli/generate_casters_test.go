package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// versionedOrders is genModuleFiles' orders catalog with shop.order.placed
// at version 2, whose quantity version 1 did not have, and pinned to 1.
var versionedOrders = map[string]string{
	"catalog/orders.yaml": `events:
  - subject: shop.order.placed
    version: 2
    publish_version: 1
    publisher: orders
    consumers: [billing]
    schema: ../schemas/orders/order_placed.json
    description: An order was placed.
    examples:
      - {order_id: "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93", quantity: {value: 2}}
    versions:
      - version: 1
        schema: ../schemas/orders/order_placed.v1.json
        examples:
          - {order_id: "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93"}
  - subject: shop.invoice.sent
    version: 1
    publisher: billing
    schema: ../schemas/billing/invoice_sent.json
    description: An invoice was sent.
    examples:
      - {invoice_id: "i-1"}
`,
	"schemas/orders/order_placed.v1.json": `{"type": "object", "additionalProperties": false, "required": ["order_id"], "properties": {"order_id": {"type": "string", "format": "uuid"}}}
`,
}

func TestGenerateNamesMissingCasters(t *testing.T) {
	root := writeGenModule(t, versionedOrders)
	code, stdout, stderr := runCLI("generate")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, `catalog/orders.yaml:12:9: version 1 of "shop.order.placed" needs an upcaster to version 2, which its consumers' decoder calls: write it in sdk/events/upcasters.go:
	func upcastOrderPlacedV1(v OrderPlacedV1) (OrderPlaced, error)
  eventgen check finds breaking changes from version 1 to 2, so the generator cannot write it:
	schemas/orders/order_placed.json:8: /properties/quantity: required property "quantity" added
`)
	assert.Contains(t, stderr, `catalog/orders.yaml:4:22: "shop.order.placed" pins publish_version 1: write its downcaster from version 2, which its publisher facades call, in sdk/events/downcasters.go:
	func downcastOrderPlaced(v OrderPlaced) (OrderPlacedV1, error)
  eventgen check finds breaking changes from version 2 to 1, so the generator cannot write it:
	schemas/orders/order_placed.v1.json:1: /properties/quantity: required property "quantity" removed
`)
	// The files are written all the same: the compiler points at the calls.
	files := goFiles(t, filepath.Join(root, "sdk", "events"))
	assert.Contains(t, files["payloads_orders.go"], "upcastOrderPlacedV1(v1)")
	assert.Contains(t, files["service_orders.go"], "downcastOrderPlaced(payload)")
	code, _, stderr = runCLI("generate", "--check")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "upcastOrderPlacedV1")
	assert.NotContains(t, stderr, "is stale")

	// Written, one of them with another signature.
	hand := filepath.Join(root, "sdk", "events", "upcasters.go")
	require.NoError(t, os.WriteFile(hand, []byte("package events\n\nfunc upcastOrderPlacedV1(old OrderPlacedV1) OrderPlaced { return OrderPlaced{OrderID: old.OrderID} }\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sdk", "events", "downcasters.go"), []byte("package events\n\nfunc downcastOrderPlaced(v OrderPlaced) (OrderPlacedV1, error) {\n\treturn OrderPlacedV1{OrderID: v.OrderID}, nil\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "sdk", "events", "broken.go"), []byte("package events\n\nfunc {\n"), 0o644))
	code, _, stderr = runCLI("generate")
	assert.Equal(t, 1, code)
	assert.Equal(t, "sdk/events/upcasters.go:3:1: upcastOrderPlacedV1 is declared as func upcastOrderPlacedV1(v OrderPlacedV1) OrderPlaced; want func upcastOrderPlacedV1(v OrderPlacedV1) (OrderPlaced, error)\n", stderr)

	require.NoError(t, os.Remove(filepath.Join(root, "sdk", "events", "broken.go")))
	require.NoError(t, os.WriteFile(hand, []byte("package events\n\nfunc upcastOrderPlacedV1(old OrderPlacedV1) (_ OrderPlaced, err error) { return OrderPlaced{OrderID: old.OrderID}, nil }\n"), 0o644))
	code, _, stderr = runCLI("generate")
	assert.Equal(t, 0, code, stderr)
	assert.Empty(t, stderr)
	code, _, stderr = runCLI("generate", "--check")
	assert.Equal(t, 0, code, stderr)
}

func TestSignature(t *testing.T) {
	root := t.TempDir()
	src := "package events\n\nfunc a(x, y int) {}\nfunc b() (int, error) { return 0, nil }\nfunc c() error { return nil }\nfunc (T) d() {}\n\ntype T struct{}\n"
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.go"), []byte(src), 0o644))
	funcs, err := handWrittenFuncs(root)
	require.NoError(t, err)
	assert.Equal(t, "func a(v int, v int)", funcs["a"].signature)
	assert.Equal(t, "func b() (int, error)", funcs["b"].signature)
	assert.Equal(t, "func c() error", funcs["c"].signature)
	assert.NotContains(t, funcs, "d")

	funcs, err = handWrittenFuncs(filepath.Join(root, "missing"))
	require.NoError(t, err)
	assert.Empty(t, funcs)
}
