package bus_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/payload"
	"github.com/giia/events/sdk/spec"
)

func TestNewPublisher(t *testing.T) {
	e := newEnv(t)
	_, err := bus.NewPublisher(e.Conn, e.Cat.Catalog, "billing")
	assert.ErrorIs(t, err, bus.ErrUnknownService)
	_, err = bus.NewPublisher(nil, e.Cat.Catalog, "orders")
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = bus.NewPublisher(e.Conn, e.Cat.Catalog, "orders", bus.WithRetry(0, time.Millisecond))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = bus.NewPublisher(e.Conn, e.Cat.Catalog, "orders", bus.WithRetry(2, -time.Millisecond))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = bus.NewPublisher(e.Conn, e.Cat.Catalog, "orders", bus.WithPublishTimeout(0))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	p, err := bus.NewPublisher(e.Conn, e.Cat.Catalog, "orders", bus.WithRetry(5, time.Millisecond), bus.WithPublishTimeout(time.Second))
	require.NoError(t, err)
	assert.Equal(t, "orders", p.Service())
}

func TestPublishEnvelope(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	order := newOrder()
	before := time.Now().UTC()
	ack, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), order)
	require.NoError(t, err)
	assert.Equal(t, e.Cat.Stream.Name, ack.Stream)
	assert.Equal(t, uint64(1), ack.Sequence)
	assert.False(t, ack.Duplicate)
	assert.NotEqual(t, uuid.Nil, ack.ID)

	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	raw, err := stream.GetMsg(ctx(t), ack.Sequence)
	require.NoError(t, err)
	assert.Equal(t, ack.ID.String(), raw.Header.Get("Nats-Msg-Id"))
	assert.Equal(t, "orders", raw.Header.Get(bus.HeaderSource))
	assert.Equal(t, "2", raw.Header.Get(bus.HeaderVersion))

	envSchema, err := payload.CompileSchema("schemas/envelope.json", map[string]string{"schemas/envelope.json": spec.EnvelopeSchema})
	require.NoError(t, err)
	require.NoError(t, envSchema.ValidateJSON(raw.Data), "the envelope on the wire follows its schema")

	var env bus.Envelope
	require.NoError(t, json.Unmarshal(raw.Data, &env))
	assert.Equal(t, ack.ID, env.ID)
	assert.Equal(t, e.Cat.Subject("orders.created"), env.Subject)
	assert.Equal(t, ack.ID.String(), env.CorrelationID, "without a correlation the event starts its own")
	assert.Equal(t, uuid.Nil, env.OrganizationID)
	assert.Equal(t, "orders", env.Source)
	assert.Equal(t, 2, env.Version)
	assert.Equal(t, time.UTC, env.Timestamp.Location())
	assert.False(t, env.Timestamp.Before(before.Truncate(time.Second)))
	var got orderCreated
	require.NoError(t, json.Unmarshal(env.Payload, &got))
	assert.Equal(t, order, got)

	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw.Data, &fields))
	assert.True(t, strings.HasSuffix(string(fields["timestamp"]), `Z"`), "timestamp %s is UTC", fields["timestamp"])
}

func TestPublishOptionsAndCorrelation(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	read := func(seq uint64) bus.Envelope {
		raw, err := stream.GetMsg(ctx(t), seq)
		require.NoError(t, err)
		var env bus.Envelope
		require.NoError(t, json.Unmarshal(raw.Data, &env))
		return env
	}
	subject := e.Cat.Subject("orders.created")

	id, org := uuid.New(), uuid.New()
	ts := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600))
	ack, err := pub.Publish(ctx(t), subject, newOrder(),
		bus.WithEventID(id), bus.WithCorrelationID("req-1"), bus.WithOrganizationID(org), bus.WithTimestamp(ts))
	require.NoError(t, err)
	assert.Equal(t, id, ack.ID)
	env := read(ack.Sequence)
	assert.Equal(t, id, env.ID)
	assert.Equal(t, "req-1", env.CorrelationID)
	assert.Equal(t, org, env.OrganizationID)
	assert.True(t, ts.Equal(env.Timestamp))
	assert.Equal(t, time.UTC, env.Timestamp.Location())

	// From the context; options win over it, field by field.
	ctxOrg := uuid.New()
	c := bus.WithCorrelation(ctx(t), ctxOrg, "req-ctx")
	ack, err = pub.Publish(c, subject, newOrder())
	require.NoError(t, err)
	env = read(ack.Sequence)
	assert.Equal(t, "req-ctx", env.CorrelationID)
	assert.Equal(t, ctxOrg, env.OrganizationID)
	ack, err = pub.Publish(c, subject, newOrder(), bus.WithCorrelationID("req-opt"))
	require.NoError(t, err)
	env = read(ack.Sequence)
	assert.Equal(t, "req-opt", env.CorrelationID)
	assert.Equal(t, ctxOrg, env.OrganizationID)

	// Values the envelope schema would refuse.
	before := e.StreamMsgs(t, e.Cat.Stream.Name)
	_, err = pub.Publish(ctx(t), subject, newOrder(), bus.WithEventID(uuid.Nil))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = pub.Publish(ctx(t), subject, newOrder(), bus.WithCorrelationID(""))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = pub.Publish(ctx(t), subject, newOrder(), bus.WithCorrelationID(strings.Repeat("x", 129)))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	_, err = pub.Publish(bus.WithCorrelation(ctx(t), org, strings.Repeat("x", 129)), subject, newOrder())
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	assert.Equal(t, before, e.StreamMsgs(t, e.Cat.Stream.Name))
}

