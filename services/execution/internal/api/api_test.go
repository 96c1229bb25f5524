package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	execapp "github.com/giia/events/services/execution/app"
	st "github.com/giia/events/services/internal/servicetest"
	"github.com/giia/events/services/internal/web"
)

type fixture struct {
	env      *st.Env
	svc      *execapp.Service
	url      string
	product  st.Product
	noSupply st.Product // no preferred supplier
	gone     st.Product // discontinued
	location uuid.UUID
	date     string
}

func setUp(t *testing.T) *fixture {
	t.Helper()
	env := st.New(t)
	svc := env.Start(execapp.Start)
	f := &fixture{
		env: env, svc: svc, url: svc.URL(),
		product: st.NewProduct("BRG-6204-2RS"), noSupply: st.NewProduct("GSK-220"), gone: st.NewProduct("OLD-001"),
		location: uuid.New(), date: payload.DateOf(time.Now().UTC()).AddDays(5).String(),
	}
	f.noSupply.Supplier = nil
	for _, p := range []st.Product{f.product, f.noSupply, f.gone} {
		env.PublishProduct(p)
	}
	env.DiscontinueProduct(f.gone)
	st.Eventually(t, 5*time.Second, func() bool {
		var p struct {
			Discontinued bool `json:"discontinued"`
		}
		r := env.Do(http.MethodGet, f.url+"/products/"+f.gone.ID.String(), nil)
		if r.Status != http.StatusOK {
			return false
		}
		r.Decode(t, &p)
		return p.Discontinued && env.Do(http.MethodGet, f.url+"/products/"+f.noSupply.ID.String(), nil).Status == http.StatusOK
	}, "execution never learnt the products")
	return f
}

// do sends a request and returns the response and exactly the events it
// caused: the service commits them to its outbox before it answers, so
// they are all in the stream once the outbox is flushed.
func (f *fixture) do(t *testing.T, method, path string, body any, headers ...string) (st.Response, []st.Message) {
	t.Helper()
	f.env.Flush(f.svc.Outbox())
	seq := f.env.LastSeq()
	r := f.env.Do(method, f.url+path, body, headers...)
	f.env.Flush(f.svc.Outbox())
	return r, f.env.Messages(seq)
}

func line(product uuid.UUID, qty float64) map[string]any {
	return map[string]any{"product_id": product, "quantity": qty}
}

