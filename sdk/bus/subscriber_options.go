package bus

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/giia/events/sdk/spec"
)

// ConsumerOption configures Consume and EnsureConsumer. Options check
// their arguments and return an error wrapping ErrInvalidOption when one
// is unusable.
type ConsumerOption func(*consumerOptions) error

type consumerOptions struct {
	maxInFlight     int
	batch           int // pull batch; 0: max(maxInFlight, minPullBatch)
	maxDeliver      int
	ackWait         time.Duration
	nakDelay        func(delivered uint64) time.Duration
	versionPatience time.Duration // how long a newer version waits for an upgrade
	errorHandler    func(error)
	legacy          bool // one durable per subject even on servers that filter on several
	scope           HandlerScope
	scopeMax        int          // deliveries per scope call, when scope is set
	logger          *slog.Logger // of the default error handler

	middleware []Middleware // around every handler, the first outermost
}

// Defaults of the consumer options.
const (
	DefaultMaxInFlight = 16
	DefaultMaxDeliver  = spec.DefaultMaxDeliver
	DefaultAckWait     = spec.DefaultAckWait

	// DefaultVersionPatience is how long an event of a version newer than
	// the consumer knows waits for the consumer's upgrade before it is
	// dead-lettered.
	DefaultVersionPatience = time.Hour
)

func defaultConsumerOptions() consumerOptions {
	return consumerOptions{
		maxInFlight:     DefaultMaxInFlight,
		maxDeliver:      DefaultMaxDeliver,
		ackWait:         DefaultAckWait,
		nakDelay:        DefaultNakDelay,
		versionPatience: DefaultVersionPatience,
	}
}

func newConsumerOptions(opts []ConsumerOption) (consumerOptions, error) {
	o := defaultConsumerOptions()
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	if o.errorHandler == nil {
		log := o.logger
		if log == nil {
			log = slog.Default()
		}
		o.errorHandler = func(err error) { log.Warn("bus: consumer error", "err", err) }
	}
	return o, nil
}

// DefaultNakDelay is the default wait before redelivering a message whose
// handler failed: 100ms after the first delivery, doubling with each
// further one, at most 10s.
func DefaultNakDelay(delivered uint64) time.Duration {
	const first, limit = 100 * time.Millisecond, 10 * time.Second
	if delivered < 1 {
		delivered = 1
	}
	if delivered > 8 { // 100ms << 7 > 10s already
		return limit
	}
	return min(first<<(delivered-1), limit)
}

// WithMaxInFlight bounds how many handlers run at once for the
// subscription (default 16). With more than one in flight, events may be
// handled out of order; with one, each durable's events are handled in
// stream order (redeliveries aside). It does not set how many messages
// are pulled at a time: see WithPullBatch.
func WithMaxInFlight(n int) ConsumerOption {
	return func(o *consumerOptions) error {
		if n < 1 {
			return fmt.Errorf("%w: max in flight %d (want >= 1)", ErrInvalidOption, n)
		}
		o.maxInFlight = n
		return nil
	}
}

// WithPullBatch sets how many messages each durable holds on the client
// at most: messages received but not yet handed to a handler, whose ack
// timers already run (and which Stop gives back with Nak). Half of them
// are pulled at a time, the other half wait queued for the handlers (with
// WithHandlerScope, the queue holds at least a group). The default is the
// larger of WithMaxInFlight and 64. With handlers slow enough that a full
// buffer takes longer than AckWait to work through (batch/maxInFlight
// handler durations), lower it, or buffered messages are redelivered
// while they wait.
func WithPullBatch(n int) ConsumerOption {
	return func(o *consumerOptions) error {
		if n < 1 {
			return fmt.Errorf("%w: pull batch %d (want >= 1)", ErrInvalidOption, n)
		}
		o.batch = n
		return nil
	}
}

// WithMaxDeliver sets how many times a message is delivered to a failing
// handler before it is dead-lettered (default 5).
func WithMaxDeliver(n int) ConsumerOption {
	return func(o *consumerOptions) error {
		if n < 1 {
			return fmt.Errorf("%w: max deliver %d (want >= 1)", ErrInvalidOption, n)
		}
		o.maxDeliver = n
		return nil
	}
}

