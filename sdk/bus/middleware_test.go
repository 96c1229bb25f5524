package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
)

// trail records, in order, what middleware and handlers did.
type trail struct {
	mu    sync.Mutex
	steps []string
}

func (tr *trail) add(format string, args ...any) {
	tr.mu.Lock()
	tr.steps = append(tr.steps, fmt.Sprintf(format, args...))
	tr.mu.Unlock()
}

func (tr *trail) get() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.steps...)
}

// named is a middleware that records its name on the way in and out.
func (tr *trail) named(name string) bus.Middleware {
	return func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			tr.add("%s>", name)
			err := next(ctx, m)
			tr.add("<%s", name)
			return err
		}
	}
}

// fastRetry redelivers a failed message after 10ms.
var fastRetry = bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond })

func TestMiddlewareOrderFirstIsOutermost(t *testing.T) {
	e := newEnv(t)
	var tr trail
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(context.Context, bus.Event[orderCreated]) error {
			tr.add("handler")
			return nil
		}),
	}, bus.WithMiddleware(tr.named("a"), tr.named("b")), bus.WithMiddleware(tr.named("c")))
	publishOrders(t, e, 1)
	eventually(t, func() bool { return e.Settled(t, "stock") }, "acknowledged")
	assert.Equal(t, []string{"a>", "b>", "c>", "handler", "<c", "<b", "<a"}, tr.get())
}

func TestMiddlewareSeesTheDeliveryAndItsContext(t *testing.T) {
	e := newEnv(t)
	var got atomic.Value // bus.Message
	var corr atomic.Value
	see := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			_, c, _ := bus.CorrelationFrom(ctx)
			corr.Store(c)
			got.Store(m)
			return next(ctx, m)
		}
	}
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)}, bus.WithMiddleware(see))
	order := newOrder()
	ack, err := e.Publisher(t, "orders").Publish(bus.WithCorrelation(ctx(t), uuid.New(), "req-7"), e.Cat.Subject("orders.created"), order)
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "handled")
	m, ok := got.Load().(bus.Message)
	require.True(t, ok, "the middleware ran")
	assert.Equal(t, rec.Got()[0].Metadata, m.Metadata, "the middleware sees the handler's metadata")
	assert.Equal(t, ack.ID, m.ID)
	assert.Equal(t, uint64(1), m.Delivered)
	var payload orderCreated
	require.NoError(t, json.Unmarshal(m.Payload, &payload))
	assert.Equal(t, order, payload, "the raw payload, not decoded yet")
	assert.Equal(t, "req-7", corr.Load(), "ctx carries the event's correlation")
}

func TestMiddlewareTimeoutCancelsASlowHandlerAndItIsRetried(t *testing.T) {
	e := newEnv(t)
	timeout := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			ctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			defer cancel()
			return next(ctx, m)
		}
	}
	var seen trail
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			if ev.Delivered == 1 { // slow: waits for its context
				<-ctx.Done()
				seen.add("delivery 1: %v", ctx.Err())
				return ctx.Err()
			}
			seen.add("delivery %d: done", ev.Delivered)
			return rec.Handler(ctx, ev)
		}),
	}, bus.WithMiddleware(timeout), fastRetry)
	publishOrders(t, e, 1)
	eventually(t, func() bool { return len(rec.Got()) == 1 && e.Settled(t, "stock") }, "retried and acknowledged")
	assert.Equal(t, []string{"delivery 1: context deadline exceeded", "delivery 2: done"}, seen.get())
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream))
}

func TestMiddlewareErrorRedelivers(t *testing.T) {
	e := newEnv(t)
	refuseFirst := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			if m.Delivered == 1 {
				return errors.New("not yet")
			}
			return next(ctx, m)
		}
	}
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)},
		bus.WithMiddleware(refuseFirst), fastRetry)
	publishOrders(t, e, 1)
	eventually(t, func() bool { return len(rec.Got()) == 1 && e.Settled(t, "stock") }, "redelivered and acknowledged")
	assert.Equal(t, uint64(2), rec.Got()[0].Delivered, "the handler saw only the redelivery")
}

