package bus_test

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
)

// consumeProfile names a file for a CPU profile of the consume phase of
// BenchmarkConsumeShipped alone, without filling the stream.
var consumeProfile = flag.String("consumeprofile", "", "write a CPU profile of BenchmarkConsumeShipped's consume phase to `file`")

// shippedExample is the catalog's example of execution.sales_order.shipped
// (catalog/execution.yaml), the payload cmd/bench consumes.
const shippedExample = `{"sales_order_id": "47e2c8b5-3a9d-4f16-b7e0-8d1c5a6f2e93", "order_number": "SO-2026-004817",
 "shipment_id": "8b5f2e7c-1d4a-4c93-a6b8-e0f3d9c2b571", "location_id": "b4f1c7d2-3e6a-4f58-9b0c-7a2d1e5f8c34",
 "lines": [{"line_number": 1, "product": {"product_id": "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93", "sku": "BRG-6204-2RS"},
  "quantity_shipped": {"value": 60, "unit": "EA"}, "quantity_outstanding": {"value": 60, "unit": "EA"}}],
 "fully_shipped": false, "tracking_number": null, "shipped_at": "2026-11-27T14:31:58Z"}`

// BenchmarkConsumeShipped is cmd/bench's SDK consume figure in a test:
// b.N execution.sales_order.shipped envelopes, published by the generated
// execution publisher, consumed to the end by the generated ddmrp
// consumer with default options and a handler that only counts. With
// -consumeprofile, only the consume phase is profiled.
//
//	go test -run '^$' -bench ConsumeShipped -benchtime 50000x -consumeprofile /tmp/cpu.out ./sdk/bus
func BenchmarkConsumeShipped(b *testing.B) {
	srv := bustest.RunServer(b)
	conn, err := bus.Connect(srv.URL())
	require.NoError(b, err)
	b.Cleanup(func() { _ = conn.Close() })
	ctx := context.Background()
	require.NoError(b, bus.EnsureTopology(ctx, conn, events.Catalog))
	pub, err := events.NewExecutionPublisher(conn)
	require.NoError(b, err)
	var shipped events.SalesOrderShipped
	require.NoError(b, json.Unmarshal([]byte(shippedExample), &shipped))
	for range b.N {
		_, err := pub.SalesOrderShippedAsync(ctx, shipped)
		require.NoError(b, err)
	}
	require.NoError(b, pub.Flush(ctx))

	var count atomic.Int64
	done := make(chan struct{})
	n := int64(b.N)
	if *consumeProfile != "" {
		f, err := os.Create(*consumeProfile)
		require.NoError(b, err)
		defer f.Close()
		require.NoError(b, pprof.StartCPUProfile(f))
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	sub, err := events.ConsumeDDMRP(ctx, conn, events.DDMRPHandlers{
		SalesOrderShipped: func(context.Context, bus.Event[events.SalesOrderShipped]) error {
			if count.Add(1) == n {
				close(done)
			}
			return nil
		},
	}, bus.WithErrorHandler(func(err error) { b.Errorf("%d of %d consumed: %v", count.Load(), n, err) }))
	require.NoError(b, err)
	waitConsumed(b, done)
	elapsed := time.Since(start)
	b.StopTimer()
	if *consumeProfile != "" {
		pprof.StopCPUProfile()
	}
	require.NoError(b, sub.Stop(ctx))
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
}
