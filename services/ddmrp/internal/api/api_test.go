package api_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	st "github.com/giia/events/services/internal/servicetest"
)

// The catalog's worked example (catalog/ddmrp.yaml): ADU 40 EA/day, DLT
// 10 days, LTF 0.5, VF 0.5, MOQ 200, order cycle 7 days. Red 300 (200 +
// 100), yellow 400, green 280; tops 300, 700, 980; spike threshold 150.
var bearing = map[string]any{
	"sku": "BRG-6204-2RS", "unit": "EA",
	"adu": 40, "dlt_days": 10, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 200, "order_cycle_days": 7,
}

type fixture struct {
	env      *st.Env
	svc      *ddmrpapp.Service
	url      string
	exec     *events.ExecutionPublisher // plays the execution service
	product  events.ProductRef
	location uuid.UUID
	today    payload.Date
}

func setUp(t *testing.T) *fixture {
	t.Helper()
	env := st.New(t)
	svc := env.Start(ddmrpapp.Start)
	pub, err := events.NewExecutionPublisher(env.Conn)
	require.NoError(t, err)
	return &fixture{
		env: env, svc: svc, url: svc.URL(), exec: pub,
		product:  events.ProductRef{ProductID: uuid.New(), SKU: "BRG-6204-2RS"},
		location: uuid.New(), today: payload.DateOf(time.Now().UTC()),
	}
}

func (f *fixture) bufferPath() string {
	return fmt.Sprintf("/buffers/%s/%s", f.product.ProductID, f.location)
}

func ea(v float64) events.Quantity { return events.Quantity{Value: v, Unit: events.UnitEA} }

// publish publishes what execution would, waits until ddmrp has handled it
// and returns exactly the events ddmrp published in reaction.
func (f *fixture) publish(t *testing.T, send func() error) []st.Message {
	t.Helper()
	f.env.Flush(f.svc.Outbox())
	seq := f.env.LastSeq()
	require.NoError(t, send())
	f.env.WaitCaughtUp(f.svc.Consumers()...)
	f.env.Flush(f.svc.Outbox())
	return st.From(events.ServiceDDMRP, f.env.Messages(seq))
}

func (f *fixture) purchaseOrder(t *testing.T, id uuid.UUID, qty float64, status events.PurchaseOrderCreatedStatus) []st.Message {
	return f.publish(t, func() error {
		_, err := f.exec.PurchaseOrderCreated(f.env.Ctx(), events.PurchaseOrderCreated{
			PurchaseOrderID: id, OrderNumber: "PO-2026-000001", LocationID: f.location, Status: status,
			Origin: events.PurchaseOrderCreatedOriginManual, ExpectedDeliveryDate: f.today.AddDays(3), CreatedAt: time.Now().UTC(),
			Lines: []events.PurchaseOrderLine{{LineNumber: 1, Product: f.product, Quantity: ea(qty)}},
		})
		return err
	})
}

func (f *fixture) received(id uuid.UUID, qty, outstanding float64) events.PurchaseOrderReceived {
	return events.PurchaseOrderReceived{
		PurchaseOrderID: id, OrderNumber: "PO-2026-000001", ReceiptID: uuid.New(), LocationID: f.location,
		Lines:         []events.PurchaseOrderReceiptLine{{LineNumber: 1, Product: f.product, QuantityReceived: ea(qty), QuantityOutstanding: ea(outstanding)}},
		FullyReceived: outstanding == 0, ReceivedAt: time.Now().UTC(),
	}
}

func (f *fixture) salesOrder(t *testing.T, id uuid.UUID, qty float64, due payload.Date) []st.Message {
	return f.publish(t, func() error {
		_, err := f.exec.SalesOrderCreated(f.env.Ctx(), events.SalesOrderCreated{
			SalesOrderID: id, OrderNumber: "SO-2026-000001", CustomerID: uuid.New(), LocationID: f.location,
			Lines:     []events.SalesOrderLine{{LineNumber: 1, Product: f.product, Quantity: ea(qty), DueDate: due}},
			CreatedAt: time.Now().UTC(),
		})
		return err
	})
}

func (f *fixture) inventory(t *testing.T, onHand, delta float64, reason events.InventoryUpdatedReason) []st.Message {
	return f.publish(t, func() error {
		_, err := f.exec.InventoryUpdated(f.env.Ctx(), events.InventoryUpdated{
			MovementID: uuid.New(), Product: f.product, LocationID: f.location, OnHand: ea(onHand), Delta: delta,
			Reason: reason, UpdatedAt: time.Now().UTC(),
		})
		return err
	})
}

