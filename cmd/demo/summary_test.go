package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
)

func TestSummaries(t *testing.T) {
	ref := events.ProductRef{ProductID: uuid.New(), SKU: "BRG-1"}
	q := events.Quantity{Value: 140, Unit: events.UnitEA}
	now := time.Now().UTC()
	due := payload.Date{Year: 2026, Month: 12, Day: 4}
	for _, tt := range []struct {
		subject string
		version int // 0: the current one
		payload any
		want    string
	}{
		{events.SubjectCatalogProductCreated, 0, events.ProductCreated{SKU: "BRG-1", Name: "Bearing", UnitOfMeasure: events.UnitEA}, `BRG-1 "Bearing", stocked in EA`},
		{events.SubjectExecutionPurchaseOrderCreated, 0, events.PurchaseOrderCreated{OrderNumber: "PO-2026-000001", Status: "open", Origin: "manual", ExpectedDeliveryDate: due,
			Lines: []events.PurchaseOrderLine{{Product: ref, Quantity: q}, {Product: ref, Quantity: q}}}, "PO-2026-000001 open manual: 140 EA BRG-1, 140 EA BRG-1"},
		{events.SubjectExecutionPurchaseOrderReceived, 0, events.PurchaseOrderReceived{OrderNumber: "PO-2026-000001",
			Lines: []events.PurchaseOrderReceiptLine{{Product: ref, QuantityReceived: q}}}, "PO-2026-000001 received in part: 140 EA BRG-1"},
		{events.SubjectExecutionSalesOrderCreated, 0, events.SalesOrderCreated{OrderNumber: "SO-2026-000001",
			Lines: []events.SalesOrderLine{{Product: ref, Quantity: q, DueDate: due}, {Product: ref, Quantity: q, DueDate: due.AddDays(7)}}},
			"SO-2026-000001: 140 EA BRG-1 due 2026-12-04, 140 EA BRG-1 due 2026-12-11"},
		{events.SubjectExecutionSalesOrderCreated, 1, events.SalesOrderCreatedV1{OrderNumber: "SO-2026-000001", DueDate: due,
			Lines: []events.SalesOrderLineV1{{Product: ref, Quantity: q}}}, "SO-2026-000001 due 2026-12-04: 140 EA BRG-1"},
		{events.SubjectExecutionSalesOrderShipped, 0, events.SalesOrderShipped{OrderNumber: "SO-2026-000001",
			Lines: []events.SalesOrderShipmentLine{{Product: ref, QuantityShipped: q}}}, "SO-2026-000001 shipped: 140 EA BRG-1"},
		{events.SubjectExecutionInventoryUpdated, 0, events.InventoryUpdated{Product: ref, OnHand: q, Delta: -10, Reason: "shipment"}, "BRG-1 on hand 140 EA (-10, shipment)"},
		{events.SubjectDDMRPBufferCalculated, 0, events.BufferCalculated{Product: ref, Zones: events.BufferCalculatedZones{TopOfRed: 1, TopOfYellow: 2, TopOfGreen: 3}, Zone: "green", NetFlowPosition: 3},
			"BRG-1 tops 1/2/3; net flow 3: green"},
		{events.SubjectDDMRPBufferStatusChanged, 0, events.BufferStatusChanged{Product: ref, FromZone: "green", ToZone: "yellow", NetFlowPosition: 5, PercentOfTopOfGreen: 50},
			"BRG-1 green -> YELLOW: net flow 5 (50% of top of green)"},
		{events.SubjectDDMRPBufferAlertTriggered, 0, events.BufferAlertTriggered{Product: ref, Severity: "critical", NetFlowPosition: 1, TopOfYellow: 2,
			RecommendedOrderQuantity: q, RequestedDeliveryDate: due, TriggeredAt: now}, "BRG-1 critical: net flow 1 <= 2, order 140 EA by 2026-12-04"},
		{"catalog.product.updated", 0, map[string]any{"a": 1}, "7 bytes"},
	} {
		data, err := json.Marshal(tt.payload)
		assert.NoError(t, err)
		assert.Equal(t, tt.want, summary(observed{Envelope: bus.Envelope{Subject: tt.subject, Version: tt.version, Payload: data}}), tt.subject)
	}
	for _, s := range []string{
		events.SubjectCatalogProductCreated, events.SubjectExecutionPurchaseOrderCreated, events.SubjectExecutionPurchaseOrderReceived,
		events.SubjectExecutionSalesOrderCreated, events.SubjectExecutionSalesOrderShipped, events.SubjectExecutionInventoryUpdated,
		events.SubjectDDMRPBufferCalculated, events.SubjectDDMRPBufferStatusChanged, events.SubjectDDMRPBufferAlertTriggered,
	} {
		assert.Contains(t, summary(observed{Envelope: bus.Envelope{Subject: s, Payload: json.RawMessage(`[]`)}}), "(json:", s)
	}
}

func TestP99(t *testing.T) {
	assert.Equal(t, 0.0, p99(nil))
	assert.Equal(t, 3.0, p99([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}))
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	assert.Equal(t, 198.0, p99(ds), "nearest rank: the 198th of 200")
}
