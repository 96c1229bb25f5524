package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/spec"
)

func TestRoundTrip(t *testing.T) {
	e := newEnv(t)
	orders := e.Publisher(t, "orders")
	stockPub := e.Publisher(t, "stock")

	// stock reacts to a created order by adjusting stock, with the
	// handler's context: the correlation carries over.
	var created recorder[orderCreated]
	var cancelled recorder[orderCancelled]
	var ctxCorr, ctxMeta atomic.Value
	sub := e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			org, corr, ok := bus.CorrelationFrom(ctx)
			ctxCorr.Store(fmt.Sprint(org, corr, ok))
			md, ok := bus.MetadataFrom(context.WithoutCancel(ctx))
			ctxMeta.Store(fmt.Sprint(md == ev.Metadata, ok))
			_ = created.Handler(ctx, ev)
			_, err := stockPub.Publish(ctx, e.Cat.Subject("stock.adjusted"), stockAdjusted{SKU: ev.Payload.SKU, Delta: -ev.Payload.Quantity})
			return err
		}),
		bus.NewRoute(e.Cat.Subject("orders.cancelled"), cancelled.Handler),
	})
	assert.Equal(t, e.Durables(t, "stock"), sub.Consumers())
	if e.MultiFilter(t) {
		assert.Equal(t, []string{spec.ConsumerName("stock")}, sub.Consumers())
	}
	var adjusted recorder[stockAdjusted]
	e.Consume(t, "orders", []bus.Route{bus.NewRoute(e.Cat.Subject("stock.adjusted"), adjusted.Handler)})

	org := uuid.New()
	order := newOrder()
	note := "rush"
	order.Note = &note
	ack, err := orders.Publish(bus.WithCorrelation(ctx(t), org, "req-42"), e.Cat.Subject("orders.created"), order)
	require.NoError(t, err)
	_, err = orders.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: order.OrderID})
	require.NoError(t, err)

	eventually(t, func() bool { return len(created.Got()) == 1 && len(cancelled.Got()) == 1 && len(adjusted.Got()) == 1 }, "all three events handled")
	ev := created.Got()[0]
	assert.Equal(t, order, ev.Payload)
	assert.Equal(t, ack.ID, ev.ID)
	assert.Equal(t, e.Cat.Subject("orders.created"), ev.Subject)
	assert.Equal(t, "req-42", ev.CorrelationID)
	assert.Equal(t, org, ev.OrganizationID)
	assert.Equal(t, "orders", ev.Source)
	assert.Equal(t, 2, ev.Version)
	assert.Equal(t, uint64(1), ev.Delivered)
	assert.Equal(t, ack.Sequence, ev.StreamSequence)
	assert.WithinDuration(t, time.Now(), ev.Timestamp, time.Minute)
	assert.Equal(t, fmt.Sprint(org, "req-42", true), ctxCorr.Load())
	assert.Equal(t, "true true", ctxMeta.Load(), "the handler's context holds its event's Metadata")
	_, ok := bus.MetadataFrom(ctx(t))
	assert.False(t, ok)

	adj := adjusted.Got()[0]
	assert.Equal(t, stockAdjusted{SKU: "SKU-1", Delta: -3}, adj.Payload)
	assert.Equal(t, "req-42", adj.CorrelationID, "correlation inherited through the handler's context")
	assert.Equal(t, org, adj.OrganizationID)
	assert.Equal(t, "stock", adj.Source)

	eventually(t, func() bool { return e.Settled(t, "stock") }, "everything acknowledged")
}

func TestConsumeNilHandlerAndMissingRoute(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	// orders.created has a nil handler, orders.cancelled no route: both are
	// validated and acknowledged.
	e.Consume(t, "stock", []bus.Route{bus.NewRoute[orderCreated](e.Cat.Subject("orders.created"), nil)})
	created, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	cancelled, err := pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	// One durable on NATS 2.10+, whose ack floor reaches the second
	// message; one per subject on NATS 2.9, each acknowledging its own.
	acked := func(subject string, seq uint64) bool {
		info := e.ConsumerInfo(t, e.Durable(t, "stock", subject))
		return info.AckFloor.Stream >= seq && info.NumAckPending == 0
	}
	eventually(t, func() bool {
		return acked(e.Cat.Subject("orders.created"), created.Sequence) && acked(e.Cat.Subject("orders.cancelled"), cancelled.Sequence)
	}, "both acknowledged")
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream))
}