type bufferJSON struct {
	Zones struct {
		TopOfRed    float64 `json:"top_of_red"`
		TopOfYellow float64 `json:"top_of_yellow"`
		TopOfGreen  float64 `json:"top_of_green"`
	} `json:"zones"`
	OnHand          float64 `json:"on_hand"`
	OnOrder         float64 `json:"on_order"`
	DraftSupply     float64 `json:"draft_supply"`
	QualifiedDemand float64 `json:"qualified_demand"`
	NetFlowPosition float64 `json:"net_flow_position"`
	Zone            string  `json:"zone"`
	Percent         float64 `json:"percent_of_top_of_green"`
	AlertArmed      bool    `json:"alert_armed"`
	Discontinued    bool    `json:"discontinued"`
}

func (f *fixture) buffer(t *testing.T) bufferJSON {
	t.Helper()
	var b bufferJSON
	f.env.Do(http.MethodGet, f.url+f.bufferPath(), nil).Must(t, http.StatusOK).Decode(t, &b)
	return b
}

func statusChange(t *testing.T, m st.Message) events.BufferStatusChanged {
	t.Helper()
	require.Equal(t, events.SubjectDDMRPBufferStatusChanged, m.Subject)
	var c events.BufferStatusChanged
	require.NoError(t, m.Decode(&c))
	return c
}