func TestMiddlewareErrorsDeadLetterAsHandlerErrorsDo(t *testing.T) {
	e := newEnv(t)
	fail := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			var o orderCreated
			if err := json.Unmarshal(m.Payload, &o); err != nil {
				return err
			}
			switch o.SKU {
			case "PERMANENT":
				return bus.Permanent(errors.New("refused by policy"))
			case "PANIC":
				panic("middleware broke")
			case "FAILING":
				return errors.New("always failing")
			}
			return next(ctx, m)
		}
	}
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)},
		bus.WithMiddleware(fail), bus.WithMaxDeliver(2), fastRetry)
	pub := e.Publisher(t, "orders")
	for _, sku := range []string{"PERMANENT", "PANIC", "FAILING"} {
		o := newOrder()
		o.SKU = sku
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), o)
		require.NoError(t, err)
	}
	dls := e.DeadLetters(t, 3)
	reasons := make([]string, 0, len(dls))
	for _, dl := range dls {
		reasons = append(reasons, dl.Header.Get(bus.HeaderDeadLetterReason))
	}
	joined := strings.Join(reasons, "\n")
	assert.Contains(t, joined, "refused by policy")
	assert.Contains(t, joined, "handler failed on delivery 2 of 2: "+bus.ErrHandlerPanic.Error()+": middleware broke")
	assert.Contains(t, joined, "handler failed on delivery 2 of 2: always failing")
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all settled")
	assert.Empty(t, rec.Got(), "no handler ran")
}

func TestMiddlewareShortCircuits(t *testing.T) {
	e := newEnv(t)
	var skipped atomic.Int32
	skipNote := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			var o orderCreated
			if err := json.Unmarshal(m.Payload, &o); err != nil {
				return err
			}
			if o.Note != nil && *o.Note == "test" {
				skipped.Add(1)
				return nil // acknowledged, never handled
			}
			return next(ctx, m)
		}
	}
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)}, bus.WithMiddleware(skipNote))
	pub := e.Publisher(t, "orders")
	note := "test"
	skip, keep := newOrder(), newOrder()
	skip.Note = &note
	for _, o := range []orderCreated{skip, keep, skip} {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), o)
		require.NoError(t, err)
	}
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	require.Len(t, rec.Got(), 1)
	assert.Equal(t, keep, rec.Got()[0].Payload)
	assert.Equal(t, int32(2), skipped.Load())
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream))
}

func TestMiddlewareSkipsSubjectsWithoutHandler(t *testing.T) {
	e := newEnv(t)
	var tr trail
	// orders.created has a nil handler, orders.cancelled no route: neither
	// has a handler for the middleware to wrap.
	e.Consume(t, "stock", []bus.Route{bus.NewRoute[orderCreated](e.Cat.Subject("orders.created"), nil)},
		bus.WithMiddleware(tr.named("mw")))
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	eventually(t, func() bool { return e.Settled(t, "stock") }, "both acknowledged")
	assert.Empty(t, tr.get())
}

func TestMiddlewareRunsInsideTheHandlerScope(t *testing.T) {
	e := newEnv(t)
	const total = 6
	publishOrders(t, e, total)
	var tr trail
	type scoped struct{}
	scope := func(ctx context.Context, run func(context.Context)) error {
		tr.add("scope>")
		run(context.WithValue(ctx, scoped{}, true))
		tr.add("<scope")
		return nil
	}
	inScope := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			tr.add("mw %d in scope %v", m.StreamSequence, ctx.Value(scoped{}) == true)
			return next(ctx, m)
		}
	}
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(_ context.Context, ev bus.Event[orderCreated]) error {
			tr.add("handler %d", ev.StreamSequence)
			return nil
		}),
	}, bus.WithMaxInFlight(1), bus.WithHandlerScope(total, scope), bus.WithMiddleware(inScope))
	eventually(t, func() bool { return e.Settled(t, "stock") }, "all acknowledged")
	depth, seq := 0, uint64(1)
	for _, step := range tr.get() {
		switch {
		case step == "scope>":
			depth++
		case step == "<scope":
			depth--
		case strings.HasPrefix(step, "mw "):
			require.Equal(t, 1, depth, "middleware inside the scope: %v", tr.get())
			require.Equal(t, fmt.Sprintf("mw %d in scope true", seq), step)
		default:
			require.Equal(t, 1, depth, "handler inside the scope: %v", tr.get())
			require.Equal(t, fmt.Sprintf("handler %d", seq), step, "each handler right after its middleware")
			seq++
		}
	}
	assert.Equal(t, uint64(total+1), seq, "every delivery through the middleware")
}

