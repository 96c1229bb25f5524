// Package servicetest is the ground floor of the services' tests: an
// in-process NATS server with the catalog's topology, on which a test
// starts a service in-process (Env.Start, given the service's app.Start)
// and reads back what reached the stream with a plain nats.go client, not
// the SDK; HTTP helpers; and the lifecycle suite every service runs. It
// knows no service: nothing here imports one. Only tests import it.
package servicetest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/events"
	"github.com/giia/events/sdk/outbox"
	"github.com/giia/events/services/authn"
	"github.com/giia/events/services/internal/delivery"
	"github.com/giia/events/services/internal/host"
	"github.com/giia/events/services/internal/web"
)

// Env is an in-process NATS server with the catalog's topology, a bus
// connection for publishing what other services would, and a plain
// JetStream client for reading the stream.
type Env struct {
	t      testing.TB
	Server *bustest.Server
	Conn   *bus.Conn
	NC     *nats.Conn
	JS     jetstream.JetStream
	Stream jetstream.Stream
	Org    uuid.UUID        // a fresh organization for the test
	Issuer *authn.DevIssuer // the identity provider the services started by Start trust
}

// New starts the server (with opts) and ensures the topology. Service tests need a
// server of their own: with NATS_TEST_URL set they skip.
func New(t testing.TB, opts ...bustest.Option) *Env {
	t.Helper()
	srv := bustest.RunServer(t, opts...)
	if srv.External() {
		t.Skip("service tests share durable consumers: they need their own server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := bus.Connect(srv.URL(), bus.WithName("servicetest"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.NoError(t, bus.EnsureTopology(ctx, conn, events.Catalog))
	nc, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	stream, err := js.Stream(ctx, events.Catalog.Stream.Name)
	require.NoError(t, err)
	issuer, err := authn.NewDevIssuer(filepath.Join(t.TempDir(), "jwks.json"))
	require.NoError(t, err)
	return &Env{t: t, Server: srv, Conn: conn, NC: nc, JS: js, Stream: stream, Org: uuid.New(), Issuer: issuer}
}

// Ctx returns a context acting for the test's organization.
func (e *Env) Ctx() context.Context {
	return bus.WithCorrelation(context.Background(), e.Org, "test-"+uuid.NewString())
}

// Start starts a service with start (its app's Start) on a random port,
// with a database in a temporary folder and a logger that drops
// everything, shut down when the test ends. opts change the
// configuration first.
func (e *Env) Start(start func(context.Context, host.Config) (*host.Service, error), opts ...func(*host.Config)) *host.Service {
	e.t.Helper()
	cfg := host.Config{NATSURL: e.Server.URL(), HTTPAddr: "127.0.0.1:0", DBPath: filepath.Join(e.t.TempDir(), "service.db"), Logger: Quiet(),
		HTTPAuth: e.Issuer.Config()}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := start(context.Background(), cfg)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { shutdown(e.t, svc.Shutdown) })
	return svc
}

// Delivery sets up, on db, the outbox (its relay started, and stopped
// when the test ends) and the inbox of service, publishing through conn,
// as the service's app does.
func (e *Env) Delivery(conn *bus.Conn, db *sql.DB, service string) (*outbox.Outbox, *outbox.Inbox) {
	e.t.Helper()
	pub, err := bus.NewPublisher(conn, events.Catalog, service)
	require.NoError(e.t, err)
	out, in, err := delivery.Open(context.Background(), db, pub, Quiet(), outbox.WithBackoff(10*time.Millisecond, 200*time.Millisecond))
	require.NoError(e.t, err)
	require.NoError(e.t, out.Start())
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = out.Stop(ctx)
	})
	return out, in
}

// Flush waits until every event committed so far in the outboxes is
// published: a service answers a request, or acknowledges an event, once
// its events are committed, and its relay publishes them right after.
func (e *Env) Flush(outboxes ...*outbox.Outbox) {
	e.t.Helper()
	for _, o := range outboxes {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := o.Flush(ctx)
		cancel()
		require.NoError(e.t, err, "outbox %s", o.Table())
	}
}

// Quiet returns a logger that drops everything: services started by
// tests log nothing unless a test asks.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func shutdown(t testing.TB, f func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// Product is a catalog product published by the simulated catalog.
type Product struct {
	ID       uuid.UUID
	SKU      string
	Unit     events.Unit
	Supplier *uuid.UUID
}

// NewProduct returns a product with a fresh id and supplier.
func NewProduct(sku string) Product {
	supplier := uuid.New()
	return Product{ID: uuid.New(), SKU: sku, Unit: events.UnitEA, Supplier: &supplier}
}

