package bus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Errors of the outbox.
var (
	// ErrOutboxRunning: Run or Start was called while the outbox's relay
	// was already running.
	ErrOutboxRunning = errors.New("bus: outbox relay already running")

	// ErrOutboxPending: Stop's context ended before every pending row was
	// published. Nothing is lost: the rows stay in the table and the next
	// relay publishes them.
	ErrOutboxPending = errors.New("bus: outbox rows still pending")
)

// Outbox is a transactional outbox: a service writes its state change and
// the events it causes in one database transaction (Add), and a relay
// (Run, or Start and Stop) publishes the committed events afterwards, in
// commit order, with Nats-Msg-Id = the envelope id, marking each sent once
// the stream acknowledged it. A change is therefore never committed without
// its events, nor an event published for a change that rolled back, and a
// request never waits for NATS: Add only inserts a row. While NATS is
// unreachable the relay retries with a growing delay (50ms doubling to 2s
// by default); the rows wait in the table, across restarts of the process.
//
// A service adds its events through the typed facade eventgen generates
// for it (events.ExecutionOutbox: one method per event the service owns,
// so the compiler ties each payload to its event and refuses another
// service's) rather than through Add:
//
//	typed, err := events.NewExecutionOutbox(outbox) // refuses another service's outbox
//	...
//	tx, _ := db.BeginTx(ctx, nil)
//	... the state change ...
//	if _, err := typed.PurchaseOrderCreated(ctx, tx, payload); err != nil {
//		return err // a *ValidationError when the payload breaks its schema
//	}
//	if err := tx.Commit(); err != nil { return err }
//	outbox.Notify() // the relay publishes at once instead of at its next poll
//
// # Database
//
// The outbox works on database/sql. Its statements are portable SQL with
// "?" placeholders (SQLite, MySQL; for PostgreSQL use a driver or wrapper
// that accepts them). Migrate creates the table in SQLite's dialect
// (giia_outbox: seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE,
// subject TEXT, envelope BLOB, created_at INTEGER, sent_at INTEGER NULL,
// attempts INTEGER, last_error TEXT NULL; times in Unix milliseconds);
// elsewhere create the equivalent yourself. seq is the publishing order.
// With SQLite (one writer at a time) insertion order is commit order. On a
// database with concurrent writers a transaction that inserted first may
// commit last; its rows are published as soon as they are visible, so
// after rows of later seq: serialise the writers if strict order matters.
// Run one relay per table. With modernc.org/sqlite open the database with
// _txlock=immediate and a busy_timeout, and keep transactions short: the
// relay shares the database with the requests.
//
// # Duplicates window
//
// Publishing twice with the same Nats-Msg-Id stores the event once only
// inside the stream's duplicates window (the catalog's stream.duplicates,
// 2m). The relay publishes a row again whenever it cannot know it was
// stored: the acknowledgement was lost, the attempt timed out while the
// message still reached the stream, the row was acknowledged but the
// process stopped before marking it sent (marking happens at most every
// WithOutboxMarkEvery, 1s). Two stores of one row are at most
//
//	2*T + B + M + R
//
// apart, where T is the publisher's attempt timeout (WithPublishTimeout,
// 5s), B the relay's longest backoff (WithOutboxBackoff, 2s), M the mark
// interval (1s) and R the longest interruption to cover: a NATS outage, or
// the time for a crashed process to restart and run its relay. (The first
// copy can be stored as an attempt starts and that attempt still time
// out, T; the relay waits B; the next attempt can be stored as it times
// out, T; acknowledged rows wait up to M to be marked; an interruption
// adds R. Copies the NATS client buffered while disconnected are sent on
// reconnect, inside R.) The window must be at least that: with the
// defaults 13s + R <= 2m, so outages and restarts of up to 107s are
// deduplicated by the stream. Beyond that the stream may hold an event
// twice, under one envelope id; an idempotent consumer (Inbox) applies it
// once.
//
// # Failures
//
// A row that cannot be published stops the rows after it (commit order is
// kept): the relay retries it with backoff, reports each failure to
// WithOutboxErrorHandler and keeps it in Stats, records the attempt count
// and the last error in the row, and goes on once it passes. A permanent
// refusal (ErrPermissionDenied, a message over the server's limit) blocks
// the outbox until it is fixed; the error says which row.
type Outbox struct {
	db   *sql.DB
	pub  *Publisher
	opts outboxOptions
	q    outboxSQL

	wake chan struct{} // Notify

	stopMu sync.Mutex // one Stop at a time
	mu     sync.Mutex
	run    *relayRun     // the relay running, nil when none
	roundC chan struct{} // closed and replaced when a round marked rows sent
	failN  int
	last   error
	lastAt time.Time

	published  atomic.Uint64
	duplicates atomic.Uint64
}