func TestWithMiddlewareRefusesNil(t *testing.T) {
	e := newEnv(t)
	created := e.Cat.Subject("orders.created")
	h := func(context.Context, bus.Event[orderCreated]) error { return nil }
	pass := func(next bus.MessageHandler) bus.MessageHandler { return next }
	for name, opt := range map[string]bus.ConsumerOption{
		"nil middleware":     bus.WithMiddleware(pass, nil),
		"nil handler return": bus.WithMiddleware(pass, func(bus.MessageHandler) bus.MessageHandler { return nil }),
	} {
		_, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", []bus.Route{bus.NewRoute(created, h)}, opt)
		assert.ErrorIs(t, err, bus.ErrInvalidOption, name)
	}
}

// TestMiddlewareWithGeneratedFacade wraps the generated ddmrp handlers in
// a logging and a timeout middleware: each typed field is reached through
// them, with no change to the fields.
func TestMiddlewareWithGeneratedFacade(t *testing.T) {
	srv := bustest.RunServer(t)
	conn, err := bus.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, bus.EnsureTopology(ctx(t), conn, events.Catalog))

	var logged trail
	logging := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			err := next(ctx, m)
			logged.add("%s v%d delivery %d: %v", m.Subject, m.Version, m.Delivered, err)
			return err
		}
	}
	var deadline atomic.Bool
	timeout := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			return next(ctx, m)
		}
	}
	var shipped recorder[events.SalesOrderShipped]
	sub, err := events.ConsumeDDMRP(ctx(t), conn, events.DDMRPHandlers{
		SalesOrderShipped: func(ctx context.Context, ev bus.Event[events.SalesOrderShipped]) error {
			_, ok := ctx.Deadline()
			deadline.Store(ok)
			return shipped.Handler(ctx, ev)
		},
	}, bus.WithMiddleware(logging, timeout))
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Stop(context.Background()) })

	pub, err := events.NewExecutionPublisher(conn)
	require.NoError(t, err)
	var payload events.SalesOrderShipped
	require.NoError(t, json.Unmarshal([]byte(shippedExample), &payload))
	_, err = pub.SalesOrderShipped(ctx(t), payload)
	require.NoError(t, err)
	eventually(t, func() bool { return len(shipped.Got()) == 1 && len(logged.get()) == 1 }, "handled through the middleware")
	assert.Equal(t, payload, shipped.Got()[0].Payload)
	assert.True(t, deadline.Load(), "the timeout middleware's deadline reaches the typed handler")
	assert.Equal(t, []string{events.SubjectExecutionSalesOrderShipped + " v1 delivery 1: <nil>"}, logged.get())
}

// A timeout and a log line around every handler of the generated ddmrp
// consumer; logging is the outermost, so it logs the timeout's outcome.
func ExampleWithMiddleware() {
	ctx := context.Background()
	conn, err := bus.Connect("nats://127.0.0.1:4222")
	if err != nil {
		slog.Error("connect", "err", err)
		return
	}
	defer conn.Close()
	timeout := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return next(ctx, m)
		}
	}
	logging := func(next bus.MessageHandler) bus.MessageHandler {
		return func(ctx context.Context, m bus.Message) error {
			start := time.Now()
			err := next(ctx, m)
			slog.InfoContext(ctx, "handled", "subject", m.Subject, "event_id", m.ID,
				"correlation_id", m.CorrelationID, "delivery", m.Delivered, "took", time.Since(start), "err", err)
			return err
		}
	}
	sub, err := events.ConsumeDDMRP(ctx, conn, events.DDMRPHandlers{
		SalesOrderShipped: func(ctx context.Context, ev bus.Event[events.SalesOrderShipped]) error {
			return nil // the planning step, bounded by ctx
		},
	}, bus.WithMiddleware(logging, timeout))
	if err != nil {
		slog.Error("consume", "err", err)
		return
	}
	defer sub.Stop(ctx)
}
