package outbox_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
)

// openOutboxDB opens a SQLite database in the test's temporary folder, as the
// services do: WAL, a busy timeout, transactions that take the write lock
// when they begin.
func openOutboxDB(t testing.TB) *sql.DB {
	t.Helper()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "outbox.db")+"?"+q.Encode())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	_, err = db.Exec(`CREATE TABLE orders (id TEXT PRIMARY KEY, sku TEXT NOT NULL)`)
	require.NoError(t, err)
	return db
}

// relayErrors collects what an error handler receives.
type relayErrors struct {
	mu   sync.Mutex
	errs []error
}

func (l *relayErrors) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *relayErrors) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.errs)
}

func (l *relayErrors) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.errs)
}

// newOutbox returns a migrated outbox publishing as "orders", its errors
// collected; fast backoff unless opts say otherwise.
func newOutbox(t *testing.T, e *env, db *sql.DB, opts ...outbox.Option) (*outbox.Outbox, *relayErrors) {
	t.Helper()
	return newOutboxWith(t, e, db, e.Publisher(t, "orders"), opts...)
}

func newOutboxWith(t *testing.T, e *env, db *sql.DB, pub *bus.Publisher, opts ...outbox.Option) (*outbox.Outbox, *relayErrors) {
	t.Helper()
	log := &relayErrors{}
	opts = append([]outbox.Option{outbox.WithErrorHandler(log.add), outbox.WithBackoff(10*time.Millisecond, 100*time.Millisecond)}, opts...)
	o, err := outbox.New(db, pub, opts...)
	require.NoError(t, err)
	require.NoError(t, o.Migrate(ctx(t)))
	require.NoError(t, o.Migrate(ctx(t)), "migrating twice is fine")
	return o, log
}

// start starts o's relay, stopped when the test ends.
func startRelay(t *testing.T, o *outbox.Outbox) {
	t.Helper()
	require.NoError(t, o.Start())
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = o.Stop(c)
	})
}

// placeOrder is a use case: it stores an order and adds its created event
// (and a cancellation when cancel is set) in one transaction, commits and
// notifies the relay. It returns the event ids.
func placeOrder(t testing.TB, c context.Context, db *sql.DB, o *outbox.Outbox, cat testCatalog, cancel bool) []uuid.UUID {
	t.Helper()
	tx, err := db.BeginTx(c, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	order := newOrder()
	_, err = tx.ExecContext(c, `INSERT INTO orders (id, sku) VALUES (?, ?)`, order.OrderID.String(), order.SKU)
	require.NoError(t, err)
	id, err := o.Add(c, tx, cat.Subject("orders.created"), order)
	require.NoError(t, err)
	ids := []uuid.UUID{id}
	if cancel {
		id, err := o.Add(c, tx, cat.Subject("orders.cancelled"), orderCancelled{OrderID: order.OrderID})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.NoError(t, tx.Commit())
	o.Notify()
	return ids
}

// stored returns the messages of the events stream, in stream order.
func stored(t *testing.T, e *env) []*nats.Msg {
	t.Helper()
	s, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	info, err := s.Info(ctx(t))
	require.NoError(t, err)
	var out []*nats.Msg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx(t), seq)
		require.NoError(t, err)
		out = append(out, &nats.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data})
	}
	return out
}

// storedIDs returns the envelope ids of the stream's messages, in order.
func storedIDs(t *testing.T, e *env) []uuid.UUID {
	t.Helper()
	var ids []uuid.UUID
	for _, m := range stored(t, e) {
		var env bus.Envelope
		require.NoError(t, json.Unmarshal(m.Data, &env))
		ids = append(ids, env.ID)
	}
	return ids
}

func waitStored(t *testing.T, e *env, n int) {
	t.Helper()
	eventually(t, func() bool { return e.StreamMsgs(t, e.Cat.Stream.Name) >= uint64(n) }, "%d events stored", n)
}

