package core

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/limits"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/usecase"
)

// LineInput is an order line as requested: a product and a quantity in the
// product's unit of measure. DueDate is a sales order line's own due date
// (zero: the order's); purchase order lines have none.
type LineInput struct {
	ProductID uuid.UUID
	Quantity  float64
	UnitPrice *store.Money
	DueDate   payload.Date
}

// NewPurchaseOrder is a purchase order as a buyer enters it.
type NewPurchaseOrder struct {
	SupplierID           *uuid.UUID // nil: the first line's product's preferred supplier
	LocationID           uuid.UUID
	ExpectedDeliveryDate payload.Date
	CreatedBy            *string // the buyer's e-mail address
	Lines                []LineInput
}

// NewSalesOrder is a customer's sales order. DueDate is required: it is the
// due date of every line that gives none of its own.
type NewSalesOrder struct {
	CustomerID        uuid.UUID
	CustomerReference *string
	LocationID        uuid.UUID
	DueDate           payload.Date
	Lines             []LineInput
}

// LineProgress is what one receipt or shipment does to one order line.
type LineProgress struct {
	LineNumber int
	Quantity   float64
}

// Receipt is goods received against a purchase order; no lines means
// everything outstanding.
type Receipt struct {
	Lines []LineProgress
}

// Shipment is goods shipped against a sales order; no lines means
// everything outstanding.
type Shipment struct {
	Lines          []LineProgress
	TrackingNumber *string
}

// ReceiptResult is a recorded receipt.
type ReceiptResult struct {
	ReceiptID uuid.UUID
	Order     store.PurchaseOrder
}

// ShipmentResult is a recorded shipment.
type ShipmentResult struct {
	ShipmentID uuid.UUID
	Order      store.SalesOrder
}

var currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)

// orderLines checks the requested lines against the products and returns
// the lines to store.
func orderLines(ctx context.Context, tx *store.Tx, org uuid.UUID, in []LineInput) ([]store.Line, []store.Product, error) {
	if len(in) == 0 {
		return nil, nil, problem.Invalidf("lines", "at least one line is required")
	}
	if len(in) > limits.MaxLines {
		return nil, nil, problem.Invalidf("lines", "at most %d lines, got %d: split the order", limits.MaxLines, len(in))
	}
	lines := make([]store.Line, 0, len(in))
	products := make([]store.Product, 0, len(in))
	for i, l := range in {
		field := fmt.Sprintf("lines[%d]", i)
		if l.ProductID == uuid.Nil {
			return nil, nil, problem.Invalidf(field+".product_id", "is required")
		}
		if !finite(l.Quantity) || round(l.Quantity) <= 0 || l.Quantity > limits.MaxQuantity {
			return nil, nil, problem.Invalidf(field+".quantity", "must be above 0 and at most %g, got %v", float64(limits.MaxQuantity), l.Quantity)
		}
		if p := l.UnitPrice; p != nil {
			if !finite(p.Amount) || p.Amount < 0 || p.Amount > limits.MaxAmount {
				return nil, nil, problem.Invalidf(field+".unit_price.amount", "must be from 0 to %g, got %v", float64(limits.MaxAmount), p.Amount)
			}
			if !currencyPattern.MatchString(p.Currency) {
				return nil, nil, problem.Invalidf(field+".unit_price.currency", "must be an ISO 4217 code in capitals such as USD, got %q", p.Currency)
			}
		}
		p, err := tx.Product(ctx, org, l.ProductID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, problem.Invalidf(field+".product_id", "unknown product %s: no catalog.product.created seen for it", l.ProductID)
		}
		if err != nil {
			return nil, nil, err
		}
		if p.Discontinued {
			return nil, nil, problem.Conflictf(field+".product_id", "product %s (%s) is discontinued: no new orders", p.ID, p.SKU)
		}
		lines = append(lines, store.Line{Number: i + 1, ProductID: p.ID, SKU: p.SKU, Unit: p.Unit, Quantity: round(l.Quantity), UnitPrice: l.UnitPrice, DueDate: l.DueDate})
		products = append(products, p)
	}
	return lines, products, nil
}

func checkEmail(field string, s *string) error {
	if s == nil {
		return nil
	}
	a, err := mail.ParseAddress(*s)
	if err != nil || a.Address != *s {
		return problem.Invalidf(field, "must be an e-mail address such as buyer@example.com, got %q", *s)
	}
	return nil
}

