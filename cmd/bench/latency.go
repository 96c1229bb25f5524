package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/services/authn"
	execapp "github.com/giia/events/services/execution/app"
)

// latencies collects durations and tells when it holds n of them.
type latencies struct {
	mu   sync.Mutex
	ds   []time.Duration
	want int
	full chan struct{}
}

func newLatencies(n int) *latencies {
	return &latencies{ds: make([]time.Duration, 0, n), want: n, full: make(chan struct{})}
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ds = append(l.ds, d)
	if len(l.ds) == l.want {
		close(l.full)
	}
}

// wait waits until n durations are in, or for timeout.
func (l *latencies) wait(ctx context.Context, timeout time.Duration, what string) ([]time.Duration, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-l.full:
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ds) < l.want {
		return nil, fmt.Errorf("%d of %d %s after %v", len(l.ds), l.want, what, timeout)
	}
	return append([]time.Duration(nil), l.ds...), nil
}

// endToEnd publishes purchase orders with the typed facade at e2eRate
// per second and times each from the call to its typed handler, the DDMRP
// service's durable consumer.
func (b *bench) endToEnd(ctx context.Context) error {
	n := int(b.e2eFor.Seconds() * float64(b.e2eRate))
	const warmUp = 50
	var current atomic.Pointer[latencies]
	current.Store(newLatencies(warmUp))
	sub, err := events.ConsumeDDMRP(ctx, b.conn, events.DDMRPHandlers{
		PurchaseOrderCreated: func(_ context.Context, ev bus.Event[events.PurchaseOrderCreated]) error {
			current.Load().add(time.Since(ev.Timestamp))
			return nil
		},
	})
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = sub.Stop(c)
	}()
	// Warm up: the consumer's first pulls, the first handler calls.
	for range warmUp {
		if _, err := b.pub.PurchaseOrderCreated(ctx, b.po); err != nil {
			return err
		}
	}
	if _, err := current.Load().wait(ctx, 30*time.Second, "warm-up events handled"); err != nil {
		return err
	}
	lat := newLatencies(n)
	current.Store(lat)
	period := time.Second / time.Duration(b.e2eRate)
	start := time.Now()
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * period)); d > 0 {
			time.Sleep(d)
		}
		// The envelope's timestamp is the moment of the call.
		if _, err := b.pub.PurchaseOrderCreated(ctx, b.po, bus.WithTimestamp(time.Now())); err != nil {
			return err
		}
	}
	ds, err := lat.wait(ctx, 30*time.Second, "events handled")
	if err != nil {
		return err
	}
	fmt.Fprintf(b.log, "  end to end: p90 %v, max %v\n", percentile(ds, 90), percentile(ds, 100))
	b.printf("e2e_p50_us", "%d", percentile(ds, 50).Microseconds())
	b.printf("e2e_p99_us", "%d", percentile(ds, 99).Microseconds())
	return nil
}

