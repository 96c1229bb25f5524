package store_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/ddmrp/internal/buffer"
	"github.com/giia/events/services/ddmrp/internal/store"
)

var (
	ctx = context.Background()
	now = time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC)
)

func open(t *testing.T) (*store.Store, *store.Tx) {
	t.Helper()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "ddmrp.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	tx, err := s.Begin(ctx)
	require.NoError(t, err)
	t.Cleanup(tx.Rollback)
	return s, tx
}

func TestProducts(t *testing.T) {
	_, tx := open(t)
	org, p := uuid.New(), uuid.New()
	_, err := tx.Product(ctx, org, p)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.NoError(t, tx.LearnProduct(ctx, org, p, "SKU-1", ""))
	require.NoError(t, tx.LearnProduct(ctx, org, p, "SKU-1", "KG"))
	require.NoError(t, tx.LearnProduct(ctx, org, p, "SKU-1", "")) // keeps the unit
	got, err := tx.Product(ctx, org, p)
	require.NoError(t, err)
	assert.Equal(t, store.Product{ID: p, SKU: "SKU-1", Unit: "KG"}, got)
	require.NoError(t, tx.DiscontinueProduct(ctx, org, p, "SKU-1"))
	got, err = tx.Product(ctx, org, p)
	require.NoError(t, err)
	assert.True(t, got.Discontinued)
	require.NoError(t, tx.DiscontinueProduct(ctx, org, uuid.New(), "SKU-2"))
}

func TestSupplyDemandStock(t *testing.T) {
	_, tx := open(t)
	org := uuid.New()
	pos := store.Position{ProductID: uuid.New(), LocationID: uuid.New()}
	other := store.Position{ProductID: pos.ProductID, LocationID: uuid.New()}

	q, err := tx.OnHand(ctx, org, pos)
	require.NoError(t, err)
	assert.Zero(t, q)
	require.NoError(t, tx.SetOnHand(ctx, org, pos, 12))
	require.NoError(t, tx.SetOnHand(ctx, org, pos, 10))
	q, err = tx.OnHand(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, 10.0, q)

	po1, po2 := uuid.New(), uuid.New()
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: po1, LineNumber: 1, Position: pos, Outstanding: 100, Placed: true}))
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: po1, LineNumber: 1, Position: pos, Outstanding: 999, Placed: true}), "a repeat changes nothing")
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: po2, LineNumber: 1, Position: pos, Outstanding: 50}))
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: 1, Position: other, Outstanding: 7, Placed: true}))
	onOrder, err := tx.OnOrder(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, 100.0, onOrder, "a draft is not on order")
	draft, err := tx.DraftSupply(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, 50.0, draft)
	require.NoError(t, tx.PlaceSupply(ctx, org, po2))
	require.NoError(t, tx.SetSupplyOutstanding(ctx, org, store.OrderLine{OrderID: po1, LineNumber: 1, Position: pos, Outstanding: 40, Placed: true}))
	require.NoError(t, tx.SetSupplyOutstanding(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: 1, Position: pos, Outstanding: 5, Placed: true}), "a line never seen")
	onOrder, err = tx.OnOrder(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, 95.0, onOrder)

	so1, so2 := uuid.New(), uuid.New()
	d1, d2 := payload.Date{Year: 2026, Month: 11, Day: 30}, payload.Date{Year: 2026, Month: 11, Day: 28}
	require.NoError(t, tx.PutDemand(ctx, org, store.OrderLine{OrderID: so1, LineNumber: 1, Position: pos, DueDate: d1, Outstanding: 30}))
	require.NoError(t, tx.PutDemand(ctx, org, store.OrderLine{OrderID: so2, LineNumber: 1, Position: pos, DueDate: d2, Outstanding: 20}))
	require.NoError(t, tx.PutDemand(ctx, org, store.OrderLine{OrderID: so2, LineNumber: 2, Position: pos, DueDate: d2, Outstanding: 5}))
	require.NoError(t, tx.SetDemandOutstanding(ctx, org, store.OrderLine{OrderID: so2, LineNumber: 2, Outstanding: 0}))
	require.NoError(t, tx.SetDemandOutstanding(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: 1, Outstanding: 3}), "unknown: ignored")
	lines, err := tx.Demand(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, []store.OrderLine{
		{OrderID: so2, LineNumber: 1, Position: pos, DueDate: d2, Outstanding: 20},
		{OrderID: so1, LineNumber: 1, Position: pos, DueDate: d1, Outstanding: 30},
	}, lines, "open lines, by due date")
}

func TestBuffers(t *testing.T) {
	s, tx := open(t)
	org := uuid.New()
	pos := store.Position{ProductID: uuid.New(), LocationID: uuid.New()}
	_, err := tx.Buffer(ctx, org, pos)
	require.ErrorIs(t, err, store.ErrNotFound)
	b := store.Buffer{
		ID: uuid.New(), Org: org, Position: pos,
		Profile: buffer.Profile{ADU: 40, DLTDays: 10, LeadTimeFactor: 0.5, VariabilityFactor: 0.5, MOQ: 200, OrderCycleDays: 7},
		Zone:    buffer.Yellow, NFP: 580, Armed: false, UpdatedAt: now,
	}
	require.NoError(t, tx.SaveBuffer(ctx, b))
	b.Zone, b.NFP, b.Armed = buffer.Green, 900, true
	require.NoError(t, tx.SaveBuffer(ctx, b))
	got, err := tx.Buffer(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, b, got)
	require.NoError(t, tx.Commit())
	require.NoError(t, s.Read(ctx, func(tx *store.Tx) error {
		all, err := tx.Buffers(ctx, org, store.Page{})
		assert.Equal(t, []store.Buffer{b}, all)
		return err
	}))
}

