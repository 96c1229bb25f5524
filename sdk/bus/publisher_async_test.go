package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
	"github.com/giia/events/sdk/payload"
)

// storedMsgIDs returns the Nats-Msg-Id of every message of the events
// stream, in stream order.
func storedMsgIDs(t *testing.T, e *env) []string {
	t.Helper()
	s, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	info, err := s.Info(ctx(t))
	require.NoError(t, err)
	var ids []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx(t), seq)
		require.NoError(t, err)
		ids = append(ids, m.Header.Get(jetstream.MsgIDHeader))
	}
	return ids
}

// waitAll waits for every future and returns the acks and errors, in
// order.
func waitAll(t *testing.T, fs []*bus.PublishFuture) ([]*bus.PublishAck, []error) {
	t.Helper()
	acks, errs := make([]*bus.PublishAck, len(fs)), make([]error, len(fs))
	for i, f := range fs {
		select {
		case <-f.Done():
		default:
			t.Fatalf("future %d has no outcome after Flush", i)
		}
		acks[i], errs[i] = f.Wait(ctx(t))
	}
	return acks, errs
}

func TestPublishAsyncOutcomesInOrder(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithMaxPending(64))
	subject := e.Cat.Subject("orders.created")
	const n = 500
	fs := make([]*bus.PublishFuture, n)
	for i := range fs {
		var err error
		fs[i], err = pub.PublishAsync(ctx(t), subject, newOrder())
		require.NoError(t, err)
		assert.Equal(t, subject, fs[i].Subject())
		assert.LessOrEqual(t, pub.InFlight(), 64, "bounded in flight")
	}
	require.NoError(t, pub.Flush(ctx(t)))
	assert.Equal(t, 0, pub.InFlight())
	acks, errs := waitAll(t, fs)
	ids := storedMsgIDs(t, e)
	require.Len(t, ids, n)
	for i := range fs {
		require.NoError(t, errs[i])
		assert.Equal(t, fs[i].ID(), acks[i].ID)
		assert.Equal(t, e.Cat.Stream.Name, acks[i].Stream)
		assert.False(t, acks[i].Duplicate)
		assert.Equal(t, fs[i].ID().String(), ids[i], "stored in call order")
		if i > 0 {
			assert.Equal(t, acks[i-1].Sequence+1, acks[i].Sequence, "acked in call order")
		}
	}
	require.NoError(t, pub.Flush(ctx(t)), "nothing in flight")
}

func TestPublishAsyncEnvelopeIsPublishs(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	order := newOrder()
	org, id := uuid.New(), uuid.New()
	at := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	f, err := pub.PublishAsync(bus.WithCorrelation(ctx(t), org, "corr-1"), e.Cat.Subject("orders.created"), order,
		bus.WithEventID(id), bus.WithTimestamp(at))
	require.NoError(t, err)
	assert.Equal(t, id, f.ID())
	ack, err := f.Wait(ctx(t))
	require.NoError(t, err)
	s, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	m, err := s.GetMsg(ctx(t), ack.Sequence)
	require.NoError(t, err)
	assert.Equal(t, "orders", m.Header.Get(bus.HeaderSource))
	assert.Equal(t, "2", m.Header.Get(bus.HeaderVersion))
	assert.Equal(t, id.String(), m.Header.Get(jetstream.MsgIDHeader))
	assert.JSONEq(t, `{"id":"`+id.String()+`","subject":"`+e.Cat.Subject("orders.created")+`","correlation_id":"corr-1",
		"organization_id":"`+org.String()+`","timestamp":"2026-05-06T07:08:09.00000001Z","source":"orders","version":2,
		"payload":{"order_id":"`+order.OrderID.String()+`","sku":"SKU-1","quantity":3}}`, string(m.Data))
}

