package bus_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/internal/testenv"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
)

// consumeBenchEnv is a server, a connection and the orders.created event
// of testenv's catalog (the same schema, validated for real), with b.N
// envelopes already stored in the stream. testenv.New takes a *testing.T,
// so the catalog is built here from testenv's schema.
type consumeBenchEnv struct {
	conn    *bus.Conn
	cat     *spec.Catalog
	subject string
}

func newConsumeBenchEnv(b *testing.B, n int) *consumeBenchEnv {
	b.Helper()
	srv := bustest.RunServer(b)
	p := "c" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	schema, err := payload.CompileSchema("schemas/orders/order_created.json", map[string]string{
		"schemas/orders/order_created.json": testenv.OrderCreatedSchema,
	})
	require.NoError(b, err)
	cat := &spec.Catalog{
		Stream: spec.Stream{
			Name: "EV_" + strings.ToUpper(p), Subjects: []string{p + ".>"}, Duplicates: 2 * time.Minute, MaxAge: time.Hour, Replicas: 1,
			DeadLetterStream: "DL_" + strings.ToUpper(p), DeadLetterPrefix: "dl_" + p,
		},
		Services: []spec.Service{{Name: "orders"}, {Name: "stock"}},
		Events: []spec.Event{{Subject: p + ".orders.created", Version: 2, Publisher: "orders", Consumers: []string{"stock"},
			Schema: testenv.OrderCreatedSchema, ValidateJSON: schema.ValidateJSON}},
	}
	conn, err := bus.Connect(srv.URL())
	require.NoError(b, err)
	b.Cleanup(func() { _ = conn.Close() })
	require.NoError(b, bus.EnsureTopology(context.Background(), conn, cat))
	e := &consumeBenchEnv{conn: conn, cat: cat, subject: cat.Events[0].Subject}

	// The envelopes the publisher would send, published asynchronously.
	data, err := json.Marshal(testenv.NewOrder())
	require.NoError(b, err)
	now := time.Now().UTC()
	js := conn.JetStream()
	for i := range n {
		id := uuid.New()
		body, err := json.Marshal(bus.Envelope{ID: id, Subject: e.subject, CorrelationID: id.String(), OrganizationID: uuid.New(),
			Timestamp: now, Source: "orders", Version: 2, Payload: data})
		require.NoError(b, err)
		m := &nats.Msg{Subject: e.subject, Data: body, Header: nats.Header{nats.MsgIdHdr: []string{id.String()}}}
		_, err = js.PublishMsgAsync(m)
		require.NoError(b, err)
		if i%1000 == 999 {
			<-js.PublishAsyncComplete()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(30 * time.Second):
		b.Fatal("publishing the backlog timed out")
	}
	return e
}

// BenchmarkConsume consumes b.N stored events to the end, with explicit
// acks: impl=sdk through bus.Consume with default options and a handler
// that only counts; impl=raw through jetstream's Consume with nats.go's
// defaults, acking each message and nothing else.
//
//	go test -run '^$' -bench BenchmarkConsume -cpuprofile /tmp/cpu.out ./sdk/bus
func BenchmarkConsume(b *testing.B) {
	b.Run("impl=sdk", func(b *testing.B) { benchConsumeSDK(b) })
	// As the services consume: one handler at a time, in order.
	b.Run("impl=sdk,in_flight=1", func(b *testing.B) { benchConsumeSDK(b, bus.WithMaxInFlight(1)) })
	b.Run("impl=raw", func(b *testing.B) { benchConsumeRaw(b) })
}

func benchConsumeSDK(b *testing.B, opts ...bus.ConsumerOption) {
	{
		e := newConsumeBenchEnv(b, b.N)
		var count, last, maxGap atomic.Int64
		done := make(chan struct{})
		n := int64(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		sub, err := bus.Consume(context.Background(), e.conn, e.cat, "stock", []bus.Route{
			bus.NewRoute(e.subject, func(ctx context.Context, ev bus.Event[testenv.OrderCreated]) error {
				now := time.Now().UnixNano()
				if prev := last.Swap(now); prev != 0 && now-prev > maxGap.Load() {
					maxGap.Store(now - prev) // racy maximum, good enough for a figure
				}
				if count.Add(1) == n {
					close(done)
				}
				return nil
			}),
		}, append(opts, bus.WithErrorHandler(func(err error) { b.Errorf("after %v, %d of %d consumed: %v", time.Since(start), count.Load(), n, err) }))...)
		require.NoError(b, err)
		waitConsumed(b, done)
		elapsed := time.Since(start)
		b.StopTimer()
		require.NoError(b, sub.Stop(context.Background()))
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
		// The longest wait between two handler calls: a stall shows here.
		b.ReportMetric(float64(maxGap.Load())/1e6, "max_gap_ms")
	}
}

func benchConsumeRaw(b *testing.B) {
	{
		e := newConsumeBenchEnv(b, b.N)
		cfg := jetstream.ConsumerConfig{Durable: "raw", AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy}
		cons, err := e.conn.JetStream().CreateOrUpdateConsumer(context.Background(), e.cat.Stream.Name, cfg)
		require.NoError(b, err)
		var count atomic.Int64
		done := make(chan struct{})
		n := int64(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		cc, err := cons.Consume(func(msg jetstream.Msg) {
			if err := msg.Ack(); err != nil {
				b.Error(err)
			}
			if count.Add(1) == n {
				close(done)
			}
		})
		require.NoError(b, err)
		waitConsumed(b, done)
		elapsed := time.Since(start)
		b.StopTimer()
		cc.Stop()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	}
}

func waitConsumed(b *testing.B, done <-chan struct{}) {
	b.Helper()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatal("not every event was consumed")
	}
}
