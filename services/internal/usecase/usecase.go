// Package usecase is what the use cases of every service share: the one
// path by which a change becomes durable, and the reactions to the events
// a service consumes.
//
// A change runs in a transaction of the service's store; the events it
// causes are collected in a Batch, typed by the service's outbox facade
// (events.ExecutionOutbox, events.DDMRPOutbox), and Commit is the one
// place where it becomes durable: the events go into the transactional
// outbox in the same transaction, and are published once committed, in
// commit order. A reaction to a consumed event (Handle) runs in the
// inbox's transaction, which also records the event's id: a redelivered
// event changes nothing twice.
package usecase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/internal/problem"
)

// Config is what differs from one service's core to another's. O is the
// service's typed outbox facade.
type Config[O any] struct {
	// Name is the service's name in the catalog (events.ServiceExecution...):
	// its inbox's consumer and its errors' prefix.
	Name string

	// Outbox is the outbox on the service's database; the use cases
	// publish only through the facade Typed makes of it
	// (events.NewExecutionOutbox...), which refuses an outbox of another
	// service (bus.ErrNotPublisher).
	Outbox *outbox.Outbox
	Typed  func(*outbox.Outbox) (O, error)

	// Inbox records the events the service consumes, on its database.
	Inbox *outbox.Inbox

	Log *slog.Logger // default slog.Default()

	// InvalidEvent, when set, is what a change whose event breaks its
	// schema returns (a refusal of the request, for a service whose
	// requests reach its events unchecked); otherwise that is the
	// service's own error, wrapped with the event's type.
	InvalidEvent func(*payload.ValidationError) error
}

// Core holds the shared part of a service's use cases.
type Core[O any] struct {
	name    string
	out     O              // the only way the use cases publish
	relay   *outbox.Outbox // the outbox under out, given each commit's events
	in      *outbox.Inbox
	log     *slog.Logger
	invalid func(*payload.ValidationError) error
}

// New returns the core of cfg.Name's use cases. An outbox of another
// service is an error wrapping bus.ErrNotPublisher.
func New[O any](cfg Config[O]) (*Core[O], error) {
	typed, err := cfg.Typed(cfg.Outbox)
	if err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", cfg.Name, err)
	}
	c := &Core[O]{name: cfg.Name, out: typed, relay: cfg.Outbox, in: cfg.Inbox, log: cfg.Log, invalid: cfg.InvalidEvent}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Organization returns the organization the request or event acts for
// (bus.WithCorrelation's).
func (c *Core[O]) Organization(ctx context.Context) (uuid.UUID, error) {
	org, _, ok := bus.CorrelationFrom(ctx)
	if !ok || org == uuid.Nil {
		return uuid.Nil, fmt.Errorf("%s: no organization in the context (want bus.WithCorrelation)", c.name)
	}
	return org, nil
}

// Batch collects the events of one change, in publishing order.
type Batch[O any] struct{ events []pending[O] }

// pending is an event of a batch: stage adds it to the outbox.
type pending[O any] struct {
	name  string // the payload's Go type, for errors
	stage func(ctx context.Context, tx *sql.Tx, out O) error
}

// Add appends to b the event that method adds with p. method is a method
// of the service's outbox facade, such as
// (*events.ExecutionOutbox).PurchaseOrderCreated: the compiler checks that
// p is that event's and that the event is the service's own.
func Add[O, T any](b *Batch[O], method func(O, context.Context, *sql.Tx, T, ...bus.PublishOption) (uuid.UUID, error), p T) {
	b.events = append(b.events, pending[O]{
		name: fmt.Sprintf("%T", p),
		stage: func(ctx context.Context, tx *sql.Tx, out O) error {
			_, err := method(out, ctx, tx, p)
			return err
		},
	})
}

// Tx is a transaction of a service's store.
type Tx interface {
	SQL() *sql.Tx // for the outbox to add the change's events to it
	Commit() error
	Rollback() // a no-op after Commit
}