func TestPublishBatchInvalidEvents(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	created := e.Cat.Subject("orders.created")
	results, err := pub.PublishBatch(ctx(t), []bus.Outgoing{
		{Subject: created, Payload: newOrder()},
		{Subject: created, Payload: orderCreated{OrderID: uuid.New(), SKU: "", Quantity: 0}},
		{Subject: created, Payload: newOrder(), Options: []bus.PublishOption{bus.WithCorrelationID("batch")}},
		{Subject: e.Cat.Subject("orders.unknown"), Payload: newOrder()},
		{Subject: e.Cat.Subject("stock.adjusted"), Payload: stockAdjusted{SKU: "A", Delta: 1}},
		{Subject: created, Payload: newOrder(), Options: []bus.PublishOption{bus.WithEventID(uuid.Nil)}},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "4 of 6 events not published; event 1")
	require.Len(t, results, 6)

	assert.NoError(t, results[0].Err)
	var ve *payload.ValidationError
	require.ErrorAs(t, results[1].Err, &ve)
	assert.ErrorIs(t, err, bus.ErrInvalidPayload, "the batch error wraps the first failure")
	var pointers []string
	for _, v := range ve.Violations {
		pointers = append(pointers, v.Pointer)
	}
	assert.ElementsMatch(t, []string{"/sku", "/quantity"}, pointers)
	assert.NoError(t, results[2].Err)
	assert.ErrorIs(t, results[3].Err, bus.ErrUnknownSubject)
	assert.ErrorIs(t, results[4].Err, bus.ErrNotPublisher)
	assert.ErrorIs(t, results[5].Err, bus.ErrInvalidOption)
	for _, i := range []int{1, 3, 4, 5} {
		assert.Nil(t, results[i].Ack)
	}
	assert.Less(t, results[0].Ack.Sequence, results[2].Ack.Sequence)
	assert.Equal(t, []string{results[0].Ack.ID.String(), results[2].Ack.ID.String()}, storedMsgIDs(t, e), "nothing else sent")

	results, err = pub.PublishBatch(ctx(t), []bus.Outgoing{{Subject: created, Payload: newOrder()}})
	require.NoError(t, err)
	assert.NoError(t, results[0].Err)
}

func TestPublishAsyncDuplicatesStoredOnce(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders")
	subject := e.Cat.Subject("orders.created")
	id := uuid.New()
	var fs []*bus.PublishFuture
	for range 3 {
		f, err := pub.PublishAsync(ctx(t), subject, newOrder(), bus.WithEventID(id))
		require.NoError(t, err)
		fs = append(fs, f)
	}
	syncAck, err := pub.Publish(ctx(t), subject, newOrder(), bus.WithEventID(id))
	require.NoError(t, err)
	require.NoError(t, pub.Flush(ctx(t)))
	acks, errs := waitAll(t, fs)
	for i := range fs {
		require.NoError(t, errs[i])
		assert.Equal(t, acks[0].Sequence, acks[i].Sequence)
		assert.Equal(t, i > 0, acks[i].Duplicate, "ack %d", i)
	}
	assert.True(t, syncAck.Duplicate)
	assert.Equal(t, []string{id.String()}, storedMsgIDs(t, e))
}

// TestPublishAsyncServerRestart restarts the server while a batch is
// being published: every event has an outcome, every acknowledged event
// is stored exactly once, and retries with the same id store nothing
// twice.
func TestPublishAsyncServerRestart(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithRetry(20, 20*time.Millisecond), bus.WithPublishTimeout(time.Second), bus.WithMaxPending(256))
	subject := e.Cat.Subject("orders.created")
	// Publish before, during and after the restart.
	const atLeast = 2000
	var fs []*bus.PublishFuture
	restarted := make(chan struct{})
	for done := false; !done || len(fs) < atLeast; {
		if len(fs) == atLeast/4 {
			go func() {
				defer close(restarted)
				e.Srv.Restart()
			}()
		}
		if len(fs) > atLeast/4 {
			select {
			case <-restarted:
				done = true
			default:
			}
		}
		f, err := pub.PublishAsync(context.Background(), subject, newOrder())
		require.NoError(t, err)
		fs = append(fs, f)
	}
	n := len(fs)
	require.NoError(t, pub.Flush(ctx(t)))
	acks, errs := waitAll(t, fs)

	stored := map[string]int{}
	for _, id := range storedMsgIDs(t, e) {
		stored[id]++
	}
	published := map[string]bool{}
	ok, duplicates := 0, 0
	for i, f := range fs {
		published[f.ID().String()] = true
		if errs[i] != nil {
			assert.ErrorIs(t, errs[i], bus.ErrPublishFailed)
			t.Logf("event %d failed: %v", i, errs[i])
			continue
		}
		ok++
		if acks[i].Duplicate {
			duplicates++
		}
		assert.Equal(t, 1, stored[f.ID().String()], "acknowledged event %d stored once", i)
	}
	for id, times := range stored {
		assert.True(t, published[id], "stored event %s was published", id)
		assert.Equal(t, 1, times, "event %s stored once", id)
	}
	t.Logf("%d acknowledged (%d as duplicates of an earlier attempt), %d failed, %d stored", ok, duplicates, n-ok, len(stored))
	assert.Equal(t, n, ok, "with 20 attempts every event gets through the restart")
}

