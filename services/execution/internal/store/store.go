// Package store keeps the execution service's state in SQLite: the
// products it may order (a copy of the catalog's), purchase and sales
// orders with their lines, and on-hand inventory per product and location.
// Every table is keyed by organization. Reads and writes go through a Tx;
// the use cases decide when it commits.
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

const schema = `
CREATE TABLE IF NOT EXISTS products (
	org                   TEXT NOT NULL,
	product_id            TEXT NOT NULL,
	sku                   TEXT NOT NULL,
	name                  TEXT NOT NULL DEFAULT '',
	unit                  TEXT NOT NULL DEFAULT '',
	moq                   REAL,
	preferred_supplier_id TEXT,
	discontinued          INTEGER NOT NULL DEFAULT 0,
	updated_at            TEXT NOT NULL,
	PRIMARY KEY (org, product_id)
);
CREATE TABLE IF NOT EXISTS sequences (
	org  TEXT NOT NULL,
	kind TEXT NOT NULL,
	year INTEGER NOT NULL,
	last INTEGER NOT NULL,
	PRIMARY KEY (org, kind, year)
);
CREATE TABLE IF NOT EXISTS purchase_orders (
	id                     TEXT PRIMARY KEY,
	org                    TEXT NOT NULL,
	number                 TEXT NOT NULL,
	supplier_id            TEXT,
	location_id            TEXT NOT NULL,
	status                 TEXT NOT NULL,
	origin                 TEXT NOT NULL,
	alert_id               TEXT,
	expected_delivery_date TEXT NOT NULL,
	created_by             TEXT,
	created_at             TEXT NOT NULL,
	UNIQUE (org, number)
);
-- One replenishment per alert of an organization: alert ids are the
-- publisher's, so one tenant's cannot collide with another's. (The index
-- before it was across organizations.)
DROP INDEX IF EXISTS purchase_orders_alert;
CREATE UNIQUE INDEX IF NOT EXISTS purchase_orders_org_alert ON purchase_orders (org, alert_id) WHERE alert_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS purchase_order_lines (
	po_id          TEXT NOT NULL REFERENCES purchase_orders (id),
	line_number    INTEGER NOT NULL,
	product_id     TEXT NOT NULL,
	sku            TEXT NOT NULL,
	unit           TEXT NOT NULL,
	quantity       REAL NOT NULL,
	received       REAL NOT NULL DEFAULT 0,
	price_amount   REAL,
	price_currency TEXT,
	PRIMARY KEY (po_id, line_number)
);
CREATE TABLE IF NOT EXISTS sales_orders (
	id                 TEXT PRIMARY KEY,
	org                TEXT NOT NULL,
	number             TEXT NOT NULL,
	customer_id        TEXT NOT NULL,
	customer_reference TEXT,
	location_id        TEXT NOT NULL,
	status             TEXT NOT NULL,
	due_date           TEXT NOT NULL,
	created_at         TEXT NOT NULL,
	UNIQUE (org, number)
);
CREATE TABLE IF NOT EXISTS sales_order_lines (
	so_id          TEXT NOT NULL REFERENCES sales_orders (id),
	line_number    INTEGER NOT NULL,
	product_id     TEXT NOT NULL,
	sku            TEXT NOT NULL,
	unit           TEXT NOT NULL,
	quantity       REAL NOT NULL,
	shipped        REAL NOT NULL DEFAULT 0,
	price_amount   REAL,
	price_currency TEXT,
	due_date       TEXT NOT NULL, -- added after the table: see migrate
	PRIMARY KEY (so_id, line_number)
);
CREATE TABLE IF NOT EXISTS inventory (
	org         TEXT NOT NULL,
	product_id  TEXT NOT NULL,
	location_id TEXT NOT NULL,
	on_hand     REAL NOT NULL,
	updated_at  TEXT NOT NULL,
	PRIMARY KEY (org, product_id, location_id)
);
`

