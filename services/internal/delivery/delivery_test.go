package delivery_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/internal/delivery"
	st "github.com/giia/events/services/internal/servicetest"
	"github.com/giia/events/services/internal/sqlitedb"
)

func TestOpenAndStop(t *testing.T) {
	env := st.New(t)
	db, err := sqlitedb.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), "SELECT 1")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	conn, err := bus.Connect(env.Server.URL())
	require.NoError(t, err)
	pub, err := bus.NewPublisher(conn, events.Catalog, events.ServiceExecution)
	require.NoError(t, err)

	_, _, err = delivery.Open(context.Background(), db, pub, nil, bus.WithOutboxBatch(0))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	out, in, err := delivery.Open(context.Background(), db, pub, log)
	require.NoError(t, err)
	require.NotNil(t, in)
	require.NoError(t, out.Start())
	require.NoError(t, delivery.Stop(context.Background(), out, log), "nothing pending")

	// Pending events that cannot leave (the connection is gone) are left
	// for the next start, and logged.
	require.NoError(t, out.Start())
	require.NoError(t, conn.Close())
	tx, err := db.Begin()
	require.NoError(t, err)
	_, err = out.Add(env.Ctx(), tx, events.SubjectExecutionInventoryUpdated, events.InventoryUpdated{})
	require.Error(t, err, "an empty payload breaks its schema")
	require.NoError(t, tx.Rollback())
	_, err = db.Exec(`INSERT INTO giia_outbox (id, subject, envelope, created_at) VALUES ('6f1c1f4e-58e4-4bde-9c2b-3e3f1d6f9b01', 'execution.inventory.updated', '{}', 0)`)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.NoError(t, delivery.Stop(ctx, out, log))
	assert.Contains(t, logs.String(), "events left in the outbox for the next start")
	assert.Contains(t, logs.String(), "pending=1")
}

func TestOpenFailures(t *testing.T) {
	env := st.New(t)
	conn, err := bus.Connect(env.Server.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	pub, err := bus.NewPublisher(conn, events.Catalog, events.ServiceDDMRP)
	require.NoError(t, err)
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "closed.db"))
	require.NoError(t, err)
	require.NoError(t, db.Close())
	_, _, err = delivery.Open(context.Background(), db, pub, nil)
	assert.ErrorContains(t, err, "ddmrp")
}
