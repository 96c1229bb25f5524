package bus

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/giia/events/sdk/bus/bustest"
)

func TestParseAck(t *testing.T) {
	var a acks
	for _, tc := range []struct {
		data string
		want jetstream.PubAck
	}{
		{`{"stream":"GIIA","seq":42}`, jetstream.PubAck{Stream: "GIIA", Sequence: 42}},
		{`{"stream":"GIIA","seq":7,"duplicate":true}`, jetstream.PubAck{Stream: "GIIA", Sequence: 7, Duplicate: true}},
		{`{"stream":"GIIA","seq":7,"duplicate":false,"domain":"hub"}`, jetstream.PubAck{Stream: "GIIA", Sequence: 7, Domain: "hub"}},
		// Left to encoding/json: spaces, escapes, keys the fast path does
		// not know.
		{`{ "stream": "GIIA", "seq": 3 }`, jetstream.PubAck{Stream: "GIIA", Sequence: 3}},
		{`{"stream":"G\u0049IA","seq":3}`, jetstream.PubAck{Stream: "GIIA", Sequence: 3}},
		{`{"stream":"GIIA","seq":3,"batch":"x"}`, jetstream.PubAck{Stream: "GIIA", Sequence: 3}},
		{`{"seq":18446744073709551615,"stream":"S"}`, jetstream.PubAck{Stream: "S", Sequence: 18446744073709551615}},
	} {
		got, err := a.parse([]byte(tc.data))
		if assert.NoError(t, err, tc.data) {
			assert.Equal(t, tc.want, got, tc.data)
		}
	}
	// The stream name of the last ack is reused.
	first, _ := a.parse([]byte(`{"stream":"ORDERS","seq":1}`))
	second, _ := a.parse([]byte(`{"stream":"ORDERS","seq":2}`))
	assert.Equal(t, "ORDERS", second.Stream)
	assert.Same(t, unsafe.StringData(first.Stream), unsafe.StringData(second.Stream), "one string for both")

	for _, data := range []string{``, `null`, `{}`, `{"seq":1}`, `{"stream":"","seq":1}`, `{"stream":"S","seq":1`, `[1]`, `{"stream":"S","seq":-1}`} {
		_, err := a.parse([]byte(data))
		assert.ErrorIs(t, err, jetstream.ErrInvalidJSAck, "%q", data)
	}
	_, err := a.parse([]byte(`{"error":{"code":503,"err_code":10039,"description":"jetstream not enabled"}}`))
	var apiErr *jetstream.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.Code)
	assert.Equal(t, jetstream.ErrorCode(10039), apiErr.ErrorCode)
	assert.True(t, transient(err), "a 503 is retried")
}

// requestEnv is a connection and a second one answering requests on
// subjects as the test says.
type requestEnv struct {
	conn *Conn
	peer *nats.Conn
}

func newRequestEnv(t *testing.T) *requestEnv {
	srv := bustest.RunServer(t)
	c, err := Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	peer, err := nats.Connect(srv.URL())
	require.NoError(t, err)
	t.Cleanup(peer.Close)
	return &requestEnv{conn: c, peer: peer}
}

func (e *requestEnv) waiting() int {
	e.conn.acks.mu.Lock()
	defer e.conn.acks.mu.Unlock()
	return len(e.conn.acks.waiting)
}

func TestPublishSyncReplies(t *testing.T) {
	e := newRequestEnv(t)
	ctx := context.Background()
	var seq atomic.Uint64
	_, err := e.peer.Subscribe("fast.x", func(m *nats.Msg) {
		_ = m.Respond([]byte(`{"stream":"S","seq":` + strconv.FormatUint(seq.Add(1), 10) + `}`))
	})
	require.NoError(t, err)
	_, err = e.peer.Subscribe("slow.x", func(m *nats.Msg) {
		time.Sleep(150 * time.Millisecond)
		_ = m.Respond([]byte(`{"stream":"SLOW","seq":1000}`))
	})
	require.NoError(t, err)
	require.NoError(t, e.peer.Flush())

	ack, err := e.conn.publishSync(ctx, &nats.Msg{Subject: "fast.x", Header: nats.Header{}}, time.Second)
	require.NoError(t, err)
	assert.Equal(t, jetstream.PubAck{Stream: "S", Sequence: 1}, ack)

	// No ack in time: DeadlineExceeded; the late reply that follows goes
	// to no other request.
	start := time.Now()
	_, err = e.conn.publishSync(ctx, &nats.Msg{Subject: "slow.x"}, 30*time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 140*time.Millisecond)
	assert.Zero(t, e.waiting())
	for i := uint64(2); i < 40; i++ {
		ack, err := e.conn.publishSync(ctx, &nats.Msg{Subject: "fast.x"}, time.Second)
		require.NoError(t, err)
		require.Equal(t, jetstream.PubAck{Stream: "S", Sequence: i}, ack)
		time.Sleep(5 * time.Millisecond) // the late reply arrives meanwhile
	}

	// The caller's context ends the wait.
	c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = e.conn.publishSync(c, &nats.Msg{Subject: "slow.x"}, time.Second)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	cancelled, cancel2 := context.WithCancel(ctx)
	cancel2()
	_, err = e.conn.publishSync(cancelled, &nats.Msg{Subject: "fast.x"}, time.Second)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, e.waiting())

	// A closed connection ends it too.
	go func() {
		time.Sleep(20 * time.Millisecond)
		e.conn.NATS().Close()
	}()
	_, err = e.conn.publishSync(ctx, &nats.Msg{Subject: "slow.x"}, 5*time.Second)
	assert.True(t, errors.Is(err, nats.ErrConnectionClosed), "%v", err)
	assert.True(t, transient(err))
}

func TestPublishSyncNoResponders(t *testing.T) {
	e := newRequestEnv(t)
	// As js.PublishMsg: two more tries, 250ms apart, then
	// ErrNoStreamResponse.
	start := time.Now()
	_, err := e.conn.publishSync(context.Background(), &nats.Msg{Subject: "nobody.here"}, 5*time.Second)
	assert.ErrorIs(t, err, jetstream.ErrNoStreamResponse)
	assert.GreaterOrEqual(t, time.Since(start), 2*noResponderWaitTime)
	assert.True(t, transient(err))

	// A stream appearing meanwhile gets the event.
	_, err = e.peer.Subscribe("late.x", func(m *nats.Msg) { _ = m.Respond([]byte(`{"stream":"S","seq":1}`)) })
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := e.conn.publishSync(context.Background(), &nats.Msg{Subject: "late.y"}, 5*time.Second)
		done <- err
	}()
	_, err = e.peer.Subscribe("late.y", func(m *nats.Msg) { _ = m.Respond([]byte(`{"stream":"S","seq":2}`)) })
	require.NoError(t, err)
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("no ack")
	}
}
