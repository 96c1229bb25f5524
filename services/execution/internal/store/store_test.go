package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/sqlitedb"
)

func open(t *testing.T) (*store.Store, *store.Tx) {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "execution.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tx, err := s.Begin(context.Background())
	require.NoError(t, err)
	t.Cleanup(tx.Rollback)
	return s, tx
}

var (
	ctx = context.Background()
	now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
)

func TestProducts(t *testing.T) {
	_, tx := open(t)
	org, id, supplier := uuid.New(), uuid.New(), uuid.New()
	_, err := tx.Product(ctx, org, id)
	require.ErrorIs(t, err, store.ErrNotFound)

	moq := 12.0
	p := store.Product{Org: org, ID: id, SKU: "ABC-1", Name: "A", Unit: "EA", MOQ: &moq, PreferredSupplierID: &supplier, UpdatedAt: now}
	require.NoError(t, tx.UpsertProduct(ctx, p))
	got, err := tx.Product(ctx, org, id)
	require.NoError(t, err)
	assert.Equal(t, p, got)
	_, err = tx.Product(ctx, uuid.New(), id)
	require.ErrorIs(t, err, store.ErrNotFound, "another organization's")

	require.NoError(t, tx.DiscontinueProduct(ctx, org, id, "ABC-1", now))
	p.Name, p.MOQ, p.PreferredSupplierID = "B", nil, nil
	require.NoError(t, tx.UpsertProduct(ctx, p))
	got, err = tx.Product(ctx, org, id)
	require.NoError(t, err)
	assert.True(t, got.Discontinued, "an update keeps a product discontinued")
	assert.Equal(t, "B", got.Name)
	assert.Nil(t, got.MOQ)
}

