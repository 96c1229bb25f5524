package core

import (
	"context"
	"errors"
	"math"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/limits"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/usecase"
)

// Adjustment is a manual change of on-hand stock.
type Adjustment struct {
	ProductID   uuid.UUID
	LocationID  uuid.UUID
	Delta       float64 // signed: positive adds stock
	Reason      string  // adjustment, cycle_count, damage or return
	Note        *string
	ReferenceID *uuid.UUID // the sales order of a return
}

// AdjustmentReasons are the reasons a manual adjustment may give; receipts
// and shipments go through their orders.
var AdjustmentReasons = []string{"adjustment", "cycle_count", "damage", "return"}

// AdjustInventory changes the on-hand stock of a product at a location and
// publishes execution.inventory.updated.
func (s *Service) AdjustInventory(ctx context.Context, in Adjustment) (store.Stock, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.Stock{}, err
	}
	switch {
	case in.ProductID == uuid.Nil:
		return store.Stock{}, problem.Invalidf("product_id", "is required")
	case in.LocationID == uuid.Nil:
		return store.Stock{}, problem.Invalidf("location_id", "is required")
	case !finite(in.Delta) || round(in.Delta) == 0 || math.Abs(in.Delta) > limits.MaxQuantity:
		return store.Stock{}, problem.Invalidf("delta", "must be a non-zero number from -%g to %g, got %v", float64(limits.MaxQuantity), float64(limits.MaxQuantity), in.Delta)
	}
	known := false
	for _, r := range AdjustmentReasons {
		known = known || r == in.Reason
	}
	if !known {
		return store.Stock{}, problem.Invalidf("reason", "must be one of adjustment, cycle_count, damage, return, got %q (receipts and shipments go through their orders)", in.Reason)
	}
	if err := checkText("note", in.Note, 500); err != nil {
		return store.Stock{}, err
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return store.Stock{}, err
	}
	defer tx.Rollback()
	p, err := tx.Product(ctx, org, in.ProductID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Stock{}, problem.Invalidf("product_id", "unknown product %s: no catalog.product.created seen for it", in.ProductID)
	}
	if err != nil {
		return store.Stock{}, err
	}
	onHand, err := tx.OnHand(ctx, org, p.ID, in.LocationID)
	if err != nil {
		return store.Stock{}, err
	}
	if round(onHand+in.Delta) < 0 {
		return store.Stock{}, problem.Conflictf("delta", "cannot take %v %s of %s: only %v on hand at location %s", -in.Delta, p.Unit, p.SKU, onHand, in.LocationID)
	}
	now := s.now().UTC()
	m, err := s.move(ctx, tx, org, p.ID, p.SKU, p.Unit, in.LocationID, in.Delta, events.InventoryUpdatedReason(in.Reason), in.ReferenceID, in.Note, now)
	if err != nil {
		return store.Stock{}, err
	}
	var b batch
	usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, m)
	stock := store.Stock{ProductID: p.ID, SKU: p.SKU, Unit: p.Unit, LocationID: in.LocationID, OnHand: m.OnHand.Value, UpdatedAt: now}
	return stock, s.uc.Commit(ctx, tx, &b)
}

// Stock returns the on-hand stock of a known product at a location (0
// when never stocked there).
func (s *Service) Stock(ctx context.Context, product, location uuid.UUID) (store.Stock, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.Stock{}, err
	}
	var out store.Stock
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		p, err := tx.Product(ctx, org, product)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("product_id", "no product %s", product)
		}
		if err != nil {
			return err
		}
		stocks, err := tx.Inventory(ctx, org, product, location, store.Page{})
		if err != nil {
			return err
		}
		out = store.Stock{ProductID: p.ID, SKU: p.SKU, Unit: p.Unit, LocationID: location}
		if len(stocks) > 0 {
			out = stocks[0]
		}
		return nil
	})
	return out, err
}

// Inventory lists stock records; a non-nil product or location filters.
func (s *Service) Inventory(ctx context.Context, product, location uuid.UUID, page store.Page) ([]store.Stock, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Stock
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		out, err = tx.Inventory(ctx, org, product, location, page)
		return err
	})
	return out, err
}

// Product returns the service's copy of a catalog product.
func (s *Service) Product(ctx context.Context, id uuid.UUID) (store.Product, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.Product{}, err
	}
	var out store.Product
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		out, err = tx.Product(ctx, org, id)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("product_id", "no product %s", id)
		}
		return err
	})
	return out, err
}

// PurchaseOrder returns a purchase order.
func (s *Service) PurchaseOrder(ctx context.Context, id uuid.UUID) (store.PurchaseOrder, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.PurchaseOrder{}, err
	}
	var out store.PurchaseOrder
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		out, err = tx.PurchaseOrder(ctx, org, id)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("purchase_order_id", "no purchase order %s", id)
		}
		return err
	})
	return out, err
}

// PurchaseOrders lists purchase orders.
func (s *Service) PurchaseOrders(ctx context.Context, f store.PurchaseOrderFilter) ([]store.PurchaseOrder, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.PurchaseOrder
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		out, err = tx.PurchaseOrders(ctx, org, f)
		return err
	})
	return out, err
}

// SalesOrder returns a sales order.
func (s *Service) SalesOrder(ctx context.Context, id uuid.UUID) (store.SalesOrder, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.SalesOrder{}, err
	}
	var out store.SalesOrder
	err = s.st.Read(ctx, func(tx *store.Tx) error {
		out, err = tx.SalesOrder(ctx, org, id)
		if errors.Is(err, store.ErrNotFound) {
			return problem.NotFoundf("sales_order_id", "no sales order %s", id)
		}
		return err
	})
	return out, err
}