func TestConsumeRejectsBadArguments(t *testing.T) {
	e := newEnv(t)
	created := e.Cat.Subject("orders.created")
	noop := bus.NewRoute[orderCreated](created, nil)
	cases := map[string]struct {
		service string
		routes  []bus.Route
		opts    []bus.ConsumerOption
		want    error
	}{
		"unknown service":       {"billing", nil, nil, bus.ErrUnknownService},
		"consumes nothing":      {"nobody", nil, nil, bus.ErrNotConsumer},
		"empty route":           {"stock", []bus.Route{{}}, nil, bus.ErrInvalidRoute},
		"duplicate route":       {"stock", []bus.Route{noop, noop}, nil, bus.ErrInvalidRoute},
		"unknown subject":       {"stock", []bus.Route{bus.NewRoute[orderCreated](e.Cat.Subject("x.y"), nil)}, nil, bus.ErrUnknownSubject},
		"not a consumer":        {"orders", []bus.Route{noop}, nil, bus.ErrNotConsumer},
		"max in flight":         {"stock", nil, []bus.ConsumerOption{bus.WithMaxInFlight(0)}, bus.ErrInvalidOption},
		"pull batch":            {"stock", nil, []bus.ConsumerOption{bus.WithPullBatch(0)}, bus.ErrInvalidOption},
		"max deliver":           {"stock", nil, []bus.ConsumerOption{bus.WithMaxDeliver(0)}, bus.ErrInvalidOption},
		"ack wait":              {"stock", nil, []bus.ConsumerOption{bus.WithAckWait(0)}, bus.ErrInvalidOption},
		"nak delay":             {"stock", nil, []bus.ConsumerOption{bus.WithNakDelay(nil)}, bus.ErrInvalidOption},
		"error handler":         {"stock", nil, []bus.ConsumerOption{bus.WithErrorHandler(nil)}, bus.ErrInvalidOption},
		"logger":                {"stock", nil, []bus.ConsumerOption{bus.WithLogger(nil)}, bus.ErrInvalidOption},
		"missing events stream": {"stock", nil, nil, bus.ErrTopology},
	}
	e.Cat.Services = append(e.Cat.Services, spec.Service{Name: "nobody"})
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cat := e.Cat.Catalog
			if name == "missing events stream" {
				c := *cat
				c.Stream.Name = "NO_SUCH_STREAM_" + e.Cat.Prefix
				cat = &c
			}
			_, err := bus.Consume(ctx(t), e.Conn, cat, tc.service, tc.routes, tc.opts...)
			assert.ErrorIs(t, err, tc.want)
		})
	}
	_, err := bus.Consume(ctx(t), nil, e.Cat.Catalog, "stock", nil)
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	assert.Equal(t, created, noop.Subject())
}

// publishRaw publishes data on subject with plain nats.go, the way a
// client that bypasses the SDK would.
func publishRaw(t *testing.T, e *env, subject string, data []byte) {
	t.Helper()
	_, err := e.Conn.JetStream().Publish(ctx(t), subject, data)
	require.NoError(t, err)
}

func envelopeJSON(t *testing.T, subject string, payload any, edit func(map[string]any)) []byte {
	t.Helper()
	p, err := json.Marshal(payload)
	require.NoError(t, err)
	env := map[string]any{
		"id":              uuid.NewString(),
		"subject":         subject,
		"correlation_id":  "c-1",
		"organization_id": uuid.NewString(),
		"timestamp":       time.Now().UTC().Format(time.RFC3339Nano),
		"source":          "orders",
		"version":         2,
		"payload":         json.RawMessage(p),
	}
	if edit != nil {
		edit(env)
	}
	b, err := json.Marshal(env)
	require.NoError(t, err)
	return b
}

