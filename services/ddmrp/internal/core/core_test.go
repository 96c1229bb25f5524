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
	"github.com/giia/events/services/ddmrp/internal/buffer"
	"github.com/giia/events/services/ddmrp/internal/core"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/problem"
	st "github.com/giia/events/services/internal/servicetest"
)

type fixture struct {
	env  *st.Env
	conn *bus.Conn
	st   *store.Store
	out  *outbox.Outbox
	in   *outbox.Inbox
	svc  *core.Service
	now  time.Time
	pos  store.Position
	ref  events.ProductRef
}

func setUp(t testing.TB) (f *fixture) {
	t.Helper()
	env := st.New(t)
	conn, err := bus.Connect(env.Server.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	out, in := env.Delivery(conn, s.DB(), events.ServiceDDMRP)
	f = &fixture{env: env, conn: conn, st: s, out: out, in: in, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	f.svc, err = core.New(s, out, in, core.WithClock(func() time.Time { return f.now }), core.WithLogger(st.Quiet()))
	require.NoError(t, err)
	f.pos = store.Position{ProductID: uuid.New(), LocationID: uuid.New()}
	f.ref = events.ProductRef{ProductID: f.pos.ProductID, SKU: "ROD-12"}
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

func kg(v float64) events.Quantity { return events.Quantity{Value: v, Unit: events.UnitKG} }

// ADU 10 KG/day, DLT 5, LTF 1, VF 0, no MOQ, no order cycle: red 50,
// yellow 50, green 50; tops 50, 100, 150; spike threshold 25.
var rod = buffer.Profile{ADU: 10, DLTDays: 5, LeadTimeFactor: 1}

func TestHandlersAndBuffers(t *testing.T) {
	f := setUp(t)
	h := f.svc.Handlers()
	ctx := f.env.Ctx()

	// Events before any buffer only keep the position.
	supply := event(f, events.PurchaseOrderCreated{
		PurchaseOrderID: uuid.New(), OrderNumber: "PO-2026-000001", LocationID: f.pos.LocationID, Status: events.PurchaseOrderCreatedStatusOpen,
		Origin: events.PurchaseOrderCreatedOriginManual, ExpectedDeliveryDate: payload.DateOf(f.now), CreatedAt: f.now,
		Lines: []events.PurchaseOrderLine{{LineNumber: 1, Product: f.ref, Quantity: kg(120)}},
	})
	require.NoError(t, h.PurchaseOrderCreated(ctx, supply))
	require.NoError(t, h.PurchaseOrderCreated(ctx, supply), "a redelivery")
	seq := f.seq()

	// The unit came with the event: a profile needs neither SKU nor unit.
	v, created, err := f.svc.SetProfile(ctx, f.pos, core.ProfileInput{Profile: rod})
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, buffer.Status{OnOrder: 120, NetFlowPosition: 120, Zone: buffer.Green, PercentOfTOG: 80}, v.Status)
	assert.True(t, v.AlertArmed, "born above top of yellow")
	assert.Equal(t, "KG", v.Product.Unit)

	// A due order of 30 (qualified): 120 - 30 = 90, yellow, an alert for
	// 150 - 90 = 60 KG (measured: no rounding to whole units).
	require.NoError(t, h.SalesOrderCreated(ctx, event(f, events.SalesOrderCreated{
		SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000001", CustomerID: uuid.New(), LocationID: f.pos.LocationID,
		Lines: []events.SalesOrderLine{{LineNumber: 1, Product: f.ref, Quantity: kg(30), DueDate: payload.DateOf(f.now)}}, CreatedAt: f.now,
	})))
	msgs := f.messages(seq)
	require.Equal(t, []string{events.SubjectDDMRPBufferCalculated, events.SubjectDDMRPBufferStatusChanged, events.SubjectDDMRPBufferAlertTriggered}, st.Subjects(msgs))
	var alert events.BufferAlertTriggered
	require.NoError(t, msgs[2].Decode(&alert))
	assert.Equal(t, kg(60), alert.RecommendedOrderQuantity)
	assert.Equal(t, payload.DateOf(f.now).AddDays(5), alert.RequestedDeliveryDate)

	// A crossing that lands in red raises a critical alert. 200 on hand
	// makes the position green again (re-armed: 200 + 120 - 30 = 290);
	// the receipt moves the 120 from on order to on hand (still 290); a
	// damage leaves 40 on hand: 40 - 30 = 10, red.
	require.NoError(t, h.InventoryUpdated(ctx, event(f, events.InventoryUpdated{
		MovementID: uuid.New(), Product: f.ref, LocationID: f.pos.LocationID, OnHand: kg(200), Delta: 200,
		Reason: events.InventoryUpdatedReasonAdjustment, UpdatedAt: f.now,
	})))
	seq = f.seq()
	require.NoError(t, h.PurchaseOrderReceived(ctx, event(f, events.PurchaseOrderReceived{
		PurchaseOrderID: supply.Payload.PurchaseOrderID, OrderNumber: "PO-2026-000001", ReceiptID: uuid.New(), LocationID: f.pos.LocationID,
		Lines:         []events.PurchaseOrderReceiptLine{{LineNumber: 1, Product: f.ref, QuantityReceived: kg(120), QuantityOutstanding: kg(0)}},
		FullyReceived: true, ReceivedAt: f.now,
	})))
	assert.Empty(t, f.messages(seq), "320 on hand, nothing on order: 290, green still")
	require.NoError(t, h.InventoryUpdated(ctx, event(f, events.InventoryUpdated{
		MovementID: uuid.New(), Product: f.ref, LocationID: f.pos.LocationID, OnHand: kg(40), Delta: -280,
		Reason: events.InventoryUpdatedReasonDamage, UpdatedAt: f.now,
	})))
	msgs = f.messages(seq)
	require.Equal(t, []string{events.SubjectDDMRPBufferStatusChanged, events.SubjectDDMRPBufferAlertTriggered}, st.Subjects(msgs))
	require.NoError(t, msgs[1].Decode(&alert))
	assert.Equal(t, events.BufferAlertTriggeredSeverityCritical, alert.Severity, "40 - 30 = 10: red")
	assert.Equal(t, events.ZoneRed, alert.Zone)

	// A shipment more than ddmrp thought was on hand stops at 0.
	require.NoError(t, h.SalesOrderShipped(ctx, event(f, events.SalesOrderShipped{
		SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000009", ShipmentID: uuid.New(), LocationID: f.pos.LocationID,
		Lines:        []events.SalesOrderShipmentLine{{LineNumber: 1, Product: f.ref, QuantityShipped: kg(50), QuantityOutstanding: kg(0)}},
		FullyShipped: true, ShippedAt: f.now,
	})))
	views, err := f.svc.Buffers(ctx, store.Page{})
	require.NoError(t, err)
	require.Len(t, views, 1)
	assert.Equal(t, 0.0, views[0].Status.OnHand)

	// Discontinued: still evaluated, never alerting; no new profile.
	require.NoError(t, h.ProductDiscontinued(ctx, event(f, events.ProductDiscontinued{ProductID: f.pos.ProductID, SKU: "ROD-12", DiscontinuedAt: f.now})))
	v, err = f.svc.Buffer(ctx, f.pos)
	require.NoError(t, err)
	assert.True(t, v.Discontinued)
	_, _, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{Profile: rod})
	assertProblem(t, err, problem.Conflict, "product_id")
}

// TestQualifiedDemandPerLine: the lines of one sales order are due on
// different days, and only the due one is qualified demand, until the
// other's day comes. (An order published as version 1, with one due date
// for the order, arrives upcast with every line due on it: services/e2e
// TestVersion1SalesOrdersUpcast.)
func TestQualifiedDemandPerLine(t *testing.T) {
	f := setUp(t)
	h := f.svc.Handlers()
	ctx := f.env.Ctx()
	sku, unit := "ROD-12", "KG"
	_, _, err := f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &sku, Unit: &unit, Profile: rod})
	require.NoError(t, err)
	require.NoError(t, h.InventoryUpdated(ctx, event(f, events.InventoryUpdated{
		MovementID: uuid.New(), Product: f.ref, LocationID: f.pos.LocationID, OnHand: kg(150), Delta: 150,
		Reason: events.InventoryUpdatedReasonAdjustment, UpdatedAt: f.now,
	})))

	// 20 due today, 20 tomorrow: both below the spike threshold (25).
	today := payload.DateOf(f.now)
	require.NoError(t, h.SalesOrderCreated(ctx, event(f, events.SalesOrderCreated{
		SalesOrderID: uuid.New(), OrderNumber: "SO-2026-000001", CustomerID: uuid.New(), LocationID: f.pos.LocationID, CreatedAt: f.now,
		Lines: []events.SalesOrderLine{
			{LineNumber: 1, Product: f.ref, Quantity: kg(20), DueDate: today},
			{LineNumber: 2, Product: f.ref, Quantity: kg(20), DueDate: today.AddDays(1)},
		},
	})))
	v, err := f.svc.Buffer(ctx, f.pos)
	require.NoError(t, err)
	assert.Equal(t, buffer.Status{OnHand: 150, QualifiedDemand: 20, NetFlowPosition: 130, Zone: buffer.Green, PercentOfTOG: 86.67}, v.Status,
		"line 1 is due, line 2 not yet")

	f.now = f.now.Add(24 * time.Hour)
	v, err = f.svc.Buffer(ctx, f.pos)
	require.NoError(t, err)
	assert.Equal(t, 40.0, v.Status.QualifiedDemand, "the next day, both")
}