// Commit is the one place where a change becomes durable: b's events are
// checked against their schemas and added to the outbox in tx, then tx
// commits and the events are handed to NATS (Published). A change whose
// events break their schema is not committed. The request never waits for
// NATS. tx is always finished when Commit returns.
func (c *Core[O]) Commit(ctx context.Context, tx Tx, b *Batch[O]) error {
	defer tx.Rollback()
	if err := c.stage(ctx, tx.SQL(), b); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	c.published(ctx, b)
	return nil
}

// stage adds b's events to the outbox in tx.
func (c *Core[O]) stage(ctx context.Context, tx *sql.Tx, b *Batch[O]) error {
	for _, e := range b.events {
		if err := e.stage(ctx, tx, c.out); err != nil {
			var ve *payload.ValidationError
			if c.invalid != nil && errors.As(err, &ve) && len(ve.Violations) > 0 {
				return c.invalid(ve)
			}
			if errors.Is(err, bus.ErrTooLarge) {
				// Refused before anything commits: the stream could not
				// carry the change's event.
				return &problem.Error{Kind: problem.TooLarge, Message: fmt.Sprintf("the change's %s event is too large to publish: %v", e.name, err)}
			}
			return fmt.Errorf("%s: event %s: %w", c.name, e.name, err)
		}
	}
	return nil
}

// published gets the events of b, just committed, on their way: they are
// published from this goroutine (Outbox.PublishCommitted) rather than by
// the relay's goroutine once woken, which spares the request's event a
// hand-over between goroutines and a read of the outbox that could wait
// behind the next request's transaction (the database has one
// connection): the time from commit to stream is what a client of the
// service waits for. The relay still marks them sent, retries them if
// they fail, and publishes them itself whenever it is busy. A change
// without events leaves the relay alone: there is nothing to read (its
// periodic poll still runs).
func (c *Core[O]) published(ctx context.Context, b *Batch[O]) {
	if len(b.events) == 0 {
		return
	}
	c.relay.PublishCommitted(ctx)
}

// ErrNothingToDo makes a reaction of Handle roll back and succeed.
var ErrNothingToDo = errors.New("nothing to do")

// Reaction changes the state for one event, in tx (begun by the inbox on
// the service's database), and adds the events the change causes to b.
type Reaction[O, T any] func(ctx context.Context, tx *sql.Tx, ev bus.Event[T], b *Batch[O]) error

// Handle makes a handler of react: in one inbox transaction it records
// the event's id, runs react and adds react's events to the outbox; an
// event already recorded is acknowledged without running react again.
// react returning ErrNothingToDo rolls everything back and acknowledges
// the event. The events are published once the transaction commits: at
// once when the handler ran on its own, after the group's commit when it
// ran inside the inbox's Scope (a consumer's group of deliveries applied
// in one transaction, see outbox.Inbox.Scope), never if that rolls back.
func Handle[O, T any](c *Core[O], react Reaction[O, T]) bus.Handler[T] {
	return func(ctx context.Context, ev bus.Event[T]) error {
		var b Batch[O]
		applied, err := c.in.Process(ctx, c.name, ev.ID, func(tx *sql.Tx) error {
			b = Batch[O]{}
			// The reaction's statements run with a context that does not
			// end (its values kept): given one that can, the driver
			// (modernc.org/sqlite) watches it from a goroutine of its own
			// for every statement, which cost more than most of the
			// statements. The handler's context is checked once the
			// reaction is done instead.
			sqlCtx := context.WithoutCancel(ctx)
			if err := react(sqlCtx, tx, ev, &b); err != nil {
				return err
			}
			if err := c.stage(sqlCtx, tx, &b); err != nil {
				return err
			}
			return ctx.Err()
		})
		switch {
		case errors.Is(err, ErrNothingToDo):
			return nil
		case err != nil:
			return err
		case !applied:
			c.log.InfoContext(ctx, "event already handled", "event_id", ev.ID, "subject", ev.Subject)
			return nil // nothing committed
		}
		if len(b.events) > 0 {
			c.in.AfterCommit(ctx, func(ctx context.Context) { c.published(ctx, &b) })
		}
		return nil
	}
}