// WithAckWait sets how long the server waits for an acknowledgement
// before redelivering (default 30s). A handler running longer is kept
// alive with InProgress every half of it.
func WithAckWait(d time.Duration) ConsumerOption {
	return func(o *consumerOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: ack wait %v (want > 0)", ErrInvalidOption, d)
		}
		o.ackWait = d
		return nil
	}
}

// WithNakDelay sets the wait before redelivering a message whose handler
// failed, given how many times it has been delivered (default
// DefaultNakDelay).
func WithNakDelay(f func(delivered uint64) time.Duration) ConsumerOption {
	return func(o *consumerOptions) error {
		if f == nil {
			return fmt.Errorf("%w: nil nak delay function", ErrInvalidOption)
		}
		o.nakDelay = f
		return nil
	}
}

// WithVersionPatience sets how long an event of a version newer than the
// consumer's catalog knows is redelivered, with a growing delay, waiting
// for the consumer to be upgraded, before it is dead-lettered (default
// DefaultVersionPatience, an hour). Each wait is reported to the error
// handler as ErrUnknownVersion. The wait is measured from the time the
// stream stored the event.
func WithVersionPatience(d time.Duration) ConsumerOption {
	return func(o *consumerOptions) error {
		if d < 0 {
			return fmt.Errorf("%w: version patience %v (want >= 0)", ErrInvalidOption, d)
		}
		o.versionPatience = d
		return nil
	}
}

// WithLogger sets the logger of the subscription's non-fatal errors, at
// warning level, unless WithErrorHandler takes them (default:
// slog.Default()).
func WithLogger(log *slog.Logger) ConsumerOption {
	return func(o *consumerOptions) error {
		if log == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = log
		return nil
	}
}

// WithErrorHandler receives the subscription's non-fatal errors: a dead
// letter that could not be stored (ErrDeadLetter), an acknowledgement that
// could not be sent (ErrAck), a failed or recovering fetch (ErrFetch). It
// may be called from several goroutines at once. Default: log at warning
// level (see WithLogger).
func WithErrorHandler(f func(error)) ConsumerOption {
	return func(o *consumerOptions) error {
		if f == nil {
			return fmt.Errorf("%w: nil error handler", ErrInvalidOption)
		}
		o.errorHandler = f
		return nil
	}
}

// WithHandlerScope runs the handlers of up to max consecutive deliveries
// inside one call of scope, for example one database transaction per
// group instead of one per event (max in [1, MaxHandlerScope], scope not
// nil).
//
// A worker takes the delivery in hand plus up to max-1 more that are
// already buffered for it, in stream order; it never waits for more to
// arrive, so a trickle of events makes groups of one. Deliveries that
// cannot reach a handler (an invalid envelope or payload, a version
// waiting for an upgrade, a dead letter) are settled at once, as without
// a scope. The worker then calls scope once; run(ctx) calls the handler
// of each remaining delivery in order, exactly as without a scope (ctx is
// the parent of each handler's context, so what the scope puts in it
// reaches the handlers), and records each handler's outcome (nil, an
// error, a panic as an error) without settling it. While the scope runs,
// every delivery of the group is kept alive with InProgress.
//
// After scope returns nil, each delivery is settled by its own outcome:
// success acknowledges it; an error has it redelivered or dead-lettered
// exactly as without a scope, so a failing event is retried alone. If
// scope returns an error (its commit failed, say), or panics, every
// delivery whose handler succeeded is negatively acknowledged (with
// WithNakDelay's delay) to be delivered again, and the error, wrapping
// ErrHandlerScope, goes to the error handler; if scope returns nil
// without calling run, the deliveries are negatively acknowledged and
// that is reported as an ErrHandlerScope. With WithMaxInFlight(1) the
// groups, and the handlers within them, follow stream order.
//
// max 1 behaves exactly like no scope: each handler runs on its own and
// scope is never called.
func WithHandlerScope(max int, scope HandlerScope) ConsumerOption {
	return func(o *consumerOptions) error {
		if max < 1 || max > MaxHandlerScope {
			return fmt.Errorf("%w: handler scope of %d deliveries (want 1 to %d)", ErrInvalidOption, max, MaxHandlerScope)
		}
		if scope == nil {
			return fmt.Errorf("%w: nil handler scope", ErrInvalidOption)
		}
		o.scope, o.scopeMax = scope, max
		return nil
	}
}
