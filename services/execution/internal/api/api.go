// Package api is the Execution service's HTTP JSON API. Every route needs
// a bearer token (web.Authenticator), which says the organization and the
// roles; changes need the role in brackets, reads any role. A path no
// route has is 404 whatever its headers (the service's host serves
// /livez and /readyz beside it); refusals are 400, 401, 403, 404, 409 or
// 415 with {"error": {"field": "...", "message": "..."}}.
//
//	POST /purchase-orders                      create a purchase order (open) [buyer]
//	GET  /purchase-orders?alert_id=&origin=&status=&location_id=
//	GET  /purchase-orders/{id}
//	POST /purchase-orders/{id}/receipts        receive in full ({}), or lines in part [warehouse]
//	POST /sales-orders                         create a sales order; a line's due_date defaults to the order's [sales]
//	GET  /sales-orders/{id}
//	POST /sales-orders/{id}/shipments          ship in full ({}), or lines in part [warehouse]
//	GET  /inventory?product_id=&location_id=   on-hand stock records
//	GET  /inventory/{product_id}/{location_id} on-hand of one product at one location
//	POST /inventory/adjustments                adjust on-hand with a reason [warehouse]
//	GET  /products/{id}                        the service's copy of a catalog product
package api

import (
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/services/execution/internal/core"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/web"
)

// Handler returns the API over the use cases of svc, for the callers auth
// verifies.
func Handler(svc *core.Service, auth web.Authenticator) http.Handler {
	a := &api{svc: svc}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /purchase-orders", web.Require(web.RoleBuyer, a.createPurchaseOrder))
	mux.HandleFunc("GET /purchase-orders", a.listPurchaseOrders)
	mux.HandleFunc("GET /purchase-orders/{id}", a.getPurchaseOrder)
	mux.HandleFunc("POST /purchase-orders/{id}/receipts", web.Require(web.RoleWarehouse, a.receive))
	mux.HandleFunc("POST /sales-orders", web.Require(web.RoleSales, a.createSalesOrder))
	mux.HandleFunc("GET /sales-orders/{id}", a.getSalesOrder)
	mux.HandleFunc("POST /sales-orders/{id}/shipments", web.Require(web.RoleWarehouse, a.ship))
	mux.HandleFunc("GET /inventory", a.listInventory)
	mux.HandleFunc("GET /inventory/{product_id}/{location_id}", a.getStock)
	mux.HandleFunc("POST /inventory/adjustments", web.Require(web.RoleWarehouse, a.adjust))
	mux.HandleFunc("GET /products/{id}", a.getProduct)
	mux.HandleFunc("/", web.NotFound)

	return web.Identified(auth, mux)
}

type api struct{ svc *core.Service }

// Request bodies.

type moneyJSON struct {
	Amount   *float64 `json:"amount"`
	Currency *string  `json:"currency"`
}

type lineRequest struct {
	ProductID *string    `json:"product_id"`
	Quantity  *float64   `json:"quantity"`
	UnitPrice *moneyJSON `json:"unit_price"`
}

type purchaseOrderRequest struct {
	SupplierID           *string       `json:"supplier_id"`
	LocationID           *string       `json:"location_id"`
	ExpectedDeliveryDate *string       `json:"expected_delivery_date"`
	CreatedBy            *string       `json:"created_by"`
	Lines                []lineRequest `json:"lines"`
}

// salesOrderRequest: due_date is the order's, and that of every line that
// gives none of its own.
type salesOrderRequest struct {
	CustomerID        *string            `json:"customer_id"`
	CustomerReference *string            `json:"customer_reference"`
	LocationID        *string            `json:"location_id"`
	DueDate           *string            `json:"due_date"`
	Lines             []salesLineRequest `json:"lines"`
}

type salesLineRequest struct {
	lineRequest
	DueDate *string `json:"due_date"`
}

type progressLine struct {
	LineNumber *int     `json:"line_number"`
	Quantity   *float64 `json:"quantity"`
}

type receiptRequest struct {
	Lines []progressLine `json:"lines"`
}

type shipmentRequest struct {
	Lines          []progressLine `json:"lines"`
	TrackingNumber *string        `json:"tracking_number"`
}

type adjustmentRequest struct {
	ProductID   *string  `json:"product_id"`
	LocationID  *string  `json:"location_id"`
	Delta       *float64 `json:"delta"`
	Reason      *string  `json:"reason"`
	Note        *string  `json:"note"`
	ReferenceID *string  `json:"reference_id"`
}

