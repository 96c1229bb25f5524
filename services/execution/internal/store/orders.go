package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/sqlitedb"
)

// Order statuses. A purchase order is draft (a replenishment not yet
// sent), open, or closed once fully received; a sales order is open until
// fully shipped, then closed.
const (
	StatusDraft  = "draft"
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// ErrDuplicateAlert is returned by InsertPurchaseOrder when a purchase
// order already answers the same alert.
var ErrDuplicateAlert = errors.New("store: a purchase order already answers this alert")

// Line is a line of a purchase or a sales order. Done is what was received
// (purchase) or shipped (sales) so far. DueDate is a sales order line's due
// date; purchase order lines have none (zero).
type Line struct {
	Number    int
	ProductID uuid.UUID
	SKU       string
	Unit      string
	Quantity  float64
	Done      float64
	UnitPrice *Money
	DueDate   payload.Date
}

// PurchaseOrder is a purchase order with its lines.
type PurchaseOrder struct {
	ID                   uuid.UUID
	Org                  uuid.UUID
	Number               string
	SupplierID           *uuid.UUID
	LocationID           uuid.UUID
	Status               string
	Origin               string // manual or replenishment
	AlertID              *uuid.UUID
	ExpectedDeliveryDate payload.Date
	CreatedBy            *string
	CreatedAt            time.Time
	Lines                []Line
}

// SalesOrder is a sales order with its lines. DueDate is the order's due
// date as entered: the due date of the lines that gave none of their own.
type SalesOrder struct {
	ID                uuid.UUID
	Org               uuid.UUID
	Number            string
	CustomerID        uuid.UUID
	CustomerReference *string
	LocationID        uuid.UUID
	Status            string
	DueDate           payload.Date
	CreatedAt         time.Time
	Lines             []Line
}

// InsertPurchaseOrder stores a new purchase order and its lines. It
// returns ErrDuplicateAlert when another order answers the same alert.
func (t *Tx) InsertPurchaseOrder(ctx context.Context, po PurchaseOrder) error {
	_, err := t.exec(ctx, qInsertPurchaseOrder,
		po.ID.String(), po.Org.String(), po.Number, nullUUID(po.SupplierID), po.LocationID.String(), po.Status, po.Origin,
		nullUUID(po.AlertID), po.ExpectedDeliveryDate.String(), nullString(po.CreatedBy), formatTime(po.CreatedAt))
	if err != nil {
		if po.AlertID != nil && sqlitedb.IsUniqueViolation(err) {
			return fmt.Errorf("%w: alert %s", ErrDuplicateAlert, po.AlertID)
		}
		return fmt.Errorf("store: insert purchase order: %w", err)
	}
	for _, l := range po.Lines {
		amount, currency := nullMoney(l.UnitPrice)
		if _, err := t.exec(ctx, qInsertPurchaseOrderLine, po.ID.String(), l.Number, l.ProductID.String(), l.SKU, l.Unit, l.Quantity, l.Done, amount, currency); err != nil {
			return fmt.Errorf("store: insert line %d of %s: %w", l.Number, po.ID, err)
		}
	}
	return nil
}

// InsertSalesOrder stores a new sales order and its lines.
func (t *Tx) InsertSalesOrder(ctx context.Context, so SalesOrder) error {
	_, err := t.exec(ctx, qInsertSalesOrder,
		so.ID.String(), so.Org.String(), so.Number, so.CustomerID.String(), nullString(so.CustomerReference),
		so.LocationID.String(), so.Status, so.DueDate.String(), formatTime(so.CreatedAt))
	if err != nil {
		return fmt.Errorf("store: insert sales order: %w", err)
	}
	for _, l := range so.Lines {
		amount, currency := nullMoney(l.UnitPrice)
		if _, err := t.exec(ctx, qInsertSalesOrderLine, so.ID.String(), l.Number, l.ProductID.String(), l.SKU, l.Unit, l.Quantity, l.Done, amount, currency, l.DueDate.String()); err != nil {
			return fmt.Errorf("store: insert line %d of %s: %w", l.Number, so.ID, err)
		}
	}
	return nil
}

const purchaseOrderColumns = `id, org, number, supplier_id, location_id, status, origin, alert_id, expected_delivery_date, created_by, created_at`

// PurchaseOrder returns the organization's purchase order, or ErrNotFound.
func (t *Tx) PurchaseOrder(ctx context.Context, org, id uuid.UUID) (PurchaseOrder, error) {
	pos, err := t.purchaseOrders(ctx, `WHERE org = ? AND id = ?`, org.String(), id.String())
	if err != nil {
		return PurchaseOrder{}, err
	}
	if len(pos) == 0 {
		return PurchaseOrder{}, fmt.Errorf("%w: purchase order %s", ErrNotFound, id)
	}
	return pos[0], nil
}

// PurchaseOrderFilter selects purchase orders; zero fields match all.
type PurchaseOrderFilter struct {
	AlertID    uuid.UUID
	Origin     string
	Status     string
	LocationID uuid.UUID
	Page       Page // all when zero; by number
}

// Page is a page of a list: at most Limit items (all when 0) after the
// one whose sort key is After (from the start when empty).
type Page struct {
	After []string
	Limit int
}

// limit is the SQL of p's limit.
func (p Page) limit() (string, []any) {
	if p.Limit <= 0 {
		return "", nil
	}
	return ` LIMIT ?`, []any{p.Limit}
}

// PurchaseOrders lists the organization's purchase orders matching f, by
// number.
func (t *Tx) PurchaseOrders(ctx context.Context, org uuid.UUID, f PurchaseOrderFilter) ([]PurchaseOrder, error) {
	where := `WHERE org = ?`
	args := []any{org.String()}
	if f.AlertID != uuid.Nil {
		where += ` AND alert_id = ?`
		args = append(args, f.AlertID.String())
	}
	if f.Origin != "" {
		where += ` AND origin = ?`
		args = append(args, f.Origin)
	}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, f.Status)
	}
	if f.LocationID != uuid.Nil {
		where += ` AND location_id = ?`
		args = append(args, f.LocationID.String())
	}
	if len(f.Page.After) == 1 {
		where += ` AND number > ?`
		args = append(args, f.Page.After[0])
	}
	limit, largs := f.Page.limit()
	return t.purchaseOrders(ctx, where+` ORDER BY number`+limit, append(args, largs...)...)
}

