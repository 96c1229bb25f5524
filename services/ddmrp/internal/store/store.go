// Package store keeps the DDMRP service's state in SQLite: what it knows
// of products, the supply, demand and on-hand stock it follows from the
// execution service's events, the buffers with their profiles and last
// evaluation. Every table is keyed by organization. The ids of the events
// already handled are in the same database, in the inbox of sdk/bus.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/ddmrp/internal/buffer"
	"github.com/giia/events/services/sqlitedb"
)

const schema = `
CREATE TABLE IF NOT EXISTS products (
	org          TEXT NOT NULL,
	product_id   TEXT NOT NULL,
	sku          TEXT NOT NULL,
	unit         TEXT NOT NULL DEFAULT '',
	discontinued INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (org, product_id)
);
CREATE TABLE IF NOT EXISTS stock (
	org         TEXT NOT NULL,
	product_id  TEXT NOT NULL,
	location_id TEXT NOT NULL,
	on_hand     REAL NOT NULL,
	PRIMARY KEY (org, product_id, location_id)
);
CREATE TABLE IF NOT EXISTS supply (
	org         TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	line_number INTEGER NOT NULL,
	product_id  TEXT NOT NULL,
	location_id TEXT NOT NULL,
	outstanding REAL NOT NULL,
	placed      INTEGER NOT NULL,
	PRIMARY KEY (org, order_id, line_number)
);
-- The sums of a position's supply (OnOrder, DraftSupply) read only its
-- lines with something outstanding, and read them from the index alone:
-- received lines, most of the table in time, are not in it.
DROP INDEX IF EXISTS supply_position;
CREATE INDEX IF NOT EXISTS supply_open ON supply (org, product_id, location_id, placed, outstanding) WHERE outstanding <> 0;
CREATE TABLE IF NOT EXISTS demand (
	org         TEXT NOT NULL,
	order_id    TEXT NOT NULL,
	line_number INTEGER NOT NULL,
	product_id  TEXT NOT NULL,
	location_id TEXT NOT NULL,
	due_date    TEXT NOT NULL,
	outstanding REAL NOT NULL,
	PRIMARY KEY (org, order_id, line_number)
);
-- A position's open demand (Demand), in its order, from the index alone;
-- lines shipped in full, most of the table in time, are not in it (an
-- index of every line made each evaluation scan every line the position
-- ever had).
DROP INDEX IF EXISTS demand_position;
CREATE INDEX IF NOT EXISTS demand_open ON demand (org, product_id, location_id, due_date, order_id, line_number, outstanding) WHERE outstanding > 0;
CREATE TABLE IF NOT EXISTS buffers (
	org                TEXT NOT NULL,
	product_id         TEXT NOT NULL,
	location_id        TEXT NOT NULL,
	buffer_id          TEXT NOT NULL UNIQUE,
	adu                REAL NOT NULL,
	dlt_days           INTEGER NOT NULL,
	lead_time_factor   REAL NOT NULL,
	variability_factor REAL NOT NULL,
	moq                REAL NOT NULL,
	order_cycle_days   INTEGER NOT NULL,
	zone               TEXT NOT NULL,
	net_flow_position  REAL NOT NULL,
	armed              INTEGER NOT NULL,
	updated_at         TEXT NOT NULL,
	PRIMARY KEY (org, product_id, location_id)
);
`

// ErrNotFound is returned by the lookups of a single row that is not there.
var ErrNotFound = errors.New("store: not found")

// Store is the DDMRP service's database.
type Store struct {
	db    *sql.DB
	stmts *statements
}

// Open opens the database at path, creating it and its tables when
// needed, and prepares the store's statements.
func Open(ctx context.Context, path string) (*Store, error) {
	db, err := sqlitedb.Open(ctx, path, schema)
	if err != nil {
		return nil, err
	}
	st, err := prepare(ctx, db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Store{db: db, stmts: st}, nil
}

// Close closes the statements and the database.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

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
	return &Tx{tx: tx, st: s.stmts}, nil
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
	st *statements
}

// WrapTx makes a store transaction of tx, a transaction begun on the
// store's database by someone else (the inbox).
func (s *Store) WrapTx(tx *sql.Tx) *Tx { return &Tx{tx: tx, st: s.stmts} }

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