func TestNumbersAndInventory(t *testing.T) {
	_, tx := open(t)
	org := uuid.New()
	for want := 1; want <= 3; want++ {
		n, err := tx.NextNumber(ctx, org, "PO", 2026)
		require.NoError(t, err)
		assert.Equal(t, want, n)
	}
	n, err := tx.NextNumber(ctx, org, "PO", 2027)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "numbers restart each year")
	n, err = tx.NextNumber(ctx, uuid.New(), "PO", 2026)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "and per organization")

	p1, p2, loc := uuid.New(), uuid.New(), uuid.New()
	require.NoError(t, tx.UpsertProduct(ctx, store.Product{Org: org, ID: p1, SKU: "B-2", Unit: "KG", UpdatedAt: now}))
	require.NoError(t, tx.UpsertProduct(ctx, store.Product{Org: org, ID: p2, SKU: "A-1", Unit: "EA", UpdatedAt: now}))
	q, err := tx.OnHand(ctx, org, p1, loc)
	require.NoError(t, err)
	assert.Zero(t, q)
	require.NoError(t, tx.SetOnHand(ctx, org, p1, loc, 4.5, now))
	require.NoError(t, tx.SetOnHand(ctx, org, p2, loc, 7, now))
	require.NoError(t, tx.SetOnHand(ctx, org, p1, loc, 5.5, now))
	q, err = tx.OnHand(ctx, org, p1, loc)
	require.NoError(t, err)
	assert.Equal(t, 5.5, q)
	all, err := tx.Inventory(ctx, org, uuid.Nil, uuid.Nil, store.Page{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	assert.Equal(t, []string{"A-1", "B-2"}, []string{all[0].SKU, all[1].SKU}, "by SKU")
	assert.Equal(t, store.Stock{ProductID: p1, SKU: "B-2", Unit: "KG", LocationID: loc, OnHand: 5.5, UpdatedAt: now}, all[1])
	one, err := tx.Inventory(ctx, org, p1, loc, store.Page{})
	require.NoError(t, err)
	assert.Len(t, one, 1)
	none, err := tx.Inventory(ctx, org, p1, uuid.New(), store.Page{})
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestOrders(t *testing.T) {
	s, tx := open(t)
	org, product, alert := uuid.New(), uuid.New(), uuid.New()
	by := "buyer@example.com"
	po := store.PurchaseOrder{
		ID: uuid.New(), Org: org, Number: "PO-2026-000001", LocationID: uuid.New(), Status: store.StatusDraft,
		Origin: "replenishment", AlertID: &alert, ExpectedDeliveryDate: payload.Date{Year: 2026, Month: 12, Day: 7},
		CreatedBy: &by, CreatedAt: now,
		Lines: []store.Line{
			{Number: 1, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 10, UnitPrice: &store.Money{Amount: 1.5, Currency: "USD"}},
			{Number: 2, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 5},
		},
	}
	require.NoError(t, tx.InsertPurchaseOrder(ctx, po))
	got, err := tx.PurchaseOrder(ctx, org, po.ID)
	require.NoError(t, err)
	assert.Equal(t, po, got)

	again := po
	again.ID, again.Number = uuid.New(), "PO-2026-000002"
	require.ErrorIs(t, tx.InsertPurchaseOrder(ctx, again), store.ErrDuplicateAlert)
	other := again
	other.Org, other.Number = uuid.New(), "PO-2026-000001"
	require.NoError(t, tx.InsertPurchaseOrder(ctx, other), "another organization's alert of the same id is its own")
	again.AlertID = nil
	again.Number = "PO-2026-000001"
	err = tx.InsertPurchaseOrder(ctx, again)
	require.Error(t, err, "a number is unique in the organization")
	assert.NotErrorIs(t, err, store.ErrDuplicateAlert)

	po.Status, po.Lines[0].Done = store.StatusOpen, 4
	require.NoError(t, tx.UpdatePurchaseOrderProgress(ctx, po))
	list, err := tx.PurchaseOrders(ctx, org, store.PurchaseOrderFilter{AlertID: alert, Origin: "replenishment", Status: store.StatusOpen, LocationID: po.LocationID})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, 4.0, list[0].Lines[0].Done)
	list, err = tx.PurchaseOrders(ctx, org, store.PurchaseOrderFilter{Status: store.StatusClosed})
	require.NoError(t, err)
	assert.Empty(t, list)
	_, err = tx.PurchaseOrder(ctx, uuid.New(), po.ID)
	require.ErrorIs(t, err, store.ErrNotFound)

	ref := "REF"
	so := store.SalesOrder{
		ID: uuid.New(), Org: org, Number: "SO-2026-000001", CustomerID: uuid.New(), CustomerReference: &ref,
		LocationID: uuid.New(), Status: store.StatusOpen, DueDate: payload.Date{Year: 2026, Month: 12, Day: 1}, CreatedAt: now,
		Lines: []store.Line{
			{Number: 1, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 3, DueDate: payload.Date{Year: 2026, Month: 12, Day: 1}},
			{Number: 2, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 1, DueDate: payload.Date{Year: 2026, Month: 12, Day: 8}},
		},
	}
	require.NoError(t, tx.InsertSalesOrder(ctx, so))
	so.Status, so.Lines[0].Done, so.Lines[1].Done = store.StatusClosed, 3, 1
	require.NoError(t, tx.UpdateSalesOrderProgress(ctx, so))
	gotSO, err := tx.SalesOrder(ctx, org, so.ID)
	require.NoError(t, err)
	assert.Equal(t, so, gotSO)
	_, err = tx.SalesOrder(ctx, org, uuid.New())
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, tx.Commit())

	// Committed: visible to the next transaction.
	require.NoError(t, s.Read(ctx, func(tx *store.Tx) error {
		_, err := tx.SalesOrder(ctx, org, so.ID)
		return err
	}))
}