func TestOutboxPublishesInCommitOrder(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, log := newOutbox(t, e, db)
	startRelay(t, o)

	c := bus.WithCorrelation(ctx(t), uuid.New(), "corr-outbox")
	var want []uuid.UUID
	for i := range 40 {
		want = append(want, placeOrder(t, c, db, o, e.Cat, i%3 == 0)...)
	}
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, want, storedIDs(t, e), "every event once, in commit order")

	msgs := stored(t, e)
	org, _, _ := bus.CorrelationFrom(c)
	for i, m := range msgs {
		assert.Equal(t, want[i].String(), m.Header.Get(nats.MsgIdHdr))
		assert.Equal(t, "orders", m.Header.Get(bus.HeaderSource))
		var env bus.Envelope
		require.NoError(t, json.Unmarshal(m.Data, &env))
		assert.Equal(t, m.Subject, env.Subject)
		assert.Equal(t, "corr-outbox", env.CorrelationID, "correlation from the context of Add")
		assert.Equal(t, org, env.OrganizationID)
		assert.Equal(t, "orders", env.Source)
		wantVersion := "1"
		if env.Subject == e.Cat.Subject("orders.created") {
			wantVersion = "2"
		}
		assert.Equal(t, wantVersion, m.Header.Get(bus.HeaderVersion))
	}
	var orders int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM orders`).Scan(&orders))
	assert.Equal(t, 40, orders, "the state changes committed with their events")

	s := o.Stats()
	require.NoError(t, s.Err)
	assert.Equal(t, int64(0), s.Pending)
	assert.Equal(t, int64(len(want)), s.Sent)
	assert.Equal(t, uint64(len(want)), s.Published)
	assert.Zero(t, s.Duplicates)
	assert.True(t, s.Running)
	assert.Zero(t, log.len(), "errors: %v", log.all())
}

func TestOutboxRollbackPublishesNothing(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db)
	startRelay(t, o)

	tx, err := db.BeginTx(ctx(t), nil)
	require.NoError(t, err)
	_, err = o.Add(ctx(t), tx, e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	require.NoError(t, tx.Rollback())
	o.Notify()

	// A later committed event goes out alone.
	ids := placeOrder(t, ctx(t), db, o, e.Cat, false)
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, ids, storedIDs(t, e))
	s := o.Stats()
	assert.Equal(t, [2]int64{0, 1}, [2]int64{s.Pending, s.Sent})
}

func TestOutboxRefusesBadEvents(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db)

	tx, err := db.BeginTx(ctx(t), nil)
	require.NoError(t, err)
	defer tx.Rollback()
	created := e.Cat.Subject("orders.created")

	_, err = o.Add(ctx(t), tx, created, orderCreated{OrderID: uuid.New(), SKU: "", Quantity: 0})
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.Equal(t, created, ve.Subject)
	var pointers []string
	for _, v := range ve.Violations {
		pointers = append(pointers, v.Pointer)
	}
	assert.ElementsMatch(t, []string{"/sku", "/quantity"}, pointers)

	_, err = o.Add(ctx(t), tx, created, []int{1})
	assert.ErrorIs(t, err, bus.ErrInvalidPayload, "not an object")
	_, err = o.Add(ctx(t), tx, e.Cat.Subject("orders.unknown"), newOrder())
	assert.ErrorIs(t, err, bus.ErrUnknownSubject)
	_, err = o.Add(ctx(t), tx, e.Cat.Subject("stock.adjusted"), stockAdjusted{SKU: "A", Delta: 1})
	assert.ErrorIs(t, err, bus.ErrNotPublisher)
	_, err = o.Add(ctx(t), tx, created, newOrder(), bus.WithEventID(uuid.Nil))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = o.Add(ctx(t), nil, created, newOrder())
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)

	// A repeated event id is the database's refusal.
	id := uuid.New()
	got, err := o.Add(ctx(t), tx, created, newOrder(), bus.WithEventID(id))
	require.NoError(t, err)
	assert.Equal(t, id, got)
	_, err = o.Add(ctx(t), tx, created, newOrder(), bus.WithEventID(id))
	assert.ErrorContains(t, err, id.String())
	require.NoError(t, tx.Commit())

	s := o.Stats()
	assert.Equal(t, int64(1), s.Pending, "only the valid event was stored")
}

// TestOutboxBrokerDown adds events while the NATS server is down: Add
// never waits for NATS, the relay retries, and once the server is back
// every event is stored once, in commit order.
func TestOutboxBrokerDown(t *testing.T) {
	e := newEnv(t)
	if e.Srv.External() {
		t.Skip("stops the server")
	}
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1) // as the services: requests and relay share one connection
	// An attempt made while disconnected waits for its timeout (the client
	// buffers the message until it reconnects): 1s here, not 5s.
	pub := e.Publisher(t, "orders", bus.WithPublishTimeout(time.Second))
	o, log := newOutboxWith(t, e, db, pub, outbox.WithBackoff(50*time.Millisecond, 2*time.Second))
	startRelay(t, o)
	placeOrder(t, ctx(t), db, o, e.Cat, false)
	require.NoError(t, o.Flush(ctx(t)))

	e.Srv.Shutdown()
	var want []uuid.UUID
	var lat []time.Duration
	for i := range 200 {
		t0 := time.Now()
		want = append(want, placeOrder(t, ctx(t), db, o, e.Cat, i%10 == 0)...)
		lat = append(lat, time.Since(t0))
	}
	p50, p99 := outboxPercentile(lat, 50), outboxPercentile(lat, 99)
	t.Logf("outbox_add_p50_ms: %.3f", outboxMs(p50))
	t.Logf("outbox_add_p99_ms: %.3f", outboxMs(p99))
	t.Logf("outbox_add_max_ms: %.3f", outboxMs(slices.Max(lat)))
	assert.Less(t, slices.Max(lat), time.Second, "a transaction with its events never waits for NATS")

	eventually(t, func() bool { return o.Stats().Failures > 0 }, "the relay noticed the outage")
	var attempts int
	var lastErr sql.NullString
	require.NoError(t, db.QueryRow(`SELECT attempts, last_error FROM giia_outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1`).Scan(&attempts, &lastErr))
	assert.GreaterOrEqual(t, attempts, 1)
	assert.True(t, lastErr.Valid, "the failed attempt is recorded in the row")
	s := o.Stats()
	assert.Equal(t, int64(len(want)), s.Pending)
	var pe *bus.PublishError
	require.ErrorAs(t, s.LastError, &pe)
	assert.ErrorIs(t, s.LastError, bus.ErrPublishFailed)
	assert.False(t, s.LastErrorAt.IsZero())

	restarted := time.Now()
	e.Srv.Start()
	require.NoError(t, o.Flush(ctx(t)))
	t.Logf("outbox_drain_after_restart_ms: %.1f", outboxMs(time.Since(restarted)))
	ids := storedIDs(t, e)
	require.Len(t, ids, len(want)+1)
	assert.Equal(t, want, ids[1:], "every event once, in commit order")
	s = o.Stats()
	assert.Equal(t, [3]int64{0, int64(len(want) + 1), 0}, [3]int64{s.Pending, s.Sent, int64(s.Failures)})
	assert.Positive(t, log.len())
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM giia_outbox WHERE last_error IS NOT NULL`).Scan(&attempts))
	assert.Zero(t, attempts, "a row sent has no error")
}