// PublishProduct publishes catalog.product.created for p, as the external
// catalog service would.
func (e *Env) PublishProduct(p Product) {
	e.t.Helper()
	pub, err := events.NewCatalogPublisher(e.Conn)
	require.NoError(e.t, err)
	_, err = pub.ProductCreated(e.Ctx(), events.ProductCreated{
		ProductID:           p.ID,
		SKU:                 p.SKU,
		Name:                "Product " + p.SKU,
		UnitOfMeasure:       p.Unit,
		PreferredSupplierID: p.Supplier,
		CreatedAt:           time.Now().UTC(),
	})
	require.NoError(e.t, err)
}

// DiscontinueProduct publishes catalog.product.discontinued for p.
func (e *Env) DiscontinueProduct(p Product) {
	e.t.Helper()
	pub, err := events.NewCatalogPublisher(e.Conn)
	require.NoError(e.t, err)
	_, err = pub.ProductDiscontinued(e.Ctx(), events.ProductDiscontinued{
		ProductID: p.ID, SKU: p.SKU, DiscontinuedAt: time.Now().UTC(),
	})
	require.NoError(e.t, err)
}

// Message is an event as stored in the stream.
type Message struct {
	bus.Envelope
	Seq      uint64
	StoredAt time.Time
}

// Decode decodes the payload into v.
func (m Message) Decode(v any) error { return json.Unmarshal(m.Payload, v) }

// LastSeq returns the stream's last sequence number.
func (e *Env) LastSeq() uint64 {
	e.t.Helper()
	info, err := e.Stream.Info(context.Background())
	require.NoError(e.t, err)
	return info.State.LastSeq
}

// Messages returns the test organization's events stored after sequence
// after, in stream order, each read with a direct get.
func (e *Env) Messages(after uint64) []Message {
	e.t.Helper()
	ctx := context.Background()
	last := e.LastSeq()
	var out []Message
	for seq := after + 1; seq <= last; seq++ {
		raw, err := e.Stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		require.NoError(e.t, err)
		var m Message
		require.NoError(e.t, json.Unmarshal(raw.Data, &m.Envelope), "stored message %d is not an envelope", seq)
		if m.OrganizationID != e.Org {
			continue
		}
		m.Seq, m.StoredAt = seq, raw.Time
		out = append(out, m)
	}
	return out
}

// Subjects returns the subjects of msgs.
func Subjects(msgs []Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Subject
	}
	return out
}

// WaitMessages polls the stream until cond holds for the organization's
// events after sequence after, and returns them; it fails the test at the
// deadline.
func (e *Env) WaitMessages(after uint64, timeout time.Duration, cond func([]Message) bool) []Message {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := e.Messages(after)
		if cond(msgs) {
			return msgs
		}
		if time.Now().After(deadline) {
			require.FailNowf(e.t, "condition not met", "after %v; events: %v", timeout, Subjects(msgs))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitCaughtUp waits until the durable consumers have handled every event
// stored so far that they consume: each has acknowledged up to the last
// message of its filter subjects, with nothing pending and nothing
// unacknowledged. (A consumer's pending count alone can lag a publish
// just acknowledged: the server updates it asynchronously.)
func (e *Env) WaitCaughtUp(consumers ...string) {
	e.t.Helper()
	ctx := context.Background()
	for _, name := range consumers {
		cons, err := e.JS.Consumer(ctx, events.Catalog.Stream.Name, name)
		require.NoError(e.t, err)
		info, err := cons.Info(ctx)
		require.NoError(e.t, err)
		filters := info.Config.FilterSubjects
		if info.Config.FilterSubject != "" {
			filters = append(filters, info.Config.FilterSubject)
		}
		var target uint64
		for _, f := range filters {
			m, err := e.Stream.GetLastMsgForSubject(ctx, f)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			require.NoError(e.t, err)
			target = max(target, m.Sequence)
		}
		Eventually(e.t, 5*time.Second, func() bool {
			info, err := cons.Info(ctx)
			return err == nil && info.AckFloor.Stream >= target && info.NumPending == 0 && info.NumAckPending == 0
		}, "consumer %s never caught up to stream sequence %d", name, target)
	}
}

// From returns the messages published by service.
func From(service string, msgs []Message) []Message {
	var out []Message
	for _, m := range msgs {
		if m.Source == service {
			out = append(out, m)
		}
	}
	return out
}

// DeadLetters returns how many messages the dead-letter stream holds.
func (e *Env) DeadLetters() uint64 {
	e.t.Helper()
	dl, err := e.JS.Stream(context.Background(), events.Catalog.Stream.DeadLetterStream)
	require.NoError(e.t, err)
	info, err := dl.Info(context.Background())
	require.NoError(e.t, err)
	return info.State.Msgs
}

// Has returns a condition: n events of subject among the messages.
func Has(subject string, n int) func([]Message) bool {
	return func(msgs []Message) bool {
		c := 0
		for _, m := range msgs {
			if m.Subject == subject {
				c++
			}
		}
		return c >= n
	}
}

// Eventually polls cond every few milliseconds until it holds or timeout
// passes, then fails the test with msg.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNowf(t, "timed out", msg, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Response is an HTTP response with its JSON body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &v), "body: %s", r.Body)
	return v
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Body, v), "body: %s", r.Body)
}