func TestConsumeDeadLettersInvalidMessages(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(subject, rec.Handler)}, bus.WithErrorHandler(rec.OnError))

	badPayload := newOrder()
	badPayload.SKU = ""
	cases := []struct {
		data   []byte
		reason string
	}{
		{[]byte("\x00\x01 garbage"), "not valid JSON"},
		{envelopeJSON(t, subject, newOrder(), func(m map[string]any) { delete(m, "correlation_id") }), "correlation_id"},
		{envelopeJSON(t, subject, newOrder(), func(m map[string]any) { m["timestamp"] = "yesterday" }), "/timestamp"},
		{envelopeJSON(t, subject, badPayload, nil), "/sku"},
		{envelopeJSON(t, e.Cat.Subject("orders.cancelled"), newOrder(), nil), "sent on"},
		{envelopeJSON(t, subject, map[string]any{"order_id": uuid.NewString(), "sku": "A", "quantity": 1e30}, nil), "decode"},
		{envelopeJSON(t, subject, newOrder(), func(m map[string]any) { m["source"] = "stock" }), `envelope source "stock" is not "orders", the publisher`},
	}
	for _, c := range cases {
		publishRaw(t, e, subject, c.data)
	}
	good := newOrder()
	_, err := e.Publisher(t, "orders").Publish(ctx(t), subject, good)
	require.NoError(t, err)

	// Handlers run concurrently: match dead letters by stream sequence.
	dls := make([]*jetstream.RawStreamMsg, len(cases))
	for _, dl := range e.DeadLetters(t, len(cases)) {
		seq, err := strconv.Atoi(dl.Header.Get(bus.HeaderStreamSequence))
		require.NoError(t, err)
		require.True(t, seq >= 1 && seq <= len(cases), "sequence %d", seq)
		dls[seq-1] = dl
	}
	for i, c := range cases {
		dl := dls[i]
		require.NotNil(t, dl, "dead letter of sequence %d", i+1)
		assert.Equal(t, c.data, dl.Data, "dead letter %d keeps the original bytes", i)
		assert.Equal(t, e.Cat.Stream.DeadLetterPrefix+".stock."+subject, dl.Subject)
		assert.Equal(t, spec.DeadLetterSubject(e.Cat.Catalog, "stock", subject), dl.Subject)
		assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), c.reason, "dead letter %d", i)
		assert.Equal(t, subject, dl.Header.Get(bus.HeaderOriginalSubject))
		assert.Equal(t, e.Durable(t, "stock", subject), dl.Header.Get(bus.HeaderConsumer))
		assert.Equal(t, "1", dl.Header.Get(bus.HeaderDeliveryCount))
		assert.Equal(t, strconv.Itoa(i+1), dl.Header.Get(bus.HeaderStreamSequence))
	}
	assert.Empty(t, dls[0].Header.Get(bus.HeaderEventID), "garbage has no event id")
	assert.NotEmpty(t, dls[3].Header.Get(bus.HeaderEventID))

	eventually(t, func() bool { return len(rec.Got()) == 1 }, "the valid event after the garbage is handled")
	assert.Equal(t, good, rec.Got()[0].Payload)
	eventually(t, func() bool {
		info := e.ConsumerInfo(t, e.Durable(t, "stock", subject))
		return info.NumAckPending == 0 && info.NumRedelivered == 0
	}, "dead letters terminated, not redelivered")
	assert.Empty(t, rec.Errors())
}

func TestConsumeRedeliversWithDelay(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	var times []time.Time
	var delivered []uint64
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		delivered = append(delivered, ev.Delivered)
		if len(times) < 3 {
			return errors.New("database unavailable")
		}
		return nil
	})})
	_, err := e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	eventually(t, func() bool {
		info := e.ConsumerInfo(t, e.Durable(t, "stock", e.Cat.Subject("orders.created")))
		return info.AckFloor.Stream == 1 && info.NumAckPending == 0
	}, "acknowledged on the third delivery")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []uint64{1, 2, 3}, delivered)
	// DefaultNakDelay: 100ms after the first delivery, 200ms after the second.
	assert.GreaterOrEqual(t, times[1].Sub(times[0]), 90*time.Millisecond)
	assert.GreaterOrEqual(t, times[2].Sub(times[1]), 190*time.Millisecond)
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.DeadLetterStream))
}

func TestConsumeDeadLettersAfterMaxDeliver(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	var rec recorder[orderCancelled]
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			calls.Add(1)
			return errors.New("always failing")
		}),
		bus.NewRoute(e.Cat.Subject("orders.cancelled"), rec.Handler),
	}, bus.WithMaxDeliver(3), bus.WithNakDelay(func(uint64) time.Duration { return 10 * time.Millisecond }))
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)

	dl := e.DeadLetters(t, 1)[0]
	assert.Equal(t, int32(3), calls.Load())
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "handler failed on delivery 3 of 3: always failing")
	assert.Equal(t, "3", dl.Header.Get(bus.HeaderDeliveryCount))
	assert.Equal(t, e.Cat.Subject("orders.created"), dl.Header.Get(bus.HeaderOriginalSubject))

	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "next event handled")
	eventually(t, func() bool { return e.Settled(t, "stock") }, "terminated")
	assert.Equal(t, int32(3), calls.Load(), "no fourth delivery")
}

