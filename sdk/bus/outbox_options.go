package bus

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"
)

// OutboxOption configures NewOutbox. Options check their arguments and
// return an error wrapping ErrInvalidOption when one is unusable.
type OutboxOption func(*outboxOptions) error

type outboxOptions struct {
	table        string
	batch        int
	poll         time.Duration
	minBackoff   time.Duration
	maxBackoff   time.Duration
	markEvery    time.Duration
	retention    time.Duration
	errorHandler func(error)
}

// Defaults of the outbox options.
const (
	DefaultOutboxTable      = "giia_outbox"
	DefaultOutboxBatch      = 256
	DefaultOutboxPoll       = 100 * time.Millisecond
	DefaultOutboxMinBackoff = 50 * time.Millisecond
	DefaultOutboxMaxBackoff = 2 * time.Second
	DefaultOutboxRetention  = 24 * time.Hour

	// DefaultOutboxMarkEvery bounds how long acknowledged rows wait to be
	// marked sent. It enters the duplicates-window formula (see Outbox).
	// The relay marks them sooner, after outboxMarkDelay, in one UPDATE
	// for every row acknowledged meanwhile (at once while a Flush waits).
	DefaultOutboxMarkEvery = time.Second
)

// outboxMarkDelay is how long the relay lets acknowledged rows wait before
// it marks them sent, unless WithOutboxMarkEvery is shorter. Why wait at
// all: the UPDATE takes the connection the requests use (one, with
// SQLite), so marking after every ack made the next request, and the
// relay's read of the row that request commits, wait for it. One UPDATE
// every few milliseconds for all the rows acknowledged meanwhile costs a
// request almost nothing. Waiting longer only widens, within
// markEvery, what a crash would publish twice (deduplicated by the stream).
const outboxMarkDelay = 20 * time.Millisecond

func defaultOutboxOptions() outboxOptions {
	return outboxOptions{
		table:      DefaultOutboxTable,
		batch:      DefaultOutboxBatch,
		poll:       DefaultOutboxPoll,
		minBackoff: DefaultOutboxMinBackoff,
		maxBackoff: DefaultOutboxMaxBackoff,
		markEvery:  DefaultOutboxMarkEvery,
		retention:  DefaultOutboxRetention,
		errorHandler: func(err error) {
			slog.Warn("bus: outbox relay", "err", err)
		},
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

// WithOutboxTable sets the outbox's table (default "giia_outbox"), for two
// outboxes in one database or a naming scheme of your own.
func WithOutboxTable(name string) OutboxOption {
	return func(o *outboxOptions) error {
		if err := checkTable(name); err != nil {
			return err
		}
		o.table = name
		return nil
	}
}

// WithOutboxBatch sets how many pending rows the relay reads at most at
// once (default 256), and so how many it has in flight, published and not
// yet acknowledged. Rows are published one after the other in commit
// order; the batch only bounds one read and the memory it takes.
func WithOutboxBatch(n int) OutboxOption {
	return func(o *outboxOptions) error {
		if n < 1 || n > 10000 {
			return fmt.Errorf("%w: outbox batch %d (want 1 to 10000)", ErrInvalidOption, n)
		}
		o.batch = n
		return nil
	}
}

// WithOutboxPollInterval sets how often an idle relay looks for pending
// rows on its own (default 100ms): rows written by another process, or
// left by a crashed run, whose writer could not Notify it. Rows added
// through this Outbox and followed by Notify leave at once.
func WithOutboxPollInterval(d time.Duration) OutboxOption {
	return func(o *outboxOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: outbox poll interval %v (want > 0)", ErrInvalidOption, d)
		}
		o.poll = d
		return nil
	}
}

// WithOutboxBackoff sets the relay's wait after a failed round (NATS
// unreachable, the database failing): first, doubling up to limit
// (default 50ms to 2s). limit enters the duplicates-window formula (see
// Outbox).
func WithOutboxBackoff(first, limit time.Duration) OutboxOption {
	return func(o *outboxOptions) error {
		if first <= 0 || limit < first {
			return fmt.Errorf("%w: outbox backoff %v to %v (want 0 < first <= limit)", ErrInvalidOption, first, limit)
		}
		o.minBackoff, o.maxBackoff = first, limit
		return nil
	}
}

// WithOutboxMarkEvery bounds how long rows acknowledged by the stream wait
// to be marked sent (default 1s; see DefaultOutboxMarkEvery). The relay
// marks them within 20ms, or d when shorter, unless it is held up (by the
// database, say).
func WithOutboxMarkEvery(d time.Duration) OutboxOption {
	return func(o *outboxOptions) error {
		if d <= 0 {
			return fmt.Errorf("%w: outbox mark interval %v (want > 0)", ErrInvalidOption, d)
		}
		o.markEvery = d
		return nil
	}
}

// WithOutboxRetention sets how long sent rows are kept before the relay
// deletes them (default 24h); 0 deletes them at the relay's next pruning,
// which runs every quarter of the retention, at least every poll interval
// and at most every minute.
func WithOutboxRetention(d time.Duration) OutboxOption {
	return func(o *outboxOptions) error {
		if d < 0 {
			return fmt.Errorf("%w: outbox retention %v (want >= 0)", ErrInvalidOption, d)
		}
		o.retention = d
		return nil
	}
}

// WithOutboxErrorHandler receives every failed relay round: a publish
// that failed (a *PublishError, matching ErrPublishFailed) or a database
// error. The relay keeps retrying either way. Default: log with log/slog
// at warning level.
func WithOutboxErrorHandler(f func(error)) OutboxOption {
	return func(o *outboxOptions) error {
		if f == nil {
			return fmt.Errorf("%w: nil outbox error handler", ErrInvalidOption)
		}
		o.errorHandler = f
		return nil
	}
}

// markAfter is how long acknowledged rows wait to be marked sent.
func (o *outboxOptions) markAfter() time.Duration {
	return min(o.markEvery, outboxMarkDelay)
}

// pruneEvery is how often the relay deletes sent rows past retention.
func (o *outboxOptions) pruneEvery() time.Duration {
	return min(max(o.retention/4, o.poll), time.Minute)
}
