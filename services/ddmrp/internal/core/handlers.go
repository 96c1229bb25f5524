package core

import (
	"context"
	"database/sql"
	"math"
	"slices"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/ddmrp/internal/store"
	"github.com/giia/events/services/internal/usecase"
)

// Handlers returns the service's reactions to the events it consumes.
// Each runs in one transaction of the inbox that also records the event's
// id, so a redelivered event changes nothing twice, and adds the events
// its change causes to the outbox in that same transaction.
func (s *Service) Handlers() events.DDMRPHandlers {
	return events.DDMRPHandlers{
		PurchaseOrderCreated:  handle(s, s.purchaseOrderCreated),
		PurchaseOrderReceived: handle(s, s.purchaseOrderReceived),
		SalesOrderCreated:     handle(s, s.salesOrderCreated),
		SalesOrderShipped:     handle(s, s.salesOrderShipped),
		InventoryUpdated:      handle(s, s.inventoryUpdated),
		ProductDiscontinued:   handle(s, s.productDiscontinued),
	}
}

// apply changes the state for one event and returns the positions whose
// buffers need evaluating again.
type apply[T any] func(ctx context.Context, tx *store.Tx, org uuid.UUID, p T) ([]store.Position, error)

// handle makes a handler of fn (usecase.Handle): in one inbox
// transaction, fn's change, the buffers of the positions it returns
// evaluated again, and the events that causes.
func handle[T any](s *Service, fn apply[T]) bus.Handler[T] {
	return usecase.Handle(s.uc, func(ctx context.Context, sqlTx *sql.Tx, ev bus.Event[T], b *batch) error {
		tx := s.st.WrapTx(sqlTx)
		positions, err := fn(ctx, tx, ev.OrganizationID, ev.Payload)
		if err != nil {
			return err
		}
		for i, p := range positions {
			if slices.Contains(positions[:i], p) {
				continue // evaluated already: an event has a few lines
			}
			if err := s.reevaluate(ctx, tx, ev.OrganizationID, p, b); err != nil {
				return err
			}
		}
		return nil
	})
}

func roundQ(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func (s *Service) purchaseOrderCreated(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.PurchaseOrderCreated) ([]store.Position, error) {
	var out []store.Position
	for _, l := range p.Lines {
		pos := store.Position{ProductID: l.Product.ProductID, LocationID: p.LocationID}
		if err := tx.LearnProduct(ctx, org, pos.ProductID, l.Product.SKU, string(l.Quantity.Unit)); err != nil {
			return nil, err
		}
		line := store.OrderLine{OrderID: p.PurchaseOrderID, LineNumber: int(l.LineNumber), Position: pos, Outstanding: l.Quantity.Value,
			Placed: p.Status != events.PurchaseOrderCreatedStatusDraft}
		if err := tx.PutSupply(ctx, org, line); err != nil {
			return nil, err
		}
		out = append(out, pos)
	}
	return out, nil
}

// purchaseOrderReceived moves the received quantity from on-order to
// on-hand in one step, so that the position never shows the goods missing
// from both (inventory.updated, which follows, then finds the balance it
// carries already recorded). A draft that receives goods was placed after
// all: what it still has outstanding is on order from now on.
func (s *Service) purchaseOrderReceived(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.PurchaseOrderReceived) ([]store.Position, error) {
	if err := tx.PlaceSupply(ctx, org, p.PurchaseOrderID); err != nil {
		return nil, err
	}
	var out []store.Position
	for _, l := range p.Lines {
		pos := store.Position{ProductID: l.Product.ProductID, LocationID: p.LocationID}
		if err := tx.LearnProduct(ctx, org, pos.ProductID, l.Product.SKU, string(l.QuantityReceived.Unit)); err != nil {
			return nil, err
		}
		if err := tx.SetSupplyOutstanding(ctx, org, store.OrderLine{OrderID: p.PurchaseOrderID, LineNumber: int(l.LineNumber), Position: pos, Outstanding: l.QuantityOutstanding.Value, Placed: true}); err != nil {
			return nil, err
		}
		onHand, err := tx.OnHand(ctx, org, pos)
		if err != nil {
			return nil, err
		}
		if err := tx.SetOnHand(ctx, org, pos, roundQ(onHand+l.QuantityReceived.Value)); err != nil {
			return nil, err
		}
		out = append(out, pos)
	}
	return out, nil
}

// salesOrderCreated records each line as open demand from its own due date:
// qualified demand once due. An event published as version 1 arrives
// upcast, every line due on the order's date.
func (s *Service) salesOrderCreated(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.SalesOrderCreated) ([]store.Position, error) {
	var out []store.Position
	for _, l := range p.Lines {
		pos := store.Position{ProductID: l.Product.ProductID, LocationID: p.LocationID}
		if err := tx.LearnProduct(ctx, org, pos.ProductID, l.Product.SKU, string(l.Quantity.Unit)); err != nil {
			return nil, err
		}
		if err := tx.PutDemand(ctx, org, store.OrderLine{OrderID: p.SalesOrderID, LineNumber: int(l.LineNumber), Position: pos, DueDate: l.DueDate, Outstanding: l.Quantity.Value}); err != nil {
			return nil, err
		}
		out = append(out, pos)
	}
	return out, nil
}

// salesOrderShipped takes the shipped quantity out of on-hand and out of
// open demand in one step (see purchaseOrderReceived).
func (s *Service) salesOrderShipped(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.SalesOrderShipped) ([]store.Position, error) {
	var out []store.Position
	for _, l := range p.Lines {
		pos := store.Position{ProductID: l.Product.ProductID, LocationID: p.LocationID}
		if err := tx.SetDemandOutstanding(ctx, org, store.OrderLine{OrderID: p.SalesOrderID, LineNumber: int(l.LineNumber), Position: pos, Outstanding: l.QuantityOutstanding.Value}); err != nil {
			return nil, err
		}
		onHand, err := tx.OnHand(ctx, org, pos)
		if err != nil {
			return nil, err
		}
		if err := tx.SetOnHand(ctx, org, pos, max(0, roundQ(onHand-l.QuantityShipped.Value))); err != nil {
			return nil, err
		}
		out = append(out, pos)
	}
	return out, nil
}

// inventoryUpdated sets on-hand to the balance the event carries: a missed
// or repeated movement cannot make the copy drift.
func (s *Service) inventoryUpdated(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.InventoryUpdated) ([]store.Position, error) {
	pos := store.Position{ProductID: p.Product.ProductID, LocationID: p.LocationID}
	if err := tx.LearnProduct(ctx, org, pos.ProductID, p.Product.SKU, string(p.OnHand.Unit)); err != nil {
		return nil, err
	}
	if err := tx.SetOnHand(ctx, org, pos, p.OnHand.Value); err != nil {
		return nil, err
	}
	return []store.Position{pos}, nil
}

// productDiscontinued stops the product's buffers raising alerts.
func (s *Service) productDiscontinued(ctx context.Context, tx *store.Tx, org uuid.UUID, p events.ProductDiscontinued) ([]store.Position, error) {
	return nil, tx.DiscontinueProduct(ctx, org, p.ProductID, p.SKU)
}