func TestClosed(t *testing.T) {
	s, tx := open(t)
	tx.Rollback()
	require.NoError(t, s.Close())
	_, err := s.Begin(ctx)
	assert.Error(t, err)
	assert.Error(t, s.Read(ctx, func(*store.Tx) error { return nil }))
	_, err = store.Open(ctx, filepath.Join(t.TempDir(), "no", "dir", "x.db"))
	assert.Error(t, err)
}

func TestOpenDemand(t *testing.T) {
	_, tx := open(t)
	org := uuid.New()
	pos := store.Position{ProductID: uuid.New(), LocationID: uuid.New()}
	today := payload.DateOf(now)
	for i, l := range []struct {
		due         payload.Date
		outstanding float64
	}{{today.AddDays(3), 5}, {today, 7}, {today.AddDays(-1), 0}, {today.AddDays(-2), 2}} {
		require.NoError(t, tx.PutDemand(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: i + 1, Position: pos, DueDate: l.due, Outstanding: l.outstanding}))
	}
	got, err := tx.OpenDemand(ctx, org, pos, today)
	require.NoError(t, err)
	assert.Equal(t, []buffer.Demand{{Outstanding: 2, Due: true}, {Outstanding: 7, Due: true}, {Outstanding: 5, Due: false}}, got,
		"open lines only, by due date, due by today or not")
}

func TestPosition(t *testing.T) {
	_, tx := open(t)
	org := uuid.New()
	pos := store.Position{ProductID: uuid.New(), LocationID: uuid.New()}
	today := payload.DateOf(now)
	_, err := tx.Position(ctx, org, pos, today)
	require.ErrorIs(t, err, store.ErrNotFound, "no buffer")

	b := store.Buffer{
		ID: uuid.New(), Org: org, Position: pos, Zone: buffer.Yellow, NFP: 420, Armed: true, UpdatedAt: now,
		Profile: buffer.Profile{ADU: 40, DLTDays: 10, LeadTimeFactor: 0.5, VariabilityFactor: 0.5, MOQ: 200, OrderCycleDays: 7},
	}
	require.NoError(t, tx.SaveBuffer(ctx, b))
	at, err := tx.Position(ctx, org, pos, today)
	require.ErrorIs(t, err, store.ErrNotFound, "a buffer whose product is unknown")
	assert.Equal(t, b.ID, at.Buffer.ID)

	require.NoError(t, tx.LearnProduct(ctx, org, pos.ProductID, "SKU-1", "EA"))
	require.NoError(t, tx.SetOnHand(ctx, org, pos, 12))
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: 1, Position: pos, Outstanding: 30, Placed: true}))
	require.NoError(t, tx.PutSupply(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: 1, Position: pos, Outstanding: 50, Placed: false}))
	at, err = tx.Position(ctx, org, pos, today)
	require.NoError(t, err)
	want, err := tx.Buffer(ctx, org, pos)
	require.NoError(t, err)
	prod, err := tx.Product(ctx, org, pos.ProductID)
	require.NoError(t, err)
	assert.Equal(t, store.PositionState{Buffer: want, Product: prod, OnHand: 12, OnOrder: 30}, at, "what Buffer, Product, OnHand and OnOrder return; no demand")

	for i, l := range []struct {
		due         payload.Date
		outstanding float64
	}{{today.AddDays(3), 5}, {today, 7}, {today.AddDays(-1), 0}} {
		require.NoError(t, tx.PutDemand(ctx, org, store.OrderLine{OrderID: uuid.New(), LineNumber: i + 1, Position: pos, DueDate: l.due, Outstanding: l.outstanding}))
	}
	at, err = tx.Position(ctx, org, pos, today)
	require.NoError(t, err)
	demand, err := tx.OpenDemand(ctx, org, pos, today)
	require.NoError(t, err)
	assert.Equal(t, []buffer.Demand{{Outstanding: 7, Due: true}, {Outstanding: 5}}, demand)
	assert.Equal(t, store.PositionState{Buffer: want, Product: prod, OnHand: 12, OnOrder: 30, Demand: demand}, at, "and what OpenDemand returns")

	b.Zone, b.NFP, b.Armed, b.UpdatedAt = buffer.Red, 10, false, now.Add(time.Hour)
	require.NoError(t, tx.SaveEvaluation(ctx, b))
	got, err := tx.Buffer(ctx, org, pos)
	require.NoError(t, err)
	assert.Equal(t, b.Zone, got.Zone)
	assert.Equal(t, b.NFP, got.NFP)
	assert.False(t, got.Armed)
	assert.True(t, b.UpdatedAt.Equal(got.UpdatedAt))
	assert.Equal(t, b.Profile, got.Profile, "the profile untouched")
}