// TestOrderOperationsEmitTheirEvents checks that each order operation and
// inventory change publishes exactly its catalog event, read back from the
// stream with a plain nats.go client.
func TestOrderOperationsEmitTheirEvents(t *testing.T) {
	f := setUp(t)
	corr := "req-" + uuid.NewString()

	// Create a purchase order: purchase_order.created.
	r, msgs := f.do(t, http.MethodPost, "/purchase-orders", map[string]any{
		"location_id": f.location, "expected_delivery_date": f.date, "created_by": "buyer@example.com",
		"lines": []map[string]any{
			{"product_id": f.product.ID, "quantity": 100, "unit_price": map[string]any{"amount": 2.5, "currency": "USD"}},
			line(f.noSupply.ID, 30),
		},
	}, "X-Correlation-ID", corr)
	r.Must(t, http.StatusCreated)
	assert.Equal(t, corr, r.Header.Get("X-Correlation-ID"))
	var po struct {
		ID     uuid.UUID `json:"purchase_order_id"`
		Number string    `json:"order_number"`
		Status string    `json:"status"`
	}
	r.Decode(t, &po)
	assert.Equal(t, "open", po.Status)
	require.Equal(t, []string{events.SubjectExecutionPurchaseOrderCreated}, st.Subjects(msgs))
	m := msgs[0]
	assert.Equal(t, corr, m.CorrelationID)
	assert.Equal(t, f.env.Org, m.OrganizationID)
	assert.Equal(t, events.ServiceExecution, m.Source)
	var created events.PurchaseOrderCreated
	require.NoError(t, m.Decode(&created))
	assert.Equal(t, po.ID, created.PurchaseOrderID)
	assert.Equal(t, po.Number, created.OrderNumber)
	assert.Regexp(t, `^PO-\d{4}-000001$`, created.OrderNumber)
	assert.Equal(t, f.product.Supplier, created.SupplierID, "the first line's preferred supplier")
	assert.Equal(t, events.PurchaseOrderCreatedOriginManual, created.Origin)
	assert.Nil(t, created.AlertID)
	require.Len(t, created.Lines, 2)
	assert.Equal(t, events.PurchaseOrderLine{
		LineNumber: 1, Product: events.ProductRef{ProductID: f.product.ID, SKU: f.product.SKU},
		Quantity: events.Quantity{Value: 100, Unit: events.UnitEA}, UnitPrice: &events.Money{Amount: 2.5, Currency: "USD"},
	}, created.Lines[0])

	// Receive part of it: purchase_order.received and inventory.updated.
	r, msgs = f.do(t, http.MethodPost, "/purchase-orders/"+po.ID.String()+"/receipts", map[string]any{
		"lines": []map[string]any{{"line_number": 1, "quantity": 60}},
	})
	r.Must(t, http.StatusCreated)
	require.Equal(t, []string{events.SubjectExecutionPurchaseOrderReceived, events.SubjectExecutionInventoryUpdated}, st.Subjects(msgs))
	var received events.PurchaseOrderReceived
	require.NoError(t, msgs[0].Decode(&received))
	assert.False(t, received.FullyReceived)
	require.Len(t, received.Lines, 1)
	assert.Equal(t, 60.0, received.Lines[0].QuantityReceived.Value)
	assert.Equal(t, 40.0, received.Lines[0].QuantityOutstanding.Value)
	var moved events.InventoryUpdated
	require.NoError(t, msgs[1].Decode(&moved))
	assert.Equal(t, events.InventoryUpdatedReasonReceipt, moved.Reason)
	assert.Equal(t, 60.0, moved.Delta)
	assert.Equal(t, 60.0, moved.OnHand.Value)
	assert.Equal(t, &po.ID, moved.ReferenceID)

	// Receive the rest: both lines, the order closes.
	r, msgs = f.do(t, http.MethodPost, "/purchase-orders/"+po.ID.String()+"/receipts", nil)
	r.Must(t, http.StatusCreated)
	require.Equal(t, []string{
		events.SubjectExecutionPurchaseOrderReceived, events.SubjectExecutionInventoryUpdated, events.SubjectExecutionInventoryUpdated,
	}, st.Subjects(msgs))
	require.NoError(t, msgs[0].Decode(&received))
	assert.True(t, received.FullyReceived)
	assert.Len(t, received.Lines, 2)
	assert.Equal(t, "closed", r.JSON(t)["purchase_order"].(map[string]any)["status"])

	// Create a sales order: sales_order.created, version 2. The first line
	// takes the order's due date, the second gives its own.
	later := payload.DateOf(time.Now().UTC()).AddDays(12).String()
	r, msgs = f.do(t, http.MethodPost, "/sales-orders", map[string]any{
		"customer_id": uuid.New(), "customer_reference": "CUST-PO-7", "location_id": f.location, "due_date": f.date,
		"lines": []any{line(f.product.ID, 70), map[string]any{"product_id": f.product.ID, "quantity": 5, "due_date": later}},
	})
	r.Must(t, http.StatusCreated)
	var so struct {
		ID    uuid.UUID `json:"sales_order_id"`
		Due   string    `json:"due_date"`
		Lines []struct {
			Due string `json:"due_date"`
		} `json:"lines"`
	}
	r.Decode(t, &so)
	assert.Equal(t, f.date, so.Due)
	require.Len(t, so.Lines, 2)
	assert.Equal(t, f.date, so.Lines[0].Due, "the order's")
	assert.Equal(t, later, so.Lines[1].Due, "its own")
	require.Equal(t, []string{events.SubjectExecutionSalesOrderCreated}, st.Subjects(msgs))
	assert.Equal(t, 2, msgs[0].Version)
	var soCreated events.SalesOrderCreated
	require.NoError(t, msgs[0].Decode(&soCreated))
	assert.Regexp(t, `^SO-\d{4}-000001$`, soCreated.OrderNumber)
	require.Len(t, soCreated.Lines, 2)
	assert.Equal(t, 70.0, soCreated.Lines[0].Quantity.Value)
	assert.Equal(t, f.date, soCreated.Lines[0].DueDate.String())
	assert.Equal(t, later, soCreated.Lines[1].DueDate.String())
	var top map[string]any
	require.NoError(t, msgs[0].Decode(&top))
	assert.NotContains(t, top, "due_date", "version 2 has no order-level due date")
	require.NotEmpty(t, msgs[0].CorrelationID, "a correlation id is made when the request has none")
	assert.NotEqual(t, corr, msgs[0].CorrelationID)

	// Ship part, then the rest: sales_order.shipped and inventory.updated.
	r, msgs = f.do(t, http.MethodPost, "/sales-orders/"+so.ID.String()+"/shipments", map[string]any{
		"lines": []map[string]any{{"line_number": 1, "quantity": 20}}, "tracking_number": "1Z999",
	})
	r.Must(t, http.StatusCreated)
	require.Equal(t, []string{events.SubjectExecutionSalesOrderShipped, events.SubjectExecutionInventoryUpdated}, st.Subjects(msgs))
	var shipped events.SalesOrderShipped
	require.NoError(t, msgs[0].Decode(&shipped))
	assert.False(t, shipped.FullyShipped)
	assert.Equal(t, 50.0, shipped.Lines[0].QuantityOutstanding.Value)
	require.NoError(t, msgs[1].Decode(&moved))
	assert.Equal(t, events.InventoryUpdatedReasonShipment, moved.Reason)
	assert.Equal(t, -20.0, moved.Delta)
	assert.Equal(t, 80.0, moved.OnHand.Value)

	r, msgs = f.do(t, http.MethodPost, "/sales-orders/"+so.ID.String()+"/shipments", map[string]any{})
	r.Must(t, http.StatusCreated)
	// Both lines are one product: one movement, with the balance after both.
	require.Equal(t, []string{events.SubjectExecutionSalesOrderShipped, events.SubjectExecutionInventoryUpdated}, st.Subjects(msgs))
	require.NoError(t, msgs[0].Decode(&shipped))
	assert.True(t, shipped.FullyShipped)
	require.NoError(t, msgs[1].Decode(&moved))
	assert.Equal(t, -55.0, moved.Delta)
	assert.Equal(t, 25.0, moved.OnHand.Value)

	// Adjust inventory: inventory.updated.
	r, msgs = f.do(t, http.MethodPost, "/inventory/adjustments", map[string]any{
		"product_id": f.product.ID, "location_id": f.location, "delta": -5, "reason": "damage", "note": "forklift",
	})
	r.Must(t, http.StatusCreated)
	require.Equal(t, []string{events.SubjectExecutionInventoryUpdated}, st.Subjects(msgs))
	require.NoError(t, msgs[0].Decode(&moved))
	assert.Equal(t, events.InventoryUpdatedReasonDamage, moved.Reason)
	assert.Equal(t, 20.0, moved.OnHand.Value) // 100 received - 75 shipped - 5
	assert.Nil(t, moved.ReferenceID)
	require.NotNil(t, moved.Note)
	assert.Equal(t, "forklift", *moved.Note)
}