func checkText(field string, s *string, maxLen int) error {
	if s == nil {
		return nil
	}
	if n := len([]rune(*s)); n < 1 || n > maxLen {
		return problem.Invalidf(field, "must be 1 to %d characters, got %d", maxLen, n)
	}
	return nil
}

// CreatePurchaseOrder records a manual purchase order, open with its
// supplier, and publishes execution.purchase_order.created.
func (s *Service) CreatePurchaseOrder(ctx context.Context, in NewPurchaseOrder) (store.PurchaseOrder, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.PurchaseOrder{}, err
	}
	switch {
	case in.LocationID == uuid.Nil:
		return store.PurchaseOrder{}, problem.Invalidf("location_id", "is required")
	case in.ExpectedDeliveryDate.IsZero():
		return store.PurchaseOrder{}, problem.Invalidf("expected_delivery_date", "is required")
	}
	if err := checkEmail("created_by", in.CreatedBy); err != nil {
		return store.PurchaseOrder{}, err
	}
	for i, l := range in.Lines {
		if !l.DueDate.IsZero() {
			return store.PurchaseOrder{}, problem.Invalidf(fmt.Sprintf("lines[%d].due_date", i), "purchase order lines have no due date: the order has an expected_delivery_date")
		}
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return store.PurchaseOrder{}, err
	}
	defer tx.Rollback()
	lines, products, err := orderLines(ctx, tx, org, in.Lines)
	if err != nil {
		return store.PurchaseOrder{}, err
	}
	supplier := in.SupplierID
	if supplier == nil {
		supplier = products[0].PreferredSupplierID
	}
	if supplier == nil {
		return store.PurchaseOrder{}, problem.Invalidf("supplier_id", "is required: product %s has no preferred supplier", products[0].SKU)
	}
	now := s.now().UTC()
	po := store.PurchaseOrder{
		ID:                   uuid.New(),
		Org:                  org,
		SupplierID:           supplier,
		LocationID:           in.LocationID,
		Status:               store.StatusOpen,
		Origin:               "manual",
		ExpectedDeliveryDate: in.ExpectedDeliveryDate,
		CreatedBy:            in.CreatedBy,
		CreatedAt:            now,
		Lines:                lines,
	}
	var b batch
	if err := s.insertPurchaseOrder(ctx, tx, &po, &b); err != nil {
		return store.PurchaseOrder{}, err
	}
	return po, s.uc.Commit(ctx, tx, &b)
}

// insertPurchaseOrder numbers and stores po, and adds its created event.
func (s *Service) insertPurchaseOrder(ctx context.Context, tx *store.Tx, po *store.PurchaseOrder, b *batch) error {
	n, err := tx.NextNumber(ctx, po.Org, "PO", po.CreatedAt.Year())
	if err != nil {
		return err
	}
	po.Number = fmt.Sprintf("PO-%04d-%06d", po.CreatedAt.Year(), n)
	if err := tx.InsertPurchaseOrder(ctx, *po); err != nil {
		return err
	}
	created := events.PurchaseOrderCreated{
		PurchaseOrderID:      po.ID,
		OrderNumber:          po.Number,
		SupplierID:           po.SupplierID,
		LocationID:           po.LocationID,
		Status:               events.PurchaseOrderCreatedStatus(po.Status),
		Origin:               events.PurchaseOrderCreatedOrigin(po.Origin),
		AlertID:              po.AlertID,
		ExpectedDeliveryDate: po.ExpectedDeliveryDate,
		CreatedBy:            po.CreatedBy,
		CreatedAt:            po.CreatedAt,
	}
	for _, l := range po.Lines {
		created.Lines = append(created.Lines, events.PurchaseOrderLine{
			LineNumber: int64(l.Number),
			Product:    productRef(l.ProductID, l.SKU),
			Quantity:   quantity(l.Quantity, l.Unit),
			UnitPrice:  money(l.UnitPrice),
		})
	}
	usecase.Add(b, (*events.ExecutionOutbox).PurchaseOrderCreated, created)
	return nil
}

