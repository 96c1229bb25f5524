package cli

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAddingAnEventExtendsTheFacades is the workflow of the README: add an
// event to the catalog, add its schema, regenerate; the publisher gains a
// typed method and the consumer's handlers a typed field, with no hand edit.
func TestAddingAnEventExtendsTheFacades(t *testing.T) {
	root := writeGenModule(t, nil)
	code, _, stderr := runCLI("generate")
	require.Equal(t, 0, code, stderr)
	before := goFiles(t, filepath.Join(root, "sdk", "events"))
	assert.NotContains(t, before["service_orders.go"], "OrderCancelled")

	root = writeGenModule(t, map[string]string{
		"catalog/cancellations.yaml": `events:
  - subject: shop.order.cancelled
    version: 1
    publisher: orders
    consumers: [billing]
    schema: ../schemas/orders/order_cancelled.json
    description: An order was cancelled before it shipped.
    examples:
      - {order_id: "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93", reason: "customer request"}
`,
		"schemas/orders/order_cancelled.json": `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id", "reason"],
  "properties": {
    "order_id": {"type": "string", "format": "uuid"},
    "reason": {"type": "string", "minLength": 1}
  }
}
`,
	})
	code, _, stderr = runCLI("generate")
	require.Equal(t, 0, code, stderr)
	after := goFiles(t, filepath.Join(root, "sdk", "events"))

	assert.Contains(t, after["service_orders.go"],
		"func (p *OrdersPublisher) OrderCancelled(ctx context.Context, payload OrderCancelled, opts ...bus.PublishOption) (*bus.PublishAck, error) {")
	assert.Contains(t, after["service_billing.go"], "OrderCancelled bus.Handler[OrderCancelled]")
	assert.Contains(t, after["subjects.go"], `SubjectShopOrderCancelled = "shop.order.cancelled"`)
	assert.Contains(t, after["payloads_orders.go"], "type OrderCancelled struct {")
	assert.NotContains(t, after["service_billing.go"], "func (p *BillingPublisher) OrderCancelled",
		"only the owner publishes it")

	code, _, stderr = runCLI("generate", "--check")
	assert.Equal(t, 0, code, stderr)
}