func (t *Tx) exec(ctx context.Context, what string, q query, args ...any) error {
	if _, err := t.stmt(ctx, q).ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// stmt returns the prepared statement of q in the transaction.
func (t *Tx) stmt(ctx context.Context, q query) *sql.Stmt {
	return t.tx.StmtContext(ctx, t.st.of[q])
}

// Product is what the service knows of a product.
type Product struct {
	ID           uuid.UUID
	SKU          string
	Unit         string // "" until an event or a profile gave it
	Discontinued bool
}

// Product returns the product, or ErrNotFound.
func (t *Tx) Product(ctx context.Context, org, id uuid.UUID) (Product, error) {
	p := Product{ID: id}
	err := t.stmt(ctx, qProduct).QueryRowContext(ctx,
		org.String(), id.String()).Scan(&p.SKU, &p.Unit, &p.Discontinued)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("%w: product %s", ErrNotFound, id)
	}
	if err != nil {
		return p, fmt.Errorf("store: product %s: %w", id, err)
	}
	return p, nil
}

// LearnProduct records a product's SKU and, when not empty, its unit.
func (t *Tx) LearnProduct(ctx context.Context, org, id uuid.UUID, sku, unit string) error {
	return t.exec(ctx, "learn product", qLearnProduct,
		org.String(), id.String(), sku, unit)
}

// DiscontinueProduct marks the product discontinued.
func (t *Tx) DiscontinueProduct(ctx context.Context, org, id uuid.UUID, sku string) error {
	return t.exec(ctx, "discontinue product", qDiscontinueProduct,
		org.String(), id.String(), sku)
}

// Position identifies a buffer's place: a product at a location.
type Position struct {
	ProductID  uuid.UUID
	LocationID uuid.UUID
}

// OnHand returns the on-hand stock at p, 0 when none was recorded.
func (t *Tx) OnHand(ctx context.Context, org uuid.UUID, p Position) (float64, error) {
	var q float64
	err := t.stmt(ctx, qOnHand).QueryRowContext(ctx,
		org.String(), p.ProductID.String(), p.LocationID.String()).Scan(&q)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: on hand: %w", err)
	}
	return q, nil
}

// SetOnHand records the on-hand stock at p.
func (t *Tx) SetOnHand(ctx context.Context, org uuid.UUID, p Position, q float64) error {
	return t.exec(ctx, "set on hand", qSetOnHand,
		org.String(), p.ProductID.String(), p.LocationID.String(), q)
}

// OrderLine is an open line of a purchase order (supply) or a sales order
// (demand).
type OrderLine struct {
	OrderID     uuid.UUID
	LineNumber  int
	Position    Position
	DueDate     payload.Date // sales orders only
	Outstanding float64
	// Placed is false for the line of a draft purchase order: a
	// replenishment not yet sent to the supplier is not on order.
	Placed bool
}

// PutSupply records a purchase order line, keeping what is already
// recorded when the line exists.
func (t *Tx) PutSupply(ctx context.Context, org uuid.UUID, l OrderLine) error {
	return t.exec(ctx, "put supply", qPutSupply,
		org.String(), l.OrderID.String(), l.LineNumber, l.Position.ProductID.String(), l.Position.LocationID.String(), l.Outstanding, l.Placed)
}

// SetSupplyOutstanding records what is still on order on a purchase order
// line, creating the line when it was never seen.
func (t *Tx) SetSupplyOutstanding(ctx context.Context, org uuid.UUID, l OrderLine) error {
	return t.exec(ctx, "set supply outstanding", qSetSupplyOutstanding,
		org.String(), l.OrderID.String(), l.LineNumber, l.Position.ProductID.String(), l.Position.LocationID.String(), l.Outstanding, l.Placed)
}

// PlaceSupply marks every line of a purchase order placed: goods arrived,
// so a draft was sent after all.
func (t *Tx) PlaceSupply(ctx context.Context, org, orderID uuid.UUID) error {
	return t.exec(ctx, "place supply", qPlaceSupply, org.String(), orderID.String())
}

// OnOrder returns the open supply at p: what placed purchase orders have
// outstanding; drafts do not count.
func (t *Tx) OnOrder(ctx context.Context, org uuid.UUID, p Position) (float64, error) {
	var q float64
	err := t.stmt(ctx, qOnOrder).QueryRowContext(ctx,
		org.String(), p.ProductID.String(), p.LocationID.String()).Scan(&q)
	if err != nil {
		return 0, fmt.Errorf("store: on order: %w", err)
	}
	return q, nil
}

// DraftSupply returns what draft purchase orders would bring to p.
func (t *Tx) DraftSupply(ctx context.Context, org uuid.UUID, p Position) (float64, error) {
	var q float64
	err := t.stmt(ctx, qDraftSupply).QueryRowContext(ctx,
		org.String(), p.ProductID.String(), p.LocationID.String()).Scan(&q)
	if err != nil {
		return 0, fmt.Errorf("store: draft supply: %w", err)
	}
	return q, nil
}