// relayRun is one running relay.
type relayRun struct {
	cancel context.CancelFunc // nil for Run: the caller's context stops it
	done   chan struct{}
}

// outboxSQL holds the outbox's statements for its table.
type outboxSQL struct {
	create, index, insert, pending, markSentHead, markFailed string
	prune, counts, maxPending, pendingUpTo                   string
}

func newOutboxSQL(t string) outboxSQL {
	return outboxSQL{
		create: `CREATE TABLE IF NOT EXISTS ` + t + ` (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	id         TEXT NOT NULL UNIQUE,
	subject    TEXT NOT NULL,
	envelope   BLOB NOT NULL,
	created_at INTEGER NOT NULL,
	sent_at    INTEGER,
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT
)`,
		index:        `CREATE INDEX IF NOT EXISTS ` + t + `_pending ON ` + t + ` (sent_at, seq)`,
		insert:       `INSERT INTO ` + t + ` (id, subject, envelope, created_at, attempts) VALUES (?, ?, ?, ?, 0)`,
		pending:      `SELECT seq, id, subject, envelope, attempts FROM ` + t + ` WHERE sent_at IS NULL ORDER BY seq LIMIT ?`,
		markSentHead: `UPDATE ` + t + ` SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE seq IN (`,
		markFailed:   `UPDATE ` + t + ` SET attempts = attempts + 1, last_error = ? WHERE seq = ?`,
		prune:        `DELETE FROM ` + t + ` WHERE sent_at IS NOT NULL AND sent_at < ?`,
		counts:       `SELECT COUNT(*) - COUNT(sent_at), COUNT(sent_at) FROM ` + t,
		maxPending:   `SELECT MAX(seq) FROM ` + t + ` WHERE sent_at IS NULL`,
		pendingUpTo:  `SELECT COUNT(*) FROM ` + t + ` WHERE sent_at IS NULL AND seq <= ?`,
	}
}

// NewOutbox returns an outbox on db whose relay publishes with pub; pub's
// service is the one whose events Add accepts. Call Migrate once before
// use (or create the table yourself), then start the relay. A nil db or
// pub, or a bad option, returns an error wrapping ErrInvalidOption.
func NewOutbox(db *sql.DB, pub *Publisher, opts ...OutboxOption) (*Outbox, error) {
	if db == nil || pub == nil {
		return nil, fmt.Errorf("%w: nil database or publisher", ErrInvalidOption)
	}
	o := defaultOutboxOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Outbox{
		db:     db,
		pub:    pub,
		opts:   o,
		q:      newOutboxSQL(o.table),
		wake:   make(chan struct{}, 1),
		roundC: make(chan struct{}),
	}, nil
}

// Table returns the name of the outbox's table.
func (o *Outbox) Table() string { return o.opts.table }

// Service returns the name of the service whose events the outbox
// accepts: its publisher's.
func (o *Outbox) Service() string { return o.pub.Service() }

// Migrate creates the outbox's table and its index when they do not exist
// (SQLite dialect; see Outbox).
func (o *Outbox) Migrate(ctx context.Context) error {
	for _, q := range []string{o.q.create, o.q.index} {
		if _, err := o.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bus: outbox: migrate %s: %w", o.opts.table, err)
		}
	}
	return nil
}

