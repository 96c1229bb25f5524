package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/uuid"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
	ddmrpapp "github.com/giia/events/services/ddmrp/app"
	"github.com/giia/events/services/sqlitedb"
)

// catchUpBuffers is how many buffers the backlog's orders touch.
const catchUpBuffers = 5

// catchUpTarget is the target: 100,000 events applied in at most
// 10 s; a smaller backlog (--quick) is held to the same rate.
const catchUpTargetEvents, catchUpTargetS = 100000, 10.0

// catchUp measures how long the real ddmrp service (services/ddmrp/app)
// takes, restarted after downtime, to apply a backlog of catchUpN events
// published while it was down: sales orders created and then shipped, one
// line each, spread over catchUpBuffers buffers whose profiles were set
// through its API before it stopped. The clock runs from the restart's
// call until the service's durable has acknowledged the backlog's last
// event (polled every 10 ms). catch_up_longest_gap_ms is the longest
// interval without an applied event, from the restart to the first and
// between any two, read afterwards from the service's inbox table
// (millisecond times of the commits). CPU time and allocations are the
// whole process's over the catch-up.
func (b *bench) catchUp(ctx context.Context) error {
	iss, err := b.devIssuer()
	if err != nil {
		return err
	}
	cfg := ddmrpapp.Config{
		NATSURL:  b.srv.ClientURL(),
		HTTPAddr: "127.0.0.1:0",
		DBPath:   filepath.Join(b.dir, "ddmrp.db"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPAuth: iss.Config(),
	}
	org, location := uuid.New(), uuid.New()
	products := make([]events.ProductRef, catchUpBuffers)
	for k := range products {
		products[k] = events.ProductRef{ProductID: uuid.New(), SKU: fmt.Sprintf("BENCH-%04d", k+1)}
	}

	// Before the downtime: the buffers' profiles.
	svc, err := ddmrpapp.Start(ctx, cfg)
	if err != nil {
		return err
	}
	api, err := b.newClient(svc.URL(), org)
	if err != nil {
		return err
	}
	for _, p := range products {
		body, err := json.Marshal(map[string]any{
			"sku": p.SKU, "unit": "EA",
			"adu": 40, "dlt_days": 10, "lead_time_factor": 0.5, "variability_factor": 0.5, "moq": 500, "order_cycle_days": 7,
		})
		if err != nil {
			return err
		}
		status, err := api.do(ctx, http.MethodPut, fmt.Sprintf("/buffers/%s/%s", p.ProductID, location), "", body)
		if err == nil && status != http.StatusCreated {
			err = fmt.Errorf("PUT /buffers: status %d, want %d", status, http.StatusCreated)
		}
		if err != nil {
			_ = shutdown(ctx, svc)
			return err
		}
	}
	if err := shutdown(ctx, svc); err != nil {
		return err
	}

	// The downtime's backlog.
	if err := b.publishBacklog(ctx, org, location, products); err != nil {
		return err
	}
	s, err := b.js.Stream(ctx, events.Catalog.Stream.Name)
	if err != nil {
		return err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	last := info.State.LastSeq

	// The restart.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start, c := time.Now(), cpuTime()
	if svc, err = ddmrpapp.Start(ctx, cfg); err != nil {
		return err
	}
	cons, err := b.js.Consumer(ctx, events.Catalog.Stream.Name, spec.ConsumerName(events.ServiceDDMRP))
	if err != nil {
		_ = shutdown(ctx, svc)
		return err
	}
	var floor uint64
	err = poll(ctx, 30*time.Second+time.Duration(b.catchUpN)*10*time.Millisecond, func() bool {
		info, err := cons.Info(ctx)
		if err == nil {
			floor = info.AckFloor.Stream
		}
		return floor >= last
	})
	elapsed, used := time.Since(start), cpuTime()-c
	runtime.ReadMemStats(&after)
	if stopErr := shutdown(ctx, svc); err == nil {
		err = stopErr
	}
	if err != nil {
		return fmt.Errorf("the ddmrp service acknowledged up to sequence %d of %d: %w", floor, last, err)
	}
	applied, gap, err := appliedSince(ctx, cfg.DBPath, start)
	if err != nil {
		return err
	}
	if applied != b.catchUpN {
		return fmt.Errorf("the ddmrp service applied %d events of the backlog's %d", applied, b.catchUpN)
	}
	n := float64(b.catchUpN)
	fmt.Fprintf(b.log, "  catch-up: %d events in %v, %.0f/s\n", b.catchUpN, elapsed, n/elapsed.Seconds())
	b.printf("catch_up_events", "%d", b.catchUpN)
	b.printf("catch_up_s", "%.2f", elapsed.Seconds())
	b.printf("catch_up_per_s", "%.0f", n/elapsed.Seconds())
	b.printf("catch_up_longest_gap_ms", "%d", gap.Milliseconds())
	b.printf("catch_up_cpu_us", "%.1f", float64(used.Nanoseconds())/1000/n)
	b.printf("catch_up_allocs", "%.1f", float64(after.Mallocs-before.Mallocs)/n)
	return nil
}

// publishBacklog publishes catchUpN events as the execution service
// would: each sales order created, then shipped in full, in turn over the
// products.
func (b *bench) publishBacklog(ctx context.Context, org, location uuid.UUID, products []events.ProductRef) error {
	now := time.Now().UTC()
	today := payload.DateOf(now)
	for i := 0; i < b.catchUpN; i += 2 {
		p := products[(i/2)%len(products)]
		order := uuid.New()
		number := fmt.Sprintf("SO-%d-%06d", now.Year(), i/2+1)
		octx := bus.WithCorrelation(ctx, org, "bench-catch-up-"+number)
		if _, err := b.pub.SalesOrderCreatedAsync(octx, events.SalesOrderCreated{
			SalesOrderID: order, OrderNumber: number, CustomerID: org, LocationID: location,
			Lines: []events.SalesOrderLine{{
				LineNumber: 1, Product: p, Quantity: events.Quantity{Value: 2, Unit: events.UnitEA}, DueDate: today,
			}},
			CreatedAt: now,
		}); err != nil {
			return err
		}
		if i+1 == b.catchUpN {
			break
		}
		if _, err := b.pub.SalesOrderShippedAsync(octx, events.SalesOrderShipped{
			SalesOrderID: order, OrderNumber: number, ShipmentID: uuid.New(), LocationID: location,
			Lines: []events.SalesOrderShipmentLine{{
				LineNumber: 1, Product: p,
				QuantityShipped:     events.Quantity{Value: 2, Unit: events.UnitEA},
				QuantityOutstanding: events.Quantity{Value: 0, Unit: events.UnitEA},
			}},
			FullyShipped: true,
			ShippedAt:    now,
		}); err != nil {
			return err
		}
	}
	return b.pub.Flush(ctx)
}

// appliedSince reads the inbox of the ddmrp service's database at path:
// how many events it applied since start, and the longest interval
// without one (from start to the first, and between any two).
func appliedSince(ctx context.Context, path string, start time.Time) (int, time.Duration, error) {
	db, err := sqlitedb.Open(ctx, path, "SELECT 1")
	if err != nil {
		return 0, 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT processed_at FROM giia_inbox WHERE processed_at >= ? ORDER BY processed_at`, start.UnixMilli())
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	n, prev, longest := 0, start.UnixMilli(), int64(0)
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return 0, 0, err
		}
		n, longest, prev = n+1, max(longest, at-prev), at
	}
	return n, time.Duration(longest) * time.Millisecond, rows.Err()
}

// shutdown stops a service, within 10 s.
func shutdown(ctx context.Context, svc *ddmrpapp.Service) error {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return svc.Shutdown(c)
}