// TestMigrateLineDueDates opens a database of a build before sales order
// lines had due dates: its lines get their order's due date, reopening
// changes nothing, and new orders store a due date per line.
func TestMigrateLineDueDates(t *testing.T) {
	path := filepath.Join(t.TempDir(), "execution.db")
	old, err := sqlitedb.Open(ctx, path, `
CREATE TABLE sales_orders (
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
CREATE TABLE sales_order_lines (
	so_id          TEXT NOT NULL REFERENCES sales_orders (id),
	line_number    INTEGER NOT NULL,
	product_id     TEXT NOT NULL,
	sku            TEXT NOT NULL,
	unit           TEXT NOT NULL,
	quantity       REAL NOT NULL,
	shipped        REAL NOT NULL DEFAULT 0,
	price_amount   REAL,
	price_currency TEXT,
	PRIMARY KEY (so_id, line_number)
);`)
	require.NoError(t, err)
	org, product := uuid.New(), uuid.New()
	orders := map[uuid.UUID]string{uuid.New(): "2026-12-01", uuid.New(): "2026-12-09"}
	n := 0
	for id, due := range orders {
		n++
		_, err := old.ExecContext(ctx, `INSERT INTO sales_orders VALUES (?, ?, ?, ?, NULL, ?, 'open', ?, ?)`,
			id.String(), org.String(), fmt.Sprintf("SO-2026-%06d", n), uuid.NewString(), uuid.NewString(), due, now.Format(time.RFC3339Nano))
		require.NoError(t, err)
		for line := 1; line <= 2; line++ {
			_, err := old.ExecContext(ctx, `INSERT INTO sales_order_lines (so_id, line_number, product_id, sku, unit, quantity) VALUES (?, ?, ?, 'X-1', 'EA', 2)`,
				id.String(), line, product.String())
			require.NoError(t, err)
		}
	}
	require.NoError(t, old.Close())

	for range 2 { // the second open finds nothing to do
		s, err := store.Open(ctx, path)
		require.NoError(t, err)
		require.NoError(t, s.Read(ctx, func(tx *store.Tx) error {
			for id, due := range orders {
				so, err := tx.SalesOrder(ctx, org, id)
				require.NoError(t, err)
				require.Len(t, so.Lines, 2)
				for _, l := range so.Lines {
					assert.Equal(t, due, l.DueDate.String(), "line %d of %s: the order's due date", l.Number, so.Number)
				}
			}
			return nil
		}))
		require.NoError(t, s.Close())
	}

	s, err := store.Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tx, err := s.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback()
	so := store.SalesOrder{
		ID: uuid.New(), Org: org, Number: "SO-2026-000003", CustomerID: uuid.New(), LocationID: uuid.New(), Status: store.StatusOpen,
		DueDate: payload.Date{Year: 2026, Month: 12, Day: 1}, CreatedAt: now,
		Lines: []store.Line{
			{Number: 1, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 1, DueDate: payload.Date{Year: 2026, Month: 12, Day: 1}},
			{Number: 2, ProductID: product, SKU: "X-1", Unit: "EA", Quantity: 1, DueDate: payload.Date{Year: 2026, Month: 12, Day: 15}},
		},
	}
	require.NoError(t, tx.InsertSalesOrder(ctx, so))
	got, err := tx.SalesOrder(ctx, org, so.ID)
	require.NoError(t, err)
	assert.Equal(t, so, got)
}

func TestClosed(t *testing.T) {
	s, tx := open(t)
	tx.Rollback()
	require.NoError(t, s.Close())
	_, err := s.Begin(ctx)
	assert.Error(t, err)
	assert.Error(t, s.Read(ctx, func(*store.Tx) error { return nil }))
	_, err = store.Open(ctx, filepath.Join(t.TempDir(), "no", "such", "dir", "x.db"))
	assert.Error(t, err)
}

// TestWrap: a transaction begun by someone else (the inbox) runs the
// store's statements, the prepared ones included, and commits with them.
func TestWrap(t *testing.T) {
	s, tx := open(t)
	tx.Rollback()
	sqlTx, err := s.DB().BeginTx(ctx, nil)
	require.NoError(t, err)
	wrapped := s.Wrap(sqlTx)
	org, id := uuid.New(), uuid.New()
	require.NoError(t, wrapped.UpsertProduct(ctx, store.Product{Org: org, ID: id, SKU: "W-1", Unit: "EA", UpdatedAt: now}))
	n, err := wrapped.NextNumber(ctx, org, "PO", 2026)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	require.NoError(t, wrapped.Commit())

	// The prepared statements serve the next transactions too.
	for want := 2; want <= 3; want++ {
		tx, err := s.Begin(ctx)
		require.NoError(t, err)
		n, err := tx.NextNumber(ctx, org, "PO", 2026)
		require.NoError(t, err)
		assert.Equal(t, want, n)
		got, err := tx.Product(ctx, org, id)
		require.NoError(t, err)
		assert.Equal(t, "W-1", got.SKU)
		require.NoError(t, tx.Commit())
	}
}