// PutDemand records a sales order line, keeping the outstanding quantity
// already recorded when the line exists.
func (t *Tx) PutDemand(ctx context.Context, org uuid.UUID, l OrderLine) error {
	return t.exec(ctx, "put demand", qPutDemand,
		org.String(), l.OrderID.String(), l.LineNumber, l.Position.ProductID.String(), l.Position.LocationID.String(), l.DueDate.String(), l.Outstanding)
}

// SetDemandOutstanding records what is still to ship on a sales order line
// it knows; a line never seen is ignored (its demand is unknown).
func (t *Tx) SetDemandOutstanding(ctx context.Context, org uuid.UUID, l OrderLine) error {
	return t.exec(ctx, "set demand outstanding", qSetDemandOutstanding,
		l.Outstanding, org.String(), l.OrderID.String(), l.LineNumber)
}

// Demand returns the open sales order lines at p.
func (t *Tx) Demand(ctx context.Context, org uuid.UUID, p Position) ([]OrderLine, error) {
	rows, err := t.stmt(ctx, qDemand).QueryContext(ctx, org.String(), p.ProductID.String(), p.LocationID.String())
	if err != nil {
		return nil, fmt.Errorf("store: demand: %w", err)
	}
	defer rows.Close()
	var out []OrderLine
	for rows.Next() {
		l := OrderLine{Position: p}
		var id, due string
		if err := rows.Scan(&id, &l.LineNumber, &due, &l.Outstanding); err != nil {
			return nil, fmt.Errorf("store: demand: %w", err)
		}
		l.OrderID = uuid.MustParse(id)
		l.DueDate, _ = payload.ParseDate(due)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: demand: %w", err)
	}
	return out, nil
}

// Buffer is a buffer's profile and its last evaluation.
type Buffer struct {
	ID        uuid.UUID
	Org       uuid.UUID
	Position  Position
	Profile   buffer.Profile
	Zone      buffer.Zone // at the last evaluation
	NFP       float64     // at the last evaluation
	Armed     bool        // the alarm: see buffer.Alarm
	UpdatedAt time.Time
}

const bufferColumns = `buffer_id, product_id, location_id, adu, dlt_days, lead_time_factor, variability_factor, moq, order_cycle_days, zone, net_flow_position, armed, updated_at`

// Buffer returns the buffer at p, or ErrNotFound.
func (t *Tx) Buffer(ctx context.Context, org uuid.UUID, p Position) (Buffer, error) {
	bs, err := t.buffers(ctx, org, qBuffer, p.ProductID.String(), p.LocationID.String())
	if err != nil {
		return Buffer{}, err
	}
	if len(bs) == 0 {
		return Buffer{}, fmt.Errorf("%w: buffer of product %s at %s", ErrNotFound, p.ProductID, p.LocationID)
	}
	return bs[0], nil
}

// Page is a page of a list: at most Limit items (all when 0) after the
// one whose sort key is After (from the start when empty).
type Page struct {
	After []string
	Limit int
}

// Buffers returns a page of the organization's buffers, by product and
// location (After: their ids).
func (t *Tx) Buffers(ctx context.Context, org uuid.UUID, page Page) ([]Buffer, error) {
	after := []string{"", ""}
	if len(page.After) == 2 {
		after = page.After
	}
	limit := -1 // no limit, in SQLite
	if page.Limit > 0 {
		limit = page.Limit
	}
	return t.buffers(ctx, org, qBuffers, after[0], after[1], limit)
}

