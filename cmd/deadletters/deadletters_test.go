package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/bus/bustest"
	"github.com/giia/events/sdk/spec"
)

// shopCatalog is a small catalog: orders publishes shop.order.placed,
// which billing consumes, and billing publishes shop.invoice.sent.
func shopCatalog() *spec.Catalog {
	return &spec.Catalog{
		Stream: spec.Stream{Name: "SHOP", Subjects: []string{"shop.>"}, Duplicates: 2 * time.Minute, MaxAge: 24 * time.Hour, Replicas: 1},
		Services: []spec.Service{
			{Name: "billing", Description: "Billing"},
			{Name: "orders", Description: "Orders", Owner: "team-orders"},
		},
		Events: []spec.Event{
			{Subject: "shop.invoice.sent", Version: 1, Publisher: "billing"},
			{Subject: "shop.order.placed", Version: 1, Publisher: "orders", Consumers: []string{"billing"}},
		},
	}
}

// runCLI runs the command on the shop catalog.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errs strings.Builder
	code = run(args, &out, &errs, shopCatalog())
	return code, out.String(), errs.String()
}

// shop is shopCatalog on a running server, with billing's consumer
// running a handler that fails permanently while broken is set.
type shop struct {
	url    string
	conn   *bus.Conn
	cat    *spec.Catalog
	broken atomic.Bool

	mu      sync.Mutex
	handled []string // event ids
}

func startShop(t *testing.T) *shop {
	t.Helper()
	srv := bustest.RunServer(t)
	s := &shop{url: srv.URL(), cat: shopCatalog()}
	var err error
	s.conn, err = bus.Connect(s.url)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, bus.EnsureTopology(ctx, s.conn, s.cat))
	t.Cleanup(func() {
		_ = s.conn.JetStream().DeleteStream(context.Background(), s.cat.Stream.Name)
		_ = s.conn.JetStream().DeleteStream(context.Background(), s.cat.Stream.Name+spec.DefaultDeadLetterStreamSuffix)
	})
	s.broken.Store(true)
	sub, err := bus.Consume(ctx, s.conn, s.cat, "billing", []bus.Route{
		bus.NewRoute("shop.order.placed", func(_ context.Context, ev bus.Event[json.RawMessage]) error {
			if s.broken.Load() {
				return bus.Permanent(errors.New("billing is broken"))
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.handled = append(s.handled, ev.ID.String())
			return nil
		}),
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = sub.Stop(context.Background()) })
	return s
}

func (s *shop) handledIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.handled...)
}

// waitDeadLetters waits until the dead-letter stream holds n messages.
func (s *shop) waitDeadLetters(t *testing.T, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		dls, err := bus.ListDeadLetters(context.Background(), s.conn, s.cat)
		require.NoError(t, err)
		return len(dls) == n
	}, 10*time.Second, 10*time.Millisecond, "%d dead letters", n)
}

