package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/giia/events/internal/backoff"
	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/payload"
	"github.com/google/uuid"
)

// Outbox is the transactional outbox of one service on one table: Add
// stores events in the caller's transaction, the relay (Run, or Start and
// Stop) publishes them once committed; see the package documentation.
type Outbox struct {
	db   *sql.DB
	pub  *bus.Publisher
	opts options
	q    outboxSQL

	wake  chan struct{} // Notify: read the table
	watch chan struct{} // PublishCommitted: rows in flight to watch

	stopMu sync.Mutex // one Stop at a time
	mu     sync.Mutex
	run    *relayRun     // the relay running, nil when none
	roundC chan struct{} // closed and replaced when a round marked rows sent
	failN  int
	last   error
	lastAt time.Time

	published  atomic.Uint64
	duplicates atomic.Uint64
	flushing   atomic.Int32 // Flush calls waiting: the relay marks rows at once
	// adds counts the rows Add inserted, so that an Inbox tells whether a
	// transaction added any (and the relay needs waking) without asking
	// the database.
	adds  atomic.Uint64
	stmts atomic.Pointer[outboxStmts]

	// pipeMu guards pipe, the state of the running relay (nil when none):
	// the relay holds it while it works, not while it waits, and
	// PublishCommitted publishes in its place when it can take it.
	pipeMu sync.Mutex
	pipe   *relayState
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
	hasHeaders, addHeaders                                   string
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
	last_error TEXT,
	headers    TEXT
)`,
		hasHeaders:   `SELECT headers FROM ` + t + ` WHERE 0 = 1`,
		addHeaders:   `ALTER TABLE ` + t + ` ADD COLUMN headers TEXT`,
		index:        `CREATE INDEX IF NOT EXISTS ` + t + `_pending ON ` + t + ` (sent_at, seq)`,
		insert:       `INSERT INTO ` + t + ` (id, subject, envelope, created_at, attempts, headers) VALUES (?, ?, ?, ?, 0, ?)`,
		pending:      `SELECT seq, id, subject, envelope, attempts, headers FROM ` + t + ` WHERE sent_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`,
		markSentHead: `UPDATE ` + t + ` SET sent_at = ?, attempts = attempts + 1, last_error = NULL WHERE seq IN (`,
		markFailed:   `UPDATE ` + t + ` SET attempts = attempts + 1, last_error = ? WHERE seq = ?`,
		prune:        `DELETE FROM ` + t + ` WHERE sent_at IS NOT NULL AND sent_at < ?`,
		counts:       `SELECT COUNT(*) - COUNT(sent_at), COUNT(sent_at) FROM ` + t,
		maxPending:   `SELECT MAX(seq) FROM ` + t + ` WHERE sent_at IS NULL`,
		pendingUpTo:  `SELECT COUNT(*) FROM ` + t + ` WHERE sent_at IS NULL AND seq <= ?`,
	}
}

// New returns an outbox on db whose relay publishes with pub; pub's
// service is the one whose events Add accepts. Call Migrate once before
// use (or create the table yourself), then start the relay. A nil db or
// pub, or a bad option, returns an error wrapping ErrInvalidOption.
func New(db *sql.DB, pub *bus.Publisher, opts ...Option) (*Outbox, error) {
	if db == nil || pub == nil {
		return nil, fmt.Errorf("%w: nil database or publisher", ErrInvalidOption)
	}
	o := defaultOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	if o.errorHandler == nil {
		log := o.logger
		if log == nil {
			log = slog.Default()
		}
		o.errorHandler = func(err error) { log.Warn("outbox relay", "err", err) }
	}
	out := &Outbox{
		db:     db,
		pub:    pub,
		opts:   o,
		q:      newOutboxSQL(o.table),
		wake:   make(chan struct{}, 1),
		watch:  make(chan struct{}, 1),
		roundC: make(chan struct{}),
	}
	out.observeBacklog()
	return out, nil
}

// Table returns the name of the outbox's table.
func (o *Outbox) Table() string { return o.opts.table }

// Service returns the name of the service whose events the outbox
// accepts: its publisher's.
func (o *Outbox) Service() string { return o.pub.Service() }

// Migrate creates the outbox's table and its index when they do not exist
// (SQLite dialect; see Outbox), and adds the headers column to a table
// made before the outbox carried trace context.
func (o *Outbox) Migrate(ctx context.Context) error {
	for _, q := range []string{o.q.create, o.q.index} {
		if _, err := o.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("outbox: migrate %s: %w", o.opts.table, err)
		}
	}
	if rs, err := o.db.QueryContext(ctx, o.q.hasHeaders); err == nil {
		_ = rs.Close()
	} else if _, aerr := o.db.ExecContext(ctx, o.q.addHeaders); aerr != nil {
		return fmt.Errorf("outbox: migrate %s: add the headers column: %w (reading it: %w)", o.opts.table, aerr, err)
	}
	o.prepare(ctx)
	return nil
}

// outboxStmts are the outbox's statements run for every event, prepared.
type outboxStmts struct{ insert, pending *sql.Stmt }

// prepare prepares the statements run for every event, once the table
// exists. Why: a driver such as modernc.org/sqlite compiles the SQL of a
// statement each time it runs unless it was prepared; compiling was a
// good part of the CPU time of Add and of each read of the relay. Without
// them (a table created by hand, a failed prepare) the outbox runs the
// SQL as it is.
func (o *Outbox) prepare(ctx context.Context) {
	if o.stmts.Load() != nil {
		return
	}
	insert, err := o.db.PrepareContext(ctx, o.q.insert)
	if err != nil {
		return
	}
	pending, err := o.db.PrepareContext(ctx, o.q.pending)
	if err != nil {
		_ = insert.Close()
		return
	}
	if !o.stmts.CompareAndSwap(nil, &outboxStmts{insert: insert, pending: pending}) {
		_, _ = insert.Close(), pending.Close()
	}
}

// errOtherDB is how database/sql refuses a statement prepared on another
// *sql.DB than the transaction's.
const errOtherDB = "statement from different database"

// insert inserts a row in tx, with the prepared statement when tx is a
// transaction of the outbox's database.
func (o *Outbox) insert(ctx context.Context, tx *sql.Tx, args ...any) error {
	if st := o.stmts.Load(); st != nil {
		_, err := tx.StmtContext(ctx, st.insert).ExecContext(ctx, args...)
		if err == nil || !strings.Contains(err.Error(), errOtherDB) {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, o.q.insert, args...)
	return err
}

// Add checks payload against the schema of the event at subject, wraps it
// in an envelope exactly as Publisher.Publish would (the correlation and
// organization from ctx, see WithCorrelation, unless opts set them) and
// inserts it into tx, the caller's transaction, to be published once tx
// commits. It returns the event id. Nothing touches NATS: call Notify after
// the commit so that the relay publishes at once.
//
// Errors, with nothing stored: ErrInvalidOption (a nil tx, a bad
// PublishOption), bus.ErrUnknownSubject, bus.ErrNotPublisher, a *payload.ValidationError
// (payload.ErrInvalidPayload) for a payload that breaks its schema, and the
// database's error (say a repeated WithEventID) wrapped.
func (o *Outbox) Add(ctx context.Context, tx *sql.Tx, subject string, payload any, opts ...bus.PublishOption) (uuid.UUID, error) {
	if tx == nil {
		return uuid.Nil, fmt.Errorf("%w: nil transaction", ErrInvalidOption)
	}
	e, err := o.pub.Encode(ctx, subject, payload, opts...)
	if err != nil {
		return uuid.Nil, err
	}
	if err := o.insert(ctx, tx, e.ID.String(), subject, e.Envelope, time.Now().UnixMilli(), storeTrace(e.Trace)); err != nil {
		return uuid.Nil, fmt.Errorf("outbox: store %s event %s: %w", subject, e.ID, err)
	}
	o.adds.Add(1)
	return e.ID, nil
}

// AddPayload adds v, a generated payload, on its event's subject, as Add
// does; the typed outbox facades of sdk/events call it.
func (o *Outbox) AddPayload(ctx context.Context, tx *sql.Tx, v payload.Payload, opts ...bus.PublishOption) (uuid.UUID, error) {
	return o.Add(ctx, tx, v.EventSubject(), v, opts...)
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

// PublishCommitted publishes the rows committed so far from the calling
// goroutine, without waiting for their acks, when the relay is idle and
// nothing published before them failed; otherwise, or for what it leaves,
// it wakes the relay as Notify does. Call it after the commit, in place of
// Notify, where latency matters: it spares the hand-over to the relay's
// goroutine, and reads the rows while the connection the transaction just
// released is free (the relay's read could wait behind the next request's
// transaction). It takes as long as reading the rows and handing them to
// the NATS client: it never waits for the stream, nor for the relay (if
// the relay is busy it leaves the rows to it). The relay still marks the
// rows sent, and retries them when they fail; order is kept (the rows are
// read after the last one the relay published, under the relay's lock).
//
// Never call it inside a transaction: with a single connection to the
// database (SQLite) the read would wait for the transaction that holds it.
func (o *Outbox) PublishCommitted(ctx context.Context) {
	if o.pipeMu.TryLock() {
		done := false
		if s := o.pipe; s != nil && !s.backingOff && s.room(o.opts.batch) {
			done = o.publishInline(ctx, s)
		}
		o.pipeMu.Unlock()
		if done {
			// The relay only has to watch the acks: no read of the table.
			select {
			case o.watch <- struct{}{}:
			default:
			}
			return
		}
	}
	o.Notify()
}

// outboxInlineRows bounds the rows PublishCommitted publishes: a
// transaction's few events; a backlog is the relay's.
const outboxInlineRows = 16

// publishInline is PublishCommitted's publishing, with o.pipeMu held. It
// reports whether it published every pending row; on any problem it stops
// and leaves the rest to the relay, which reads them again and handles
// the error.
func (o *Outbox) publishInline(ctx context.Context, s *relayState) bool {
	limit := min(o.opts.batch-len(s.inflight), outboxInlineRows)
	rows, err := o.pending(ctx, s.after, limit)
	if err != nil || len(rows) == limit {
		return false
	}
	// Never wait for room among the publisher's events in flight: that
	// would be waiting for NATS.
	if room, err := o.pub.AsyncRoom(); err != nil || room < len(rows) {
		return false
	}
	for _, r := range rows {
		f, err := o.pub.SendEncoded(s.ctx, o.encoded(r))
		if err != nil {
			return false // the relay publishes it again and reports the error
		}
		s.inflight = append(s.inflight, sentRow{row: r, f: f})
		s.after = r.seq
	}
	return true
}

// Run runs the relay until ctx ends, then returns nil; see Outbox for what
// it does. It returns ErrRunning at once if a relay of this Outbox
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
// ErrRunning if a relay of this Outbox already runs.
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
// error wrapping ErrPending and ctx's error: the rows left wait for
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
		return fmt.Errorf("%w: %w", ErrPending, err)
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
		return fmt.Errorf("outbox: flush: %w", err)
	}
	if !target.Valid {
		return nil
	}
	// The relay marks acknowledged rows sent at once rather than after
	// markAfter while a Flush waits for them.
	o.flushing.Add(1)
	defer o.flushing.Add(-1)
	o.Notify()
	t := time.NewTimer(o.opts.poll)
	defer t.Stop()
	for {
		o.mu.Lock()
		round := o.roundC
		o.mu.Unlock()
		var n int64
		if err := o.db.QueryRowContext(ctx, o.q.pendingUpTo, target.Int64).Scan(&n); err != nil {
			return fmt.Errorf("outbox: flush: %w", err)
		}
		if n == 0 {
			return nil
		}
		t.Reset(o.opts.poll)
		select {
		case <-round:
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("outbox: flush: %d events still pending: %w", n, ctx.Err())
		}
	}
}

// Stats describes an outbox, for tests, demos and health checks.
type Stats struct {
	Pending int64 // rows not yet sent; -1 when Err is set
	Sent    int64 // rows sent and not yet pruned; -1 when Err is set

	// Published counts the acknowledgements this Outbox's relay received
	// since New; Duplicates those of them for an event the stream
	// already held (a row published again, deduplicated by Nats-Msg-Id).
	Published  uint64
	Duplicates uint64

	Failures    int       // consecutive failed rounds, 0 once a round succeeds
	LastError   error     // of the last failed round, nil if none failed yet
	LastErrorAt time.Time // when it failed
	Running     bool      // a relay of this Outbox runs

	Err error // the counts could not be read
}

// Running reports whether a relay of o runs (Start or Run), without the
// table's counts that Stats reads.
func (o *Outbox) Running() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.run != nil
}

// Stats returns the outbox's counts, read from its table (within 5s), and
// what its relay saw.
func (o *Outbox) Stats() Stats {
	o.mu.Lock()
	s := Stats{
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
		s.Err = fmt.Errorf("outbox: stats: %w", err)
	}
	return s
}

func (o *Outbox) begin(r *relayRun) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.run != nil {
		return ErrRunning
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
//
// It is a pipeline, for latency: rows are published as soon as they are
// committed (Notify), while the acknowledgements of rows published before
// are still awaited, and acknowledged rows are marked sent in batches,
// after the rows waiting to be published. A relay that waited for every
// ack and marked every batch before looking at the table again kept a row
// committed meanwhile waiting for the rest of that round (its ack, then
// the UPDATE, which itself waits for the connection a request holds): with
// requests one after another that was most of the time from commit to
// stream. Marking later is safe: a row acknowledged but not marked is only
// published again (same Nats-Msg-Id, deduplicated by the stream) if the
// process stops before the mark, which markAfter bounds, and with it the
// duplicates window (see Outbox).
func (o *Outbox) relay(ctx context.Context) {
	s := &relayState{ctx: ctx, read: true}
	o.pipeMu.Lock()
	o.pipe = s
	o.pipeMu.Unlock()
	defer func() {
		o.pipeMu.Lock()
		defer o.pipeMu.Unlock()
		o.pipe = nil
		o.finish(ctx, s)
	}()
	retry := backoff.New(backoff.Policy{First: o.opts.minBackoff, Max: o.opts.maxBackoff})
	nextPrune := time.Now()
	idle := time.NewTimer(o.opts.poll)
	defer idle.Stop()
	markT := time.NewTimer(time.Hour)
	markT.Stop()
	defer markT.Stop()
	for ctx.Err() == nil {
		o.pipeMu.Lock()
		err := o.step(ctx, s)
		var marks []outboxRow
		if err == nil {
			marks = o.dueMarks(s)
		} else {
			s.backingOff = true // PublishCommitted leaves the rows to the relay
		}
		o.pipeMu.Unlock()
		if len(marks) > 0 {
			err = o.markRows(ctx, s, marks)
		}
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			o.failed(err)
			ok := o.backoff(ctx, retry.Next())
			o.pipeMu.Lock()
			s.backingOff, s.read = false, true
			o.pipeMu.Unlock()
			if !ok {
				return
			}
			continue
		}
		retry.Reset()
		if now := time.Now(); !now.Before(nextPrune) {
			if err := o.prune(ctx, now); err != nil && ctx.Err() == nil {
				o.failed(err)
			}
			nextPrune = now.Add(o.opts.pruneEvery())
		}
		o.pipeMu.Lock()
		again := s.read && s.room(o.opts.batch)
		var head <-chan struct{}
		if len(s.inflight) > 0 {
			head = s.inflight[0].f.Done()
		}
		var markC <-chan time.Time
		if len(s.acked) > 0 {
			markT.Reset(time.Until(s.ackedAt.Add(o.opts.markAfter())))
			markC = markT.C
		}
		o.pipeMu.Unlock()
		if again {
			continue // a full read: more rows may be pending
		}
		idle.Reset(o.opts.poll)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
			o.setRead()
		case <-idle.C:
			o.setRead() // rows another process added, or a lost Notify
		case <-o.watch:
		case <-head:
		case <-markC:
		}
		markT.Stop()
	}
}

// setRead tells the running relay to read the table.
func (o *Outbox) setRead() {
	o.pipeMu.Lock()
	if o.pipe != nil {
		o.pipe.read = true
	}
	o.pipeMu.Unlock()
}

// relayState is what a running relay knows beyond the table.
type relayState struct {
	ctx      context.Context // the relay's: its publishes and their outcomes
	inflight []sentRow       // published, in seq order, outcome awaited
	acked    []outboxRow     // acknowledged, in seq order, not marked sent yet
	ackedAt  time.Time       // when acked[0] was acknowledged
	// after is the last seq published by this relay while rows are in
	// flight or acknowledged and not marked: reads start after it. It goes
	// back to 0 (read from the first pending row) once everything published
	// is marked, so that a row made visible late by a database with
	// concurrent writers is not skipped.
	after      int64
	read       bool // rows may be pending: read the table
	backingOff bool // after a failure: the relay alone publishes
}

// sentRow is a row published and its outcome.
type sentRow struct {
	row outboxRow
	f   *bus.PublishFuture
}

// room reports whether the relay reads more rows: at most batch rows are
// in flight, and a read takes at least half a batch unless the pipeline
// is empty, so that a backlog is read in large chunks.
func (s *relayState) room(batch int) bool {
	return len(s.inflight) == 0 || len(s.inflight) <= batch/2
}

// step does, with o.pipeMu held, what the relay can do without waiting:
// take the outcomes that arrived and publish the rows committed since the
// last read. On an error everything in flight is settled first (see
// settle).
func (o *Outbox) step(ctx context.Context, s *relayState) error {
	if err := o.harvest(ctx, s, false); err != nil {
		return err
	}
	if s.read && s.room(o.opts.batch) {
		return o.publishPending(ctx, s)
	}
	return nil
}

// dueMarks takes from s, with o.pipeMu held, the acknowledged rows to mark
// sent now: markAfter after the first was acknowledged, at once when they
// fill a batch or while a Flush waits.
func (o *Outbox) dueMarks(s *relayState) []outboxRow {
	if len(s.acked) == 0 || len(s.acked) < o.opts.batch && o.flushing.Load() == 0 &&
		time.Now().Before(s.ackedAt.Add(o.opts.markAfter())) {
		return nil
	}
	rows := s.acked
	s.acked = nil
	return rows
}

// markRows marks rows, taken from s by dueMarks, sent without holding
// o.pipeMu: the UPDATE waits for the database connection, which a request
// may hold, and PublishCommitted must not wait for that. Meanwhile s.after
// stays at or past the rows (they are not read again); once nothing is
// in flight or acknowledged any more, reads start from the first pending
// row again. If the UPDATE fails the rows stay pending and are published
// again (deduplicated by the stream), with everything after them.
func (o *Outbox) markRows(ctx context.Context, s *relayState, rows []outboxRow) error {
	err := o.markSent(ctx, rows)
	o.pipeMu.Lock()
	defer o.pipeMu.Unlock()
	if err != nil {
		s.backingOff = true
		s.acked = nil // they go again too: marking would fail as well
		o.settle(ctx, s, false)
		return err
	}
	if len(s.inflight) == 0 && len(s.acked) == 0 {
		s.after = 0
	}
	return nil
}

// harvest moves the leading rows of the pipeline that were acknowledged
// to s.acked, in order; with wait it waits for every outcome (until ctx
// ends). The first row that failed ends the pipeline: every outcome is
// awaited (acks of later rows are counted, not marked: they are published
// again and deduplicated), the acknowledged rows before it are marked
// sent, its attempt is recorded, and the *bus.PublishError is returned.
func (o *Outbox) harvest(ctx context.Context, s *relayState, wait bool) error {
	n := 0
	for n < len(s.inflight) {
		f := s.inflight[n].f
		if !wait {
			select {
			case <-f.Done():
			default:
				s.inflight = s.inflight[n:]
				return nil
			}
		}
		ack, err := f.Wait(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break // the relay stops; what was acknowledged is marked by finish
			}
			row := s.inflight[n].row
			s.inflight = s.inflight[n+1:]
			o.settle(ctx, s, true)
			o.markFailed(ctx, row, err)
			return outboxPublishError(row, err)
		}
		o.count(ack)
		if len(s.acked) == 0 {
			s.ackedAt = time.Now()
		}
		s.acked = append(s.acked, s.inflight[n].row)
		n++
		o.succeeded()
	}
	s.inflight = s.inflight[n:]
	return nil
}

// settle ends the pipeline after a failure: it marks the rows
// acknowledged before the failure sent, then, with wait, waits for the
// outcome of every row still in flight (counting the acks), and starts
// reading again from the first pending row. Rows acknowledged after a
// failed one are not marked: they are published again, in order, with the
// next read. The marking comes first: the wait can last a publish timeout
// (a row whose ack does not come), and acknowledged rows must not wait
// past the mark bound (see WithMarkEvery) for it.
func (o *Outbox) settle(ctx context.Context, s *relayState, wait bool) {
	if len(s.acked) > 0 {
		if err := o.markSent(ctx, s.acked); err != nil && ctx.Err() == nil {
			o.opts.errorHandler(err)
		}
	}
	s.acked = nil
	for _, r := range s.inflight {
		if !wait {
			break
		}
		if ack, err := r.f.Wait(ctx); err == nil {
			o.count(ack)
		}
	}
	s.inflight, s.after, s.read = nil, 0, true
}

// finish runs when the relay stops: rows acknowledged by then are marked
// sent (markSent outlives ctx), so that they are not published again.
func (o *Outbox) finish(ctx context.Context, s *relayState) {
	_ = o.harvest(ctx, s, false)
	if len(s.acked) > 0 {
		_ = o.markSent(ctx, s.acked)
	}
}

// count records an acknowledgement in the outbox's figures.
func (o *Outbox) count(ack *bus.PublishAck) {
	o.published.Add(1)
	if ack.Duplicate {
		o.duplicates.Add(1)
	}
}

// publishPending reads the rows committed after those already in the
// pipeline and publishes them, in seq order, each with one attempt (the
// relay is the one that retries), without waiting for their acks. It is
// called with o.pipeMu held and releases it while it reads the table, so
// that PublishCommitted does not find it taken for as long as a query
// (which can wait for the connection a request holds); rows that
// PublishCommitted published meanwhile are left out.
func (o *Outbox) publishPending(ctx context.Context, s *relayState) error {
	after, limit := s.after, o.opts.batch-len(s.inflight)
	s.read = false // a Notify during the read asks for another one
	o.pipeMu.Unlock()
	rows, err := o.pending(ctx, after, limit)
	o.pipeMu.Lock()
	if err != nil {
		o.settle(ctx, s, true)
		return err
	}
	if len(rows) == limit {
		s.read = true
	}
	for len(rows) > 0 && rows[0].seq <= s.after {
		rows = rows[1:]
	}
	if len(rows) == 0 {
		if len(s.inflight) == 0 && len(s.acked) == 0 {
			o.succeeded() // nothing pending, nothing failing
		}
		return nil
	}
	if _, err := o.pub.AsyncRoom(); err != nil { // the asynchronous publisher cannot start
		o.settle(ctx, s, true)
		return outboxPublishError(rows[0], err)
	}
	for _, r := range rows {
		f, err := o.pub.SendEncoded(ctx, o.encoded(r))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Rows before it keep their outcome: settle waits for them.
			if herr := o.harvest(ctx, s, true); herr != nil {
				return herr
			}
			o.settle(ctx, s, true)
			o.markFailed(ctx, r, err)
			return outboxPublishError(r, err)
		}
		s.inflight = append(s.inflight, sentRow{row: r, f: f})
		s.after = r.seq
	}
	return nil
}

// outboxPublishError is the error of row's failed attempt.
func outboxPublishError(r outboxRow, err error) error {
	var pe *bus.PublishError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &bus.PublishError{Subject: r.subject, EventID: r.id, Attempts: r.attempts + 1, Err: err}
}

// backoff waits d, or less when the connection to NATS comes back; it
// returns false when ctx ended.
func (o *Outbox) backoff(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var reconnected <-chan time.Time
	nc := o.pub.Conn().NATS()
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

// encoded is the event of row r: its envelope as stored, with the trace
// context Add captured.
func (o *Outbox) encoded(r outboxRow) bus.Encoded {
	e := bus.Encoded{ID: r.id, Subject: r.subject, Version: r.version, Envelope: r.envelope}
	if r.headers.Valid {
		var err error
		if e.Trace, err = restoreTrace(r.headers.String); err != nil {
			// The event goes without its trace context rather than not at
			// all; the error says which one.
			o.opts.errorHandler(fmt.Errorf("outbox: event %s: %w", r.id, err))
		}
	}
	return e
}

// outboxRow is a pending row.
type outboxRow struct {
	seq      int64
	id       uuid.UUID
	subject  string
	envelope []byte
	version  int
	attempts int
	headers  sql.NullString // the trace context of Add, see storeTrace
}

// pending reads up to limit rows to publish after seq after, in seq order.
func (o *Outbox) pending(ctx context.Context, after int64, limit int) ([]outboxRow, error) {
	var rs *sql.Rows
	var err error
	if st := o.stmts.Load(); st != nil {
		rs, err = st.pending.QueryContext(ctx, after, limit)
	} else {
		rs, err = o.db.QueryContext(ctx, o.q.pending, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: read pending rows: %w", err)
	}
	defer rs.Close()
	var rows []outboxRow
	for rs.Next() {
		var r outboxRow
		var id string
		if err := rs.Scan(&r.seq, &id, &r.subject, &r.envelope, &r.attempts, &r.headers); err != nil {
			return nil, fmt.Errorf("outbox: read pending rows: %w", err)
		}
		if r.id, err = uuid.Parse(id); err != nil {
			return nil, fmt.Errorf("outbox: row %d: event id %q: %w", r.seq, id, err)
		}
		r.version = bus.EnvelopeVersion(r.envelope) // only for the header; the envelope is sent as stored
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("outbox: read pending rows: %w", err)
	}
	return rows, nil
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
		return fmt.Errorf("outbox: mark %d rows sent (from event %s): %w", len(rows), rows[0].id, err)
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
	msg := truncate(cause.Error(), maxErrorLen)
	if _, err := o.db.ExecContext(ctx, o.q.markFailed, msg, r.seq); err != nil {
		o.opts.errorHandler(fmt.Errorf("outbox: record failed attempt of event %s: %w", r.id, err))
	}
}

// prune deletes the rows sent before the retention period.
func (o *Outbox) prune(ctx context.Context, now time.Time) error {
	if _, err := o.db.ExecContext(ctx, o.q.prune, now.Add(-o.opts.retention).UnixMilli()); err != nil {
		return fmt.Errorf("outbox: prune sent rows: %w", err)
	}
	return nil
}
