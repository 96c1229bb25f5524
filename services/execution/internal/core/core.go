// Package core holds the execution service's use cases: purchase orders,
// sales orders and inventory, and its reactions to the catalog's products
// and to DDMRP's replenishment alerts.
//
// Every use case that changes state follows one path: open a transaction,
// check the request against the current state (a refusal is a
// *problem.Error and changes nothing), apply the change, collect the
// events it causes in a batch, then hand both to Commit, the one place
// where the change becomes durable (services/internal/usecase, shared by
// every service): the events go into the transactional outbox in the same
// transaction, and are published once committed, in commit order. A
// reaction to a consumed event runs in the inbox's transaction, which also
// records the event's id: a redelivered event changes nothing twice.
package core

import (
	"log/slog"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/execution/internal/store"
	"github.com/giia/events/services/internal/problem"
	"github.com/giia/events/services/internal/usecase"
)

// Service runs the use cases.
type Service struct {
	st  *store.Store
	uc  *usecase.Core[*events.ExecutionOutbox] // commit, publish, the inbox
	now func() time.Time
	log *slog.Logger
}

// batch collects the events of one use case, in publishing order.
type batch = usecase.Batch[*events.ExecutionOutbox]

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
// wrapping bus.ErrNotPublisher. A change whose event would break its
// schema is refused as invalid, naming where.
func New(st *store.Store, out *outbox.Outbox, in *outbox.Inbox, opts ...Option) (*Service, error) {
	s := &Service{st: st, now: time.Now, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	uc, err := usecase.New(usecase.Config[*events.ExecutionOutbox]{
		Name: events.ServiceExecution, Outbox: out, Typed: events.NewExecutionOutbox, Inbox: in, Log: s.log,
		InvalidEvent: func(ve *payload.ValidationError) error {
			v := ve.Violations[0]
			return problem.Invalidf("", "the %s event would break its schema at %s: %s", ve.Subject, pointerOrRoot(v.Pointer), v.Message)
		},
	})
	if err != nil {
		return nil, err
	}
	s.uc = uc
	return s, nil
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