func TestDeadLettersCommand(t *testing.T) {
	s := startShop(t)
	ctx := context.Background()
	_, err := s.conn.JetStream().Publish(ctx, "shop.order.placed", []byte("garbage"))
	require.NoError(t, err)
	s.waitDeadLetters(t, 1)
	pub, err := bus.NewPublisher(s.conn, s.cat, "orders")
	require.NoError(t, err)
	ack, err := pub.Publish(ctx, "shop.order.placed", json.RawMessage(`{"order_id": "5a8c3e1f-9d27-4b64-8f0a-2c7e6b1d4a93", "quantity": {"value": 2}}`))
	require.NoError(t, err)
	s.waitDeadLetters(t, 2)

	code, stdout, stderr := runCLI("list", "--nats", s.url)
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	require.Len(t, lines, 2, stdout)
	assert.True(t, strings.HasPrefix(lines[0], "1 shop.order.placed billing-service 1 bus: invalid message: "), lines[0])
	assert.Equal(t, "2 shop.order.placed billing-service 1 permanent: billing is broken", lines[1])

	// $NATS_URL, filters, flags after the command.
	t.Setenv("NATS_URL", s.url)
	code, stdout, stderr = runCLI("list", "--service", "billing", "--limit", "1")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, lines[0]+"\n", stdout)
	code, stdout, stderr = runCLI("--subject", "shop.invoice.sent", "list")
	require.Equal(t, 0, code, stderr)
	assert.Empty(t, stdout)

	// Billing is fixed: the replay reaches it and leaves the garbage.
	s.broken.Store(false)
	code, stdout, stderr = runCLI("replay", "2")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "replayed 2\n", stdout)
	require.Eventually(t, func() bool { return len(s.handledIDs()) == 1 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{ack.ID.String()}, s.handledIDs())
	code, stdout, _ = runCLI("list")
	require.Equal(t, 0, code)
	assert.Equal(t, lines[0]+"\n", stdout)

	// Replaying a sequence that is gone fails; the others go on.
	code, stdout, stderr = runCLI("replay", "--", "2", "1")
	assert.Equal(t, 1, code)
	assert.Equal(t, "replayed 1\n", stdout)
	assert.Contains(t, stderr, "deadletters: bus: dead letter not found: sequence 2")
	s.waitDeadLetters(t, 1) // garbage is dead-lettered again

	code, stdout, stderr = runCLI("replay", "--all", "--service", "billing")
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "replayed 1\n", stdout)

	// A dead letter that names no event stops nothing but fails the run.
	_, err = s.conn.JetStream().Publish(ctx, "deadletter.billing.shop.order.gone", []byte("{}"))
	require.NoError(t, err)
	s.waitDeadLetters(t, 2)
	code, stdout, stderr = runCLI("replay", "--all")
	assert.Equal(t, 1, code)
	assert.Equal(t, "replayed 1\n", stdout)
	assert.Contains(t, stderr, `"shop.order.gone"`)
}

func TestDeadLettersCommandFailures(t *testing.T) {
	s := startShop(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"list", "--nats", "nats://127.0.0.1:1", "--timeout", "1s"}, "cannot connect"},
		{[]string{"list", "--nats", s.url, "--creds", "missing.creds"}, "credentials file"},
	} {
		code, _, stderr := runCLI(tc.args...)
		assert.Equal(t, 1, code, "%v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
	}
	// Without the streams.
	ctx := context.Background()
	require.NoError(t, s.conn.JetStream().DeleteStream(ctx, "SHOP_DEAD_LETTERS"))
	for _, args := range [][]string{{"list"}, {"replay", "--all"}} {
		code, _, stderr := runCLI(append(args, "--nats", s.url)...)
		assert.Equal(t, 1, code, "%v", args)
		assert.Contains(t, stderr, "stream not found", "%v", args)
	}
}

func TestDeadLettersCommandUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "missing command: list or replay"},
		{[]string{"purge"}, `unknown command "purge" (want list or replay)`},
		{[]string{"list", "3"}, `list takes no argument (got "3")`},
		{[]string{"list", "--all"}, "--all goes with replay"},
		{[]string{"replay"}, "replay needs a sequence, or --all"},
		{[]string{"replay", "--all", "3"}, "replay takes sequences or --all, not both"},
		{[]string{"replay", "0"}, `sequence "0" is not a positive integer`},
		{[]string{"replay", "x"}, `sequence "x" is not a positive integer`},
		{[]string{"replay", "3", "--service", "billing"}, "--service and --subject filter replay --all"},
		{[]string{"replay", "--all", "--limit", "2"}, "--limit goes with list"},
		{[]string{"list", "--limit", "-1"}, "--limit -1 must not be negative"},
		{[]string{"list", "--timeout", "0s"}, "--timeout 0s must be positive"},
		{[]string{"list", "--service", "shipping"}, `--service "shipping" is not a service of the catalog (want one of "billing", "orders")`},
		{[]string{"list", "--subject", "shop.>"}, `--subject "shop.>" is not an event's subject (no wildcards)`},
		{[]string{"list", "--subject", "shop..x"}, `--subject "shop..x" is not an event's subject (no wildcards)`},
		{[]string{"list", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		assert.Equal(t, 2, code, "%v", tc.args)
		assert.Empty(t, stdout, "%v", tc.args)
		assert.Contains(t, stderr, tc.want, "%v", tc.args)
		assert.True(t, strings.HasPrefix(stderr, "deadletters: "), "%v: %s", tc.args, stderr)
	}
	code, stdout, _ := runCLI("--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, "usage: deadletters list")
	assert.Contains(t, stdout, "SEQ SUBJECT CONSUMER DELIVERIES REASON")
}
