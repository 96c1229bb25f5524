package bus_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
)

// runServer starts an in-process NATS server with JetStream (or uses
// NATS_TEST_URL), shut down when the test ends.
func runServer(t *testing.T, opts ...bustest.Option) *bustest.Server {
	t.Helper()
	return bustest.RunServer(t, opts...)
}

// connect connects to url with quick reconnects, closed when the test ends.
func connect(t *testing.T, url string, opts ...bus.ConnectOption) *bus.Conn {
	t.Helper()
	opts = append([]bus.ConnectOption{bus.WithReconnect(-1, 50*time.Millisecond), bus.WithName(t.Name())}, opts...)
	c, err := bus.Connect(url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const (
	orderCreatedSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id", "sku", "quantity"],
  "properties": {
    "order_id": {"type": "string", "format": "uuid"},
    "sku": {"type": "string", "minLength": 1},
    "quantity": {"type": "integer", "minimum": 1},
    "note": {"type": "string"}
  }
}`
	orderCancelledSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id"],
  "properties": {
    "order_id": {"type": "string", "format": "uuid"},
    "reason": {"type": "string"}
  }
}`
	stockAdjustedSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["sku", "delta"],
  "properties": {
    "sku": {"type": "string", "minLength": 1},
    "delta": {"type": "integer"}
  }
}`
)

type orderCreated struct {
	OrderID  uuid.UUID `json:"order_id"`
	SKU      string    `json:"sku"`
	Quantity int64     `json:"quantity"`
	Note     *string   `json:"note,omitempty"`
}

type orderCancelled struct {
	OrderID uuid.UUID `json:"order_id"`
	Reason  *string   `json:"reason,omitempty"`
}

type stockAdjusted struct {
	SKU   string `json:"sku"`
	Delta int64  `json:"delta"`
}

// testCatalog is a small catalog of its own stream and subjects, all under
// a random prefix, so tests can share an external server:
// services analytics (external), orders and stock; events
// <p>.orders.cancelled (orders -> stock), <p>.orders.created (orders ->
// analytics, stock) and <p>.stock.adjusted (stock -> orders).
type testCatalog struct {
	*bus.Catalog
	prefix string
}

func (c testCatalog) subject(s string) string { return c.prefix + "." + s }

func newCatalog(t *testing.T) testCatalog {
	t.Helper()
	p := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	upper := strings.ToUpper(p)
	validator := func(path, schema string) func([]byte) error {
		s, err := bus.CompileSchema(path, map[string]string{path: schema})
		require.NoError(t, err)
		return s.ValidateJSON
	}
	cat := &bus.Catalog{
		Stream: bus.StreamSpec{
			Name:             "EV_" + upper,
			Subjects:         []string{p + ".>"},
			Duplicates:       2 * time.Minute,
			MaxAge:           time.Hour,
			Replicas:         1,
			DeadLetterStream: "DL_" + upper,
			DeadLetterPrefix: "dl_" + p,
		},
		Services: []bus.ServiceSpec{
			{Name: "analytics", External: true},
			{Name: "orders", Owner: "team-orders"},
			{Name: "stock", Owner: "team-stock"},
		},
		Events: []bus.EventSpec{
			{Subject: p + ".orders.cancelled", Version: 1, Publisher: "orders", Consumers: []string{"stock"},
				Schema: orderCancelledSchema, ValidateJSON: validator("schemas/orders/order_cancelled.json", orderCancelledSchema)},
			{Subject: p + ".orders.created", Version: 2, Publisher: "orders", Consumers: []string{"analytics", "stock"},
				Schema: orderCreatedSchema, ValidateJSON: validator("schemas/orders/order_created.json", orderCreatedSchema)},
			{Subject: p + ".stock.adjusted", Version: 1, Publisher: "stock", Consumers: []string{"orders"},
				Schema: stockAdjustedSchema, ValidateJSON: validator("schemas/stock/stock_adjusted.json", stockAdjustedSchema)},
		},
	}
	return testCatalog{Catalog: cat, prefix: p}
}

// env is a server, a connection and a catalog whose topology exists.
type env struct {
	srv  *bustest.Server
	conn *bus.Conn
	cat  testCatalog
}

func newEnv(t *testing.T, opts ...bustest.Option) *env {
	t.Helper()
	srv := runServer(t, opts...)
	e := &env{srv: srv, cat: newCatalog(t)}
	e.conn = connect(t, srv.URL())
	require.NoError(t, bus.EnsureTopology(ctx(t), e.conn, e.cat.Catalog))
	t.Cleanup(func() { deleteStreams(t, srv, e.cat.Catalog) })
	return e
}

// deleteStreams removes the test's streams, which matters on an external
// server.
func deleteStreams(t *testing.T, srv *bustest.Server, cat *bus.Catalog) {
	if srv.NATSServer() == nil && !srv.External() {
		return
	}
	c, err := bus.Connect(srv.URL())
	if err != nil {
		return
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.JetStream().DeleteStream(ctx, cat.Stream.Name)
	_ = c.JetStream().DeleteStream(ctx, cat.Stream.DeadLetterStream)
}

// ctx is a context that ends with the test or after 30s.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) publisher(t *testing.T, service string, opts ...bus.PublisherOption) *bus.Publisher {
	t.Helper()
	p, err := bus.NewPublisher(e.conn, e.cat.Catalog, service, opts...)
	require.NoError(t, err)
	return p
}

// consume starts a subscription stopped when the test ends.
func (e *env) consume(t *testing.T, service string, routes []bus.Route, opts ...bus.ConsumerOption) *bus.Subscription {
	t.Helper()
	sub, err := bus.Consume(ctx(t), e.conn, e.cat.Catalog, service, routes, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sub.Stop(c)
	})
	return sub
}

func (e *env) streamMsgs(t *testing.T, name string) uint64 {
	t.Helper()
	s, err := e.conn.JetStream().Stream(ctx(t), name)
	require.NoError(t, err)
	info, err := s.Info(ctx(t))
	require.NoError(t, err)
	return info.State.Msgs
}

// deadLetters waits until the dead-letter stream holds n messages and
// returns them in order.
func (e *env) deadLetters(t *testing.T, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	name := e.cat.Stream.DeadLetterStream
	eventually(t, func() bool { return e.streamMsgs(t, name) >= uint64(n) }, "%d dead letters", n)
	s, err := e.conn.JetStream().Stream(ctx(t), name)
	require.NoError(t, err)
	out := make([]*jetstream.RawStreamMsg, 0, n)
	for seq := uint64(1); len(out) < n; seq++ {
		m, err := s.GetMsg(ctx(t), seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func (e *env) consumerInfo(t *testing.T, name string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := e.conn.JetStream().Consumer(ctx(t), e.cat.Stream.Name, name)
	require.NoError(t, err)
	info, err := c.Info(ctx(t))
	require.NoError(t, err)
	return info
}

// multiFilter reports whether e's server takes a consumer filtering
// several subjects (NATS 2.10 and later). On NATS 2.9 the runtime keeps
// one durable per consumed subject instead.
func (e *env) multiFilter(t *testing.T) bool {
	t.Helper()
	version := strings.TrimPrefix(e.conn.NATS().ConnectedServerVersion(), "v")
	var major, minor int
	_, err := fmt.Sscanf(version, "%d.%d", &major, &minor)
	require.NoError(t, err, "server version %q", version)
	return major > 2 || (major == 2 && minor >= 10)
}

// durable returns the name of the durable through which service receives
// subject on e's server: "<service>-service", or on NATS 2.9
// "<service>-service-<subject with dots as underscores>".
func (e *env) durable(t *testing.T, service, subject string) string {
	t.Helper()
	if e.multiFilter(t) {
		return service + "-service"
	}
	return service + "-service-" + strings.ReplaceAll(subject, ".", "_")
}

// durables returns the names of service's durables on e's server, in the
// order of the subjects in the catalog.
func (e *env) durables(t *testing.T, service string) []string {
	t.Helper()
	var names []string
	for _, subject := range e.cat.ConsumedBy(service) {
		if name := e.durable(t, service, subject); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// settled reports whether every durable of service has delivered all its
// messages and has none waiting for an acknowledgement.
func (e *env) settled(t *testing.T, service string) bool {
	t.Helper()
	for _, name := range e.durables(t, service) {
		info := e.consumerInfo(t, name)
		if info.NumPending != 0 || info.NumAckPending != 0 {
			return false
		}
	}
	return true
}

// eventually polls cond every 10ms for up to 10s.
func eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventuallyf(t, cond, 10*time.Second, 10*time.Millisecond, msg, args...)
}

// recorder collects what handlers and error handlers see.
type recorder[T any] struct {
	mu     sync.Mutex
	events []bus.Event[T]
	errs   []error
}

func (r *recorder[T]) handler(ctx context.Context, ev bus.Event[T]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *recorder[T]) onError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *recorder[T]) got() []bus.Event[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bus.Event[T](nil), r.events...)
}

func (r *recorder[T]) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func newOrder() orderCreated {
	return orderCreated{OrderID: uuid.New(), SKU: "SKU-1", Quantity: 3}
}