// TestRefusedRequests checks every refusal: its status, the field it
// names, and that nothing was published.
func TestRefusedRequests(t *testing.T) {
	f := setUp(t)
	// An open purchase order and sales order, and a closed one of each.
	mk := func(path string, body any) uuid.UUID {
		var v map[string]any
		f.env.Do(http.MethodPost, f.url+path, body).Must(t, http.StatusCreated).Decode(t, &v)
		for _, k := range []string{"purchase_order_id", "sales_order_id"} {
			if id, ok := v[k].(string); ok {
				return uuid.MustParse(id)
			}
		}
		t.Fatalf("no id in %v", v)
		return uuid.Nil
	}
	poBody := map[string]any{"location_id": f.location, "expected_delivery_date": f.date, "lines": []any{line(f.product.ID, 50)}}
	soBody := map[string]any{"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date, "lines": []any{line(f.product.ID, 40)}}
	openPO, closedPO := mk("/purchase-orders", poBody), mk("/purchase-orders", poBody)
	f.env.Do(http.MethodPost, f.url+"/purchase-orders/"+closedPO.String()+"/receipts", nil).Must(t, http.StatusCreated) // on hand: 50
	openSO, closedSO := mk("/sales-orders", soBody), mk("/sales-orders", soBody)
	f.env.Do(http.MethodPost, f.url+"/sales-orders/"+closedSO.String()+"/shipments", nil).Must(t, http.StatusCreated) // on hand: 10
	bigSO := mk("/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date, "lines": []any{line(f.product.ID, 500)}})

	po := func(mod func(map[string]any)) map[string]any {
		b := map[string]any{"location_id": f.location.String(), "expected_delivery_date": f.date, "lines": []any{line(f.product.ID, 10)}}
		mod(b)
		return b
	}
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		headers []string
		status  int
		field   string
		message string // a part of it
	}{
		{"no token", http.MethodGet, "/inventory", nil, []string{"Authorization", ""}, 401, "Authorization", "bearer token is required"},
		{"not a bearer token", http.MethodGet, "/inventory", nil, []string{"Authorization", "Basic eDp5"}, 401, "Authorization", "bearer token"},
		{"forged token", http.MethodGet, "/inventory", nil, []string{"Authorization", "Bearer eyJhbGciOiJub25lIn0.e30."}, 401, "Authorization", "does not verify"},
		{"a buyer adjusts stock", http.MethodPost, "/inventory/adjustments", map[string]any{}, f.env.As(f.env.Org, web.RoleBuyer), 403, "", "warehouse"},
		{"a warehouse raises an order", http.MethodPost, "/purchase-orders", po(func(map[string]any) {}), f.env.As(f.env.Org, web.RoleWarehouse), 403, "", "buyer"},
		{"a buyer receives", http.MethodPost, "/purchase-orders/" + uuid.NewString() + "/receipts", nil, f.env.As(f.env.Org, web.RoleBuyer), 403, "", "warehouse"},
		{"a buyer ships", http.MethodPost, "/sales-orders/" + uuid.NewString() + "/shipments", nil, f.env.As(f.env.Org, web.RoleBuyer), 403, "", "warehouse"},
		{"a buyer sells", http.MethodPost, "/sales-orders", map[string]any{}, f.env.As(f.env.Org, web.RoleBuyer), 403, "", "sales"},
		{"not JSON", http.MethodPost, "/purchase-orders", po(func(map[string]any) {}), []string{"Content-Type", "text/plain"}, 415, "Content-Type", "application/json"},
		{"repeated key", http.MethodPost, "/purchase-orders", `{"location_id": "x", "location_id": "y"}`, nil, 400, "location_id", "repeated key"},
		{"case-folded key", http.MethodPost, "/purchase-orders", `{"Location_ID": "x"}`, nil, 400, "Location_ID", "case-sensitive"},
		{"invalid UTF-8", http.MethodPost, "/purchase-orders", "{\"note\": \"\xff\"}", nil, 400, "", "UTF-8"},
		{"correlation id too long", http.MethodGet, "/inventory", nil, []string{"X-Correlation-ID", strings.Repeat("x", 129)}, 400, "X-Correlation-ID", "128"},
		{"unknown route", http.MethodGet, "/nowhere", nil, nil, 404, "", "no route"},
		{"no body", http.MethodPost, "/purchase-orders", nil, nil, 400, "", "required"},
		{"malformed JSON", http.MethodPost, "/purchase-orders", `{"location_id": `, nil, 400, "", "malformed"},
		{"syntax error", http.MethodPost, "/purchase-orders", `{"location_id" 1}`, nil, 400, "", "malformed"},
		{"not an object", http.MethodPost, "/purchase-orders", `[1]`, nil, 400, "", "object"},
		{"two values", http.MethodPost, "/purchase-orders", `{} {}`, nil, 400, "", "after"},
		{"unknown field", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["colour"] = "red" }), nil, 400, "colour", "unknown field"},
		{"wrong type", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": "ten"}}
		}), nil, 400, "lines.quantity", "number"},
		{"missing location", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { delete(b, "location_id") }), nil, 400, "location_id", "required"},
		{"location not a UUID", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["location_id"] = "dock 4" }), nil, 400, "location_id", "UUID"},
		{"bad date", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["expected_delivery_date"] = "27/11/2026" }), nil, 400, "expected_delivery_date", "YYYY-MM-DD"},
		{"missing date", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { delete(b, "expected_delivery_date") }), nil, 400, "expected_delivery_date", "required"},
		{"bad supplier", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["supplier_id"] = "x" }), nil, 400, "supplier_id", "UUID"},
		{"no lines", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{} }), nil, 400, "lines", "at least one"},
		{"line without product", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{map[string]any{"quantity": 1}} }), nil, 400, "lines[0].product_id", "required"},
		{"line without quantity", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{map[string]any{"product_id": f.product.ID}} }), nil, 400, "lines[0].quantity", "required"},
		{"zero quantity", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(f.product.ID, 0)} }), nil, 400, "lines[0].quantity", "above 0"},
		{"a quantity of 1e302", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(f.product.ID, 1e302)} }), nil, 400, "lines[0].quantity", "at most 1e+12"},
		{"15,000 lines", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			lines := make([]any, 15000)
			for i := range lines {
				lines[i] = line(f.product.ID, 1)
			}
			b["lines"] = lines
		}), nil, 400, "lines", "at most 1000 lines"},
		{"an adjustment of 1e13", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 1e13, "reason": "adjustment"}, nil, 400, "delta", "-1e+12 to 1e+12"},
		{"negative quantity", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(f.product.ID, 1), line(f.product.ID, -3)} }), nil, 400, "lines[1].quantity", "above 0"},
		{"unknown product", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(uuid.New(), 1)} }), nil, 400, "lines[0].product_id", "unknown product"},
		{"discontinued product", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(f.gone.ID, 1)} }), nil, 409, "lines[0].product_id", "discontinued"},
		{"bad currency", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "unit_price": map[string]any{"amount": 1, "currency": "usd"}}}
		}), nil, 400, "lines[0].unit_price.currency", "ISO 4217"},
		{"negative price", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "unit_price": map[string]any{"amount": -1, "currency": "USD"}}}
		}), nil, 400, "lines[0].unit_price.amount", "from 0 to 1e+12"},
		{"a price of 1e300", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "unit_price": map[string]any{"amount": 1e300, "currency": "USD"}}}
		}), nil, 400, "lines[0].unit_price.amount", "from 0 to 1e+12"},
		{"price without currency", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "unit_price": map[string]any{"amount": 1}}}
		}), nil, 400, "lines[0].unit_price.currency", "required"},
		{"bad buyer e-mail", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["created_by"] = "Bob <bob@example.com>" }), nil, 400, "created_by", "e-mail"},
		{"no supplier to be found", http.MethodPost, "/purchase-orders", po(func(b map[string]any) { b["lines"] = []any{line(f.noSupply.ID, 1)} }), nil, 400, "supplier_id", "no preferred supplier"},
		{"unknown purchase order", http.MethodGet, "/purchase-orders/" + uuid.NewString(), nil, nil, 404, "purchase_order_id", "no purchase order"},
		{"purchase order id not a UUID", http.MethodGet, "/purchase-orders/42", nil, nil, 400, "id", "UUID"},
		{"list by a bad alert", http.MethodGet, "/purchase-orders?alert_id=x", nil, nil, 400, "alert_id", "UUID"},
		{"list by a bad location", http.MethodGet, "/purchase-orders?location_id=x", nil, nil, 400, "location_id", "UUID"},
		{"receive an unknown order", http.MethodPost, "/purchase-orders/" + uuid.NewString() + "/receipts", nil, nil, 404, "purchase_order_id", "no purchase order"},
		{"receive a bad id", http.MethodPost, "/purchase-orders/x/receipts", nil, nil, 400, "id", "UUID"},
		{"receive bad JSON", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", `{`, nil, 400, "", "malformed"},
		{"receive more than ordered", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": 51}}}, nil, 409, "lines[0].quantity", "only 50 outstanding"},
		{"receive an unknown line", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"line_number": 2, "quantity": 1}}}, nil, 400, "lines[0].line_number", "no line 2"},
		{"receive a line twice", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": 1}, map[string]any{"line_number": 1, "quantity": 1}}}, nil, 400, "lines[1].line_number", "twice"},
		{"receive nothing", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": 0}}}, nil, 400, "lines[0].quantity", "above 0"},
		{"receive without line number", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"quantity": 1}}}, nil, 400, "lines[0].line_number", "required"},
		{"receive without quantity", http.MethodPost, "/purchase-orders/" + openPO.String() + "/receipts", map[string]any{"lines": []any{map[string]any{"line_number": 1}}}, nil, 400, "lines[0].quantity", "required"},
		{"receive a closed order", http.MethodPost, "/purchase-orders/" + closedPO.String() + "/receipts", nil, nil, 409, "", "closed"},
		{"sales order without customer", http.MethodPost, "/sales-orders", map[string]any{"location_id": f.location, "due_date": f.date, "lines": []any{line(f.product.ID, 1)}}, nil, 400, "customer_id", "required"},
		{"sales order without location", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "due_date": f.date, "lines": []any{line(f.product.ID, 1)}}, nil, 400, "location_id", "required"},
		{"sales order without due date", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location, "lines": []any{line(f.product.ID, 1)}}, nil, 400, "due_date", "required"},
		{"sales order line with a bad due date", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date,
			"lines": []any{line(f.product.ID, 1), map[string]any{"product_id": f.product.ID, "quantity": 1, "due_date": "2026-13-01"}}}, nil, 400, "lines[1].due_date", "YYYY-MM-DD"},
		{"sales order line with a due date but no order due date", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location,
			"lines": []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "due_date": f.date}}}, nil, 400, "due_date", "required"},
		{"purchase order line with a due date", http.MethodPost, "/purchase-orders", po(func(b map[string]any) {
			b["lines"] = []any{map[string]any{"product_id": f.product.ID, "quantity": 1, "due_date": f.date}}
		}), nil, 400, "due_date", "unknown"},
		{"sales order with an empty reference", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "customer_reference": "", "location_id": f.location, "due_date": f.date, "lines": []any{line(f.product.ID, 1)}}, nil, 400, "customer_reference", "1 to 64"},
		{"sales order of a discontinued product", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date, "lines": []any{line(f.gone.ID, 1)}}, nil, 409, "lines[0].product_id", "discontinued"},
		{"sales order bad JSON", http.MethodPost, "/sales-orders", `{`, nil, 400, "", "malformed"},
		{"sales order without lines", http.MethodPost, "/sales-orders", map[string]any{"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date}, nil, 400, "lines", "at least one"},
		{"unknown sales order", http.MethodGet, "/sales-orders/" + uuid.NewString(), nil, nil, 404, "sales_order_id", "no sales order"},
		{"sales order id not a UUID", http.MethodGet, "/sales-orders/x", nil, nil, 400, "id", "UUID"},
		{"ship an unknown order", http.MethodPost, "/sales-orders/" + uuid.NewString() + "/shipments", nil, nil, 404, "sales_order_id", "no sales order"},
		{"ship a bad id", http.MethodPost, "/sales-orders/x/shipments", nil, nil, 400, "id", "UUID"},
		{"ship bad JSON", http.MethodPost, "/sales-orders/" + openSO.String() + "/shipments", `{`, nil, 400, "", "malformed"},
		{"ship a bad line", http.MethodPost, "/sales-orders/" + openSO.String() + "/shipments", map[string]any{"lines": []any{map[string]any{"quantity": 1}}}, nil, 400, "lines[0].line_number", "required"},
		{"ship more than on hand", http.MethodPost, "/sales-orders/" + openSO.String() + "/shipments", map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": 11}}}, nil, 409, "lines[0].quantity", "only 10 on hand"},
		{"ship a whole order beyond stock", http.MethodPost, "/sales-orders/" + bigSO.String() + "/shipments", nil, nil, 409, "lines", "only 10 on hand"},
		{"ship more than ordered", http.MethodPost, "/sales-orders/" + openSO.String() + "/shipments", map[string]any{"lines": []any{map[string]any{"line_number": 1, "quantity": 41}}}, nil, 409, "lines[0].quantity", "only 40 outstanding"},
		{"ship a closed order", http.MethodPost, "/sales-orders/" + closedSO.String() + "/shipments", nil, nil, 409, "", "closed"},
		{"ship with an empty tracking number", http.MethodPost, "/sales-orders/" + openSO.String() + "/shipments", map[string]any{"tracking_number": ""}, nil, 400, "tracking_number", "1 to 64"},
		{"adjust below zero", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": -11, "reason": "cycle_count"}, nil, 409, "delta", "only 10 on hand"},
		{"adjust with a receipt", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 1, "reason": "receipt"}, nil, 400, "reason", "through their orders"},
		{"adjust by nothing", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 0, "reason": "adjustment"}, nil, 400, "delta", "non-zero"},
		{"adjust an unknown product", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": uuid.New(), "location_id": f.location, "delta": 1, "reason": "adjustment"}, nil, 400, "product_id", "unknown product"},
		{"adjust without product", http.MethodPost, "/inventory/adjustments", map[string]any{"location_id": f.location, "delta": 1, "reason": "adjustment"}, nil, 400, "product_id", "required"},
		{"adjust without location", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "delta": 1, "reason": "adjustment"}, nil, 400, "location_id", "required"},
		{"adjust without delta", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "reason": "adjustment"}, nil, 400, "delta", "required"},
		{"adjust without reason", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 1}, nil, 400, "reason", "required"},
		{"adjust with a bad reference", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 1, "reason": "return", "reference_id": "x"}, nil, 400, "reference_id", "UUID"},
		{"adjust with a long note", http.MethodPost, "/inventory/adjustments", map[string]any{"product_id": f.product.ID, "location_id": f.location, "delta": 1, "reason": "adjustment", "note": strings.Repeat("n", 501)}, nil, 400, "note", "1 to 500"},
		{"adjust bad JSON", http.MethodPost, "/inventory/adjustments", `{`, nil, 400, "", "malformed"},
		{"stock of an unknown product", http.MethodGet, "/inventory/" + uuid.NewString() + "/" + f.location.String(), nil, nil, 404, "product_id", "no product"},
		{"stock of a bad product", http.MethodGet, "/inventory/x/" + f.location.String(), nil, nil, 400, "product_id", "UUID"},
		{"stock at a bad location", http.MethodGet, "/inventory/" + f.product.ID.String() + "/x", nil, nil, 400, "location_id", "UUID"},
		{"inventory by a bad product", http.MethodGet, "/inventory?product_id=x", nil, nil, 400, "product_id", "UUID"},
		{"inventory at a bad location", http.MethodGet, "/inventory?location_id=x", nil, nil, 400, "location_id", "UUID"},
		{"unknown product", http.MethodGet, "/products/" + uuid.NewString(), nil, nil, 404, "product_id", "no product"},
		{"product id not a UUID", http.MethodGet, "/products/x", nil, nil, 400, "id", "UUID"},
	}
	f.env.Flush(f.svc.Outbox())
	seq := f.env.LastSeq()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.env.Do(tt.method, f.url+tt.path, tt.body, tt.headers...)
			require.Equal(t, tt.status, r.Status, "body: %s", r.Body)
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			field, msg := r.Error(t)
			assert.Equal(t, tt.field, field)
			assert.Contains(t, msg, tt.message)
		})
	}
	f.env.Flush(f.svc.Outbox())
	assert.Empty(t, st.Subjects(f.env.Messages(seq)), "a refused request publishes nothing")
	// And changed nothing.
	var stock struct {
		OnHand float64 `json:"on_hand"`
	}
	f.env.Do(http.MethodGet, fmt.Sprintf("%s/inventory/%s/%s", f.url, f.product.ID, f.location), nil).Must(t, http.StatusOK).Decode(t, &stock)
	assert.Equal(t, 10.0, stock.OnHand)
}

