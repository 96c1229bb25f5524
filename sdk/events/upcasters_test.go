package events

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
)

// salesOrderV1 is the version 1 example of the catalog, with a second
// line.
const salesOrderV1 = `{
  "sales_order_id": "47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93",
  "order_number": "SO-2026-004817",
  "customer_id": "2d7f9b13-8e4a-4c65-b1d2-f6a3e8c5b049",
  "customer_reference": null,
  "location_id": "b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34",
  "lines": [
    {"line_number": 1, "product": {"product_id": "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93", "sku": "BRG-6204-2RS"},
     "quantity": {"value": 120, "unit": "EA"}, "unit_price": {"amount": 6.9, "currency": "USD"}},
    {"line_number": 2, "product": {"product_id": "c71e4b9a-2f85-4d36-b0e2-8a5d9c3f1e67", "sku": "STL-SHT-304-2MM"},
     "quantity": {"value": 300, "unit": "KG"}}
  ],
  "due_date": "2026-11-27",
  "created_at": "2026-11-26T18:22:40Z"
}`

// TestUpcastSalesOrderCreatedV1: a version 1 sales order decodes, as the
// consumers' routes do, into version 2 with every line due on the order's
// date and everything else as it was; the result passes version 2's schema,
// encoded and as a value.
func TestUpcastSalesOrderCreatedV1(t *testing.T) {
	v1, err := ParseSalesOrderCreatedV1([]byte(salesOrderV1))
	require.NoError(t, err)
	got, err := decodeSalesOrderCreated(1, []byte(salesOrderV1))
	require.NoError(t, err)

	due := payload.Date{Year: 2026, Month: 11, Day: 27}
	require.Len(t, got.Lines, 2)
	for i, l := range got.Lines {
		assert.Equal(t, due, l.DueDate, "line %d: the order's due date", l.LineNumber)
		w := v1.Lines[i]
		assert.Equal(t, SalesOrderLine{LineNumber: w.LineNumber, Product: w.Product, Quantity: w.Quantity, DueDate: due, UnitPrice: w.UnitPrice}, l)
	}
	assert.Equal(t, SalesOrderCreated{
		SalesOrderID: v1.SalesOrderID, OrderNumber: v1.OrderNumber, CustomerID: v1.CustomerID, CustomerReference: v1.CustomerReference,
		LocationID: v1.LocationID, Lines: got.Lines, CreatedAt: v1.CreatedAt,
	}, got)

	require.NoError(t, got.Validate())
	data, err := got.AppendJSON(nil)
	require.NoError(t, err)
	again, err := ParseSalesOrderCreated(data)
	require.NoError(t, err, "%s", data)
	assert.Equal(t, got, again)

	// Version 2 decodes as itself; a version 2 payload is no version 1 one.
	same, err := decodeSalesOrderCreated(2, data)
	require.NoError(t, err)
	assert.Equal(t, got, same)
	_, err = ParseSalesOrderCreatedV1(data)
	assert.Error(t, err, "version 1 requires the order's due_date")
}