func TestPublishInvalidPayload(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	subject := e.Cat.Subject("orders.created")

	bad := newOrder()
	bad.Quantity = 0
	_, err := pub.Publish(ctx(t), subject, bad)
	require.Error(t, err)
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	var ve *payload.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, subject, ve.Subject)
	require.Len(t, ve.Violations, 1)
	assert.Equal(t, "/quantity", ve.Violations[0].Pointer)
	assert.Contains(t, err.Error(), subject)

	cases := map[string]any{
		"missing field":  map[string]any{"order_id": uuid.NewString(), "sku": "A"},
		"unknown field":  map[string]any{"order_id": uuid.NewString(), "sku": "A", "quantity": 1, "colour": "red"},
		"bad format":     map[string]any{"order_id": "not-a-uuid", "sku": "A", "quantity": 1},
		"not an object":  []int{1, 2},
		"raw not object": json.RawMessage(`"text"`),
		"nil":            nil,
		"unencodable":    map[string]any{"f": func() {}},
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := pub.Publish(ctx(t), subject, body)
			var ve *payload.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, subject, ve.Subject)
			assert.NotEmpty(t, ve.Violations)
		})
	}
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.Name), "nothing was sent")
}

func TestPublishValidatorError(t *testing.T) {
	e := newEnv(t)
	// A validator that does not return a *payload.ValidationError still blocks the
	// publish, and a catalog without validators checks nothing but shape.
	e.Cat.Events[0].ValidateJSON = func([]byte) error { return errors.New("boom") }
	e.Cat.Events[1].ValidateJSON = nil
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.cancelled"), orderCancelled{OrderID: uuid.New()})
	assert.ErrorIs(t, err, bus.ErrInvalidPayload)
	assert.ErrorContains(t, err, "boom")
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.created"), map[string]any{"anything": true})
	assert.NoError(t, err)
}

func TestPublishUnknownSubjectAndNotPublisher(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.shipped"), newOrder())
	assert.ErrorIs(t, err, bus.ErrUnknownSubject)
	_, err = pub.Publish(ctx(t), e.Cat.Subject("stock.adjusted"), stockAdjusted{SKU: "A", Delta: 1})
	assert.ErrorIs(t, err, bus.ErrNotPublisher)
	assert.ErrorContains(t, err, `"stock"`)
	assert.Equal(t, uint64(0), e.StreamMsgs(t, e.Cat.Stream.Name))
}

func TestPublishDuplicateStoredOnce(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	id := uuid.New()
	order := newOrder()
	first, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), order, bus.WithEventID(id))
	require.NoError(t, err)
	assert.False(t, first.Duplicate)
	second, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), order, bus.WithEventID(id))
	require.NoError(t, err)
	assert.True(t, second.Duplicate)
	assert.Equal(t, first.Sequence, second.Sequence)
	assert.Equal(t, uint64(1), e.StreamMsgs(t, e.Cat.Stream.Name))
}

func TestPublishSurvivesServerRestart(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithRetry(20, 50*time.Millisecond), bus.WithPublishTimeout(300*time.Millisecond))
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)

	e.Srv.Shutdown()
	eventually(t, func() bool { return !e.Conn.NATS().IsConnected() }, "client sees the server gone")
	type result struct {
		ack *bus.PublishAck
		err error
	}
	done := make(chan result, 1)
	go func() {
		ack, err := pub.Publish(context.Background(), e.Cat.Subject("orders.created"), newOrder())
		done <- result{ack, err}
	}()
	// Let the publish fail at least once against the stopped server.
	select {
	case r := <-done:
		t.Fatalf("publish returned while the server was down: %v", r.err)
	case <-time.After(400 * time.Millisecond):
	}
	e.Srv.Start()
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, e.Cat.Stream.Name, r.ack.Stream)
	assert.Equal(t, uint64(2), e.StreamMsgs(t, e.Cat.Stream.Name), "stored once")
}