func TestConsumePermanentError(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		calls.Add(1)
		return bus.Permanent(fmt.Errorf("order %s belongs to no warehouse", ev.Payload.OrderID))
	})})
	_, err := e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	dl := e.DeadLetters(t, 1)[0]
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "belongs to no warehouse")
	assert.Equal(t, "1", dl.Header.Get(bus.HeaderDeliveryCount))
	assert.Equal(t, int32(1), calls.Load())

	assert.NoError(t, bus.Permanent(nil))
	err = bus.Permanent(context.Canceled)
	assert.ErrorIs(t, err, bus.ErrPermanent)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, "permanent: context canceled", err.Error())
}

func TestConsumeRecoversPanics(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			if calls.Add(1) == 1 {
				var m map[string]int
				m["boom"]++ // nil map: panics
			}
			return rec.Handler(ctx, ev)
		}),
		bus.NewRoute(e.Cat.Subject("orders.cancelled"), func(ctx context.Context, ev bus.Event[orderCancelled]) error {
			panic("always")
		}),
	}, bus.WithMaxDeliver(2), bus.WithNakDelay(func(uint64) time.Duration { return time.Millisecond }))
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "redelivered after the panic")
	assert.Equal(t, uint64(2), rec.Got()[0].Delivered)

	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	dl := e.DeadLetters(t, 1)[0]
	reason := dl.Header.Get(bus.HeaderDeadLetterReason)
	assert.Contains(t, reason, "handler panicked: always")
	assert.Contains(t, reason, "subscriber_test.go", "with a short stack")
	assert.NotContains(t, reason, "\n")
}

func TestConsumeKeepsSlowHandlersAlive(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		calls.Add(1)
		time.Sleep(1500 * time.Millisecond) // three times AckWait
		return nil
	})}, bus.WithAckWait(500*time.Millisecond))
	_, err := e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).AckFloor.Stream == 1 }, "acknowledged")
	assert.Equal(t, int32(1), calls.Load(), "never redelivered while running")
	assert.Equal(t, 0, e.ConsumerInfo(t, durable).NumRedelivered)
}

func TestConsumeBoundsInFlight(t *testing.T) {
	e := newEnv(t)
	const limit, total = 3, 24
	var running, peak, done atomic.Int32
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond) // some work, so handlers overlap
		running.Add(-1)
		done.Add(1)
		return nil
	})}, bus.WithMaxInFlight(limit))
	pub := e.Publisher(t, "orders")
	for range total {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	eventually(t, func() bool { return done.Load() == total }, "all handled")
	assert.LessOrEqual(t, peak.Load(), int32(limit))
	assert.Greater(t, peak.Load(), int32(1), "handlers do run concurrently")
}

func TestStopDrainsInFlight(t *testing.T) {
	e := newEnv(t)
	const inFlight, total = 4, 10
	release := make(chan struct{})
	var started, finished atomic.Int32
	sub, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			started.Add(1)
			<-release
			finished.Add(1)
			return nil
		}),
	}, bus.WithMaxInFlight(inFlight), bus.WithPullBatch(inFlight))
	require.NoError(t, err)
	pub := e.Publisher(t, "orders")
	for range total {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	eventually(t, func() bool { return started.Load() == inFlight }, "handlers running")
	// While the handlers run, the client holds a bounded buffer of further
	// messages: more than none, never more than the pull batch.
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).NumAckPending > inFlight }, "messages buffered")
	time.Sleep(100 * time.Millisecond) // let further pulls, if any, arrive
	assert.LessOrEqual(t, e.ConsumerInfo(t, durable).NumAckPending, 2*inFlight, "the running handlers and the pull batch")

	stopped := make(chan error, 1)
	go func() { stopped <- sub.Stop(context.Background()) }()
	assert.Never(t, func() bool { return len(stopped) > 0 }, 200*time.Millisecond, 10*time.Millisecond, "Stop waits for the running handlers")
	close(release)
	require.NoError(t, <-stopped)
	assert.Equal(t, int32(inFlight), started.Load(), "buffered messages were not started")
	assert.Equal(t, int32(inFlight), finished.Load())
	require.NoError(t, sub.Stop(context.Background()), "a second Stop is fine")

	// The running ones were acknowledged; the buffered ones were given back
	// and come again at once, well before the 30s AckWait.
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)})
	eventually(t, func() bool { return len(rec.Got()) == total-inFlight }, "the others delivered quickly")
	redelivered := 0
	for _, ev := range rec.Got() {
		if ev.Delivered > 1 {
			redelivered++
		}
	}
	assert.Positive(t, redelivered, "buffered messages were nak'ed")
}

