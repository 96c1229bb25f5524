package outbox_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
)

func migratedInbox(t *testing.T, db *sql.DB, opts ...outbox.InboxOption) *outbox.Inbox {
	t.Helper()
	in, err := outbox.NewInbox(db, opts...)
	require.NoError(t, err)
	require.NoError(t, in.Migrate(ctx(t)))
	require.NoError(t, in.Migrate(ctx(t)), "migrating twice is fine")
	_, err = db.Exec(`CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, n INTEGER NOT NULL)`)
	require.NoError(t, err)
	return in
}

// bump is a state change: it adds one to the named counter.
func bumpCounter(c context.Context, tx *sql.Tx, name string) error {
	_, err := tx.ExecContext(c, `INSERT INTO counter (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1`, name)
	return err
}

func counterValue(t *testing.T, db *sql.DB, name string) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT n FROM counter WHERE name = ?`, name).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0
	}
	require.NoError(t, err)
	return n
}

func TestInboxAppliesOnce(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	id := uuid.New()
	apply := func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "a") }

	applied, err := in.Process(ctx(t), "stock", id, apply)
	require.NoError(t, err)
	assert.True(t, applied)
	applied, err = in.Process(ctx(t), "stock", id, func(*sql.Tx) error {
		t.Error("an event already processed is not handled again")
		return nil
	})
	require.NoError(t, err)
	assert.False(t, applied)
	assert.Equal(t, 1, counterValue(t, db, "a"))

	// Another consumer of the same event applies it for itself.
	applied, err = in.Process(ctx(t), "analytics", id, apply)
	require.NoError(t, err)
	assert.True(t, applied)
	assert.Equal(t, 2, counterValue(t, db, "a"))

	for _, c := range []string{"stock", "analytics"} {
		ok, err := in.Processed(ctx(t), c, id)
		require.NoError(t, err)
		assert.True(t, ok, c)
	}
	ok, err := in.Processed(ctx(t), "orders", id)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestInboxHandlerFailureRecordsNothing(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db, outbox.WithInboxTable("processed"))
	assert.Equal(t, "processed", in.Table())
	id := uuid.New()
	boom := errors.New("boom")

	applied, err := in.Process(ctx(t), "stock", id, func(tx *sql.Tx) error {
		require.NoError(t, bumpCounter(ctx(t), tx, "b"))
		return boom
	})
	assert.ErrorIs(t, err, boom, "the handler's error, as is")
	assert.False(t, applied)
	assert.Zero(t, counterValue(t, db, "b"), "the state change rolled back")
	ok, err := in.Processed(ctx(t), "stock", id)
	require.NoError(t, err)
	assert.False(t, ok, "not recorded")

	// A panic rolls back too.
	assert.Panics(t, func() {
		_, _ = in.Process(ctx(t), "stock", id, func(tx *sql.Tx) error {
			require.NoError(t, bumpCounter(ctx(t), tx, "b"))
			panic("handler bug")
		})
	})
	assert.Zero(t, counterValue(t, db, "b"))

	// Delivered again, it applies.
	applied, err = in.Process(ctx(t), "stock", id, func(tx *sql.Tx) error { return bumpCounter(ctx(t), tx, "b") })
	require.NoError(t, err)
	assert.True(t, applied)
	assert.Equal(t, 1, counterValue(t, db, "b"))
}

func TestIdempotentHandler(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	calls := 0
	h := outbox.Idempotent(in, "stock", func(c context.Context, tx *sql.Tx, ev bus.Event[orderCreated]) error {
		calls++
		if ev.Payload.Quantity < 0 {
			return errors.New("negative")
		}
		return bumpCounter(c, tx, ev.Payload.SKU)
	})
	ev := bus.Event[orderCreated]{Metadata: bus.Metadata{ID: uuid.New()}, Payload: newOrder()}
	require.NoError(t, h(ctx(t), ev))
	require.NoError(t, h(ctx(t), ev), "redelivered: acknowledged")
	assert.Equal(t, 1, calls)
	assert.Equal(t, 1, counterValue(t, db, ev.Payload.SKU))

	bad := bus.Event[orderCreated]{Metadata: bus.Metadata{ID: uuid.New()}, Payload: orderCreated{SKU: "X", Quantity: -1}}
	assert.Error(t, h(ctx(t), bad))
	assert.Error(t, h(ctx(t), bad), "not recorded: tried again")
	assert.Equal(t, 3, calls)
}

func TestInboxPrune(t *testing.T) {
	db := openOutboxDB(t)
	in := migratedInbox(t, db)
	for range 3 {
		_, err := in.Process(ctx(t), "stock", uuid.New(), func(*sql.Tx) error { return nil })
		require.NoError(t, err)
	}
	n, err := in.Prune(ctx(t), time.Hour)
	require.NoError(t, err)
	assert.Zero(t, n, "recent records stay")
	n, err = in.Prune(ctx(t), -time.Second)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
}

func TestInboxErrors(t *testing.T) {
	db := openOutboxDB(t)
	_, err := outbox.NewInbox(nil)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = outbox.NewInbox(db, outbox.WithInboxTable("inbox-1"))
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = outbox.NewInbox(db, outbox.WithNotify(nil))
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)

	in := migratedInbox(t, db)
	assert.Equal(t, outbox.DefaultInboxTable, in.Table())
	nop := func(*sql.Tx) error { return nil }
	_, err = in.Process(ctx(t), "", uuid.New(), nop)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = in.Process(ctx(t), "stock", uuid.Nil, nop)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = in.Process(ctx(t), "stock", uuid.New(), nil)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)

	// A record that cannot be written, a commit that fails.
	_, err = db.Exec(`CREATE TRIGGER refuse BEFORE INSERT ON giia_inbox WHEN NEW.consumer = 'refused' BEGIN SELECT RAISE(ABORT, 'refused'); END`)
	require.NoError(t, err)
	_, err = in.Process(ctx(t), "refused", uuid.New(), nop)
	assert.ErrorContains(t, err, "refused")
	c, cancel := context.WithCancel(ctx(t))
	id := uuid.New()
	_, err = in.Process(c, "stock", id, func(*sql.Tx) error { cancel(); return nil })
	assert.ErrorContains(t, err, "commit", "context canceled, or the transaction already rolled back because of it")
	ok, err := in.Processed(ctx(t), "stock", id)
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, db.Close())
	_, err = in.Process(ctx(t), "stock", uuid.New(), nop)
	assert.ErrorContains(t, err, "begin")
	assert.Error(t, in.Migrate(ctx(t)))
	_, err = in.Processed(ctx(t), "stock", uuid.New())
	assert.Error(t, err)
	_, err = in.Prune(ctx(t), time.Hour)
	assert.Error(t, err)
}
