// Package core holds the execution service's use cases: purchase orders,
// sales orders and inventory, and its reactions to the catalog's products
// and to DDMRP's replenishment alerts.
//
// Every use case that changes state follows one path: open a transaction,
// check the request against the current state (a refusal is a
// *problem.Error and changes nothing), apply the change, collect the
// events it causes in a batch, then hand both to commit, the one place
// where the change becomes durable and the events leave.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/problem"
)

// ErrNotPublished is returned when a change was committed but one of its
// events could not be published. The transactional outbox (issue 4) closes
// this gap; until then the error is reported, not hidden.
var ErrNotPublished = errors.New("execution: change committed but its events were not all published")

// Service runs the use cases.
type Service struct {
	st  *store.Store
	pub *events.ExecutionPublisher
	now func() time.Time
	log *slog.Logger

	// commitMu makes commit-then-publish one step: events leave in the
	// order their changes committed, so a consumer that sets its copy from
	// an event (inventory.updated's balance) never sees an older state
	// after a newer one.
	commitMu sync.Mutex
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithLogger replaces slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// New returns the use cases over st, publishing with pub.
func New(st *store.Store, pub *events.ExecutionPublisher, opts ...Option) *Service {
	s := &Service{st: st, pub: pub, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	return s
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

type pending struct {
	subject  string
	id       uuid.UUID
	validate func() error
	publish  func(ctx context.Context, opts ...bus.PublishOption) error
}

// add appends an event to b: its payload and the facade method that
// publishes it. The event id is fixed now, so that a retried publish is
// stored once.
func add[T any, PT interface {
	*T
	Validate() error
}](b *batch, subject string, payload T,
	publish func(context.Context, T, ...bus.PublishOption) (*bus.PublishAck, error),
) {
	b.events = append(b.events, pending{
		subject:  subject,
		id:       uuid.New(),
		validate: func() error { return PT(&payload).Validate() },
		publish: func(ctx context.Context, opts ...bus.PublishOption) error {
			_, err := publish(ctx, payload, opts...)
			return err
		},
	})
}

// commit is the one place where a use case's change becomes durable and
// its events leave. Every event is checked against its schema first, so a
// change whose events could not be published is never committed. Then the
// transaction commits and the events are published in order, each with the
// id fixed when it was added, whatever happens to ctx after the commit. tx
// is always finished when commit returns.
func (s *Service) commit(ctx context.Context, tx *store.Tx, b *batch) error {
	defer tx.Rollback()
	for _, e := range b.events {
		if err := e.validate(); err != nil {
			var ve *bus.ValidationError
			if errors.As(err, &ve) && len(ve.Violations) > 0 {
				v := ve.Violations[0]
				return problem.Invalidf("", "the %s event would break its schema at %s: %s", e.subject, pointerOrRoot(v.Pointer), v.Message)
			}
			return fmt.Errorf("execution: event %s: %w", e.subject, err)
		}
	}
	s.commitMu.Lock()
	defer s.commitMu.Unlock()
	if err := tx.Commit(); err != nil {
		return err
	}
	// The change is committed: a caller that stops waiting (an HTTP
	// client gone) must not stop its events. The publisher's own timeout
	// and retries bound this.
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, e := range b.events {
		if err := e.publish(ctx, bus.WithEventID(e.id)); err != nil {
			s.log.ErrorContext(ctx, "event not published", "subject", e.subject, "event_id", e.id, "err", err)
			errs = append(errs, fmt.Errorf("%s %s: %w", e.subject, e.id, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrNotPublished, errors.Join(errs...))
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