// TestBufferChangesEmitTheirEvents follows one buffer through profile
// changes and execution events, checking after each step exactly which
// events DDMRP published, read from the stream with a plain nats.go
// client.
func TestBufferChangesEmitTheirEvents(t *testing.T) {
	f := setUp(t)

	// A new buffer: buffer.calculated, nothing else (the position, 0, is
	// red, but a new buffer has not crossed anything).
	seq := f.env.LastSeq()
	r := f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing, "X-Correlation-ID", "set-profile-1").Must(t, http.StatusCreated)
	f.env.Flush(f.svc.Outbox())
	msgs := f.env.Messages(seq)
	require.Equal(t, []string{events.SubjectDDMRPBufferCalculated}, st.Subjects(msgs))
	assert.Equal(t, "set-profile-1", msgs[0].CorrelationID)
	var calc events.BufferCalculated
	require.NoError(t, msgs[0].Decode(&calc))
	assert.Equal(t, events.BufferCalculatedZones{RedBase: 200, RedSafety: 100, Red: 300, Yellow: 400, Green: 280, TopOfRed: 300, TopOfYellow: 700, TopOfGreen: 980}, calc.Zones)
	assert.Equal(t, events.BufferCalculatedProfile{ADU: 40, DLTDays: 10, LeadTimeFactor: 0.5, VariabilityFactor: 0.5, MOQ: 200, OrderCycleDays: 7}, calc.Profile)
	assert.Equal(t, events.ZoneRed, calc.Zone)
	assert.Equal(t, f.product, calc.Product)
	assert.Equal(t, events.UnitEA, calc.Unit)
	var view map[string]any
	r.Decode(t, &view)
	assert.Equal(t, calc.BufferID.String(), view["buffer_id"])

	// An open purchase order of 1000 is on order: 1000, green.
	po := uuid.New()
	msgs = f.purchaseOrder(t, po, 1000, events.PurchaseOrderCreatedStatusOpen)
	require.Len(t, msgs, 1)
	c := statusChange(t, msgs[0])
	assert.Equal(t, events.BufferStatusChanged{
		BufferID: calc.BufferID, Product: f.product, LocationID: f.location, FromZone: events.ZoneRed, ToZone: events.ZoneGreen,
		Unit: events.UnitEA, NetFlowPosition: 1000, OnHand: 0, OnOrder: 1000, QualifiedDemand: 0, PercentOfTopOfGreen: 102.04,
		ChangedAt: c.ChangedAt,
	}, c)

	// Demand due today is qualified: 1000 - 100 = 900, still green.
	so1 := uuid.New()
	assert.Empty(t, f.salesOrder(t, so1, 100, f.today))
	// Demand due next week is not, unless it is a spike (200 > 150):
	// 900 - 200 = 700, at top of yellow: yellow, and an alert.
	assert.Empty(t, f.salesOrder(t, uuid.New(), 100, f.today.AddDays(7)))
	msgs = f.salesOrder(t, uuid.New(), 200, f.today.AddDays(7))
	require.Equal(t, []string{events.SubjectDDMRPBufferStatusChanged, events.SubjectDDMRPBufferAlertTriggered}, st.Subjects(msgs))
	c = statusChange(t, msgs[0])
	assert.Equal(t, [2]events.Zone{events.ZoneGreen, events.ZoneYellow}, [2]events.Zone{c.FromZone, c.ToZone})
	assert.Equal(t, 300.0, c.QualifiedDemand)
	var alert events.BufferAlertTriggered
	require.NoError(t, msgs[1].Decode(&alert))
	assert.Equal(t, events.BufferAlertTriggered{
		AlertID: alert.AlertID, BufferID: calc.BufferID, Product: f.product, LocationID: f.location,
		Zone: events.ZoneYellow, Severity: events.BufferAlertTriggeredSeverityWarning, Unit: events.UnitEA,
		NetFlowPosition: 700, TopOfRed: 300, TopOfYellow: 700, TopOfGreen: 980,
		RecommendedOrderQuantity: ea(400), // 980 - 700 = 280, up to a multiple of 200
		RequestedDeliveryDate:    f.today.AddDays(10), TriggeredAt: alert.TriggeredAt,
	}, alert)

	// Receiving moves 1000 from on order to on hand: no change of
	// position, nothing published; inventory.updated then confirms it.
	assert.Empty(t, f.publish(t, func() error {
		_, err := f.exec.PurchaseOrderReceived(f.env.Ctx(), f.received(po, 1000, 0))
		return err
	}))
	assert.Empty(t, f.inventory(t, 1000, 1000, events.InventoryUpdatedReasonReceipt))
	// Shipping the qualified order takes it out of on hand and demand at
	// once: no change.
	assert.Empty(t, f.publish(t, func() error {
		_, err := f.exec.SalesOrderShipped(f.env.Ctx(), events.SalesOrderShipped{
			SalesOrderID: so1, OrderNumber: "SO-2026-000001", ShipmentID: uuid.New(), LocationID: f.location,
			Lines:        []events.SalesOrderShipmentLine{{LineNumber: 1, Product: f.product, QuantityShipped: ea(100), QuantityOutstanding: ea(0)}},
			FullyShipped: true, ShippedAt: time.Now().UTC(),
		})
		return err
	}))
	b := f.buffer(t)
	assert.Equal(t, [5]float64{900, 0, 200, 700, 71.43}, [5]float64{b.OnHand, b.OnOrder, b.QualifiedDemand, b.NetFlowPosition, b.Percent})

	// Damage writes off 500: 400 - 200 = 200, red. No second alert: the
	// position has not been back above top of yellow.
	msgs = f.inventory(t, 400, -500, events.InventoryUpdatedReasonDamage)
	require.Len(t, msgs, 1)
	c = statusChange(t, msgs[0])
	assert.Equal(t, [2]events.Zone{events.ZoneYellow, events.ZoneRed}, [2]events.Zone{c.FromZone, c.ToZone})

	// A new profile: ADU 20 gives red 150, yellow 200, green 200; tops 150,
	// 350, 550. The spike threshold falls to 75, so the 100 due next week
	// is now qualified too: 400 - 300 = 100, still red.
	p2 := map[string]any{"adu": 20, "dlt_days": 10, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 200, "order_cycle_days": 7}
	seq = f.env.LastSeq()
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), p2).Must(t, http.StatusOK)
	f.env.Flush(f.svc.Outbox())
	msgs = f.env.Messages(seq)
	require.Equal(t, []string{events.SubjectDDMRPBufferCalculated}, st.Subjects(msgs))
	require.NoError(t, msgs[0].Decode(&calc))
	assert.Equal(t, [3]float64{150, 350, 550}, [3]float64{calc.Zones.TopOfRed, calc.Zones.TopOfYellow, calc.Zones.TopOfGreen})
	assert.Equal(t, 100.0, calc.NetFlowPosition)

	// A cycle count finds 900: 900 - 300 = 600, green, and the alarm is
	// armed again.
	msgs = f.inventory(t, 900, 500, events.InventoryUpdatedReasonCycleCount)
	require.Len(t, msgs, 1)
	c = statusChange(t, msgs[0])
	assert.Equal(t, [2]events.Zone{events.ZoneRed, events.ZoneGreen}, [2]events.Zone{c.FromZone, c.ToZone})
	assert.True(t, f.buffer(t).AlertArmed)

	// A profile change that lifts top of yellow above the position crosses
	// it too: ADU 40 again, tops 300, 700, 980; 600 is yellow.
	seq = f.env.LastSeq()
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusOK)
	f.env.Flush(f.svc.Outbox())
	msgs = f.env.Messages(seq)
	require.Equal(t, []string{events.SubjectDDMRPBufferCalculated, events.SubjectDDMRPBufferStatusChanged, events.SubjectDDMRPBufferAlertTriggered}, st.Subjects(msgs))
	require.NoError(t, msgs[2].Decode(&alert))
	assert.Equal(t, 400.0, alert.RecommendedOrderQuantity.Value) // 980 - 600 = 380, up to 400

	// Back to green, then the product is discontinued: it falls into red
	// again but raises no alert.
	require.Len(t, f.inventory(t, 1300, 700, events.InventoryUpdatedReasonAdjustment), 1)
	assert.Empty(t, f.publish(t, func() error {
		f.env.DiscontinueProduct(st.Product{ID: f.product.ProductID, SKU: f.product.SKU})
		return nil
	}))
	msgs = f.inventory(t, 0, -1300, events.InventoryUpdatedReasonDamage)
	require.Equal(t, []string{events.SubjectDDMRPBufferStatusChanged}, st.Subjects(msgs), "no alert for a discontinued product")
	assert.True(t, f.buffer(t).Discontinued)
	r = f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusConflict)
	field, _ := r.Error(t)
	assert.Equal(t, "product_id", field)
	assert.Zero(t, f.env.DeadLetters())
}

