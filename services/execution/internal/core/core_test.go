package core_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/execution/internal/core"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/problem"
	st "github.com/giia/events/services/internal/servicetest"
)

type fixture struct {
	env  *st.Env
	conn *bus.Conn
	st   *store.Store
	out  *outbox.Outbox
	svc  *core.Service
	now  time.Time
}

// setUp builds the use cases on a store and a publisher of their own; the
// handlers are called directly, as the subscriber would.
func setUp(t *testing.T) *fixture {
	t.Helper()
	env := st.New(t)
	conn, err := bus.Connect(env.Server.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "x.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	out, in := env.Delivery(conn, s.DB(), events.ServiceExecution)
	f := &fixture{env: env, conn: conn, st: s, out: out, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	f.svc, err = core.New(s, out, in, core.WithClock(func() time.Time { return f.now }), core.WithLogger(st.Quiet()))
	require.NoError(t, err)
	return f
}

// seq returns the stream's last sequence, once everything committed so
// far is published.
func (f *fixture) seq() uint64 {
	f.env.Flush(f.out)
	return f.env.LastSeq()
}

// messages returns the test organization's events stored after seq, once
// everything committed so far is published.
func (f *fixture) messages(seq uint64) []st.Message {
	f.env.Flush(f.out)
	return f.env.Messages(seq)
}

func event[T any](f *fixture, p T) bus.Event[T] {
	return bus.Event[T]{Metadata: bus.Metadata{ID: uuid.New(), OrganizationID: f.env.Org, Delivered: 1}, Payload: p}
}

func (f *fixture) productCreated(t *testing.T, id uuid.UUID, sku string, supplier *uuid.UUID) {
	t.Helper()
	require.NoError(t, f.svc.Handlers().ProductCreated(f.env.Ctx(), event(f, events.ProductCreated{
		ProductID: id, SKU: sku, Name: sku, UnitOfMeasure: events.UnitKG, PreferredSupplierID: supplier, CreatedAt: f.now,
	})))
}

func (f *fixture) alert(product uuid.UUID, sku string, qty float64) events.BufferAlertTriggered {
	return events.BufferAlertTriggered{
		AlertID: uuid.New(), BufferID: uuid.New(), Product: events.ProductRef{ProductID: product, SKU: sku},
		LocationID: uuid.New(), Zone: events.ZoneYellow, Severity: events.BufferAlertTriggeredSeverityWarning, Unit: events.UnitKG,
		NetFlowPosition: 500, TopOfRed: 300, TopOfYellow: 700, TopOfGreen: 980,
		RecommendedOrderQuantity: events.Quantity{Value: qty, Unit: events.UnitKG},
		RequestedDeliveryDate:    payload.DateOf(f.now).AddDays(10), TriggeredAt: f.now,
	}
}

func TestProductLifecycle(t *testing.T) {
	f := setUp(t)
	id, supplier := uuid.New(), uuid.New()
	f.productCreated(t, id, "STL-SHEET-2MM", nil)
	moq := 25.0
	require.NoError(t, f.svc.Handlers().ProductUpdated(f.env.Ctx(), event(f, events.ProductUpdated{
		ProductID: id, SKU: "STL-SHEET-2MM", Name: "Steel sheet 2 mm", UnitOfMeasure: events.UnitKG, MOQ: &moq,
		PreferredSupplierID: &supplier, ChangedFields: []events.ProductUpdatedChangedField{"name"}, UpdatedAt: f.now,
	})))
	p, err := f.svc.Product(f.env.Ctx(), id)
	require.NoError(t, err)
	assert.Equal(t, "Steel sheet 2 mm", p.Name)
	assert.Equal(t, &supplier, p.PreferredSupplierID)
	assert.Equal(t, &moq, p.MOQ)

	require.NoError(t, f.svc.Handlers().ProductDiscontinued(f.env.Ctx(), event(f, events.ProductDiscontinued{ProductID: id, SKU: "STL-SHEET-2MM", DiscontinuedAt: f.now})))
	// A late update does not bring it back.
	require.NoError(t, f.svc.Handlers().ProductUpdated(f.env.Ctx(), event(f, events.ProductUpdated{
		ProductID: id, SKU: "STL-SHEET-2MM", Name: "Steel sheet", UnitOfMeasure: events.UnitKG,
		ChangedFields: []events.ProductUpdatedChangedField{"name"}, UpdatedAt: f.now,
	})))
	p, err = f.svc.Product(f.env.Ctx(), id)
	require.NoError(t, err)
	assert.True(t, p.Discontinued)

	// Discontinuing a product never seen keeps a stub that refuses orders.
	other := uuid.New()
	require.NoError(t, f.svc.Handlers().ProductDiscontinued(f.env.Ctx(), event(f, events.ProductDiscontinued{ProductID: other, SKU: "GONE-1", DiscontinuedAt: f.now})))
	_, err = f.svc.CreateSalesOrder(f.env.Ctx(), core.NewSalesOrder{
		CustomerID: uuid.New(), LocationID: uuid.New(), DueDate: payload.DateOf(f.now), Lines: []core.LineInput{{ProductID: other, Quantity: 1}},
	})
	p2, ok := problem.As(err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, problem.Conflict, p2.Kind)
}

func TestReplenishment(t *testing.T) {
	f := setUp(t)
	h := f.svc.Handlers()
	withSupplier, supplier := uuid.New(), uuid.New()
	f.productCreated(t, withSupplier, "PIPE-40", &supplier)
	seq := f.seq()

	// An alert raises one draft, for the product's preferred supplier.
	a := f.alert(withSupplier, "PIPE-40", 12.5)
	ev := event(f, a)
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), ev))
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), ev), "the same event redelivered: the inbox")
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), event(f, a)), "the same alert in another event: its alert_id")
	pos, err := f.svc.PurchaseOrders(f.env.Ctx(), store.PurchaseOrderFilter{AlertID: a.AlertID})
	require.NoError(t, err)
	require.Len(t, pos, 1)
	po := pos[0]
	assert.Equal(t, store.StatusDraft, po.Status)
	assert.Equal(t, "replenishment", po.Origin)
	assert.Equal(t, &supplier, po.SupplierID)
	assert.Equal(t, a.RequestedDeliveryDate, po.ExpectedDeliveryDate)
	assert.Equal(t, []store.Line{{Number: 1, ProductID: withSupplier, SKU: "PIPE-40", Unit: "KG", Quantity: 12.5}}, po.Lines)

	// A product execution has not heard of yet: a draft without supplier.
	unknown := uuid.New()
	b := f.alert(unknown, "NEW-1", 3)
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), event(f, b)))
	pos, err = f.svc.PurchaseOrders(f.env.Ctx(), store.PurchaseOrderFilter{AlertID: b.AlertID})
	require.NoError(t, err)
	require.Len(t, pos, 1)
	assert.Nil(t, pos[0].SupplierID)

	// Nothing recommended, or a discontinued product: no order.
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), event(f, f.alert(withSupplier, "PIPE-40", 0))))
	require.NoError(t, h.ProductDiscontinued(f.env.Ctx(), event(f, events.ProductDiscontinued{ProductID: withSupplier, SKU: "PIPE-40", DiscontinuedAt: f.now})))
	require.NoError(t, h.BufferAlertTriggered(f.env.Ctx(), event(f, f.alert(withSupplier, "PIPE-40", 5))))

	all, err := f.svc.PurchaseOrders(f.env.Ctx(), store.PurchaseOrderFilter{Origin: "replenishment"})
	require.NoError(t, err)
	assert.Len(t, all, 2)
	assert.Equal(t, []string{events.SubjectExecutionPurchaseOrderCreated, events.SubjectExecutionPurchaseOrderCreated}, st.Subjects(f.messages(seq)))

	// Receiving part of a draft places it.
	res, err := f.svc.ReceivePurchaseOrder(f.env.Ctx(), po.ID, core.Receipt{Lines: []core.LineProgress{{LineNumber: 1, Quantity: 2.5}}})
	require.NoError(t, err)
	assert.Equal(t, store.StatusOpen, res.Order.Status)
	stock, err := f.svc.Stock(f.env.Ctx(), withSupplier, po.LocationID)
	require.NoError(t, err)
	assert.Equal(t, 2.5, stock.OnHand)
}