// ErrNotFound is returned by the lookups of a single row that is not there.
var ErrNotFound = errors.New("store: not found")

// Store is the execution service's database.
type Store struct {
	db    *sql.DB
	stmts map[string]*sql.Stmt // prepared: the statements of the write paths
}

// The statements of the write paths, prepared once by Open. Why: the
// SQLite driver compiles a statement's SQL each time it is run unless it
// was prepared, and compiling was about a sixth of the CPU time of a
// purchase order request (sqlite3Parser in the profile), time the request
// and the events it publishes wait for. Reads, rarer and varied, are not.
const (
	qProduct       = `SELECT sku, name, unit, moq, preferred_supplier_id, discontinued, updated_at FROM products WHERE org = ? AND product_id = ?`
	qUpsertProduct = `
INSERT INTO products (org, product_id, sku, name, unit, moq, preferred_supplier_id, discontinued, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (org, product_id) DO UPDATE SET
	sku = excluded.sku, name = excluded.name, unit = excluded.unit, moq = excluded.moq,
	preferred_supplier_id = excluded.preferred_supplier_id,
	discontinued = products.discontinued OR excluded.discontinued,
	updated_at = excluded.updated_at`
	qNextNumber = `
INSERT INTO sequences (org, kind, year, last) VALUES (?, ?, ?, 1)
ON CONFLICT (org, kind, year) DO UPDATE SET last = last + 1
RETURNING last`
	qOnHand    = `SELECT on_hand FROM inventory WHERE org = ? AND product_id = ? AND location_id = ?`
	qSetOnHand = `
INSERT INTO inventory (org, product_id, location_id, on_hand, updated_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (org, product_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at`
	qInsertPurchaseOrder = `
INSERT INTO purchase_orders (id, org, number, supplier_id, location_id, status, origin, alert_id, expected_delivery_date, created_by, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertSalesOrder = `
INSERT INTO sales_orders (id, org, number, customer_id, customer_reference, location_id, status, due_date, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

const (
	qInsertPurchaseOrderLine = `
INSERT INTO purchase_order_lines (po_id, line_number, product_id, sku, unit, quantity, received, price_amount, price_currency)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertSalesOrderLine = `
INSERT INTO sales_order_lines (so_id, line_number, product_id, sku, unit, quantity, shipped, price_amount, price_currency, due_date)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

var prepared = []string{qProduct, qUpsertProduct, qNextNumber, qOnHand, qSetOnHand,
	qInsertPurchaseOrder, qInsertSalesOrder, qInsertPurchaseOrderLine, qInsertSalesOrderLine}

// Open opens the database at path, creating it and its tables when needed.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, schema)
	if err != nil {
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	s := &Store{db: db, stmts: make(map[string]*sql.Stmt, len(prepared))}
	for _, q := range prepared {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		s.stmts[q] = st
	}
	return s, nil
}

// migrate brings a database created by an older build up to schema, whose
// CREATE TABLE IF NOT EXISTS statements leave existing tables as they were.
// Each step checks whether it is needed, so that migrate is idempotent, and
// all run in one transaction.
//
//   - sales_order_lines.due_date: sales order lines got their own due date
//     (execution.sales_order.created version 2). A line stored before had
//     the order's, which the new column is filled with.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var has int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info('sales_order_lines') WHERE name = 'due_date'`).Scan(&has); err != nil {
		return err
	}
	if has == 0 {
		// ADD COLUMN takes a constant default only: '' until the UPDATE
		// copies the order's date, in the same transaction.
		if _, err := tx.ExecContext(ctx, `ALTER TABLE sales_order_lines ADD COLUMN due_date TEXT NOT NULL DEFAULT ''`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
UPDATE sales_order_lines SET due_date = (SELECT o.due_date FROM sales_orders o WHERE o.id = sales_order_lines.so_id)
WHERE due_date = ''`); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes the database (and with it the prepared statements).
func (s *Store) Close() error { return s.db.Close() }

// DB returns the database, which the service's outbox and inbox share
// with the store: their rows commit in the store's transactions.
func (s *Store) DB() *sql.DB { return s.db }

// Begin starts a transaction; it takes the database's only connection
// until Commit or Rollback.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{tx: tx, st: s}, nil
}

// Read runs fn in a transaction that is rolled back afterwards.
func (s *Store) Read(ctx context.Context, fn func(*Tx) error) error {
	tx, err := s.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Tx is a transaction of the store.
type Tx struct {
	tx *sql.Tx
	st *Store // its prepared statements
}

// Wrap makes a store transaction of tx, a transaction begun on the
// store's database by someone else (the inbox).
func (s *Store) Wrap(tx *sql.Tx) *Tx { return &Tx{tx: tx, st: s} }

// exec runs q in the transaction, prepared if it is one of the store's
// prepared statements (on the one connection, the statement prepared by
// Open is reused: database/sql keeps it per connection).
func (t *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, q, args...)
}

// queryRow is exec for a query of one row.
func (t *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if st := t.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, q, args...)
}

func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if p := t.st.stmts[q]; p != nil {
		return t.tx.StmtContext(ctx, p)
	}
	return nil
}

// SQL returns the database/sql transaction, for the outbox to add the
// change's events to it.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rollback abandons the transaction; it is a no-op after Commit.
func (t *Tx) Rollback() { _ = t.tx.Rollback() }

// Money is a price.
type Money struct {
	Amount   float64
	Currency string
}

// Product is the service's copy of a catalog product.
type Product struct {
	Org                 uuid.UUID
	ID                  uuid.UUID
	SKU                 string
	Name                string
	Unit                string // "" when only a discontinuation was seen
	MOQ                 *float64
	PreferredSupplierID *uuid.UUID
	Discontinued        bool
	UpdatedAt           time.Time
}

// Product returns the product, or ErrNotFound.
func (t *Tx) Product(ctx context.Context, org, id uuid.UUID) (Product, error) {
	var p Product
	var moq sql.NullFloat64
	var supplier sql.NullString
	var updated string
	err := t.queryRow(ctx, qProduct,
		org.String(), id.String()).Scan(&p.SKU, &p.Name, &p.Unit, &moq, &supplier, &p.Discontinued, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: product %s", ErrNotFound, id)
	}
	if err != nil {
		return p, fmt.Errorf("store: product %s: %w", id, err)
	}
	p.Org, p.ID = org, id
	if moq.Valid {
		p.MOQ = &moq.Float64
	}
	p.PreferredSupplierID = parseNullUUID(supplier)
	p.UpdatedAt = parseTime(updated)
	return p, nil
}

// UpsertProduct creates or replaces the product, keeping it discontinued
// if it already is.
func (t *Tx) UpsertProduct(ctx context.Context, p Product) error {
	_, err := t.exec(ctx, qUpsertProduct,
		p.Org.String(), p.ID.String(), p.SKU, p.Name, p.Unit, nullFloat(p.MOQ), nullUUID(p.PreferredSupplierID), p.Discontinued, formatTime(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: upsert product %s: %w", p.ID, err)
	}
	return nil
}

// DiscontinueProduct marks the product discontinued, creating a stub when
// the service never saw it.
func (t *Tx) DiscontinueProduct(ctx context.Context, org, id uuid.UUID, sku string, at time.Time) error {
	_, err := t.tx.ExecContext(ctx, `
INSERT INTO products (org, product_id, sku, discontinued, updated_at) VALUES (?, ?, ?, 1, ?)
ON CONFLICT (org, product_id) DO UPDATE SET discontinued = 1, updated_at = excluded.updated_at`,
		org.String(), id.String(), sku, formatTime(at))
	if err != nil {
		return fmt.Errorf("store: discontinue product %s: %w", id, err)
	}
	return nil
}

// NextNumber returns the next number of kind ("PO", "SO") for the year in
// the organization, from 1.
func (t *Tx) NextNumber(ctx context.Context, org uuid.UUID, kind string, year int) (int, error) {
	var n int
	err := t.queryRow(ctx, qNextNumber, org.String(), kind, year).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: next %s number: %w", kind, err)
	}
	return n, nil
}

// OnHand returns the on-hand quantity of the product at the location, 0
// when nothing was ever stocked there.
func (t *Tx) OnHand(ctx context.Context, org, product, location uuid.UUID) (float64, error) {
	var q float64
	err := t.queryRow(ctx, qOnHand, org.String(), product.String(), location.String()).Scan(&q)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: on hand: %w", err)
	}
	return q, nil
}

// SetOnHand records the on-hand quantity of the product at the location.
func (t *Tx) SetOnHand(ctx context.Context, org, product, location uuid.UUID, q float64, at time.Time) error {
	_, err := t.exec(ctx, qSetOnHand,
		org.String(), product.String(), location.String(), q, formatTime(at))
	if err != nil {
		return fmt.Errorf("store: set on hand: %w", err)
	}
	return nil
}

// Stock is the on-hand quantity of a product at a location.
type Stock struct {
	ProductID  uuid.UUID
	SKU        string
	Unit       string
	LocationID uuid.UUID
	OnHand     float64
	UpdatedAt  time.Time
}

// Inventory lists the organization's stock records, by SKU then location;
// a non-nil product or location filters on it.
func (t *Tx) Inventory(ctx context.Context, org, product, location uuid.UUID, page Page) ([]Stock, error) {
	q := `SELECT i.product_id, p.sku, p.unit, i.location_id, i.on_hand, i.updated_at
FROM inventory i JOIN products p ON p.org = i.org AND p.product_id = i.product_id
WHERE i.org = ?`
	args := []any{org.String()}
	if product != uuid.Nil {
		q += ` AND i.product_id = ?`
		args = append(args, product.String())
	}
	if location != uuid.Nil {
		q += ` AND i.location_id = ?`
		args = append(args, location.String())
	}
	if len(page.After) == 2 {
		q += ` AND (p.sku, i.location_id) > (?, ?)`
		args = append(args, page.After[0], page.After[1])
	}
	limit, largs := page.limit()
	q += ` ORDER BY p.sku, i.location_id` + limit
	rows, err := t.tx.QueryContext(ctx, q, append(args, largs...)...)
	if err != nil {
		return nil, fmt.Errorf("store: inventory: %w", err)
	}
	defer rows.Close()
	var out []Stock
	for rows.Next() {
		var s Stock
		var pid, lid, updated string
		if err := rows.Scan(&pid, &s.SKU, &s.Unit, &lid, &s.OnHand, &updated); err != nil {
			return nil, fmt.Errorf("store: inventory: %w", err)
		}
		s.ProductID, s.LocationID, s.UpdatedAt = uuid.MustParse(pid), uuid.MustParse(lid), parseTime(updated)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: inventory: %w", err)
	}
	return out, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func parseDate(s string) payload.Date {
	d, _ := payload.ParseDate(s)
	return d
}

func nullUUID(id *uuid.UUID) any {
	if id == nil {
		return nil
	}
	return id.String()
}

func parseNullUUID(s sql.NullString) *uuid.UUID {
	if !s.Valid {
		return nil
	}
	id, err := uuid.Parse(s.String)
	if err != nil {
		return nil
	}
	return &id
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

func nullString(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func parseNullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func nullMoney(m *Money) (any, any) {
	if m == nil {
		return nil, nil
	}
	return m.Amount, m.Currency
}

func parseNullMoney(amount sql.NullFloat64, currency sql.NullString) *Money {
	if !amount.Valid || !currency.Valid {
		return nil
	}
	return &Money{Amount: amount.Float64, Currency: currency.String}
}