// TestOutboxRepublishesAfterCrash: rows published but not marked sent (the
// process died between the ack and the update; here the update fails) are
// published again by the next relay with the same ids, and the stream
// keeps each once.
func TestOutboxRepublishesAfterCrash(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, log := newOutbox(t, e, db)
	var want []uuid.UUID
	for range 5 {
		want = append(want, placeOrder(t, ctx(t), db, o, e.Cat, true)...)
	}
	_, err := db.Exec(`CREATE TRIGGER crash BEFORE UPDATE OF sent_at ON giia_outbox BEGIN SELECT RAISE(ABORT, 'crashed before marking sent'); END`)
	require.NoError(t, err)
	require.NoError(t, o.Start())
	eventually(t, func() bool { return o.Stats().Published >= uint64(2*len(want)) }, "published at least twice over")
	short, cancel := context.WithTimeout(ctx(t), 50*time.Millisecond)
	defer cancel()
	err = o.Stop(short)
	require.ErrorIs(t, err, outbox.ErrPending)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, want, storedIDs(t, e), "stored once however often published")
	assert.ErrorContains(t, o.Stats().LastError, "crashed before marking sent")
	assert.Positive(t, log.len())
	assert.Equal(t, int64(len(want)), o.Stats().Pending)

	// The next run of the process.
	_, err = db.Exec(`DROP TRIGGER crash`)
	require.NoError(t, err)
	again, _ := newOutbox(t, e, db)
	startRelay(t, again)
	require.NoError(t, again.Flush(ctx(t)))
	assert.Equal(t, want, storedIDs(t, e))
	s := again.Stats()
	assert.Equal(t, uint64(len(want)), s.Duplicates, "each republished row was a duplicate")
	assert.Equal(t, [2]int64{0, int64(len(want))}, [2]int64{s.Pending, s.Sent})
}

