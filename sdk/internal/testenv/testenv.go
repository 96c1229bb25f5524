// Package testenv holds the fixtures the tests of sdk/bus and sdk/outbox
// share: an in-process server, a small catalog of its own under a random
// prefix (so that tests can share an external server), its payload types,
// and helpers to publish, consume and wait.
package testenv

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
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
)

// RunServer starts an in-process NATS server with JetStream (or uses
// NATS_TEST_URL), shut down when the test ends.
func RunServer(t *testing.T, opts ...bustest.Option) *bustest.Server {
	t.Helper()
	return bustest.RunServer(t, opts...)
}

// Connect connects to url with quick reconnects, closed when the test ends.
func Connect(t *testing.T, url string, opts ...bus.ConnectOption) *bus.Conn {
	t.Helper()
	opts = append([]bus.ConnectOption{bus.WithReconnect(-1, 50*time.Millisecond), bus.WithName(t.Name())}, opts...)
	c, err := bus.Connect(url, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

const (
	OrderCreatedSchema = `{
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
	OrderCancelledSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["order_id"],
  "properties": {
    "order_id": {"type": "string", "format": "uuid"},
    "reason": {"type": "string"}
  }
}`
	StockAdjustedSchema = `{
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

type OrderCreated struct {
	OrderID  uuid.UUID `json:"order_id"`
	SKU      string    `json:"sku"`
	Quantity int64     `json:"quantity"`
	Note     *string   `json:"note,omitempty"`
}

type OrderCancelled struct {
	OrderID uuid.UUID `json:"order_id"`
	Reason  *string   `json:"reason,omitempty"`
}

type StockAdjusted struct {
	SKU   string `json:"sku"`
	Delta int64  `json:"delta"`
}

// Catalog is a small catalog of its own stream and subjects, all under
// a random prefix, so tests can share an external server:
// services analytics (external), orders and stock; events
// <p>.orders.cancelled (orders -> stock), <p>.orders.created (orders ->
// analytics, stock) and <p>.stock.adjusted (stock -> orders).
type Catalog struct {
	*spec.Catalog
	Prefix string
}

func (c Catalog) Subject(s string) string { return c.Prefix + "." + s }

func NewCatalog(t *testing.T) Catalog {
	t.Helper()
	p := "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	upper := strings.ToUpper(p)
	validator := func(path, schema string) func([]byte) error {
		s, err := payload.CompileSchema(path, map[string]string{path: schema})
		require.NoError(t, err)
		return s.ValidateJSON
	}
	cat := &spec.Catalog{
		Stream: spec.Stream{
			Name:             "EV_" + upper,
			Subjects:         []string{p + ".>"},
			Duplicates:       2 * time.Minute,
			MaxAge:           time.Hour,
			Replicas:         1,
			DeadLetterStream: "DL_" + upper,
			DeadLetterPrefix: "dl_" + p,
		},
		Services: []spec.Service{
			{Name: "analytics", External: true},
			{Name: "orders", Owner: "team-orders"},
			{Name: "stock", Owner: "team-stock"},
		},
		Events: []spec.Event{
			{Subject: p + ".orders.cancelled", Version: 1, Publisher: "orders", Consumers: []string{"stock"},
				Schema: OrderCancelledSchema, ValidateJSON: validator("schemas/orders/order_cancelled.json", OrderCancelledSchema)},
			{Subject: p + ".orders.created", Version: 2, Publisher: "orders", Consumers: []string{"analytics", "stock"},
				Schema: OrderCreatedSchema, ValidateJSON: validator("schemas/orders/order_created.json", OrderCreatedSchema)},
			{Subject: p + ".stock.adjusted", Version: 1, Publisher: "stock", Consumers: []string{"orders"},
				Schema: StockAdjustedSchema, ValidateJSON: validator("schemas/stock/stock_adjusted.json", StockAdjustedSchema)},
		},
	}
	return Catalog{Catalog: cat, Prefix: p}
}

// Env is a server, a connection and a catalog whose topology exists.
type Env struct {
	Srv  *bustest.Server
	Conn *bus.Conn
	Cat  Catalog
}

func New(t *testing.T, opts ...bustest.Option) *Env {
	t.Helper()
	srv := RunServer(t, opts...)
	e := &Env{Srv: srv, Cat: NewCatalog(t)}
	e.Conn = Connect(t, srv.URL())
	require.NoError(t, bus.EnsureTopology(Ctx(t), e.Conn, e.Cat.Catalog))
	t.Cleanup(func() { DeleteStreams(t, srv, e.Cat.Catalog) })
	return e
}

// DeleteStreams removes the test's streams, which matters on an external
// server.
func DeleteStreams(t *testing.T, srv *bustest.Server, cat *spec.Catalog) {
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

// Ctx is a context that ends with the test or after 30s.
func Ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *Env) Publisher(t *testing.T, service string, opts ...bus.PublisherOption) *bus.Publisher {
	t.Helper()
	p, err := bus.NewPublisher(e.Conn, e.Cat.Catalog, service, opts...)
	require.NoError(t, err)
	return p
}

// Consume starts a subscription stopped when the test ends.
func (e *Env) Consume(t *testing.T, service string, routes []bus.Route, opts ...bus.ConsumerOption) *bus.Subscription {
	t.Helper()
	sub, err := bus.Consume(Ctx(t), e.Conn, e.Cat.Catalog, service, routes, opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sub.Stop(c)
	})
	return sub
}

func (e *Env) StreamMsgs(t *testing.T, name string) uint64 {
	t.Helper()
	s, err := e.Conn.JetStream().Stream(Ctx(t), name)
	require.NoError(t, err)
	info, err := s.Info(Ctx(t))
	require.NoError(t, err)
	return info.State.Msgs
}

// DeadLetters waits until the dead-letter stream holds n messages and
// returns them in order.
func (e *Env) DeadLetters(t *testing.T, n int) []*jetstream.RawStreamMsg {
	t.Helper()
	name := e.Cat.Stream.DeadLetterStream
	Eventually(t, func() bool { return e.StreamMsgs(t, name) >= uint64(n) }, "%d dead letters", n)
	s, err := e.Conn.JetStream().Stream(Ctx(t), name)
	require.NoError(t, err)
	out := make([]*jetstream.RawStreamMsg, 0, n)
	for seq := uint64(1); len(out) < n; seq++ {
		m, err := s.GetMsg(Ctx(t), seq)
		require.NoError(t, err)
		out = append(out, m)
	}
	return out
}

func (e *Env) ConsumerInfo(t *testing.T, name string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := e.Conn.JetStream().Consumer(Ctx(t), e.Cat.Stream.Name, name)
	require.NoError(t, err)
	info, err := c.Info(Ctx(t))
	require.NoError(t, err)
	return info
}

// MultiFilter reports whether e's server takes a consumer filtering
// several subjects (NATS 2.10 and later). On NATS 2.9 the runtime keeps
// one durable per consumed subject instead.
func (e *Env) MultiFilter(t *testing.T) bool {
	t.Helper()
	version := strings.TrimPrefix(e.Conn.NATS().ConnectedServerVersion(), "v")
	var major, minor int
	_, err := fmt.Sscanf(version, "%d.%d", &major, &minor)
	require.NoError(t, err, "server version %q", version)
	return major > 2 || (major == 2 && minor >= 10)
}

// Durable returns the name of the durable through which service receives
// subject on e's server: "<service>-service", or on NATS 2.9
// "<service>-service-<subject with dots as underscores>".
func (e *Env) Durable(t *testing.T, service, subject string) string {
	t.Helper()
	if e.MultiFilter(t) {
		return service + "-service"
	}
	return service + "-service-" + strings.ReplaceAll(subject, ".", "_")
}

// Durables returns the names of service's durables on e's server, in the
// order of the subjects in the catalog.
func (e *Env) Durables(t *testing.T, service string) []string {
	t.Helper()
	var names []string
	for _, subject := range e.Cat.ConsumedBy(service) {
		if name := e.Durable(t, service, subject); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// Settled reports whether every durable of service has delivered all its
// messages and has none waiting for an acknowledgement.
func (e *Env) Settled(t *testing.T, service string) bool {
	t.Helper()
	for _, name := range e.Durables(t, service) {
		info := e.ConsumerInfo(t, name)
		if info.NumPending != 0 || info.NumAckPending != 0 {
			return false
		}
	}
	return true
}

// LastMsg returns the last message of subject in the events stream.
func (e *Env) LastMsg(t *testing.T, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	stream, err := e.Conn.JetStream().Stream(Ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	msg, err := stream.GetLastMsgForSubject(Ctx(t), subject)
	require.NoError(t, err)
	return msg
}

// Eventually polls cond every 10ms for up to 10s.
func Eventually(t *testing.T, cond func() bool, msg string, args ...any) {
	t.Helper()
	require.Eventuallyf(t, cond, 10*time.Second, 10*time.Millisecond, msg, args...)
}

// Recorder collects what handlers and error handlers see.
type Recorder[T any] struct {
	mu     sync.Mutex
	events []bus.Event[T]
	errs   []error
}

func (r *Recorder[T]) Handler(ctx context.Context, ev bus.Event[T]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return nil
}

func (r *Recorder[T]) OnError(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *Recorder[T]) Got() []bus.Event[T] {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bus.Event[T](nil), r.events...)
}

func (r *Recorder[T]) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func NewOrder() OrderCreated {
	return OrderCreated{OrderID: uuid.New(), SKU: "SKU-1", Quantity: 3}
}