func TestReads(t *testing.T) {
	f := setUp(t)
	var po, so map[string]any
	f.env.Do(http.MethodPost, f.url+"/purchase-orders", map[string]any{
		"supplier_id": uuid.New(), "location_id": f.location, "expected_delivery_date": f.date, "lines": []any{line(f.noSupply.ID, 12.5)},
	}).Must(t, http.StatusCreated).Decode(t, &po)
	got := f.env.Do(http.MethodGet, f.url+"/purchase-orders/"+po["purchase_order_id"].(string), nil).Must(t, http.StatusOK).JSON(t)
	assert.Equal(t, po, got)
	lines := got["lines"].([]any)
	assert.Equal(t, map[string]any{
		"line_number": 1.0, "product_id": f.noSupply.ID.String(), "sku": f.noSupply.SKU, "unit": "EA",
		"quantity": 12.5, "received": 0.0, "outstanding": 12.5,
	}, lines[0])

	var list struct {
		POs []map[string]any `json:"purchase_orders"`
	}
	f.env.Do(http.MethodGet, f.url+"/purchase-orders?origin=manual&status=open&location_id="+f.location.String(), nil).Must(t, http.StatusOK).Decode(t, &list)
	assert.Len(t, list.POs, 1)
	f.env.Do(http.MethodGet, f.url+"/purchase-orders?origin=replenishment", nil).Must(t, http.StatusOK).Decode(t, &list)
	assert.Empty(t, list.POs)

	f.env.Do(http.MethodPost, f.url+"/purchase-orders/"+po["purchase_order_id"].(string)+"/receipts", nil).Must(t, http.StatusCreated)
	f.env.Do(http.MethodPost, f.url+"/sales-orders", map[string]any{
		"customer_id": uuid.New(), "location_id": f.location, "due_date": f.date,
		"lines": []any{map[string]any{"product_id": f.noSupply.ID, "quantity": 2, "unit_price": map[string]any{"amount": 9.99, "currency": "EUR"}}},
	}).Must(t, http.StatusCreated).Decode(t, &so)
	got = f.env.Do(http.MethodGet, f.url+"/sales-orders/"+so["sales_order_id"].(string), nil).Must(t, http.StatusOK).JSON(t)
	assert.Equal(t, so, got)
	assert.Equal(t, map[string]any{"amount": 9.99, "currency": "EUR"}, got["lines"].([]any)[0].(map[string]any)["unit_price"])

	var inv struct {
		Inventory []map[string]any `json:"inventory"`
	}
	f.env.Do(http.MethodGet, f.url+"/inventory?product_id="+f.noSupply.ID.String(), nil).Must(t, http.StatusOK).Decode(t, &inv)
	require.Len(t, inv.Inventory, 1)
	assert.Equal(t, 12.5, inv.Inventory[0]["on_hand"])
	f.env.Do(http.MethodGet, f.url+"/inventory?location_id="+uuid.NewString(), nil).Must(t, http.StatusOK).Decode(t, &inv)
	assert.Empty(t, inv.Inventory)

	// A product never stocked at a location has 0 on hand there.
	stock := f.env.Do(http.MethodGet, fmt.Sprintf("%s/inventory/%s/%s", f.url, f.product.ID, uuid.New()), nil).Must(t, http.StatusOK).JSON(t)
	assert.Equal(t, 0.0, stock["on_hand"])
	assert.Equal(t, f.product.SKU, stock["sku"])

	p := f.env.Do(http.MethodGet, f.url+"/products/"+f.product.ID.String(), nil).Must(t, http.StatusOK).JSON(t)
	assert.Equal(t, f.product.SKU, p["sku"])
	assert.Equal(t, f.product.Supplier.String(), p["preferred_supplier_id"])
	assert.Equal(t, false, p["discontinued"])

	// A path no route has is 404, with or without an identity.
	st.Do(t, http.MethodGet, f.url+"/no-such-path", nil).Must(t, http.StatusNotFound)

	// Organizations do not see each other's orders.
	r := f.env.Do(http.MethodGet, f.url+"/purchase-orders/"+po["purchase_order_id"].(string), nil, f.env.As(uuid.New(), st.AllRoles...)...)
	assert.Equal(t, http.StatusNotFound, r.Status)
}

