package events_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
)

// Benchmarks of the typed publish on the real catalog, to compare with
// benchstat:
//
//	go test -run '^$' -bench PublishTyped -count 10 ./sdk/events | tee new.txt
//	benchstat old.txt new.txt

// largestExample returns the catalog's largest example payload and its
// subject.
func largestCatalogExample(tb testing.TB) (string, []byte) {
	tb.Helper()
	var subject string
	var payload []byte
	files, err := filepath.Glob("../../catalog/*.yaml")
	require.NoError(tb, err)
	require.NotEmpty(tb, files)
	for s, exs := range examplesOf(tb, files) {
		for _, ex := range exs {
			if len(ex) > len(payload) || (len(ex) == len(payload) && s < subject) {
				subject, payload = s, ex
			}
		}
	}
	return subject, payload
}

// examplesOf is examples for any testing.TB.
func examplesOf(tb testing.TB, files []string) map[string][][]byte {
	tb.Helper()
	out := map[string][][]byte{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(tb, err)
		var doc struct {
			Events []struct {
				Subject  string `yaml:"subject"`
				Examples []any  `yaml:"examples"`
			} `yaml:"events"`
		}
		require.NoError(tb, yaml.Unmarshal(raw, &doc), f)
		for _, e := range doc.Events {
			for _, ex := range e.Examples {
				data, err := json.Marshal(ex)
				require.NoError(tb, err)
				out[e.Subject] = append(out[e.Subject], data)
			}
		}
	}
	return out
}

// BenchmarkPublishTyped publishes the catalog's largest example, a
// purchase order: synchronously through the execution facade (the typed
// hand-over: the payload validates and encodes itself), the same value
// through the untyped bus.Publisher.Publish (encoded by encoding/json, its
// encoding checked by the catalog), and asynchronously.
func BenchmarkPublishTyped(b *testing.B) {
	subject, payload := largestCatalogExample(b)
	require.Equal(b, events.SubjectExecutionPurchaseOrderCreated, subject, "the benchmark publishes purchase orders")
	var po events.PurchaseOrderCreated
	require.NoError(b, json.Unmarshal(payload, &po))
	srv := bustest.RunServer(b)
	conn, err := bus.Connect(srv.URL())
	require.NoError(b, err)
	b.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	require.NoError(b, bus.EnsureTopology(ctx, conn, events.Catalog))
	pub, err := events.NewExecutionPublisher(conn)
	require.NoError(b, err)
	b.Run("facade", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pub.PurchaseOrderCreated(ctx, po); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The same value through the untyped publisher: encoded by
	// encoding/json, its encoding checked by the catalog's ValidateJSON.
	b.Run("untyped", func(b *testing.B) {
		untyped, err := bus.NewPublisher(conn, events.Catalog, events.ServiceExecution)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := untyped.Publish(ctx, subject, po); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("async", func(b *testing.B) {
		async, err := events.NewExecutionPublisher(conn)
		require.NoError(b, err)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := async.PurchaseOrderCreatedAsync(ctx, po); err != nil {
				b.Fatal(err)
			}
		}
		require.NoError(b, async.Flush(ctx))
	})
}

// BenchmarkConsumeTyped consumes the catalog's largest example, a purchase
// order, through the analytics facade: what a consumer pays per event for
// the envelope, the schema check of its version, the decoding into the
// typed payload and the ack. b.N events are stored first, untimed.
func BenchmarkConsumeTyped(b *testing.B) {
	subject, payload := largestCatalogExample(b)
	require.Equal(b, events.SubjectExecutionPurchaseOrderCreated, subject, "the benchmark consumes purchase orders")
	var po events.PurchaseOrderCreated
	require.NoError(b, json.Unmarshal(payload, &po))
	srv := bustest.RunServer(b)
	conn, err := bus.Connect(srv.URL())
	require.NoError(b, err)
	b.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	require.NoError(b, bus.EnsureTopology(ctx, conn, events.Catalog))
	pub, err := events.NewExecutionPublisher(conn)
	require.NoError(b, err)
	for range b.N {
		if _, err := pub.PurchaseOrderCreatedAsync(ctx, po); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, pub.Flush(ctx))

	done := make(chan struct{})
	var n atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	sub, err := events.ConsumeAnalytics(ctx, conn, events.AnalyticsHandlers{
		PurchaseOrderCreated: func(_ context.Context, ev bus.Event[events.PurchaseOrderCreated]) error {
			if n.Add(1) == int64(b.N) {
				close(done)
			}
			return nil
		},
	}, bus.WithMaxInFlight(1))
	require.NoError(b, err)
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("consumed %d of %d events", n.Load(), b.N)
	}
	b.StopTimer()
	require.NoError(b, sub.Stop(ctx))
}