func lineInputs(in []lineRequest) ([]core.LineInput, error) {
	out := make([]core.LineInput, 0, len(in))
	for i, l := range in {
		f := fmt.Sprintf("lines[%d]", i)
		pid, err := web.RequiredUUID(f+".product_id", l.ProductID)
		if err != nil {
			return nil, err
		}
		q, err := web.RequiredNumber(f+".quantity", l.Quantity)
		if err != nil {
			return nil, err
		}
		li := core.LineInput{ProductID: pid, Quantity: q}
		if l.UnitPrice != nil {
			amount, err := web.RequiredNumber(f+".unit_price.amount", l.UnitPrice.Amount)
			if err != nil {
				return nil, err
			}
			currency, err := web.RequiredString(f+".unit_price.currency", l.UnitPrice.Currency)
			if err != nil {
				return nil, err
			}
			li.UnitPrice = &store.Money{Amount: amount, Currency: currency}
		}
		out = append(out, li)
	}
	return out, nil
}

func progressInputs(in []progressLine) ([]core.LineProgress, error) {
	out := make([]core.LineProgress, 0, len(in))
	for i, l := range in {
		f := fmt.Sprintf("lines[%d]", i)
		n, err := web.RequiredInt(f+".line_number", l.LineNumber)
		if err != nil {
			return nil, err
		}
		q, err := web.RequiredNumber(f+".quantity", l.Quantity)
		if err != nil {
			return nil, err
		}
		out = append(out, core.LineProgress{LineNumber: n, Quantity: q})
	}
	return out, nil
}

func (a *api) createPurchaseOrder(w http.ResponseWriter, r *http.Request) {
	var req purchaseOrderRequest
	in, err := func() (core.NewPurchaseOrder, error) {
		var in core.NewPurchaseOrder
		if err := web.Decode(r, &req, false); err != nil {
			return in, err
		}
		var err error
		if in.SupplierID, err = web.OptionalUUID("supplier_id", req.SupplierID); err != nil {
			return in, err
		}
		if in.LocationID, err = web.RequiredUUID("location_id", req.LocationID); err != nil {
			return in, err
		}
		if in.ExpectedDeliveryDate, err = web.RequiredDate("expected_delivery_date", req.ExpectedDeliveryDate); err != nil {
			return in, err
		}
		in.CreatedBy = req.CreatedBy
		in.Lines, err = lineInputs(req.Lines)
		return in, err
	}()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	po, err := a.svc.CreatePurchaseOrder(r.Context(), in)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, purchaseOrderView(po))
}

func (a *api) listPurchaseOrders(w http.ResponseWriter, r *http.Request) {
	f := store.PurchaseOrderFilter{Origin: r.URL.Query().Get("origin"), Status: r.URL.Query().Get("status")}
	var err error
	if f.AlertID, err = web.QueryUUID(r, "alert_id"); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if f.LocationID, err = web.QueryUUID(r, "location_id"); err != nil {
		web.WriteError(w, r, err)
		return
	}
	page, err := web.PageOf(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	f.Page = store.Page(page)
	pos, err := a.svc.PurchaseOrders(r.Context(), f)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	views := make([]purchaseOrderJSON, 0, len(pos))
	for _, po := range pos {
		views = append(views, purchaseOrderView(po))
	}
	web.WritePage(w, page, "purchase_orders", views, func(po purchaseOrderJSON) []string { return []string{po.OrderNumber} })
}

func (a *api) getPurchaseOrder(w http.ResponseWriter, r *http.Request) {
	id, err := web.PathUUID(r, "id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	po, err := a.svc.PurchaseOrder(r.Context(), id)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, purchaseOrderView(po))
}

func (a *api) receive(w http.ResponseWriter, r *http.Request) {
	id, err := web.PathUUID(r, "id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var req receiptRequest
	if err := web.Decode(r, &req, true); err != nil {
		web.WriteError(w, r, err)
		return
	}
	lines, err := progressInputs(req.Lines)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.svc.ReceivePurchaseOrder(r.Context(), id, core.Receipt{Lines: lines})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"receipt_id": res.ReceiptID, "purchase_order": purchaseOrderView(res.Order)})
}

func (a *api) createSalesOrder(w http.ResponseWriter, r *http.Request) {
	var req salesOrderRequest
	in, err := func() (core.NewSalesOrder, error) {
		var in core.NewSalesOrder
		if err := web.Decode(r, &req, false); err != nil {
			return in, err
		}
		var err error
		if in.CustomerID, err = web.RequiredUUID("customer_id", req.CustomerID); err != nil {
			return in, err
		}
		if in.LocationID, err = web.RequiredUUID("location_id", req.LocationID); err != nil {
			return in, err
		}
		if in.DueDate, err = web.RequiredDate("due_date", req.DueDate); err != nil {
			return in, err
		}
		in.CustomerReference = req.CustomerReference
		lines := make([]lineRequest, len(req.Lines))
		for i, l := range req.Lines {
			lines[i] = l.lineRequest
		}
		if in.Lines, err = lineInputs(lines); err != nil {
			return in, err
		}
		for i, l := range req.Lines {
			if in.Lines[i].DueDate, err = web.OptionalDate(fmt.Sprintf("lines[%d].due_date", i), l.DueDate); err != nil {
				return in, err
			}
		}
		return in, nil
	}()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	so, err := a.svc.CreateSalesOrder(r.Context(), in)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, salesOrderView(so))
}

