package delivery_test

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/internal/delivery"
	st "github.com/giia/events/services/internal/servicetest"
	"github.com/giia/events/services/sqlitedb"
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

	_, _, err = delivery.Open(context.Background(), db, pub, nil, outbox.WithBatch(0))
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)

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

// TestPruneInbox: records older than the retention go at once and at
// every interval after; newer ones stay; the loop ends with its context.
func TestPruneInbox(t *testing.T) {
	db, err := sqlitedb.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), "SELECT 1")
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	in, err := outbox.NewInbox(db)
	require.NoError(t, err)
	require.NoError(t, in.Migrate(context.Background()))
	record := func(age time.Duration) {
		_, err := db.Exec(`INSERT INTO giia_inbox (consumer, event_id, processed_at) VALUES ('ddmrp', ?, ?)`,
			uuid.NewString(), time.Now().Add(-age).UnixMilli())
		require.NoError(t, err)
	}
	count := func() int {
		var n int
		require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM giia_inbox`).Scan(&n))
		return n
	}
	record(48 * time.Hour)
	record(time.Minute)
	var logs bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		delivery.PruneInbox(ctx, in, 20*time.Millisecond, 24*time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	}()
	require.Eventually(t, func() bool { return count() == 1 }, 5*time.Second, 5*time.Millisecond, "pruned at once")
	record(72 * time.Hour) // pruned at the next interval
	require.Eventually(t, func() bool { return count() == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	<-done
	assert.Contains(t, logs.String(), "inbox records pruned")

	// A failure is logged, not fatal.
	require.NoError(t, db.Close())
	logs.Reset()
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	delivery.PruneInbox(ctx, in, 10*time.Millisecond, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	assert.Contains(t, logs.String(), "inbox records not pruned")

	assert.Equal(t, events.Catalog.Stream.MaxAge+24*time.Hour, delivery.InboxRetention(events.Catalog.Stream))
}
