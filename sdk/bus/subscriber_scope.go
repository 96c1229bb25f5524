package bus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// A HandlerScope runs the handler calls of consecutive deliveries as one unit,
// for example in one database transaction.
//
// The scope calls run once, with a context derived from the one it was
// given (the subscription's); run calls the handlers of the group's
// deliveries in order, each with a context of run's ctx, and returns when
// they all returned. A handler's error does not stop the others, and is
// not visible to the scope: a scope that must not keep the writes of a
// failing handler undoes them itself (a savepoint per handler, say). See
// WithHandlerScope for what happens to the deliveries afterwards.
type HandlerScope func(ctx context.Context, run func(ctx context.Context)) error

// MaxHandlerScope is the largest group WithHandlerScope accepts.
const MaxHandlerScope = 4096

// group is a worker's reusable space for the deliveries of one scope call.
type group struct {
	calls []call
	msgs  []jetstream.Msg // those of calls, for keepAlive
}

func newGroup(most int) *group {
	return &group{calls: make([]call, 0, most), msgs: make([]jetstream.Msg, 0, most)}
}

// handleGroup takes the messages a worker took at once to their end
// through the scope: those that cannot reach a handler (dead letters,
// waits for an upgrade) are settled at once; the handlers of the others
// run inside one scope call, and each is settled by its own outcome once
// the scope returned nil. If the scope fails, or returns without running
// the handlers, each delivery whose handler succeeded (or did not run) is
// given back with a delayed Nak and the failure is reported.
func (s *Subscription) handleGroup(g *group, msgs []jetstream.Msg, slot *handlerSlot) {
	g.calls, g.msgs = g.calls[:0], g.msgs[:0]
	for _, msg := range msgs {
		g.calls = append(g.calls, call{})
		if !s.prepare(msg, &g.calls[len(g.calls)-1]) {
			g.calls = g.calls[:len(g.calls)-1]
			continue
		}
		g.msgs = append(g.msgs, msg)
	}
	defer func() {
		clear(g.calls)
		clear(g.msgs)
	}()
	if len(g.calls) == 0 {
		return
	}
	slot.beginGroup(g.msgs)
	ran := false
	run := func(ctx context.Context) {
		if ran {
			return
		}
		ran = true
		for i := range g.calls {
			g.calls[i].err = s.invoke(ctx, &g.calls[i])
		}
	}
	err := s.runScope(run)
	slot.end()
	if err == nil && !ran {
		err = fmt.Errorf("%w: the handler scope returned without running the handlers of %d deliveries", ErrHandlerScope, len(g.calls))
	}
	if err != nil {
		s.report(err)
	}
	for i := range g.calls {
		c := &g.calls[i]
		if err != nil && c.err == nil {
			// Its handler's work was not kept (or never done): again.
			s.nakWithDelay(c.d.msg, c.d.meta.NumDelivered)
			continue
		}
		s.settle(c)
	}
}

// runScope calls the scope, turning a panic of its own into an error.
func (s *Subscription) runScope(run func(context.Context)) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %w: %v [%s]", ErrHandlerScope, ErrHandlerPanic, v, panicStack())
		}
	}()
	if err := s.opts.scope(s.ctx, run); err != nil {
		return fmt.Errorf("%w: %w", ErrHandlerScope, err)
	}
	return nil
}