func TestStopGivesUpWithContext(t *testing.T) {
	e := newEnv(t)
	handlerStarted, handlerCtxDone := make(chan struct{}), make(chan struct{})
	sub, err := bus.Consume(ctx(t), e.Conn, e.Cat.Catalog, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
			close(handlerStarted)
			<-ctx.Done()
			close(handlerCtxDone)
			return ctx.Err()
		}),
	})
	require.NoError(t, err)
	_, err = e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	<-handlerStarted
	c, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = sub.Stop(c)
	assert.ErrorIs(t, err, bus.ErrStopIncomplete)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	<-handlerCtxDone
	require.NoError(t, sub.Stop(context.Background()))
}

func TestConsumeDeadLetterFailureIsRetried(t *testing.T) {
	e := newEnv(t)
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)},
		bus.WithErrorHandler(rec.OnError), bus.WithNakDelay(func(uint64) time.Duration { return 50 * time.Millisecond }))
	require.NoError(t, e.Conn.JetStream().DeleteStream(ctx(t), e.Cat.Stream.DeadLetterStream))

	publishRaw(t, e, e.Cat.Subject("orders.created"), []byte("garbage"))
	eventually(t, func() bool {
		for _, err := range rec.Errors() {
			if errors.Is(err, bus.ErrDeadLetter) {
				return true
			}
		}
		return false
	}, "dead-letter failure reported")
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	assert.NotEqual(t, 0, e.ConsumerInfo(t, durable).NumAckPending+int(e.ConsumerInfo(t, durable).NumRedelivered), "the message is kept")

	require.NoError(t, bus.EnsureStream(ctx(t), e.Conn, e.Cat.Catalog))
	dl := e.DeadLetters(t, 1)[0]
	assert.Equal(t, []byte("garbage"), dl.Data)
	delivered, err := strconv.Atoi(dl.Header.Get(bus.HeaderDeliveryCount))
	require.NoError(t, err)
	assert.Greater(t, delivered, 1)
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).NumAckPending == 0 }, "terminated once stored")
}

func TestConsumeDeadLettersPastMaxDeliver(t *testing.T) {
	e := newEnv(t)
	// Deliveries that ran no handler (a failed dead letter, a Stop) still
	// count: past MaxDeliver the message is dead-lettered unhandled.
	var calls atomic.Int32
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(ctx context.Context, ev bus.Event[orderCreated]) error {
		calls.Add(1)
		return errors.New("fails")
	})}, bus.WithMaxDeliver(1), bus.WithErrorHandler(rec.OnError), bus.WithNakDelay(func(uint64) time.Duration { return 20 * time.Millisecond }))
	require.NoError(t, e.Conn.JetStream().DeleteStream(ctx(t), e.Cat.Stream.DeadLetterStream))
	_, err := e.Publisher(t, "orders").Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	eventually(t, func() bool { return e.ConsumerInfo(t, durable).NumRedelivered > 0 }, "redelivered after the failed dead letter")
	require.NoError(t, bus.EnsureStream(ctx(t), e.Conn, e.Cat.Catalog))
	dl := e.DeadLetters(t, 1)[0]
	assert.Contains(t, dl.Header.Get(bus.HeaderDeadLetterReason), "past MaxDeliver 1")
	assert.Equal(t, int32(1), calls.Load())
}

func TestConsumeRecreatesDeletedConsumer(t *testing.T) {
	e := newEnv(t)
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)}, bus.WithErrorHandler(rec.OnError))
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "first event")

	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	require.NoError(t, e.Conn.JetStream().DeleteConsumer(ctx(t), e.Cat.Stream.Name, durable))
	eventually(t, func() bool {
		_, err := e.Conn.JetStream().Consumer(ctx(t), e.Cat.Stream.Name, durable)
		return err == nil
	}, "consumer recreated")
	second := newOrder()
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.created"), second)
	require.NoError(t, err)
	eventually(t, func() bool {
		for _, ev := range rec.Got() {
			if ev.Payload.OrderID == second.OrderID {
				return true
			}
		}
		return false
	}, "events flow again")
	found := false
	for _, err := range rec.Errors() {
		found = found || errors.Is(err, bus.ErrFetch)
	}
	assert.True(t, found, "the interruption was reported")
}