func TestSetProfileRefusals(t *testing.T) {
	f := setUp(t)
	ctx := f.env.Ctx()
	sku, unit, bad := "ROD-12", "KG", "rod"
	_, _, err := f.svc.SetProfile(ctx, f.pos, core.ProfileInput{Profile: buffer.Profile{}})
	assertProblem(t, err, problem.Invalid, "adu")
	_, _, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &bad, Profile: rod})
	assertProblem(t, err, problem.Invalid, "sku")
	_, _, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &sku, Unit: &bad, Profile: rod})
	assertProblem(t, err, problem.Invalid, "unit")
	_, _, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{Profile: rod})
	assertProblem(t, err, problem.Invalid, "sku")
	_, _, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &sku, Profile: rod})
	assertProblem(t, err, problem.Invalid, "unit")
	_, created, err := f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &sku, Unit: &unit, Profile: rod})
	require.NoError(t, err)
	assert.True(t, created)
	_, created, err = f.svc.SetProfile(ctx, f.pos, core.ProfileInput{Profile: rod})
	require.NoError(t, err)
	assert.False(t, created)
	_, err = f.svc.Buffer(ctx, store.Position{ProductID: uuid.New(), LocationID: f.pos.LocationID})
	assertProblem(t, err, problem.NotFound, "")

	// No organization in the context.
	_, _, err = f.svc.SetProfile(context.Background(), f.pos, core.ProfileInput{Profile: rod})
	assert.ErrorContains(t, err, "no organization")
	_, err = f.svc.Buffer(context.Background(), f.pos)
	assert.ErrorContains(t, err, "no organization")
	_, err = f.svc.Buffers(context.Background(), store.Page{})
	assert.ErrorContains(t, err, "no organization")
}