// Add checks payload against the schema of the event at subject, wraps it
// in an envelope exactly as Publisher.Publish would (the correlation and
// organization from ctx, see WithCorrelation, unless opts set them) and
// inserts it into tx, the caller's transaction, to be published once tx
// commits. It returns the event id. Nothing touches NATS: call Notify after
// the commit so that the relay publishes at once.
//
// Errors, with nothing stored: ErrInvalidOption (a nil tx, a bad
// PublishOption), ErrUnknownSubject, ErrNotPublisher, a *ValidationError
// (ErrInvalidPayload) for a payload that breaks its schema, and the
// database's error (say a repeated WithEventID) wrapped.
func (o *Outbox) Add(ctx context.Context, tx *sql.Tx, subject string, payload any, opts ...PublishOption) (uuid.UUID, error) {
	if tx == nil {
		return uuid.Nil, fmt.Errorf("%w: nil transaction", ErrInvalidOption)
	}
	env, body, err := o.pub.encode(ctx, subject, payload, opts)
	if err != nil {
		return uuid.Nil, err
	}
	if _, err := tx.ExecContext(ctx, o.q.insert, env.ID.String(), subject, body, time.Now().UnixMilli()); err != nil {
		return uuid.Nil, fmt.Errorf("bus: outbox: store %s event %s: %w", subject, env.ID, err)
	}
	return env.ID, nil
}

// Notify wakes the relay, to publish rows just committed without waiting
// for its next poll. It never blocks; calling it with no relay running,
// or before the commit, is harmless.
func (o *Outbox) Notify() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run runs the relay until ctx ends, then returns nil; see Outbox for what
// it does. It returns ErrOutboxRunning at once if a relay of this Outbox
// already runs (Run or Start).
func (o *Outbox) Run(ctx context.Context) error {
	r := &relayRun{done: make(chan struct{})}
	if err := o.begin(r); err != nil {
		return err
	}
	defer o.end(r)
	o.relay(ctx)
	return nil
}

// Start runs the relay in a goroutine until Stop. It returns
// ErrOutboxRunning if a relay of this Outbox already runs.
func (o *Outbox) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	r := &relayRun{cancel: cancel, done: make(chan struct{})}
	if err := o.begin(r); err != nil {
		cancel()
		return err
	}
	go func() {
		defer o.end(r)
		o.relay(ctx)
	}()
	return nil
}

// Stop waits until every row committed before the call is published (see
// Flush), then stops the relay started by Start and waits for it to
// return. If ctx ends first, it stops the relay anyway and returns an
// error wrapping ErrOutboxPending and ctx's error: the rows left wait for
// the next relay, nothing is lost. Stop without a relay started by Start
// returns nil.
func (o *Outbox) Stop(ctx context.Context) error {
	o.stopMu.Lock()
	defer o.stopMu.Unlock()
	o.mu.Lock()
	r := o.run
	o.mu.Unlock()
	if r == nil || r.cancel == nil {
		return nil
	}
	err := o.Flush(ctx)
	r.cancel()
	<-r.done
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOutboxPending, err)
	}
	return nil
}

// Flush wakes the relay and waits until every row pending when it was
// called has been published and marked sent, by this process's relay or
// another's. It returns ctx's error, wrapped with how many rows are still
// pending, if ctx ends first; without a relay running it waits for ctx.
func (o *Outbox) Flush(ctx context.Context) error {
	var target sql.NullInt64
	if err := o.db.QueryRowContext(ctx, o.q.maxPending).Scan(&target); err != nil {
		return fmt.Errorf("bus: outbox: flush: %w", err)
	}
	if !target.Valid {
		return nil
	}
	o.Notify()
	t := time.NewTimer(o.opts.poll)
	defer t.Stop()
	for {
		o.mu.Lock()
		round := o.roundC
		o.mu.Unlock()
		var n int64
		if err := o.db.QueryRowContext(ctx, o.q.pendingUpTo, target.Int64).Scan(&n); err != nil {
			return fmt.Errorf("bus: outbox: flush: %w", err)
		}
		if n == 0 {
			return nil
		}
		t.Reset(o.opts.poll)
		select {
		case <-round:
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("bus: outbox: flush: %d events still pending: %w", n, ctx.Err())
		}
	}
}

