package outbox

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/giia/events/sdk/bus"
	"github.com/google/uuid"
	"go.opentelemetry.io/otel/metric"
)

// Inbox makes consumers idempotent: the state change a handler makes for
// an event and the record that the event was processed commit in one
// transaction (Process), so an event delivered again (a redelivery after a
// lost ack, a crash mid-handler, the same event stored twice) is
// acknowledged without being applied again. Wrap a handler with
// Idempotent to get this for every event of a route.
//
// Records are keyed by consumer and envelope id, in the table giia_inbox
// (consumer TEXT, event_id TEXT, processed_at INTEGER Unix milliseconds,
// primary key (consumer, event_id)), created by Migrate in SQLite's
// dialect; the statements are SQL with "?" placeholders that SQLite and
// PostgreSQL (through a driver that accepts them) both run. Records older
// than the stream's max age can be deleted with Prune: such an event
// cannot be delivered again.
type Inbox struct {
	db     *sql.DB
	table  string
	notify *Outbox
	q      inboxSQL
	stmts  atomic.Pointer[inboxStmts]

	meterProvider metric.MeterProvider // WithInboxMeterProvider's
	metrics       inboxMetrics
}

type inboxSQL struct{ create, insert, prune string }

// inboxStmts are the statements the inbox runs for every event, prepared
// once the table exists (see prepare).
type inboxStmts struct{ insert, savepoint, release, rollbackTo *sql.Stmt }

// InboxOption configures NewInbox. Options check their arguments and
// return an error wrapping ErrInvalidOption when one is unusable.
type InboxOption func(*Inbox) error

// DefaultInboxTable is the inbox's table unless WithInboxTable says
// otherwise.
const DefaultInboxTable = "giia_inbox"

// WithInboxTable sets the inbox's table (default "giia_inbox").
func WithInboxTable(name string) InboxOption {
	return func(in *Inbox) error {
		if err := checkTable(name); err != nil {
			return err
		}
		in.table = name
		return nil
	}
}

// WithNotify makes the inbox call o.Notify after each transaction of
// Process (or Scope) that commits having added rows to o, so that the
// events a handler added leave at once; a transaction that added none
// does not wake the relay (its periodic poll still runs).
func WithNotify(o *Outbox) InboxOption {
	return func(in *Inbox) error {
		if o == nil {
			return fmt.Errorf("%w: nil outbox to notify", ErrInvalidOption)
		}
		in.notify = o
		return nil
	}
}

// NewInbox returns an inbox on db. Call Migrate once before use (or
// create the table yourself). A nil db or a bad option returns an error
// wrapping ErrInvalidOption.
func NewInbox(db *sql.DB, opts ...InboxOption) (*Inbox, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil database", ErrInvalidOption)
	}
	in := &Inbox{db: db, table: DefaultInboxTable}
	for _, opt := range opts {
		if err := opt(in); err != nil {
			return nil, err
		}
	}
	if in.meterProvider == nil && in.notify != nil {
		in.meterProvider = in.notify.opts.meterProvider
	}
	in.metrics = newInboxMetrics(in.meterProvider)
	t := in.table
	in.q = inboxSQL{
		create: `CREATE TABLE IF NOT EXISTS ` + t + ` (
	consumer     TEXT NOT NULL,
	event_id     TEXT NOT NULL,
	processed_at INTEGER NOT NULL,
	PRIMARY KEY (consumer, event_id)
)`,
		// "Insert unless present" (SQLite 3.24+, PostgreSQL 9.5+):
		// RowsAffected tells which. Not INSERT ... SELECT ... WHERE NOT
		// EXISTS on the same table, for which SQLite builds a temporary
		// table each time (the SELECT reads the table it inserts into).
		insert: `INSERT INTO ` + t + ` (consumer, event_id, processed_at) VALUES (?, ?, ?) ON CONFLICT (consumer, event_id) DO NOTHING`,
		prune:  `DELETE FROM ` + t + ` WHERE processed_at < ?`,
	}
	return in, nil
}

// Table returns the name of the inbox's table.
func (in *Inbox) Table() string { return in.table }

// Migrate creates the inbox's table when it does not exist (SQLite
// dialect), and prepares the statements the inbox runs for every event.
func (in *Inbox) Migrate(ctx context.Context) error {
	if _, err := in.db.ExecContext(ctx, in.q.create); err != nil {
		return fmt.Errorf("outbox: inbox: migrate %s: %w", in.table, err)
	}
	in.prepare(ctx)
	return nil
}

// Savepoint statements of a Process inside a Scope's transaction.
const (
	inboxSavepoint  = `SAVEPOINT giia_inbox_event`
	inboxRelease    = `RELEASE giia_inbox_event`
	inboxRollbackTo = `ROLLBACK TO giia_inbox_event`
)

// prepare prepares the statements run for every event. Why: the driver
// (modernc.org/sqlite) compiles the SQL of an unprepared statement each
// time it runs, about 40 µs for the record's insert, more than the insert
// itself. Without them (a failed prepare, a table created by hand) the
// inbox runs the SQL as it is.
func (in *Inbox) prepare(ctx context.Context) {
	if in.stmts.Load() != nil {
		return
	}
	var st inboxStmts
	ptrs := []**sql.Stmt{&st.insert, &st.savepoint, &st.release, &st.rollbackTo}
	for i, q := range []string{in.q.insert, inboxSavepoint, inboxRelease, inboxRollbackTo} {
		s, err := in.db.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range ptrs[:i] {
				_ = (*p).Close()
			}
			return
		}
		*ptrs[i] = s
	}
	if !in.stmts.CompareAndSwap(nil, &st) {
		for _, p := range ptrs {
			_ = (*p).Close()
		}
	}
}