// TestEventsWaitInTheOutbox: with the bus gone, a profile is still set at
// once, its buffer and its event committed together; the event leaves
// when a relay can publish it, here the next run's.
func TestEventsWaitInTheOutbox(t *testing.T) {
	f := setUp(t)
	sku, unit := "ROD-12", "KG"
	seq := f.seq()
	require.NoError(t, f.conn.Close())
	_, _, err := f.svc.SetProfile(f.env.Ctx(), f.pos, core.ProfileInput{SKU: &sku, Unit: &unit, Profile: rod})
	require.NoError(t, err)
	_, err = f.svc.Buffer(f.env.Ctx(), f.pos)
	require.NoError(t, err, "the buffer was committed")
	assert.Equal(t, int64(1), f.out.Stats().Pending)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, f.out.Stop(ctx), outbox.ErrPending, "the relay cannot publish")

	conn, err := bus.Connect(f.env.Server.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	next, _ := f.env.Delivery(conn, f.st.DB(), events.ServiceDDMRP)
	f.env.Flush(next)
	assert.Equal(t, []string{events.SubjectDDMRPBufferCalculated}, st.Subjects(f.env.Messages(seq)))
}

func TestStoreFailures(t *testing.T) {
	f := setUp(t)
	require.NoError(t, f.st.Close())
	ctx := f.env.Ctx()
	sku, unit := "ROD-12", "KG"
	_, _, err := f.svc.SetProfile(ctx, f.pos, core.ProfileInput{SKU: &sku, Unit: &unit, Profile: rod})
	assert.Error(t, err)
	_, err = f.svc.Buffer(ctx, f.pos)
	assert.Error(t, err)
	_, err = f.svc.Buffers(ctx, store.Page{})
	assert.Error(t, err)
	err = f.svc.Handlers().InventoryUpdated(ctx, event(f, events.InventoryUpdated{Product: f.ref, LocationID: f.pos.LocationID, OnHand: kg(1)}))
	assert.Error(t, err)
	_, isProblem := problem.As(err)
	assert.False(t, isProblem)
}

func assertProblem(t *testing.T, err error, kind problem.Kind, field string) {
	t.Helper()
	p, ok := problem.As(err)
	require.True(t, ok, "want a problem, got %v", err)
	assert.Equal(t, kind, p.Kind, "%v", p)
	assert.Equal(t, field, p.Field, "%v", p)
}