func (a *api) getSalesOrder(w http.ResponseWriter, r *http.Request) {
	id, err := web.PathUUID(r, "id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	so, err := a.svc.SalesOrder(r.Context(), id)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, salesOrderView(so))
}

func (a *api) ship(w http.ResponseWriter, r *http.Request) {
	id, err := web.PathUUID(r, "id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var req shipmentRequest
	if err := web.Decode(r, &req, true); err != nil {
		web.WriteError(w, r, err)
		return
	}
	lines, err := progressInputs(req.Lines)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	res, err := a.svc.ShipSalesOrder(r.Context(), id, core.Shipment{Lines: lines, TrackingNumber: req.TrackingNumber})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"shipment_id": res.ShipmentID, "sales_order": salesOrderView(res.Order)})
}

func (a *api) listInventory(w http.ResponseWriter, r *http.Request) {
	product, err := web.QueryUUID(r, "product_id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	location, err := web.QueryUUID(r, "location_id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	page, err := web.PageOf(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	stocks, err := a.svc.Inventory(r.Context(), product, location, store.Page(page))
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	views := make([]stockJSON, 0, len(stocks))
	for _, s := range stocks {
		views = append(views, stockView(s))
	}
	web.WritePage(w, page, "inventory", views, func(s stockJSON) []string { return []string{s.SKU, s.LocationID.String()} })
}

func (a *api) getStock(w http.ResponseWriter, r *http.Request) {
	product, err := web.PathUUID(r, "product_id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	location, err := web.PathUUID(r, "location_id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	s, err := a.svc.Stock(r.Context(), product, location)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, stockView(s))
}

func (a *api) adjust(w http.ResponseWriter, r *http.Request) {
	var req adjustmentRequest
	in, err := func() (core.Adjustment, error) {
		var in core.Adjustment
		if err := web.Decode(r, &req, false); err != nil {
			return in, err
		}
		var err error
		if in.ProductID, err = web.RequiredUUID("product_id", req.ProductID); err != nil {
			return in, err
		}
		if in.LocationID, err = web.RequiredUUID("location_id", req.LocationID); err != nil {
			return in, err
		}
		if in.Delta, err = web.RequiredNumber("delta", req.Delta); err != nil {
			return in, err
		}
		if in.Reason, err = web.RequiredString("reason", req.Reason); err != nil {
			return in, err
		}
		in.Note = req.Note
		in.ReferenceID, err = web.OptionalUUID("reference_id", req.ReferenceID)
		return in, err
	}()
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	s, err := a.svc.AdjustInventory(r.Context(), in)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, stockView(s))
}

func (a *api) getProduct(w http.ResponseWriter, r *http.Request) {
	id, err := web.PathUUID(r, "id")
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	p, err := a.svc.Product(r.Context(), id)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, productJSON{
		ProductID: p.ID, SKU: p.SKU, Name: p.Name, Unit: p.Unit, MOQ: p.MOQ,
		PreferredSupplierID: p.PreferredSupplierID, Discontinued: p.Discontinued,
	})
}

// Response bodies.

type productJSON struct {
	ProductID           uuid.UUID  `json:"product_id"`
	SKU                 string     `json:"sku"`
	Name                string     `json:"name"`
	Unit                string     `json:"unit"`
	MOQ                 *float64   `json:"moq"`
	PreferredSupplierID *uuid.UUID `json:"preferred_supplier_id"`
	Discontinued        bool       `json:"discontinued"`
}