// TestDraftsAreNotOnOrder: a draft replenishment order is not supply until
// it is received (or a receipt shows it was placed).
func TestDraftsAreNotOnOrder(t *testing.T) {
	f := setUp(t)
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusCreated)
	po := uuid.New()
	assert.Empty(t, f.purchaseOrder(t, po, 1000, events.PurchaseOrderCreatedStatusDraft))
	b := f.buffer(t)
	assert.Equal(t, [3]float64{0, 1000, 0}, [3]float64{b.OnOrder, b.DraftSupply, b.NetFlowPosition})
	// A partial receipt: 400 on hand, the 600 outstanding are on order now.
	msgs := f.publish(t, func() error {
		_, err := f.exec.PurchaseOrderReceived(f.env.Ctx(), f.received(po, 400, 600))
		return err
	})
	require.Len(t, msgs, 1)
	c := statusChange(t, msgs[0])
	assert.Equal(t, [2]events.Zone{events.ZoneRed, events.ZoneGreen}, [2]events.Zone{c.FromZone, c.ToZone})
	b = f.buffer(t)
	assert.Equal(t, [4]float64{400, 600, 0, 1000}, [4]float64{b.OnHand, b.OnOrder, b.DraftSupply, b.NetFlowPosition})
}

// TestOverflowingSupplyIsRefused: events whose quantities are valid one
// by one but whose sum leaves float64's range are dead-lettered, not
// applied: the buffer stays finite and readable.
func TestOverflowingSupplyIsRefused(t *testing.T) {
	f := setUp(t)
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusCreated)
	dead := f.env.DeadLetters()
	f.purchaseOrder(t, uuid.New(), 1e308, events.PurchaseOrderCreatedStatusOpen)
	assert.Equal(t, dead, f.env.DeadLetters(), "an order of 1e308 fits")
	f.purchaseOrder(t, uuid.New(), 1e308, events.PurchaseOrderCreatedStatusOpen)
	st.Eventually(t, 5*time.Second, func() bool { return f.env.DeadLetters() == dead+1 }, "the order that overflows the on-order sum dead-lettered")
	b := f.buffer(t)
	assert.Equal(t, 1e308, b.OnOrder, "the overflowing order not applied")
	assert.False(t, math.IsInf(b.NetFlowPosition, 0))
}