// progress checks a receipt's or shipment's lines against the order's and
// returns, per order line index, the quantity to apply. verb is "receive"
// or "ship" for messages.
func progress(order string, lines []store.Line, in []LineProgress, verb string) (map[int]float64, error) {
	apply := map[int]float64{}
	if len(in) == 0 {
		for i, l := range lines {
			if out := round(l.Quantity - l.Done); out > 0 {
				apply[i] = out
			}
		}
		return apply, nil
	}
	for i, p := range in {
		field := fmt.Sprintf("lines[%d]", i)
		idx := -1
		for j, l := range lines {
			if l.Number == p.LineNumber {
				idx = j
			}
		}
		if idx < 0 {
			return nil, problem.Invalidf(field+".line_number", "%s has no line %d", order, p.LineNumber)
		}
		if _, dup := apply[idx]; dup {
			return nil, problem.Invalidf(field+".line_number", "line %d appears twice", p.LineNumber)
		}
		if !finite(p.Quantity) || round(p.Quantity) <= 0 {
			return nil, problem.Invalidf(field+".quantity", "must be above 0, got %v", p.Quantity)
		}
		l := lines[idx]
		if out := round(l.Quantity - l.Done); round(p.Quantity) > out {
			return nil, problem.Conflictf(field+".quantity", "cannot %s %v %s of %s on line %d of %s: only %v outstanding",
				verb, p.Quantity, l.Unit, l.SKU, l.Number, order, out)
		}
		apply[idx] = round(p.Quantity)
	}
	return apply, nil
}

func complete(lines []store.Line) bool {
	for _, l := range lines {
		if round(l.Quantity-l.Done) > 0 {
			return false
		}
	}
	return true
}

// ReceivePurchaseOrder records goods received against a purchase order
// (draft or open), moves them into on-hand inventory, closes the order
// when nothing is outstanding, and publishes
// execution.purchase_order.received then one execution.inventory.updated
// per line received.
func (s *Service) ReceivePurchaseOrder(ctx context.Context, id uuid.UUID, in Receipt) (ReceiptResult, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return ReceiptResult{}, err
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return ReceiptResult{}, err
	}
	defer tx.Rollback()
	po, err := tx.PurchaseOrder(ctx, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return ReceiptResult{}, problem.NotFoundf("purchase_order_id", "no purchase order %s", id)
	}
	if err != nil {
		return ReceiptResult{}, err
	}
	if po.Status == store.StatusClosed {
		return ReceiptResult{}, problem.Conflictf("", "purchase order %s is closed: everything was received", po.Number)
	}
	apply, err := progress(po.Number, po.Lines, in.Lines, "receive")
	if err != nil {
		return ReceiptResult{}, err
	}
	now := s.now().UTC()
	res := ReceiptResult{ReceiptID: uuid.New()}
	received := events.PurchaseOrderReceived{
		PurchaseOrderID: po.ID,
		OrderNumber:     po.Number,
		ReceiptID:       res.ReceiptID,
		LocationID:      po.LocationID,
		ReceivedAt:      now,
	}
	var movements []events.InventoryUpdated
	for i := range po.Lines {
		q, ok := apply[i]
		if !ok {
			continue
		}
		l := &po.Lines[i]
		l.Done = round(l.Done + q)
		received.Lines = append(received.Lines, events.PurchaseOrderReceiptLine{
			LineNumber:          int64(l.Number),
			Product:             productRef(l.ProductID, l.SKU),
			QuantityReceived:    quantity(q, l.Unit),
			QuantityOutstanding: quantity(l.Quantity-l.Done, l.Unit),
		})
		m, err := s.move(ctx, tx, org, l.ProductID, l.SKU, l.Unit, po.LocationID, q, events.InventoryUpdatedReasonReceipt, &po.ID, nil, now)
		if err != nil {
			return ReceiptResult{}, err
		}
		movements = append(movements, m)
	}
	received.FullyReceived = complete(po.Lines)
	switch {
	case received.FullyReceived:
		po.Status = store.StatusClosed
	case po.Status == store.StatusDraft:
		po.Status = store.StatusOpen // goods arrived: the draft was placed after all
	}
	if err := tx.UpdatePurchaseOrderProgress(ctx, po); err != nil {
		return ReceiptResult{}, err
	}
	var b batch
	usecase.Add(&b, (*events.ExecutionOutbox).PurchaseOrderReceived, received)
	for _, m := range perProduct(movements) {
		usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, m)
	}
	res.Order = po
	return res, s.uc.Commit(ctx, tx, &b)
}