func TestPublishAsyncWaitsForRoom(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithMaxPending(1), bus.WithRetry(50, 20*time.Millisecond), bus.WithPublishTimeout(200*time.Millisecond))
	subject := e.Cat.Subject("orders.created")
	e.Srv.Shutdown()
	eventually(t, func() bool { return !e.Conn.NATS().IsConnected() }, "client sees the server gone")
	first, err := pub.PublishAsync(ctx(t), subject, newOrder())
	require.NoError(t, err)
	assert.Equal(t, 1, pub.InFlight())

	c, cancel := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel()
	_, err = pub.PublishAsync(c, subject, newOrder())
	require.ErrorIs(t, err, context.DeadlineExceeded, "no room")
	assert.Contains(t, err.Error(), "waiting for room among 1 events in flight")

	c2, cancel2 := context.WithTimeout(ctx(t), 100*time.Millisecond)
	defer cancel2()
	err = pub.Flush(c2)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "1 events still in flight")
	waitCtx, cancel3 := context.WithTimeout(ctx(t), 50*time.Millisecond)
	defer cancel3()
	_, err = first.Wait(waitCtx)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "Wait gives up with its context")

	e.Srv.Start()
	second, err := pub.PublishAsync(ctx(t), subject, newOrder()) // waits for the first
	require.NoError(t, err)
	require.NoError(t, pub.Flush(ctx(t)))
	_, errs := waitAll(t, []*bus.PublishFuture{first, second})
	assert.NoError(t, errs[0])
	assert.NoError(t, errs[1])
	assert.ElementsMatch(t, []string{first.ID().String(), second.ID().String()}, storedMsgIDs(t, e))
}

func TestPublishAsyncFailures(t *testing.T) {
	e := newEnv(t)
	subject := e.Cat.Subject("orders.created")
	e.Srv.Shutdown()
	eventually(t, func() bool { return !e.Conn.NATS().IsConnected() }, "client sees the server gone")

	t.Run("attempts", func(t *testing.T) {
		pub := e.Publisher(t, "orders", bus.WithRetry(3, 10*time.Millisecond), bus.WithPublishTimeout(100*time.Millisecond))
		f, err := pub.PublishAsync(ctx(t), subject, newOrder())
		require.NoError(t, err)
		require.NoError(t, pub.Flush(ctx(t)))
		_, err = f.Wait(ctx(t))
		var pe *bus.PublishError
		require.ErrorAs(t, err, &pe)
		assert.ErrorIs(t, err, bus.ErrPublishFailed)
		assert.Equal(t, 3, pe.Attempts)
		assert.Equal(t, f.ID(), pe.EventID)
		assert.Equal(t, subject, pe.Subject)
	})

	t.Run("context ends the retries", func(t *testing.T) {
		pub := e.Publisher(t, "orders", bus.WithRetry(100, 20*time.Millisecond), bus.WithPublishTimeout(50*time.Millisecond))
		c, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		f, err := pub.PublishAsync(c, subject, newOrder())
		require.NoError(t, err)
		_, err = f.Wait(ctx(t))
		assert.ErrorIs(t, err, bus.ErrPublishFailed)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var pe *bus.PublishError
		require.ErrorAs(t, err, &pe)
		assert.Less(t, pe.Attempts, 100)
	})

	t.Run("context ended while waiting to retry", func(t *testing.T) {
		pub := e.Publisher(t, "orders", bus.WithRetry(5, time.Second), bus.WithPublishTimeout(50*time.Millisecond))
		c, cancel := context.WithCancel(context.Background())
		f, err := pub.PublishAsync(c, subject, newOrder())
		require.NoError(t, err)
		time.AfterFunc(150*time.Millisecond, cancel)
		_, err = f.Wait(ctx(t))
		assert.ErrorIs(t, err, context.Canceled)
		var pe *bus.PublishError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 1, pe.Attempts)
	})

	t.Run("permanent", func(t *testing.T) {
		e.Srv.Start()
		eventually(t, func() bool { return e.Conn.NATS().IsConnected() }, "reconnected")
		pub := e.Publisher(t, "orders", bus.WithRetry(5, 10*time.Millisecond))
		stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
		require.NoError(t, err)
		cfg := stream.CachedInfo().Config
		cfg.MaxMsgSize = 16 // no event fits
		_, err = e.Conn.JetStream().UpdateStream(ctx(t), cfg)
		require.NoError(t, err)
		f, err := pub.PublishAsync(ctx(t), subject, newOrder())
		require.NoError(t, err)
		_, err = f.Wait(ctx(t))
		var pe *bus.PublishError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 1, pe.Attempts, "not retried")
	})

	t.Run("closed connection", func(t *testing.T) {
		conn, err := bus.Connect(e.Srv.URL())
		require.NoError(t, err)
		pub, err := bus.NewPublisher(conn, e.Cat.Catalog, "orders", bus.WithRetry(2, time.Millisecond))
		require.NoError(t, err)
		require.NoError(t, conn.Close())
		f, err := pub.PublishAsync(ctx(t), subject, newOrder())
		require.NoError(t, err)
		_, err = f.Wait(ctx(t))
		assert.ErrorIs(t, err, bus.ErrPublishFailed)
	})
}