func TestOutboxPrunesSentRows(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db, outbox.WithRetention(20*time.Millisecond), outbox.WithPollInterval(10*time.Millisecond))
	startRelay(t, o)
	ids := placeOrder(t, ctx(t), db, o, e.Cat, true)
	require.NoError(t, o.Flush(ctx(t)))
	eventually(t, func() bool { s := o.Stats(); return s.Sent == 0 && s.Pending == 0 }, "sent rows pruned")
	assert.Equal(t, ids, storedIDs(t, e))

	// Within the retention period rows stay.
	keep, _ := newOutbox(t, e, db, outbox.WithTable("kept_outbox"))
	startRelay(t, keep)
	placeOrder(t, ctx(t), db, keep, e.Cat, false)
	require.NoError(t, keep.Flush(ctx(t)))
	assert.Equal(t, int64(1), keep.Stats().Sent)
	assert.Equal(t, "kept_outbox", keep.Table())
}

// TestOutboxBatches: a backlog larger than a batch, and batches cut short
// by the mark interval, still leave in order.
func TestOutboxBatches(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	o, _ := newOutbox(t, e, db, outbox.WithBatch(3), outbox.WithMarkEvery(time.Nanosecond))
	var want []uuid.UUID
	for range 10 {
		want = append(want, placeOrder(t, ctx(t), db, o, e.Cat, false)...)
	}
	c, cancel := context.WithCancel(ctx(t))
	done := make(chan error)
	go func() { done <- o.Run(c) }()
	require.NoError(t, o.Flush(ctx(t)))
	assert.ErrorIs(t, o.Run(ctx(t)), outbox.ErrRunning)
	assert.ErrorIs(t, o.Start(), outbox.ErrRunning)
	assert.NoError(t, o.Stop(ctx(t)), "Stop leaves a relay it did not start alone")
	cancel()
	require.NoError(t, <-done)
	assert.False(t, o.Stats().Running)
	assert.Equal(t, want, storedIDs(t, e))
}

// TestOutboxWithoutTable: a relay started before the table exists reports
// it and recovers once it does.
func TestOutboxWithoutTable(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	log := &relayErrors{}
	o, err := outbox.New(db, e.Publisher(t, "orders"), outbox.WithErrorHandler(log.add), outbox.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	startRelay(t, o)
	eventually(t, func() bool { return log.len() > 0 }, "the missing table reported")
	assert.ErrorContains(t, log.all()[0], "giia_outbox")
	require.NoError(t, o.Migrate(ctx(t)))
	ids := placeOrder(t, ctx(t), db, o, e.Cat, false)
	require.NoError(t, o.Flush(ctx(t)))
	assert.Equal(t, ids, storedIDs(t, e))
}

// TestOutboxLogger: without an error handler, the relay's failures go to
// the logger given, not to slog.Default.
func TestOutboxLogger(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	var logs syncBuffer
	o, err := outbox.New(db, e.Publisher(t, "orders"), outbox.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))), outbox.WithBackoff(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	startRelay(t, o)
	eventually(t, func() bool { return strings.Contains(logs.String(), `"msg":"outbox relay"`) }, "the missing table logged")
	assert.Contains(t, logs.String(), `"level":"WARN"`)
	assert.Contains(t, logs.String(), "giia_outbox")
}