// OutboxStats describes an outbox, for tests, demos and health checks.
type OutboxStats struct {
	Pending int64 // rows not yet sent; -1 when Err is set
	Sent    int64 // rows sent and not yet pruned; -1 when Err is set

	// Published counts the acknowledgements this Outbox's relay received
	// since NewOutbox; Duplicates those of them for an event the stream
	// already held (a row published again, deduplicated by Nats-Msg-Id).
	Published  uint64
	Duplicates uint64

	Failures    int       // consecutive failed rounds, 0 once a round succeeds
	LastError   error     // of the last failed round, nil if none failed yet
	LastErrorAt time.Time // when it failed
	Running     bool      // a relay of this Outbox runs

	Err error // the counts could not be read
}

// Stats returns the outbox's counts, read from its table (within 5s), and
// what its relay saw.
func (o *Outbox) Stats() OutboxStats {
	o.mu.Lock()
	s := OutboxStats{
		Published:   o.published.Load(),
		Duplicates:  o.duplicates.Load(),
		Failures:    o.failN,
		LastError:   o.last,
		LastErrorAt: o.lastAt,
		Running:     o.run != nil,
	}
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := o.db.QueryRowContext(ctx, o.q.counts).Scan(&s.Pending, &s.Sent); err != nil {
		s.Pending, s.Sent = -1, -1
		s.Err = fmt.Errorf("bus: outbox: stats: %w", err)
	}
	return s
}

func (o *Outbox) begin(r *relayRun) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.run != nil {
		return ErrOutboxRunning
	}
	o.run = r
	return nil
}

func (o *Outbox) end(r *relayRun) {
	o.mu.Lock()
	o.run = nil
	o.mu.Unlock()
	close(r.done)
}

// relay publishes pending rows until ctx ends.
func (o *Outbox) relay(ctx context.Context) {
	backoff := o.opts.minBackoff
	nextPrune := time.Now()
	idle := time.NewTimer(o.opts.poll)
	defer idle.Stop()
	for ctx.Err() == nil {
		more, err := o.round(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			o.failed(err)
			if !o.backoff(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, o.opts.maxBackoff)
			continue
		}
		o.succeeded()
		backoff = o.opts.minBackoff
		if now := time.Now(); !now.Before(nextPrune) {
			if err := o.prune(ctx, now); err != nil && ctx.Err() == nil {
				o.failed(err)
			}
			nextPrune = now.Add(o.opts.pruneEvery())
		}
		if more {
			continue
		}
		idle.Reset(o.opts.poll)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-idle.C:
		}
	}
}

// backoff waits d, or less when the connection to NATS comes back; it
// returns false when ctx ended.
func (o *Outbox) backoff(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var reconnected <-chan time.Time
	nc := o.pub.conn.nc
	if !nc.IsConnected() && !nc.IsClosed() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		reconnected = tick.C
	}
	for {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		case <-reconnected:
			if nc.IsConnected() {
				return true
			}
		}
	}
}

func (o *Outbox) failed(err error) {
	o.mu.Lock()
	o.failN++
	o.last, o.lastAt = err, time.Now()
	o.mu.Unlock()
	o.opts.errorHandler(err)
}

func (o *Outbox) succeeded() {
	o.mu.Lock()
	o.failN = 0
	o.mu.Unlock()
}

// outboxRow is a pending row.
type outboxRow struct {
	seq      int64
	id       uuid.UUID
	subject  string
	envelope []byte
	version  int
	attempts int
}

// round publishes one batch of pending rows in order and marks those the
// stream acknowledged. more is true when pending rows may remain.
func (o *Outbox) round(ctx context.Context) (more bool, err error) {
	rows, err := o.pending(ctx)
	if err != nil || len(rows) == 0 {
		return false, err
	}
	acked, perr := o.publishRows(ctx, rows)
	if acked > 0 {
		if err := o.markSent(ctx, rows[:acked]); err != nil {
			return false, err
		}
	}
	if perr != nil {
		if ctx.Err() == nil {
			o.markFailed(ctx, rows[acked], perr)
		}
		return false, perr
	}
	return acked < len(rows) || len(rows) == o.opts.batch, nil
}

