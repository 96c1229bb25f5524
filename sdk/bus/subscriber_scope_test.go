package bus_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

// scopeKey carries a scope's record of its group to the handlers.
type scopeKey struct{}

// scopeGroup is what one scope call saw: the stream sequences its handlers
// ran on, in order.
type scopeGroup struct{ seqs []uint64 }

// scopeRecorder records the groups of a HandlerScope and what its handlers
// saw.
type scopeRecorder struct {
	mu     sync.Mutex
	groups [][]uint64
	calls  map[uuid.UUID][]uint64 // delivery counts per event, in call order
	errs   []error
}

func newScopeRecorder() *scopeRecorder {
	return &scopeRecorder{calls: make(map[uuid.UUID][]uint64)}
}

// scope runs the group, records it, then returns result(group index).
func (r *scopeRecorder) scope(before func(i int), result func(i int) error) bus.HandlerScope {
	var n atomic.Int32
	return func(ctx context.Context, run func(context.Context)) error {
		i := int(n.Add(1)) - 1
		if before != nil {
			before(i)
		}
		g := &scopeGroup{}
		run(context.WithValue(ctx, scopeKey{}, g))
		r.mu.Lock()
		r.groups = append(r.groups, g.seqs)
		r.mu.Unlock()
		if result != nil {
			return result(i)
		}
		return nil
	}
}

// handler records the call in its scope's group; fail decides its outcome.
func (r *scopeRecorder) handler(t *testing.T, fail func(ev bus.Event[orderCreated]) error) bus.Handler[orderCreated] {
	return func(ctx context.Context, ev bus.Event[orderCreated]) error {
		g, ok := ctx.Value(scopeKey{}).(*scopeGroup)
		if !assert.True(t, ok, "the scope's context reaches the handler") {
			return nil
		}
		_, corr, ok := bus.CorrelationFrom(ctx)
		assert.True(t, ok && corr == ev.CorrelationID, "the handler's context carries the event's correlation")
		g.seqs = append(g.seqs, ev.StreamSequence)
		r.mu.Lock()
		r.calls[ev.ID] = append(r.calls[ev.ID], ev.Delivered)
		r.mu.Unlock()
		if fail != nil {
			return fail(ev)
		}
		return nil
	}
}

func (r *scopeRecorder) onError(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *scopeRecorder) snapshot() (groups [][]uint64, calls map[uuid.UUID][]uint64, errs []error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls = make(map[uuid.UUID][]uint64, len(r.calls))
	for k, v := range r.calls {
		calls[k] = append([]uint64(nil), v...)
	}
	return append([][]uint64(nil), r.groups...), calls, append([]error(nil), r.errs...)
}

// publishOrders publishes n orders.created and returns their ids in order.
func publishOrders(t *testing.T, e *env, n int) []uuid.UUID {
	t.Helper()
	pub := e.Publisher(t, "orders")
	ids := make([]uuid.UUID, 0, n)
	for range n {
		ack, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
		ids = append(ids, ack.ID)
	}
	return ids
}

// holdFirst makes the first scope call wait, so that the backlog is
// buffered by the time the second group is taken.
func holdFirst(i int) {
	if i == 0 {
		time.Sleep(300 * time.Millisecond)
	}
}

func TestHandlerScopeGroupsBufferedDeliveriesInOrder(t *testing.T) {
	e := newEnv(t)
	const total, most = 100, 10
	publishOrders(t, e, total)
	r := newScopeRecorder()
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, nil))},
		bus.WithMaxInFlight(1), bus.WithHandlerScope(most, r.scope(holdFirst, nil)), bus.WithErrorHandler(r.onError))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	groups, calls, errs := r.snapshot()
	assert.Empty(t, errs)
	var all []uint64
	largest := 0
	for _, g := range groups {
		assert.NotEmpty(t, g)
		assert.LessOrEqual(t, len(g), most)
		largest = max(largest, len(g))
		all = append(all, g...)
	}
	require.Len(t, all, total, "each event handled once")
	for i, seq := range all {
		require.Equal(t, uint64(i+1), seq, "groups and their handlers in stream order")
	}
	assert.Equal(t, most, largest, "buffered deliveries are grouped")
	assert.Less(t, len(groups), total/2)
	for _, d := range calls {
		assert.Equal(t, []uint64{1}, d, "delivered once")
	}
}

func TestHandlerScopeAcksOnlyAfterScopeReturns(t *testing.T) {
	e := newEnv(t)
	const total = 40
	publishOrders(t, e, total)
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	r := newScopeRecorder()
	var checked atomic.Int32
	scope := func(ctx context.Context, run func(context.Context)) error {
		holdFirst(int(checked.Load()))
		g := &scopeGroup{}
		run(context.WithValue(ctx, scopeKey{}, g))
		// The handlers returned nil, yet none of the group is acknowledged.
		time.Sleep(50 * time.Millisecond)
		info := e.ConsumerInfo(t, durable)
		assert.Less(t, info.AckFloor.Stream, g.seqs[0], "nothing of the group acknowledged before the scope returned")
		assert.GreaterOrEqual(t, info.NumAckPending, len(g.seqs))
		checked.Add(1)
		return nil
	}
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, nil))},
		bus.WithMaxInFlight(1), bus.WithHandlerScope(8, scope), bus.WithErrorHandler(r.onError))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged after their scopes")
	_, calls, errs := r.snapshot()
	assert.Empty(t, errs)
	assert.Len(t, calls, total)
	assert.Positive(t, checked.Load())
}

