package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/usecase"
)

// Handlers returns the service's reactions to the events it consumes.
// Each applies its event once: its change, the events it causes and the
// record of the event's id commit in one transaction of the inbox.
func (s *Service) Handlers() events.ExecutionHandlers {
	return events.ExecutionHandlers{
		ProductCreated:       handle(s, s.productCreated),
		ProductUpdated:       handle(s, s.productUpdated),
		ProductDiscontinued:  handle(s, s.productDiscontinued),
		BufferAlertTriggered: handle(s, s.alertTriggered),
	}
}

// reaction changes the state for one event, in tx, and adds the events
// the change causes to b; usecase.ErrNothingToDo rolls everything back
// and acknowledges the event.
type reaction[T any] func(ctx context.Context, tx *store.Tx, ev bus.Event[T], b *batch) error

// handle makes a handler of fn (usecase.Handle): the event's id, fn's
// change and its events commit in one inbox transaction, once.
func handle[T any](s *Service, fn reaction[T]) bus.Handler[T] {
	return usecase.Handle(s.uc, func(ctx context.Context, tx *sql.Tx, ev bus.Event[T], b *batch) error {
		return fn(ctx, s.st.Wrap(tx), ev, b)
	})
}

func (s *Service) productCreated(ctx context.Context, tx *store.Tx, ev bus.Event[events.ProductCreated], _ *batch) error {
	p := ev.Payload
	return tx.UpsertProduct(ctx, store.Product{
		Org: ev.OrganizationID, ID: p.ProductID, SKU: p.SKU, Name: p.Name, Unit: string(p.UnitOfMeasure),
		MOQ: p.MOQ, PreferredSupplierID: p.PreferredSupplierID, UpdatedAt: p.CreatedAt,
	})
}

func (s *Service) productUpdated(ctx context.Context, tx *store.Tx, ev bus.Event[events.ProductUpdated], _ *batch) error {
	p := ev.Payload
	return tx.UpsertProduct(ctx, store.Product{
		Org: ev.OrganizationID, ID: p.ProductID, SKU: p.SKU, Name: p.Name, Unit: string(p.UnitOfMeasure),
		MOQ: p.MOQ, PreferredSupplierID: p.PreferredSupplierID, UpdatedAt: p.UpdatedAt,
	})
}

func (s *Service) productDiscontinued(ctx context.Context, tx *store.Tx, ev bus.Event[events.ProductDiscontinued], _ *batch) error {
	p := ev.Payload
	return tx.DiscontinueProduct(ctx, ev.OrganizationID, p.ProductID, p.SKU, p.DiscontinuedAt)
}

// alertTriggered raises a draft replenishment purchase order for the
// alert's recommended quantity, once per alert: a redelivered alert finds
// its order (alert_id is unique) and does nothing.
func (s *Service) alertTriggered(ctx context.Context, tx *store.Tx, ev bus.Event[events.BufferAlertTriggered], b *batch) error {
	a := ev.Payload
	org := ev.OrganizationID
	existing, err := tx.PurchaseOrders(ctx, org, store.PurchaseOrderFilter{AlertID: a.AlertID})
	if err != nil {
		return err
	}
	if len(existing) > 0 {
		s.log.InfoContext(ctx, "alert already answered", "alert_id", a.AlertID, "purchase_order", existing[0].Number)
		return nil
	}
	if a.RecommendedOrderQuantity.Value <= 0 {
		s.log.InfoContext(ctx, "alert recommends nothing", "alert_id", a.AlertID)
		return nil
	}
	var supplier *uuid.UUID
	p, err := tx.Product(ctx, org, a.Product.ProductID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Not in the local catalog copy yet: a draft without supplier.
	case err != nil:
		return err
	case p.Discontinued:
		s.log.InfoContext(ctx, "no replenishment of a discontinued product", "alert_id", a.AlertID, "sku", p.SKU)
		return nil
	default:
		supplier = p.PreferredSupplierID
	}
	alertID := a.AlertID
	po := store.PurchaseOrder{
		ID:                   uuid.New(),
		Org:                  org,
		SupplierID:           supplier,
		LocationID:           a.LocationID,
		Status:               store.StatusDraft,
		Origin:               "replenishment",
		AlertID:              &alertID,
		ExpectedDeliveryDate: a.RequestedDeliveryDate,
		CreatedAt:            s.now().UTC(),
		Lines: []store.Line{{
			Number:    1,
			ProductID: a.Product.ProductID,
			SKU:       a.Product.SKU,
			Unit:      string(a.RecommendedOrderQuantity.Unit),
			Quantity:  round(a.RecommendedOrderQuantity.Value),
		}},
	}
	err = s.insertPurchaseOrder(ctx, tx, &po, b)
	if errors.Is(err, store.ErrDuplicateAlert) {
		return usecase.ErrNothingToDo
	}
	if err != nil {
		return fmt.Errorf("replenish alert %s: %w", a.AlertID, err)
	}
	s.log.InfoContext(ctx, "replenishment raised", "alert_id", a.AlertID, "purchase_order", po.Number, "quantity", po.Lines[0].Quantity)
	return nil
}