// TestRedeliveredEventChangesNothingTwice stores one event twice (same
// envelope id, different Nats-Msg-Id, as a crashed publisher retrying
// outside the duplicates window would): DDMRP applies it once.
func TestRedeliveredEventChangesNothingTwice(t *testing.T) {
	f := setUp(t)
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusCreated)
	po := uuid.New()
	f.purchaseOrder(t, po, 1000, events.PurchaseOrderCreatedStatusOpen)
	raw, err := json.Marshal(f.received(po, 500, 500))
	require.NoError(t, err)
	env := bus.Envelope{
		ID: uuid.New(), Subject: events.SubjectExecutionPurchaseOrderReceived, CorrelationID: "retry", OrganizationID: f.env.Org,
		Timestamp: time.Now().UTC(), Source: events.ServiceExecution, Version: 1, Payload: raw,
	}
	data, err := json.Marshal(env)
	require.NoError(t, err)
	for range 2 {
		msg := nats.NewMsg(env.Subject)
		msg.Data = data
		msg.Header.Set(nats.MsgIdHdr, uuid.NewString())
		_, err := f.env.JS.PublishMsg(t.Context(), msg)
		require.NoError(t, err)
	}
	f.env.WaitCaughtUp(f.svc.Consumers()...)
	b := f.buffer(t)
	assert.Equal(t, [3]float64{500, 500, 1000}, [3]float64{b.OnHand, b.OnOrder, b.NetFlowPosition})
}

func TestRefusedRequests(t *testing.T) {
	f := setUp(t)
	known := events.ProductRef{ProductID: uuid.New(), SKU: "KNOWN-1"}
	f.product = known
	f.purchaseOrder(t, uuid.New(), 10, events.PurchaseOrderCreatedStatusOpen) // names the product, in EA
	with := func(k string, v any) map[string]any {
		b := map[string]any{}
		for k, v := range bearing {
			b[k] = v
		}
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return b
	}
	unknown := fmt.Sprintf("/buffers/%s/%s", uuid.New(), f.location)
	tests := []struct {
		name    string
		method  string
		path    string
		body    any
		status  int
		field   string
		message string
	}{
		{"no body", http.MethodPut, unknown, nil, 400, "", "required"},
		{"malformed", http.MethodPut, unknown, `{"adu": }`, 400, "", "malformed"},
		{"unknown field", http.MethodPut, unknown, with("buffer_size", 3), 400, "buffer_size", "unknown field"},
		{"adu as text", http.MethodPut, unknown, with("adu", "forty"), 400, "adu", "number"},
		{"no adu", http.MethodPut, unknown, with("adu", nil), 400, "adu", "required"},
		{"zero adu", http.MethodPut, unknown, with("adu", 0), 400, "adu", "above 0"},
		{"no dlt", http.MethodPut, unknown, with("dlt_days", nil), 400, "dlt_days", "required"},
		{"fractional dlt", http.MethodPut, unknown, with("dlt_days", 1.5), 400, "dlt_days", "number"},
		{"zero dlt", http.MethodPut, unknown, with("dlt_days", 0), 400, "dlt_days", "from 1 to 3650"},
		{"dlt of 2^63-1 days", http.MethodPut, unknown, with("dlt_days", int64(1<<63-1)), 400, "dlt_days", "from 1 to 3650"},
		{"ADU of 1e300", http.MethodPut, unknown, with("adu", 1e300), 400, "adu", "at most 1e+12"},
		{"MOQ beyond the bound", http.MethodPut, unknown, with("moq", 1e13), 400, "moq", "from 0 to 1e+12"},
		{"order cycle of 11 years", http.MethodPut, unknown, with("order_cycle_days", 4015), 400, "order_cycle_days", "from 0 to 3650"},
		{"no lead-time factor", http.MethodPut, unknown, with("lead_time_factor", nil), 400, "lead_time_factor", "required"},
		{"lead-time factor above 1", http.MethodPut, unknown, with("lead_time_factor", 1.5), 400, "lead_time_factor", "at most 1"},
		{"no variability factor", http.MethodPut, unknown, with("variability_factor", nil), 400, "variability_factor", "required"},
		{"negative variability", http.MethodPut, unknown, with("variability_factor", -0.1), 400, "variability_factor", "from 0 to 1"},
		{"negative MOQ", http.MethodPut, unknown, with("moq", -1), 400, "moq", "from 0"},
		{"negative order cycle", http.MethodPut, unknown, with("order_cycle_days", -7), 400, "order_cycle_days", "from 0"},
		{"unknown product without SKU", http.MethodPut, unknown, with("sku", nil), 400, "sku", "no event has named"},
		{"unknown product without unit", http.MethodPut, unknown, with("unit", nil), 400, "unit", "no event has given"},
		{"bad SKU", http.MethodPut, unknown, with("sku", "brg 6204"), 400, "sku", "capitals"},
		{"bad unit", http.MethodPut, unknown, with("unit", "DOZEN"), 400, "unit", "one of"},
		{"bad product id", http.MethodPut, "/buffers/x/" + f.location.String(), bearing, 400, "product_id", "UUID"},
		{"bad location id", http.MethodPut, "/buffers/" + uuid.NewString() + "/x", bearing, 400, "location_id", "UUID"},
		{"no buffer", http.MethodGet, unknown, nil, 404, "", "no buffer"},
		{"get a bad id", http.MethodGet, "/buffers/x/y", nil, 400, "product_id", "UUID"},
		{"unknown route", http.MethodGet, "/zones", nil, 404, "", "no route"},
	}
	seq := f.env.LastSeq()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.env.Do(tt.method, f.url+tt.path, tt.body)
			require.Equal(t, tt.status, r.Status, "body: %s", r.Body)
			field, msg := r.Error(t)
			assert.Equal(t, tt.field, field)
			assert.Contains(t, msg, tt.message)
		})
	}
	f.env.Flush(f.svc.Outbox())
	assert.Empty(t, st.Subjects(f.env.Messages(seq)), "a refused request publishes nothing")

	// A product an event named needs neither SKU nor unit.
	f.env.Do(http.MethodPut, f.url+f.bufferPath(), with("sku", nil)).Must(t, http.StatusCreated)
}