// TestTooLargeForTheStream: a change whose event the server could not
// carry is a 413 before anything commits, and the outbox stays empty.
func TestTooLargeForTheStream(t *testing.T) {
	env := st.New(t, func(o *server.Options) { o.MaxPayload = 64 << 10 })
	svc := env.Start(execapp.Start)
	p := st.NewProduct("BRG-6204-2RS")
	env.PublishProduct(p)
	st.Eventually(t, 5*time.Second, func() bool {
		return env.Do(http.MethodGet, svc.URL()+"/products/"+p.ID.String(), nil).Status == http.StatusOK
	}, "execution never learnt the product")
	lines := make([]any, 500)
	for i := range lines {
		lines[i] = line(p.ID, 1)
	}
	date := payload.DateOf(time.Now().UTC()).AddDays(5).String()
	r := env.Do(http.MethodPost, svc.URL()+"/purchase-orders", map[string]any{"location_id": uuid.New(), "expected_delivery_date": date, "lines": lines})
	require.Equal(t, http.StatusRequestEntityTooLarge, r.Status, r.String())
	_, msg := r.Error(t)
	assert.Contains(t, msg, "too large")
	var list struct {
		PurchaseOrders []any `json:"purchase_orders"`
	}
	env.Do(http.MethodGet, svc.URL()+"/purchase-orders", nil).Must(t, http.StatusOK).Decode(t, &list)
	assert.Empty(t, list.PurchaseOrders, "nothing committed")
	assert.Zero(t, svc.Outbox().Stats().Pending)
}