func TestHandlerScopeErrorRedeliversTheGroup(t *testing.T) {
	e := newEnv(t)
	const total = 30
	ids := publishOrders(t, e, total)
	r := newScopeRecorder()
	commit := errors.New("commit failed")
	var failed atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, nil))},
		bus.WithMaxInFlight(1), bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond }),
		bus.WithHandlerScope(10, r.scope(holdFirst, func(i int) error {
			if i == 1 { // the first full group
				failed.Add(1)
				return commit
			}
			return nil
		})), bus.WithErrorHandler(r.onError))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged in the end")
	groups, calls, errs := r.snapshot()
	require.Equal(t, int32(1), failed.Load())
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], bus.ErrHandlerScope)
	assert.ErrorIs(t, errs[0], commit)
	require.GreaterOrEqual(t, len(groups), 2)
	again := map[uint64]bool{}
	for _, seq := range groups[1] {
		again[seq] = true
	}
	require.Greater(t, len(again), 1)
	for i, id := range ids {
		if again[uint64(i+1)] {
			assert.Equal(t, []uint64{1, 2}, calls[id], "event %d of the failed scope is delivered again", i+1)
		} else {
			assert.Equal(t, []uint64{1}, calls[id], "event %d delivered once", i+1)
		}
	}
	assert.Zero(t, e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream))
}

func TestHandlerScopeRetriesAFailingHandlerAlone(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func() error
		want error
	}{
		{"error", func() error { return errors.New("not yet") }, nil},
		{"panic", func() error { panic("handler bug") }, bus.ErrHandlerPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			const total, bad = 30, 5 // the 5th event fails on its first delivery
			ids := publishOrders(t, e, total)
			r := newScopeRecorder()
			var scopeErrs atomic.Int32
			e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, func(ev bus.Event[orderCreated]) error {
				if ev.StreamSequence == bad && ev.Delivered == 1 {
					return tc.fail()
				}
				return nil
			}))}, bus.WithMaxInFlight(1), bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond }),
				bus.WithHandlerScope(10, r.scope(holdFirst, nil)), bus.WithErrorHandler(func(err error) {
					scopeErrs.Add(1)
					r.onError(err)
				}))
			eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
			groups, calls, errs := r.snapshot()
			assert.Empty(t, errs, "a handler error is the event's, not the scope's")
			for i, id := range ids {
				if i+1 == bad {
					assert.Equal(t, []uint64{1, 2}, calls[id], "the failing event is retried")
				} else {
					assert.Equal(t, []uint64{1}, calls[id], "event %d of the same group acknowledged once", i+1)
				}
			}
			// The retry comes alone, after the rest of its group.
			var retry []uint64
			for _, g := range groups {
				for _, seq := range g {
					if seq == bad {
						retry = g
					}
				}
			}
			assert.Equal(t, []uint64{bad}, retry)
		})
	}
}

func TestHandlerScopeWithoutRunNaksTheGroup(t *testing.T) {
	e := newEnv(t)
	const total = 20
	ids := publishOrders(t, e, total)
	r := newScopeRecorder()
	var n atomic.Int32
	inner := r.scope(nil, nil)
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, nil))},
		bus.WithMaxInFlight(1), bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond }),
		bus.WithHandlerScope(5, func(ctx context.Context, run func(context.Context)) error {
			if n.Add(1) == 1 {
				return nil // forgot to call run
			}
			return inner(ctx, run)
		}), bus.WithErrorHandler(r.onError))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	_, calls, errs := r.snapshot()
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], bus.ErrHandlerScope)
	for _, id := range ids {
		require.NotEmpty(t, calls[id])
		assert.Len(t, calls[id], 1, "each handler ran once, on a later delivery for those of the first group")
	}
	assert.Equal(t, uint64(2), calls[ids[0]][0], "the first event came again")
}

func TestHandlerScopeKeepsTheGroupAlive(t *testing.T) {
	e := newEnv(t)
	const total = 6
	publishOrders(t, e, total)
	r := newScopeRecorder()
	var calls atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), r.handler(t, nil))},
		bus.WithMaxInFlight(1), bus.WithAckWait(500*time.Millisecond),
		bus.WithHandlerScope(total, r.scope(func(i int) {
			calls.Add(1)
			time.Sleep(1500 * time.Millisecond) // three times AckWait, before the handlers run
		}, nil)), bus.WithErrorHandler(r.onError))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	_, got, errs := r.snapshot()
	assert.Empty(t, errs)
	for _, d := range got {
		assert.Equal(t, []uint64{1}, d, "never redelivered while its scope ran")
	}
	assert.Equal(t, 0, e.ConsumerInfo(t, e.Durable(t, "stock", e.Cat.Subject("orders.created"))).NumRedelivered)
}

func TestHandlerScopeOfOneIsNoScope(t *testing.T) {
	e := newEnv(t)
	publishOrders(t, e, 10)
	var scoped, handled atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		handled.Add(1)
		return nil
	})}, bus.WithHandlerScope(1, func(ctx context.Context, run func(context.Context)) error {
		scoped.Add(1)
		run(ctx)
		return nil
	}))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	assert.Equal(t, int32(10), handled.Load())
	assert.Zero(t, scoped.Load())
}

func TestWithHandlerScopeRefusesBadValues(t *testing.T) {
	e := newEnv(t)
	scope := func(ctx context.Context, run func(context.Context)) error { run(ctx); return nil }
	for _, opt := range []bus.ConsumerOption{
		bus.WithHandlerScope(0, scope),
		bus.WithHandlerScope(bus.MaxHandlerScope+1, scope),
		bus.WithHandlerScope(8, nil),
	} {
		_, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", nil, opt)
		assert.ErrorIs(t, err, bus.ErrInvalidOption)
	}
}