func TestReads(t *testing.T) {
	f := setUp(t)
	var list struct {
		Buffers []map[string]any `json:"buffers"`
	}
	f.env.Do(http.MethodGet, f.url+"/buffers", nil).Must(t, http.StatusOK).Decode(t, &list)
	assert.Empty(t, list.Buffers)
	created := f.env.Do(http.MethodPut, f.url+f.bufferPath(), bearing).Must(t, http.StatusCreated).JSON(t)
	f.env.Do(http.MethodGet, f.url+"/buffers", nil).Must(t, http.StatusOK).Decode(t, &list)
	require.Len(t, list.Buffers, 1)
	assert.Equal(t, created["buffer_id"], list.Buffers[0]["buffer_id"])
	got := f.env.Do(http.MethodGet, f.url+f.bufferPath(), nil).Must(t, http.StatusOK).JSON(t)
	assert.Equal(t, map[string]any{"product_id": f.product.ProductID.String(), "sku": f.product.SKU}, got["product"])
	assert.Equal(t, "red", got["zone"])
	assert.Equal(t, map[string]any{
		"red_base": 200.0, "red_safety": 100.0, "red": 300.0, "yellow": 400.0, "green": 280.0,
		"top_of_red": 300.0, "top_of_yellow": 700.0, "top_of_green": 980.0,
	}, got["zones"])
	// Another organization sees nothing.
	r := f.env.Do(http.MethodGet, f.url+f.bufferPath(), nil, f.env.As(uuid.New(), st.AllRoles...)...)
	assert.Equal(t, http.StatusNotFound, r.Status)
	// A path no route has is 404, with or without an identity.
	st.Do(t, http.MethodGet, f.url+"/no-such-path", nil).Must(t, http.StatusNotFound)
}

// TestBuffersPage: the buffers come in pages, each with the cursor of
// the next while it is full.
func TestBuffersPage(t *testing.T) {
	f := setUp(t)
	for range 3 {
		f.env.Do(http.MethodPut, fmt.Sprintf("%s/buffers/%s/%s", f.url, f.product.ProductID, uuid.New()), bearing).Must(t, http.StatusCreated)
	}
	seen := map[uuid.UUID]bool{}
	next := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 4, "the pages never end")
		url := f.url + "/buffers?limit=2"
		if next != "" {
			url += "&after=" + next
		}
		var page struct {
			Buffers []struct {
				LocationID uuid.UUID `json:"location_id"`
			} `json:"buffers"`
			Next string `json:"next"`
		}
		f.env.Do(http.MethodGet, url, nil).Must(t, http.StatusOK).Decode(t, &page)
		for _, b := range page.Buffers {
			assert.False(t, seen[b.LocationID], "a buffer on two pages")
			seen[b.LocationID] = true
		}
		if page.Next == "" {
			break
		}
		next = page.Next
	}
	assert.Len(t, seen, 3)
}
