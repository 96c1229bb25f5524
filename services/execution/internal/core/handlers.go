package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/store"
)

// Handlers returns the service's reactions to the events it consumes.
func (s *Service) Handlers() events.ExecutionHandlers {
	return events.ExecutionHandlers{
		ProductCreated:       s.productCreated,
		ProductUpdated:       s.productUpdated,
		ProductDiscontinued:  s.productDiscontinued,
		BufferAlertTriggered: s.alertTriggered,
	}
}

// write runs fn in a transaction and commits it with the events fn adds.
func (s *Service) write(ctx context.Context, fn func(tx *store.Tx, b *batch) error) error {
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var b batch
	if err := fn(tx, &b); err != nil {
		if errors.Is(err, errNothingToDo) {
			return nil
		}
		return err
	}
	return s.commit(ctx, tx, &b)
}

// errNothingToDo makes write roll back and succeed.
var errNothingToDo = errors.New("nothing to do")

func (s *Service) productCreated(ctx context.Context, ev bus.Event[events.ProductCreated]) error {
	p := ev.Payload
	return s.write(ctx, func(tx *store.Tx, _ *batch) error {
		return tx.UpsertProduct(ctx, store.Product{
			Org: ev.OrganizationID, ID: p.ProductID, SKU: p.SKU, Name: p.Name, Unit: string(p.UnitOfMeasure),
			MOQ: p.MOQ, PreferredSupplierID: p.PreferredSupplierID, UpdatedAt: p.CreatedAt,
		})
	})
}

func (s *Service) productUpdated(ctx context.Context, ev bus.Event[events.ProductUpdated]) error {
	p := ev.Payload
	return s.write(ctx, func(tx *store.Tx, _ *batch) error {
		return tx.UpsertProduct(ctx, store.Product{
			Org: ev.OrganizationID, ID: p.ProductID, SKU: p.SKU, Name: p.Name, Unit: string(p.UnitOfMeasure),
			MOQ: p.MOQ, PreferredSupplierID: p.PreferredSupplierID, UpdatedAt: p.UpdatedAt,
		})
	})
}

func (s *Service) productDiscontinued(ctx context.Context, ev bus.Event[events.ProductDiscontinued]) error {
	p := ev.Payload
	return s.write(ctx, func(tx *store.Tx, _ *batch) error {
		return tx.DiscontinueProduct(ctx, ev.OrganizationID, p.ProductID, p.SKU, p.DiscontinuedAt)
	})
}

// alertTriggered raises a draft replenishment purchase order for the
// alert's recommended quantity, once per alert: a redelivered alert finds
// its order (alert_id is unique) and does nothing.
func (s *Service) alertTriggered(ctx context.Context, ev bus.Event[events.BufferAlertTriggered]) error {
	a := ev.Payload
	org := ev.OrganizationID
	return s.write(ctx, func(tx *store.Tx, b *batch) error {
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
			return errNothingToDo
		}
		if err != nil {
			return fmt.Errorf("replenish alert %s: %w", a.AlertID, err)
		}
		s.log.InfoContext(ctx, "replenishment raised", "alert_id", a.AlertID, "purchase_order", po.Number, "quantity", po.Lines[0].Quantity)
		return nil
	})
}
