package bus_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus"
)

// flakyHandler fails permanently while broken is set, and records what
// it handles otherwise.
type flakyHandler struct {
	broken atomic.Bool
	recorder[orderCancelled]
}

func (h *flakyHandler) handle(ctx context.Context, ev bus.Event[orderCancelled]) error {
	if h.broken.Load() {
		return bus.Permanent(errors.New("handler bug"))
	}
	return h.Handler(ctx, ev)
}

func TestDeadLettersListAndReplay(t *testing.T) {
	e := newEnv(t)
	cancelled := e.Cat.Subject("orders.cancelled")
	h := &flakyHandler{}
	h.broken.Store(true)
	sub := e.Consume(t, "stock", []bus.Route{bus.NewRoute(cancelled, h.handle)})

	// Garbage from a plain client, then a valid event the broken handler
	// refuses.
	ack, err := e.Conn.JetStream().Publish(ctx(t), cancelled, []byte("not json"))
	require.NoError(t, err)
	dls := waitDeadLetters(t, e.Conn, e.Cat.Catalog, 1)
	garbage := dls[0]
	assert.Equal(t, cancelled, garbage.OriginalSubject)
	assert.Equal(t, e.Cat.Stream.DeadLetterPrefix+".stock."+cancelled, garbage.Subject)
	assert.Equal(t, "stock", garbage.Service)
	assert.Contains(t, sub.Consumers(), garbage.Consumer) // one per subject on NATS 2.9
	assert.Contains(t, garbage.Reason, "invalid message")
	assert.Equal(t, uint64(1), garbage.DeliveryCount)
	assert.Equal(t, ack.Sequence, garbage.StreamSequence)
	assert.Empty(t, garbage.EventID)
	assert.Equal(t, []byte("not json"), garbage.Data)
	assert.WithinDuration(t, time.Now(), garbage.Time, time.Minute)

	pub := e.Publisher(t, "orders")
	order := orderCancelled{OrderID: uuid.New()}
	pa, err := pub.Publish(ctx(t), cancelled, order)
	require.NoError(t, err)
	dls = waitDeadLetters(t, e.Conn, e.Cat.Catalog, 2)
	refused := dls[1]
	assert.Equal(t, pa.ID.String(), refused.EventID)
	assert.Contains(t, refused.Reason, "handler bug")

	// The handler is fixed: the replay reaches it, with the event's id.
	h.broken.Store(false)
	require.NoError(t, bus.ReplayDeadLetter(ctx(t), e.Conn, e.Cat.Catalog, refused.Sequence))
	eventually(t, func() bool { return len(h.Got()) == 1 }, "the replay is handled")
	assert.Equal(t, pa.ID, h.Got()[0].ID)
	assert.Equal(t, order, h.Got()[0].Payload)
	left, err := bus.ListDeadLetters(ctx(t), e.Conn, e.Cat.Catalog)
	require.NoError(t, err)
	assert.Equal(t, []bus.DeadLetter{garbage}, left, "the replayed dead letter is gone")

	// The replay was stored with an id of its own, naming its dead letter.
	stream, err := e.Conn.JetStream().Stream(ctx(t), e.Cat.Stream.Name)
	require.NoError(t, err)
	last, err := stream.GetLastMsgForSubject(ctx(t), cancelled)
	require.NoError(t, err)
	assert.Equal(t, "replay-"+pa.ID.String()+"-2", last.Header.Get(jetstream.MsgIDHeader))
	assert.Equal(t, e.Cat.Stream.DeadLetterStream+":2", last.Header.Get(bus.HeaderReplayOf))

	// Garbage replayed is garbage again: dead-lettered anew.
	require.NoError(t, bus.ReplayDeadLetter(ctx(t), e.Conn, e.Cat.Catalog, garbage.Sequence))
	dls = waitDeadLetters(t, e.Conn, e.Cat.Catalog, 1)
	require.Len(t, dls, 1)
	assert.Greater(t, dls[0].Sequence, refused.Sequence)
	assert.Equal(t, []byte("not json"), dls[0].Data)

	err = bus.ReplayDeadLetter(ctx(t), e.Conn, e.Cat.Catalog, garbage.Sequence)
	assert.ErrorIs(t, err, bus.ErrDeadLetterNotFound, "already replayed")
}

