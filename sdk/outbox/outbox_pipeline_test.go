package outbox_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
)

// commitOrder stores an order and its created event in one transaction
// and commits it, without waking the relay. It returns the event id and
// its row's seq.
func commitOrder(t testing.TB, c context.Context, db *sql.DB, o *outbox.Outbox, cat testCatalog) (uuid.UUID, int64) {
	t.Helper()
	tx, err := db.BeginTx(c, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	order := newOrder()
	_, err = tx.ExecContext(c, `INSERT INTO orders (id, sku) VALUES (?, ?)`, order.OrderID.String(), order.SKU)
	require.NoError(t, err)
	id, err := o.Add(c, tx, cat.Subject("orders.created"), order)
	require.NoError(t, err)
	var seq int64
	require.NoError(t, tx.QueryRowContext(c, `SELECT seq FROM `+o.Table()+` WHERE id = ?`, id.String()).Scan(&seq))
	require.NoError(t, tx.Commit())
	return id, seq
}

// outboxIDs returns the outbox's event ids in seq (commit) order.
func outboxIDs(t *testing.T, db *sql.DB, o *outbox.Outbox) []uuid.UUID {
	t.Helper()
	rows, err := db.Query(`SELECT id FROM ` + o.Table() + ` ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	var ids []uuid.UUID
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		ids = append(ids, uuid.MustParse(s))
	}
	require.NoError(t, rows.Err())
	return ids
}

// TestOutboxPublishCommitted: the committing goroutine publishes its rows
// itself when the relay is idle (the relay never reads the table here: it
// polls once an hour and nothing Notifies it); the relay marks them sent.
func TestOutboxPublishCommitted(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1) // as the services
	o, log := newOutbox(t, e, db, outbox.WithPollInterval(time.Hour))
	startRelay(t, o)
	eventually(t, func() bool { _, _, running := outbox.Pipeline(o); return running }, "relay started")

	var want []uuid.UUID
	inline := 0
	for range 20 {
		id, seq := commitOrder(t, ctx(t), db, o, e.Cat)
		want = append(want, id)
		o.PublishCommitted(ctx(t))
		if after, _, _ := outbox.Pipeline(o); after >= seq {
			inline++ // published before PublishCommitted returned
		}
	}
	assert.GreaterOrEqual(t, inline, 10, "most rows leave from the committing goroutine")
	waitStored(t, e, len(want))
	assert.Equal(t, want, storedIDs(t, e), "every event once, in commit order")
	// Marked sent without a Flush, shortly after their acks.
	eventually(t, func() bool { s := o.Stats(); return s.Pending == 0 && s.Sent == int64(len(want)) }, "rows marked sent")
	s := o.Stats()
	assert.Equal(t, uint64(len(want)), s.Published)
	assert.Zero(t, s.Duplicates)
	assert.Zero(t, log.len(), "errors: %v", log.all())
	after, inflight, _ := outbox.Pipeline(o)
	assert.Zero(t, inflight)
	assert.Zero(t, after, "once everything is marked the relay reads from the first pending row again")
}

// TestOutboxPublishCommittedConcurrently: requests committing and
// publishing from many goroutines, with the relay's own reads (Notify)
// mixed in, keep commit order and publish every event once.
func TestOutboxPublishCommittedConcurrently(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1)
	o, log := newOutbox(t, e, db, outbox.WithBatch(8))
	startRelay(t, o)

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				commitOrder(t, ctx(t), db, o, e.Cat)
				if (g+i)%5 == 0 {
					o.Notify()
				} else {
					o.PublishCommitted(ctx(t))
				}
			}
		})
	}
	wg.Wait()
	require.NoError(t, o.Flush(ctx(t)))
	want := outboxIDs(t, db, o)
	require.Len(t, want, 200)
	assert.Equal(t, want, storedIDs(t, e), "every event once, in commit order")
	s := o.Stats()
	assert.Equal(t, [2]int64{0, 200}, [2]int64{s.Pending, s.Sent})
	assert.Zero(t, s.Duplicates, "nothing published twice")
	assert.Zero(t, log.len(), "errors: %v", log.all())
}

// TestOutboxPublishCommittedWithoutRelay: with no relay running it only
// wakes the relay that is not there; the rows wait for the next one.
func TestOutboxPublishCommittedWithoutRelay(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db)
	id, _ := commitOrder(t, ctx(t), db, o, e.Cat)
	o.PublishCommitted(ctx(t))
	assert.Equal(t, int64(1), o.Stats().Pending)
	startRelay(t, o)
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, []uuid.UUID{id}, storedIDs(t, e))
}

// TestOutboxPublishCommittedDuringOutage: while NATS is down the relay
// retries alone; PublishCommitted returns at once and the events go out,
// once each and in order, when NATS is back.
func TestOutboxPublishCommittedDuringOutage(t *testing.T) {
	e := newEnv(t)
	if e.Srv.External() {
		t.Skip("stops the server")
	}
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1)
	pub := e.Publisher(t, "orders", bus.WithPublishTimeout(300*time.Millisecond))
	o, log := newOutboxWith(t, e, db, pub, outbox.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	startRelay(t, o)
	first, _ := commitOrder(t, ctx(t), db, o, e.Cat)
	o.PublishCommitted(ctx(t))
	require.NoError(t, o.Flush(ctx(t)))

	e.Srv.Shutdown()
	want := []uuid.UUID{first}
	var slowest time.Duration
	for range 30 {
		id, _ := commitOrder(t, ctx(t), db, o, e.Cat)
		want = append(want, id)
		t0 := time.Now()
		o.PublishCommitted(ctx(t))
		slowest = max(slowest, time.Since(t0))
		time.Sleep(5 * time.Millisecond)
	}
	assert.Less(t, slowest, 200*time.Millisecond, "never waits for NATS")
	eventually(t, func() bool { return log.len() > 0 }, "the relay noticed the outage")

	e.Srv.Start()
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, want, storedIDs(t, e), "every event once, in commit order")
	s := o.Stats()
	assert.Equal(t, [3]int64{0, int64(len(want)), 0}, [3]int64{s.Pending, s.Sent, int64(s.Failures)})
}

// TestOutboxLateRow: a row that becomes visible after rows of later seq
// (a database with concurrent writers) is published once the relay has
// marked what it published: it then reads from the first pending row.
func TestOutboxLateRow(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db)
	startRelay(t, o)
	_, err := db.Exec(`INSERT INTO sqlite_sequence (name, seq) VALUES (?, 100)`, o.Table())
	require.NoError(t, err)
	var want []uuid.UUID
	for range 2 {
		id, seq := commitOrder(t, ctx(t), db, o, e.Cat)
		require.Greater(t, seq, int64(100))
		want = append(want, id)
		o.PublishCommitted(ctx(t))
	}
	eventually(t, func() bool { return o.Stats().Sent == 2 }, "published and marked")

	// The late row: seq 50, below the rows published.
	late := uuid.New()
	_, err = db.Exec(`INSERT INTO `+o.Table()+` (seq, id, subject, envelope, created_at, attempts)
		SELECT 50, ?, subject, envelope, created_at, 0 FROM `+o.Table()+` WHERE id = ?`, late.String(), want[0].String())
	require.NoError(t, err)
	o.Notify()
	eventually(t, func() bool { return o.Stats().Pending == 0 }, "the late row published and marked")
	waitStored(t, e, 3)
}

// TestOutboxAddThroughAnotherHandle: a transaction of another *sql.DB on
// the same file cannot use the outbox's prepared statement; Add runs its
// SQL as it is then.
func TestOutboxAddThroughAnotherHandle(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(t.TempDir(), "two.db")
	open := func() *sql.DB {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	mine, other := open(), open()
	o, _ := newOutbox(t, e, mine)
	startRelay(t, o)
	tx, err := other.BeginTx(ctx(t), nil)
	require.NoError(t, err)
	id, err := o.Add(ctx(t), tx, e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	o.Notify()
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, []uuid.UUID{id}, storedIDs(t, e))
}