type priceJSON struct {
	Amount   float64 `json:"amount"`
	Currency string  `json:"currency"`
}

type lineJSON struct {
	LineNumber  int        `json:"line_number"`
	ProductID   uuid.UUID  `json:"product_id"`
	SKU         string     `json:"sku"`
	Unit        string     `json:"unit"`
	Quantity    float64    `json:"quantity"`
	Received    *float64   `json:"received,omitempty"`
	Shipped     *float64   `json:"shipped,omitempty"`
	Outstanding float64    `json:"outstanding"`
	UnitPrice   *priceJSON `json:"unit_price,omitempty"`
	DueDate     string     `json:"due_date,omitempty"` // sales order lines
}

type purchaseOrderJSON struct {
	PurchaseOrderID      uuid.UUID  `json:"purchase_order_id"`
	OrderNumber          string     `json:"order_number"`
	SupplierID           *uuid.UUID `json:"supplier_id"`
	LocationID           uuid.UUID  `json:"location_id"`
	Status               string     `json:"status"`
	Origin               string     `json:"origin"`
	AlertID              *uuid.UUID `json:"alert_id"`
	ExpectedDeliveryDate string     `json:"expected_delivery_date"`
	CreatedBy            *string    `json:"created_by"`
	CreatedAt            time.Time  `json:"created_at"`
	Lines                []lineJSON `json:"lines"`
}

type salesOrderJSON struct {
	SalesOrderID      uuid.UUID  `json:"sales_order_id"`
	OrderNumber       string     `json:"order_number"`
	CustomerID        uuid.UUID  `json:"customer_id"`
	CustomerReference *string    `json:"customer_reference"`
	LocationID        uuid.UUID  `json:"location_id"`
	Status            string     `json:"status"`
	DueDate           string     `json:"due_date"`
	CreatedAt         time.Time  `json:"created_at"`
	Lines             []lineJSON `json:"lines"`
}

type stockJSON struct {
	ProductID  uuid.UUID `json:"product_id"`
	SKU        string    `json:"sku"`
	LocationID uuid.UUID `json:"location_id"`
	OnHand     float64   `json:"on_hand"`
	Unit       string    `json:"unit"`
}

func linesView(ls []store.Line, received bool) []lineJSON {
	out := make([]lineJSON, 0, len(ls))
	for _, l := range ls {
		done := l.Done
		v := lineJSON{LineNumber: l.Number, ProductID: l.ProductID, SKU: l.SKU, Unit: l.Unit, Quantity: l.Quantity, Outstanding: math.Round((l.Quantity-done)*1e6) / 1e6}
		if received {
			v.Received = &done
		} else {
			v.Shipped = &done
		}
		if l.UnitPrice != nil {
			v.UnitPrice = &priceJSON{Amount: l.UnitPrice.Amount, Currency: l.UnitPrice.Currency}
		}
		if !l.DueDate.IsZero() {
			v.DueDate = l.DueDate.String()
		}
		out = append(out, v)
	}
	return out
}

func purchaseOrderView(po store.PurchaseOrder) purchaseOrderJSON {
	return purchaseOrderJSON{
		PurchaseOrderID: po.ID, OrderNumber: po.Number, SupplierID: po.SupplierID, LocationID: po.LocationID,
		Status: po.Status, Origin: po.Origin, AlertID: po.AlertID, ExpectedDeliveryDate: po.ExpectedDeliveryDate.String(),
		CreatedBy: po.CreatedBy, CreatedAt: po.CreatedAt, Lines: linesView(po.Lines, true),
	}
}

func salesOrderView(so store.SalesOrder) salesOrderJSON {
	return salesOrderJSON{
		SalesOrderID: so.ID, OrderNumber: so.Number, CustomerID: so.CustomerID, CustomerReference: so.CustomerReference,
		LocationID: so.LocationID, Status: so.Status, DueDate: so.DueDate.String(), CreatedAt: so.CreatedAt,
		Lines: linesView(so.Lines, false),
	}
}

func stockView(s store.Stock) stockJSON {
	return stockJSON{ProductID: s.ProductID, SKU: s.SKU, LocationID: s.LocationID, OnHand: s.OnHand, Unit: s.Unit}
}