// orderOp times, for orderOps purchase orders created one after another
// through the execution service's HTTP API, the interval from the call to
// the moment its purchase_order.created event is in the stream (seen by an
// ordered consumer, matched by correlation id).
func (b *bench) orderOp(ctx context.Context) error {
	iss, err := b.devIssuer()
	if err != nil {
		return err
	}
	exec, err := execapp.Start(ctx, execapp.Config{
		NATSURL:  b.srv.ClientURL(),
		HTTPAddr: "127.0.0.1:0",
		DBPath:   filepath.Join(b.dir, "execution.db"),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		HTTPAuth: iss.Config(),
	})
	if err != nil {
		return err
	}
	defer func() {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = exec.Shutdown(c)
	}()
	org, product, location, supplier := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	api, err := b.newClient(exec.URL(), org)
	if err != nil {
		return err
	}

	catalog, err := events.NewCatalogPublisher(b.conn)
	if err != nil {
		return err
	}
	if _, err := catalog.ProductCreated(bus.WithCorrelation(ctx, org, "bench-catalog"), events.ProductCreated{
		ProductID: product, SKU: "BENCH-6204", Name: "Benchmark bearing", UnitOfMeasure: events.UnitEA,
		PreferredSupplierID: &supplier, CreatedAt: time.Now().UTC(),
	}); err != nil {
		return err
	}
	if err := poll(ctx, 10*time.Second, func() bool {
		status, err := api.do(ctx, http.MethodGet, "/products/"+product.String(), "", nil)
		return err == nil && status == http.StatusOK
	}); err != nil {
		return fmt.Errorf("the execution service did not learn the product: %w", err)
	}

	var mu sync.Mutex
	started := map[string]time.Time{}
	lat := newLatencies(b.orderOps)
	cons, err := b.js.OrderedConsumer(ctx, events.Catalog.Stream.Name, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.SubjectExecutionPurchaseOrderCreated},
		DeliverPolicy:  jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return err
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		seen := time.Now()
		var env struct {
			CorrelationID string `json:"correlation_id"`
		}
		if json.Unmarshal(m.Data(), &env) != nil {
			return
		}
		mu.Lock()
		t, ok := started[env.CorrelationID]
		delete(started, env.CorrelationID)
		mu.Unlock()
		if ok {
			lat.add(seen.Sub(t))
		}
	})
	if err != nil {
		return err
	}
	defer cc.Stop()

	due := payload.DateOf(time.Now().UTC()).AddDays(14).String()
	for i := range b.orderOps {
		body, err := json.Marshal(map[string]any{
			"location_id": location, "expected_delivery_date": due, "created_by": "buyer@example.com",
			"lines": []any{map[string]any{"product_id": product, "quantity": 10 + i}},
		})
		if err != nil {
			return err
		}
		corr := fmt.Sprintf("bench-order-%d", i)
		mu.Lock()
		started[corr] = time.Now()
		mu.Unlock()
		status, err := api.do(ctx, http.MethodPost, "/purchase-orders", corr, body)
		if err != nil {
			return err
		}
		if status != http.StatusCreated {
			return fmt.Errorf("POST /purchase-orders: status %d, want %d", status, http.StatusCreated)
		}
	}
	ds, err := lat.wait(ctx, 30*time.Second, "purchase order events stored")
	if err != nil {
		return err
	}
	fmt.Fprintf(b.log, "  order operation: p50 %v, p90 %v, max %v\n", percentile(ds, 50), percentile(ds, 90), percentile(ds, 100))
	b.printf("order_op_p99_ms", "%.2f", float64(percentile(ds, 99).Microseconds())/1000)
	return nil
}

// client calls a service's HTTP API for one organization.
type client struct {
	base  string
	org   uuid.UUID
	token string // a bearer token acting for org
	http  http.Client
}

// newClient returns a client of the API at base acting for org with
// every role, its token from the benchmark's identity provider.
func (b *bench) newClient(base string, org uuid.UUID) (*client, error) {
	iss, err := b.devIssuer()
	if err != nil {
		return nil, err
	}
	tok, err := iss.Token("bench", org, 24*time.Hour, authn.AllRoles...)
	if err != nil {
		return nil, err
	}
	return &client{base: base, org: org, token: tok}, nil
}

// devIssuer returns the identity provider the benchmark's services trust,
// made on first use.
func (b *bench) devIssuer() (*authn.DevIssuer, error) {
	if b.issuer == nil {
		iss, err := authn.NewDevIssuer(filepath.Join(b.dir, "jwks.json"))
		if err != nil {
			return nil, err
		}
		b.issuer = iss
	}
	return b.issuer, nil
}

// do sends body (JSON, or nothing when nil) with the correlation id (a
// new one when empty) and returns the status; the response is discarded.
func (c *client) do(ctx context.Context, method, path, corr string, body []byte) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, err
	}
	if corr == "" {
		corr = "bench-" + uuid.NewString()
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-Correlation-ID", corr)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// poll checks cond every 10ms until it holds or timeout passes.
func poll(ctx context.Context, timeout time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