// exec runs q in tx, or stmt (q prepared, bound to tx) when not nil.
func exec(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt, q string, args ...any) (sql.Result, error) {
	if stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// bind returns stmt bound to tx, nil when stmt is nil.
func bind(ctx context.Context, tx *sql.Tx, stmt *sql.Stmt) *sql.Stmt {
	if stmt == nil {
		return nil
	}
	return tx.StmtContext(ctx, stmt)
}

// adds returns how many rows the outbox to notify has added so far (0
// without one), to tell whether a transaction added any.
func (in *Inbox) adds() uint64 {
	if in.notify == nil {
		return 0
	}
	return in.notify.adds.Load()
}

// committed wakes the outbox to notify if rows were added to it since
// before was read (adds).
func (in *Inbox) committed(before uint64) {
	if in.notify != nil && in.notify.adds.Load() != before {
		in.notify.Notify()
	}
}

// Process applies an event once per consumer. It begins a transaction and
// records (consumer, eventID) in it. If the event was already recorded, it
// rolls back and returns applied false and nil: acknowledge the event.
// Otherwise it calls fn with the transaction, for the state change (and
// the events to publish, with Outbox.Add), and commits both together:
// applied is true. If fn returns an error (or panics), nothing is
// committed, neither the change nor the record, and the error is returned
// as is, so that the event is delivered again. A failure to begin, record
// or commit is returned wrapped.
//
// When ctx is one that Scope gave its run function, Process works inside
// the Scope's transaction instead of its own: it records the event and
// calls fn after a SAVEPOINT, and releases it on success (the change
// commits with the group's other events when Scope commits); on an error
// or panic of fn it rolls back to the savepoint, so that only this
// event's change and record are undone, and returns the error. applied
// true then means applied in the group, durable once Scope returns nil.
func (in *Inbox) Process(ctx context.Context, consumer string, eventID uuid.UUID, fn func(tx *sql.Tx) error) (applied bool, err error) {
	if consumer == "" || eventID == uuid.Nil || fn == nil {
		return false, fmt.Errorf("%w: inbox needs a consumer, an event id and a function", ErrInvalidOption)
	}
	if g := in.groupFrom(ctx); g != nil {
		return g.process(ctx, consumer, eventID, fn)
	}
	before := in.adds()
	tx, err := in.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("outbox: inbox: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var insert *sql.Stmt
	if st := in.stmts.Load(); st != nil {
		insert = bind(ctx, tx, st.insert)
	}
	// With a context that does not end: see group.process.
	n, err := in.record(context.WithoutCancel(ctx), tx, insert, consumer, eventID)
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	if err := fn(tx); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("outbox: inbox: commit event %s for %s: %w", eventID, consumer, err)
	}
	in.committed(before)
	return true, nil
}

// record inserts (consumer, eventID) in tx unless it is there, with
// insert (the prepared insert bound to tx) when not nil, and returns how
// many rows it inserted: 0 for an event already processed.
func (in *Inbox) record(ctx context.Context, tx *sql.Tx, insert *sql.Stmt, consumer string, eventID uuid.UUID) (int64, error) {
	id := eventID.String()
	res, err := exec(ctx, tx, insert, in.q.insert, consumer, id, time.Now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("outbox: inbox: record event %s for %s: %w", eventID, consumer, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("outbox: inbox: record event %s for %s: %w", eventID, consumer, err)
	}
	if n == 0 {
		in.duplicate(ctx, consumer)
	}
	return n, nil
}

// Processed reports whether consumer has processed the event.
func (in *Inbox) Processed(ctx context.Context, consumer string, eventID uuid.UUID) (bool, error) {
	var n int
	err := in.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+in.table+` WHERE consumer = ? AND event_id = ?`, consumer, eventID.String()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("outbox: inbox: lookup event %s for %s: %w", eventID, consumer, err)
	}
	return n > 0, nil
}

// Prune deletes the records of events processed more than olderThan ago
// and returns how many. Choose olderThan above the stream's max age (and
// the dead-letter replays you may make), or a pruned event delivered
// again would be applied again.
func (in *Inbox) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	res, err := in.db.ExecContext(ctx, in.q.prune, time.Now().Add(-olderThan).UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("outbox: inbox: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("outbox: inbox: prune: %w", err)
	}
	return n, nil
}

// Idempotent returns a handler that applies each event once for consumer
// (use the consuming service's name): it runs fn in an Inbox.Process
// transaction, so what fn writes with tx and the record of the event
// commit together, and an event already processed is acknowledged without
// calling fn. Events fn adds to an Outbox with tx leave once it commits
// (sooner with WithNotify).
func Idempotent[T any](in *Inbox, consumer string, fn func(ctx context.Context, tx *sql.Tx, ev bus.Event[T]) error) bus.Handler[T] {
	return func(ctx context.Context, ev bus.Event[T]) error {
		_, err := in.Process(ctx, consumer, ev.ID, func(tx *sql.Tx) error { return fn(ctx, tx, ev) })
		return err
	}
}
