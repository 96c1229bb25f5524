// Package core holds the execution service's use cases: purchase orders,
// sales orders and inventory, and its reactions to the catalog's products
// and to DDMRP's replenishment alerts.
//
// Every use case that changes state follows one path: open a transaction,
// check the request against the current state (a refusal is a
// *problem.Error and changes nothing), apply the change, collect the
// events it causes in a batch, then hand both to commit, the one place
// where the change becomes durable: the events go into the transactional
// outbox in the same transaction, and its relay publishes them once
// committed, in commit order. A reaction to a consumed event runs in the
// inbox's transaction, which also records the event's id: a redelivered
// event changes nothing twice.
package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/problem"
)

// Service runs the use cases.
type Service struct {
	st    *store.Store
	out   *events.ExecutionOutbox // the only way the use cases publish
	relay *bus.Outbox             // the outbox under out, woken after each commit
	in    *bus.Inbox
	now   func() time.Time
	log   *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger replaces slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the use cases over st, publishing through out (an outbox on
// st's database, for the execution service, used only through its typed
// facade events.ExecutionOutbox) and recording the events they consume in in (an
// inbox on st's database). An outbox of another service is an error
// wrapping bus.ErrNotPublisher.
func New(st *store.Store, out *bus.Outbox, in *bus.Inbox, opts ...Option) (*Service, error) {
	typed, err := events.NewExecutionOutbox(out)
	if err != nil {
		return nil, fmt.Errorf("execution: outbox: %w", err)
	}
	s := &Service{st: st, out: typed, relay: out, in: in, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// organization returns the organization the request or event acts for.
func organization(ctx context.Context) (uuid.UUID, error) {
	org, _, ok := bus.CorrelationFrom(ctx)
	if !ok || org == uuid.Nil {
		return uuid.Nil, errors.New("execution: no organization in the context (want bus.WithCorrelation)")
	}
	return org, nil
}

// batch collects the events of one use case, in publishing order.
type batch struct{ events []pending }

// pending is an event of a batch: stage adds it to the outbox.
type pending struct {
	name  string // the payload's Go type, for errors
	stage func(ctx context.Context, tx *sql.Tx, out *events.ExecutionOutbox) error
}

// add appends to b the event that method adds with payload. method is a
// method of events.ExecutionOutbox, such as
// (*events.ExecutionOutbox).PurchaseOrderCreated: the compiler checks that payload is
// that event's and that the event is the service's own.
func add[T any](b *batch, method func(*events.ExecutionOutbox, context.Context, *sql.Tx, T, ...bus.PublishOption) (uuid.UUID, error), payload T) {
	b.events = append(b.events, pending{
		name: fmt.Sprintf("%T", payload),
		stage: func(ctx context.Context, tx *sql.Tx, out *events.ExecutionOutbox) error {
			_, err := method(out, ctx, tx, payload)
			return err
		},
	})
}

// commit is the one place where a use case's change becomes durable: its
// events are checked against their schemas and added to the outbox in tx,
// then tx commits and the events are handed to NATS (published). A change
// whose events break their schema is not committed. The request never
// waits for NATS. tx is always finished when commit returns.
func (s *Service) commit(ctx context.Context, tx *store.Tx, b *batch) error {
	defer tx.Rollback()
	if err := s.stage(ctx, tx, b); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.published(ctx, b)
	return nil
}

// published gets the events of b, just committed, on their way: b's
// events are published from this goroutine (PublishCommitted) rather than
// by the relay's goroutine once woken, which spares the request's event a
// hand-over between goroutines and a read of the outbox that could wait
// behind the next request's transaction (the database has one
// connection): the time from commit to stream is what a client of the
// service waits for. The relay still marks them sent, retries them if they
// fail, and publishes them itself whenever it is busy.
func (s *Service) published(ctx context.Context, b *batch) {
	if len(b.events) == 0 {
		s.relay.Notify()
		return
	}
	s.relay.PublishCommitted(ctx)
}

// stage adds b's events to the outbox in tx.
func (s *Service) stage(ctx context.Context, tx *store.Tx, b *batch) error {
	for _, e := range b.events {
		if err := e.stage(ctx, tx.SQL(), s.out); err != nil {
			var ve *bus.ValidationError
			if errors.As(err, &ve) && len(ve.Violations) > 0 {
				v := ve.Violations[0]
				return problem.Invalidf("", "the %s event would break its schema at %s: %s", ve.Subject, pointerOrRoot(v.Pointer), v.Message)
			}
			return fmt.Errorf("execution: event %s: %w", e.name, err)
		}
	}
	return nil
}

func pointerOrRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// round keeps six decimals, so that sums of fractional quantities compare
// as people expect.
func round(x float64) float64 {
	r := math.Round(x*1e6) / 1e6
	if r == 0 {
		return 0
	}
	return r
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func productRef(id uuid.UUID, sku string) events.ProductRef {
	return events.ProductRef{ProductID: id, SKU: sku}
}

func quantity(v float64, unit string) events.Quantity {
	return events.Quantity{Value: round(v), Unit: events.Unit(unit)}
}

func money(m *store.Money) *events.Money {
	if m == nil {
		return nil
	}
	return &events.Money{Amount: m.Amount, Currency: m.Currency}
}