func TestPublishAsyncPermissionDenied(t *testing.T) {
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
	f, err := pub.PublishAsync(ctx(t), denied, orderCancelled{OrderID: uuid.New()})
	require.NoError(t, err)
	_, err = f.Wait(ctx(t))
	assert.ErrorIs(t, err, bus.ErrPermissionDenied)
	assert.ErrorIs(t, err, bus.ErrPublishFailed)
	var pe *bus.PublishError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Attempts, "not retried")
	assert.Less(t, time.Since(start), 2*time.Second, "no waiting for the ack deadline")

	ok, err := pub.PublishAsync(ctx(t), cat.Subject("orders.created"), newOrder())
	require.NoError(t, err)
	_, err = ok.Wait(ctx(t))
	assert.NoError(t, err, "other subjects are allowed")
	require.NoError(t, pub.Flush(ctx(t)))

	// Several in flight, on both subjects: each refused one fails alone.
	var refused, allowed []*bus.PublishFuture
	for range 5 {
		f, err := pub.PublishAsync(ctx(t), denied, orderCancelled{OrderID: uuid.New()})
		require.NoError(t, err)
		refused = append(refused, f)
		f, err = pub.PublishAsync(ctx(t), cat.Subject("orders.created"), newOrder())
		require.NoError(t, err)
		allowed = append(allowed, f)
	}
	require.NoError(t, pub.Flush(ctx(t)))
	for i := range refused {
		_, err := refused[i].Wait(ctx(t))
		assert.ErrorIs(t, err, bus.ErrPermissionDenied)
		_, err = allowed[i].Wait(ctx(t))
		assert.NoError(t, err)
	}
}

func TestPublishAsyncConcurrent(t *testing.T) {
	e := newEnv(t)
	pub := e.Publisher(t, "orders", bus.WithMaxPending(32))
	subject := e.Cat.Subject("orders.created")
	const goroutines, each = 4, 100
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for range goroutines {
		wg.Go(func() {
			var fs []*bus.PublishFuture
			for range each {
				f, err := pub.PublishAsync(ctx(t), subject, newOrder())
				if err != nil {
					errs <- err
					return
				}
				fs = append(fs, f)
			}
			for _, f := range fs {
				if _, err := f.Wait(ctx(t)); err != nil {
					errs <- err
				}
			}
		})
	}
	flushed := make(chan error, 1)
	go func() { flushed <- pub.Flush(ctx(t)) }()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, <-flushed)
	require.NoError(t, pub.Flush(ctx(t)))
	assert.Len(t, storedMsgIDs(t, e), goroutines*each)
}

func TestWithMaxPendingInvalid(t *testing.T) {
	e := newEnv(t)
	_, err := bus.NewPublisher(e.Conn, e.Cat.Catalog, "orders", bus.WithMaxPending(0))
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	assert.True(t, errors.Is(err, bus.ErrInvalidOption))
}