// TestEventsWaitInTheOutbox: with the bus gone, a use case still succeeds
// at once, its change and its event committed together; the event leaves
// when a relay can publish it, here the next run's.
func TestEventsWaitInTheOutbox(t *testing.T) {
	f := setUp(t)
	id := uuid.New()
	f.productCreated(t, id, "BOLT-M8", nil)
	seq := f.seq()
	require.NoError(t, f.conn.Close())
	stock, err := f.svc.AdjustInventory(f.env.Ctx(), core.Adjustment{ProductID: id, LocationID: uuid.New(), Delta: 5, Reason: "return"})
	require.NoError(t, err)
	assert.Equal(t, 5.0, stock.OnHand)
	assert.Equal(t, int64(1), f.out.Stats().Pending)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, f.out.Stop(ctx), outbox.ErrPending, "the relay cannot publish")

	conn, err := bus.Connect(f.env.Server.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	next, _ := f.env.Delivery(conn, f.st.DB(), events.ServiceExecution)
	f.env.Flush(next)
	msgs := f.env.Messages(seq)
	require.Equal(t, []string{events.SubjectExecutionInventoryUpdated}, st.Subjects(msgs))
	var moved events.InventoryUpdated
	require.NoError(t, msgs[0].Decode(&moved))
	assert.Equal(t, 5.0, moved.OnHand.Value)
}