// syncBuffer is a bytes.Buffer safe for the relay's goroutine and the
// test's.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestOutboxErrors(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	pub := e.Publisher(t, "orders")
	for name, opt := range map[string]outbox.Option{
		"table":     outbox.WithTable("giia outbox; DROP TABLE orders"),
		"digit":     outbox.WithTable("1outbox"),
		"batch":     outbox.WithBatch(0),
		"poll":      outbox.WithPollInterval(0),
		"backoff":   outbox.WithBackoff(time.Second, time.Millisecond),
		"zero":      outbox.WithBackoff(0, time.Second),
		"mark":      outbox.WithMarkEvery(0),
		"retention": outbox.WithRetention(-time.Second),
		"handler":   outbox.WithErrorHandler(nil),
		"logger":    outbox.WithLogger(nil),
	} {
		_, err := outbox.New(db, pub, opt)
		assert.ErrorIs(t, err, outbox.ErrInvalidOption, name)
	}
	_, err := outbox.New(nil, pub)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)
	_, err = outbox.New(db, nil)
	assert.ErrorIs(t, err, outbox.ErrInvalidOption)

	o, err := outbox.New(db, pub)
	require.NoError(t, err)
	assert.Equal(t, outbox.DefaultTable, o.Table())
	assert.NoError(t, o.Stop(ctx(t)), "nothing to stop")
	require.NoError(t, o.Migrate(ctx(t)))
	assert.NoError(t, o.Flush(ctx(t)), "nothing pending")
	placeOrder(t, ctx(t), db, o, e.Cat, false)
	short, cancel := context.WithTimeout(ctx(t), 20*time.Millisecond)
	defer cancel()
	err = o.Flush(short)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "no relay runs")
	assert.ErrorContains(t, err, "1 events still pending")

	require.NoError(t, db.Close())
	assert.Error(t, o.Migrate(ctx(t)))
	assert.Error(t, o.Flush(ctx(t)))
	s := o.Stats()
	assert.Error(t, s.Err)
	assert.Equal(t, int64(-1), s.Pending)
}