// pending reads the next batch of rows to publish, in seq order.
func (o *Outbox) pending(ctx context.Context) ([]outboxRow, error) {
	rs, err := o.db.QueryContext(ctx, o.q.pending, o.opts.batch)
	if err != nil {
		return nil, fmt.Errorf("bus: outbox: read pending rows: %w", err)
	}
	defer rs.Close()
	var rows []outboxRow
	for rs.Next() {
		var r outboxRow
		var id string
		if err := rs.Scan(&r.seq, &id, &r.subject, &r.envelope, &r.attempts); err != nil {
			return nil, fmt.Errorf("bus: outbox: read pending rows: %w", err)
		}
		if r.id, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("bus: outbox: row %d: event id %q: %w", r.seq, id, err)
		}
		r.version = envelopeVersion(r.envelope) // only for the header; the envelope is sent as stored
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("bus: outbox: read pending rows: %w", err)
	}
	return rows, nil
}

// publishRows publishes rows in commit order as one asynchronous batch
// (the publisher's PublishAsync machinery: at most WithMaxPending in
// flight, one attempt per row, the relay being the one that retries) and
// returns how many leading rows the stream acknowledged. The first row
// that failed is returned as a *PublishError; rows after it that were
// acknowledged anyway are published again with the next round and
// deduplicated by the stream. Sending stops once the mark interval has
// passed, so that acknowledged rows are marked sent soon. Every row sent
// has its outcome before publishRows returns, unless ctx ends.
func (o *Outbox) publishRows(ctx context.Context, rows []outboxRow) (int, error) {
	failed := func(r outboxRow, err error) error {
		var pe *PublishError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &PublishError{Subject: r.subject, EventID: r.id, Attempts: r.attempts + 1, Err: err}
	}
	if err := o.pub.startAsync(); err != nil {
		return 0, failed(rows[0], err)
	}
	deadline := time.Now().Add(o.opts.markEvery)
	futures := make([]*PublishFuture, 0, len(rows))
	var sendErr error
	for i, r := range rows {
		if i > 0 && time.Now().After(deadline) {
			break
		}
		f, err := o.pub.sendAsync(ctx, o.pub.message(r.subject, r.version, r.envelope), r.id, 1)
		if err != nil {
			sendErr = err
			break
		}
		futures = append(futures, f)
	}
	acked := 0
	var failure error
	for i, f := range futures {
		ack, err := f.Wait(ctx)
		if err != nil {
			if failure == nil {
				failure = failed(rows[i], err)
			}
			continue
		}
		o.published.Add(1)
		if ack.Duplicate {
			o.duplicates.Add(1)
		}
		if failure == nil {
			acked++
		}
	}
	if failure == nil && sendErr != nil {
		failure = failed(rows[len(futures)], sendErr)
	}
	return acked, failure
}

// markSent marks rows sent. It runs even when ctx has just ended (a relay
// stopping), so that what was acknowledged is not published again.
func (o *Outbox) markSent(ctx context.Context, rows []outboxRow) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var q strings.Builder
	q.WriteString(o.q.markSentHead)
	args := make([]any, 0, len(rows)+1)
	args = append(args, time.Now().UnixMilli())
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?")
		args = append(args, r.seq)
	}
	q.WriteString(")")
	if _, err := o.db.ExecContext(ctx, q.String(), args...); err != nil {
		return fmt.Errorf("bus: outbox: mark %d rows sent (from event %s): %w", len(rows), rows[0].id, err)
	}
	o.mu.Lock()
	close(o.roundC)
	o.roundC = make(chan struct{})
	o.mu.Unlock()
	return nil
}

// markFailed records a failed attempt in the row; a failure to do so is
// only reported, the publish error being the one that matters.
func (o *Outbox) markFailed(ctx context.Context, r outboxRow, cause error) {
	msg := headerValue(cause.Error(), maxReasonLen)
	if _, err := o.db.ExecContext(ctx, o.q.markFailed, msg, r.seq); err != nil {
		o.opts.errorHandler(fmt.Errorf("bus: outbox: record failed attempt of event %s: %w", r.id, err))
	}
}

// prune deletes the rows sent before the retention period.
func (o *Outbox) prune(ctx context.Context, now time.Time) error {
	if _, err := o.db.ExecContext(ctx, o.q.prune, now.Add(-o.opts.retention).UnixMilli()); err != nil {
		return fmt.Errorf("bus: outbox: prune sent rows: %w", err)
	}
	return nil
}