// Error returns the field and message of an error body.
func (r Response) Error(t testing.TB) (field, message string) {
	t.Helper()
	var b struct {
		Error struct {
			Field   *string `json:"field"`
			Message string  `json:"message"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &b), "body: %s", r.Body)
	require.NotNil(t, b.Error.Field, "error body without field: %s", r.Body)
	require.NotEmpty(t, b.Error.Message, "error body without message: %s", r.Body)
	return *b.Error.Field, b.Error.Message
}

// Do sends a request acting for the test's organization. body is sent as
// JSON unless it is a string or []byte, sent as is.
func (e *Env) Do(method, url string, body any, headers ...string) Response {
	e.t.Helper()
	return Do(e.t, method, url, body, append(e.As(e.Org, AllRoles...), headers...)...)
}

// DevAuth returns the HTTP authentication of a fresh issuer of the
// test's own, for a service the test configures itself.
func DevAuth(t testing.TB) authn.Config {
	t.Helper()
	issuer, err := authn.NewDevIssuer(filepath.Join(t.TempDir(), "jwks.json"))
	require.NoError(t, err)
	return issuer.Config()
}

// AuthFlags are the command-line flags of DevAuth.
func AuthFlags(t testing.TB) []string {
	t.Helper()
	c := DevAuth(t)
	return []string{"--auth-issuer", c.Issuer, "--auth-audience", c.Audience, "--auth-jwks", c.JWKS}
}

// AllRoles are every role of the APIs.
var AllRoles = []string{web.RoleBuyer, web.RoleSales, web.RolePlanner, web.RoleWarehouse}

// As returns the header of a request acting for org with roles: a bearer
// token of the test's issuer, valid for a minute.
func (e *Env) As(org uuid.UUID, roles ...string) []string {
	e.t.Helper()
	tok, err := e.Issuer.Token("servicetest", org, time.Minute, roles...)
	require.NoError(e.t, err)
	return []string{"Authorization", "Bearer " + tok}
}

// Do sends a request with the given header name/value pairs.
func Do(t testing.TB, method, url string, body any, headers ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// Must asserts the response status, showing the body when it differs.
func (r Response) Must(t testing.TB, status int) Response {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	return r
}

// String describes the response.
func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// SyncBuffer is a bytes.Buffer safe for a service's logger and the test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a local TCP address nothing listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// RunUntilStopped runs a service's command (its main's run) against a
// server of its own, waits until its API answers /healthz, cancels its
// context as SIGINT or SIGTERM would, and returns the exit code and what
// it wrote to standard error.
func RunUntilStopped(t *testing.T, run func(ctx context.Context, args []string, stderr io.Writer) int) (int, string) {
	t.Helper()
	srv := bustest.RunServer(t)
	if srv.External() {
		t.Skip("needs a server of its own")
	}
	addr := FreeAddr(t)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stderr SyncBuffer
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"--nats", srv.URL(), "--http", addr, "--db", filepath.Join(t.TempDir(), "x.db")}, AuthFlags(t)...), &stderr)
	}()
	Eventually(t, 10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "never served: %s", &stderr)
	stop()
	select {
	case c := <-code:
		return c, stderr.String()
	case <-time.After(15 * time.Second):
		t.Fatal("did not shut down")
		return 0, ""
	}
}

// Seed is a request of a fuzz target's corpus.
type Seed struct {
	Method, Path, Body string
}

// fuzzMethods are the methods a fuzzed request takes, by its first byte.
var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch}

// FuzzAPI fuzzes the API at base with requests acting for the test's
// organization, every role: method, path and body. No request may get a
// 5xx or break the connection, and a refused one (4xx) must leave rows,
// the count of the service's outbox rows, unchanged: nothing
// half-changed. seeds start the corpus.
func (e *Env) FuzzAPI(f *testing.F, base string, rows func() int64, seeds ...Seed) {
	auth := e.As(e.Org, AllRoles...)
	for _, s := range seeds {
		for i, m := range fuzzMethods {
			if m == s.Method {
				f.Add(byte(i), s.Path, []byte(s.Body))
			}
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, method byte, path string, body []byte) {
		req, err := http.NewRequest(fuzzMethods[int(method)%len(fuzzMethods)], base+"/"+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
		if err != nil {
			return // no client could send it
		}
		req.Header.Set(auth[0], auth[1])
		req.Header.Set("Content-Type", "application/json")
		before := rows()
		resp, err := client.Do(req)
		require.NoError(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Less(t, resp.StatusCode, 500, "%s %s %q: %s", req.Method, req.URL, body, data)
		if resp.StatusCode >= 400 {
			require.Equal(t, before, rows(), "a refused %s %s changed something: %s", req.Method, req.URL, data)
		}
	})
}
