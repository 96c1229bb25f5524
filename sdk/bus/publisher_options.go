package bus

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// PublisherOption configures NewPublisher. Options check their arguments
// and return an error wrapping ErrInvalidOption when one is unusable.
type PublisherOption func(*publisherOptions) error

type publisherOptions struct {
	attempts   int
	backoff    time.Duration
	timeout    time.Duration
	maxPending int
}

// DefaultMaxPending is how many asynchronous publishes a Publisher keeps
// in flight at most unless WithMaxPending says otherwise.
const DefaultMaxPending = 4000

func defaultPublisherOptions() publisherOptions {
	return publisherOptions{attempts: 3, backoff: 50 * time.Millisecond, timeout: 5 * time.Second, maxPending: DefaultMaxPending}
}

// WithMaxPending bounds the events PublishAsync keeps in flight, sent or
// waiting for a retry, not yet acknowledged (default DefaultMaxPending).
// PublishAsync waits for room beyond it.
func WithMaxPending(n int) PublisherOption {
	return func(o *publisherOptions) error {
		if n < 1 {
			return fmt.Errorf("%w: max pending %d (want >= 1)", ErrInvalidOption, n)
		}
		o.maxPending = n
		return nil
	}
}

// WithRetry sets how many attempts a publish makes when a failure is
// transient (a timeout, no responders, a lost or reconnecting connection,
// JetStream temporarily unavailable) and the wait before the second
// attempt, doubled after each further one up to 5s (a longer first wait
// is kept, not doubled). Each wait is drawn at random between half that
// and that, so that publishers failing together do not retry together:
// with the default a wait is never above 50ms, 100ms, 200ms... and never
// below half of it. Default: 3 attempts, 50ms.
// Retries stop early when the caller's context ends. Every attempt sends
// the same Nats-Msg-Id, so the stream stores the event once however many
// attempts reached it.
func WithRetry(attempts int, backoff time.Duration) PublisherOption {
	return func(o *publisherOptions) error {
		if attempts < 1 {
			return fmt.Errorf("%w: retry attempts %d (want >= 1)", ErrInvalidOption, attempts)
		}
		if backoff < 0 {
			return fmt.Errorf("%w: retry backoff %v (want >= 0)", ErrInvalidOption, backoff)
		}
		o.attempts, o.backoff = attempts, backoff
		return nil
	}
}

// WithPublishTimeout bounds each attempt's wait for the stream's ack
// (default 5s); the caller's context bounds the whole publish. For
// PublishAsync it is the wait for each attempt's ack.
func WithPublishTimeout(d time.Duration) PublisherOption {
	return func(o *publisherOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: publish timeout %v (want > 0)", ErrInvalidOption, d)
		}
		o.timeout = d
		return nil
	}
}

// PublishOption sets a field of one published envelope. An option given a
// value the envelope schema would refuse returns an error wrapping
// ErrInvalidOption, which Publish returns with nothing sent.
type PublishOption func(*publishOptions) error

type publishOptions struct {
	id             uuid.UUID
	hasID          bool
	correlationID  string
	hasCorrelation bool
	organizationID uuid.UUID
	hasOrg         bool
	timestamp      time.Time
	hasTimestamp   bool
}

// WithEventID sets the event id (default: a new random UUID). Publishing
// twice with the same id inside the stream's duplicates window stores
// the event once: use it to make a publish idempotent, e.g. from an
// outbox. uuid.Nil is refused.
func WithEventID(id uuid.UUID) PublishOption {
	return func(o *publishOptions) error {
		if id == uuid.Nil {
			return fmt.Errorf("%w: event id is uuid.Nil", ErrInvalidOption)
		}
		o.id, o.hasID = id, true
		return nil
	}
}

// WithCorrelationID sets the correlation id, 1 to 128 characters
// (default: the one in the context, see WithCorrelation, else the event's
// own id).
func WithCorrelationID(id string) PublishOption {
	return func(o *publishOptions) error {
		if id == "" {
			return fmt.Errorf("%w: empty correlation id", ErrInvalidOption)
		}
		if n := utf8.RuneCountInString(id); n > maxCorrelationID {
			return fmt.Errorf("%w: correlation id of %d characters (want at most %d)", ErrInvalidOption, n, maxCorrelationID)
		}
		o.correlationID, o.hasCorrelation = id, true
		return nil
	}
}

// WithOrganizationID sets the organization (tenant) of the event
// (default: the one in the context, see WithCorrelation, else uuid.Nil).
func WithOrganizationID(id uuid.UUID) PublishOption {
	return func(o *publishOptions) error {
		o.organizationID, o.hasOrg = id, true
		return nil
	}
}

// WithTimestamp sets the event's timestamp (default: now); it is sent in
// UTC.
func WithTimestamp(t time.Time) PublishOption {
	return func(o *publishOptions) error {
		if y := t.UTC().Year(); y < 0 || y > 9999 {
			return fmt.Errorf("%w: timestamp %v has no RFC 3339 form (year outside [0,9999])", ErrInvalidOption, t)
		}
		o.timestamp, o.hasTimestamp = t, true
		return nil
	}
}