// TestConsumerLogger: without an error handler, the subscription's
// errors go to the logger given, at warning level.
func TestConsumerLogger(t *testing.T) {
	e := newEnv(t)
	var logs syncBuffer
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)},
		bus.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	durable := e.Durable(t, "stock", e.Cat.Subject("orders.created"))
	require.NoError(t, e.Conn.JetStream().DeleteConsumer(ctx(t), e.Cat.Stream.Name, durable))
	eventually(t, func() bool { return strings.Contains(logs.String(), `"msg":"bus: consumer error"`) }, "the interruption logged")
	assert.Contains(t, logs.String(), `"level":"WARN"`)
}

func TestConsumeAcrossServerRestart(t *testing.T) {
	e := newEnv(t)
	var rec recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), rec.Handler)}, bus.WithErrorHandler(func(error) {}))
	pub := e.Publisher(t, "orders", bus.WithRetry(20, 50*time.Millisecond), bus.WithPublishTimeout(500*time.Millisecond))
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 1 }, "before restart")
	e.Srv.Restart()
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	eventually(t, func() bool { return len(rec.Got()) == 2 }, "after restart")
}

func TestLegacyConsumers(t *testing.T) {
	e := newEnv(t)
	var created recorder[orderCreated]
	var cancelled recorder[orderCancelled]
	sub := e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), created.Handler),
		bus.NewRoute(e.Cat.Subject("orders.cancelled"), cancelled.Handler),
	}, bus.WithLegacyConsumers())
	p := e.Cat.Prefix
	assert.Equal(t, []string{"stock-service-" + p + "_orders_cancelled", "stock-service-" + p + "_orders_created"}, sub.Consumers())
	for _, name := range sub.Consumers() {
		info := e.ConsumerInfo(t, name)
		assert.Empty(t, info.Config.FilterSubjects)
		assert.NotEmpty(t, info.Config.FilterSubject)
	}
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	eventually(t, func() bool { return len(created.Got()) == 1 && len(cancelled.Got()) == 1 }, "both consumers deliver")

	// A dead letter names the durable that gave up.
	publishRaw(t, e, e.Cat.Subject("orders.cancelled"), []byte("{"))
	dl := e.DeadLetters(t, 1)[0]
	assert.Equal(t, "stock-service-"+p+"_orders_cancelled", dl.Header.Get(bus.HeaderConsumer))
}

func TestConsumeStopsWhenConnectionCloses(t *testing.T) {
	e := newEnv(t)
	conn := connect(t, e.Srv.URL())
	var rec recorder[orderCreated]
	sub, err := bus.Consume(ctx(t), conn, e.Cat.Catalog, "stock", nil, bus.WithErrorHandler(rec.OnError))
	require.NoError(t, err)
	require.NoError(t, conn.Close())
	eventually(t, func() bool {
		for _, err := range rec.Errors() {
			if errors.Is(err, bus.ErrFetch) && errors.Is(err, nats.ErrConnectionClosed) {
				return true
			}
		}
		return false
	}, "closed connection reported")
	require.NoError(t, sub.Stop(ctx(t)))
	require.NoError(t, conn.Close(), "closing twice is fine")
	_, err = bus.Consume(ctx(t), conn, e.Cat.Catalog, "stock", nil)
	assert.ErrorIs(t, err, bus.ErrTopology)
}

func TestLegacyConsumersShareInFlightLimit(t *testing.T) {
	e := newEnv(t)
	// One handler at a time over two durables (NATS 2.9 mode): a durable
	// waiting on a subject with no events must not hold the only slot.
	var created recorder[orderCreated]
	var cancelled recorder[orderCancelled]
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(e.Cat.Subject("orders.created"), created.Handler),
		bus.NewRoute(e.Cat.Subject("orders.cancelled"), cancelled.Handler),
	}, bus.WithLegacyConsumers(), bus.WithMaxInFlight(1))
	pub := e.Publisher(t, "orders")
	for range 3 {
		_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
	}
	eventually(t, func() bool { return len(created.Got()) == 3 }, "events of one subject handled while the other is idle")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	eventually(t, func() bool { return len(cancelled.Got()) == 1 }, "and then those of the other")
}