// TestNoOrganization: the use cases act for the organization in the
// context, and refuse to guess.
func TestNoOrganization(t *testing.T) {
	f := setUp(t)
	ctx := context.Background()
	id := uuid.New()
	calls := map[string]error{}
	_, calls["CreatePurchaseOrder"] = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{})
	_, calls["ReceivePurchaseOrder"] = f.svc.ReceivePurchaseOrder(ctx, id, core.Receipt{})
	_, calls["CreateSalesOrder"] = f.svc.CreateSalesOrder(ctx, core.NewSalesOrder{})
	_, calls["ShipSalesOrder"] = f.svc.ShipSalesOrder(ctx, id, core.Shipment{})
	_, calls["AdjustInventory"] = f.svc.AdjustInventory(ctx, core.Adjustment{})
	_, calls["Stock"] = f.svc.Stock(ctx, id, id)
	_, calls["Inventory"] = f.svc.Inventory(ctx, id, id, store.Page{})
	_, calls["Product"] = f.svc.Product(ctx, id)
	_, calls["PurchaseOrder"] = f.svc.PurchaseOrder(ctx, id)
	_, calls["PurchaseOrders"] = f.svc.PurchaseOrders(ctx, store.PurchaseOrderFilter{})
	_, calls["SalesOrder"] = f.svc.SalesOrder(ctx, id)
	for name, err := range calls {
		assert.ErrorContains(t, err, "no organization", name)
		_, isProblem := problem.As(err)
		assert.False(t, isProblem, "%s: not the caller's fault", name)
	}
}

// TestStoreFailures: a closed database is an internal error, not a
// refusal.
func TestStoreFailures(t *testing.T) {
	f := setUp(t)
	require.NoError(t, f.st.Close())
	ctx := f.env.Ctx()
	id := uuid.New()
	line := []core.LineInput{{ProductID: id, Quantity: 1}}
	date := payload.DateOf(f.now)
	calls := map[string]error{}
	_, calls["CreatePurchaseOrder"] = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{LocationID: id, ExpectedDeliveryDate: date, Lines: line})
	_, calls["ReceivePurchaseOrder"] = f.svc.ReceivePurchaseOrder(ctx, id, core.Receipt{})
	_, calls["CreateSalesOrder"] = f.svc.CreateSalesOrder(ctx, core.NewSalesOrder{CustomerID: id, LocationID: id, DueDate: date, Lines: line})
	_, calls["ShipSalesOrder"] = f.svc.ShipSalesOrder(ctx, id, core.Shipment{})
	_, calls["AdjustInventory"] = f.svc.AdjustInventory(ctx, core.Adjustment{ProductID: id, LocationID: id, Delta: 1, Reason: "adjustment"})
	_, calls["Stock"] = f.svc.Stock(ctx, id, id)
	_, calls["Inventory"] = f.svc.Inventory(ctx, id, id, store.Page{})
	_, calls["Product"] = f.svc.Product(ctx, id)
	_, calls["PurchaseOrder"] = f.svc.PurchaseOrder(ctx, id)
	_, calls["PurchaseOrders"] = f.svc.PurchaseOrders(ctx, store.PurchaseOrderFilter{})
	_, calls["SalesOrder"] = f.svc.SalesOrder(ctx, id)
	calls["ProductCreated"] = f.svc.Handlers().ProductCreated(ctx, event(f, events.ProductCreated{ProductID: id}))
	calls["BufferAlertTriggered"] = f.svc.Handlers().BufferAlertTriggered(ctx, event(f, f.alert(id, "X-1", 1)))
	for name, err := range calls {
		assert.Error(t, err, name)
		_, isProblem := problem.As(err)
		assert.False(t, isProblem, "%s: %v", name, err)
	}
}