// TestListsPage: the lists come in pages of ?limit= items, each with the
// cursor of the next while it is full.
func TestListsPage(t *testing.T) {
	f := setUp(t)
	for range 5 {
		f.env.Do(http.MethodPost, f.url+"/purchase-orders", map[string]any{
			"location_id": f.location, "expected_delivery_date": f.date, "lines": []any{line(f.product.ID, 1)},
		}).Must(t, http.StatusCreated)
	}
	var numbers []string
	next := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "the pages never end")
		url := f.url + "/purchase-orders?limit=2"
		if next != "" {
			url += "&after=" + next
		}
		var page struct {
			PurchaseOrders []struct {
				OrderNumber string `json:"order_number"`
			} `json:"purchase_orders"`
			Next string `json:"next"`
		}
		f.env.Do(http.MethodGet, url, nil).Must(t, http.StatusOK).Decode(t, &page)
		assert.LessOrEqual(t, len(page.PurchaseOrders), 2)
		for _, po := range page.PurchaseOrders {
			numbers = append(numbers, po.OrderNumber)
		}
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	assert.Len(t, numbers, 5)
	assert.IsIncreasing(t, numbers)
	for query, field := range map[string]string{"limit=0": "limit", "limit=501": "limit", "limit=x": "limit", "after=%21%21": "after"} {
		r := f.env.Do(http.MethodGet, f.url+"/purchase-orders?"+query, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, query)
		got, _ := r.Error(t)
		assert.Equal(t, field, got, query)
	}
	var inv struct {
		Inventory []any  `json:"inventory"`
		Next      string `json:"next"`
	}
	f.env.Do(http.MethodGet, f.url+"/inventory?limit=1", nil).Must(t, http.StatusOK).Decode(t, &inv)
	assert.LessOrEqual(t, len(inv.Inventory), 1)
}