// TestOutboxConsumerReaction: a consumer's handler records its change,
// the event's id and the events it causes in one transaction (inbox and
// outbox); a redelivered event changes nothing and publishes nothing.
func TestOutboxConsumerReaction(t *testing.T) {
	e := newEnv(t)
	db := openOutboxDB(t)
	log := &relayErrors{}
	o, err := outbox.New(db, e.Publisher(t, "stock"), outbox.WithErrorHandler(log.add))
	require.NoError(t, err)
	require.NoError(t, o.Migrate(ctx(t)))
	startRelay(t, o)
	in, err := outbox.NewInbox(db, outbox.WithNotify(o))
	require.NoError(t, err)
	require.NoError(t, in.Migrate(ctx(t)))
	_, err = db.Exec(`CREATE TABLE stock (sku TEXT PRIMARY KEY, reserved INTEGER NOT NULL)`)
	require.NoError(t, err)

	adjusted := &recorder[stockAdjusted]{}
	e.Consume(t, "orders", []bus.Route{bus.NewRoute(e.Cat.Subject("stock.adjusted"), adjusted.Handler)})
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"),
		outbox.Idempotent(in, "stock", func(c context.Context, tx *sql.Tx, ev bus.Event[orderCreated]) error {
			if _, err := tx.ExecContext(c, `INSERT INTO stock (sku, reserved) VALUES (?, ?) ON CONFLICT (sku) DO UPDATE SET reserved = reserved + excluded.reserved`,
				ev.Payload.SKU, ev.Payload.Quantity); err != nil {
				return err
			}
			_, err := o.Add(c, tx, e.Cat.Subject("stock.adjusted"), stockAdjusted{SKU: ev.Payload.SKU, Delta: -ev.Payload.Quantity})
			return err
		}))})

	// One event, stored twice under different message ids (a publisher
	// retrying outside the duplicates window).
	order := newOrder()
	data, err := json.Marshal(order)
	require.NoError(t, err)
	envelope := bus.Envelope{ID: uuid.New(), Subject: e.Cat.Subject("orders.created"), CorrelationID: "twice",
		Timestamp: time.Now().UTC(), Source: "orders", Version: 2, Payload: data}
	body, err := json.Marshal(envelope)
	require.NoError(t, err)
	for range 2 {
		msg := nats.NewMsg(envelope.Subject)
		msg.Data = body
		msg.Header.Set(nats.MsgIdHdr, uuid.NewString())
		_, err := e.Conn.JetStream().PublishMsg(ctx(t), msg)
		require.NoError(t, err)
	}
	eventually(t, func() bool { return len(adjusted.Got()) == 1 }, "the reaction published")
	eventually(t, func() bool {
		return e.ConsumerInfo(t, e.Durable(t, "stock", e.Cat.Subject("orders.created"))).AckFloor.Stream >= 2
	}, "both deliveries acknowledged")
	require.NoError(t, o.Flush(ctx(t)))
	var reserved int64
	require.NoError(t, db.QueryRow(`SELECT reserved FROM stock WHERE sku = ?`, order.SKU).Scan(&reserved))
	assert.Equal(t, order.Quantity, reserved, "applied once")
	got := adjusted.Got()
	require.Len(t, got, 1, "published once")
	assert.Equal(t, "twice", got[0].CorrelationID, "the reaction keeps the correlation")
	assert.Equal(t, -order.Quantity, got[0].Payload.Delta)
	processed, err := in.Processed(ctx(t), "stock", envelope.ID)
	require.NoError(t, err)
	assert.True(t, processed)
	assert.Zero(t, log.len())
}

// TestOutboxFigures measures Add's latency and how fast the relay drains
// a backlog with the synchronous publisher; it prints name: value lines.
// The backlog is 20,000 rows (2,000 under the race detector); -short
// skips it.
func TestOutboxFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("figures")
	}
	e := newEnv(t)
	db := openOutboxDB(t)
	db.SetMaxOpenConns(1)
	o, _ := newOutbox(t, e, db)
	backlog := 20000
	if outboxUnderRace {
		backlog = 2000
	}
	c := ctx(t)
	lat := make([]time.Duration, 0, backlog)
	const perTx = 50
	for done := 0; done < backlog; done += perTx {
		tx, err := db.BeginTx(c, nil)
		require.NoError(t, err)
		for range perTx {
			t0 := time.Now()
			_, err := o.Add(c, tx, e.Cat.Subject("orders.created"), newOrder())
			lat = append(lat, time.Since(t0))
			require.NoError(t, err)
		}
		require.NoError(t, tx.Commit())
	}
	t0 := time.Now()
	startRelay(t, o)
	long, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, o.Flush(long))
	drain := time.Since(t0)
	waitStored(t, e, backlog)
	fmt.Printf("outbox_add_p50_us: %.1f\n", float64(outboxPercentile(lat, 50).Nanoseconds())/1e3)
	fmt.Printf("outbox_add_p99_us: %.1f\n", float64(outboxPercentile(lat, 99).Nanoseconds())/1e3)
	fmt.Printf("outbox_backlog_rows: %d\n", backlog)
	fmt.Printf("outbox_drain_ms: %.0f\n", outboxMs(drain))
	fmt.Printf("outbox_drain_rows_per_s: %.0f\n", float64(backlog)/drain.Seconds())
	fmt.Printf("outbox_race_detector: %t\n", outboxUnderRace)
}

func outboxPercentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

func outboxMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// outboxUnderRace reports whether the test binary runs under the race
// detector, which slows everything several times over.
var outboxUnderRace = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}()
