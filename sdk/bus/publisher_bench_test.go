package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/spec"
)

// benchEnv is a server, a connection, a one-event catalog whose topology
// exists, and the publisher of that event. The benchmarks run raw nats.go
// (impl=raw, publishing the same envelope bytes and headers, prepared
// beforehand) and the SDK (impl=sdk) side by side; benchstat compares
// them:
//
//	go test -run '^$' -bench 'Publish(Sync|Async)' -count 10 ./sdk/bus | tee new.txt
//	benchstat -col /impl new.txt
type benchEnv struct {
	Conn    *bus.Conn
	pub     *bus.Publisher
	subject string
	version int
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	srv := bustest.RunServer(b)
	p := "b" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	cat := &spec.Catalog{
		Stream: spec.Stream{
			Name: "EV_" + strings.ToUpper(p), Subjects: []string{p + ".>"}, Duplicates: 2 * time.Minute, MaxAge: time.Hour, Replicas: 1,
			DeadLetterStream: "DL_" + strings.ToUpper(p), DeadLetterPrefix: "dl_" + p,
		},
		Services: []spec.Service{{Name: "orders"}},
		// The runtime's own cost: validation is timed on the generated
		// validators, in sdk/events (BenchmarkValidate, BenchmarkPublishTyped).
		Events: []spec.Event{{Subject: p + ".orders.created", Version: 2, Publisher: "orders",
			Schema: orderCreatedSchema, ValidateJSON: func([]byte) error { return nil }}},
	}
	conn, err := bus.Connect(srv.URL())
	require.NoError(b, err)
	b.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = conn.JetStream().DeleteStream(c, cat.Stream.Name)
		_ = conn.JetStream().DeleteStream(c, cat.Stream.DeadLetterStream)
		_ = conn.Close()
	})
	require.NoError(b, bus.EnsureTopology(context.Background(), conn, cat))
	pub, err := bus.NewPublisher(conn, cat, "orders")
	require.NoError(b, err)
	return &benchEnv{Conn: conn, pub: pub, subject: cat.Events[0].Subject, version: 2}
}

// rawMsgs returns n messages carrying what the publisher would send for
// payload: the same envelope bytes and headers, Nats-Msg-Id included.
func (e *benchEnv) rawMsgs(b *testing.B, n int, payload any) []*nats.Msg {
	b.Helper()
	data, err := json.Marshal(payload)
	require.NoError(b, err)
	msgs := make([]*nats.Msg, n)
	now := time.Now().UTC()
	for i := range msgs {
		id := uuid.New()
		body, err := json.Marshal(bus.Envelope{ID: id, Subject: e.subject, CorrelationID: id.String(), Timestamp: now,
			Source: "orders", Version: e.version, Payload: data})
		require.NoError(b, err)
		msgs[i] = &nats.Msg{Subject: e.subject, Data: body, Header: nats.Header{
			bus.HeaderSource:      []string{"orders"},
			bus.HeaderVersion:     []string{strconv.Itoa(e.version)},
			jetstream.MsgIDHeader: []string{id.String()},
		}}
	}
	return msgs
}

func BenchmarkPublishSync(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	payload := newOrder()
	b.Run("impl=raw", func(b *testing.B) {
		msgs := e.rawMsgs(b, b.N, payload)
		js := e.Conn.JetStream()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := js.PublishMsg(ctx, msgs[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.pub.Publish(ctx, e.subject, payload); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPublishAsync(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	payload := newOrder()
	b.Run("impl=raw", func(b *testing.B) {
		msgs := e.rawMsgs(b, b.N, payload)
		js, err := jetstream.New(e.Conn.NATS(), jetstream.WithPublishAsyncMaxPending(bus.DefaultMaxPending))
		require.NoError(b, err)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			for {
				_, err := js.PublishMsgAsync(msgs[i])
				if err == nil {
					break
				}
				if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
					b.Fatal(err)
				}
			}
		}
		<-js.PublishAsyncComplete()
	})
	b.Run("impl=sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.pub.PublishAsync(ctx, e.subject, payload); err != nil {
				b.Fatal(err)
			}
		}
		require.NoError(b, e.pub.Flush(ctx))
	})
}
