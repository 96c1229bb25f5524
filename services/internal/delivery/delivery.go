// Package delivery sets up what makes a service's messaging reliable, on
// its own database: the transactional outbox every event it publishes goes
// through, and the inbox that makes its consumers idempotent.
package delivery

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/giia/events/sdk/bus"
)

// Open returns the outbox (relay not started) and the inbox of the
// service pub publishes for, on db, creating their tables when missing.
// The relay's failures are logged with log at warning level.
func Open(ctx context.Context, db *sql.DB, pub *bus.Publisher, log *slog.Logger, opts ...bus.OutboxOption) (*bus.Outbox, *bus.Inbox, error) {
	if log == nil {
		log = slog.Default()
	}
	opts = append([]bus.OutboxOption{bus.WithOutboxErrorHandler(func(err error) {
		log.Warn("events not published yet; retrying", "err", err)
	})}, opts...)
	out, err := bus.NewOutbox(db, pub, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: outbox: %w", pub.Service(), err)
	}
	if err := out.Migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pub.Service(), err)
	}
	in, err := bus.NewInbox(db, bus.WithInboxNotify(out))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: inbox: %w", pub.Service(), err)
	}
	if err := in.Migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pub.Service(), err)
	}
	return out, in, nil
}

// DefaultStopTimeout bounds Stop when its context has no deadline.
const DefaultStopTimeout = 10 * time.Second

// Stop stops the relay of out once the events committed so far are
// published, or when ctx ends (within DefaultStopTimeout if ctx has no
// deadline). Events still pending then stay in the outbox for the next
// start: that is logged, not an error.
func Stop(ctx context.Context, out *bus.Outbox, log *slog.Logger) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStopTimeout)
		defer cancel()
	}
	err := out.Stop(ctx)
	if errors.Is(err, bus.ErrOutboxPending) {
		if log == nil {
			log = slog.Default()
		}
		s := out.Stats()
		log.Warn("events left in the outbox for the next start", "pending", s.Pending, "err", err)
		return nil
	}
	return err
}
