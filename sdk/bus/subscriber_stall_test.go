package bus_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

// TestConsumeBacklogWithoutStall consumes a backlog of 20,000 events and
// fails if any two consecutive handler calls are more than a second
// apart. nats.go v1.55.0 skips a pull when the one before it is still
// being sent as the last buffered message is taken (likelier the smaller
// the pull batch, and on a busy machine); the consumer then sat idle
// until the missed-heartbeat timer fired, exactly 5 s later with the
// default heartbeat (see stallCheck). With WithMaxInFlight(1), as the
// services consume, with the default options, and with a pull batch of 1.
func TestConsumeBacklogWithoutStall(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []bus.ConsumerOption
	}{
		{"in_flight=1", []bus.ConsumerOption{bus.WithMaxInFlight(1)}},
		// One message per pull: without the stall check, nats.go stalls
		// for 5 s within the first few thousand events.
		{"in_flight=1,pull_batch=1", []bus.ConsumerOption{bus.WithMaxInFlight(1), bus.WithPullBatch(1)}},
		{"defaults", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const total = 20000
			e := newEnv(t)
			pub := e.Publisher(t, "orders")
			subject := e.Cat.Subject("orders.created")
			order := newOrder()
			for range total {
				_, err := pub.PublishAsync(ctx(t), subject, order)
				require.NoError(t, err)
			}
			require.NoError(t, pub.Flush(ctx(t)))
			require.Equal(t, uint64(total), e.StreamMsgs(t, e.Cat.Stream.Name))

			var count, last, longest atomic.Int64
			var fetchErrs atomic.Int32
			start := time.Now()
			last.Store(start.UnixNano())
			e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, func(ctx context.Context, ev bus.Event[orderCreated]) error {
				now := time.Now().UnixNano()
				gap := now - last.Swap(now)
				for {
					m := longest.Load()
					if gap <= m || longest.CompareAndSwap(m, gap) {
						break
					}
				}
				count.Add(1)
				return nil
			})}, append(tc.opts, bus.WithErrorHandler(func(err error) {
				fetchErrs.Add(1)
				t.Logf("after %v, %d consumed: %v", time.Since(start).Round(time.Millisecond), count.Load(), err)
			}))...)
			deadline := time.Now().Add(2 * time.Minute)
			for count.Load() < total && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			require.Equal(t, int64(total), count.Load(), "every event handled")
			gap := time.Duration(longest.Load())
			t.Logf("%d events in %v, longest gap between handler calls %v", total, time.Since(start).Round(time.Millisecond), gap.Round(time.Microsecond))
			assert.LessOrEqual(t, gap, time.Second, "the consumer stalled")
			assert.Zero(t, fetchErrs.Load(), "no error reported")
		})
	}
}