func (t *Tx) buffers(ctx context.Context, org uuid.UUID, q query, args ...any) ([]Buffer, error) {
	rows, err := t.stmt(ctx, q).QueryContext(ctx, append([]any{org.String()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("store: buffers: %w", err)
	}
	defer rows.Close()
	var out []Buffer
	for rows.Next() {
		b := Buffer{Org: org}
		var id, pid, lid, zone, updated string
		pr := &b.Profile
		if err := rows.Scan(&id, &pid, &lid, &pr.ADU, &pr.DLTDays, &pr.LeadTimeFactor, &pr.VariabilityFactor, &pr.MOQ, &pr.OrderCycleDays,
			&zone, &b.NFP, &b.Armed, &updated); err != nil {
			return nil, fmt.Errorf("store: buffers: %w", err)
		}
		b.ID = uuid.MustParse(id)
		b.Position = Position{ProductID: uuid.MustParse(pid), LocationID: uuid.MustParse(lid)}
		b.Zone = buffer.Zone(zone)
		b.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: buffers: %w", err)
	}
	return out, nil
}

// SaveBuffer creates or updates the buffer.
func (t *Tx) SaveBuffer(ctx context.Context, b Buffer) error {
	p := b.Profile
	return t.exec(ctx, "save buffer", qSaveBuffer,
		b.Org.String(), b.ID.String(), b.Position.ProductID.String(), b.Position.LocationID.String(),
		p.ADU, p.DLTDays, p.LeadTimeFactor, p.VariabilityFactor, p.MOQ, p.OrderCycleDays,
		string(b.Zone), b.NFP, b.Armed, b.UpdatedAt.UTC().Format(time.RFC3339Nano))
}

// PositionState is what the evaluation of a buffer reads: the buffer, its
// product, the stock at its position and its open demand.
type PositionState struct {
	Buffer  Buffer
	Product Product
	OnHand  float64 // 0 when none was recorded
	OnOrder float64 // what placed purchase orders have outstanding
	// Demand is the open sales order lines at the position, as OpenDemand
	// returns them for the day given to Position.
	Demand []buffer.Demand
}

// Position returns, in one statement, the buffer at p with its product,
// on-hand stock, open supply and open demand (what Buffer, Product,
// OnHand, OnOrder and OpenDemand return), or ErrNotFound when p has no
// buffer (Buffer.ID is then uuid.Nil); a buffer whose product is unknown
// is an error wrapping ErrNotFound too, as Product's, with Buffer.ID set.
func (t *Tx) Position(ctx context.Context, org uuid.UUID, p Position, today payload.Date) (PositionState, error) {
	s := PositionState{Buffer: Buffer{Org: org, Position: p}, Product: Product{ID: p.ProductID}}
	rows, err := t.stmt(ctx, qPosition).QueryContext(ctx, today.String(), org.String(), p.ProductID.String(), p.LocationID.String())
	if err != nil {
		return s, fmt.Errorf("store: position: %w", err)
	}
	defer rows.Close()
	b, pr := &s.Buffer, &s.Buffer.Profile
	var id, zone, updated string
	var sku, unit sql.NullString
	var discontinued, due sql.NullBool
	var outstanding sql.NullFloat64
	var known bool
	n := 0
	for ; rows.Next(); n++ {
		if err := rows.Scan(&id, &pr.ADU, &pr.DLTDays, &pr.LeadTimeFactor, &pr.VariabilityFactor, &pr.MOQ, &pr.OrderCycleDays,
			&zone, &b.NFP, &b.Armed, &updated, &sku, &unit, &discontinued, &known, &s.OnHand, &s.OnOrder, &outstanding, &due); err != nil {
			return s, fmt.Errorf("store: position: %w", err)
		}
		if outstanding.Valid {
			s.Demand = append(s.Demand, buffer.Demand{Outstanding: outstanding.Float64, Due: due.Bool})
		}
	}
	if err := rows.Err(); err != nil {
		return s, fmt.Errorf("store: position: %w", err)
	}
	if n == 0 {
		return s, fmt.Errorf("%w: buffer of product %s at %s", ErrNotFound, p.ProductID, p.LocationID)
	}
	b.ID = uuid.MustParse(id)
	if !known {
		return s, fmt.Errorf("store: buffer %s: %w: product %s", b.ID, ErrNotFound, p.ProductID)
	}
	b.Zone = buffer.Zone(zone)
	b.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	s.Product.SKU, s.Product.Unit, s.Product.Discontinued = sku.String, unit.String, discontinued.Bool
	return s, nil
}

// SaveEvaluation records the last evaluation of b, an existing buffer:
// its zone, net flow position, alarm and time (SaveBuffer without the
// profile).
func (t *Tx) SaveEvaluation(ctx context.Context, b Buffer) error {
	return t.exec(ctx, "save evaluation", qSaveEvaluation,
		string(b.Zone), b.NFP, b.Armed, b.UpdatedAt.UTC().Format(time.RFC3339Nano),
		b.Org.String(), b.Position.ProductID.String(), b.Position.LocationID.String())
}

// OpenDemand returns the open sales order lines at p as the evaluation of
// its buffer reads them: what each has outstanding and whether it is due
// by today, in the order of Demand.
func (t *Tx) OpenDemand(ctx context.Context, org uuid.UUID, p Position, today payload.Date) ([]buffer.Demand, error) {
	rows, err := t.stmt(ctx, qOpenDemand).QueryContext(ctx, today.String(), org.String(), p.ProductID.String(), p.LocationID.String())
	if err != nil {
		return nil, fmt.Errorf("store: open demand: %w", err)
	}
	defer rows.Close()
	var out []buffer.Demand
	for rows.Next() {
		var d buffer.Demand
		if err := rows.Scan(&d.Outstanding, &d.Due); err != nil {
			return nil, fmt.Errorf("store: open demand: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: open demand: %w", err)
	}
	return out, nil
}
