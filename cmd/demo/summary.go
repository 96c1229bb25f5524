package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/giia/events/sdk/events"
)

// summary is a one-line account of an event's payload.
func summary(ev observed) string {
	s, err := summarize(ev.Subject, ev.Version, ev.Payload)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// summarize reads payload as the given version of subject's payload.
func summarize(subject string, version int, payload json.RawMessage) (string, error) {
	switch subject {
	case events.SubjectCatalogProductCreated:
		var p events.ProductCreated
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %q, stocked in %s", p.SKU, p.Name, p.UnitOfMeasure), nil
	case events.SubjectExecutionPurchaseOrderCreated:
		var p events.PurchaseOrderCreated
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s %s: %s", p.OrderNumber, p.Status, p.Origin, lines(len(p.Lines), func(i int) string {
			return qty(p.Lines[i].Quantity) + " " + p.Lines[i].Product.SKU
		})), nil
	case events.SubjectExecutionPurchaseOrderReceived:
		var p events.PurchaseOrderReceived
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		done := "in part"
		if p.FullyReceived {
			done = "in full"
		}
		return fmt.Sprintf("%s received %s: %s", p.OrderNumber, done, lines(len(p.Lines), func(i int) string {
			return qty(p.Lines[i].QuantityReceived) + " " + p.Lines[i].Product.SKU
		})), nil
	case events.SubjectExecutionSalesOrderCreated:
		if version == 1 { // one due date for the order
			var p events.SalesOrderCreatedV1
			if err := json.Unmarshal(payload, &p); err != nil {
				return "", err
			}
			return fmt.Sprintf("%s due %s: %s", p.OrderNumber, p.DueDate, lines(len(p.Lines), func(i int) string {
				return qty(p.Lines[i].Quantity) + " " + p.Lines[i].Product.SKU
			})), nil
		}
		var p events.SalesOrderCreated
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s: %s", p.OrderNumber, lines(len(p.Lines), func(i int) string {
			return qty(p.Lines[i].Quantity) + " " + p.Lines[i].Product.SKU + " due " + p.Lines[i].DueDate.String()
		})), nil
	case events.SubjectExecutionSalesOrderShipped:
		var p events.SalesOrderShipped
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s shipped: %s", p.OrderNumber, lines(len(p.Lines), func(i int) string {
			return qty(p.Lines[i].QuantityShipped) + " " + p.Lines[i].Product.SKU
		})), nil
	case events.SubjectExecutionInventoryUpdated:
		var p events.InventoryUpdated
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s on hand %s (%+g, %s)", p.Product.SKU, qty(p.OnHand), p.Delta, p.Reason), nil
	case events.SubjectDDMRPBufferCalculated:
		var p events.BufferCalculated
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s tops %g/%g/%g; net flow %g: %s", p.Product.SKU,
			p.Zones.TopOfRed, p.Zones.TopOfYellow, p.Zones.TopOfGreen, p.NetFlowPosition, p.Zone), nil
	case events.SubjectDDMRPBufferStatusChanged:
		var p events.BufferStatusChanged
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s -> %s: net flow %g (%g%% of top of green)", p.Product.SKU,
			p.FromZone, strings.ToUpper(string(p.ToZone)), p.NetFlowPosition, p.PercentOfTopOfGreen), nil
	case events.SubjectDDMRPBufferAlertTriggered:
		var p events.BufferAlertTriggered
		if err := json.Unmarshal(payload, &p); err != nil {
			return "", err
		}
		return fmt.Sprintf("%s %s: net flow %g <= %g, order %s by %s", p.Product.SKU, p.Severity,
			p.NetFlowPosition, p.TopOfYellow, qty(p.RecommendedOrderQuantity), p.RequestedDeliveryDate), nil
	}
	return fmt.Sprintf("%d bytes", len(payload)), nil
}

func qty(q events.Quantity) string { return fmt.Sprintf("%g %s", q.Value, q.Unit) }

func lines(n int, f func(int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = f(i)
	}
	return strings.Join(parts, ", ")
}
