package outbox

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"go.opentelemetry.io/otel/metric"
)

// Option configures New. Options check their arguments and
// return an error wrapping ErrInvalidOption when one is unusable.
type Option func(*options) error

type options struct {
	table         string
	batch         int
	poll          time.Duration
	minBackoff    time.Duration
	maxBackoff    time.Duration
	markEvery     time.Duration
	retention     time.Duration
	errorHandler  func(error)
	logger        *slog.Logger         // of the default error handler
	meterProvider metric.MeterProvider // nil: the global one
}

// Defaults of the outbox options.
const (
	DefaultTable      = "giia_outbox"
	DefaultBatch      = 256
	DefaultPoll       = 100 * time.Millisecond
	DefaultMinBackoff = 50 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	DefaultRetention  = 24 * time.Hour

	// DefaultMarkEvery bounds how long acknowledged rows wait to be
	// marked sent. It enters the duplicates-window formula (see Outbox).
	// The relay marks them sooner, after outboxMarkDelay, in one UPDATE
	// for every row acknowledged meanwhile (at once while a Flush waits).
	DefaultMarkEvery = time.Second
)

// outboxMarkDelay is how long the relay lets acknowledged rows wait before
// it marks them sent, unless WithMarkEvery is shorter. Why wait at
// all: the UPDATE takes the connection the requests use (one, with
// SQLite), so marking after every ack made the next request, and the
// relay's read of the row that request commits, wait for it. One UPDATE
// every few milliseconds for all the rows acknowledged meanwhile costs a
// request almost nothing. Waiting longer only widens, within
// markEvery, what a crash would publish twice (deduplicated by the stream).
const outboxMarkDelay = 20 * time.Millisecond

func defaultOptions() options {
	return options{
		table:      DefaultTable,
		batch:      DefaultBatch,
		poll:       DefaultPoll,
		minBackoff: DefaultMinBackoff,
		maxBackoff: DefaultMaxBackoff,
		markEvery:  DefaultMarkEvery,
		retention:  DefaultRetention,
	}
}

// sqlName is what the outbox and the inbox accept as a table name: it is
// spliced into their SQL, so nothing that would need quoting.
var sqlName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

func checkTable(name string) error {
	if !sqlName.MatchString(name) {
		return fmt.Errorf("%w: table name %q (want letters, digits and underscores, not starting with a digit, at most 63)", ErrInvalidOption, name)
	}
	return nil
}

// WithTable sets the outbox's table (default "giia_outbox"), for two
// outboxes in one database or a naming scheme of your own.
func WithTable(name string) Option {
	return func(o *options) error {
		if err := checkTable(name); err != nil {
			return err
		}
		o.table = name
		return nil
	}
}

// WithBatch sets how many pending rows the relay reads at most at
// once (default 256), and so how many it has in flight, published and not
// yet acknowledged. Rows are published one after the other in commit
// order; the batch only bounds one read and the memory it takes.
func WithBatch(n int) Option {
	return func(o *options) error {
		if n < 1 || n > 10000 {
			return fmt.Errorf("%w: batch %d (want 1 to 10000)", ErrInvalidOption, n)
		}
		o.batch = n
		return nil
	}
}

// WithPollInterval sets how often an idle relay looks for pending
// rows on its own (default 100ms): rows written by another process, or
// left by a crashed run, whose writer could not Notify it. Rows added
// through this Outbox and followed by Notify leave at once.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%w: poll interval %v (want > 0)", ErrInvalidOption, d)
		}
		o.poll = d
		return nil
	}
}

// WithBackoff sets the relay's wait after a failed round (NATS
// unreachable, the database failing): first, doubling up to limit
// (default 50ms to 2s), each wait drawn at random between half that and
// that, so that relays failing together do not retry together; no wait is
// longer than limit, which enters the duplicates-window formula (see
// Outbox).
func WithBackoff(first, limit time.Duration) Option {
	return func(o *options) error {
		if first <= 0 || limit < first {
			return fmt.Errorf("%w: backoff %v to %v (want 0 < first <= limit)", ErrInvalidOption, first, limit)
		}
		o.minBackoff, o.maxBackoff = first, limit
		return nil
	}
}

// WithMarkEvery bounds how long rows acknowledged by the stream wait
// to be marked sent (default 1s; see DefaultMarkEvery). The relay
// marks them within 20ms, or d when shorter, unless it is held up (by the
// database, say).
func WithMarkEvery(d time.Duration) Option {
	return func(o *options) error {
		if d <= 0 {
			return fmt.Errorf("%w: mark interval %v (want > 0)", ErrInvalidOption, d)
		}
		o.markEvery = d
		return nil
	}
}

// WithRetention sets how long sent rows are kept before the relay
// deletes them (default 24h); 0 deletes them at the relay's next pruning,
// which runs every quarter of the retention, at least every poll interval
// and at most every minute.
func WithRetention(d time.Duration) Option {
	return func(o *options) error {
		if d < 0 {
			return fmt.Errorf("%w: retention %v (want >= 0)", ErrInvalidOption, d)
		}
		o.retention = d
		return nil
	}
}

// WithLogger sets the logger of the relay's failed rounds, at warning
// level, unless WithErrorHandler takes them (default: slog.Default()).
func WithLogger(log *slog.Logger) Option {
	return func(o *options) error {
		if log == nil {
			return fmt.Errorf("%w: nil logger", ErrInvalidOption)
		}
		o.logger = log
		return nil
	}
}

// WithErrorHandler receives every failed relay round: a publish
// that failed (a *PublishError, matching ErrPublishFailed) or a database
// error. The relay keeps retrying either way. Default: log at warning
// level (see WithLogger).
func WithErrorHandler(f func(error)) Option {
	return func(o *options) error {
		if f == nil {
			return fmt.Errorf("%w: nil error handler", ErrInvalidOption)
		}
		o.errorHandler = f
		return nil
	}
}

// markAfter is how long acknowledged rows wait to be marked sent.
func (o *options) markAfter() time.Duration {
	return min(o.markEvery, outboxMarkDelay)
}

// pruneEvery is how often the relay deletes sent rows past retention.
func (o *options) pruneEvery() time.Duration {
	return min(max(o.retention/4, o.poll), time.Minute)
}
