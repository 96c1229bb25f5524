package bus_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

// TestConsumeInOrderWithOneInFlight: with WithMaxInFlight(1) the events
// of a durable reach the handler one at a time, in stream order, though
// the durable pulls many at a time.
func TestConsumeInOrderWithOneInFlight(t *testing.T) {
	e := newEnv(t)
	const total = 300
	pub := e.Publisher(t, "orders")
	for range total {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	var mu sync.Mutex
	var seqs []uint64
	var running, overlap atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		if running.Add(1) > 1 {
			overlap.Add(1)
		}
		defer running.Add(-1)
		mu.Lock()
		seqs = append(seqs, ev.StreamSequence)
		mu.Unlock()
		return nil
	})}, bus.WithMaxInFlight(1))
	eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(seqs) == total }, "all handled")
	mu.Lock()
	defer mu.Unlock()
	for i, seq := range seqs {
		require.Equal(t, uint64(i+1), seq, "handled in stream order")
	}
	assert.Zero(t, overlap.Load(), "one handler at a time")
}

// TestConsumePullsMoreThanInFlight: the pull batch is not the in-flight
// bound. With one handler in flight (blocked), the client holds a buffer
// of further messages, bounded by the default pull batch (64): half of it
// in nats.go, half queued for the workers.
func TestConsumePullsMoreThanInFlight(t *testing.T) {
	e := newEnv(t)
	const total = 200
	release := make(chan struct{})
	var started atomic.Int32
	sub, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			started.Add(1)
			<-release
			return nil
		}),
	}, bus.WithMaxInFlight(1))
	require.NoError(t, err)
	pub := e.Publisher(t, "orders")
	for range total {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).NumAckPending > 32 }, "more than nats.go's half of the pull batch buffered")
	time.Sleep(100 * time.Millisecond) // let further pulls, if any, arrive
	pending := e.ConsumerInfo(t, durable).NumAckPending
	t.Logf("%d messages held by the client", pending)
	assert.LessOrEqual(t, pending, 64+1, "the batch and the running one")
	assert.Equal(t, int32(1), started.Load())
	close(release)
	eventually(t, func() bool { return started.Load() == total }, "all handled")
	require.NoError(t, sub.Stop(ctx(t)))
}

// TestConsumeKeepsConcurrentSlowHandlersAlive: the subscription's one
// keep-alive ticker serves every running handler.
func TestConsumeKeepsConcurrentSlowHandlersAlive(t *testing.T) {
	e := newEnv(t)
	const n = 3
	var calls atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		calls.Add(1)
		time.Sleep(1500 * time.Millisecond) // three times AckWait
		return nil
	})}, bus.WithAckWait(500*time.Millisecond), bus.WithMaxInFlight(n))
	pub := e.Publisher(t, "orders")
	for range n {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).AckFloor.Stream == n }, "acknowledged")
	assert.Equal(t, int32(n), calls.Load(), "never redelivered while running")
	assert.Equal(t, 0, e.ConsumerInfo(t, durable).NumRedelivered)
}

// TestQueuedMessagesKeptAlive: messages that wait in the subscription's
// queue behind a handler slower than AckWait hear InProgress as a running
// one does, so the server redelivers none of them.
func TestQueuedMessagesKeptAlive(t *testing.T) {
	e := newEnv(t)
	const total = 4
	p := e.Publisher(t, "orders")
	for range total {
		_, err := p.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	var mu sync.Mutex
	deliveries := map[uint64][]uint64{} // stream sequence -> delivery counts
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		mu.Lock()
		deliveries[ev.StreamSequence] = append(deliveries[ev.StreamSequence], ev.Delivered)
		first := len(deliveries) == 1
		mu.Unlock()
		if first {
			time.Sleep(1500 * time.Millisecond) // three times AckWait, the others queued meanwhile
		}
		return nil
	})}, bus.WithMaxInFlight(1), bus.WithAckWait(500*time.Millisecond))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, deliveries, total)
	for seq, d := range deliveries {
		assert.Equal(t, []uint64{1}, d, "sequence %d delivered more than once", seq)
	}
	assert.Equal(t, 0, e.ConsumerInfo(t, e.Durable(t, "stock", e.Cat.Subject("orders.created"))).NumRedelivered)
}
