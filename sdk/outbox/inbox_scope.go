package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// DefaultScopeMax is the number of deliveries a consumer should hand to
// one Scope on SQLite (bus.WithHandlerScope's max): enough to spread a
// transaction's BEGIN and COMMIT (about 100 µs together with
// modernc.org/sqlite) over many events, few enough that a transaction
// holds the database's one connection for only a few milliseconds, which
// the service's requests wait for.
const DefaultScopeMax = 64

// Scope applies the events that run processes in one database transaction
// (group commit): it gives run a context that makes every Process of in
// called with it (or a context derived from it) work inside that
// transaction, each event behind its own SAVEPOINT, then commits. Once
// committed it wakes the outbox of WithNotify, once and only if the group
// added rows to it, then runs the callbacks AfterCommit registered, in
// order, with ctx. It returns nil once committed: every event Process
// reported applied is durable, and so is each record of an event. An
// event whose fn failed was rolled back alone and is not recorded (its
// Process returned the error): the others commit. Scope has the shape of
// a bus.HandlerScope: give it to the consumer (bus.WithHandlerScope) and
// the consumer acknowledges each delivery only after the commit.
//
// If the transaction cannot begin or commit, or a savepoint cannot be set
// or undone, nothing of the group is committed and Scope returns the
// error wrapped: every delivery of the group must be delivered again.
// run must call Process for one event at a time (the consumer calls the
// handlers of a group in order); a Process of another inbox with run's
// context does not join the transaction. Scope called with a context
// that already carries one of in's groups only runs run, inside it.
// The transaction begins with the first Process, so that a group without
// one does not touch the database.
func (in *Inbox) Scope(ctx context.Context, run func(ctx context.Context)) error {
	if in.groupFrom(ctx) != nil {
		run(ctx)
		return nil
	}
	g := &group{in: in, ctx: ctx, before: in.adds()}
	committed := false
	defer func() {
		if g.tx != nil && !committed { // an error, or run panicked
			_ = g.tx.Rollback()
		}
	}()
	run(context.WithValue(ctx, groupKey{}, g))
	if g.err != nil {
		return g.err
	}
	if g.tx != nil {
		if err := g.tx.Commit(); err != nil {
			return fmt.Errorf("outbox: inbox: commit a group of %d events: %w", g.events, err)
		}
		committed = true
		in.committed(g.before)
	}
	for _, f := range g.after {
		f(ctx)
	}
	return nil
}

// AfterCommit runs fn, with the Scope's context, once the transaction in
// which the events processed with ctx commit: after Scope's commit when
// ctx carries a group of in (not at all if the group rolls back, nor if
// it was registered by an fn of Process whose event was rolled back to
// its savepoint), at once otherwise. Call it once Process returned, for
// what must wait for the change to be durable: publishing the events it
// added to the outbox (Outbox.PublishCommitted), say.
func (in *Inbox) AfterCommit(ctx context.Context, fn func(ctx context.Context)) {
	if g := in.groupFrom(ctx); g != nil {
		g.after = append(g.after, fn)
		return
	}
	fn(ctx)
}

// groupKey is the context key of a Scope's group.
type groupKey struct{}

// groupFrom returns the group of in that ctx carries, nil when none.
func (in *Inbox) groupFrom(ctx context.Context) *group {
	g, _ := ctx.Value(groupKey{}).(*group)
	if g == nil || g.in != in {
		return nil
	}
	return g
}

// group is a Scope's transaction and what it collected.
type group struct {
	in     *Inbox
	ctx    context.Context // the Scope's: the transaction's
	before uint64          // the outbox's adds when the group began
	tx     *sql.Tx         // begun by the first Process
	err    error           // the transaction failed: nothing commits

	// The inbox's statements bound to tx, nil when not prepared.
	insert, savepoint, release, rollbackTo *sql.Stmt

	after  []func(context.Context)
	events int // processed in the group, for errors
}

// begin begins the group's transaction, once.
func (g *group) begin() error {
	if g.tx != nil {
		return nil
	}
	tx, err := g.in.db.BeginTx(g.ctx, nil)
	if err != nil {
		return fmt.Errorf("outbox: inbox: begin a group: %w", err)
	}
	g.tx = tx
	if st := g.in.stmts.Load(); st != nil {
		g.insert = bind(g.ctx, tx, st.insert)
		g.savepoint = bind(g.ctx, tx, st.savepoint)
		g.release = bind(g.ctx, tx, st.release)
		g.rollbackTo = bind(g.ctx, tx, st.rollbackTo)
	}
	return nil
}

// fail records that the group's transaction cannot commit and returns
// err.
func (g *group) fail(err error) error {
	if g.err == nil {
		g.err = err
	}
	return err
}

// process is Process inside the group: the record and fn's change behind
// a savepoint, released on success, rolled back to (with the callbacks fn
// registered) on an error or a panic of fn.
func (g *group) process(ctx context.Context, consumer string, eventID uuid.UUID, fn func(tx *sql.Tx) error) (applied bool, err error) {
	if g.err != nil {
		return false, g.err
	}
	if err := g.begin(); err != nil {
		return false, g.fail(err)
	}
	g.events++
	// The inbox's own statements run with a context that does not end:
	// given one that can, the driver watches it from a goroutine for
	// every statement. ctx is checked once fn returned.
	hctx := ctx
	ctx = context.WithoutCancel(ctx)
	if _, err := exec(ctx, g.tx, g.savepoint, inboxSavepoint); err != nil {
		return false, g.fail(fmt.Errorf("outbox: inbox: savepoint for event %s: %w", eventID, err))
	}
	mark := len(g.after)
	settled := false
	defer func() {
		if !settled { // fn panicked: undo its work, then let the panic go on
			g.undo(eventID, mark)
		}
	}()
	n, err := g.in.record(ctx, g.tx, g.insert, consumer, eventID)
	if err == nil && n > 0 {
		if err = fn(g.tx); err == nil {
			err = hctx.Err()
		}
	}
	settled = true
	if err != nil {
		if uerr := g.undo(eventID, mark); uerr != nil {
			return false, errors.Join(err, uerr)
		}
		return false, err
	}
	if _, err := exec(ctx, g.tx, g.release, inboxRelease); err != nil {
		return false, g.fail(fmt.Errorf("outbox: inbox: release the savepoint of event %s: %w", eventID, err))
	}
	return n > 0, nil
}

// undo rolls the group back to the savepoint of eventID and drops the
// callbacks registered since mark. Failing, the group cannot commit.
func (g *group) undo(eventID uuid.UUID, mark int) error {
	g.after = g.after[:mark]
	ctx := context.WithoutCancel(g.ctx)
	if _, err := exec(ctx, g.tx, g.rollbackTo, inboxRollbackTo); err != nil {
		return g.fail(fmt.Errorf("outbox: inbox: roll back event %s to its savepoint: %w", eventID, err))
	}
	if _, err := exec(ctx, g.tx, g.release, inboxRelease); err != nil {
		return g.fail(fmt.Errorf("outbox: inbox: release the savepoint of event %s: %w", eventID, err))
	}
	return nil
}