func TestDeadLettersReplayAllAndFilters(t *testing.T) {
	e := newEnv(t)
	cancelled, created := e.Cat.Subject("orders.cancelled"), e.Cat.Subject("orders.created")
	h := &flakyHandler{}
	h.broken.Store(true)
	var createdSeen recorder[orderCreated]
	e.Consume(t, "stock", []bus.Route{
		bus.NewRoute(cancelled, h.handle),
		bus.NewRoute(created, func(ctx context.Context, ev bus.Event[orderCreated]) error {
			if h.broken.Load() {
				return bus.Permanent(errors.New("handler bug"))
			}
			return createdSeen.Handler(ctx, ev)
		}),
	})
	pub := e.Publisher(t, "orders")
	for range 3 {
		_, err := pub.Publish(ctx(t), cancelled, orderCancelled{OrderID: uuid.New()})
		require.NoError(t, err)
	}
	_, err := pub.Publish(ctx(t), created, newOrder())
	require.NoError(t, err)
	waitDeadLetters(t, e.Conn, e.Cat.Catalog, 4)

	// A dead letter stored by other means, naming no event of the catalog.
	foreign := &nats.Msg{Subject: e.Cat.Stream.DeadLetterPrefix + ".stock." + e.Cat.Prefix + ".orders.unknown", Data: []byte("{}"), Header: nats.Header{}}
	foreign.Header.Set(bus.HeaderDeadLetterReason, "hand-made")
	_, err = e.Conn.JetStream().PublishMsg(ctx(t), foreign)
	require.NoError(t, err)

	list := func(filters ...bus.DeadLetterFilter) []bus.DeadLetter {
		t.Helper()
		dls, err := bus.ListDeadLetters(ctx(t), e.Conn, e.Cat.Catalog, filters...)
		require.NoError(t, err)
		return dls
	}
	assert.Len(t, list(), 5)
	assert.Len(t, list(bus.FilterService("stock")), 5)
	assert.Empty(t, list(bus.FilterService("analytics")))
	assert.Len(t, list(bus.FilterSubject(cancelled)), 3)
	assert.Len(t, list(bus.FilterSubject(created), bus.FilterService("stock")), 1)
	limited := list(bus.FilterLimit(2))
	require.Len(t, limited, 2)
	assert.Equal(t, []uint64{1, 2}, []uint64{limited[0].Sequence, limited[1].Sequence})
	unknown := list(bus.FilterSubject(e.Cat.Prefix + ".orders.unknown"))
	require.Len(t, unknown, 1)
	assert.Equal(t, "hand-made", unknown[0].Reason)
	assert.Equal(t, e.Cat.Prefix+".orders.unknown", unknown[0].OriginalSubject, "read from the subject when the header is missing")

	for _, bad := range []bus.DeadLetterFilter{
		bus.FilterService(""), bus.FilterService("a.b"), bus.FilterService("*"),
		bus.FilterSubject(""), bus.FilterSubject("a.>"), bus.FilterSubject("a..b"), bus.FilterLimit(0),
	} {
		_, err := bus.ListDeadLetters(ctx(t), e.Conn, e.Cat.Catalog, bad)
		assert.ErrorIs(t, err, bus.ErrInvalidOption)
		_, err = bus.ReplayAll(ctx(t), e.Conn, e.Cat.Catalog, bad)
		assert.ErrorIs(t, err, bus.ErrInvalidOption)
	}

	// Fixed: replay the cancelled ones, then everything else.
	h.broken.Store(false)
	n, err := bus.ReplayAll(ctx(t), e.Conn, e.Cat.Catalog, bus.FilterSubject(cancelled))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	eventually(t, func() bool { return len(h.Got()) == 3 }, "the cancelled events are handled")

	n, err = bus.ReplayAll(ctx(t), e.Conn, e.Cat.Catalog)
	assert.Equal(t, 1, n)
	assert.ErrorIs(t, err, bus.ErrInvalidDeadLetter)
	assert.ErrorIs(t, err, bus.ErrUnknownSubject)
	eventually(t, func() bool { return len(createdSeen.Got()) == 1 }, "the created event is handled")
	assert.Equal(t, []bus.DeadLetter{unknown[0]}, list(), "only the unreplayable dead letter is left")

	n, err = bus.ReplayAll(ctx(t), e.Conn, e.Cat.Catalog, bus.FilterService("analytics"))
	assert.NoError(t, err)
	assert.Zero(t, n)
}

func TestDeadLettersErrors(t *testing.T) {
	e := newEnv(t)
	_, err := bus.ListDeadLetters(ctx(t), nil, e.Cat.Catalog)
	assert.ErrorIs(t, err, bus.ErrInvalidOption)
	assert.ErrorIs(t, bus.ReplayDeadLetter(ctx(t), e.Conn, nil, 1), bus.ErrInvalidOption)
	_, err = bus.ReplayAll(ctx(t), nil, nil)
	assert.ErrorIs(t, err, bus.ErrInvalidOption)

	assert.ErrorIs(t, bus.ReplayDeadLetter(ctx(t), e.Conn, e.Cat.Catalog, 42), bus.ErrDeadLetterNotFound)

	// A dead letter without its original subject cannot be replayed.
	_, err = e.Conn.JetStream().Publish(ctx(t), e.Cat.Stream.DeadLetterPrefix+".stock", []byte("{}"))
	require.NoError(t, err)
	err = bus.ReplayDeadLetter(ctx(t), e.Conn, e.Cat.Catalog, 1)
	assert.ErrorIs(t, err, bus.ErrInvalidDeadLetter)

	// Without a dead-letter stream.
	other := newCatalog(t)
	_, err = bus.ListDeadLetters(ctx(t), e.Conn, other.Catalog)
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound)
	assert.ErrorIs(t, bus.ReplayDeadLetter(ctx(t), e.Conn, other.Catalog, 1), jetstream.ErrStreamNotFound)
	_, err = bus.ReplayAll(ctx(t), e.Conn, other.Catalog)
	assert.ErrorIs(t, err, jetstream.ErrStreamNotFound)

	// A context that ends stops ReplayAll.
	c, cancel := context.WithCancel(ctx(t))
	cancel()
	_, err = bus.ReplayAll(c, e.Conn, e.Cat.Catalog)
	assert.ErrorIs(t, err, context.Canceled)
}
