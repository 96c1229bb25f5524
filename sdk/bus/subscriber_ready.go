package bus

import (
	"context"
	"fmt"
)

// Ready reports whether the subscription consumes: it is not stopped,
// each of its durables' consume loops runs, and the server still has
// each durable (asked within ctx). A service's readiness check calls it;
// the error names what is missing.
func (s *Subscription) Ready(ctx context.Context) error {
	if s.stopping() {
		return fmt.Errorf("%w: the subscription is stopped", ErrFetch)
	}
	for _, l := range s.loops {
		if !l.running() {
			return fmt.Errorf("%w: consumer %q: its consume loop does not run", ErrFetch, l.cons.config.Durable)
		}
		if _, err := l.cons.Info(ctx); err != nil {
			return fmt.Errorf("%w: consumer %q: %w", ErrFetch, l.cons.config.Durable, err)
		}
	}
	return nil
}

// running reports whether the loop's consume context is set and not
// closed: it pulls, or waits for messages to pull.
func (l *loop) running() bool {
	cc := l.context()
	if cc == nil {
		return false
	}
	select {
	case <-cc.Closed():
		return false
	default:
		return true
	}
}