// perProduct merges the movements of one receipt or shipment that move the
// same product (two lines of it): one inventory.updated per product, with
// the sum of the deltas and the balance after the last, so that no
// consumer sees an intermediate balance after the order event that
// accounts for the whole receipt or shipment.
func perProduct(ms []events.InventoryUpdated) []events.InventoryUpdated {
	out := ms[:0:0]
	at := make(map[uuid.UUID]int, len(ms))
	for _, m := range ms {
		i, seen := at[m.Product.ProductID]
		if !seen {
			at[m.Product.ProductID] = len(out)
			out = append(out, m)
			continue
		}
		out[i].Delta = round(out[i].Delta + m.Delta)
		out[i].OnHand = m.OnHand
	}
	return out
}

// move changes the on-hand stock of a product at a location by delta and
// returns the inventory.updated event of the movement.
func (s *Service) move(ctx context.Context, tx *store.Tx, org, product uuid.UUID, sku, unit string, location uuid.UUID,
	delta float64, reason events.InventoryUpdatedReason, reference *uuid.UUID, note *string, now time.Time,
) (events.InventoryUpdated, error) {
	onHand, err := tx.OnHand(ctx, org, product, location)
	if err != nil {
		return events.InventoryUpdated{}, err
	}
	onHand = round(onHand + delta)
	if err := tx.SetOnHand(ctx, org, product, location, onHand, now); err != nil {
		return events.InventoryUpdated{}, err
	}
	return events.InventoryUpdated{
		MovementID:  uuid.New(),
		Product:     productRef(product, sku),
		LocationID:  location,
		OnHand:      quantity(onHand, unit),
		Delta:       round(delta),
		Reason:      reason,
		ReferenceID: reference,
		Note:        note,
		UpdatedAt:   now,
	}, nil
}

// CreateSalesOrder records a customer's sales order, each line due on its
// own due date or else on the order's, and publishes
// execution.sales_order.created (version 2: the due dates are the lines').
func (s *Service) CreateSalesOrder(ctx context.Context, in NewSalesOrder) (store.SalesOrder, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return store.SalesOrder{}, err
	}
	switch {
	case in.CustomerID == uuid.Nil:
		return store.SalesOrder{}, problem.Invalidf("customer_id", "is required")
	case in.LocationID == uuid.Nil:
		return store.SalesOrder{}, problem.Invalidf("location_id", "is required")
	case in.DueDate.IsZero():
		return store.SalesOrder{}, problem.Invalidf("due_date", "is required")
	}
	if err := checkText("customer_reference", in.CustomerReference, 64); err != nil {
		return store.SalesOrder{}, err
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return store.SalesOrder{}, err
	}
	defer tx.Rollback()
	lines, _, err := orderLines(ctx, tx, org, in.Lines)
	if err != nil {
		return store.SalesOrder{}, err
	}
	for i := range lines {
		if lines[i].DueDate.IsZero() {
			lines[i].DueDate = in.DueDate
		}
	}
	now := s.now().UTC()
	n, err := tx.NextNumber(ctx, org, "SO", now.Year())
	if err != nil {
		return store.SalesOrder{}, err
	}
	so := store.SalesOrder{
		ID:                uuid.New(),
		Org:               org,
		Number:            fmt.Sprintf("SO-%04d-%06d", now.Year(), n),
		CustomerID:        in.CustomerID,
		CustomerReference: in.CustomerReference,
		LocationID:        in.LocationID,
		Status:            store.StatusOpen,
		DueDate:           in.DueDate,
		CreatedAt:         now,
		Lines:             lines,
	}
	if err := tx.InsertSalesOrder(ctx, so); err != nil {
		return store.SalesOrder{}, err
	}
	created := events.SalesOrderCreated{
		SalesOrderID:      so.ID,
		OrderNumber:       so.Number,
		CustomerID:        so.CustomerID,
		CustomerReference: so.CustomerReference,
		LocationID:        so.LocationID,
		CreatedAt:         now,
	}
	for _, l := range so.Lines {
		created.Lines = append(created.Lines, events.SalesOrderLine{
			LineNumber: int64(l.Number),
			Product:    productRef(l.ProductID, l.SKU),
			Quantity:   quantity(l.Quantity, l.Unit),
			DueDate:    l.DueDate,
			UnitPrice:  money(l.UnitPrice),
		})
	}
	var b batch
	usecase.Add(&b, (*events.ExecutionOutbox).SalesOrderCreated, created)
	return so, s.uc.Commit(ctx, tx, &b)
}