// TestOrders runs the order use cases directly: the API tests check the
// HTTP mapping and the events in detail.
func TestOrders(t *testing.T) {
	f := setUp(t)
	ctx := f.env.Ctx()
	p, supplier, loc := uuid.New(), uuid.New(), uuid.New()
	f.productCreated(t, p, "CBL-10", &supplier)
	date := payload.DateOf(f.now).AddDays(3)
	buyer := "buyer@example.com"

	po, err := f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{
		LocationID: loc, ExpectedDeliveryDate: date, CreatedBy: &buyer,
		Lines: []core.LineInput{{ProductID: p, Quantity: 10, UnitPrice: &store.Money{Amount: 1.25, Currency: "EUR"}}, {ProductID: p, Quantity: 5}},
	})
	require.NoError(t, err)
	assert.Equal(t, "PO-2026-000001", po.Number)
	got, err := f.svc.PurchaseOrder(ctx, po.ID)
	require.NoError(t, err)
	assert.Equal(t, po, got)

	_, err = f.svc.ReceivePurchaseOrder(ctx, po.ID, core.Receipt{Lines: []core.LineProgress{{LineNumber: 2, Quantity: 6}}})
	assertProblem(t, err, problem.Conflict, "lines[0].quantity")
	r, err := f.svc.ReceivePurchaseOrder(ctx, po.ID, core.Receipt{})
	require.NoError(t, err)
	assert.Equal(t, store.StatusClosed, r.Order.Status)

	ref := "CUST-1"
	so, err := f.svc.CreateSalesOrder(ctx, core.NewSalesOrder{
		CustomerID: uuid.New(), CustomerReference: &ref, LocationID: loc, DueDate: date,
		Lines: []core.LineInput{{ProductID: p, Quantity: 9}, {ProductID: p, Quantity: 7, DueDate: date.AddDays(7)}},
	})
	require.NoError(t, err)
	assert.Equal(t, "SO-2026-000001", so.Number)
	assert.Equal(t, date, so.Lines[0].DueDate, "the order's due date")
	assert.Equal(t, date.AddDays(7), so.Lines[1].DueDate, "its own")
	_, err = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{
		LocationID: loc, ExpectedDeliveryDate: date, Lines: []core.LineInput{{ProductID: p, Quantity: 1, DueDate: date}},
	})
	assertProblem(t, err, problem.Invalid, "lines[0].due_date")
	// 16 ordered, 15 on hand: both lines at once are refused, taken together.
	_, err = f.svc.ShipSalesOrder(ctx, so.ID, core.Shipment{})
	assertProblem(t, err, problem.Conflict, "lines")
	tracking := "TRK-1"
	sh, err := f.svc.ShipSalesOrder(ctx, so.ID, core.Shipment{Lines: []core.LineProgress{{LineNumber: 1, Quantity: 9}}, TrackingNumber: &tracking})
	require.NoError(t, err)
	assert.Equal(t, store.StatusOpen, sh.Order.Status)
	got2, err := f.svc.SalesOrder(ctx, so.ID)
	require.NoError(t, err)
	assert.Equal(t, 9.0, got2.Lines[0].Done)

	note := "found in aisle 3"
	stock, err := f.svc.AdjustInventory(ctx, core.Adjustment{ProductID: p, LocationID: loc, Delta: 1.5, Reason: "cycle_count", Note: &note})
	require.NoError(t, err)
	assert.Equal(t, 7.5, stock.OnHand)
	sh, err = f.svc.ShipSalesOrder(ctx, so.ID, core.Shipment{})
	require.NoError(t, err)
	assert.Equal(t, store.StatusClosed, sh.Order.Status)
	inv, err := f.svc.Inventory(ctx, uuid.Nil, loc, store.Page{})
	require.NoError(t, err)
	require.Len(t, inv, 1)
	assert.Equal(t, 0.5, inv[0].OnHand)

	// Refusals from the use cases themselves.
	_, err = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{ExpectedDeliveryDate: date})
	assertProblem(t, err, problem.Invalid, "location_id")
	_, err = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{LocationID: loc})
	assertProblem(t, err, problem.Invalid, "expected_delivery_date")
	_, err = f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{LocationID: loc, ExpectedDeliveryDate: date, Lines: []core.LineInput{{Quantity: 1}}})
	assertProblem(t, err, problem.Invalid, "lines[0].product_id")
	_, err = f.svc.ReceivePurchaseOrder(ctx, uuid.New(), core.Receipt{})
	assertProblem(t, err, problem.NotFound, "purchase_order_id")
	_, err = f.svc.ShipSalesOrder(ctx, uuid.New(), core.Shipment{})
	assertProblem(t, err, problem.NotFound, "sales_order_id")
	_, err = f.svc.ShipSalesOrder(ctx, so.ID, core.Shipment{})
	assertProblem(t, err, problem.Conflict, "")
	_, err = f.svc.Stock(ctx, uuid.New(), loc)
	assertProblem(t, err, problem.NotFound, "product_id")
	_, err = f.svc.Product(ctx, uuid.New())
	assertProblem(t, err, problem.NotFound, "product_id")
	_, err = f.svc.PurchaseOrder(ctx, uuid.New())
	assertProblem(t, err, problem.NotFound, "purchase_order_id")
	_, err = f.svc.SalesOrder(ctx, uuid.New())
	assertProblem(t, err, problem.NotFound, "sales_order_id")
	_, err = f.svc.AdjustInventory(ctx, core.Adjustment{ProductID: p, LocationID: loc, Delta: -1, Reason: "damage"})
	assertProblem(t, err, problem.Conflict, "delta")
}

