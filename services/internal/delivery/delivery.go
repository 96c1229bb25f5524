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
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/sdk/spec"
)

// Open returns the outbox (relay not started) and the inbox of the
// service pub publishes for, on db, creating their tables when missing.
// The relay's failures are logged with log at warning level.
func Open(ctx context.Context, db *sql.DB, pub *bus.Publisher, log *slog.Logger, opts ...outbox.Option) (*outbox.Outbox, *outbox.Inbox, error) {
	if log == nil {
		log = slog.Default()
	}
	opts = append([]outbox.Option{outbox.WithErrorHandler(func(err error) {
		log.Warn("events not published yet; retrying", "err", err)
	})}, opts...)
	out, err := outbox.New(db, pub, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: outbox: %w", pub.Service(), err)
	}
	if err := out.Migrate(ctx); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", pub.Service(), err)
	}
	in, err := outbox.NewInbox(db, outbox.WithNotify(out))
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
func Stop(ctx context.Context, out *outbox.Outbox, log *slog.Logger) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStopTimeout)
		defer cancel()
	}
	err := out.Stop(ctx)
	if errors.Is(err, outbox.ErrPending) {
		if log == nil {
			log = slog.Default()
		}
		s := out.Stats()
		log.Warn("events left in the outbox for the next start", "pending", s.Pending, "err", err)
		return nil
	}
	return err
}

// InboxPruneEvery is how often PruneInbox deletes old inbox records.
const InboxPruneEvery = time.Hour

// InboxRetention is how long an inbox record is kept: past the stream's
// max age (plus a day, for clocks and a replay in progress) its event is
// gone from the stream and cannot be delivered again, so the record
// protects nothing any more. Kept forever, the records would grow the
// database by one row per event consumed.
func InboxRetention(stream spec.Stream) time.Duration {
	return stream.MaxAge + 24*time.Hour
}

// PruneInbox deletes the records of in older than olderThan, at once and
// then every interval, until ctx ends. Failures are logged at warning
// level and tried again at the next interval: an inbox that keeps a
// record too long only takes room.
func PruneInbox(ctx context.Context, in *outbox.Inbox, interval, olderThan time.Duration, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := in.Prune(ctx, olderThan)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("inbox records not pruned; trying again later", "err", err, "retry_in", interval)
		case n > 0:
			log.Info("inbox records pruned", "deleted", n, "older_than", olderThan)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