func TestPublishFailsAfterAttempts(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithRetry(3, 10*time.Millisecond), bus.WithPublishTimeout(100*time.Millisecond))
	e.Srv.Shutdown()
	id := uuid.New()
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder(), bus.WithEventID(id))
	require.Error(t, err)
	assert.ErrorIs(t, err, bus.ErrPublishFailed)
	var pe *bus.PublishError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 3, pe.Attempts)
	assert.Equal(t, id, pe.EventID)
	assert.Equal(t, e.Cat.Subject("orders.created"), pe.Subject)
	assert.Contains(t, pe.Error(), "3 attempts")

	// The caller's context ends the retries.
	pub = e.Publisher(t, "orders", bus.WithRetry(100, 20*time.Millisecond), bus.WithPublishTimeout(50*time.Millisecond))
	c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = pub.Publish(c, e.Cat.Subject("orders.created"), newOrder())
	assert.ErrorIs(t, err, bus.ErrPublishFailed)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorAs(t, err, &pe)
	assert.Less(t, pe.Attempts, 100)
	assert.Less(t, time.Since(start), 5*time.Second)

	// A stream that refuses for good is not retried.
	e.Srv.Start()
	eventually(t, func() bool { return e.Conn.NATS().IsConnected() }, "reconnected")
	pub = e.Publisher(t, "orders", bus.WithRetry(5, 10*time.Millisecond))
	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	cfg := stream.CachedInfo().Config
	cfg.MaxMsgSize = 16 // no event fits
	_, err = e.Conn.JetStream().UpdateStream(ctx(t), cfg)
	require.NoError(t, err)
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.created"), newOrder())
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Attempts)
}

func TestPublishPermissionDenied(t *testing.T) {
	cat := newCatalog(t)
	denied := cat.Subject("orders.cancelled")
	srv := runServer(t, func(o *server.Options) {
		o.Users = []*server.User{
			{Username: "admin", Password: "admin"},
			{Username: "limited", Password: "limited", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{">"}, Deny: []string{denied}},
			}},
		}
	})
	admin := connect(t, strings.Replace(srv.URL(), "nats://", "nats://admin:admin@", 1))
	require.NoError(t, bus.EnsureTopology(ctx(t), admin, cat.Catalog))
	limited := connect(t, strings.Replace(srv.URL(), "nats://", "nats://limited:limited@", 1))
	pub, err := bus.NewPublisher(limited, cat.Catalog, "orders", bus.WithRetry(5, 100*time.Millisecond), bus.WithPublishTimeout(5*time.Second))
	require.NoError(t, err)

	start := time.Now()
	_, err = pub.Publish(ctx(t), denied, orderCancelled{OrderID: uuid.New()})
	require.Error(t, err)
	assert.ErrorIs(t, err, bus.ErrPermissionDenied)
	assert.ErrorIs(t, err, bus.ErrPublishFailed)
	var pe *bus.PublishError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Attempts, "not retried")
	assert.Less(t, time.Since(start), 2*time.Second, "no waiting for the ack deadline")

	_, err = pub.Publish(ctx(t), cat.Subject("orders.created"), newOrder())
	assert.NoError(t, err, "other subjects are allowed")
}

// TestTooLargeEventRefused: an event that would not fit in a message
// with room for a dead letter's headers is refused before it is sent,
// never retried; one that fits is published, and can be dead-lettered.
func TestTooLargeEventRefused(t *testing.T) {
	const maxPayload = 32 << 10
	e := newEnv(t, func(o *server.Options) { o.MaxPayload = maxPayload })
	pub := e.Publisher(t, "orders")
	order := newOrder()
	big := strings.Repeat("x", maxPayload-bus.HeaderReserve)
	order.Note = &big
	_, err := pub.Publish(ctx(t), e.Cat.Subject("orders.created"), order)
	require.ErrorIs(t, err, bus.ErrTooLarge)
	assert.ErrorContains(t, err, "at most")
	_, err = pub.Encode(ctx(t), e.Cat.Subject("orders.created"), order)
	assert.ErrorIs(t, err, bus.ErrTooLarge, "the outbox refuses it at Add")

	fits := strings.Repeat("x", maxPayload-bus.HeaderReserve-1024)
	order.Note = &fits
	_, err = pub.Publish(ctx(t), e.Cat.Subject("orders.created"), order)
	require.NoError(t, err)
	e.Consume(t, "stock", []bus.Route{bus.NewRoute(e.Cat.Subject("orders.created"), func(context.Context, bus.Event[orderCreated]) error {
		return bus.Permanent(errors.New("refused: " + strings.Repeat("why ", 2000)))
	})}, bus.WithErrorHandler(func(err error) { t.Errorf("consumer: %v", err) }))
	dl := e.DeadLetters(t, 1) // the largest event that fits, dead-lettered with its headers
	assert.Greater(t, len(dl[0].Data), maxPayload-bus.HeaderReserve-1024)
	assert.Contains(t, dl[0].Header.Get(bus.HeaderDeadLetterReason), "refused: why")
}