func (t *Tx) purchaseOrders(ctx context.Context, where string, args ...any) ([]PurchaseOrder, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+purchaseOrderColumns+` FROM purchase_orders `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: purchase orders: %w", err)
	}
	var out []PurchaseOrder
	for rows.Next() {
		var po PurchaseOrder
		var id, org, loc, due, created string
		var supplier, alert, createdBy sql.NullString
		if err := rows.Scan(&id, &org, &po.Number, &supplier, &loc, &po.Status, &po.Origin, &alert, &due, &createdBy, &created); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: purchase orders: %w", err)
		}
		po.ID, po.Org, po.LocationID = uuid.MustParse(id), uuid.MustParse(org), uuid.MustParse(loc)
		po.SupplierID, po.AlertID, po.CreatedBy = parseNullUUID(supplier), parseNullUUID(alert), parseNullString(createdBy)
		po.ExpectedDeliveryDate, po.CreatedAt = parseDate(due), parseTime(created)
		out = append(out, po)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: purchase orders: %w", err)
	}
	for i := range out {
		if out[i].Lines, err = t.lines(ctx, "purchase_order_lines", "po_id", "received", "NULL", out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SalesOrder returns the organization's sales order, or ErrNotFound.
func (t *Tx) SalesOrder(ctx context.Context, org, id uuid.UUID) (SalesOrder, error) {
	var so SalesOrder
	var due, created, customer, loc string
	var ref sql.NullString
	err := t.tx.QueryRowContext(ctx, `
SELECT number, customer_id, customer_reference, location_id, status, due_date, created_at
FROM sales_orders WHERE org = ? AND id = ?`, org.String(), id.String()).
		Scan(&so.Number, &customer, &ref, &loc, &so.Status, &due, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return so, fmt.Errorf("%w: sales order %s", ErrNotFound, id)
	}
	if err != nil {
		return so, fmt.Errorf("store: sales order %s: %w", id, err)
	}
	so.ID, so.Org = id, org
	so.CustomerID, so.LocationID = uuid.MustParse(customer), uuid.MustParse(loc)
	so.CustomerReference, so.DueDate, so.CreatedAt = parseNullString(ref), parseDate(due), parseTime(created)
	so.Lines, err = t.lines(ctx, "sales_order_lines", "so_id", "shipped", "due_date", id)
	return so, err
}

// lines reads the lines of order id from table, whose order is key, whose
// progress is done and whose due date is due (NULL: the table has none).
func (t *Tx) lines(ctx context.Context, table, key, done, due string, id uuid.UUID) ([]Line, error) {
	rows, err := t.tx.QueryContext(ctx, fmt.Sprintf(`
SELECT line_number, product_id, sku, unit, quantity, %s, price_amount, price_currency, %s
FROM %s WHERE %s = ? ORDER BY line_number`, done, due, table, key), id.String())
	if err != nil {
		return nil, fmt.Errorf("store: lines of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Line
	for rows.Next() {
		var l Line
		var pid string
		var amount sql.NullFloat64
		var currency, dueDate sql.NullString
		if err := rows.Scan(&l.Number, &pid, &l.SKU, &l.Unit, &l.Quantity, &l.Done, &amount, &currency, &dueDate); err != nil {
			return nil, fmt.Errorf("store: lines of %s: %w", id, err)
		}
		l.ProductID, l.UnitPrice = uuid.MustParse(pid), parseNullMoney(amount, currency)
		if dueDate.Valid {
			l.DueDate = parseDate(dueDate.String)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: lines of %s: %w", id, err)
	}
	return out, nil
}

// UpdatePurchaseOrderProgress records the order's status and what each
// line has received.
func (t *Tx) UpdatePurchaseOrderProgress(ctx context.Context, po PurchaseOrder) error {
	return t.updateProgress(ctx, "purchase_orders", "purchase_order_lines", "po_id", "received", po.ID, po.Status, po.Lines)
}

// UpdateSalesOrderProgress records the order's status and what each line
// has shipped.
func (t *Tx) UpdateSalesOrderProgress(ctx context.Context, so SalesOrder) error {
	return t.updateProgress(ctx, "sales_orders", "sales_order_lines", "so_id", "shipped", so.ID, so.Status, so.Lines)
}

func (t *Tx) updateProgress(ctx context.Context, orders, lines, key, done string, id uuid.UUID, status string, ls []Line) error {
	if _, err := t.tx.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET status = ? WHERE id = ?`, orders), status, id.String()); err != nil {
		return fmt.Errorf("store: update %s: %w", id, err)
	}
	q := fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = ? AND line_number = ?`, lines, done, key)
	for _, l := range ls {
		if _, err := t.tx.ExecContext(ctx, q, l.Done, id.String(), l.Number); err != nil {
			return fmt.Errorf("store: update line %d of %s: %w", l.Number, id, err)
		}
	}
	return nil
}