// ShipSalesOrder records goods shipped against a sales order, takes them
// out of on-hand inventory, closes the order when nothing is outstanding,
// and publishes execution.sales_order.shipped then one
// execution.inventory.updated per line shipped.
func (s *Service) ShipSalesOrder(ctx context.Context, id uuid.UUID, in Shipment) (ShipmentResult, error) {
	org, err := s.uc.Organization(ctx)
	if err != nil {
		return ShipmentResult{}, err
	}
	if err := checkText("tracking_number", in.TrackingNumber, 64); err != nil {
		return ShipmentResult{}, err
	}
	tx, err := s.st.Begin(ctx)
	if err != nil {
		return ShipmentResult{}, err
	}
	defer tx.Rollback()
	so, err := tx.SalesOrder(ctx, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return ShipmentResult{}, problem.NotFoundf("sales_order_id", "no sales order %s", id)
	}
	if err != nil {
		return ShipmentResult{}, err
	}
	if so.Status == store.StatusClosed {
		return ShipmentResult{}, problem.Conflictf("", "sales order %s is closed: everything was shipped", so.Number)
	}
	apply, err := progress(so.Number, so.Lines, in.Lines, "ship")
	if err != nil {
		return ShipmentResult{}, err
	}
	// Enough on hand for every product of the shipment, lines of one
	// product taken together.
	need := map[uuid.UUID]float64{}
	for i, q := range apply {
		need[so.Lines[i].ProductID] += q
	}
	for i := range so.Lines {
		l := so.Lines[i]
		q, ok := need[l.ProductID]
		if !ok {
			continue
		}
		delete(need, l.ProductID)
		onHand, err := tx.OnHand(ctx, org, l.ProductID, so.LocationID)
		if err != nil {
			return ShipmentResult{}, err
		}
		if round(q) > round(onHand) {
			return ShipmentResult{}, problem.Conflictf(fieldOfLine(in.Lines, l.Number), "cannot ship %v %s of %s: only %v on hand at location %s",
				round(q), l.Unit, l.SKU, round(onHand), so.LocationID)
		}
	}
	now := s.now().UTC()
	res := ShipmentResult{ShipmentID: uuid.New()}
	shipped := events.SalesOrderShipped{
		SalesOrderID:   so.ID,
		OrderNumber:    so.Number,
		ShipmentID:     res.ShipmentID,
		LocationID:     so.LocationID,
		TrackingNumber: in.TrackingNumber,
		ShippedAt:      now,
	}
	var movements []events.InventoryUpdated
	for i := range so.Lines {
		q, ok := apply[i]
		if !ok {
			continue
		}
		l := &so.Lines[i]
		l.Done = round(l.Done + q)
		shipped.Lines = append(shipped.Lines, events.SalesOrderShipmentLine{
			LineNumber:          int64(l.Number),
			Product:             productRef(l.ProductID, l.SKU),
			QuantityShipped:     quantity(q, l.Unit),
			QuantityOutstanding: quantity(l.Quantity-l.Done, l.Unit),
		})
		m, err := s.move(ctx, tx, org, l.ProductID, l.SKU, l.Unit, so.LocationID, -q, events.InventoryUpdatedReasonShipment, &so.ID, nil, now)
		if err != nil {
			return ShipmentResult{}, err
		}
		movements = append(movements, m)
	}
	shipped.FullyShipped = complete(so.Lines)
	if shipped.FullyShipped {
		so.Status = store.StatusClosed
	}
	if err := tx.UpdateSalesOrderProgress(ctx, so); err != nil {
		return ShipmentResult{}, err
	}
	var b batch
	usecase.Add(&b, (*events.ExecutionOutbox).SalesOrderShipped, shipped)
	for _, m := range perProduct(movements) {
		usecase.Add(&b, (*events.ExecutionOutbox).InventoryUpdated, m)
	}
	res.Order = so
	return res, s.uc.Commit(ctx, tx, &b)
}

// fieldOfLine names the request field of an order line's quantity.
func fieldOfLine(in []LineProgress, number int) string {
	for i, p := range in {
		if p.LineNumber == number {
			return fmt.Sprintf("lines[%d].quantity", i)
		}
	}
	return "lines"
}