func assertProblem(t *testing.T, err error, kind problem.Kind, field string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	assert.Equal(t, kind, p.Kind, "%v", p)
	assert.Equal(t, field, p.Field, "%v", p)
	assert.NotEmpty(t, p.Error())
}

// TestNewRefusesAnotherServicesOutbox: the use cases publish only through
// the execution service's typed outbox facade, so an outbox whose
// publisher is another service's is refused up front.
func TestNewRefusesAnotherServicesOutbox(t *testing.T) {
	f := setUp(t)
	pub, err := bus.NewPublisher(f.conn, events.Catalog, events.ServiceDDMRP)
	require.NoError(t, err)
	other, err := outbox.New(f.st.DB(), pub)
	require.NoError(t, err)
	_, err = core.New(f.st, other, nil)
	require.ErrorIs(t, err, bus.ErrNotPublisher)
}

// TestOneMovementPerProduct: a receipt or a shipment of two lines of one
// product publishes one inventory.updated for it, with both lines' delta
// and the balance after both: a consumer never sees a balance between
// them after the order event that accounts for both lines.
func TestOneMovementPerProduct(t *testing.T) {
	f := setUp(t)
	ctx := f.env.Ctx()
	p, other, loc, supplier := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	f.productCreated(t, p, "CBL-20", &supplier)
	f.productCreated(t, other, "CBL-30", &supplier)
	date := payload.DateOf(f.now).AddDays(3)
	po, err := f.svc.CreatePurchaseOrder(ctx, core.NewPurchaseOrder{
		LocationID: loc, ExpectedDeliveryDate: date,
		Lines: []core.LineInput{{ProductID: p, Quantity: 10}, {ProductID: other, Quantity: 2}, {ProductID: p, Quantity: 5}},
	})
	require.NoError(t, err)
	seq := f.seq()
	_, err = f.svc.ReceivePurchaseOrder(ctx, po.ID, core.Receipt{})
	require.NoError(t, err)
	so, err := f.svc.CreateSalesOrder(ctx, core.NewSalesOrder{
		CustomerID: uuid.New(), LocationID: loc, DueDate: date,
		Lines: []core.LineInput{{ProductID: p, Quantity: 4}, {ProductID: p, Quantity: 3}},
	})
	require.NoError(t, err)
	_, err = f.svc.ShipSalesOrder(ctx, so.ID, core.Shipment{})
	require.NoError(t, err)

	var moves []events.InventoryUpdated
	st.Eventually(t, 10*time.Second, func() bool {
		moves = moves[:0]
		for _, m := range f.messages(seq) {
			if m.Subject == events.SubjectExecutionInventoryUpdated {
				var u events.InventoryUpdated
				require.NoError(t, m.Decode(&u))
				moves = append(moves, u)
			}
		}
		return len(moves) == 3
	}, "three movements")
	assert.Equal(t, p, moves[0].Product.ProductID)
	assert.Equal(t, 15.0, moves[0].Delta, "both received lines")
	assert.Equal(t, 15.0, moves[0].OnHand.Value)
	assert.Equal(t, other, moves[1].Product.ProductID)
	assert.Equal(t, 2.0, moves[1].OnHand.Value)
	assert.Equal(t, -7.0, moves[2].Delta, "both shipped lines")
	assert.Equal(t, 8.0, moves[2].OnHand.Value)
}
